"""What visitors do, as small typed records: searches, articles opened, time read, votes.

Each record is built in the request (cheap: no database) and written later by the
recorder. Personal data is masked here, before a query is ever queued or stored.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from dataclasses import field
from typing import Required
from typing import TypedDict
from typing import Unpack

from ..search import normalized_form

#: How visitors reach an article. "search" views carry the search and the rank clicked.
VIAS = ("direct", "search", "suggest", "related", "ticket_form", "agent_link")
SOURCES = ("page", "api", "ticket_form")
MAX_QUERY = 200
MAX_PAGE = 500
#: A visit ends after this long without any event; the next event starts a new session.
SESSION_GAP = dt.timedelta(minutes=30)
#: The longest time on one page we believe (a tab left open over a weekend is not reading).
MAX_DWELL_MS = 4 * 3600 * 1000

_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+\.[^\s@<>()\[\],;:\"'.]{2,}")
# 13-19 digits in groups of any size separated by single spaces or dashes: payment cards.
_CARD = re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w.])")
# Phone numbers: with a leading + or 8, 10-15 digits with the usual separators; or the
# 3-2-2 local form (123-45-67). Dates (2026-11-22), versions (10.0.19045) and error codes
# (0x80070005, KB5034441) do not match, so the words that explain a problem are kept.
_PHONE = re.compile(
    r"(?<![\w.])(?:\+\d[\d ()-]{8,18}\d|8[ (-]*\d{3}[ )-]*\d{3}[ -]?\d{2}[ -]?\d{2}"
    r"|\(?\d{3}\)?[ -]\d{3}[ -]\d{2}[ -]\d{2}|\d{3}-\d{2}-\d{2})(?![\w.])")


def mask_personal(text: str) -> str:
    """`text` with e-mail addresses, card-like numbers and phone numbers replaced by
    placeholders, so that no search log holds them."""
    text = _EMAIL.sub("[email]", text)
    text = _CARD.sub("[card]", text)
    return _PHONE.sub("[phone]", text)


def new_uid() -> str:
    """A random public id for an event (carried by links, so a click names its search)."""
    return secrets.token_urlsafe(12)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _bounded(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:limit] or None


@dataclass(frozen=True, kw_only=True)
class Event:
    """Who did something and when; `page` and `referrer` open a new session."""

    visitor_id: str
    at: dt.datetime = field(default_factory=now)
    page: str | None = None
    referrer: str | None = None
    #: The visitor id was made for this very request: no session of it can exist yet.
    new_visitor: bool = False


class SearchContext(TypedDict, total=False):
    """The fields of a search record that `SearchMade.of` passes on as they are."""

    visitor_id: Required[str]
    at: dt.datetime
    page: str | None
    referrer: str | None
    new_visitor: bool
    uid: str
    lang: str | None
    category: str | None
    source: str


@dataclass(frozen=True, kw_only=True)
class SearchMade(Event):
    """A search and what it returned."""

    uid: str = field(default_factory=new_uid)
    query: str
    normalized: str
    results: int
    latency_ms: float
    #: No article found had every informative word of the query.
    partial: bool = False
    corrected: str | None = None
    correction: str | None = None
    lang: str | None = None
    category: str | None = None
    source: str = "page"

    @classmethod
    def of(cls, query: str, results: int, latency_ms: float,
           corrected: str | None = None, correction: list[str] | None = None,
           partial: bool = False, **context: Unpack[SearchContext]) -> SearchMade:
        """The record of a search, with personal data masked and the grouping form made."""
        masked = mask_personal(" ".join(query.split()))[:MAX_QUERY]
        masked_fix = _bounded(mask_personal(corrected), MAX_QUERY) if corrected else None
        return cls(query=masked, results=results, partial=partial,
                   normalized=normalized_form(masked_fix or masked)[:MAX_QUERY],
                   latency_ms=round(latency_ms, 3), corrected=masked_fix,
                   correction=",".join(correction or []) or None, **context)


@dataclass(frozen=True, kw_only=True)
class ArticleOpened(Event):
    """An article page was shown; from a results list it names the search and rank."""

    uid: str = field(default_factory=new_uid)
    article_id: str
    via: str = "direct"
    search_uid: str | None = None
    rank: int | None = None
    #: The code of a link an agent sent in a reply (`via` is then "agent_link").
    ticket_link: str | None = None


@dataclass(frozen=True, kw_only=True)
class ArticleRead(Event):
    """How long an opened article stayed in front of the visitor (reported by the page)."""

    view_uid: str
    dwell_ms: int


@dataclass(frozen=True, kw_only=True)
class ArticleVoted(Event):
    """An answer to "Did this help?"."""

    uid: str = field(default_factory=new_uid)
    article_id: str
    helpful: bool
    reason: str | None = None
