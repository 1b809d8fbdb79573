"""The analytics page read from the daily rollups: every figure equals the one counted from
raw events on the same month, and what happens after the rollup shows up at once."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlalchemy import select

from portal import analytics
from portal import feedback
from portal import tracking
from portal.extensions import db
from portal.models import AnalyticsDay
from portal.models import AnalyticsSessions
from portal.models import AnalyticsVisitDay
from portal.models import SearchEvent
from portal.models import SearchSession
from portal.models import Vote
from portal.models import VoteDay
from portal.tracking import verdicts
from portal.tracking.events import ArticleOpened
from portal.tracking.events import SearchMade

from .conftest import database_urls
from .generated import ARTICLES
from .generated import OLD_ID
from .generated import ZONE
from .generated import generate_month
from .generated import generate_support
from .test_analytics import expert
from .test_analytics import summary

ALIASES = {OLD_ID: ARTICLES[0]}
OPENED = "searches had a result opened"
WINDOWS = (dt.timedelta(hours=24), dt.timedelta(hours=72))


def periods(now: dt.datetime) -> list[analytics.Period]:
    """Periods with different edges: the last 30 and 90 days (to now), today, days in the
    middle of the month, one day, a month ending yesterday, and 120 days by week."""
    today = now.astimezone(ZONE).date()
    day = dt.timedelta(days=1)
    return [analytics.last_days(30, now, ZONE), analytics.last_days(90, now, ZONE),
            analytics.last_days(1, now, ZONE),
            analytics.between(today - 20 * day, today - 6 * day, now, ZONE),
            analytics.between(today - 13 * day, today - 13 * day, now, ZONE),
            analytics.between(today - 31 * day, today - day, now, ZONE),
            analytics.last_days(120, now, ZONE)]


def both_ways(period: analytics.Period, now: dt.datetime,
              window: dt.timedelta = WINDOWS[0]) -> dict:
    """The report from the rollups, after checking it equals the one from raw events."""
    raw = dataclasses.asdict(analytics.build_report(period, ALIASES, window, now,
                                                    from_raw=True))
    rolled = dataclasses.asdict(analytics.build_report(period, ALIASES, window, now))
    assert rolled == raw, period
    return rolled


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


@pytest.mark.parametrize("database", database_urls())
def test_every_figure_from_the_rollups_equals_the_figure_counted_from_raw_events(
        make_app, articles_dir, database):
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        generate_month(7, now)
        generate_support(8, now)
        verdicts.close_visits(now, ZONE)
        # The awkward cases are there: visits still open, visits that read on both sides
        # of a midnight or searched on two days, votes counted per day.
        assert count(SearchSession, SearchSession.judged_at.is_(None)) > 10
        table = AnalyticsVisitDay.__table__
        assert count(table, table.c.later_read.is_(True))
        assert count(AnalyticsSessions, AnalyticsSessions.first_day
                     != AnalyticsSessions.last_day)
        assert count(Vote, Vote.counted_day.is_not(None)) > 200
        for period in periods(now):
            for window in WINDOWS:
                both_ways(period, now, window)
        month = both_ways(analytics.last_days(30, now, ZONE), now)
        totals = month["totals"]
        assert totals["searches"] > 1000 and 0 < totals["zero_results"] < totals["clicked"]
        assert 0 < totals["deflected"] < totals["read_sessions"] < totals["help_sessions"]
        assert month["pending_sessions"] > 0 and totals["votes"] > 200
        assert ARTICLES[0] in {a["article_id"] for a in month["articles"]}
        assert OLD_ID not in {a["article_id"] for a in month["articles"]}
        # Visitors change their answers: the votes leave their old day for today's.
        waiting = count(Vote, Vote.counted_day.is_(None))
        changed = db.session.scalars(select(Vote).where(Vote.counted_day.is_not(None))
                                     .order_by(Vote.id).limit(20)).all()
        for vote in changed:
            feedback.record_vote(vote.visitor_id, vote.article_id, not vote.helpful)
        assert count(Vote, Vote.counted_day.is_(None)) == waiting + 20
        later = dt.datetime.now(dt.UTC)
        both_ways(analytics.last_days(30, later, ZONE), later)
        # An hour later the open visits have ended and the changed votes are counted.
        later = now + dt.timedelta(hours=1)
        verdicts.close_visits(later, ZONE)
        assert count(SearchSession, SearchSession.judged_at.is_(None)) == 0
        assert count(Vote, Vote.counted_day.is_(None)) == 0
        for period in periods(later):
            both_ways(period, later)


def _rows() -> list[list[tuple]]:
    return [sorted(tuple(r) for r in db.session.execute(select(model.__table__)))
            for model in (AnalyticsDay, AnalyticsSessions, AnalyticsVisitDay, VoteDay)]


@pytest.mark.parametrize("database", database_urls())
def test_rebuilding_gives_the_rollups_that_closing_visits_made(make_app, articles_dir,
                                                                database):
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        generate_month(3, now, visits=300)
        generate_support(4, now)
        verdicts.close_visits(now, ZONE)
        closed = _rows()
        assert all(closed)
        verdicts.rebuild(now, ZONE)
        assert _rows() == closed


def _put(app, event) -> None:
    app.extensions["tracking"].put(event)
    assert tracking.flush()


@pytest.mark.parametrize("database", database_urls())
def test_what_happens_after_the_rollup_is_on_the_page_at_once(make_app, articles_dir,
                                                               database):
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        search = SearchMade.of("роутер мигает", 3, 3.0, visitor_id="v1",
                               at=now - dt.timedelta(minutes=50))
        _put(app, search)
        _put(app, SearchMade.of("телепорт", 0, 3.0, visitor_id="v2",
                                at=now - dt.timedelta(minutes=50)))
        assert verdicts.close_visits(now, ZONE) == 2
        assert db.session.scalar(select(func.sum(AnalyticsDay.searches))) == 2
    client = expert(app)
    assert summary(client, days=7)["zero-result-rate"] == ("50.0%", "1 of 2 searches found nothing")
    assert summary(client, days=7)["click-through"] == ("0.0%", f"0 of 2 {OPENED}")
    # A new search, not rolled up yet, counts at once.
    with app.app_context():
        _put(app, SearchMade.of("модем гудит", 0, 3.0, visitor_id="v3"))
    assert summary(client, days=7)["zero-result-rate"] == ("66.7%", "2 of 3 searches found nothing")
    # The first visitor opens a result of that closed visit's search (from a tab left
    # open): the search was clicked after all.
    with app.app_context():
        _put(app, ArticleOpened(visitor_id="v1", article_id="internet/net-interneta",
                                via="search", search_uid=search.uid, rank=1))
        assert db.session.scalar(select(SearchSession.judged_at).join(SearchEvent).where(
            SearchEvent.uid == search.uid)) is None
    assert summary(client, days=7)["click-through"] == ("33.3%", f"1 of 3 {OPENED}")
    with app.app_context():
        verdicts.close_visits(now + dt.timedelta(hours=1), ZONE)
    assert summary(client, days=7)["click-through"] == ("33.3%", f"1 of 3 {OPENED}")


@pytest.mark.parametrize("database", database_urls())
def test_rollups_of_another_time_zone_are_not_read(make_app, articles_dir, database):
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        generate_month(5, now, visits=200)
        verdicts.close_visits(now, ZoneInfo("Asia/Vladivostok"))
        assert count(AnalyticsDay) and not verdicts.rollups_usable(ZONE)
        # Days of Vladivostok are not Moscow's: the report counts from raw events.
        both_ways(analytics.last_days(30, now, ZONE), now)
