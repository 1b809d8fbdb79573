"""The analytics page of the expert console: the metrics over a period, from what customers
and agents really do on the site, their trends, and the tables as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
from urllib.parse import parse_qs
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from portal import tracking
from portal.extensions import db
from portal.models import ArticleEvent
from portal.models import SearchEvent
from portal.models import SearchSession
from portal.models import Ticket
from portal.models import TicketEvent
from portal.models import TicketLink
from portal.models import Vote
from portal.web.knowledge import current_index

from .conftest import database_urls
from .helpers import csrf_token
from .helpers import result_links
from .helpers import vote
from .staff import act
from .staff import agent
from .staff import file_ticket
from .staff import log_in
from .staff import make_staff

MOSCOW = ZoneInfo("Europe/Moscow")
METRICS = ("zero-result-rate", "click-through", "self-service", "deflection", "helpfulness",
           "compliance")


# --- Helpers -----------------------------------------------------------------------------


def expert(app, role: str = "expert"):
    """A client logged in as an expert, reading the English interface."""
    email = f"{role}-analytics@example.com"
    make_staff(app, role, email, "Эксперт")
    client = app.test_client()
    client.set_cookie("ui_lang", "en")
    assert log_in(client, email).status_code == 303
    return client


def page(client, **query) -> str:
    response = client.get("/expert/analytics", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


def text_of(fragment: str) -> str:
    """What a person reads in an HTML fragment."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def summary(client, **query) -> dict[str, tuple[str, str]]:
    """Each metric of the summary table: (value, what was counted), as shown."""
    found = {}
    for metric in METRICS:
        row = re.search(rf'<tr id="metric-{metric}">(.*?)</tr>', page(client, **query), re.S)
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
        found[metric] = (text_of(cells[0]), text_of(cells[1]))
    return found


def section(page_html: str, title_id: str) -> str:
    start = page_html.index(f'aria-labelledby="{title_id}"')
    return page_html[start:page_html.index("</section>", start)]


def download(client, table: str, **query):
    return client.get("/expert/analytics.csv", query_string={"table": table, **query})


def csv_rows(client, table: str, **query) -> list[dict[str, str]]:
    response = download(client, table, **query)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def flushed(app) -> None:
    with app.app_context():
        assert tracking.flush()


def click_first(client, query: str) -> tuple[str, str]:
    """Search and open the first result: the article's id and page."""
    results = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    link = result_links(results)[0]
    return urlsplit(link).path.removeprefix("/kb/"), client.get(link).get_data(as_text=True)


def link_code(app, number: str, article_id: str) -> str:
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        return db.session.scalars(select(TicketLink.code).where(
            TicketLink.ticket_id == ticket.id, TicketLink.article_id == article_id)).all()[-1]


def shift_back(app, delta: dt.timedelta) -> None:
    """As if everything recorded so far had happened `delta` earlier."""
    columns = {SearchSession: ("started_at", "last_seen_at"), SearchEvent: ("at",),
               ArticleEvent: ("at",), Ticket: ("created_at", "resolved_at"),
               TicketEvent: ("at",), TicketLink: ("created_at",),
               Vote: ("created_at", "updated_at")}
    with app.app_context():
        for model, names in columns.items():
            for row in db.session.scalars(select(model)):
                for name in names:
                    if getattr(row, name) is not None:
                        setattr(row, name, getattr(row, name) - delta)
        db.session.commit()


def make_overdue(app, number: str) -> None:
    """The ticket's response target passed a minute ago."""
    with app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        ticket.response_due_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        db.session.commit()


def set_time(app, model, moment: dt.datetime, column: str = "at") -> None:
    """Give every row of `model` the same moment (rows made in the test, moved in time)."""
    with app.app_context():
        for row in db.session.scalars(select(model)):
            setattr(row, column, moment)
        db.session.commit()


# --- A week of help center life ----------------------------------------------------------


