"""Hugo shortcodes (`{{< note >}}`, `{{% highlight %}}`, tabs...) as the Markdown our renderer
knows. `ref` and `relref` are left in place: the links step resolves them.

Code a shortcode holds is kept out of the text as a placeholder (in `keep`) until the
other steps are done, so that none of them rewrites it; `restore` puts it back.
"""

from __future__ import annotations

import re
import textwrap

from .markup import admonition
from .markup import escape
from .markup import indented
from .markup import shortcode_args

ADMONITION_KINDS = {
    "note": "note", "info": "note", "information": "note", "primary": "note",
    "secondary": "note", "light": "note", "dark": "note", "notice": "note",
    "pageinfo": "note", "callout": "note", "tip": "tip", "hint": "tip", "success": "tip",
    "important": "important", "warning": "warning", "caution": "danger", "danger": "danger",
    "error": "danger", "alert": "note",
}
ADMONITION_SHORTCODES = {
    "note", "tip", "info", "warning", "caution", "danger", "important", "alert", "notice",
    "hint", "callout", "pageinfo", "admonition",
}


def _placeholder(keep: list[str], text: str) -> str:
    keep.append(text)
    return f"\x00{len(keep) - 1}\x00"


def restore(text: str, keep: list[str]) -> str:
    """The text with the placeholders `shortcodes` left replaced by what they hold."""
    for _ in range(3):  # placeholders may hold placeholders
        if "\x00" not in text:
            break
        text = re.sub(r"\x00(\d+)\x00", lambda m: keep[int(m.group(1))], text)
    return text.replace("\x00", "")


SHORTCODE = re.compile(r"\{\{([<%])\s*(/?)\s*(\w[\w./-]*)((?:[^}\"']|\"[^\"]*\"|'[^']*')*?)"
                       r"\s*(/?)\s*[>%]\}\}")
REF_NAMES = ("ref", "relref")


def shortcodes(text: str, words: dict[str, str], keep: list[str]) -> str:
    """The shortcodes of a chunk of prose converted; the code they hold goes to `keep`."""
    if "{{" not in text:
        return text
    # {{</* x */>}} is how Hugo pages show a shortcode literally.
    text = re.sub(r"\{\{([<%])/\*(.*?)\*/([>%])\}\}",
                  lambda m: _placeholder(keep, "{{" + m.group(1) + m.group(2) + m.group(3) + "}}"),
                  text, flags=re.S)
    pair = re.compile(
        r"\{\{([<%])\s*(\w[\w./-]*)((?:[^}\"'/]|/(?![>%]\}\})|\"[^\"]*\"|'[^']*')*?)\s*[>%]\}\}"
        r"((?:(?!\{\{[<%]\s*\2[\s>%]).)*?)"
        r"\{\{[<%]\s*/\s*\2\s*[>%]\}\}", re.S)
    for _ in range(20):
        new = pair.sub(lambda m: _paired(m, words, keep), text)
        if new == text:
            break
        text = new

    def single(match: re.Match) -> str:
        if match.group(3).lower() in REF_NAMES and not match.group(2):
            return match.group(0)  # resolved with the links
        return ""

    return SHORTCODE.sub(single, text)


def _paired(match: re.Match, words: dict[str, str], keep: list[str]) -> str:
    """A shortcode with content (`{{< note >}}...{{< /note >}}`) converted."""
    name = match.group(2).lower()
    positional, named = shortcode_args(match.group(3))
    content = textwrap.dedent(match.group(4).strip("\n")).strip("\n")
    indent = _line_indent(match)
    if name in ("highlight", "code"):
        lang = named.get("lang") or (positional[0] if positional else "")
        return _fenced(keep, indent, content, lang)
    if name == "tab":
        label = named.get("header") or named.get("title") or (positional[0] if positional else "")
        block = _fenced(keep, indent, content, named["lang"]) if "lang" in named else content
        return f"\n\n{indent}**{escape(label)}**\n\n{block}\n\n" if label else f"\n\n{block}\n\n"
    if name in ADMONITION_SHORTCODES:
        kind_word = name
        if name == "alert":
            kind_word = named.get("color") or named.get("type") or "note"
        elif name in ("notice", "hint", "callout", "admonition"):
            kind_word = named.get("type") or (positional[0] if positional else "note")
        kind = ADMONITION_KINDS.get(kind_word.lower(), "note")
        title = named.get("title")
        if title is None:
            title = "" if name == "pageinfo" else words.get(kind, kind.capitalize())
        return admonition(indent, kind, title, content)
    label = named.get("title") or named.get("name") or named.get("header") or ""
    if label and named.get("abbr") and named["abbr"] not in label:
        label = f"{label} ({named['abbr']})"
    if not content.strip():
        return f"**{escape(label)}**" if label else ""
    if not label:
        return content
    if "\n" not in content:
        return f"**{escape(label)}** — {content.strip()}"
    return f"\n\n{indent}**{escape(label)}**\n\n{indented(content, indent)}\n\n"


def _line_indent(match: re.Match) -> str:
    """The whitespace before the match when it starts its line, else ''."""
    start = match.string.rfind("\n", 0, match.start()) + 1
    prefix = match.string[start:match.start()]
    return prefix if not prefix.strip() else ""


def _fenced(keep: list[str], indent: str, content: str, lang: str) -> str:
    lang = re.sub(r"[^\w+#.-]", "", lang)
    fence = "~~~" if "```" in content else "```"
    return _placeholder(keep, f"\n{fence}{lang}\n{content}\n{fence}\n") if not indent else \
        _placeholder(keep, "\n" + indented(content, indent + "    ") + "\n")
