"""Fenced code blocks: the parts of a body that no conversion step may touch."""

from __future__ import annotations

import re

FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


def split_fences(text: str) -> list[tuple[bool, str]]:
    """The text as chunks, each flagged True when it is a fenced code block."""
    chunks: list[tuple[bool, str]] = []
    buf: list[str] = []
    fence = ""
    for line in text.split("\n"):
        match = FENCE.match(line)
        if not fence:
            if match and not (match.group(2)[0] == "`" and "`" in match.group(3)):
                if buf:
                    chunks.append((False, "\n".join(buf)))
                buf, fence = [line], match.group(2)
            else:
                buf.append(line)
        else:
            buf.append(line)
            if (match and match.group(2)[0] == fence[0] and len(match.group(2)) >= len(fence)
                    and not match.group(3).strip()):
                chunks.append((True, "\n".join(buf)))
                buf, fence = [], ""
    if buf or not chunks:
        chunks.append((bool(fence), "\n".join(buf)))
    return chunks
