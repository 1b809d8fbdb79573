"""The source tree: which files an import reads, and each file's front matter and body.

Sources are DocFX, Hugo or plain Markdown sites, not articles: include fragments and
oversized files are left out, and Hugo's TOML front matter is read besides YAML.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from portal.articles import ArticleError
from portal.articles import read_front_matter

from .report import ImportEntry
from .report import skip

#: Source files larger than this are not imported (articles refuse bodies over 512 KB).
MAX_SOURCE_BYTES = 512 * 1024
SUFFIXES = (".md", ".markdown")
#: Folders of pieces that other pages include (DocFX's `includes`, Jekyll's `_includes`).
FRAGMENT_FOLDERS = {"includes", "_includes"}


def find_sources(src: Path, exclude: Path | None = None) -> list[str]:
    """The Markdown files under `src` as sorted POSIX paths relative to it.

    Hidden folders and files (`.git`, `.github`, `.draft.md`) are not walked; `exclude`
    (the folder the articles are written to) neither. Use it to size a progress bar: the
    import calls `progress` once per path returned here.
    """
    src = Path(src)
    excluded = exclude.resolve() if exclude is not None else None
    found = []
    for folder, dirnames, filenames in os.walk(src):
        here = Path(folder)
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and (excluded is None or (here / d).resolve() != excluded)
        )
        for name in filenames:
            if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                continue
            found.append((here / name).relative_to(src).as_posix())
    return sorted(found)


@dataclass
class Doc:
    """A source file read and converted, on its way to becoming an article."""

    rel: str
    source: str
    meta: dict
    body: str
    title: str
    lang: str
    anchors: dict[str, str]
    article_id: str = ""
    translations: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


def read_source(src: Path, rel: str, source: str) -> tuple[dict, str] | ImportEntry:
    """The front matter and the body of the file `rel` under `src`, or the entry that
    says why it is not imported."""
    parts = rel.split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    if any(p.lower() in FRAGMENT_FOLDERS for p in parts[:-1]):
        return skip(source, "include fragment (in an includes folder)")
    if stem.startswith("_") and stem.lower() != "_index":
        return skip(source, "include fragment (name starts with _)")
    path = src / rel
    if path.is_symlink():
        return skip(source, "symbolic link")
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        return skip(source, f"larger than {MAX_SOURCE_BYTES // 1024} KB ({size // 1024} KB)")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return skip(source, "not UTF-8")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    try:
        meta, body = source_front_matter(source, text)
    except ArticleError as exc:
        problem = exc.problems[0]
        return skip(source, f"{problem.message} (line {problem.line})")
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        # tomllib recurses once per level of nesting, like any recursive-descent parser.
        reason = str(exc).splitlines()[0] if isinstance(exc, tomllib.TOMLDecodeError) \
            else "nested too deeply"
        return skip(source, f"front matter is not valid TOML: {reason}")
    if not isinstance(meta, dict):
        return skip(source, "front matter is not a mapping of keys")
    return meta, body


def source_front_matter(source: str, text: str) -> tuple[object, str]:
    """The front matter and the body of a source's text (without BOM and CRs).

    Hugo's TOML front matter, between `+++` lines, is read here: articles never have it.
    YAML front matter is read as an article's is, by `read_front_matter` (`ArticleError`
    when it is broken), but only when its `---` is the file's first line. Otherwise all
    of the text is body, as written (an indented first line stays code): in a source, as
    in Jekyll, dashes after blank lines are Markdown.
    """
    if text.startswith("+++\n"):
        end = text.find("\n+++", 3)
        if end != -1:
            return tomllib.loads(text[4:end]), text[end + 4:].lstrip("\n")
    if not text.startswith("---"):
        return {}, text
    front = read_front_matter(source, text)
    return front.meta, front.body
