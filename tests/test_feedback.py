""""Did this help?": a vote per visitor and article, changeable, with a reason on "no"."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Vote

from .badinput import naughty_strings
from .conftest import database_urls

ARTICLE = "/kb/internet/net-interneta"


def csrf_token(client, path=ARTICLE) -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def vote(client, token, **fields):
    return client.post(ARTICLE + "/feedback", data={"csrf_token": token, **fields})


def votes(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(Vote).order_by(Vote.id))
        return [(v.article_id, v.helpful, v.reason, v.comment) for v in rows]


@pytest.fixture(params=database_urls())
def site(request, make_app, articles_dir):
    return make_app(articles_dir, database=request.param)


def test_yes_without_javascript_thanks_and_remembers(site):
    client = site.test_client()
    response = vote(client, csrf_token(client), yes="Да")
    assert response.status_code == 303
    assert response.headers["Location"] == ARTICLE + "#feedback"
    page = client.get(ARTICLE).get_data(as_text=True)
    assert "Спасибо! Рады, что статья помогла." in page
    assert re.search(r'<input aria-pressed="true"[^>]* name="yes"', page)
    assert "Вы отметили, что статья помогла." in client.get(ARTICLE).get_data(as_text=True)
    assert votes(site) == [("internet/net-interneta", True, None, None)]


def test_no_asks_why_then_keeps_reason_and_comment(site):
    client = site.test_client()
    token = csrf_token(client)
    vote(client, token, no="Нет")
    page = client.get(ARTICLE).get_data(as_text=True)
    assert "Что было не так?" in page and 'class="reasons" hidden' not in page
    vote(client, token, send="Отправить", reason="outdated", comment="  Меню уже другое  ")
    assert votes(site) == [("internet/net-interneta", False, "outdated", "Меню уже другое")]
    client.get(ARTICLE)  # shows the thanks once
    page = client.get(ARTICLE).get_data(as_text=True)
    assert "Вы отметили, что статья не помогла." in page
    assert re.search(r'<input checked[^>]* value="outdated"', page)
    assert "Меню уже другое</textarea>" in page


def test_only_the_latest_answer_is_acknowledged(site):
    client = site.test_client()
    token = csrf_token(client)
    vote(client, token, no="Нет")  # redirects not followed: two messages queued
    vote(client, token, send="x", reason="unclear")
    page = client.get(ARTICLE).get_data(as_text=True)
    status = page.split('role="status"', 1)[1].split("</p>", 1)[0]
    assert "Ваш ответ поможет улучшить статью" in status and "Жаль" not in status


def test_one_vote_per_visitor_changeable_and_others_count_apart(site):
    first, second = site.test_client(), site.test_client()
    token = csrf_token(first)
    vote(first, token, no="Нет")
    vote(first, token, send="x", reason="unclear")
    vote(first, token, yes="Да")
    vote(second, csrf_token(second), no="Нет")
    assert votes(site) == [("internet/net-interneta", True, None, None),
                           ("internet/net-interneta", False, None, None)]


def test_the_page_script_gets_json(site):
    client = site.test_client()
    response = client.post(ARTICLE + "/feedback", headers={"Accept": "application/json"},
                           data={"csrf_token": csrf_token(client), "no": "Нет"})
    assert response.get_json() == {"helpful": False, "reason": None, "ask_reason": True,
                                   "message": "Жаль, что статья не помогла. Что было не так?"}


def test_missing_csrf_token_is_refused(site):
    client = site.test_client()
    client.get(ARTICLE)
    assert client.post(ARTICLE + "/feedback", data={"yes": "Да"}).status_code == 400
    assert votes(site) == []


@pytest.mark.parametrize(("fields", "message"), [
    ({"send": "x", "reason": "evil"}, "Неверный вариант"),
    ({"send": "x", "comment": "x" * 2001}, "2000"),
    ({}, "Выберите «Да» или «Нет»."),
])
def test_wrong_answers_get_a_clear_message_and_store_nothing(site, fields, message):
    client = site.test_client()
    response = vote(client, csrf_token(client), **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert votes(site) == []


@pytest.mark.parametrize("path", ["/kb/account/chernovik", "/kb/nope/nope",
                                  "/kb/account/vnutrennyaya-instrukciya"])
def test_votes_on_hidden_or_missing_articles_are_404(site, path):
    client = site.test_client()
    response = client.post(path + "/feedback",
                           data={"csrf_token": csrf_token(client), "yes": "Да"})
    assert response.status_code == 404


def test_naughty_comments_are_kept_as_written_and_shown_escaped(make_app, articles_dir):
    app = make_app(articles_dir, RATELIMIT_ENABLED=False)  # hundreds of votes from one client
    client = app.test_client()
    token = csrf_token(client)
    for line in naughty_strings():
        response = vote(client, token, send="x", reason="unclear", comment=line)
        assert response.status_code in (303, 400), line
        if response.status_code == 303 and line.strip() and "\x00" not in line:
            assert votes(app)[-1][3] == line.strip(), line
    vote(client, token, send="x", reason="unclear", comment="<script>alert(1)</script>")
    page = client.get(ARTICLE).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_a_failing_database_says_so_instead_of_breaking(make_app, articles_dir):
    app = make_app(articles_dir)
    client = app.test_client()
    token = csrf_token(client)
    with app.app_context():
        db.drop_all()  # every query now fails: "no such table"
    assert client.get(ARTICLE).status_code == 200
    response = vote(client, token, yes="Да")
    assert response.status_code == 400
    assert "Не удалось сохранить ответ" in response.get_data(as_text=True)
