"""DocFX's Markdown extensions (`> [!NOTE]`, `:::image`, `[!INCLUDE]`, zones...) as the
Markdown our renderer knows; what cannot be shown on a help page is dropped."""

from __future__ import annotations

import re
import textwrap

from .markup import admonition
from .markup import attributes
from .markup import image_text

ALERT = re.compile(r"^(\s*)>\s*\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*(.*)$", re.I)
QUOTE = re.compile(r"^(\s*)>(?: ?)(.*)$")
ALERT_KINDS = {"note": "note", "tip": "tip", "important": "important", "warning": "warning",
               "caution": "danger"}
DOCFX_ATTRS = r"((?:\s+[\w-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s:\"']+))*)"
DOCFX_IMAGE = re.compile(r":::image" + DOCFX_ATTRS + r"\s*:::")
DOCFX_COMPLEX_IMAGE = re.compile(r":::image" + DOCFX_ATTRS + r"\s*:::(.*?):::image-end:::", re.S)
DOCFX_INCLUDE = re.compile(r"\[!(?:INCLUDE|code[\w-]*)\s*\[[^\]]*\]\([^)]*\)\s*\]", re.I)
DOCFX_DIV = re.compile(r"\[!div(?:\s[^\]]*)?\]", re.I)
DOCFX_VIDEO = re.compile(r"\[!VIDEO\s+<?([^\s\]>]+)>?\s*\]", re.I)
DOCFX_NOLOC = re.compile(r":::no-loc\s+text\s*=\s*(?:\"([^\"]*)\"|'([^']*)')\s*:::")


def docfx(text: str, words: dict[str, str]) -> str:
    """The DocFX syntax of a chunk of prose converted; `words` names notes and images."""
    if "[!" not in text and ":::" not in text:
        return text
    text = DOCFX_COMPLEX_IMAGE.sub(
        lambda m: image_text(attributes(m.group(1)).get("alt-text"), words), text)
    text = DOCFX_IMAGE.sub(lambda m: image_text(attributes(m.group(1)).get("alt-text"), words),
                           text)
    text = DOCFX_NOLOC.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    text = DOCFX_VIDEO.sub(lambda m: f"[{words['video']}]({m.group(1)})", text)
    out: list[str] = []
    for line in text.split("\n"):
        new = DOCFX_DIV.sub("", DOCFX_INCLUDE.sub("", line))
        if new != line and not new.strip(" >\t"):
            continue  # the line held nothing else
        if re.match(r"^\s*:::", new):
            continue  # zone / moniker / row / column markers: keep what is between them
        out.append(new)
    return "\n".join(_alerts(out, words))


def _alerts(lines: list[str], words: dict[str, str]) -> list[str]:
    """`> [!NOTE]` quotes become `!!! note` admonitions, at the quote's indentation."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = ALERT.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        indent, kind = match.group(1), ALERT_KINDS[match.group(2).lower()]
        body = [match.group(3)] if match.group(3).strip() else []
        i += 1
        while i < len(lines):
            quoted = QUOTE.match(lines[i])
            if not quoted or len(quoted.group(1).expandtabs(4)) > len(indent.expandtabs(4)) + 3:
                break
            body.append(quoted.group(2))
            i += 1
        content = textwrap.dedent("\n".join(_alerts(body, words))).strip("\n")
        if out and out[-1].strip():
            out.append("")
        out.extend(admonition(indent, kind, words[kind], content).strip("\n").split("\n"))
        out.append("")
    return out
