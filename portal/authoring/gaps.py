"""Working the gaps: the failed-search report as experts act on it.

A gap (failed searches with one normalized form, see `portal.tracking.analysis`) can be
answered by a new article, by an existing article that takes its queries as keywords or
as a best bet, or ignored. Once the answer is live, the gap's failure rate before and
after that moment shows whether it closed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import ArticleRequest
from ..models import ArticleRevision
from ..models import GapAction
from ..models import StaffUser
from ..models import Ticket
from ..search import ArticleInfo
from ..search import SearchIndex
from ..search import informative_words
from ..service_hours import calendar
from ..tracking import rollups
from ..tracking import verdicts
from ..tracking.analysis import Gap
from ..tracking.analysis import group_gaps
from ..tracking.analysis import tickets_after
from ..tracking.analysis import verdicts_since
from . import store
from . import terms

log = logging.getLogger(__name__)

ANSWERS = ("article", "keywords", "best_bet")
KINDS = ANSWERS + ("ignored",)
MAX_KEY = 400
#: A failed search that ended in a ticket weighs this much more in a gap's impact.
TICKET_WEIGHT = 1
#: A trend "rises" when the second half of the period has this much more than the first.
TREND_CHANGE = 1.25


class GapError(ValueError):
    """An action on a gap the rules do not allow; `str()` is a code the view words."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Rate:
    failures: int = 0
    searches: int = 0

    @property
    def value(self) -> float | None:
        return self.failures / self.searches if self.searches else None


@dataclass
class Closing:
    """How a gap did before and after its answer went live (`live_since` None: the article
    written for it is not published yet)."""

    article_id: str
    kind: str
    live_since: dt.datetime | None
    before: Rate
    after: Rate


@dataclass
class GapView:
    """One gap as the expert sees it: the report's numbers, its trend, what was done."""

    gap: Gap
    impact: int
    trend: list[int]
    direction: str  # rising | falling | steady
    tickets: list[tuple[int, str | None]] = field(default_factory=list)
    actions: list[GapAction] = field(default_factory=list)
    closing: Closing | None = None

    @property
    def ignored(self) -> bool:
        return any(a.kind == "ignored" for a in self.actions)

    @property
    def answers(self) -> list[GapAction]:
        return [a for a in self.actions if a.kind in ANSWERS]


def bucket_size(days: int) -> dt.timedelta:
    """Days for periods up to a month, weeks beyond."""
    return dt.timedelta(days=1 if days <= 31 else 7)


