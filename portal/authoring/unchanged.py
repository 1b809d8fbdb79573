"""Whether the index and the revision history already hold the articles folder as it is,
so that a restart with nothing changed neither indexes nor records anything.

After `portal index build` has brought both up to date, it remembers the folder's
fingerprint (names, sizes and modification times of its files), the index generation, the
index format, the newest revision and the database. While all of them are the same the
next build has nothing to do: any save, import, `git pull` or edit changes the fingerprint,
any commit to the index its generation, a save in the editor the newest revision.
"""

from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import func
from sqlalchemy import select

from ..articles import folder_fingerprint
from ..articles import write_file_atomic
from ..extensions import db
from ..models import ArticleRevision
from ..search import SearchIndex
from ..search.schema import INDEX_FORMAT

log = logging.getLogger(__name__)

#: The record, kept in the index folder (derived data, like the index).
RECORD = ".folder-state.json"


def _state(index: SearchIndex, fingerprint: str) -> dict[str, object]:
    newest = db.session.scalar(select(func.max(ArticleRevision.id)))
    database = db.engine.url.render_as_string(hide_password=True)
    return {"fingerprint": fingerprint, "generation": index.generation(),
            "format": INDEX_FORMAT, "revision": newest or 0,
            "database": hashlib.sha1(database.encode()).hexdigest()}


def last_build(index: SearchIndex) -> list[str] | None:
    """The problems the last build reported when nothing changed since; None otherwise."""
    try:
        kept = json.loads((index.index_dir / RECORD).read_text("utf-8"))
        problems = kept.pop("problems")
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return None
    fingerprint = folder_fingerprint(index.articles_dir)
    if kept != _state(index, fingerprint) or not isinstance(problems, list):
        return None
    return [str(problem) for problem in problems]


def remember_build(index: SearchIndex, fingerprint: str, problems: list[str]) -> None:
    """Record that the index and the history hold the folder whose fingerprint, taken before
    the build began, is `fingerprint`; a folder changed since is not remembered."""
    if folder_fingerprint(index.articles_dir) != fingerprint:
        return
    record = {**_state(index, fingerprint), "problems": problems}
    try:
        write_file_atomic(index.index_dir / RECORD, json.dumps(record, ensure_ascii=False))
    except OSError as error:
        log.warning("could not remember the build: %s", error)
