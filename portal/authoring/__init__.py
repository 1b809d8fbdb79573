"""Writing the knowledge base: saving articles with their revisions, the files of search
terms, the gaps worked by experts and their inbox. The modules know no request; this file
only plugs crash recovery into the app."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import ArticleRevision
from ..web.knowledge import current_index
from . import store
from .lock import FolderBusy

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Finish or forget, once per process, the saves a crash cut short, before the first
    page is served (a new process may follow a killed one)."""
    state = {"checked": False}
    lock = threading.Lock()

    @app.before_request
    def _recover_once() -> None:
        if state["checked"]:
            return
        with lock:
            if not state["checked"]:
                recover_if_needed()
                state["checked"] = True


def recover_if_needed() -> None:
    """`store.recover` when there are pending revisions; never fails a page."""
    try:
        pending = db.session.scalar(select(ArticleRevision.id)
                                    .where(ArticleRevision.state == "pending").limit(1))
    except SQLAlchemyError as error:  # e.g. a database not migrated yet
        db.session.rollback()
        log.warning("could not check for interrupted saves: %s", str(error).splitlines()[0])
        return
    if pending is None:
        return
    try:
        store.recover(current_index())
    except (SQLAlchemyError, OSError, FolderBusy):
        db.session.rollback()
        log.exception("could not finish interrupted saves")
