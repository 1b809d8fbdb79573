"""Tickets: "Still need help?" opens one that carries the search trail; the status page; the API."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy import text

from portal import outbox
from portal.extensions import db
from portal.models import OutboxMessage

from .conftest import database_urls
from .helpers import api_ticket
from .helpers import csrf_token
from .helpers import result_links
from .helpers import send_ticket
from .helpers import stored_tickets
from .helpers import ticket_data


def test_every_article_and_results_page_offers_help_in_the_same_place(client):
    for url in ("/kb/account/sbros-parolya", "/search?q=роутер", "/search?q=телепорт"):
        page = client.get(url).get_data(as_text=True)
        aside = page[page.index('class="still-need-help"'):]
        assert "Обратиться в поддержку" in aside
        assert "/tickets/new?came_from=" in aside
        assert page.index('class="still-need-help"') > page.index("</h1>")


def test_the_subject_is_the_query_as_typed_on_the_results_page_it_came_from(client):
    client.get("/search", query_string={"q": "письма на ivan@mail.ru не приходят"})
    page = client.get("/tickets/new", query_string={
        "came_from": "/search?q=письма+на+ivan%40mail.ru+не+приходят"}).get_data(as_text=True)
    # The customer's own words come back to them; only the stored log is masked.
    assert re.search(r'id="subject"[^>]*value="письма на ivan@mail.ru не приходят"', page)
    from_article = client.get("/tickets/new?came_from=/kb/account/sbros-parolya")
    assert 'value="письма на [email] не приходят"' in from_article.get_data(as_text=True)


def test_the_form_starts_from_the_last_search_and_suggests_articles(client):
    client.get("/search?q=роутер мигает")
    page = client.get("/tickets/new").get_data(as_text=True)
    assert re.search(r'id="subject"[^>]*value="роутер мигает"', page)
    suggestions = page[page.index("ticket-suggestions"):page.index('id="description"')]
    assert "/kb/internet/nastrojka-wi-fi?via=ticket_form" in suggestions


def test_subject_suggestions_as_json_name_the_form(client):
    data = client.get("/tickets/suggest?q=сбросить пароль").get_json()
    assert data["articles"][0]["url"] == "/kb/account/sbros-parolya?via=ticket_form"
    assert client.get("/tickets/suggest?q=").get_json() == {"articles": []}
    assert client.get("/tickets/suggest", query_string={"q": "<script>" * 40}).status_code == 200


@pytest.mark.parametrize("database", database_urls())
def test_a_ticket_carries_the_whole_search_trail(make_app, articles_dir, database):
    app = make_app(articles_dir, database)
    client = app.test_client()
    client.get("/search?q=телепорт в квартиру")                    # nothing found
    page = client.get("/search?q=роутер").get_data(as_text=True)   # found, opened, voted no
    article_page = client.get(result_links(page)[0]).get_data(as_text=True)
    view = re.search(r'data-view="([\w-]+)"', article_page).group(1)
    article_url = result_links(page)[0].split("?")[0]
    client.post(article_url + "/read", data={"view": view, "ms": "95000"})
    client.post(article_url + "/feedback", data={"csrf_token": csrf_token(article_page),
                                                 "no": "1", "reason": "not_solved"})
    response = send_ticket(client, came_from=article_url)
    assert response.status_code == 303

    confirmation = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "INC-000001" in confirmation
    assert urlsplit(response.headers["Location"]).path == "/tickets/INC-000001"
    assert "token=" in confirmation and "Мы ответим" in confirmation

    [ticket] = stored_tickets(app)
    trail = json.loads(ticket.trail)
    assert trail["source_page"] == article_url
    assert [(s["query"], s["results"] > 0, s["failure"]) for s in trail["searches"]] == [
        ("телепорт в квартиру", False, "no_results"), ("роутер", True, "voted_no")]
    assert trail["searches"][1]["opened"][0]["rank"] == 1
    [read] = trail["articles"]
    assert read["article_id"] == article_url.removeprefix("/kb/")
    assert read["seconds"] == 95 and read["via"] == "search"
    assert read["vote"] == {"helpful": False, "reason": "not_solved"}
    assert ticket.guessed_category == "internet"
    assert (ticket.status, ticket.line, ticket.lang) == ("new", 1, "ru")


def test_a_ticket_without_any_search_still_goes_through(client, app):
    response = send_ticket(client, came_from="/")
    assert response.status_code == 303
    [ticket] = stored_tickets(app)
    assert json.loads(ticket.trail)["searches"] == []
    # No trail: the category comes from what the text itself finds.
    assert ticket.guessed_category == "internet"


def test_the_answer_time_follows_business_hours(make_app, articles_dir):
    app = make_app(articles_dir, SUPPORT_HOURS="24/7", ANSWER_TARGET_MINUTES={
        "urgent": 30, "high": 60, "normal": 120, "low": 240})
    client = app.test_client()
    before = dt.datetime.now(dt.UTC)
    location = send_ticket(client, urgency="critical").headers["Location"]
    [ticket] = stored_tickets(app)
    assert ticket.priority == "urgent"
    assert dt.timedelta(minutes=29) < ticket.answer_due_at - before < dt.timedelta(minutes=31)
    page = client.get(location).get_data(as_text=True)
    due = ticket.answer_due_at.astimezone(dt.timezone(dt.timedelta(hours=3)))
    assert f"{due:%H:%M}" in page


@pytest.mark.parametrize("overrides, field, message", [
    ({"name": ""}, "name", "Укажите, как к вам обращаться"),
    ({"email": "ирина(at)example"}, "email", "не похоже на адрес"),
    ({"subject": "а"}, "subject", ""),
    ({"description": "   "}, "description", "Расскажите"),
    ({"description": "х" * 10_001}, "description", ""),
    ({"urgency": "panic"}, "urgency", ""),
    ({"category": "../etc"}, "category", ""),
    ({"occurred_at": "2999-01-01T10:00"}, "occurred_at", "в будущем"),
    ({"occurred_at": "вчера"}, "occurred_at", ""),
])
def test_wrong_fields_are_explained_and_nothing_typed_is_lost(client, app, overrides, field,
                                                              message):
    response = send_ticket(client, **overrides)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page or (field == "urgency" and "field-error" in page)
    assert message in page
    assert "После грозы роутер мигает красным" in page or field == "description"
    assert stored_tickets(app) == []


def test_a_form_without_its_csrf_token_is_refused(client, app):
    response = client.post("/tickets/new", data=ticket_data())
    assert response.status_code == 400
    assert stored_tickets(app) == []


def test_the_honeypot_stops_bots_with_a_clear_message(client, app):
    response = send_ticket(client, website="http://spam.example")
    assert response.status_code == 400
    assert "автоматически" in response.get_data(as_text=True)
    assert stored_tickets(app) == []


@pytest.mark.parametrize("number, token", [
    ("INC-000001", "wrong"), ("INC-000002", None), ("INC-000001", ""),
    ("INC-000001", "x" * 5000), ("../etc", None), ("INC-1' OR '1'='1", None),
])
def test_a_wrong_status_link_is_404_and_reveals_nothing(client, app, number, token):
    location = send_ticket(client).headers["Location"]
    real_token = location.split("token=")[1]
    response = client.get(f"/tickets/{number}",
                          query_string={"token": real_token if token is None else token})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Роутер мигает" not in page and "irina" not in page
    api = client.get(f"/api/v1/tickets/{number}",
                     query_string={"token": real_token if token is None else token})
    assert api.status_code == 404 and "irina" not in api.get_data(as_text=True)


def test_the_status_page_is_kept_out_of_caches_and_referrers(client):
    location = send_ticket(client).headers["Location"]
    response = client.get(location)
    refused = client.post("/tickets/INC-000001/messages", data={
        "csrf_token": csrf_token(response.get_data(as_text=True)),
        "token": location.split("token=")[1], "body": ""})
    assert refused.status_code == 400
    for answer in (response, refused):
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["Referrer-Policy"] == "no-referrer"
        assert 'name="robots" content="noindex"' in answer.get_data(as_text=True)


def test_the_customer_writes_again_and_marks_it_solved(client, app):
    location = send_ticket(client).headers["Location"]
    token = location.split("token=")[1]
    page = client.get(location).get_data(as_text=True)
    response = client.post("/tickets/INC-000001/messages", data={
        "csrf_token": csrf_token(page), "token": token, "body": "Перезагрузка не помогла."})
    assert response.status_code == 303
    page = client.get(location).get_data(as_text=True)
    assert "Перезагрузка не помогла." in page
    client.post("/tickets/INC-000001/solved", data={"csrf_token": csrf_token(page),
                                                    "token": token, "solved": "1"})
    page = client.get(location).get_data(as_text=True)
    assert "Решено" in page
    client.post("/tickets/INC-000001/messages", data={
        "csrf_token": csrf_token(page), "token": token, "body": "Снова мигает!"})
    [ticket] = stored_tickets(app)
    assert ticket.status == "open"  # writing again reopens it
    assert [m.author for m in ticket.messages] == ["customer", "system", "customer"]


def test_a_message_with_a_wrong_token_is_refused(client, app):
    location = send_ticket(client).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    response = client.post("/tickets/INC-000001/messages", data={
        "csrf_token": csrf_token(page), "token": "guess", "body": "чужое"})
    assert response.status_code == 404
    assert stored_tickets(app)[0].messages == []


def test_urgency_and_angry_wording_raise_the_priority(client, app):
    send_ticket(client, urgency="high", subject="Счёт за ноябрь")
    send_ticket(client, subject="Это УЖАС и ПОЗОР, НИЧЕГО НЕ РАБОТАЕТ!!!",
                description="Безобразие, верните деньги, буду жаловаться в суд.")
    calm, angry = stored_tickets(app)
    assert (calm.priority, calm.priority_reasons) == ("high", "urgency:high")
    assert angry.priority == "high" and "negative_wording" in angry.priority_reasons
    assert not calm.mass_incident and not angry.mass_incident


def test_a_surge_of_similar_tickets_is_flagged_as_a_mass_incident(make_app, articles_dir):
    app = make_app(articles_dir, RATELIMIT_ENABLED=False, SURGE_TICKETS=3)
    for number, subject in enumerate(["Нет интернета с утра", "Пропал интернет с утра",
                                      "С утра нет интернета"]):
        client = app.test_client()
        send_ticket(client, subject=subject, email=f"c{number}@example.com")
    first, second, third = stored_tickets(app)
    assert third.mass_incident and "mass_incident" in third.priority_reasons
    assert third.priority == "high"
    assert first.mass_incident and second.mass_incident  # the earlier ones are marked too


def test_a_surge_of_failed_searches_is_flagged_as_a_mass_incident(make_app, articles_dir):
    app = make_app(articles_dir, SURGE_FAILED_SEARCHES=4)
    for _visitor in range(4):
        app.test_client().get("/search?q=телевидение пропало")
    client = app.test_client()
    send_ticket(client, subject="Пропало телевидение")
    [ticket] = stored_tickets(app)
    assert ticket.mass_incident


MAIL_FROM = {"MAIL_SENDER": "Вектор <help@vector.example>"}


def test_mail_goes_to_the_customer_and_the_webhook_to_the_helpdesk(make_app, articles_dir,
                                                                    smtp_server, http_receiver):
    app = make_app(articles_dir, **smtp_server.settings, **http_receiver.settings, **MAIL_FROM)
    client = app.test_client()
    client.get("/search?q=телепорт")
    location = send_ticket(client).headers["Location"]
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "irina@example.com"
    assert "INC-000001" in mail["Subject"]
    body = mail.get_content()
    assert location in body and "Ирина Петрова" in body
    [call] = http_receiver.wait_for(1)
    sent = call.json
    assert sent["event"] == "ticket.created"
    assert sent["data"]["ticket"]["number"] == "INC-000001"
    assert sent["data"]["ticket"]["trail"]["searches"][0]["failure"] == "no_results"
    with app.app_context():
        outbox.stop()


def test_mail_down_never_loses_a_ticket(make_app, articles_dir, smtp_server):
    app = make_app(articles_dir, **smtp_server.settings, **MAIL_FROM)
    smtp_server.stop()
    client = app.test_client()
    response = send_ticket(client)
    assert response.status_code == 303
    assert "INC-000001" in client.get(response.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        outbox.stop()
        [message] = db.session.scalars(select(OutboxMessage)).all()
        assert message.status == "pending" and message.attempts >= 1
        smtp_server.start()
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        assert outbox.deliver_due(now=later).sent == 1
    [mail] = smtp_server.wait_for(1)
    assert "INC-000001" in mail["Subject"]


def test_a_failing_database_keeps_what_was_typed(client, app):
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE ticket RENAME TO ticket_gone"))
    response = send_ticket(client, subject="Роутер сгорел")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "Роутер сгорел" in page and "ничего из введённого не потеряно" in page.lower()


def test_too_many_tickets_are_refused_kindly(make_app, articles_dir):
    app = make_app(articles_dir, RATELIMIT_TICKETS="2 per hour")
    client = app.test_client()
    assert send_ticket(client).status_code == 303
    assert send_ticket(client).status_code == 303
    response = send_ticket(client, subject="Третий раз пишу")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Третий раз пишу" in page  # what was typed is still in the form
    assert response.headers.get("Retry-After")
    assert len(stored_tickets(app)) == 2


# --- the API ----------------------------------------------------------------------------


def test_the_api_opens_a_ticket_with_the_trail_of_the_visitor_cookie(client, app):
    client.get("/search?q=телепорт")  # the widget's page sets the visitor cookie
    response = client.post("/api/v1/tickets", json=api_ticket(
        occurred_at="2026-11-20T08:30:00Z", error_text="Ошибка 651"))
    assert response.status_code == 201
    data = response.get_json()
    assert data["number"] == "INC-000001"
    path = urlsplit(data["status_url"])
    ticket = client.get(f"/api/v1/tickets/{data['number']}?{path.query}").get_json()
    assert ticket["subject"] == "Роутер мигает красным"
    assert ticket["error_text"] == "Ошибка 651"
    assert ticket["occurred_at"].startswith("2026-11-20T08:30")
    assert ticket["trail"]["searches"][0]["query"] == "телепорт"
    assert ticket["trail"]["searches"][0]["failure"] == "no_results"


@pytest.mark.parametrize("body, status, key", [
    ({"name": "И"}, 400, "email"),
    (api_ticket(email="not-an-address"), 400, "email"),
    (api_ticket(subject=["a", "b"]), 400, "subject"),
    (api_ticket(urgency=5), 400, "urgency"),
    (api_ticket(priority="urgent"), 400, "_unknown"),
    (api_ticket(occurred_at="завтра"), 400, "occurred_at"),
    ([1, 2], 400, None),
    ("just text", 400, None),
])
def test_the_api_validates_like_the_form(client, app, body, status, key):
    response = client.post("/api/v1/tickets", json=body)
    assert response.status_code == status
    if key:
        assert key in response.get_json()["errors"]
    assert stored_tickets(app) == []


def test_the_api_wants_json(client, app):
    response = client.post("/api/v1/tickets", data=ticket_data())
    assert response.status_code == 415
    assert "JSON" in response.get_json()["message"]
    assert client.post("/api/v1/tickets", data="{bad json",
                       content_type="application/json").status_code == 400


def test_the_api_ticket_carries_nothing_for_a_cookieless_script(client, app):
    response = client.post("/api/v1/tickets", json=api_ticket())
    assert response.status_code == 201
    [ticket] = stored_tickets(app)
    assert json.loads(ticket.trail)["searches"] == []


def test_tracking_flush_then_trail_sees_the_last_search(client, app):
    """The search made a moment before the ticket is in its trail (no race with the writer)."""
    client.get("/search?q=роутер")
    send_ticket(client)
    [ticket] = stored_tickets(app)
    assert [s["query"] for s in json.loads(ticket.trail)["searches"]] == ["роутер"]


def test_too_many_messages_keep_the_message_typed(make_app, articles_dir):
    app = make_app(articles_dir, RATELIMIT_TICKET_MESSAGES="1 per hour")
    client = app.test_client()
    location = send_ticket(client).headers["Location"]
    token = location.split("token=")[1]
    page = client.get(location).get_data(as_text=True)
    form = {"csrf_token": csrf_token(page), "token": token}
    assert client.post("/tickets/INC-000001/messages",
                       data={**form, "body": "Первое"}).status_code == 303
    response = client.post("/tickets/INC-000001/messages", data={**form, "body": "Второе"})
    assert response.status_code == 429
    assert "Второе</textarea>" in response.get_data(as_text=True)


def test_marking_solved_while_the_database_fails_says_so(client, app):
    location = send_ticket(client).headers["Location"]
    page = client.get(location).get_data(as_text=True)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE ticket_message RENAME TO gone"))
    response = client.post("/tickets/INC-000001/solved", data={
        "csrf_token": csrf_token(page), "token": location.split("token=")[1], "solved": "1"})
    assert response.status_code == 503
    assert "Попробуйте ещё раз через минуту" in response.get_data(as_text=True)
