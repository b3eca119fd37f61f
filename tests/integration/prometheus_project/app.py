"""A service under test that exports metrics: /health, and /metrics with its request count."""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

requests = count(1)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        served = next(requests)
        if self.path == "/metrics":
            body = f"# TYPE app_requests_total counter\napp_requests_total {served}\n".encode()
        else:
            body = b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


ThreadingHTTPServer((sys.argv[2], int(sys.argv[1])), Handler).serve_forever()
