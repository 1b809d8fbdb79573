"""Browser tests: the real pages in Debian's Chromium, served from a thread."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from portal import create_app

from ..conftest import CHEAP_PASSWORD_HASH
from ..conftest import write_site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium); CI installs it")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--disable-background-networking", "--disable-component-update",
                     "--no-first-run", "--disable-sync"]}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The portal app over the test site (tests read its database to check what was stored)."""
    root = tmp_path_factory.mktemp("site")
    articles = write_site(root / "articles")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "e2e", "ARTICLES_DIR": str(articles),
        "INDEX_DIR": str(root / "index"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'portal.sqlite3'}",
        "SUPPORT_CONTACT": "8 800 000-00-00", "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,
    })
    with app.app_context():
        upgrade()
    return app


def whole_bodies(app):
    """`app` with each response body read whole and closed before the server writes it.
    Werkzeug's server leaves a file response (a script, a stylesheet) open when the browser
    drops the connection half way, as Chromium does with what a page it leaves still loads;
    the open file then fails the test that happens to run when it is collected."""
    def serve(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()
    return serve


@pytest.fixture(scope="session")
def live_server(live_app):
    """The portal on a free local port."""
    server = make_server("127.0.0.1", 0, whole_bodies(live_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def base_url(live_server):
    return live_server
