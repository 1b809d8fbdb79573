"""Hostile input in the ticket form and API: accepted and shown back escaped, or refused
with a clear message; never a 500, never script on the status page."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from markupsafe import escape

from portal.views.forms import clean_text

from .badinput import naughty_strings
from .badinput import unsafe_parts
from .badinput import xss_payloads
from .helpers import api_ticket
from .helpers import csrf_token
from .helpers import ticket_data

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


# --- JSON bodies: bounded in size and depth ------------------------------------------------

DEEP_ARRAY = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(("body", "status", "words"), [
    (DEEP_ARRAY, 400, "nested more than 20 levels"),
    ('{"subject": ' + "[" * 30 + "]" * 30 + "}", 400, "nested more than 20 levels"),
    ('{"subject": "' + "x" * 300_000 + '"}', 413, "larger than 256 KB"),
    ('{"subject": "Роутер', 400, "not valid JSON"),
    ("", 400, "not valid JSON"),
])
def test_hostile_json_gets_a_clear_answer(site, body, status, words):
    client = site.test_client()
    client.set_cookie("ui_lang", "en")
    response = client.post("/api/v1/tickets", data=body, content_type="application/json")
    assert response.status_code == status
    answer = response.get_json()
    assert words in answer.get("message", "") + json.dumps(answer.get("errors", {}))


def test_a_ticket_at_every_field_limit_in_escaped_cyrillic_is_accepted(site):
    longest = api_ticket(subject="ж" * 200, name="ж" * 200, description="ж" * 10_000,
                         error_text="ж" * 5000, version="ж" * 100, os="ж" * 100)
    body = json.dumps(longest)  # ensure_ascii: six bytes a letter
    assert len(body) > 90_000
    response = site.test_client().post("/api/v1/tickets", data=body,
                                       content_type="application/json")
    assert response.status_code == 201


def test_a_lone_surrogate_in_the_json_is_refused_or_kept_never_a_500(site):
    body = json.dumps(api_ticket(subject="@@ Роутер"), ensure_ascii=False)
    body = body.replace("@@", "\\ud800", 1)
    assert "\\ud800 Роутер" in body
    response = site.test_client().post("/api/v1/tickets", data=body,
                                       content_type="application/json")
    assert response.status_code in (201, 400)


def test_the_staff_api_bounds_json_the_same_way(site):
    response = site.test_client().post("/api/v1/tickets/INC-000001/links", data=DEEP_ARRAY,
                                       content_type="application/json",
                                       headers={"Authorization": "Bearer l0_nothing"})
    assert response.status_code in (400, 401)
    assert response.status_code != 500


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values, st.dictionaries(
    st.sampled_from(["name", "email", "subject", "description", "urgency", "occurred_at",
                     "category", "os"]), json_values, max_size=8)))
def test_any_json_body_is_answered_without_a_server_error(site, body):
    response = site.test_client().post("/api/v1/tickets", data=json.dumps(body),
                                       content_type="application/json")
    assert response.status_code in (201, 400), (response.status_code, body)
    assert response.is_json
