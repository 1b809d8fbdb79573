"""Server processes of their own, for tests about several processes on one site: the portal
served by a separate Python process on a free port, the production server (`portal serve`)
as a user starts it, and a small cookie-keeping HTTP client.

    with PortalProcess(app.config) as server:
        visitor = Browser(server.url)
        status, page = visitor.get("/search?q=...")

    with ServedPortal(app.config, workers=2) as served:   # gunicorn, settings as PORTAL_*
        status, page = Browser(served.url).get("/")

Run as `python -m tests.processes` (settings as JSON in L0_SETTINGS) it is that process.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Settings a second process needs to serve the same site as a test's app.
SHARED_SETTINGS = ("ARTICLES_DIR", "INDEX_DIR", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY",
                   "INDEX_REFRESH_SECONDS", "RATELIMIT_ENABLED")


def settings_of(config, **overrides) -> dict:
    """The settings of an app's config that another process needs to serve the same site."""
    found = {key: config[key] for key in SHARED_SETTINGS if key in config}
    found.update(TESTING=True, WTF_CSRF_ENABLED=True, **overrides)
    return found


class PortalProcess:
    """`create_app(settings)` served by Werkzeug in a child process on a free port."""

    def __init__(self, settings: dict):
        self.settings = settings
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> PortalProcess:
        env = {**os.environ, "L0_SETTINGS": json.dumps(self.settings),
               "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.processes"], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError(f"the portal process did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()

    def __enter__(self) -> PortalProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


#: App settings and the environment variables `portal serve` reads them from.
SERVE_ENVIRONMENT = {"ARTICLES_DIR": "PORTAL_ARTICLES_DIR", "INDEX_DIR": "PORTAL_INDEX_DIR",
                     "SECRET_KEY": "PORTAL_SECRET_KEY",
                     "SQLALCHEMY_DATABASE_URI": "DATABASE_URL"}


class ServedPortal:
    """`portal serve` in a child process, configured through the environment as in
    production; its output is collected in `log` (the server's log and the access log)."""

    def __init__(self, config, *args: str, **settings) -> None:
        self.env = {key: value for key, value in os.environ.items()
                    if not key.startswith("PORTAL_") and key != "DATABASE_URL"}
        for setting, variable in SERVE_ENVIRONMENT.items():
            self.env[variable] = str(config[setting])
        self.env.update({f"PORTAL_{key}": str(value) for key, value in settings.items()})
        self.args = args
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self._collector: threading.Thread | None = None
        self.lines: list[str] = []

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def start(self, timeout: float = 60) -> ServedPortal:
        command = [sys.executable, "-c", "from portal.cli import main; main()", "serve",
                   "--bind", f"127.0.0.1:{self.port}", *self.args]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._collector = threading.Thread(target=self._collect, daemon=True)
        self._collector.start()
        deadline = time.monotonic() + timeout
        while not self.listening():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"portal serve did not start:\n{self.log[-3000:]}")
            time.sleep(0.1)
        return self

    def listening(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def signal(self, number: int) -> None:
        """Send a signal to the main (arbiter) process."""
        self.process.send_signal(number)

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 30) -> bool:
        """Whether `text` appeared `count` times in the output within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while self.log.count(text) < count:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def stop(self) -> int | None:
        """Stop gracefully (TERM); the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._collector.join(10)
        self.process.stdout.close()
        return self.process.returncode

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def __enter__(self) -> ServedPortal:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """An HTTP client with its own cookies, as one person's browser."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect())

    def request(self, path: str, data: dict | None = None, timeout: float = 30):
        """(status, body, headers) for a GET, or a POST of `data` as a form."""
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(self.base_url + path, data=body, timeout=timeout) as answer:
                return answer.status, answer.read().decode("utf-8"), answer.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace"), error.headers

    def get(self, path: str):
        status, body, _headers = self.request(path)
        return status, body

    def post(self, path: str, data: dict):
        return self.request(path, data)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _serve() -> None:
    from werkzeug.serving import make_server

    from portal import create_app

    app = create_app(json.loads(os.environ["L0_SETTINGS"]))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(f"port {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    _serve()
