"""Small pieces of the Markdown the importer writes, shared by the Hugo and DocFX steps:
admonitions, escaped labels, image placeholders, `key="value"` arguments, plain words."""

from __future__ import annotations

import re

from portal.text import INVISIBLE


def shortcode_args(raw: str) -> tuple[list[str], dict[str, str]]:
    """The positional and the `key="value"` arguments of a shortcode or a tag (keys in
    lower case)."""
    positional, named = [], {}
    pattern = r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))|"([^"]*)"|'([^']*)'|(\S+)"""
    for match in re.finditer(pattern, raw):
        if match.group(1):
            named[match.group(1).lower()] = next(
                (g for g in match.group(2, 3, 4) if g is not None), "")
        else:
            positional.append(next(g for g in match.group(5, 6, 7) if g is not None))
    return positional, named


def attributes(raw: str) -> dict[str, str]:
    """The `key="value"` attributes of an HTML tag or a DocFX `:::image`."""
    return shortcode_args(raw)[1]


def admonition(indent: str, kind: str, title: str, content: str) -> str:
    """A `!!! kind "title"` block (Python-Markdown's admonition) at `indent`."""
    title = " ".join(title.replace('"', "'").split())
    lines = [f"{indent}!!! {kind} \"{title}\""]
    lines += [f"{indent}    {line}" if line.strip() else "" for line in content.split("\n")]
    return "\n\n" + "\n".join(lines) + "\n\n"


def indented(text: str, indent: str) -> str:
    """Every line that has text, indented; blank lines left empty."""
    return "\n".join(indent + line if line.strip() else "" for line in text.split("\n"))


def escape(text: str) -> str:
    """Text on one line that Markdown shows as it is (a label made bold, an alt text)."""
    text = re.sub(r"([\\`*_\[\]])", r"\\\1", " ".join(text.split()))
    return text.replace("<", "&lt;")


def image_text(alt: str | None, words: dict[str, str]) -> str:
    """What stands for an image whose file is not imported: `*Image: <alt>*`, or nothing."""
    alt = " ".join((alt or "").split())
    return f"*{words['image']}: {escape(alt)}*" if alt else ""


def plain(markdown_text: str) -> str:
    """Inline Markdown reduced to its words (for titles and anchors)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown_text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!])", r"\1", text)
    text = re.sub(r"[*_`]+", "", text)
    text = text.replace("&nbsp;", " ").replace("&amp;", "&")
    return " ".join(INVISIBLE.sub(" ", text).split()).rstrip("#").strip()
