"""What the knowledge base is made of: articles, categories, best bets, and the problems a
file can have. Plain records, shared by every other module of the package."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field

LANGUAGES = ("ru", "en")
AUDIENCES = ("public", "internal")
STATUSES = ("published", "draft", "archived")
ID_SEGMENT = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, reported as `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ArticleError(Exception):
    """A file that cannot become an article; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def quoted(value: object) -> str:
    """A value as a problem message quotes it: text in quotes, on one line, cut short."""
    as_repr = isinstance(value, str) or not isinstance(value, (int, float, dt.date))
    return one_line(repr(value) if as_repr else str(value), 60)


def one_line(text: str, limit: int = 200) -> str:
    """One line of at most `limit` characters: a problem is one line of the output."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class Heading:
    level: int
    anchor: str
    title: str


@dataclass(frozen=True)
class Section:
    """The part of an article under one H2/H3 heading."""

    anchor: str
    title: str
    level: int
    text: str
    #: The text without tables: what a snippet may quote.
    prose: str = ""


@dataclass
class Article:
    id: str
    title: str
    body: str
    lang: str
    category: str
    summary: str = ""
    tags: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    audience: str = "public"
    status: str = "published"
    owner: str | None = None
    reviewed: dt.date | None = None
    review_every: int | None = None
    aliases: list[str] = field(default_factory=list)
    translations: list[str] = field(default_factory=list)
    source: str | None = None
    digest: str = ""
    html: str = ""
    toc: list[Heading] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    text: str = ""
    #: The text without tables: what a snippet may quote.
    prose: str = ""

    @property
    def is_public(self) -> bool:
        return is_public(self.audience, self.status)

    @property
    def url(self) -> str:
        return article_url(self.id)


def article_url(article_id: str) -> str:
    """Where an article is read on the site (the public blueprint's route matches)."""
    return f"/kb/{article_id}"


#: An image stored beside an article, by its path below `articles/`:
#: `<article id>.assets/<content hash>.<png|jpg|gif|webp>` (see `portal.authoring.images`).
ASSET_PATH = re.compile(r"(?P<article>[a-z0-9][a-z0-9_-]*(?:/[a-z0-9][a-z0-9_-]*)*)"
                        r"\.assets/(?P<name>[0-9a-f]{16,64}\.(?:png|jpg|gif|webp))")


def asset_url(asset: str) -> str:
    """Where the site serves an article's image (the media blueprint's route matches)."""
    return f"/media/{asset}"


def is_valid_id(value: str) -> bool:
    """True for ids made of lowercase Latin segments (`billing/autopay`)."""
    if not value or len(value) > 200:
        return False
    return all(ID_SEGMENT.fullmatch(part) for part in value.split("/"))


def is_public(audience: str, status: str) -> bool:
    """Shown to and found by anonymous visitors: public and published."""
    return audience == "public" and status == "published"


@dataclass
class Category:
    id: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    order: int = 1000
    digest: str = ""

    def title(self, lang: str) -> str:
        return _pick(self.titles, lang) or self.id.replace("-", " ").capitalize()

    def description(self, lang: str) -> str:
        return _pick(self.descriptions, lang)


def _pick(values: dict[str, str], lang: str) -> str:
    return values.get(lang) or next(iter(values.values()), "")


@dataclass(frozen=True)
class BestBet:
    """Articles an expert pinned to the top of the results of one query."""

    query: str
    articles: tuple[str, ...]
    #: Where the bet starts in its file (0 when it was not read from one).
    line: int = field(default=0, compare=False)
