"""Search tracking: what is recorded when a visitor searches, opens, reads and votes."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import create_app
from portal import tracking
from portal.extensions import db
from portal.models import ArticleEvent
from portal.models import ArticleViewDay
from portal.models import SearchEvent
from portal.models import SearchSession

from .conftest import database_urls
from .helpers import result_links

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


def rows(app, model, *where):
    with app.app_context():
        assert tracking.flush(), "the tracking writer did not catch up"
        return list(db.session.scalars(select(model).where(*where).order_by(model.id)))


@pytest.mark.parametrize("typed, kept, hidden", [
    ("не приходит письмо на ivan.petrov@mail.ru", "не приходит письмо на [email]", "ivan"),
    ("звонил +7 (912) 345-67-89 никто не ответил", "звонил [phone] никто", "345"),
    ("8 912 345 67 89 не работает", "[phone] не работает", "912"),
    ("списали деньги с карты 4276 3800 1234 5678", "с карты [card]", "5678"),
    ("карта 4276380012345678 заблокирована", "карта [card] заблокирована", "4276"),
    ("позвоните 345-67-89", "позвоните [phone]", "67-89"),
])
def test_personal_data_is_masked_in_queries(typed, kept, hidden):
    masked = tracking.mask_personal(typed)
    assert kept in masked
    assert hidden not in masked


@pytest.mark.parametrize("query", [
    "ошибка 651", "ошибка 0x80070005", "обновление KB5034441", "Windows 10.0.19045.3803",
    "с 2026-11-22 не работает", "роутер 192.168.1.1", "тариф 500 Мбит",
])
def test_error_codes_dates_and_versions_are_kept(query):
    assert tracking.mask_personal(query) == query


@pytest.mark.parametrize("database", database_urls())
def test_a_search_is_recorded_masked_with_its_results_and_latency(make_app, articles_dir,
                                                                  database):
    app = make_app(articles_dir, database)
    client = app.test_client()
    client.get("/search", query_string={"q": "Ошибка 651 пишу с petrov@example.com"})
    [search] = rows(app, SearchEvent)
    assert search.query == "Ошибка 651 пишу с [email]"
    assert "petrov" not in search.normalized and "651" in search.normalized
    assert search.results >= 1 and search.latency_ms > 0 and search.source == "page"
    [session] = rows(app, SearchSession)
    assert session.entry_page == "/search"


def test_a_corrected_search_records_the_correction(client, app):
    client.get("/search?q=gfhjkm")  # "пароль" typed in the English layout
    [search] = rows(app, SearchEvent)
    assert search.correction == "layout"
    assert search.corrected == "пароль"
    assert search.normalized == "парол"


def test_another_page_of_results_is_not_another_search(client, app):
    client.get("/search?q=пароль")
    client.get("/search?q=пароль&page=2")
    assert len(rows(app, SearchEvent)) == 1


def test_typing_as_you_go_counts_as_one_search(client, app):
    for typed in ("пар", "парол", "пароль не", "пароль не подходит"):
        client.get("/search", query_string={"q": typed})
    [search] = rows(app, SearchEvent)
    assert search.query == "пароль не подходит"
    assert search.replaced == 3


def test_queries_seconds_apart_or_unrelated_are_separate_searches(app):
    with app.test_request_context():
        for offset, query in ((0, "роутер"), (30, "роутер мигает"), (32, "пароль")):
            tracking.track_event(tracking.SearchMade.of(
                query, 1, 3.0, visitor_id="v" * 22, at=T0 + dt.timedelta(seconds=offset)))
    assert [s.query for s in rows(app, SearchEvent)] == ["роутер", "роутер мигает", "пароль"]


def test_the_writer_keeps_no_search_past_the_time_typing_could_continue_it(app):
    # A busy site has visitors by the ten thousand: what each process keeps per visit must
    # not grow with them, yet typing on (a second later, in another batch) still folds.
    recorder = app.extensions["tracking"]
    with app.test_request_context():
        for number in range(300):
            tracking.track_event(tracking.SearchMade.of(
                "роутер", 1, 3.0, visitor_id=f"visitor-{number:03}",
                at=T0 + dt.timedelta(seconds=number // 10)))
        assert tracking.flush()
        assert len(recorder.memory.last_search) <= 110  # the last ten seconds' visitors
        tracking.track_event(tracking.SearchMade.of(
            "роутер мигает", 1, 3.0, visitor_id="visitor-299", at=T0 + dt.timedelta(seconds=30)))
    assert len(rows(app, SearchEvent)) == 300
    assert rows(app, SearchEvent, SearchEvent.query == "роутер мигает")[0].replaced == 1


def test_a_visit_ends_after_thirty_quiet_minutes(app):
    with app.test_request_context():
        for minutes in (0, 20, 45, 80):
            tracking.track_event(tracking.SearchMade.of(
                f"запрос {minutes}", 1, 3.0, visitor_id="v" * 22,
                at=T0 + dt.timedelta(minutes=minutes)))
    sessions = rows(app, SearchSession)
    searches = rows(app, SearchEvent)
    assert len(sessions) == 2  # 0, 20, 45 are each < 30 min apart; 80 is 35 min after 45
    assert [s.session_id for s in searches] == [sessions[0].id] * 3 + [sessions[1].id]
    assert sessions[0].last_seen_at == T0 + dt.timedelta(minutes=45)


def test_opening_a_result_credits_the_search_and_rank(client, app):
    page = client.get("/search?q=роутер").get_data(as_text=True)
    links = result_links(page)
    assert len(links) >= 2
    client.get(links[1])
    [search] = rows(app, SearchEvent)
    [view] = rows(app, ArticleEvent)
    assert (view.kind, view.via, view.search_id, view.rank) == ("view", "search", search.id, 2)
    assert view.article_id == links[1].split("?")[0].removeprefix("/kb/")
    with app.app_context():
        assert db.session.scalar(select(ArticleViewDay.views)) == 1


def test_a_search_link_from_someone_else_is_not_credited_to_their_search(make_app,
                                                                        articles_dir):
    app = make_app(articles_dir)
    alice, bob = app.test_client(), app.test_client()
    link = result_links(alice.get("/search?q=интернет").get_data(as_text=True))[0]
    bob.get(link)  # Alice sent Bob the link she clicked
    [view] = rows(app, ArticleEvent)
    assert view.search_id is None and view.rank is None and view.via == "direct"


@pytest.mark.parametrize("query, via", [
    ("?via=suggest", "suggest"), ("?via=related", "related"), ("?via=<script>", "direct"),
    ("?s=../../etc&r=-1", "direct"), ("?s=" + "A" * 16 + "&r=99999999999999", "direct"),
])
def test_how_an_article_was_reached_is_recorded_and_odd_values_are_ignored(client, app,
                                                                           query, via):
    assert client.get("/kb/account/sbros-parolya" + query).status_code == 200
    [view] = rows(app, ArticleEvent)
    assert view.via == via and view.rank is None


def _view_uid(page: str) -> str:
    return re.search(r'data-view="([\w-]+)"', page).group(1)


def test_the_article_page_reports_reading_time(client, app):
    page = client.get("/kb/account/sbros-parolya").get_data(as_text=True)
    view = _view_uid(page)
    url = "/kb/account/sbros-parolya/read"
    assert client.post(url, data={"view": view, "ms": "45000"}).status_code == 204
    assert client.post(url, data={"view": view, "ms": "2000"}).status_code == 204
    [event] = rows(app, ArticleEvent)
    assert event.dwell_ms == 45000  # the page reports the total so far: keep the largest


def test_reading_time_is_only_taken_from_the_visitor_who_read(make_app, articles_dir):
    app = make_app(articles_dir)
    reader, stranger = app.test_client(), app.test_client()
    view = _view_uid(reader.get("/kb/account/sbros-parolya").get_data(as_text=True))
    stranger.get("/")
    assert stranger.post("/kb/account/sbros-parolya/read",
                         data={"view": view, "ms": "999999"}).status_code == 204
    [event] = rows(app, ArticleEvent)
    assert event.dwell_ms is None


@pytest.mark.parametrize("data", [
    {}, {"view": "x", "ms": "10"}, {"view": "A" * 16, "ms": "-5"}, {"view": "A" * 16, "ms": "1e9"},
    {"view": "A" * 16, "ms": "9" * 40}, {"view": "<script>", "ms": "1"},
])
def test_odd_reading_reports_are_refused(client, data):
    assert client.post("/kb/account/sbros-parolya/read", data=data).status_code == 400


def test_a_vote_is_recorded_in_the_visit(client, app):
    page = client.get("/kb/account/sbros-parolya").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/kb/account/sbros-parolya/feedback",
                data={"csrf_token": token, "no": "1", "reason": "unclear"})
    view, vote = rows(app, ArticleEvent)
    assert (vote.kind, vote.helpful, vote.reason) == ("vote", False, "unclear")
    assert vote.session_id == view.session_id


def test_tracking_can_be_turned_off(make_app, articles_dir):
    app = make_app(articles_dir, TRACKING_ENABLED=False)
    app.test_client().get("/search?q=пароль")
    assert rows(app, SearchEvent) == []


def test_pages_work_when_the_database_is_down(articles_dir, tmp_path: Path):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test", "ARTICLES_DIR": str(articles_dir),
        "INDEX_DIR": str(tmp_path / "index"),
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:9/none",
    })
    client = app.test_client()
    assert "Как сбросить пароль" in client.get("/search?q=пароль").get_data(as_text=True)
    assert client.get("/kb/account/sbros-parolya").status_code == 200
    assert client.get("/").status_code == 200
    with app.app_context():
        assert tracking.flush()
        assert app.extensions["tracking"].failed >= 2


def test_a_slow_database_does_not_slow_searches(make_app, articles_dir, tmp_path: Path):
    app = make_app(articles_dir)
    client = app.test_client()
    client.get("/search?q=роутер")  # the writer thread is up and the session exists
    with app.app_context():
        assert tracking.flush()
    # Another program holds the write lock: every write waits (busy_timeout is 5 s).
    holder = sqlite3.connect(tmp_path / "portal.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        for query in ("пароль", "почта", "счёт"):
            assert client.get("/search", query_string={"q": query}).status_code == 200
        assert time.monotonic() - started < 2.5
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    searches = rows(app, SearchEvent)  # written once the lock is gone
    assert [s.query for s in searches] == ["роутер", "пароль", "почта", "счёт"]


def test_a_lock_held_longer_than_the_busy_timeout_loses_no_search(make_app, articles_dir,
                                                                  tmp_path: Path):
    app = make_app(articles_dir)
    client = app.test_client()
    client.get("/search?q=роутер")
    with app.app_context():
        assert tracking.flush()
    holder = sqlite3.connect(tmp_path / "portal.sqlite3", isolation_level=None,
                             check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")  # a long job elsewhere: longer than the 5 s wait
    release = threading.Timer(6.0, lambda: (holder.execute("ROLLBACK"), holder.close()))
    release.start()
    try:
        for query in ("пароль", "почта"):
            assert client.get("/search", query_string={"q": query}).status_code == 200
        with app.app_context():
            assert tracking.flush(timeout=15)
    finally:
        release.join()
    assert [s.query for s in rows(app, SearchEvent)] == ["роутер", "пароль", "почта"]
    assert app.extensions["tracking"].failed == 0
