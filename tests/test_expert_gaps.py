"""The gaps page: failed searches ranked by impact, and the loop that closes them — an
article written or chosen for a gap, found by the same search, the failure rate falling."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal import articles as articles_mod
from portal import tracking
from portal.extensions import db
from portal.models import GapAction

from .conftest import database_urls
from .editing import expert_client
from .editing import read_form
from .helpers import csrf_token
from .helpers import result_links
from .helpers import send_ticket

NORMALIZED = "квазар мерца"  # stems, sorted: what groups the ways of asking
FAILED = ("квазар мерцает", "мерцает квазар", "Квазары мерцают")


def customers_search(app, queries=FAILED) -> None:
    """Each query typed by another visitor, none of whom finds anything."""
    for query in queries:
        app.test_client().get("/search", query_string={"q": query})
    with app.app_context():
        assert tracking.flush()


def gaps_page(client, **args) -> str:
    client.set_cookie("ui_lang", "en")
    response = client.get("/expert/gaps", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def cards(page: str) -> list[str]:
    """Each gap's card, as text without tags."""
    found = re.findall(r'<article class="gap-card[^"]*"[^>]*>(.*?)</article>', page, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in found]


def card_html(page: str, label: str) -> str:
    for card in re.findall(r'<article class="gap-card.*?</article>', page, re.S):
        if f"«{label}»" in html.unescape(card):
            return card
    raise AssertionError(f"no gap «{label}» on the page")


def test_failed_searches_show_as_one_gap_with_what_visitors_typed(app):
    customers_search(app)
    expert = expert_client(app)
    page = gaps_page(expert)
    [card] = cards(page)
    assert "«квазар мерцает»" in card
    assert "failed 3 of 3 searches (100 %)" in card and "impact 3" in card
    for typed in FAILED:
        assert f"«{typed}»" in card
    assert "nothing found: 3" in card
    assert "rising" in card  # all of it today, none before
    assert "<svg class=\"sparkline\"" in page


def test_a_ticket_after_the_search_raises_the_impact_and_is_linked(app):
    customers_search(app, FAILED[:2])
    visitor = app.test_client()
    visitor.get("/search", query_string={"q": "квазар мерцает"})
    assert send_ticket(visitor, subject="Квазар мерцает").status_code == 303
    with app.app_context():
        tracking.flush()
    page = gaps_page(expert_client(app))
    card = card_html(page, "квазар мерцает")
    text = cards(page)[0]
    assert "failed 3 of 3 searches" in text and "impact 4" in text  # the ticket counts twice
    number = re.search(r'href="/agent/tickets/(INC-\d+)"', card).group(1)
    assert number.startswith("INC-")


@pytest.mark.parametrize("database", database_urls())
def test_an_article_written_for_a_gap_closes_it(make_app, articles_dir, database):
    app = make_app(articles_dir, database)
    customers_search(app)
    expert = expert_client(app)
    card = card_html(gaps_page(expert), "Квазары мерцают")
    write = html.unescape(re.search(r'href="(/expert/articles/new\?[^"]+)"', card).group(1))
    wanted = parse_qs(urlsplit(write).query)
    assert wanted["gap"] == [NORMALIZED] and wanted["title"] == ["Квазары мерцают"]
    editor = expert.get(write).get_data(as_text=True)
    form = read_form(editor)
    assert form.fields["title"] == "Квазары мерцают"  # the first of the ways it was typed
    assert sorted(form.fields["keywords"].splitlines()) == sorted(FAILED)
    assert form.fields["gap"] == NORMALIZED
    fields = {**form.fields, "title": "Квазар мерцает: что делать", "category": "internet",
              "body": "## Наблюдение\n\nМерцание квазара — это нормально.\n",
              "publish": form.buttons["publish"]}
    saved = expert.post("/expert/articles/new", data=fields)
    assert saved.status_code == 303
    article_id = "internet/kvazar-mercaet-chto-delat"
    with app.app_context():
        [action] = db.session.scalars(select(GapAction)).all()
        assert (action.kind, action.article_id) == ("article", article_id)

    # The same search now finds it; this visitor opens it and stops failing.
    visitor = app.test_client()
    results = visitor.get("/search", query_string={"q": "квазары мерцают"})
    links = result_links(results.get_data(as_text=True))
    assert links and links[0].startswith(f"/kb/{article_id}?")
    assert visitor.get(links[0]).status_code == 200
    with app.app_context():
        tracking.flush()
    text = cards(gaps_page(expert))[0]
    assert "Answered by Квазар мерцает: что делать (new article), live since" in text
    assert "Before publishing: 100 % failed of 3 searches" in text
    assert "After publishing: 0 % failed of 1 search" in text


