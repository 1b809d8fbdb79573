"""The article files on disk: finding them, reading one safely, writing one atomically.

Whatever one file makes the code trip over is that file's problem (`reading`); a write
leaves the old file or the new one, never half of one (`write_file_atomic`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .meta import dump_front_matter
from .model import ArticleError
from .model import Problem
from .model import one_line
from .render import RENDER_VERSION

log = logging.getLogger(__name__)


# --- finding files -------------------------------------------------------------------------

def article_id(root: Path, path: Path) -> str:
    """The id of the article at `path`: its path under `root` without `.md`."""
    return path.relative_to(root).with_suffix("").as_posix()


def iter_article_files(root: Path) -> Iterator[Path]:
    """Every Markdown file under `root` that can be an article, in a stable order."""
    for path in sorted(root.rglob("*.md")):
        parts = path.relative_to(root).parts
        if any(p.startswith((".", "_")) for p in parts):
            continue
        yield path


def folder_fingerprint(root: Path) -> str:
    """The names, sizes and modification times of every file and folder under `root`
    (hidden ones aside: locks, half-written saves), with the render version: while it is
    the same, no article, category or settings file has changed. Reads no file."""
    digest = hashlib.sha1(RENDER_VERSION.encode() + b"\0")
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = os.path.relpath(folder, root)
        digest.update(f"{rel}/\n".encode("utf-8", "surrogateescape"))
        for name in sorted(files):
            if name.startswith("."):
                continue
            try:
                info = os.stat(os.path.join(folder, name))
            except OSError:  # gone since it was listed: the next look will differ anyway
                continue
            digest.update(f"{rel}/{name}\0{info.st_size}\0{info.st_mtime_ns}\n"
                          .encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def file_digest(data: bytes) -> str:
    """Identifies one version of a file as rendered by this version of the code."""
    return hashlib.sha1(RENDER_VERSION.encode() + b"\0" + data).hexdigest()


def content_hash(data: bytes) -> str:
    """sha256 of a file's bytes: names one version of it in revisions and in the editor."""
    return hashlib.sha256(data).hexdigest()


# --- reading one file safely ---------------------------------------------------------------

@contextlib.contextmanager
def reading(rel: str) -> Iterator[None]:
    """Turn any failure inside the block into an `ArticleError` of the file `rel`, logged."""
    try:
        yield
    except ArticleError:
        raise
    except Exception as exc:
        # Whatever one file makes the code below trip over (a bug, an odd byte, a file
        # gone since it was listed) is that file's problem: the other files go on.
        log.warning("%s could not be read", rel, exc_info=exc)
        raise ArticleError([Problem(rel, 1, f"could not be read: {type(exc).__name__}: "
                                            f"{one_line(str(exc))}")]) from exc


def decode_utf8(rel: str, data: bytes) -> str:
    """The text of a file, or an `ArticleError` at the line of the first byte that is not
    UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ArticleError([Problem(rel, line, f"not UTF-8 text: {exc.reason}")]) from None


# --- writing -------------------------------------------------------------------------------

def compose_file(meta: dict, body: str, blank_line: bool = True) -> str:
    """The text of an article file: front matter, a blank line (unless the file being
    rewritten had none), the body as written."""
    if body and not body.endswith("\n"):
        body += "\n"
    return dump_front_matter(meta) + ("\n" if blank_line else "") + body


def write_file_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old or the new file, never half of one,
    and the new one is on disk when this returns (even if the machine stops right after)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name of its own (hidden: never taken for an article), in the same folder
    # so that the rename cannot cross file systems.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename or removal in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
