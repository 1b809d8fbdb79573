"""A page's title, and its headings arranged under it.

The title comes from the front matter, else from the first H1, else from the file name;
an H1 that repeats it is removed, and when other H1s remain every heading moves one level
down, so that the title is the page's only H1.
"""

from __future__ import annotations

import re

from portal.text import INVISIBLE

from .fences import split_fences
from .markup import plain
from .sources import SUFFIXES


def take_title(body: str, title: str, name: str) -> tuple[str, str]:
    """The page's title (`title` from the front matter, else the first H1's text, else
    `name` made readable) and the body without an H1 that repeats it."""
    h1 = _first_h1(body)
    if not title and h1 is not None:
        title = h1[1]
    if not title:
        title = _humanise(name)
    if h1 is not None:
        leading = not "".join(body.split("\n")[:h1[0]]).strip()
        if _same_title(h1[1], title, loose=leading):
            body = _remove_lines(body, h1[0], h1[2])
    return title, body


def _first_h1(body: str) -> tuple[int, str, int] | None:
    """(line number, text, lines it spans) of the first level-1 heading outside code."""
    offset = 0
    for is_code, chunk in split_fences(body):
        lines = chunk.split("\n")
        if not is_code:
            for n, line in enumerate(lines):
                match = re.match(r"^ {0,3}#(?!#)\s*(.*?)\s*#*\s*$", line)
                if match and (line.lstrip().startswith("# ") or line.strip() == "#"):
                    return offset + n, plain(match.group(1)), 1
                if (n + 1 < len(lines) and re.fullmatch(r" {0,3}=+\s*", lines[n + 1])
                        and line.strip() and not line.startswith("    ")
                        and (n == 0 or not lines[n - 1].strip())):
                    return offset + n, plain(line), 2
        offset += len(lines)
    return None


def _remove_lines(body: str, start: int, count: int) -> str:
    lines = body.split("\n")
    del lines[start:start + count]
    return "\n".join(lines)


def _same_title(heading: str, title: str, loose: bool) -> bool:
    """The heading repeats the title; at the top of the page, rewording it is enough."""
    a = re.sub(r"[\W_]+", " ", heading.casefold()).strip()
    b = re.sub(r"[\W_]+", " ", title.casefold()).strip()
    if a == b:
        return True
    if not loose or not a or not b:
        return False
    x, y = set(a.split()), set(b.split())
    return x <= y or y <= x or len(x & y) / len(x | y) >= 0.6


def demote_headings(body: str) -> str:
    """When H1s remain in the body, make every heading one level lower: the page's title
    is its only H1."""
    if _first_h1(body) is None:
        return body
    chunks = []
    for is_code, chunk in split_fences(body):
        if not is_code:
            chunk = re.sub(r"^( {0,3})(#{1,5})(?=\s|$)", r"\1#\2", chunk, flags=re.M)
            chunk = re.sub(r"^( {0,3}\S.*\n {0,3})=+[ \t]*$", r"\1" + "-" * 3, chunk, flags=re.M)
        chunks.append(chunk)
    return "\n".join(chunks)


def _humanise(name: str) -> str:
    """`reset-password.md` -> `Reset password`."""
    name = INVISIBLE.sub(" ", name)
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    text = " ".join(re.sub(r"[-_]+", " ", name).split())
    return text[:1].upper() + text[1:] if text else "Untitled"
