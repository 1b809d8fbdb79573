"""Where a save goes beyond the folder: nowhere for a plain articles folder, or to a shared
git remote when the folder is a clone (`portal.knowledge_sync` plugs that in).

A save asks `publisher_for(root)`; with none registered it works on the folder alone, as
it always did. The commit message of every kind of save is decided here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Protocol

if TYPE_CHECKING:
    from ..models import StaffUser
    from ..search import SearchIndex


class Publication(Protocol):
    """One save being shared: its files are committed once they are written."""

    def commit(self, paths: Sequence[str], author: StaffUser | None, message: str) -> None:
        """Commit `paths` (relative to the folder) as `author`, and send the commit."""


class Publisher(Protocol):
    """Shares a folder's saves with the other nodes."""

    def publishing(self, index: SearchIndex) -> AbstractContextManager[Publication]:
        """For a caller holding the folder's lock: the other nodes kept out and the
        folder brought up to date with theirs for the block, whose files are then
        committed with `Publication.commit`."""

    def waiting(self) -> int:
        """Saves of this node not sent to the other nodes yet (the remote unreachable)."""


_publishers: dict[Path, Publisher] = {}


def register(root: Path, publisher: Publisher | None) -> None:
    """Share the saves in `root` through `publisher` (None: the folder alone again)."""
    key = Path(root).resolve()
    if publisher is None:
        _publishers.pop(key, None)
    else:
        _publishers[key] = publisher


def publisher_for(root: Path) -> Publisher | None:
    """The publisher of the folder `root`, or None for a folder of its own."""
    if not _publishers:
        return None
    return _publishers.get(Path(root).resolve())


class _Alone:
    """A save in a folder that is not shared: there is nothing to commit."""

    def commit(self, paths: Sequence[str], author: StaffUser | None, message: str) -> None:
        return None


def publishing(root: Path, index: SearchIndex) -> AbstractContextManager[Publication]:
    """`Publisher.publishing` of the folder's publisher, or a block that shares nothing."""
    publisher = publisher_for(root)
    if publisher is None:
        return nullcontext(_Alone())
    return publisher.publishing(index)


def commit_message(article_id: str, *, status: str, source: str, message: str = "",
                   renamed_from: str | None = None, restored: int | None = None) -> str:
    """What a save did, as the subject of its commit, with the expert's note below it:
    "Publish billing/avtoplatezh", "Restore revision 4 of billing/avtoplatezh"."""
    if restored is not None:
        subject = f"Restore revision {restored} of {article_id}"
    elif source == "review":
        subject = f"Mark {article_id} as reviewed"
    elif source == "gap":
        subject = f"Add the words of a failed search to {article_id}"
    else:
        verb = {"published": "Publish", "draft": "Save draft", "archived": "Archive"}
        subject = f"{verb.get(status, 'Save')} {article_id}"
    if renamed_from:
        subject += f" (moved from {renamed_from})"
    note = " ".join(message.split())
    return f"{subject}\n\n{note}\n" if note else f"{subject}\n"
