"""Saving articles: the Markdown file, its revision and its index entries.

A save runs under the articles folder's lock, in an order that a crash at any moment
leaves recoverable:

1. the revision is committed as *pending* (the intent: this text, for this id);
2. the file is replaced atomically (readers see the old file or the new one);
3. the index is updated for this article only (other processes see it within
   INDEX_REFRESH_SECONDS);
4. the revision is marked *applied*.

`recover` finishes or forgets pending revisions: when the file holds the revision's text,
steps 3 and 4 are done again; otherwise the save never reached the disk and its revision
is dropped. Files changed outside the portal (a `git pull`) become revisions of their own
through `sync_from_disk`, by their content hash.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from .. import articles as articles_mod
from ..articles import Article
from ..articles import ArticleError
from ..articles import content_hash
from ..articles import is_valid_id
from ..articles import read_front_matter
from ..extensions import db
from ..models import ArticleRevision
from ..models import StaffUser
from ..search import SearchIndex
from ..text import comma_list
from . import images
from . import publishing
from .lock import editor_lock
from .render import RenderTimeout
from .render import parse_bounded

log = logging.getLogger(__name__)

SOURCES = ("editor", "restore", "review", "gap", "disk")
#: The status of a revision that records a file gone from the folder.
REMOVED = "removed"
MAX_MESSAGE = 500
#: How long a pending revision in a folder shared with other nodes is left for the node
#: that made it (it alone has the file) before another node drops it.
SHARED_PENDING_SECONDS = 600


class SaveRefused(ValueError):
    """A save the rules do not allow. `code` says which rule; `problems` lists what is wrong
    with the text when `code` is "problems"."""

    def __init__(self, code: str, problems: list[str] | None = None, detail: str = ""):
        super().__init__(detail or code)
        self.code = code
        self.problems = problems or []
        self.detail = detail


@dataclass
class Snapshot:
    """An article file as it is on disk now (`text` None: there is no such file)."""

    article_id: str
    text: str | None
    hash: str | None

    @property
    def exists(self) -> bool:
        return self.text is not None


class EditConflict(Exception):
    """The file changed since the expert opened it; `current` is what is there now and
    `revision` the latest revision (who saved it, and when)."""

    def __init__(self, current: Snapshot, revision: ArticleRevision | None):
        super().__init__(f"{current.article_id} changed since it was opened")
        self.current = current
        self.revision = revision


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def article_path(root: Path, article_id: str) -> Path:
    return root / f"{article_id}.md"


def snapshot(root: Path, article_id: str) -> Snapshot:
    """The file of `article_id` as it is now."""
    path = article_path(root, article_id)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return Snapshot(article_id, None, None)
    return Snapshot(article_id, data.decode("utf-8", "replace"), content_hash(data))


def clean_markdown(text: str) -> str:
    """The text as typed, minus what cannot be stored: browsers' CR LF become LF; NUL and
    lone surrogates (no file or database keeps them) are dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text.encode("utf-8", "ignore").decode("utf-8") if _has_surrogates(text) else text


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def front_matter_of(text: str) -> dict[str, Any]:
    """The front matter of a file's text as a mapping ({} when it is missing or broken),
    cut from the text as the site cuts it."""
    try:
        return read_front_matter("", text).meta
    except ArticleError:
        return {}


# --- history -------------------------------------------------------------------------------


def latest_revision(article_id: str) -> ArticleRevision | None:
    """The newest applied revision of an article."""
    return db.session.scalar(
        select(ArticleRevision)
        .where(ArticleRevision.article_id == article_id, ArticleRevision.state == "applied")
        .order_by(ArticleRevision.number.desc()).limit(1))


def history(article_id: str) -> list[ArticleRevision]:
    """Every applied revision of an article, newest first."""
    return list(db.session.scalars(
        select(ArticleRevision)
        .where(ArticleRevision.article_id == article_id, ArticleRevision.state == "applied")
        .order_by(ArticleRevision.number.desc())))