@pytest.fixture
def week(make_app, articles_dir, request):
    """Three customers help themselves (or try), two write tickets, agents answer them.

    - Alice searches "телепорт" (nothing found), then "роутер", opens the first result and
      says it helped;
    - Boris searches "сбросить пароль" without opening anything, reads the password article
      directly, says it did not help ("unclear") and sends a ticket;
    - Vera searches "пароль wi-fi", opens the first result and says it did not help;
    - Dmitry sends a ticket without searching; later he opens the article the agent sent.

    The agent answers Boris on time, escalates him to line 2, whose engineer answers on
    time too; Dmitry is answered late. Boris's ticket gets two links (one opened twice),
    Dmitry's one (opened once); Boris's is resolved with an article, Dmitry's without."""
    database = getattr(request, "param", "sqlite")
    app = make_app(articles_dir, database, SUPPORT_HOURS="24/7", RATELIMIT_ENABLED=False)
    alice, boris, vera, dmitry = (app.test_client() for _ in range(4))
    alice.get("/search?q=телепорт")
    alice_read, alice_page = click_first(alice, "роутер")
    vote(alice, alice_page, helpful=True)
    boris.get("/search?q=сбросить пароль")
    vote(boris, boris.get("/kb/account/sbros-parolya").get_data(as_text=True), helpful=False,
         reason="unclear")
    boris_ticket, _link = file_ticket(app, boris, subject="Не могу сбросить пароль")
    vera_read, vera_page = click_first(vera, "пароль wi-fi")
    vote(vera, vera_page, helpful=False, reason="not_solved")
    dmitry_ticket, _link = file_ticket(app, dmitry, email="dmitry@example.com")

    anna = agent(app)
    act(anna, boris_ticket, "reply", visibility="public", body="Попробуйте ещё раз.")
    act(anna, boris_ticket, "escalate", line="2", note="Нужен инженер")
    act(anna, boris_ticket, "reply", visibility="public", body="Инженер проверил.")
    make_overdue(app, dmitry_ticket)
    act(anna, dmitry_ticket, "reply", visibility="public", body="Извините за ожидание.")
    for number, article in [(boris_ticket, "internet/net-interneta"),
                            (boris_ticket, "account/sbros-parolya"),
                            (dmitry_ticket, "internet/net-interneta")]:
        assert act(anna, number, "links", article=article).status_code == 303
    sent = "/kb/internet/net-interneta?t=" + link_code(app, boris_ticket, "internet/net-interneta")
    boris.get(sent)
    boris.get(sent)
    dmitry.get("/kb/internet/net-interneta?t="
               + link_code(app, dmitry_ticket, "internet/net-interneta"))
    act(anna, boris_ticket, "resolve", outcome="article", article="internet/net-interneta")
    act(anna, dmitry_ticket, "resolve", outcome="no_article", topic="Новая тема")
    flushed(app)
    return app, {"alice": alice_read, "vera": vera_read}


both_databases = pytest.mark.parametrize("week", database_urls(), indirect=True)


@both_databases
def test_the_summary_shows_each_metric_with_what_was_counted(week):
    app, _read = week
    shown = summary(expert(app), days=7)
    assert shown == {
        "zero-result-rate": ("25.0%", "1 of 4 searches found nothing"),
        "click-through": ("50.0%", "2 of 4 searches had a result opened"),
        # Alice, Boris and Vera; Dmitry only opened the link a support reply sent him.
        "self-service": ("1.5", "3 help sessions, 2 tickets"),
        # Boris wrote a ticket after reading; Alice's and Vera's 24 hours are not over yet.
        "deflection": ("0.0%", "0 of 1 visit that read an article 2 more visits are still "
                               "within the window and not counted yet."),
        "helpfulness": ("33.3%", "1 of 3 votes said “yes”"),
        "compliance": ("66.7%", "2 of 3 responses on time"),
    }


@both_databases
def test_a_visit_without_a_ticket_in_the_window_is_a_deflection(week):
    app, _read = week
    shift_back(app, dt.timedelta(days=2))  # the 24 hours after everyone's reading are over
    client = expert(app)
    assert summary(client, days=7)["deflection"] == ("66.7%",
                                                     "2 of 3 visits that read an article")
    rows = {row["metric"]: row for row in csv_rows(client, "summary", days=7)}
    assert (rows["deflection"]["value"], rows["deflection"]["numerator"],
            rows["deflection"]["denominator"]) == ("0.6667", "2", "3")
    # Two days ago is outside "the last day": that period has nothing at all.
    assert summary(client, days=1)["deflection"] == ("—", "0 of 0 visits that read an article")


