"""A DocFX or Hugo page's body as the Markdown our renderer understands.

`convert` runs the steps outside fenced code: comments dropped, Hugo shortcodes, DocFX
syntax, images whose files are not imported, heading anchors; then lists re-indented.
Links are resolved later (`links`), once every file has its id.
"""

from __future__ import annotations

import html
import re

from markdown.extensions.toc import slugify_unicode

from .docfx import docfx
from .fences import split_fences
from .hugo import SHORTCODE
from .hugo import restore
from .hugo import shortcodes
from .links import resolve_links
from .lists import normalise_lists
from .markup import attributes
from .markup import image_text
from .markup import plain

#: The words the converted pages use, in each language.
WORDS = {
    "ru": {"note": "Примечание", "tip": "Совет", "important": "Важно",
           "warning": "Предупреждение", "danger": "Осторожно", "image": "Изображение",
           "video": "Видео"},
    "en": {"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning",
           "danger": "Caution", "image": "Image", "video": "Video"},
}


def convert_body(body: str, lang: str = "en") -> str:
    """The Markdown our renderer understands for a DocFX/Hugo body (links left as they are,
    Hugo `ref` links reduced to their text)."""
    converted, _ = convert(body.replace("\r\n", "\n"), lang)
    return tidy(resolve_links(converted, None))


def convert(body: str, lang: str) -> tuple[str, dict[str, str]]:
    """Everything but link resolution; returns the body and the old heading anchors."""
    words = WORDS.get(lang, WORDS["en"])
    anchors: dict[str, str] = {}
    keep: list[str] = []
    chunks = []
    for is_code, chunk in split_fences(body):
        if is_code:
            chunks.append(chunk)
            continue
        chunk = re.sub(r"<!--.*?-->", "", chunk, flags=re.S)
        chunk = shortcodes(chunk, words, keep)
        chunk = docfx(chunk, words)
        chunk = _images(chunk, words)
        chunk = _headings(chunk, anchors)
        # anchors outside headings: `name` is not kept by the sanitizer, `id` is
        chunk = ANCHOR_EMPTY.sub(lambda m: f'<a id="{html.escape(m.group(1))}"></a>', chunk)
        chunks.append(chunk)
    text = "\n".join(chunks)
    text = restore(text, keep)
    text = normalise_lists(text)
    return text, anchors


MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
HTML_IMAGE = re.compile(r"<img\b[^>]*>", re.I)
IMAGE_LINK = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\]]*\])+)\]"
                        r"\(\s*<?([^)\s>]+\.(?:png|jpe?g|gif|svg|webp|bmp))>?\s*\)", re.I)
EMPTY_LINK = re.compile(r"(?<!!)\[\s*\]\(\s*<?([^)\s>]*)>?\s*\)")


def _is_web(url: str) -> bool:
    return bool(re.match(r"https?://", url, re.I))


def _images(text: str, words: dict[str, str]) -> str:
    """Images whose files are not imported (relative paths) become their alt text."""
    def markdown_image(match: re.Match) -> str:
        return match.group(0) if _is_web(match.group(2)) else image_text(match.group(1), words)

    def html_image(match: re.Match) -> str:
        attrs = attributes(match.group(0)[4:].rstrip("/>"))
        return match.group(0) if _is_web(attrs.get("src", "")) else \
            image_text(attrs.get("alt"), words)

    if "![" in text:
        text = MD_IMAGE.sub(markdown_image, text)
    if "<img" in text.lower():
        text = HTML_IMAGE.sub(html_image, text)
    # a link that only held an image: keep web addresses visible, drop the rest
    text = EMPTY_LINK.sub(lambda m: f"<{m.group(1)}>" if _is_web(m.group(1)) else "", text)
    # a link to an image file that is not imported: keep its text
    return IMAGE_LINK.sub(lambda m: m.group(0) if _is_web(m.group(2)) else m.group(1), text)


HEADING = re.compile(r"^(\s{0,3}#{1,6})(\s+)(.*)$")
ANCHOR_EMPTY = re.compile(r"<a\s+(?:name|id)\s*=\s*[\"']([^\"']*)[\"']\s*/?>\s*</a>", re.I)
ANCHOR_WRAP = re.compile(r"<a\s+(?:name|id)\s*=\s*[\"']([^\"']*)[\"']\s*>(.*?)</a>", re.I)
ATTR_ID = re.compile(r"\s*\{\s*#([\w-]+)[^}]*\}\s*$")


def _headings(text: str, anchors: dict[str, str]) -> str:
    """Strip `<a name="x"></a>` from headings; remember x -> the anchor the page will use."""
    if "#" not in text:
        return text
    lines = text.split("\n")
    for n, line in enumerate(lines):
        match = HEADING.match(line)
        if not match:
            continue
        content = match.group(3)
        found = [m.group(1) for m in ANCHOR_EMPTY.finditer(content)]
        content = ANCHOR_EMPTY.sub("", content)
        found += [m.group(1) for m in ANCHOR_WRAP.finditer(content)]
        content = ANCHOR_WRAP.sub(r"\2", content)
        attr = ATTR_ID.search(content)
        if attr:
            found.append(attr.group(1))
            content = content[:attr.start()]
        if found:
            content = content.strip()
            lines[n] = f"{match.group(1)} {content}"
            for anchor in found:
                anchors.setdefault(anchor, slugify_unicode(plain(content), "-"))
    return "\n".join(lines)


def tidy(text: str) -> str:
    """Trailing spaces dropped (but Markdown's two-space line breaks), at most one blank
    line in a row, one newline at the end."""
    lines = [line if line.endswith("  ") and line.strip() else line.rstrip()
             for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n"


def has_text(body: str) -> bool:
    """Whether a converted body says anything beyond tags, shortcodes and empty blocks."""
    text = re.sub(r"<[^>]*>", " ", body)
    text = SHORTCODE.sub(" ", text)
    text = re.sub(r"^\s*!!! \w+.*$", " ", text, flags=re.M)
    text = re.sub(r"^[ \t]*(?:`{3,}|~{3,}).*$", " ", text, flags=re.M)
    return bool(re.search(r"\w", text))