def revision(article_id: str, number: int) -> ArticleRevision | None:
    return db.session.scalar(select(ArticleRevision).where(
        ArticleRevision.article_id == article_id, ArticleRevision.number == number,
        ArticleRevision.state == "applied"))


def _next_number(article_id: str) -> int:
    highest = db.session.scalar(select(func.max(ArticleRevision.number))
                                .where(ArticleRevision.article_id == article_id))
    return (highest or 0) + 1


def _revision(article_id: str, text: str, *, source: str, author: StaffUser | None,
              message: str, now: dt.datetime, state: str, renamed_from: str | None = None,
              status: str | None = None) -> ArticleRevision:
    meta = front_matter_of(text)
    found_title = meta.get("title")
    title = found_title if isinstance(found_title, str) else ""
    found = meta.get("status")
    row = ArticleRevision(
        article_id=article_id, number=_next_number(article_id), content=text,
        content_hash=content_hash(text.encode("utf-8")), title=title.strip()[:300],
        status=status or (found if found in articles_mod.STATUSES else "published"),
        source=source, message=" ".join((message or "").split())[:MAX_MESSAGE],
        author_id=author.id if author else None,
        author_name=author.name if author else None, created_at=now, state=state,
        renamed_from=renamed_from)
    db.session.add(row)
    db.session.flush()
    return row


def _catch_up(current: Snapshot, now: dt.datetime) -> None:
    """Record the file as it is when the history does not end with it (changed outside
    the portal, or never saved here), so that the next revision has its real parent."""
    if current.text is None:  # not current.exists
        return
    last = latest_revision(current.article_id)
    if last is None or last.content_hash != current.hash:
        _revision(current.article_id, current.text, source="disk", author=None, message="",
                  now=now, state="applied")


# --- saving --------------------------------------------------------------------------------


def save(index: SearchIndex, article_id: str, text: str, *, base: str | None,
         author: StaffUser | None, message: str = "", source: str = "editor",
         rename_to: str | None = None, now: dt.datetime | None = None,
         render_seconds: float | None = None,
         restored: int | None = None) -> ArticleRevision | None:
    """Write an article's file as a new revision and index it.

    `base` is the content hash of the file the expert started from (None: a new article,
    whose id must be free); when the file is no longer that version, nothing is written and
    `EditConflict` says what is there now. `rename_to` moves the article to another id; the
    old id becomes an alias, so links to it keep working. `render_seconds` is how long
    rendering may take (the app's EDITOR_RENDER_SECONDS; None: `render.DEFAULT_SECONDS`).
    `restored` names the revision whose text this is (for the commit message). When the
    folder is a clone of a shared remote, the check is made against the remote's latest
    version, and the save becomes one commit by `author` (see `publishing`).
    Returns the revision, or None when the text is what the file holds already."""
    if source not in SOURCES:
        raise ValueError(f"unknown revision source {source!r}")
    root = index.articles_dir
    text = clean_markdown(text)
    target = rename_to or article_id
    if target != article_id:
        text = _moved(text, article_id, target)
    # Rendering may take seconds: it needs no lock, so other saves do not wait for it.
    article = _parsed(index, target, text, render_seconds)
    with editor_lock(root), publishing.publishing(root, index) as publication:
        _recover_locked(index)  # a save that died here before us leaves nothing half done
        current = snapshot(root, article_id)
        if current.hash != base:
            raise EditConflict(current, latest_revision(article_id))
        if target != article_id:
            _check_new_id(index, article_id, target)
        _check_links(index, article, article_id)
        if target == article_id and current.hash == content_hash(text.encode("utf-8")):
            return None
        now = now or _now()
        _catch_up(current, now)
        if target != article_id:
            _move_history(article_id, target)
        row = _revision(target, text, source=source, author=author, message=message, now=now,
                        state="pending", renamed_from=article_id if target != article_id
                        else None, status=article.status)
        db.session.commit()
        _apply(index, row, article)
        paths = [f"{target}.md"] + ([f"{article_id}.md"] if target != article_id else [])
        # The article's images go with it, so that every clone of a shared folder has them.
        paths += [f"{i}{images.ASSETS_SUFFIX}" for i in dict.fromkeys([target, article_id])
                  if images.assets_dir(index.articles_dir, i).is_dir()]
        publication.commit(paths, author, publishing.commit_message(
            target, status=row.status, source=source, message=message,
            renamed_from=row.renamed_from, restored=restored))
        return row


