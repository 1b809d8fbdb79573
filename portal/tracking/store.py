"""How each event becomes rows: sessions, searches (typing folded in), article events.

The writer remembers, per process, each visitor's open session and each session's last
search, so the usual event costs no SELECT: only what it inserts. A visit seen by another
process is found in the database, as before.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from dataclasses import field
from functools import singledispatch

from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from .. import popularity
from ..extensions import db
from ..models import ArticleEvent
from ..models import SearchEvent
from ..models import SearchSession
from ..models import TicketEvent
from ..models import TicketLink
from . import verdicts
from .events import MAX_PAGE
from .events import SESSION_GAP
from .events import ArticleOpened
from .events import ArticleRead
from .events import ArticleVoted
from .events import Event
from .events import SearchMade

#: A query that extends (or trims) the previous one this soon is the same search being typed.
TYPING_WINDOW = dt.timedelta(seconds=5)
#: Visitors remembered per process (the oldest are forgotten first).
MEMORY_LIMIT = 50_000
#: For the writer's UPDATEs: by default SQLAlchemy then looks through every object the
#: session holds (the writer keeps up to `MEMORY_LIMIT` searches) to apply the change in
#: memory too, a cost that grows with the visitors remembered; nothing the writer keeps
#: reads the columns these statements change.
_UNSYNCED = {"synchronize_session": False}


@dataclass
class Memory:
    """What the writer knows without asking the database; lost on restart, which only
    costs a query. `seen` collects each session's latest event time until the commit."""

    sessions: dict[str, tuple[int, dt.datetime]] = field(default_factory=dict)
    #: Each session's latest search while a next one could still continue typing it
    #: (`TYPING_WINDOW`), oldest first: a search object is the largest thing kept here.
    last_search: dict[int, SearchEvent] = field(default_factory=dict)
    opened: set[int] = field(default_factory=set)
    seen: dict[int, dt.datetime] = field(default_factory=dict)
    #: Searches added in this batch, by uid (a click in the same batch needs their id).
    new_searches: dict[str, SearchEvent] = field(default_factory=dict)

    def after_commit(self, newest: dt.datetime | None = None) -> None:
        """Forget what the next batch cannot need; `newest` is this batch's latest event."""
        self.seen.clear()
        self.new_searches.clear()
        if newest is not None:
            done = newest - 2 * TYPING_WINDOW
            while self.last_search:
                oldest = next(iter(self.last_search))
                if self.last_search[oldest].at >= done:
                    break
                del self.last_search[oldest]
        if len(self.sessions) > MEMORY_LIMIT:
            for visitor in list(self.sessions)[:len(self.sessions) - MEMORY_LIMIT // 2]:
                session_id, _at = self.sessions.pop(visitor)
                self.last_search.pop(session_id, None)
        if len(self.opened) > MEMORY_LIMIT:
            self.opened.clear()

    def forget(self) -> None:
        """After a rollback nothing remembered may point at rows that were not stored."""
        self.sessions.clear()
        self.last_search.clear()
        self.opened.clear()
        self.seen.clear()
        self.new_searches.clear()


def current_session(visitor_id: str, at: dt.datetime) -> SearchSession | None:
    """The visitor's open session at `at`, without starting one."""
    return db.session.scalar(
        select(SearchSession)
        .where(SearchSession.visitor_id == visitor_id,
               SearchSession.last_seen_at >= at - SESSION_GAP)
        .order_by(SearchSession.last_seen_at.desc())
        .limit(1))


def session_for(memory: Memory, event: Event) -> int:
    """The id of the visitor's session at the event: the open one, or a new one after 30
    quiet minutes. (Plain rows, not ORM objects: this runs for most events.)"""
    known = memory.sessions.get(event.visitor_id)
    if known is None or event.at - known[1] > SESSION_GAP:
        table = SearchSession.__table__
        found = None if event.new_visitor else db.session.execute(
            select(table.c.id, table.c.last_seen_at)
            .where(table.c.visitor_id == event.visitor_id,
                   table.c.last_seen_at >= event.at - SESSION_GAP)
            .order_by(table.c.last_seen_at.desc()).limit(1)).first()
        if found is not None:
            known = (found.id, found.last_seen_at)
        else:
            new_id = db.session.execute(
                insert(table).values(visitor_id=event.visitor_id, started_at=event.at,
                                     last_seen_at=event.at,
                                     entry_page=(event.page or "")[:MAX_PAGE] or None,
                                     referrer=(event.referrer or "")[:MAX_PAGE] or None)
                .returning(table.c.id)).scalar_one()
            known = (new_id, event.at)
    session_id = known[0]
    memory.sessions[event.visitor_id] = (session_id, max(known[1], event.at))
    memory.seen[session_id] = max(memory.seen.get(session_id, event.at), event.at)
    return session_id


def touch_sessions(memory: Memory) -> None:
    """Move each session's last activity forward: one statement for the batch, run once
    per session (a statement built per session cost more than the rest of the batch); a
    visit already judged that an event reached late is opened again."""
    if not memory.seen:
        return
    table = SearchSession.__table__
    db.session.execute(
        update(table)
        .where(table.c.id == bindparam("session"), table.c.last_seen_at < bindparam("seen"))
        .values(last_seen_at=bindparam("seen")),
        [{"session": session_id, "seen": at} for session_id, at in memory.seen.items()])
    # Judged before this batch moved it (the row is ours until the commit): judge again.
    # A later time than ours means another process moved it, and reopens it itself.
    judged = db.session.execute(
        select(table.c.id, table.c.last_seen_at)
        .where(table.c.id.in_(list(memory.seen)), table.c.judged_at.is_not(None))).all()
    verdicts.reopen([session_id for session_id, last in judged
                     if last <= memory.seen[session_id]])


@singledispatch
def store(event: Event, memory: Memory) -> None:
    """Add the rows for one event to the database session (the caller commits)."""
    raise TypeError(f"no storage for {type(event).__name__}")


def _is_typing(previous: SearchEvent, event: SearchMade, memory: Memory) -> bool:
    """True when `event` continues typing `previous`: soon after, one query a prefix of the
    other, nothing opened from the earlier results."""
    if event.at - previous.at > TYPING_WINDOW or event.source != previous.source:
        return False
    before, after = previous.query.casefold(), event.query.casefold()
    if not (after.startswith(before) or before.startswith(after)):
        return False
    if previous.id is None:
        return True  # still in this batch: nothing can have been opened from it elsewhere
    if previous.id in memory.opened:
        return False
    return not db.session.scalar(select(exists().where(ArticleEvent.search_id == previous.id)))


@store.register
def _(event: SearchMade, memory: Memory) -> None:
    session_id = session_for(memory, event)
    previous = memory.last_search.get(session_id)
    fields = dict(uid=event.uid, at=event.at, query=event.query, normalized=event.normalized,
                  corrected=event.corrected, correction=event.correction,
                  results=event.results, partial=event.partial,
                  latency_ms=event.latency_ms, lang=event.lang,
                  category=event.category, source=event.source)
    if previous is not None and _is_typing(previous, event, memory):
        for name, value in fields.items():
            setattr(previous, name, value)
        previous.replaced += 1
        memory.new_searches[event.uid] = previous
        memory.last_search[session_id] = memory.last_search.pop(session_id)  # now the latest
        return
    search = SearchEvent(session_id=session_id, replaced=0, **fields)
    db.session.add(search)
    memory.last_search.pop(session_id, None)  # kept oldest first
    memory.last_search[session_id] = search
    memory.new_searches[event.uid] = search


def _search_of(event: ArticleOpened, memory: Memory) -> tuple[int, int] | None:
    """The id and session of the search a result click names, when that search is this
    visitor's."""
    assert event.search_uid is not None  # asked only for clicks that name a search
    search = memory.new_searches.get(event.search_uid)
    if search is not None and search.id is None:
        db.session.flush()  # clicked within the same batch: give the search its id
    found = db.session.execute(
        select(SearchEvent.id, SearchEvent.session_id).join(SearchSession)
        .where(SearchEvent.uid == event.search_uid,
               SearchSession.visitor_id == event.visitor_id)).first()
    return None if found is None else (found[0], found[1])


@store.register
def _(event: ArticleOpened, memory: Memory) -> None:
    session_id = session_for(memory, event)
    search = _search_of(event, memory) if event.search_uid else None
    search_id = None if search is None else search[0]
    if search is not None:
        memory.opened.add(search[0])
        if search[1] != session_id:
            # A result opened after its visit ended: that visit's search was clicked after
            # all (the analytics count it), so a visit judged already is judged again.
            verdicts.reopen([search[1]])
    db.session.add(ArticleEvent(
        uid=event.uid, session_id=session_id, at=event.at, kind="view",
        article_id=event.article_id,
        via=event.via if search_id or event.via != "search" else "direct",
        search_id=search_id, rank=event.rank if search_id else None))
    popularity.count_view(event.article_id, event.at.date())
    if event.ticket_link:
        _link_opened(event)


def _link_opened(event: ArticleOpened) -> None:
    """A customer opened an article an agent linked in a reply: count it on the link, and
    put the first opening into the ticket's history."""
    link = db.session.scalar(select(TicketLink).where(
        TicketLink.code == event.ticket_link, TicketLink.article_id == event.article_id))
    if link is None:
        return
    db.session.execute(update(TicketLink).where(TicketLink.id == link.id).values(
        opens=TicketLink.opens + 1, last_opened_at=event.at), execution_options=_UNSYNCED)
    if link.first_opened_at is None:
        link.first_opened_at = event.at
        db.session.add(TicketEvent(ticket_id=link.ticket_id, at=event.at, actor="customer",
                                   kind="link_opened",
                                   data=json.dumps({"article": link.article_id})))


@store.register
def _(event: ArticleRead, memory: Memory) -> None:
    # Pages report the total time so far each time they are hidden: keep the largest.
    db.session.flush()  # the view may be in this very batch
    own_sessions = select(SearchSession.id).where(SearchSession.visitor_id == event.visitor_id)
    changed = db.session.scalars(
        update(ArticleEvent)
        .where(ArticleEvent.uid == event.view_uid, ArticleEvent.kind == "view",
               ArticleEvent.session_id.in_(own_sessions),
               (ArticleEvent.dwell_ms.is_(None)) | (ArticleEvent.dwell_ms < event.dwell_ms))
        .values(dwell_ms=event.dwell_ms).returning(ArticleEvent.session_id),
        execution_options=_UNSYNCED).all()
    # Time read decides whether a later search "found something": a visit judged already
    # is judged again.
    verdicts.reopen(changed)
    known = memory.sessions.get(event.visitor_id)
    if known is not None and event.at - known[1] <= SESSION_GAP:
        session_for(memory, event)  # reading keeps the visit open


@store.register
def _(event: ArticleVoted, memory: Memory) -> None:
    session_id = session_for(memory, event)
    db.session.add(ArticleEvent(
        uid=event.uid, session_id=session_id, at=event.at, kind="vote",
        article_id=event.article_id, via="direct", helpful=event.helpful,
        reason=event.reason))
