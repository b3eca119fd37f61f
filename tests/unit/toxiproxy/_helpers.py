"""Helpers: the toxiproxy mock as a subprocess, local echo backends, socket helpers."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx

from harness._waiting import wait_for

ROOT = Path(__file__).resolve().parents[3]


class ToxiproxyProcess:
    """`python -m harness.mocks.toxiproxy --port 0` with its API port read from its log."""

    def __init__(self, *args: str) -> None:
        self.log: IO[bytes] = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop()
            prefix="toxiproxy-", suffix=".log", delete=False
        )
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
        cmd = [sys.executable, "-m", "harness.mocks.toxiproxy", "--host", "127.0.0.1"]
        cmd += ["--port", "0"]
        self.proc = subprocess.Popen(
            [*cmd, *args], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        try:
            self.port = wait_for(self._listening, 30.0, "toxiproxy to listen", interval=0.01)
            self.url = f"http://127.0.0.1:{self.port}"
            wait_for(self._ready, 30.0, "toxiproxy /version", interval=0.01)
        except BaseException:
            self.stop()
            raise

    def _listening(self) -> int | None:
        if self.proc.poll() is not None:
            raise AssertionError(f"toxiproxy exited: {self.output()}")
        for line in Path(self.log.name).read_text(errors="replace").splitlines():
            if '"listening"' in line:
                return int(json.loads(line)["port"])
        return None

    def _ready(self) -> bool:
        try:
            return httpx.get(self.url + "/version", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def output(self) -> str:
        """The process log so far."""
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """Terminate (then kill) the process and remove its log."""
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


class _EchoHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        prefix: bytes = self.server.prefix  # type: ignore[attr-defined]
        self.server.connections += 1  # type: ignore[attr-defined]
        with contextlib.suppress(OSError):
            sock.sendall(self.server.greeting)  # type: ignore[attr-defined]
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                sock.sendall(prefix + data)


class EchoServer(socketserver.ThreadingTCPServer):
    """Echoes every received chunk (optionally prefixed) on 127.0.0.1; closes on EOF."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, prefix: bytes = b"", greeting: bytes = b"") -> None:
        super().__init__(("127.0.0.1", 0), _EchoHandler)
        self.prefix = prefix
        self.greeting = greeting  # sent as soon as a client connects (server-first protocols)
        self.connections = 0
        self.thread = threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        """`host:port` for a proxy's upstream."""
        host, port = self.server_address[:2]
        return f"{host!s}:{port}"

    def stop(self) -> None:
        """Stop serving and close the listener."""
        self.shutdown()
        self.server_close()


def connect(listen: str, timeout: float = 5.0) -> socket.socket:
    """A TCP client connected to a proxy's `listen` address."""
    host, port = listen.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    """Read exactly `size` bytes (fails on EOF first)."""
    parts = bytearray()
    while len(parts) < size:
        data = sock.recv(size - len(parts))
        if not data:
            raise AssertionError(f"EOF after {len(parts)} of {size} bytes")
        parts += data
    return bytes(parts)


def read_until_eof(sock: socket.socket) -> bytes:
    """Everything until the peer closes."""
    parts = bytearray()
    while True:
        data = sock.recv(65536)
        if not data:
            return bytes(parts)
        parts += data


def round_trip(sock: socket.socket, payload: bytes = b"ping") -> float:
    """Send `payload`, read its echo, return the elapsed seconds."""
    started = time.perf_counter()
    sock.sendall(payload)
    assert recv_exactly(sock, len(payload)) == payload
    return time.perf_counter() - started


def create_proxy(api: httpx.Client, name: str, upstream: str, **extra: Any) -> dict[str, Any]:
    """POST /proxies on 127.0.0.1:0; return the created proxy."""
    body = {"name": name, "listen": "127.0.0.1:0", "upstream": upstream, **extra}
    response = api.post("/proxies", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def add_toxic(api: httpx.Client, proxy: str, **toxic: Any) -> dict[str, Any]:
    """POST a toxic; return it."""
    response = api.post(f"/proxies/{proxy}/toxics", json=toxic)
    assert response.status_code == 200, response.text
    return dict(response.json())