def _parsed(index: SearchIndex, article_id: str, text: str,
            render_seconds: float | None) -> Article:
    """The article the text makes, rendered within the time limit, or SaveRefused."""
    root = index.articles_dir
    try:
        return parse_bounded(root, article_path(root, article_id), text.encode("utf-8"),
                             index.default_lang, render_seconds)
    except ArticleError as error:
        raise SaveRefused("problems", [p.message for p in error.problems]) from None
    except RenderTimeout:
        raise SaveRefused("too_slow") from None


def check_text(index: SearchIndex, article_id: str, text: str,
               render_seconds: float | None = None) -> Article:
    """What saving `text` as `article_id` would make (for the preview), or SaveRefused."""
    article = _parsed(index, article_id, clean_markdown(text), render_seconds)
    _check_links(index, article, article_id)
    return article


def _check_new_id(index: SearchIndex, old_id: str, new_id: str) -> None:
    root = index.articles_dir
    if not is_valid_id(new_id) or "/" not in new_id:
        raise SaveRefused("invalid_id")
    if article_path(root, new_id).exists():
        raise SaveRefused("id_taken")
    owner = index.canonical_ids().get(new_id)
    if owner is not None and owner != old_id:
        raise SaveRefused("alias_taken")
    used = db.session.scalar(select(func.count()).select_from(ArticleRevision)
                             .where(ArticleRevision.article_id == new_id))
    if used:
        raise SaveRefused("id_used_before")


def _moved(text: str, old_id: str, new_id: str) -> str:
    """The text with the old id added to its aliases (and the new one taken out of them)."""
    _front, body = articles_mod.split_file(text)
    meta = front_matter_of(text)
    aliases = [a for a in _id_list(meta.get("aliases")) if a != new_id]
    if old_id not in aliases:
        aliases.append(old_id)
    meta["aliases"] = aliases
    return articles_mod.compose_file(meta, body, articles_mod.blank_after_front(text))


def with_current_aliases(text: str, current: str) -> str:
    """An earlier version's text with the aliases the article has now added, so that
    restoring it does not break links to the addresses it had since."""
    now = _id_list(front_matter_of(current).get("aliases"))
    _front, body = articles_mod.split_file(text)
    meta = front_matter_of(text)
    aliases = _id_list(meta.get("aliases"))
    missing = [a for a in now if a not in aliases]
    if not missing:
        return text
    meta["aliases"] = aliases + missing
    return articles_mod.compose_file(meta, body, articles_mod.blank_after_front(text))


def _id_list(value: object) -> list[str]:
    if isinstance(value, str):
        return comma_list(value)
    return [str(v) for v in value] if isinstance(value, list) else []


def _check_links(index: SearchIndex, article: Article, editing: str) -> None:
    """Translations must exist in another language; aliases must not be taken. The first
    problem is raised, its code naming the rule and `detail` the id."""
    catalog = index.catalog()
    owners = index.canonical_ids()
    for target in article.translations:
        info = catalog.get(owners.get(target, target))
        if info is None or target in (article.id, editing):
            raise SaveRefused("translation_missing", detail=target)
        if info.lang == article.lang:
            raise SaveRefused("translation_same_lang", detail=target)
    for alias in article.aliases:
        if alias in catalog and alias not in (article.id, editing):
            raise SaveRefused("alias_is_article", detail=alias)
        if owners.get(alias) not in (None, article.id, editing):
            raise SaveRefused("alias_claimed", detail=alias)