def test_an_existing_article_answers_a_gap_with_its_keywords(app, articles_dir):
    customers_search(app, ("квазар мерцает", "квазары мерцают"))
    expert = expert_client(app)
    page = gaps_page(expert)
    card = card_html(page, "квазар мерцает")
    token = re.search(r'name="csrf_token" value="([^"]+)"', card).group(1)
    normalized = re.search(r'name="normalized" value="([^"]+)"', card).group(1)
    response = expert.post("/expert/gaps/answer", data={
        "csrf_token": token, "normalized": html.unescape(normalized),
        "query": "квазар мерцает", "article": "internet/nastrojka-wi-fi",
        "mode": "keywords", "queries": ["квазар мерцает", "квазары мерцают"]})
    assert response.status_code == 303
    article = articles_mod.load_article(articles_dir,
                                        articles_dir / "internet/nastrojka-wi-fi.md")
    assert article.keywords[-2:] == ["квазар мерцает", "квазары мерцают"]
    found = app.test_client().get("/search", query_string={"q": "квазар мерцает"})
    assert result_links(found.get_data(as_text=True))[0].startswith(
        "/kb/internet/nastrojka-wi-fi?")
    text = cards(gaps_page(expert))[0]
    assert "Answered by Настройка Wi-Fi на роутере (its keywords)" in text
    assert "Before publishing: 100 % failed of 2 searches" in text


def test_a_best_bet_puts_the_article_first_for_the_gap_s_search(app, articles_dir):
    customers_search(app, ("квазар мерцает",))
    expert = expert_client(app)
    page = gaps_page(expert)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = expert.post("/expert/gaps/answer", data={
        "csrf_token": token, "normalized": NORMALIZED, "query": "квазар мерцает",
        "article": "account/sbros-parolya", "mode": "best_bet"})
    assert response.status_code == 303
    bets = (articles_dir / articles_mod.BEST_BETS_FILE).read_text("utf-8")
    assert "квазар мерцает" in bets and "account/sbros-parolya" in bets
    found = app.test_client().get("/search", query_string={"q": "квазары мерцают"})
    assert result_links(found.get_data(as_text=True))[0].startswith(
        "/kb/account/sbros-parolya?")


def test_an_ignored_gap_is_hidden_until_shown_again(app):
    customers_search(app)
    expert = expert_client(app)
    page = gaps_page(expert)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert expert.post("/expert/gaps/ignore", data={
        "csrf_token": token, "normalized": NORMALIZED, "query": "квазар мерцает",
        "note": "Шутки ради"}).status_code == 303
    assert cards(gaps_page(expert)) == []
    [card] = cards(gaps_page(expert, ignored="1"))
    assert "Ignored by Эксперт" in card and "Шутки ради" in card
    assert expert.post("/expert/gaps/unignore", data={
        "csrf_token": token, "normalized": NORMALIZED}).status_code == 303
    assert len(cards(gaps_page(expert))) == 1


@pytest.mark.parametrize("data", [
    {"article": "account/vnutrennyaya-instrukciya", "mode": "keywords",
     "queries": ["телепорт"]},  # internal: customers cannot read it
    {"article": "account/chernovik", "mode": "best_bet"},  # a draft
    {"article": "nowhere/at-all", "mode": "keywords", "queries": ["телепорт"]},
    {"article": "internet/nastrojka-wi-fi", "mode": "keywords"},  # no search chosen
    {"article": "internet/nastrojka-wi-fi", "mode": "teleport"},
    {"article": "", "mode": "keywords", "queries": ["x"]},
])
def test_an_answer_that_cannot_help_customers_is_refused(app, articles_dir, data):
    before = {p: p.read_bytes() for p in articles_dir.rglob("*") if p.is_file()}
    expert = expert_client(app)
    expert.set_cookie("ui_lang", "en")
    token = csrf_token(expert.get("/tickets/new").get_data(as_text=True))
    response = expert.post("/expert/gaps/answer", data={
        "csrf_token": token, "normalized": NORMALIZED, "query": "телепорт", **data})
    assert response.status_code == 303
    after = {p: p.read_bytes() for p in articles_dir.rglob("*") if p.is_file()
             and not p.name.startswith(".")}
    assert after == {p: b for p, b in before.items() if not p.name.startswith(".")}
    page = expert.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="form-error" role="alert"' in page
    with app.app_context():
        assert db.session.scalars(select(GapAction)).all() == []


@pytest.mark.parametrize("args", [{"days": "5"}, {"days": "x"}, {"page": "0"},
                                  {"days": "99999999999999999999"}])
def test_wrong_parameters_of_the_gaps_page_are_clear_errors(app, args):
    response = expert_client(app).get("/expert/gaps", query_string=args)
    assert response.status_code == 400
