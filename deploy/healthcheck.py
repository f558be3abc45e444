"""Container healthcheck: GET a URL with an allowed Host header; exit 0 on 2xx, 1 otherwise.

`python deploy/healthcheck.py [URL]` (default `http://127.0.0.1:8000/healthz`). The Host header is
the first entry of `ALLOWED_HOSTS` (a leading `.` wildcard is dropped), so Django accepts the request
in production; `X-Forwarded-Proto: https` keeps `SECURE_SSL_REDIRECT` from answering 301.
Standard library only (the image has no curl).
"""

import os
import sys
import urllib.request


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else "http://127.0.0.1:8000/healthz"
    hosts = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h.lstrip(".") for h in hosts if h != "*"), "localhost")
    request = urllib.request.Request(url, headers={"Host": host, "X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            return 0 if 200 <= response.status < 300 else 1
    except Exception as exc:
        sys.stderr.write(f"healthcheck {url}: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