def _move_history(old_id: str, new_id: str) -> None:
    db.session.execute(update(ArticleRevision).where(ArticleRevision.article_id == old_id)
                       .values(article_id=new_id))


def _apply(index: SearchIndex, row: ArticleRevision, article: Article | None = None) -> None:
    """Steps 2 to 4 of a save: the file, the index, the revision marked applied."""
    root = index.articles_dir
    path = article_path(root, row.article_id)
    articles_mod.write_file_atomic(path, row.content)
    if row.renamed_from:
        old = article_path(root, row.renamed_from)
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
            articles_mod.sync_folder(old.parent)
    if article is None:
        article = articles_mod.load_article(root, path, index.default_lang)
    index.replace_article(article, old_id=row.renamed_from)
    row.state = "applied"
    db.session.commit()


# --- after a crash, and after changes outside the portal --------------------------------------


@dataclass
class Recovery:
    """What `recover` did: saves finished, and saves that never reached the disk."""

    finished: list[str] = field(default_factory=list)
    abandoned: list[str] = field(default_factory=list)


def recover(index: SearchIndex) -> Recovery:
    """Finish or forget the saves a crash interrupted (run at start-up and before indexing).
    In a shared folder the other nodes are kept out meanwhile: a pending revision found
    then is a dead save's, never one a live node is making."""
    with editor_lock(index.articles_dir), publishing.publishing(index.articles_dir, index):
        report = _recover_locked(index)
        _remove_temporary_files(index.articles_dir)
    for article_id in report.finished:
        log.warning("finished a save cut short: %s", article_id)
    for article_id in report.abandoned:
        log.warning("dropped a save that never reached the disk: %s", article_id)
    return report


def recover_locked(index: SearchIndex) -> Recovery:
    """`recover` for a caller holding the folder's lock (the temporary files are left)."""
    return _recover_locked(index)


def _recover_locked(index: SearchIndex) -> Recovery:
    """`recover` for a caller holding the lock: any pending revision is a dead save's.

    In a folder shared with other nodes a dead save may be another node's, whose file only
    that node has: its revision is left for `SHARED_PENDING_SECONDS`, so that the node
    finishes it when it starts again (after that it is dropped here; the node then still
    commits its file, as a change outside the portal)."""
    report = Recovery()
    root = index.articles_dir
    pending = list(db.session.scalars(select(ArticleRevision)
                                      .where(ArticleRevision.state == "pending")
                                      .order_by(ArticleRevision.id)))
    shared = publishing.publisher_for(root) is not None
    for row in pending:
        if snapshot(root, row.article_id).hash != row.content_hash and shared \
                and _age_seconds(row) < SHARED_PENDING_SECONDS:
            continue
        if snapshot(root, row.article_id).hash == row.content_hash:
            try:
                _apply(index, row)
            except ArticleError as error:
                log.error("a saved article no longer parses: %s", error)
                row.state = "applied"
                db.session.commit()
            report.finished.append(row.article_id)
        else:
            if row.renamed_from:
                _move_history(row.article_id, row.renamed_from)
            db.session.delete(row)
            db.session.commit()
            report.abandoned.append(row.article_id)
    return report


def _age_seconds(row: ArticleRevision) -> float:
    created = row.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return (_now() - created).total_seconds()