def test_a_ticket_after_the_window_does_not_undo_the_deflection(make_app, articles_dir):
    app = make_app(articles_dir, DEFLECTION_WINDOW_HOURS=1)
    customer = app.test_client()
    customer.get("/kb/account/sbros-parolya")
    flushed(app)
    shift_back(app, dt.timedelta(hours=3))  # read three hours ago...
    file_ticket(app, customer)               # ...and wrote now: two hours too late to count
    client = expert(app)
    shown = summary(client, days=7)["deflection"]
    assert shown == ("100.0%", "1 of 1 visit that read an article")
    assert "within 1 hour of the first article read" in page(client)


@both_databases
def test_the_article_tables_count_votes_links_and_resolutions(week):
    app, read = week
    client = expert(app)
    votes = {row["article"]: row for row in csv_rows(client, "helpfulness", days=7)}
    expected: dict[str, list[int]] = {}
    for article, helpful in [(read["alice"], 1), ("account/sbros-parolya", 0),
                             (read["vera"], 0)]:
        expected.setdefault(article, [0, 0])
        expected[article][0] += 1
        expected[article][1] += helpful
    assert {a: [int(r["votes"]), int(r["helpful"])] for a, r in votes.items()} == expected
    password = votes["account/sbros-parolya"]
    assert password["title"] == "Как сбросить пароль от личного кабинета"
    assert (password["no_unclear"], password["no_not_solved"]) == ("1", "0")
    assert {r["reason"]: r["votes"] for r in csv_rows(client, "reasons", days=7)} == {
        "unclear": "1", "not_solved": "1"}

    linked = [(r["article"], r["links"], r["links_opened"], r["opens"])
              for r in csv_rows(client, "linked", days=7)]
    assert linked == [("internet/net-interneta", "2", "2", "3"),
                      ("account/sbros-parolya", "1", "0", "0")]
    assert [(r["article"], r["tickets"]) for r in csv_rows(client, "resolutions", days=7)] == [
        ("internet/net-interneta", "1")]
    lines = [(r["line"], r["responses"], r["on_time"], r["late"], r["compliance"])
             for r in csv_rows(client, "responses", days=7)]
    assert lines == [("1", "2", "1", "1", "0.5"), ("2", "1", "1", "0", "1.0")]

    shown = page(client, days=7)
    linked_html = section(shown, "linked-title")
    assert ('<a href="/kb/internet/net-interneta">Нет интернета — что проверить</a>'
            in linked_html)
    assert re.search(r"net-interneta</span></td><td>2</td><td>2</td><td>3</td>", linked_html)
    resolutions = text_of(section(shown, "resolutions-title"))
    assert ("2 tickets resolved in the period. Without an article (the experts were asked for "
            "one): 1.") in resolutions
    helpfulness = text_of(section(shown, "helpfulness-title"))
    assert "It is hard to understand: 1" in helpfulness
    lines_html = text_of(section(shown, "compliance-title"))
    assert "line 1 2 1 1 50.0%" in lines_html and "line 2 (engineers) 1 1 0 100.0%" in lines_html


def test_a_ticket_the_customer_reopened_is_no_resolution_until_resolved_again(app):
    customer = app.test_client()
    number, status_link = file_ticket(app, customer)
    anna = agent(app)
    act(anna, number, "resolve", outcome="article", article="internet/net-interneta")
    client = expert(app)
    assert [r["tickets"] for r in csv_rows(client, "resolutions")] == ["1"]
    page_html = customer.get(status_link).get_data(as_text=True)
    assert customer.post(f"/tickets/{number}/messages", data={
        "csrf_token": csrf_token(page_html), "token": status_link.split("token=")[1],
        "body": "Не помогло, интернета всё ещё нет."}).status_code == 303
    assert csv_rows(client, "resolutions") == []
    assert "0 tickets resolved in the period." in text_of(page(client))
    act(anna, number, "resolve", outcome="article", article="account/sbros-parolya")
    assert [(r["article"], r["tickets"]) for r in csv_rows(client, "resolutions")] == [
        ("account/sbros-parolya", "1")]