def _trend(times: Iterable[dt.datetime], since: dt.datetime, until: dt.datetime,
           size: dt.timedelta) -> list[int]:
    buckets = max(1, -(-(until - since) // size))
    row = [0] * buckets
    for at in times:
        row[min(buckets - 1, int((at - since) // size))] += 1
    return row


Trends = Callable[[list[str], dt.timedelta], dict[str, list[int]]]


def direction(trend: list[int]) -> str:
    """rising, falling or steady: the second half of the period against the first."""
    half = len(trend) // 2
    first, second = sum(trend[:half]), sum(trend[len(trend) - half:])
    if second > first * TREND_CHANGE and second - first >= 2:
        return "rising"
    if first > second * TREND_CHANGE and first - second >= 2:
        return "falling"
    return "steady"


def _zone() -> dt.tzinfo:
    return calendar().zone


def _from_raw(since: dt.datetime, until: dt.datetime, now: dt.datetime
              ) -> tuple[list[Gap], Trends]:
    """The gaps from the raw events (every visit judged again: the reference the rollups
    are tested against, and the way when the rollups' time zone is not the team's)."""
    verdicts = verdicts_since(since, until, now)

    def trends(forms: list[str], size: dt.timedelta) -> dict[str, list[int]]:
        wanted = set(forms)
        found: dict[str, list[dt.datetime]] = {n: [] for n in forms}
        for verdict in verdicts:
            if verdict.failure is not None and not verdict.pending \
                    and verdict.search.normalized in wanted:
                found[verdict.search.normalized].append(verdict.search.at)
        return {n: _trend(times, since, until, size) for n, times in found.items()}

    return group_gaps(verdicts, tickets_after(verdicts)), trends


def _from_rollups(since: dt.datetime, until: dt.datetime, now: dt.datetime
                  ) -> tuple[list[Gap], Trends]:
    found = rollups.gaps(since, until, now, _zone())
    return found.gaps, lambda forms, size: rollups.failure_trends(forms, since, until, size,
                                                                  found)


def use_rollups(from_raw: bool = False) -> bool:
    """Whether the report reads the rollups (their days are the team's) or raw events."""
    if from_raw:
        return False
    if verdicts.rollups_usable(_zone()):
        return True
    log.warning("gaps read from raw events: the rollups are in another time zone "
                "(run 'portal report rollup')")
    return False


def report(index: SearchIndex, since: dt.datetime, until: dt.datetime | None = None,
           now: dt.datetime | None = None, show_ignored: bool = False,
           trends_for: Callable[[list[GapView]], list[GapView]] | None = None,
           from_raw: bool = False) -> list[GapView]:
    """The gaps of [since, until), the highest impact first: failures, plus one more for
    each that ended in a ticket; with their tickets, actions and closing rates, and the
    trends of the gaps `trends_for` picks from the sorted list (all by default). From the
    rollups, or with `from_raw` by judging every visit again (the same figures, slower)."""
    now = now or _now()
    until = until or now
    rolled = use_rollups(from_raw)
    found, trends = (_from_rollups if rolled else _from_raw)(since, until, now)
    actions = actions_by_gap([gap.normalized for gap in found])
    numbers = _ticket_numbers([t for gap in found for t in gap.ticket_ids])
    views = []
    for gap in found:
        done = actions.get(gap.normalized, [])
        view = GapView(gap=gap, impact=gap.failures + TICKET_WEIGHT * gap.outcomes.get(
            "ticket", 0), trend=[], direction="steady",
            tickets=[(t, numbers[t]) for t in gap.ticket_ids if t in numbers], actions=done)
        if view.ignored and not show_ignored:
            continue
        answer = view.answers[-1] if view.answers else None
        if answer is not None:
            view.closing = closing(index, gap.normalized, answer, until - since, now,
                                   from_raw=not rolled)
        views.append(view)
    views.sort(key=_rank)
    chosen = trends_for(views) if trends_for is not None else views
    size = bucket_size((until - since).days or 1)
    counted = trends([view.gap.normalized for view in chosen], size)
    for view in chosen:
        view.trend = counted[view.gap.normalized]
        view.direction = direction(view.trend)
    return views


def without_words(views: list[GapView]) -> tuple[list[GapView], list[GapView]]:
    """The gaps that ask about something, and apart those whose searches hold no word to
    search for (signs, pasted markup, words of asking alone): no article can answer those."""
    asking: list[GapView] = []
    junk: list[GapView] = []
    for view in views:
        typed = view.gap.samples or [view.gap.label]
        (asking if any(informative_words(q) for q in typed) else junk).append(view)
    return asking, junk


def _rank(view: GapView) -> tuple[int, int, float, str]:
    """The report's order: the highest impact, then the most failures, then the latest."""
    last_seen = view.gap.last_seen
    assert last_seen is not None  # group_gaps sets it on every gap it makes
    return -view.impact, -view.gap.failures, -last_seen.timestamp(), view.gap.normalized


def _ticket_numbers(ids: list[int]) -> dict[int, str | None]:
    if not ids:
        return {}
    return dict(db.session.execute(select(Ticket.id, Ticket.number)
                                   .where(Ticket.id.in_(sorted(set(ids))[:1000]))).all())


def actions_by_gap(keys: list[str] | None = None) -> dict[str, list[GapAction]]:
    """The actions in force (not taken back) on each gap, oldest first."""
    query = select(GapAction).where(GapAction.undone_at.is_(None)).order_by(GapAction.id)
    if keys is not None:
        if not keys:
            return {}
        query = query.where(GapAction.normalized.in_(keys))
    found: dict[str, list[GapAction]] = {}
    for action in db.session.scalars(query):
        found.setdefault(action.normalized, []).append(action)
    return found


# --- before and after ------------------------------------------------------------------------


def live_since(index: SearchIndex, action: GapAction) -> dt.datetime | None:
    """When the answer went live: the action itself for an article published then, else the
    first publication after it (None while it is not published)."""
    article_id = action.article_id
    if article_id is not None:
        article_id = index.canonical_ids().get(article_id, article_id)
    rows = db.session.execute(
        select(ArticleRevision.created_at, ArticleRevision.status)
        .where(ArticleRevision.article_id == article_id, ArticleRevision.state == "applied")
        .order_by(ArticleRevision.number)).all()
    earlier = [status for at, status in rows if at <= action.created_at]
    info = index.catalog().get(article_id) if article_id is not None else None
    if (earlier[-1] == "published") if earlier else (not rows and info is not None
                                                     and info.status == "published"):
        return action.created_at
    return next((at for at, status in rows
                 if at > action.created_at and status == "published"), None)


def closing(index: SearchIndex, normalized: str, action: GapAction, window: dt.timedelta,
            now: dt.datetime | None = None, from_raw: bool = False) -> Closing:
    """The gap's failure rate in the `window` before its answer went live, and since."""
    now = now or _now()
    live = live_since(index, action)
    pivot = live or now
    before, after = Rate(), Rate()
    if use_rollups(from_raw):
        (before.failures, before.searches), (after.failures, after.searches) = \
            rollups.rates(normalized, pivot - window, pivot, now)
    else:
        for verdict in verdicts_since(pivot - window, now, now, terms=normalized.split()):
            if verdict.pending or verdict.search.normalized != normalized:
                continue
            rate = before if verdict.search.at < pivot else after
            rate.searches += 1
            rate.failures += verdict.failure is not None
    return Closing(article_id=action.article_id or "", kind=action.kind, live_since=live,
                   before=before, after=after)


def worked(index: SearchIndex, since: dt.datetime, window: dt.timedelta,
           now: dt.datetime | None = None,
           from_raw: bool = False) -> list[tuple[GapAction, Closing]]:
    """Gaps answered since `since`, newest first, each with its before-and-after rates."""
    now = now or _now()
    actions = db.session.scalars(
        select(GapAction).where(GapAction.undone_at.is_(None), GapAction.kind.in_(ANSWERS),
                                GapAction.created_at >= since)
        .order_by(GapAction.created_at.desc()).limit(100))
    return [(a, closing(index, a.normalized, a, window, now, from_raw)) for a in actions]


# --- actions --------------------------------------------------------------------------------


def _key(normalized: str) -> str:
    normalized = " ".join((normalized or "").split())
    if not normalized or len(normalized) > MAX_KEY:
        raise GapError("bad_gap")
    return normalized


def _record(normalized: str, kind: str, query: str, staff: StaffUser | None,
            article_id: str | None = None, note: str | None = None) -> GapAction:
    action = GapAction(normalized=normalized, kind=kind, article_id=article_id,
                       query=" ".join((query or normalized).split())[:MAX_KEY],
                       note=(note or "").strip()[:2000] or None,
                       staff_id=staff.id if staff else None, created_at=_now())
    db.session.add(action)
    return action


def note_new_article(article_id: str, gap: str | None, request_id: str | None,
                     staff: StaffUser | None) -> None:
    """A new article was saved from a gap's or an article request's "write an article"."""
    if gap:
        with contextlib.suppress(GapError):
            _record(_key(gap), "article", gap, staff, article_id)
    if request_id and request_id.isdigit():
        found = db.session.get(ArticleRequest, int(request_id))
        if found is not None and found.article_id is None:
            found.article_id = article_id
    db.session.commit()


def _answering(index: SearchIndex, article_id: str) -> ArticleInfo:
    info = index.catalog().get(index.canonical_ids().get(article_id, article_id))
    if info is None or not info.is_public:
        raise GapError("not_public")
    return info


def answer_with_keywords(index: SearchIndex, normalized: str, queries: list[str],
                         article_id: str, staff: StaffUser | None,
                         render_seconds: float | None = None) -> GapAction:
    """An existing article answers the gap: its queries become the article's keywords
    (saved within the app's limit on rendering)."""
    normalized = _key(normalized)
    info = _answering(index, article_id)
    queries = [" ".join(q.split())[:200] for q in queries if q and q.strip()][:20]
    if not queries:
        raise GapError("no_queries")

    def add(meta: dict[str, Any]) -> None:
        found = meta.get("keywords")
        keywords: list[Any] = found if isinstance(found, list) else []
        known = {str(k).casefold() for k in keywords}
        meta["keywords"] = keywords + [q for q in queries if q.casefold() not in known]

    store.change_front_matter(index, info.id, add, author=staff, source="gap",
                              message=queries[0], render_seconds=render_seconds)
    action = _record(normalized, "keywords", queries[0], staff, info.id)
    db.session.commit()
    return action


def answer_with_best_bet(index: SearchIndex, normalized: str, query: str, article_id: str,
                         staff: StaffUser | None) -> GapAction:
    """An existing article answers the gap: searches for it show the article first."""
    normalized = _key(normalized)
    info = _answering(index, article_id)
    terms.add_best_bet(index.articles_dir, index, query, [info.id])
    action = _record(normalized, "best_bet", query, staff, info.id)
    db.session.commit()
    return action


def ignore(normalized: str, query: str, note: str | None,
           staff: StaffUser | None) -> GapAction:
    """Not worth an article (a typo storm, a product we do not support): hide the gap."""
    action = _record(_key(normalized), "ignored", query, staff, note=note)
    db.session.commit()
    return action


def unignore(normalized: str, staff: StaffUser | None) -> int:
    """Show an ignored gap again; how many ignore actions were taken back."""
    taken = 0
    for action in db.session.scalars(select(GapAction).where(
            GapAction.normalized == _key(normalized), GapAction.kind == "ignored",
            GapAction.undone_at.is_(None))):
        action.undone_at = _now()
        taken += 1
    db.session.commit()
    return taken
