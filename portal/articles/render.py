"""An article's body to sanitized HTML, with its table of contents, sections and plain text.

A fresh `Markdown` instance per body (its extensions keep state), as MkDocs does per page;
whatever the Markdown makes passes an allow-list before anyone sees it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from urllib.parse import unquote
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.extensions.admonition import AdmonitionProcessor
from markdown.extensions.codehilite import CodeHiliteExtension
from markdown.extensions.toc import TocExtension
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import Treeprocessor

from .model import ASSET_PATH
from .model import Heading
from .model import Section
from .model import article_url
from .model import asset_url
from .model import is_valid_id

#: Bump when rendering changes, so that every article is rendered (and indexed) again.
RENDER_VERSION = "7"

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "s", "samp", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_URL_ATTRIBUTES = {"href", "src"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")


def _check_url(_tag: str, attribute: str, value: str) -> str | None:
    """Drop URLs whose scheme is not allowed once the characters browsers ignore are gone.

    Browsers remove tabs and newlines inside URLs, so "jav&#9;ascript:" is "javascript:".
    """
    if attribute not in _URL_ATTRIBUTES:
        return value
    compact = "".join(c for c in value if c > " " and c != "\x7f").lower()
    match = _SCHEME.match(compact)
    if match and match.group(1) not in URL_SCHEMES:
        return None
    return value


def sanitize(html: str) -> str:
    """Keep only allow-listed tags, attributes and URL schemes; drop everything else."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=_check_url,
    )


def article_link(href: str, article_id: str) -> str | None:
    """The page address of a link from article `article_id`'s file to another article's
    file (`../billing/b.md#cause` -> `/kb/billing/b#cause`), as MkDocs resolves links
    between pages; None when `href` is no such link or leaves the knowledge base."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or parts.query or not parts.path.lower().endswith(".md"):
        return None
    path = unquote(parts.path)
    if path.startswith("/"):
        return None
    here = posixpath.dirname(article_id)
    target = posixpath.normpath(posixpath.join(here, path))[: -len(".md")]
    if not is_valid_id(target):
        return None
    return article_url(target) + (f"#{parts.fragment}" if parts.fragment else "")


def image_source(src: str, article_id: str) -> str | None:
    """The site address of an image stored beside article `article_id`'s file
    (`sbros.assets/ab12….png` -> `/media/account/sbros.assets/ab12….png`); None when `src`
    is no such image."""
    parts = urlsplit(src)
    if parts.scheme or parts.netloc or parts.query or parts.fragment:
        return None
    path = unquote(parts.path)
    if not path or path.startswith("/"):
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(article_id), path))
    return asset_url(target) if ASSET_PATH.fullmatch(target) else None


class _ArticleLinks(Treeprocessor):
    """Point links to other article files at those articles' pages, and images stored
    beside the article at the address the site serves them from."""

    def __init__(self, md: markdown.Markdown, article_id: str):
        super().__init__(md)
        self.article_id = article_id

    def run(self, root: Element) -> None:
        for link in root.iter("a"):
            found = article_link(link.get("href", ""), self.article_id)
            if found is not None:
                link.set("href", found)
        for image in root.iter("img"):
            served = image_source(image.get("src", ""), self.article_id)
            if served is not None:
                image.set("src", served)


#: The titles of `!!! kind` boxes written without one, in the article's language (the
#: kinds MkDocs and Material know, with their other names).
ADMONITION_TITLES: dict[str, dict[str, str]] = {
    "ru": {
        "note": "Примечание", "abstract": "Кратко", "summary": "Кратко", "tldr": "Кратко",
        "info": "Информация", "todo": "Сделать", "tip": "Совет", "hint": "Подсказка",
        "important": "Важно", "success": "Готово", "check": "Готово", "done": "Готово",
        "question": "Вопрос", "help": "Вопрос", "faq": "Частый вопрос",
        "warning": "Внимание", "caution": "Осторожно", "attention": "Внимание",
        "failure": "Не получилось", "fail": "Не получилось", "missing": "Не хватает",
        "danger": "Опасно", "error": "Ошибка", "bug": "Известная ошибка",
        "example": "Пример", "quote": "Цитата", "cite": "Цитата", "seealso": "См. также",
    },
    "en": {
        "note": "Note", "abstract": "Summary", "summary": "Summary", "tldr": "TL;DR",
        "info": "Info", "todo": "To do", "tip": "Tip", "hint": "Hint",
        "important": "Important", "success": "Success", "check": "Done", "done": "Done",
        "question": "Question", "help": "Help", "faq": "FAQ",
        "warning": "Warning", "caution": "Caution", "attention": "Attention",
        "failure": "Failure", "fail": "Failed", "missing": "Missing",
        "danger": "Danger", "error": "Error", "bug": "Known bug",
        "example": "Example", "quote": "Quote", "cite": "Quote", "seealso": "See also",
    },
}


def admonition_title(kind: str, lang: str) -> str:
    """The title of a `!!! kind` box without one: in the article's language when the kind
    is known, else the kind's own name capitalized (as Python-Markdown does)."""
    titles = ADMONITION_TITLES.get(lang) or ADMONITION_TITLES["en"]
    return titles.get(kind) or kind.capitalize()


