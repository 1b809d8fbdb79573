"""The experts' inbox: what asks for an article to be written or fixed, routed to the owner
of the article concerned.

Four kinds of items: article requests filed by agents ("no article exists"), flags on
articles (outdated or wrong), "no" votes of customers (per article, with reasons and
comments), and published articles past their review date. Each is closed with a note;
closing a review marks the article reviewed today (a revision of its file).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TypeVar
from typing import cast

from sqlalchemy import CursorResult
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import ArticleFlag
from ..models import ArticleRequest
from ..models import ArticleRevision
from ..models import StaffUser
from ..models import Ticket
from ..models import Vote
from ..search import ArticleInfo
from ..search import SearchIndex
from . import store

KINDS = ("request", "flag", "votes", "review")
MAX_NOTE = 2000
#: Items of one kind loaded at most (the oldest first: they have waited longest).
LIMIT = 500
#: Comments shown with an article's "no" votes.
COMMENTS = 10


class InboxError(ValueError):
    """An inbox action the rules do not allow; `str()` is a code the view words."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Item:
    """One thing waiting for an expert."""

    kind: str
    key: str
    at: dt.datetime
    article_id: str | None = None
    owner: str | None = None
    topic: str = ""
    text: str | None = None
    by: str | None = None
    ticket: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)
    count: int = 1
    due: dt.date | None = None


def handles(user: StaffUser) -> set[str]:
    """The ways an article's `owner` may name this person: the e-mail address, its part
    before the @ (`a.ivanova`), or the name, in any case."""
    email = (user.email or "").casefold()
    return {value for value in (email, email.partition("@")[0], (user.name or "").casefold())
            if value}


def review_due(info: ArticleInfo) -> dt.date | None:
    """When a published article is due for review (None: it has no review interval)."""
    if not info.review_every or info.status != "published":
        return None
    try:
        reviewed = dt.date.fromisoformat(info.reviewed) if info.reviewed else None
    except ValueError:
        reviewed = None
    if reviewed is None:
        return dt.date.min
    try:
        return reviewed + dt.timedelta(days=info.review_every)
    except OverflowError:  # reviewed in year 9999: not due within the calendar
        return dt.date.max


@dataclass
class _Articles:
    """The catalog and the old ids of one index generation, read once per inbox."""

    catalog: dict[str, ArticleInfo]
    moved: dict[str, str]

    def owner(self, article_id: str | None) -> tuple[str | None, str | None]:
        """The article's current id (renames followed) and its owner."""
        if not article_id:
            return None, None
        current = self.moved.get(article_id, article_id)
        info = self.catalog.get(current)
        return current, info.owner if info else None


#: The rows that are inbox items of their own: article requests and flags.
_Filed = TypeVar("_Filed", ArticleRequest, ArticleFlag)


def _open_items(articles: _Articles, model: type[_Filed], kind: str,
                by: InstrumentedAttribute[StaffUser | None],
                describe: Callable[[_Filed], tuple[str, str | None]]) -> list[Item]:
    """The open requests or flags, each with its ticket's number and who filed it;
    `describe(row)` gives the item's topic and text."""
    rows = list(db.session.scalars(
        select(model).where(model.status == "open").options(selectinload(by))
        .order_by(model.created_at).limit(LIMIT)))
    numbers = _ticket_numbers(rows)
    items = []
    for row in rows:
        article_id, owner = articles.owner(row.article_id)
        person: StaffUser | None = getattr(row, by.key)
        topic, text = describe(row)
        ticket = numbers.get(row.ticket_id) if row.ticket_id is not None else None
        items.append(Item(kind, str(row.id), row.created_at, article_id, owner, topic=topic,
                          text=text, by=person.name if person else None, ticket=ticket))
    return items


def _ticket_numbers(rows: Iterable[ArticleRequest | ArticleFlag]) -> dict[int, str | None]:
    ids = sorted({row.ticket_id for row in rows if row.ticket_id})
    if not ids:
        return {}
    return dict(db.session.execute(select(Ticket.id, Ticket.number)
                                   .where(Ticket.id.in_(ids))).all())