@pytest.mark.parametrize("database", database_urls())
def test_counts_recorded_under_an_old_article_id_go_to_the_article_it_became(
        make_app, articles_dir, database):
    app = make_app(articles_dir, database, SUPPORT_HOURS="24/7")
    customer = app.test_client()
    vote(customer, customer.get("/kb/internet/nastrojka-wi-fi").get_data(as_text=True),
         helpful=False, reason="outdated")
    number, _link = file_ticket(app, customer)
    anna = agent(app)
    act(anna, number, "links", article="internet/nastrojka-wi-fi")
    act(anna, number, "resolve", outcome="article", article="internet/nastrojka-wi-fi")
    other = app.test_client()
    vote(other, other.get("/kb/account/sbros-parolya").get_data(as_text=True), helpful=True)
    # The Wi-Fi article is renamed (its old id becomes an alias); the password one is removed.
    old = articles_dir / "internet" / "nastrojka-wi-fi.md"
    renamed = old.read_text(encoding="utf-8").replace(
        "tags: [wi-fi, пароль]", "tags: [wi-fi, пароль]\naliases: [internet/nastrojka-wi-fi]")
    (articles_dir / "internet" / "wi-fi-router.md").write_text(renamed, encoding="utf-8")
    old.unlink()
    (articles_dir / "account" / "sbros-parolya.md").unlink()
    with app.app_context():
        current_index().build()
    flushed(app)

    client = expert(app)
    votes = {r["article"]: (r["votes"], r["no_outdated"], r["title"])
             for r in csv_rows(client, "helpfulness")}
    assert votes == {"internet/wi-fi-router": ("1", "1", "Настройка Wi-Fi на роутере"),
                     "account/sbros-parolya": ("1", "0", "")}
    assert [r["article"] for r in csv_rows(client, "linked")] == ["internet/wi-fi-router"]
    assert [r["article"] for r in csv_rows(client, "resolutions")] == ["internet/wi-fi-router"]
    shown = page(client)
    assert '<a href="/kb/internet/wi-fi-router">Настройка Wi-Fi на роутере</a>' in shown
    helpfulness = section(shown, "helpfulness-title")
    assert "/kb/account/sbros-parolya" not in helpfulness
    assert ('<span class="article-id">account/sbros-parolya</span> '
            '<span class="hint">(no longer in the knowledge base)</span>') in helpfulness


# --- Trends ------------------------------------------------------------------------------


@both_databases
def test_trends_are_charts_with_the_numbers_in_a_table(week):
    app, _read = week
    response = expert(app).get("/expert/analytics?days=7")
    shown = response.get_data(as_text=True)
    charts = re.findall(r'<svg class="chart" id="(chart-[\w-]+)" role="img"[^>]*'
                        r'aria-labelledby="([\w-]+) ([\w-]+)"', shown)
    assert [c[0] for c in charts] == ["chart-zero-results", "chart-click-through",
                                      "chart-self-service", "chart-deflection",
                                      "chart-helpfulness", "chart-compliance"]
    for chart_id, title_id, desc_id in charts:
        assert (title_id, desc_id) == (f"{chart_id}-title", f"{chart_id}-desc")
        assert f'<desc id="{desc_id}">' in shown
    assert '<title id="chart-zero-results-title">Zero-result rate</title>' in shown
    zero = shown[shown.index('id="chart-zero-results"'):]
    zero = zero[:zero.index("</svg>")]
    today = dt.datetime.now(MOSCOW).date()
    # Only today has searches: one point, at 25 %, and no line to draw.
    assert zero.count("<circle") == 1 and "<polyline" not in zero
    assert f"{today.day} {today.strftime('%b')}: 25%</title>" in zero
    assert "lowest 25%, highest 25%" in zero

    table = shown[shown.index('class="staff-table analytics-trend"'):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr>\s*<th scope=\"row\">(.*?)</th>(.*?)</tr>", table, re.S)
    # Days when nothing happened are left out; the table says how many.
    assert len(rows) == 1
    assert rows[-1][0] == f"{today.day} {today.strftime('%b %Y')}"
    cells = [text_of(c) for c in re.findall(r"<td>(.*?)</td>", rows[-1][1])]
    assert cells == ["4", "25.0%", "50.0%", "3", "2", "1.5", "0.0%", "3", "33.3%", "3", "66.7%"]
    assert "6 days when nothing happened are left out of the table." in text_of(shown)
    # The page's content security policy forbids inline styles and scripts: none are used.
    assert "style=" not in shown and not re.search(r"<script(?![^>]*\bsrc=)", shown)
    assert "style-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("zone", "counts"), [("Europe/Moscow", ["0", "1"]),
                                               ("UTC", ["1", "0"])])
