"""One submission makes one ticket: the same form sent again (Back and send, a double click,
a retried request) finds the ticket it made; the status page after sending."""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import database_urls
from .helpers import api_ticket
from .helpers import csrf_token
from .helpers import stored_tickets
from .helpers import ticket_data


def request_key(page: str) -> str:
    return re.search(r'id="request_key" name="request_key" type="hidden" value="([^"]+)"',
                     page).group(1)


def filled_form(client) -> dict:
    """The ticket form as opened once: its fields filled in, its tokens as served."""
    page = client.get("/tickets/new").get_data(as_text=True)
    return {**ticket_data(), "csrf_token": csrf_token(page), "request_key": request_key(page)}


@pytest.mark.parametrize("database", database_urls())
def test_the_same_form_sent_twice_makes_one_ticket(make_app, articles_dir, database):
    app = make_app(articles_dir, database)
    client = app.test_client()
    form = filled_form(client)
    first = client.post("/tickets/new", data=form)
    again = client.post("/tickets/new", data=form)
    [ticket] = stored_tickets(app)
    assert first.status_code == again.status_code == 303
    assert f"/tickets/{ticket.number}?token=" in first.headers["Location"]
    assert f"/tickets/{ticket.number}?token=" in again.headers["Location"]
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "Эта форма уже была отправлена" in page and ticket.number in page


def test_a_form_opened_again_is_a_new_ticket(client, app):
    for _ in range(2):
        assert client.post("/tickets/new", data=filled_form(client)).status_code == 303
    assert [t.subject for t in stored_tickets(app)] == ["Роутер мигает красным"] * 2


def test_the_same_key_sent_at_once_from_two_requests_still_makes_one_ticket(make_app,
                                                                            articles_dir):
    app = make_app(articles_dir)
    form = filled_form(app.test_client())
    clients = [app.test_client() for _ in range(4)]
    for c in clients:  # each its own session, as the same form in several tabs' retries
        c.get("/tickets/new")
    with ThreadPoolExecutor(4) as pool:
        sent = list(pool.map(lambda c: c.post("/tickets/new", data={
            **form, "csrf_token": csrf_token(c.get("/tickets/new").get_data(as_text=True))}),
            clients))
    assert [r.status_code for r in sent] == [303] * 4
    assert len(stored_tickets(app)) == 1


def test_a_key_that_is_not_ours_is_ignored_not_refused(client, app):
    form = filled_form(client)
    for key in ("", "x", "<script>" * 30, "ключ-запроса-12345"):
        assert client.post("/tickets/new", data={**form, "request_key": key}
                           ).status_code == 303
    assert len(stored_tickets(app)) == 4


def test_back_to_the_form_after_sending_offers_the_ticket_not_the_filled_form(client, app):
    first = client.get("/tickets/new")
    assert "no-store" in first.headers["Cache-Control"]
    sent = client.post("/tickets/new", data={
        **ticket_data(), "csrf_token": csrf_token(first.get_data(as_text=True)),
        "request_key": request_key(first.get_data(as_text=True))})
    [ticket] = stored_tickets(app)
    back = client.get("/tickets/new")
    page = back.get_data(as_text=True)
    assert "no-store" in back.headers["Cache-Control"]
    assert f"Вы уже отправили обращение {ticket.number}" in page
    link = re.search(r'<a href="(/tickets/[^"]+)">Посмотреть его статус', page).group(1)
    assert link.replace("&amp;", "&") == sent.headers["Location"].removeprefix("http://localhost")
    assert request_key(page) != request_key(first.get_data(as_text=True))  # a fresh form


def test_the_api_honours_an_idempotency_key(client, app):
    headers = {"Idempotency-Key": "widget-7f3a-0001"}
    first = client.post("/api/v1/tickets", json=api_ticket(), headers=headers)
    again = client.post("/api/v1/tickets", json=api_ticket(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["number"] == again.get_json()["number"]
    # Each answer carries a working status link.
    for answer in (first, again):
        assert client.get(answer.get_json()["status_url"]).status_code == 200
    assert len(stored_tickets(app)) == 1
    assert client.post("/api/v1/tickets", json=api_ticket()).status_code == 201
    assert len(stored_tickets(app)) == 2


@pytest.mark.parametrize("key", ["short", "x" * 201, "ключ-идемпотентности", "a b c d e f"])
def test_a_malformed_idempotency_key_is_a_clear_400(client, app, key):
    response = client.post("/api/v1/tickets", json=api_ticket(),
                           headers={"Idempotency-Key": key.encode().decode("latin-1")})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["message"]
    assert stored_tickets(app) == []


def test_the_promised_answer_time_stays_on_every_visit(client, app):
    location = filled_location(client)
    first = client.get(location).get_data(as_text=True)
    assert "Мы ответим" in first
    for _ in range(2):
        again = client.get(location).get_data(as_text=True)
        assert re.search(r"<dt>Ожидаемый ответ</dt><dd>[^<]*по московскому времени</dd>",
                         again)
    assert "Europe/Moscow" not in first + again


def filled_location(client) -> str:
    return client.post("/tickets/new", data=filled_form(client)).headers["Location"]


def test_the_answer_time_reads_as_people_say_it_in_english(client, app):
    client.get("/language/en")
    page = client.get(filled_location(client)).get_data(as_text=True)
    assert re.search(r"We will answer (today by|tomorrow by|by \d+ \w+,) \d\d:\d\d, Moscow time\.",
                     page)


def test_a_passed_answer_time_names_its_day(app):
    from portal.tickets import due_phrase
    with app.test_request_context():
        due = dt.datetime(2026, 8, 20, 12, 0, tzinfo=dt.UTC)
        phrase = due_phrase(due, due + dt.timedelta(days=2))
    assert phrase == "до 20 августа, 15:00 по московскому времени"


def test_the_entry_the_portal_writes_says_what_happened(client, app):
    location = filled_location(client)
    page = client.get(location).get_data(as_text=True)
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(location.split("?")[0] + "/solved", data={
        "token": token, "csrf_token": csrf_token(page)})
    page = client.get(location).get_data(as_text=True)
    conversation = page[page.index('id="messages"'):]
    assert "Отмечено как решённое" in conversation
    assert "Изменение" not in conversation
