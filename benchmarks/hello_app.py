"""The ceiling for `throughput.py`: a Flask "hello" app under the same gunicorn settings as
`portal serve` (the portal's own `web.server`), so that the ratio measures the portal's
pages and not the framework or the server.

    python benchmarks/hello_app.py --bind 127.0.0.1:8001 --workers 2
"""

from __future__ import annotations

import argparse

from flask import Flask

from portal.web.server import ServerOptions
from portal.web.server import serve


def create_hello() -> Flask:
    """A Flask app whose every page is one short text."""
    app = Flask(__name__)

    @app.get("/")
    @app.get("/<path:_anything>")
    def hello(_anything: str = ""):
        return "Hello"

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default="127.0.0.1:8001")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pid", dest="pid_file")
    args = parser.parse_args()
    serve(create_hello, ServerOptions(bind=(args.bind,), workers=args.workers,
                                      access_log="off", pid_file=args.pid_file))


if __name__ == "__main__":
    main()
