"""Rendering what an expert typed, within a time limit.

Some Markdown takes Python-Markdown seconds or minutes (`[a](b ` repeated a few thousand
times is quadratic), and the preview renders on every pause in typing. So text from the
editor is parsed and rendered in a child process that is killed when it runs too long.
The children come from a fork server started once per process: forking the server
process itself, with its threads, is not safe.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from pathlib import Path

from .. import articles as articles_mod
from ..articles import Article
from ..articles import ArticleError
from ..articles import Problem

#: Longest a preview or a save may spend rendering when the caller names no limit. The web
#: app passes its own EDITOR_RENDER_SECONDS with each call: a limit belongs to one app, so
#: two apps in one process (tests, a worker serving two sites) never share one.
DEFAULT_SECONDS = 5.0

_context: ForkServerContext | None = None
_context_lock = threading.Lock()


class RenderTimeout(RuntimeError):
    """The text took longer than the limit to render."""


def _pool() -> ForkServerContext:
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_preload())
            _context = context
        return _context


def _preload() -> list[str]:
    """What the fork server imports once for all its children. Each child runs the main
    script again (multiprocessing does so for `spawn` and `forkserver`); with the app and
    the server's own modules already loaded that costs nothing, where importing them per
    child would cost most of a second."""
    modules = ["portal.cli", "portal.authoring.render"]
    modules += [name for name in ("gunicorn.app.wsgiapp",) if name.split(".")[0] in sys.modules]
    return modules + ["portal.authoring.render_warmup"]


#: What a child renders: parse_article's arguments (root, path, data, default_lang).
_Args = tuple[Path, Path, bytes, str]


def _child(connection: Connection, args: _Args) -> None:
    result: tuple[str, Article | list[Problem]]
    try:
        result = ("ok", articles_mod.parse_article(*args))
    except ArticleError as error:
        result = ("problems", error.problems)
    except RecursionError:
        result = ("problems", [Problem("", 1, "the text is nested too deeply to render")])
    connection.send(result)
    connection.close()


def _run(args: _Args, timeout: float) -> Article:
    context = _pool()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(sender, args), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise RenderTimeout(f"rendering took longer than {timeout:g} s")
        kind, value = receiver.recv()
    except EOFError:
        raise RenderTimeout("the renderer stopped without an answer") from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    if kind == "problems":
        raise ArticleError(value)
    article: Article = value  # what the child sent with "ok"
    return article


def parse_bounded(root: Path, path: Path, data: bytes, default_lang: str = "ru",
                  timeout: float | None = None) -> Article:
    """`articles.parse_article`, in a child process stopped after `timeout` seconds
    (None: DEFAULT_SECONDS)."""
    return _run((root, path, data, default_lang), timeout or DEFAULT_SECONDS)
