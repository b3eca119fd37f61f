"""A small service under test, run as a host process: counts visits in Redis."""

import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis

store = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=10)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"ok" if self.path == "/health" else str(store.incr("visits")).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT"])), Handler).serve_forever()
