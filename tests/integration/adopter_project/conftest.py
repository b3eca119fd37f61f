"""The project's own hook: each xdist worker gets a PostgreSQL database of its own."""

import pg8000.native


def pytest_harness_isolate_backend(name, address, namespace, worker_id):
    if name != "postgres":
        return None
    database = namespace.replace("-", "_")
    admin = pg8000.native.Connection("postgres", host=address.host, port=address.port)
    if not admin.run("SELECT 1 FROM pg_database WHERE datname = :d", d=database):
        admin.run(f'CREATE DATABASE "{database}"')
    admin.close()
    return database