def test_days_are_the_support_teams_days(make_app, articles_dir, zone, counts):
    """A search at 22:30 UTC is on the next day in Moscow (UTC+3), on that day in UTC."""
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=10)
    late_evening = dt.datetime.combine(day, dt.time(22, 30), tzinfo=dt.UTC)
    query = {"from": day.isoformat(), "to": (day + dt.timedelta(days=1)).isoformat()}
    app = make_app(articles_dir, SUPPORT_TIMEZONE=zone)
    app.test_client().get("/search?q=телепорт")
    flushed(app)
    set_time(app, SearchEvent, late_evening)
    client = expert(app)
    rows = csv_rows(client, "trend", **query)
    assert [(r["first_day"], r["searches"]) for r in rows] == [
        (day.isoformat(), counts[0]), ((day + dt.timedelta(days=1)).isoformat(), counts[1])]
    assert f"time zone ({zone})" in page(client, **query)


def test_a_long_period_is_shown_by_week(app):
    client = expert(app)
    rows = csv_rows(client, "trend", days=365)
    today = dt.datetime.now(MOSCOW).date()
    assert len(rows) == 53
    assert rows[0]["first_day"] == (today - dt.timedelta(days=364)).isoformat()
    assert all(dt.date.fromisoformat(r["last_day"]) - dt.date.fromisoformat(r["first_day"])
               == dt.timedelta(days=6) for r in rows[:-1])
    assert rows[-1]["last_day"] == today.isoformat()
    assert "trends by week" in page(client, days=365)
    assert len(csv_rows(client, "trend", days=90)) == 90


# --- Choosing the period -----------------------------------------------------------------


def test_a_period_given_by_dates_counts_only_those_days(app):
    app.test_client().get("/search?q=телепорт")
    flushed(app)
    client = expert(app)
    today = dt.datetime.now(MOSCOW).date()
    before = {"from": (today - dt.timedelta(days=20)).isoformat(),
              "to": (today - dt.timedelta(days=1)).isoformat()}
    assert summary(client, **before)["zero-result-rate"] == ("—", "0 of 0 searches found nothing")
    assert summary(client, **{"from": today.isoformat(), "to": today.isoformat()})[
        "zero-result-rate"] == ("100.0%", "1 of 1 search found nothing")
    shown = page(client, **before)
    assert re.search(r'<input type="date" name="from" value="' + before["from"], shown)
    # The downloads of the page are for the same period.
    assert (f'/expert/analytics.csv?table=summary&amp;from={before["from"]}'
            f'&amp;to={before["to"]}') in shown
    assert '<span aria-current="true">Last 30 days</span>' in page(client)
    assert '<span aria-current="true">Last 7 days</span>' in page(client, days=7)


@pytest.mark.parametrize(("query", "message"), [
    ({"days": "0"}, "“days” must be a whole number from 1 to 731"),
    ({"days": "abc"}, "“days” must be a whole number"),
    ({"days": "-7"}, "“days” must be a whole number"),
    ({"days": "100000"}, "“days” must be a whole number"),
    ({"days": "٣٠"}, "“days” must be a whole number"),
    ({"from": "2026-13-01", "to": "2026-11-30"}, "“from” must be a date like 2026-11-30"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "“from” must be a date"),
    ({"from": "yesterday", "to": "2026-11-30"}, "“from” must be a date"),
    ({"from": "2026-11-01", "to": "2026-11-01T00:00"}, "“to” must be a date"),
    ({"from": "2" * 5000, "to": "2026-11-30"}, "“from” must be a date"),
    ({"from": "2026-11-20", "to": "2026-11-10"}, "ends before it begins"),
    ({"from": "2020-01-01", "to": "2026-11-30"}, "at most 731 days long"),
    ({"from": "0001-01-01", "to": "0001-01-02"}, "cannot begin before 2000"),
    ({"from": "2026-11-01", "to": "9999-12-31"}, "cannot end after today"),
    ({"from": "2026-11-01"}, "Give both the first and the last day"),
    ({"to": "2026-11-01"}, "Give both the first and the last day"),
    ({"days": "7", "from": "2026-11-01", "to": "2026-11-02"}, "either the last days or"),
])
def test_odd_periods_are_a_clear_400(app, query, message):
    client = expert(app)
    for url, extra in (("/expert/analytics", {}), ("/expert/analytics.csv", {"table": "trend"})):
        response = client.get(url, query_string={**extra, **query})
        assert response.status_code == 400, (url, query)
        assert message in html.unescape(response.get_data(as_text=True)), (url, query)


