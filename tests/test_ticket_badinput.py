"""Hostile input in the ticket form and API: accepted and shown back escaped, or refused
with a clear message; never a 500, never script on the status page."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from markupsafe import escape

from portal.forms import clean_text

from .badinput import naughty_strings
from .badinput import unsafe_parts
from .badinput import xss_payloads
from .test_tickets import api_ticket
from .test_tickets import csrf_token
from .test_tickets import ticket_data

TEXT_FIELDS = ("name", "subject", "description", "version", "os", "error_text")
LIMITS = {"name": 200, "subject": 200, "version": 100, "os": 100}


@pytest.fixture
def site(make_app, articles_dir):
    return make_app(articles_dir, RATELIMIT_ENABLED=False, TRACKING_ENABLED=False)


def main_part(page: str) -> str:
    return page[page.index("<main"):page.index("</main>")]


def fill(line: str) -> dict:
    """Every free-text field holds `line` (cut to the field's limit)."""
    return {field: line[:LIMITS.get(field, 5000)] for field in TEXT_FIELDS}


def own_forms(client) -> Counter:
    """What the inspector reports on pages filled with harmless text: the pages' own forms.
    Anything more on a page showing hostile input came from that input."""
    response = client.post("/api/v1/tickets", json=api_ticket())
    url = response.get_json()["status_url"].split("localhost", 1)[1]
    status_page = main_part(client.get(url).get_data(as_text=True))
    token = csrf_token(client.get("/tickets/new").get_data(as_text=True))
    refused = client.post("/tickets/new", data={**ticket_data(name=""), "csrf_token": token})
    assert refused.status_code == 400
    form_page = main_part(refused.get_data(as_text=True))
    return {"status": Counter(unsafe_parts(status_page)),
            "form": Counter(unsafe_parts(form_page))}


def check_answer(client, response, sent: dict, baseline: dict) -> None:
    """A refusal names what is wrong; an acceptance shows every field back escaped."""
    assert response.status_code in (303, 400), (response.status_code, sent["subject"][:60])
    page = response.get_data(as_text=True)
    if response.status_code == 400:
        assert 'class="field-error"' in page or 'class="form-errors"' in page
        assert Counter(unsafe_parts(main_part(page))) == baseline["form"]
        return
    status = client.get(response.headers["Location"])
    assert status.status_code == 200
    shown = main_part(status.get_data(as_text=True))
    assert Counter(unsafe_parts(shown)) == baseline["status"]
    for field in ("subject", "description", "error_text"):
        value = clean_text(sent[field])
        if value:
            assert str(escape(value)) in shown, (field, value[:60])


def test_every_naughty_string_in_every_form_field(site):
    client = site.test_client()
    baseline = own_forms(client)
    token = csrf_token(client.get("/tickets/new").get_data(as_text=True))
    for line in naughty_strings():
        sent = ticket_data(**fill(line))
        response = client.post("/tickets/new", data={**sent, "csrf_token": token})
        check_answer(client, response, sent, baseline)


@pytest.mark.parametrize("field", ["email", "category", "urgency", "occurred_at", "came_from"])
def test_naughty_strings_in_the_choice_fields_are_refused_or_ignored(site, field):
    client = site.test_client()
    token = csrf_token(client.get("/tickets/new").get_data(as_text=True))
    for line in naughty_strings()[::3]:
        sent = ticket_data(**{field: line})
        response = client.post("/tickets/new", data={**sent, "csrf_token": token})
        assert response.status_code in (303, 400), (field, line[:60])
        if field == "came_from" and response.status_code == 303:
            continue  # an odd page of origin is dropped, the ticket is fine
        if response.status_code == 400:
            assert f'id="{field}-error"' in response.get_data(as_text=True) or field == "urgency"


def test_xss_payloads_in_the_form_render_inert_on_the_status_page(site):
    client = site.test_client()
    baseline = own_forms(client)
    token = csrf_token(client.get("/tickets/new").get_data(as_text=True))
    payloads = xss_payloads()
    chunk: list[str] = []
    chunks = []
    for payload in payloads:
        if sum(len(p) + 2 for p in chunk) + len(payload) > 4500:
            chunks.append(chunk)
            chunk = []
        chunk.append(payload)
    chunks.append(chunk)
    for part in chunks:
        text = "\n\n".join(part)
        sent = ticket_data(name=part[0][:200], subject=("XSS " + part[0])[:200],
                           description=text, error_text=text, os=part[-1][:100])
        response = client.post("/tickets/new", data={**sent, "csrf_token": token})
        check_answer(client, response, sent, baseline)
        if response.status_code == 303:
            page = client.get(response.headers["Location"]).get_data(as_text=True)
            assert "<script" not in main_part(page).replace("&lt;script", "")


def test_every_naughty_string_through_the_api(site):
    client = site.test_client()
    for line in naughty_strings():
        response = client.post("/api/v1/tickets", json=api_ticket(**fill(line)))
        assert response.status_code in (201, 400), line[:60]
        body = response.get_json()
        if response.status_code == 400:
            assert body["errors"]
            continue
        path, query = body["status_url"].split("/tickets/", 1)[1].split("?")
        shown = client.get(f"/api/v1/tickets/{path}?{query}").get_json()
        assert shown["subject"] == clean_text(line[:200])


@pytest.mark.parametrize("value", [0, 1.5, True, [], {}, ["a"], {"$gt": ""}])
def test_non_text_json_values_are_refused_by_name(site, value):
    client = site.test_client()
    for field in ("name", "email", "subject", "description", "occurred_at", "urgency"):
        response = client.post("/api/v1/tickets", json=api_ticket(**{field: value}))
        assert response.status_code == 400, (field, value)
        assert field in response.get_json()["errors"]


def test_null_means_not_given(site):
    client = site.test_client()
    response = client.post("/api/v1/tickets", json=api_ticket(subject=None))
    assert "subject" in response.get_json()["errors"]
    response = client.post("/api/v1/tickets", json=api_ticket(occurred_at=None, os=None))
    assert response.status_code == 201


def test_huge_bodies_are_refused_before_they_are_read(site):
    client = site.test_client()
    response = client.post("/api/v1/tickets", data="{" + " " * (2 * 1024 * 1024) + "}",
                           content_type="application/json")
    assert response.status_code == 413
    page = client.post("/tickets/new", data={"description": "x" * (2 * 1024 * 1024)})
    assert page.status_code == 413
    assert "больше" in page.get_data(as_text=True) or "Слишком" in page.get_data(as_text=True)


def test_status_pages_of_hostile_tickets_keep_newlines_as_text(site):
    client = site.test_client()
    response = client.post("/api/v1/tickets", json=api_ticket(
        description="строка 1\n<b>строка 2</b>\r\nстрока 3"))
    url = response.get_json()["status_url"]
    page = client.get(url.split("localhost", 1)[1]).get_data(as_text=True)
    assert re.search(r"строка 1\n&lt;b&gt;строка 2&lt;/b&gt;\nстрока 3", page)