def _remove_temporary_files(root: Path) -> None:
    """Half-written temporary files of saves that died (no save runs: we hold the lock)."""
    if root.is_dir():
        for path in root.rglob(".*.md.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


@dataclass
class Sync:
    """What `sync_from_disk` recorded."""

    changed: list[str] = field(default_factory=list)
    moved: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: No article had a history yet (a fresh install, an import): the files as they are
    #: became the first revisions, not changes.
    initial: bool = False

    def summary(self) -> str:
        return (f"{len(self.changed)} recorded, {len(self.moved)} moved, "
                f"{len(self.removed)} removed")


def _latest_all() -> dict[str, ArticleRevision]:
    """The newest applied revision of every article with a history."""
    newest = (select(ArticleRevision.article_id, func.max(ArticleRevision.number).label("n"))
              .where(ArticleRevision.state == "applied")
              .group_by(ArticleRevision.article_id).subquery())
    rows = db.session.scalars(select(ArticleRevision).join(
        newest, (ArticleRevision.article_id == newest.c.article_id)
        & (ArticleRevision.number == newest.c.n)))
    return {row.article_id: row for row in rows}


def sync_from_disk(index: SearchIndex, now: dt.datetime | None = None) -> Sync:
    """Record as revisions the files changed, added, moved or removed outside the portal
    since their last revision (found by content hash)."""
    with editor_lock(index.articles_dir):
        return record_outside_changes(index, now=now)


def record_outside_changes(index: SearchIndex, only: set[str] | None = None,
                           describe: Callable[[str], str] | None = None,
                           now: dt.datetime | None = None) -> Sync:
    """`sync_from_disk` for a caller holding the folder's lock; `only` limits it to those
    article ids (the files a `git pull` changed), `describe(id)` says what changed one
    (the message of a revision it records)."""
    root = index.articles_dir
    report = Sync()
    now = now or _now()

    def message(article_id: str) -> str:
        return describe(article_id)[:MAX_MESSAGE] if describe else ""
    latest = _latest_all()
    report.initial = not latest
    files: dict[str, bytes] = {}
    unreadable: set[str] = set()
    for path in _article_files(root, only):
        article_id = articles_mod.article_id(root, path)
        try:
            files[article_id] = path.read_bytes()
        except OSError as exc:
            # One file that cannot be read now (gone since it was listed, no access)
            # is left as its history has it, neither changed nor removed.
            log.warning("%s not recorded: %s", article_id, exc)
            unreadable.add(article_id)
    gone = {latest[i].content_hash: i for i in latest
            if i not in files and i not in unreadable and latest[i].status != REMOVED
            and (only is None or i in only)}
    for article_id, data in files.items():
        digest = content_hash(data)
        last = latest.get(article_id)
        if last is not None and last.content_hash == digest:
            continue
        text = data.decode("utf-8", "replace")
        moved_from = gone.pop(digest, None) if last is None else None
        if moved_from is not None:
            _move_history(moved_from, article_id)
            report.moved.append((moved_from, article_id))
        else:
            report.changed.append(article_id)
        _revision(article_id, text, source="disk", author=None,
                  message=message(article_id), now=now, state="applied",
                  renamed_from=moved_from)
    for article_id in sorted(gone.values()):
        _revision(article_id, "", source="disk", author=None,
                  message=message(article_id), now=now, state="applied",
                  status=REMOVED)
        report.removed.append(article_id)
    db.session.commit()
    return report


def _article_files(root: Path, only: set[str] | None) -> list[Path]:
    if only is None:
        return list(articles_mod.iter_article_files(root))
    paths = [article_path(root, article_id) for article_id in sorted(only)
             if is_valid_id(article_id)]
    return [path for path in paths if path.is_file()]


def change_front_matter(index: SearchIndex, article_id: str,
                        change: Callable[[dict[str, Any]], None], *,
                        author: StaffUser | None, message: str = "", source: str = "editor",
                        render_seconds: float | None = None) -> ArticleRevision | None:
    """Save the article with its front matter changed by `change(meta)` (the body as it
    is), starting over when another save gets in between."""
    for _attempt in range(3):
        current = snapshot(index.articles_dir, article_id)
        if current.text is None:  # not current.exists
            raise SaveRefused("missing")
        _front, body = articles_mod.split_file(current.text)
        meta = front_matter_of(current.text)
        change(meta)
        try:
            text = articles_mod.compose_file(meta, body,
                                             articles_mod.blank_after_front(current.text))
            return save(index, article_id, text, base=current.hash, author=author,
                        message=message, source=source, render_seconds=render_seconds)
        except EditConflict:
            continue
    raise SaveRefused("busy")
