"""Container healthcheck for the mocks: `python -m mocks._health PORT` exits 0 when healthy."""

import sys
import urllib.request


def main(port: str) -> int:
    """Probe the mock's control-API health route on loopback."""
    url = f"http://127.0.0.1:{port}/__harness/health"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
