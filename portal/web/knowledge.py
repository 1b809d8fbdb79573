"""The knowledge base as the web app sees it: one `SearchIndex` per app, built when missing."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from flask import current_app

from ..search import SearchIndex

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Attach the index of `ARTICLES_DIR` to the app; build it now if there is none yet.
    A folder that does not exist yet is made: a new site starts with no articles."""
    Path(app.config["ARTICLES_DIR"]).mkdir(parents=True, exist_ok=True)
    index = SearchIndex(
        Path(app.config["INDEX_DIR"]), Path(app.config["ARTICLES_DIR"]),
        default_lang=app.config["DEFAULT_LANGUAGE"],
        refresh_interval=float(app.config["INDEX_REFRESH_SECONDS"]),
    )
    app.extensions["search_index"] = index
    if app.config["BUILD_INDEX_ON_START"] and not index.exists():
        report = index.build()
        log.warning("search index built at start-up: %s", report.summary())
    elif index.exists() and not index.is_current():
        log.warning("the search index was built by another version: run 'portal index build'")


def current_index() -> SearchIndex:
    """The search index of the running app."""
    return current_app.extensions["search_index"]
