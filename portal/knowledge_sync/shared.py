"""An articles folder that is a clone of a shared git remote.

Every save on any node goes, under the node's folder lock and the cluster's publish lock
(`cluster_lock`), through the same steps:

1. catch up: commit what a crash left uncommitted, fetch, replay our unpushed commits on
   the remote's (or fast-forward to it), push them, re-index the files that changed and
   record the ones changed outside the portal as revisions;
2. the save's own checks and writes (`authoring.store.save`): the "changed since you
   opened it" check now compares with the remote's latest version;
3. one commit by the expert, pushed; when the remote moved on meanwhile (someone pushed
   outside the portal), our commit is replayed on theirs and pushed again;
4. a notice to the other nodes (`notices`), which pull at once.

When the remote cannot be reached the save is kept as a local commit and sent by the
next catch-up (the node's follower retries every few seconds). A node killed at any step
leaves a commit the remote has or has not; its next catch-up finishes the job.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from .. import articles as articles_mod
from ..articles import ArticleError
from ..authoring import images
from ..authoring import publishing
from ..authoring import store
from ..extensions import db
from ..models import ArticleRevision
from ..models import StaffUser
from ..search import SearchIndex
from . import notices
from .cluster_lock import publishing_lock
from .git import Git
from .git import GitError
from .git import Identity
from .git import PushRejected
from .git import RemoteUnreachable

log = logging.getLogger(__name__)

#: A pull changing more files than this is indexed by a whole (incremental) build.
MANY_FILES = 40
#: Pushes tried when the remote keeps moving between our fetch and our push.
PUSH_ATTEMPTS = 5
SEARCH_TERMS = (articles_mod.SYNONYMS_FILE, articles_mod.BEST_BETS_FILE)


class SetupError(RuntimeError):
    """The articles folder cannot be a clone of the remote (said how to fix it)."""


class SharedFolder:
    """The clone at `root` of `remote`'s `branch`: catch-up, commit and push, notices."""

    def __init__(self, root: Path, remote: str, branch: str = "main") -> None:
        self.root = Path(root)
        self.remote = remote
        self.git = Git(self.root, branch)
        #: Whether the last talk with the remote worked (False: saves wait locally).
        self.reachable = True
        self._state = threading.Lock()
        self._last_pushed: str | None = None

    # --- set-up ------------------------------------------------------------------------

    def ensure_clone(self) -> None:
        """Clone the remote into the folder when it is missing (or empty); several server
        processes starting together clone it once."""
        if self.git.is_repository():
            self.git.prepare()
            return
        if self.root.exists() and any(self.root.iterdir()):
            raise SetupError(
                f"{self.root} holds files but is not a clone of {self.remote}: move it "
                f"away to start from the remote, or push it there first (git init, git "
                f"remote add origin {self.remote}, git push origin HEAD:{self.git.branch})")
        guard = self.root.parent / f".{self.root.name}.clone.lock"
        self.root.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(guard, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if not self.git.is_repository():
                if self.root.exists():
                    self.root.rmdir()
                Git.clone(self.remote, self.root, self.git.branch)
                log.warning("cloned %s into %s", self.remote, self.root)
        finally:
            os.close(fd)

    # --- a save ------------------------------------------------------------------------

    @contextlib.contextmanager
    def publishing(self, index: SearchIndex) -> Iterator[publishing.Publication]:
        """The block of one save (the caller holds the folder's lock): the other nodes
        kept out, the folder up to date with the remote, the save's commit pushed."""
        with publishing_lock(db.engine):
            try:
                self.catch_up_locked(index)
            except GitError:
                # The save still works on this node's folder; the next round tries again.
                log.exception("could not bring the articles folder up to date")
            yield _Publication(self, index)
        self._announce()

    def waiting(self) -> int:
        try:
            return len(self.git.unpushed())
        except GitError:
            return 0

    def catch_up_locked(self, index: SearchIndex) -> None:
        """Step 1 of a save, and what the follower does on a notice: leftovers committed,
        the remote's commits taken in, ours sent, the index and history updated."""
        self._commit_leftovers()
        before = self.git.head()  # what came from elsewhere is what changes after this
        try:
            self.git.fetch()
        except RemoteUnreachable as error:
            self._unreachable(error)
            return
        if self.git.unpushed():
            if not self.git.rebase():
                self._give_up_unpushed()
            self._push()
        else:
            self.git.fast_forward()
            self.reachable = True
        self.take_in(index, before)

    def commit_locked(self, index: SearchIndex, paths: Sequence[str],
                      author: StaffUser | None, message: str) -> None:
        """Step 3: the save's files as one commit by `author`, pushed."""
        who = Identity.of(author.name, author.email) if author else Identity.of(None, None)
        try:
            if not self.git.commit(paths, who, message):
                return
        except GitError:
            # The save is on disk and in the history: the next catch-up commits it.
            log.exception("could not commit %s", ", ".join(paths))
            return
        for _attempt in range(PUSH_ATTEMPTS):
            before = self.git.head()
            if self._push():
                return
            if self.reachable:  # rejected: someone pushed outside the portal meanwhile
                try:
                    self.git.fetch()
                except RemoteUnreachable as error:
                    self._unreachable(error)
                    return
                if not self.git.rebase():
                    self._lost_to_the_remote(index, before, paths)
                self.take_in(index, before)
            else:
                return
        log.warning("the remote kept moving: the save waits to be sent")

    # --- the remote ----------------------------------------------------------------------

    def _push(self) -> bool:
        """Push the branch; whether it got there (False: rejected, or unreachable)."""
        try:
            self.git.push()
        except PushRejected:
            self.reachable = True
            return False
        except RemoteUnreachable as error:
            self._unreachable(error)
            return False
        self.reachable = True
        with self._state:
            self._last_pushed = self.git.head()
        return True

    def _unreachable(self, error: GitError) -> None:
        if self.reachable:
            log.warning("the articles remote cannot be reached (%s): saves are kept here "
                        "and sent when it answers again", error)
        self.reachable = False

    def _announce(self) -> None:
        """Tell the other nodes about the commit pushed last (once)."""
        with self._state:
            pushed, self._last_pushed = self._last_pushed, None
        if pushed:
            notices.send(db.engine, pushed)

    def _give_up_unpushed(self) -> None:
        """Our unpushed commits clash with the remote's (the same article changed on two
        nodes while the remote was away): the remote's version stays; ours are kept in
        the articles' revision history, where they can be restored."""
        log.warning("local saves %s clash with the remote's commits: keeping the remote's "
                    "version (ours stay in the revision history)",
                    ", ".join(sha[:10] for sha in self.git.unpushed()))
        self.git.reset_to_remote()

    def _lost_to_the_remote(self, index: SearchIndex, before: str | None,
                            paths: Sequence[str]) -> None:
        """Our new commit clashes with one pushed outside the portal a moment ago: theirs
        stays, and the expert gets the editor's conflict with their text kept."""
        self.git.reset_to_remote()
        self.take_in(index, before)
        article_id = paths[0].removesuffix(".md")
        raise store.EditConflict(store.snapshot(self.root, article_id),
                                 store.latest_revision(article_id))

    # --- the folder ------------------------------------------------------------------------

    def take_in(self, index: SearchIndex, before: str | None) -> None:
        """Re-index the files that changed from commit `before` to now, and record those
        changed outside the portal as revisions."""
        after = self.git.head()
        if after is None or after == before:
            return
        paths = self.git.changed_between(before, after)
        ids = {p.removesuffix(".md") for p in paths if _is_article(p)}
        if ids:  # the history first: by the time searches find a change, it shows it
            store.record_outside_changes(
                index, only=ids, describe=lambda article_id: self._message(before, after,
                                                                          article_id))
        if len(paths) > MANY_FILES or any(p.endswith("_category.yml") for p in paths):
            report = index.build()
            log.info("pulled %d files: %s", len(paths), report.summary())
        else:
            for article_id in sorted(ids):
                _index_one(index, article_id)
            if any(p in SEARCH_TERMS for p in paths):
                index.update_search_terms()

    def _message(self, before: str | None, after: str, article_id: str) -> str:
        """The commit that changed an article last, as "subject (git 1a2b3c4, by Name)":
        what the history shows for a change made outside the portal."""
        span = f"{before}..{after}" if before else after
        out = self.git.run("log", "-1", "--format=%h%x00%an%x00%s", span, "--",
                           f"{article_id}.md", check=False).strip()
        if not out:
            return ""
        short, name, subject = (out.split("\0") + ["", ""])[:3]
        return f"{subject} (git {short}, by {name})"

    def _commit_leftovers(self) -> None:
        """Commit what a save cut short left uncommitted: each file whose text is one of
        its revisions as that revision's author; anything else (a file edited on the
        server) as the portal."""
        dirty = self.git.dirty()
        if not dirty:
            return
        rest: list[str] = []
        for path in dirty:
            if _is_image(path):
                continue  # an image waits for its article's save, which commits it with it
            row = _revision_of(self.root, path) if _is_article(path) else None
            if row is None:
                rest.append(path)
                continue
            message = publishing.commit_message(
                row.article_id, status=row.status, source=row.source, message=row.message)
            author = row.author
            who = Identity.of(author.name if author else None,
                              author.email if author else None)
            self.git.commit([path], who, message)
            log.warning("committed a save cut short: %s", row.article_id)
        if rest:
            self.git.commit(rest, Identity.of(None, None),
                            "Commit files changed in the folder outside the portal\n")
            log.warning("committed files changed outside the portal: %s", ", ".join(rest))


class _Publication:
    def __init__(self, folder: SharedFolder, index: SearchIndex) -> None:
        self.folder = folder
        self.index = index

    def commit(self, paths: Sequence[str], author: StaffUser | None, message: str) -> None:
        self.folder.commit_locked(self.index, paths, author, message)


def _is_image(path: str) -> bool:
    """A file in an article's images folder (see `authoring.images`)."""
    return any(part.endswith(images.ASSETS_SUFFIX) for part in path.split("/")[:-1])


def _is_article(path: str) -> bool:
    parts = path.split("/")
    return path.endswith(".md") and not any(p.startswith((".", "_")) for p in parts)


def _index_one(index: SearchIndex, article_id: str) -> None:
    path = store.article_path(index.articles_dir, article_id)
    if not path.is_file():
        index.remove_article(article_id)
        return
    try:
        article = articles_mod.load_article(index.articles_dir, path, index.default_lang)
    except ArticleError as error:
        log.warning("pulled %s, which cannot be shown: %s", article_id, error)
        index.remove_article(article_id)
        return
    index.replace_article(article)


def _revision_of(root: Path, path: str) -> ArticleRevision | None:
    """The newest revision (applied or pending) whose text the file at `path` holds."""
    article_id = path.removesuffix(".md")
    current = store.snapshot(root, article_id)
    if current.hash is None:
        return None
    found: ArticleRevision | None = db.session.scalar(
        select(ArticleRevision)
        .where(ArticleRevision.article_id == article_id,
               ArticleRevision.content_hash == current.hash)
        .order_by(ArticleRevision.number.desc()).limit(1))
    return found