def test_an_unknown_table_is_not_found(app):
    client = expert(app)
    for name in ("", "users", "../summary", "summary.csv", "SUMMARY"):
        assert download(client, name).status_code == 404, name


# --- CSV ---------------------------------------------------------------------------------


@both_databases
def test_every_table_downloads_as_csv(week):
    app, _read = week
    client = expert(app)
    shown = page(client, days=7)
    tables = re.findall(r'href="/expert/analytics.csv\?table=(\w+)&amp;days=7" download', shown)
    assert tables == ["summary", "trend", "helpfulness", "reasons", "linked", "resolutions",
                      "responses"]
    today = dt.datetime.now(MOSCOW).date()
    for name in tables:
        response = download(client, name, days=7)
        assert response.status_code == 200
        assert response.content_type == "text/csv; charset=utf-8"
        first = (today - dt.timedelta(days=6)).isoformat()
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="analytics-{name}-{first}-{today.isoformat()}.csv"')
        assert response.get_data().startswith("\ufeff".encode())  # spreadsheets read UTF-8
        header, *rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
        assert rows and all(len(row) == len(header) for row in rows), name
    trend = csv_rows(client, "trend", days=7)
    assert len(trend) == 7
    assert {k: trend[-1][k] for k in ("searches", "zero_results", "zero_result_rate",
                                      "help_sessions", "tickets", "self_service_score")} == {
        "searches": "4", "zero_results": "1", "zero_result_rate": "0.25",
        "help_sessions": "3", "tickets": "2", "self_service_score": "1.5"}
    assert trend[0]["zero_result_rate"] == ""  # no searches that day: no rate, not 0


@pytest.mark.parametrize("title", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+7 495 000",
                                   "-2+3", "@SUM(A1)"])
def test_text_a_spreadsheet_would_run_stays_text(make_app, articles_dir, title):
    (articles_dir / "misc").mkdir()
    quoted = title.replace("'", "''")
    (articles_dir / "misc" / "formula.md").write_text(
        f"---\ntitle: '{quoted}'\nlang: ru\n---\nТекст статьи.\n", encoding="utf-8")
    app = make_app(articles_dir)
    customer = app.test_client()
    vote(customer, customer.get("/kb/misc/formula").get_data(as_text=True), helpful=True)
    response = download(expert(app), "helpfulness")
    [row] = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert row["title"] == "'" + title
    assert row["votes"] == "1"


# --- Who may see it ----------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/expert/analytics?days=7",
                                 "/expert/analytics.csv?table=summary&days=7"])
def test_only_experts_and_admins_see_analytics(app, url):
    visitor = app.test_client()
    response = visitor.get(url)
    assert response.status_code in (302, 303)
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query)["next"] == [url]
    for role in ("agent", "engineer"):
        assert expert(app, role).get(url).status_code == 403, role
    assert expert(app, "admin").get(url).status_code == 200
    assert expert(app).get(url).status_code == 200


def test_the_console_links_to_analytics_in_russian_by_default(app, client, auth):
    make_staff(app, "expert", "ru-expert@example.com")
    assert auth.login("ru-expert@example.com").status_code == 303
    shown = client.get("/expert/").get_data(as_text=True)
    assert re.search(r'<a href="/expert/analytics"[^>]*>', shown)
    response = client.get("/expert/analytics")
    assert response.status_code == 200
    assert '<html lang="ru">' in response.get_data(as_text=True)
    assert 'aria-current="page"' in response.get_data(as_text=True)
