"""Several nodes, one knowledge base: the articles folder as a clone of a shared git remote.

With `ARTICLES_REMOTE` set, `ARTICLES_DIR` is a clone of it (made at start-up when
missing); every save in the expert console becomes one commit by the expert, pushed, and
announced to the other nodes through PostgreSQL, whose followers pull it and re-index the
changed files at once. Without the setting nothing here runs and the folder is the
folder. See `shared` for the steps of a save and `follower` for the pulling side.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import Flask

from ..authoring import publishing
from .follower import Follower
from .shared import SetupError
from .shared import SharedFolder

__all__ = ["SetupError", "SharedFolder", "follower_of", "init_app", "shared_folder", "start",
           "stop"]

log = logging.getLogger(__name__)

_EXTENSION = "knowledge_sync"


def init_app(app: Flask) -> None:
    """Clone the remote when the folder is missing and share the folder's saves through it;
    the follower starts with the first request, or when `portal serve` loads a worker."""
    remote = str(app.config.get("ARTICLES_REMOTE") or "").strip()
    root = Path(app.config["ARTICLES_DIR"])
    if not remote:
        publishing.register(root, None)
        return
    folder = SharedFolder(root, remote, str(app.config["ARTICLES_BRANCH"]))
    folder.ensure_clone()
    publishing.register(root, folder)
    app.extensions[_EXTENSION] = {"folder": folder, "follower": None,
                                  "lock": threading.Lock()}

    @app.before_request
    def _follow() -> None:
        start(app)


def shared_folder(app: Flask) -> SharedFolder | None:
    """The app's shared folder, or None when its articles are a folder of their own."""
    state = app.extensions.get(_EXTENSION)
    return state["folder"] if state else None


def follower_of(app: Flask) -> Follower | None:
    state = app.extensions.get(_EXTENSION)
    return state["follower"] if state else None


def start(app: Flask) -> None:
    """Start this process's follower once (nothing when the folder is not shared)."""
    state = app.extensions.get(_EXTENSION)
    if not state or state["follower"] is not None:
        return
    with state["lock"]:
        if state["follower"] is None:
            follower = Follower(app, state["folder"], float(app.config["ARTICLES_POLL_SECONDS"]))
            follower.start()
            state["follower"] = follower


def stop(app: Flask) -> None:
    """Stop this process's follower (tests; a server process just exits)."""
    state = app.extensions.get(_EXTENSION)
    if state and state["follower"] is not None:
        state["follower"].stop()
        state["follower"].join(10)
        state["follower"] = None