class _ArticleAdmonitions(AdmonitionProcessor):
    """Admonitions whose default titles follow the article's language, not English."""

    def __init__(self, parser, lang: str):
        super().__init__(parser)
        self.lang = lang

    def get_class_and_title(self, match: re.Match[str]) -> tuple[str, str | None]:
        klass, title = super().get_class_and_title(match)
        if match.group(2) is None:
            title = admonition_title(klass.split(" ", 1)[0], self.lang)
        return klass, title


def _markdown(article_id: str, lang: str = "") -> markdown.Markdown:
    md = markdown.Markdown(
        extensions=[
            TocExtension(slugify=slugify_unicode, toc_depth="2-4", permalink=False),
            "tables",
            "fenced_code",
            CodeHiliteExtension(guess_lang=False, css_class="highlight", wrapcode=False),
            "admonition",
            "sane_lists",
            "def_list",
        ],
        output_format="html",
    )
    md.parser.blockprocessors.register(_ArticleAdmonitions(md.parser, lang), "admonition", 105)
    if article_id:
        md.treeprocessors.register(_ArticleLinks(md, article_id), "article_links", 1)
    return md


def render_markdown(body: str, article_id: str = "", lang: str = "") -> tuple[
        str, list[Heading], list[Section], str, str]:
    """Render a body to sanitized HTML; return it with its headings, sections, text and
    prose (the text without tables, which snippets quote). Links to other article files
    are resolved from `article_id`'s folder; boxes without a title get one in `lang`, the
    article's language."""
    md = _markdown(article_id, lang)
    html = sanitize(md.convert(body))
    toc = [Heading(level, anchor, title) for level, anchor, title in _flatten(md.toc_tokens)]
    sections, text, prose = _split_sections(html)
    return html, toc, sections, text, prose


def _flatten(tokens: list[dict]) -> Iterator[tuple[int, str, str]]:
    for token in tokens:
        yield token["level"], token["id"], _strip_tags(token["name"])
        yield from _flatten(token.get("children", []))


def _strip_tags(fragment: str) -> str:
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    return " ".join("".join(collector.parts).split())


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


class _SectionSplitter(HTMLParser):
    """Splits rendered HTML into plain-text sections at each h2/h3 with an id.

    Each section keeps its whole text (searched) and its prose: the same without tables,
    whose cells read as a heap of words ("SMS E-mail Push да да нет") when quoted.
    """

    BLOCKS = {"p", "li", "pre", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "div", "dt", "dd",
              "blockquote", "br", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections: list[_Part] = [_Part("", "", 0)]
        self.heading: list | None = None
        self.tables = 0  # how many tables the parser is inside

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3"):
            anchor = dict(attrs).get("id") or ""
            self.heading = [anchor, [], int(tag[1])]
        if tag in self.BLOCKS:
            self._add("\n")
        if tag == "table":
            self.tables += 1

    def handle_endtag(self, tag):
        if tag == "table" and self.tables:
            self.tables -= 1
        if tag in ("h2", "h3") and self.heading is not None:
            anchor, parts, level = self.heading
            title = " ".join("".join(parts).split())
            self.sections.append(_Part(anchor, title, level))
            self.heading = None
        elif tag in self.BLOCKS:
            self._add("\n")

    def handle_data(self, data):
        if self.heading is not None:
            self.heading[1].append(data)
        else:
            self._add(data)

    def _add(self, data: str) -> None:
        part = self.sections[-1]
        part.text.append(data)
        if not self.tables:
            part.prose.append(data)


@dataclass
class _Part:
    """One section as the splitter collects it."""

    anchor: str
    title: str
    level: int
    text: list[str] = field(default_factory=list)
    prose: list[str] = field(default_factory=list)


def _clean_text(parts: list[str]) -> str:
    lines = ("".join(parts)).splitlines()
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def _split_sections(html: str) -> tuple[list[Section], str, str]:
    splitter = _SectionSplitter()
    splitter.feed(html)
    splitter.close()
    sections, texts, proses = [], [], []
    for part in splitter.sections:
        text, prose = _clean_text(part.text), _clean_text(part.prose)
        texts.append("\n".join(filter(None, [part.title, text])))
        proses.append("\n".join(filter(None, [part.title, prose])))
        if part.anchor:
            sections.append(Section(anchor=part.anchor, title=part.title, level=part.level,
                                    text=text, prose=prose))
    return sections, "\n".join(t for t in texts if t), "\n".join(p for p in proses if p)
