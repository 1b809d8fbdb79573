"""Each search judged once: verdicts stored when a visit closes, daily rollups, and a gaps
report from them that equals the report judged again from raw events."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlalchemy import select

from portal import tracking
from portal.analytics.periods import last_days
from portal.authoring import gaps as gap_work
from portal.extensions import db
from portal.models import GapAction
from portal.models import GapDay
from portal.models import GapDayQuery
from portal.models import SearchEvent
from portal.models import SearchSession
from portal.models import SearchVerdict
from portal.tracking import recorder
from portal.tracking import verdicts
from portal.tracking.events import ArticleOpened
from portal.tracking.events import ArticleRead
from portal.tracking.events import ArticleVoted
from portal.tracking.events import SearchMade
from portal.web.knowledge import current_index

from .conftest import database_urls
from .generated import ZONE
from .generated import generate_month
from .servers import wait_until


def comparable(views: list[gap_work.GapView]) -> list[dict]:
    """Everything the gaps page shows of each gap, as plain data."""
    found = []
    for view in views:
        data = dict(view.gap.as_dict())
        data.update(impact=view.impact, trend=view.trend, direction=view.direction,
                    tickets=view.tickets, actions=[a.id for a in view.actions],
                    closing=dataclasses.asdict(view.closing) if view.closing else None)
        found.append(data)
    return found


def assert_same_report(index, since, until, now) -> list[dict]:
    raw = comparable(gap_work.report(index, since, until, now, show_ignored=True,
                                     from_raw=True))
    rolled = comparable(gap_work.report(index, since, until, now, show_ignored=True))
    assert rolled == raw
    return raw


@pytest.mark.parametrize("database", database_urls())
def test_the_gaps_from_the_rollups_equal_the_gaps_judged_from_raw_events(make_app,
                                                                        articles_dir, database):
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        generate_month(7, now)
        index = current_index()
        db.session.add(GapAction(normalized="роутер мига", kind="best_bet", query="роутер",
                                 article_id="internet/net-interneta",
                                 created_at=now - dt.timedelta(days=9)))
        db.session.commit()
        closed = verdicts.close_visits(now, ZONE)
        still_open = db.session.scalar(select(func.count()).select_from(SearchSession)
                                       .where(SearchSession.judged_at.is_(None)))
        assert closed > 800 and still_open > 10  # most closed, the last half hour's not
        periods = [(now - dt.timedelta(days=d), now) for d in (1, 7, 30, 90)]
        periods += [(now - dt.timedelta(days=20, hours=5), now - dt.timedelta(days=3, hours=7)),
                    (now - dt.timedelta(hours=30), now - dt.timedelta(hours=2)),
                    (now - dt.timedelta(days=12), now + dt.timedelta(hours=1))]
        # The gaps page's periods: whole local days up to now (trends from `gap_day`).
        periods += [(last_days(d, now, ZONE).since, now) for d in (7, 30, 90)]
        for since, until in periods:
            report = assert_same_report(index, since, until, now)
        assert len(report) >= 8 and any(g["closing"] for g in report)
        assert any(g["ticket_ids"] for g in report)
        assert any("pending" in g["outcomes"] for g in assert_same_report(
            index, now - dt.timedelta(days=30), now, now))
        since = now - dt.timedelta(days=30)
        assert [g.as_dict() for g in tracking.gaps(since, now=now)] == \
            [g.as_dict() for g in tracking.gaps(since, now=now, from_raw=True)]
        # Later, the open visits have ended too; both ways agree again.
        later = now + dt.timedelta(hours=1)
        verdicts.close_visits(later, ZONE)
        assert_same_report(index, later - dt.timedelta(days=30), later, later)


def _rollup_rows() -> tuple[list, list, list]:
    return (sorted(tuple(r) for r in db.session.execute(select(GapDay.__table__))),
            sorted(tuple(r) for r in db.session.execute(select(GapDayQuery.__table__))),
            sorted(tuple(r) for r in db.session.execute(select(SearchVerdict.__table__))))


@pytest.mark.parametrize("database", database_urls())
def test_rebuilding_the_rollups_gives_the_same_rows_and_closing_twice_counts_once(
        make_app, articles_dir, database):
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    with app.app_context():
        now = dt.datetime.now(dt.UTC)
        generate_month(3, now, visits=300)
        verdicts.close_visits(now, ZONE)
        first = _rollup_rows()
        assert verdicts.close_visits(now, ZONE) == 0  # nothing left to close
        assert _rollup_rows() == first
        assert verdicts.rebuild(now, ZONE) > 250
        assert _rollup_rows() == first
        assert verdicts.rebuild(now, ZONE) > 250
        assert _rollup_rows() == first
    result = app.test_cli_runner().invoke(args=["report", "rollup"])
    assert result.exit_code == 0, result.output
    assert "visits judged" in result.output
    with app.app_context():
        assert _rollup_rows()[0] == first[0]


def _search(app, visitor: str, query: str, results: int, at: dt.datetime) -> SearchMade:
    event = SearchMade.of(query, results, 3.0, visitor_id=visitor, at=at)
    app.extensions["tracking"].put(event)
    return event


def _gap_of(normalized: str, now: dt.datetime) -> dict | None:
    found = {g.normalized: g.as_dict() for g in tracking.gaps(now - dt.timedelta(days=1),
                                                              now=now)}
    raw = {g.normalized: g.as_dict() for g in tracking.gaps(now - dt.timedelta(days=1),
                                                            now=now, from_raw=True)}
    assert found == raw
    return found.get(normalized)


def _judged_visitors() -> list[str]:
    return list(db.session.scalars(select(SearchSession.visitor_id)
                                   .where(SearchSession.judged_at.is_not(None))))


@pytest.mark.parametrize("database", database_urls())
def test_a_visit_is_judged_once_it_has_been_quiet_for_half_an_hour(make_app, articles_dir,
                                                                    database):
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        _search(app, "ended", "телепорт", 0, now - dt.timedelta(minutes=50))
        _search(app, "going", "телепорт", 0, now - dt.timedelta(minutes=20))
        assert tracking.flush()
        assert verdicts.close_visits(now, ZONE) == 1
        assert _judged_visitors() == ["ended"]
        # The report counts both searches once: one from the rollups, one still open.
        gap = _gap_of("телепорт", now)
        assert gap["failures"] == 2 and gap["kinds"] == {"no_results": 2}
        assert gap["outcomes"] == {"left": 1, "pending": 1}


@pytest.mark.parametrize("database", database_urls())
def test_a_late_reading_time_judges_a_closed_visit_again(make_app, articles_dir, database):
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        first = _search(app, "v1", "модем гудит сильно", 0, now - dt.timedelta(minutes=60))
        _search(app, "v1", "роутер", 3, now - dt.timedelta(minutes=59))
        view = ArticleOpened(visitor_id="v1", article_id="internet/net-interneta",
                             via="direct", at=now - dt.timedelta(minutes=58))
        app.extensions["tracking"].put(view)
        assert tracking.flush()
        verdicts.close_visits(now, ZONE)
        assert _gap_of(first.normalized, now)["outcomes"] == {"left": 1}
        # The page reports, an hour later, that it was read for two minutes.
        app.extensions["tracking"].put(ArticleRead(visitor_id="v1", view_uid=view.uid,
                                                   dwell_ms=120_000))
        assert tracking.flush()
        assert db.session.scalar(select(func.count()).select_from(SearchVerdict)) == 0
        assert _gap_of(first.normalized, now)["outcomes"] == {"found_later": 1}
        verdicts.close_visits(now, ZONE)
        assert db.session.scalar(select(func.count()).select_from(SearchVerdict)) == 2
        assert _gap_of(first.normalized, now)["outcomes"] == {"found_later": 1}


@pytest.mark.parametrize("database", database_urls())
def test_a_search_that_reaches_a_closed_visit_late_judges_it_again(make_app, articles_dir,
                                                                   database):
    # Another server process held the second search back (a busy database): it arrives
    # after the visit was judged, and belongs to it.
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        first = _search(app, "v1", "модем гудит сильно", 0, now - dt.timedelta(minutes=60))
        _search(app, "other", "модем гудит сильно", 0, now - dt.timedelta(minutes=60))
        assert tracking.flush()
        assert verdicts.close_visits(now, ZONE) == 2
        assert _gap_of(first.normalized, now)["failures"] == 2
        app.extensions["tracking"].memory.forget()  # as in the process that held it
        _search(app, "v1", "модем гудит сильно прошивка", 2, now - dt.timedelta(minutes=50))
        assert tracking.flush()
        assert _judged_visitors() == ["other"]
        gap = _gap_of(first.normalized, now)  # the same as judged from raw events
        assert gap["failures"] == 2 and gap["outcomes"] == {"left": 2}


@pytest.mark.parametrize("database", database_urls())
def test_a_vote_after_the_visit_ended_leaves_its_verdicts_as_they_were(make_app,
                                                                       articles_dir, database):
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        search = _search(app, "v1", "пароль роутера", 3, now - dt.timedelta(minutes=90))
        app.extensions["tracking"].put(ArticleOpened(
            visitor_id="v1", article_id="internet/nastrojka-wi-fi", via="search",
            search_uid=search.uid, rank=1, at=now - dt.timedelta(minutes=89)))
        app.extensions["tracking"].put(ArticleVoted(
            visitor_id="v1", article_id="internet/nastrojka-wi-fi", helpful=False,
            at=now - dt.timedelta(minutes=88)))
        assert tracking.flush()
        verdicts.close_visits(now, ZONE)
        assert _gap_of(search.normalized, now)["kinds"] == {"voted_no": 1}
        # An hour later the visitor comes back and changes the answer: a visit of its own.
        app.extensions["tracking"].put(ArticleVoted(
            visitor_id="v1", article_id="internet/nastrojka-wi-fi", helpful=True))
        assert tracking.flush()
        assert db.session.scalar(select(func.count()).select_from(SearchVerdict)) == 1
        assert _gap_of(search.normalized, now)["kinds"] == {"voted_no": 1}


@pytest.mark.parametrize("database", database_urls())
def test_rollups_made_in_another_time_zone_are_not_read_until_rebuilt(make_app, articles_dir,
                                                                      database):
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        _search(app, "v1", "телепорт", 0, now - dt.timedelta(minutes=50))
        assert tracking.flush()
        verdicts.close_visits(now, ZoneInfo("Asia/Vladivostok"))
        assert not verdicts.rollups_usable(ZONE)
        with pytest.raises(verdicts.RollupZoneChanged):
            verdicts.close_visits(now, ZONE)
        assert _gap_of("телепорт", now)["failures"] == 1  # read from raw events meanwhile
        verdicts.rebuild(now, ZONE)
        assert verdicts.rollups_usable(ZONE)
        assert _gap_of("телепорт", now)["failures"] == 1


@pytest.mark.parametrize("database", database_urls())
def test_two_processes_closing_the_same_visits_count_each_search_once(make_app, articles_dir,
                                                                       database):
    app = make_app(articles_dir, database, TRACKING_CLOSE_SECONDS=0)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        generate_month(5, now, visits=400)
        searches = db.session.scalar(select(func.count()).select_from(SearchEvent).join(
            SearchSession).where(SearchSession.last_seen_at < now - dt.timedelta(minutes=32)))
    errors = []

    def close() -> None:
        with app.app_context():
            try:
                verdicts.close_visits(now, ZONE)
            except Exception as error:  # SQLite may refuse the later writer: it tries again
                db.session.rollback()
                errors.append(error)
                verdicts.close_visits(now, ZONE)
            finally:
                db.session.remove()

    workers = [threading.Thread(target=close) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SearchVerdict)) == searches
        assert db.session.scalar(select(func.sum(GapDay.searches))) == searches
        assert_same_report(current_index(), now - dt.timedelta(days=30), now, now)


def test_a_backlog_of_ended_visits_is_judged_in_rounds_while_new_searches_are_stored(
        make_app, articles_dir, monkeypatch):
    # After an upgrade that rebuilds the rollups every visit waits to be judged again: the
    # writer works the backlog off a round at a time, storing what visitors do meanwhile.
    monkeypatch.setattr(recorder, "CLOSE_PER_ROUND", 10)
    rounds: list[int] = []
    real_close = verdicts.close_visits

    def counted(*args, **kwargs):
        rounds.append(real_close(*args, **kwargs))
        return rounds[-1]

    monkeypatch.setattr(verdicts, "close_visits", counted)
    app = make_app(articles_dir, TRACKING_CLOSE_SECONDS=0.2)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        for number in range(35):
            _search(app, f"old-{number}", "телепорт", 0, now - dt.timedelta(hours=2))
        assert tracking.flush()
        _search(app, "now", "роутер", 3, dt.datetime.now(dt.UTC))
        assert tracking.flush()
        assert wait_until(lambda: sum(rounds) == 35, timeout=15)
        assert max(rounds) <= 10
        assert len(_judged_visitors()) == 35
        assert db.session.scalar(select(func.count()).select_from(SearchEvent)
                                 .where(SearchEvent.query == "роутер")) == 1