def _votes(articles: _Articles) -> list[Item]:
    """Open "no" votes, one item per article: how many, why, and the latest comments."""
    rows = db.session.execute(
        select(Vote.article_id, Vote.reason, Vote.comment, Vote.updated_at)
        .where(Vote.helpful.is_(False), Vote.closed_at.is_(None))
        .order_by(Vote.updated_at.desc()).limit(LIMIT * 20)).all()
    items: dict[str, Item] = {}
    for article_id, reason, comment, at in rows:
        current, owner = articles.owner(article_id)
        group = current if current is not None else article_id  # owner() gives None for ""
        item = items.get(group)
        if item is None:
            item = items[group] = Item("votes", group, at, current, owner, count=0)
        item.count += 1
        item.at = min(item.at, at)
        key = reason or "none"
        item.reasons[key] = item.reasons.get(key, 0) + 1
        if comment and len(item.comments) < COMMENTS:
            item.comments.append(comment)
    return list(items.values())


def _reviews(articles: _Articles, today: dt.date) -> list[Item]:
    items = []
    for info in articles.catalog.values():
        due = review_due(info)
        if due is not None and due <= today:
            at = dt.datetime.combine(max(due, dt.date(2000, 1, 1)), dt.time(), dt.UTC)
            items.append(Item("review", info.id, at, info.id, info.owner, topic=info.title,
                              due=None if due == dt.date.min else due))
    return items


def items(index: SearchIndex, today: dt.date | None = None) -> list[Item]:
    """Everything open, the longest waiting first."""
    today = today or _now().date()
    articles = _Articles(index.catalog(), index.canonical_ids())
    found = (_open_items(articles, ArticleRequest, "request", ArticleRequest.requested_by,
                         lambda row: (row.topic, row.note))
             + _open_items(articles, ArticleFlag, "flag", ArticleFlag.flagged_by,
                           lambda row: (row.kind, row.comment))
             + _votes(articles) + _reviews(articles, today))
    return sorted(found, key=lambda item: (item.at, item.kind, item.key))


def routed(found: list[Item], me: StaffUser, staff: list[StaffUser]) -> dict[str, list[Item]]:
    """The items split into the expert's own ("mine": articles they own) and those whose
    article has no owner among the staff ("unowned", requests for new articles too)."""
    mine_handles = handles(me)
    known = set().union(*(handles(user) for user in staff)) if staff else set()
    views: dict[str, list[Item]] = {"mine": [], "unowned": [], "all": list(found)}
    for item in found:
        owner = (item.owner or "").casefold()
        if owner and owner in mine_handles:
            views["mine"].append(item)
        elif not owner or owner not in known:
            views["unowned"].append(item)
    return views


# --- closing ---------------------------------------------------------------------------------


def _note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise InboxError("too_long")
    return note or None


def close(kind: str, key: str, by: StaffUser, note: str | None,
          now: dt.datetime | None = None) -> int:
    """Close a request, a flag, or an article's open "no" votes (those cast until now) with
    a note; how many rows were closed (0: nothing open with that key)."""
    now = now or _now()
    note = _note(note)
    if kind in ("request", "flag"):
        ident = int(key) if key.isdigit() and len(key) < 12 else None
        row: ArticleRequest | ArticleFlag | None = None
        if ident is not None:
            row = (db.session.get(ArticleRequest, ident) if kind == "request"
                   else db.session.get(ArticleFlag, ident))
        if row is None or row.status != "open":
            return 0
        row.status, row.closed_at, row.closed_by_id, row.close_note = "closed", now, by.id, note
        db.session.commit()
        return 1
    if kind == "votes":
        # An UPDATE's result is a CursorResult (it has a rowcount); the stubs say Result.
        result = cast("CursorResult[Any]", db.session.execute(
            update(Vote).where(Vote.article_id == key, Vote.helpful.is_(False),
                               Vote.closed_at.is_(None), Vote.updated_at <= now)
            .values(closed_at=now, closed_by_id=by.id, close_note=note)))
        db.session.commit()
        return result.rowcount
    raise InboxError("bad_kind")


def mark_reviewed(index: SearchIndex, article_id: str, by: StaffUser, note: str | None,
                  today: dt.date | None = None,
                  render_seconds: float | None = None) -> ArticleRevision | None:
    """The article was checked: `reviewed` becomes today in its file (a revision), saved
    within the app's limit on rendering."""
    note = _note(note)
    today = today or _now().date()

    def stamp(meta: dict[str, Any]) -> None:
        meta["reviewed"] = today

    return store.change_front_matter(index, article_id, stamp, author=by, source="review",
                                     message=note or "", render_seconds=render_seconds)
