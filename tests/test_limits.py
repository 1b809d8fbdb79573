"""Rate limits: a client that votes too often is told to wait; others are not affected."""

from __future__ import annotations

import os
import re
import time
import uuid

import pytest
import redis

from portal.extensions import db
from portal.models import Vote

from .helpers import api_ticket
from .helpers import send_ticket
from .helpers import stored_tickets

ARTICLE = "/kb/internet/net-interneta"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TOO_MANY = "You sent too many requests. Please try again in 1 minute."


def english_client(app, address: str | None = None):
    """A test client reading the English interface (stable texts while Russian catches up)."""
    client = app.test_client()
    client.set_cookie("ui_lang", "en")
    if address:
        client.environ_base["REMOTE_ADDR"] = address
    return client


def csrf_token(client) -> str:
    page = client.get(ARTICLE).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def voter(client):
    """A function that votes once as `client` (with optional headers) and returns the answer."""
    token = csrf_token(client)

    def vote(answer="yes", **headers):
        return client.post(ARTICLE + "/feedback", headers=headers,
                           data={"csrf_token": token, answer: "x"})

    return vote


@pytest.fixture
def site(make_app, articles_dir):
    return make_app(articles_dir, RATELIMIT_VOTES="3 per minute")


def test_the_fourth_vote_in_a_minute_gets_a_clear_page(site):
    vote = voter(english_client(site))
    assert [vote(answer).status_code for answer in ("no", "yes", "no")] == [303, 303, 303]
    refused = vote("yes")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    assert "Too many requests" in page and TOO_MANY in page
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    with site.app_context():
        assert [v.helpful for v in db.session.scalars(db.select(Vote))] == [False]


def test_the_page_script_gets_the_message_as_json(site):
    vote = voter(english_client(site))
    for _ in range(3):
        vote(Accept="application/json")
    refused = vote(Accept="application/json")
    assert refused.status_code == 429
    assert refused.get_json() == {"error": "Too many requests", "message": TOO_MANY,
                                  "status": 429, "errors": [TOO_MANY]}
    assert int(refused.headers["Retry-After"]) >= 1


def test_the_russian_interface_says_it_too(site):
    vote = voter(site.test_client())
    for _ in range(3):
        vote()
    assert "Слишком много запросов" in vote().get_data(as_text=True)


def test_another_address_is_not_affected(site):
    vote = voter(english_client(site))
    for _ in range(4):
        vote()
    assert vote().status_code == 429
    neighbour = voter(english_client(site, "203.0.113.7"))
    assert neighbour().status_code == 303


def test_limits_can_be_switched_off(make_app, articles_dir):
    app = make_app(articles_dir, RATELIMIT_ENABLED=False, RATELIMIT_VOTES="3 per minute")
    vote = voter(app.test_client())
    assert {vote().status_code for _ in range(10)} == {303}


def test_behind_a_proxy_each_forwarded_address_counts_apart(make_app, articles_dir):
    app = make_app(articles_dir, RATELIMIT_VOTES="3 per minute", PROXY_FIX_X_FOR=1)
    vote = voter(english_client(app, "10.0.0.2"))
    first, second = ({"X-Forwarded-For": address} for address in ("198.51.100.1", "198.51.100.2"))
    assert [vote(**first).status_code for _ in range(4)] == [303, 303, 303, 429]
    assert vote(**second).status_code == 303


def test_without_proxy_fix_a_forged_forwarded_address_does_not_help(site):
    vote = voter(english_client(site))
    codes = [vote(**{"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in range(4)]
    assert codes == [303, 303, 303, 429]


@pytest.fixture
def redis_prefix():
    """A key prefix of its own in the test Redis, removed afterwards; skip without Redis."""
    server = redis.Redis.from_url(REDIS_URL)
    try:
        server.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis at {REDIS_URL} is unreachable ({error}); set TEST_REDIS_URL")
    prefix = f"line0-test-{uuid.uuid4().hex}"
    yield prefix
    keys = list(server.scan_iter(match=f"*{prefix}*"))
    if keys:
        server.delete(*keys)
    server.close()


@pytest.mark.parametrize(("storage", "shared"), [("redis", True), ("memory://", False)])
def test_redis_shares_the_count_between_app_instances(make_app, articles_dir, redis_prefix,
                                                      storage, shared):
    """Like two server processes: the second instance, started after the first used up the
    limit, refuses too with Redis; with memory storage each instance starts from zero."""
    settings = {"RATELIMIT_VOTES": "3 per minute", "RATELIMIT_KEY_PREFIX": redis_prefix,
                "RATELIMIT_STORAGE_URI": REDIS_URL if storage == "redis" else storage}
    first = make_app(articles_dir, **settings)
    vote = voter(first.test_client())
    assert [vote().status_code for _ in range(3)] == [303, 303, 303]
    if shared:
        server = redis.Redis.from_url(REDIS_URL)
        assert list(server.scan_iter(match=f"*{redis_prefix}*"))  # the count is in Redis
        server.close()
    second = make_app(articles_dir, **settings)
    assert voter(second.test_client())().status_code == (429 if shared else 303)


@pytest.mark.parametrize(("settings", "message"), [
    ({"RATELIMIT_VOTES": "3 per minit"}, "RATELIMIT_VOTES: cannot read the rate limit"),
    ({"RATELIMIT_TICKETS": ""}, "RATELIMIT_TICKETS"),
    ({"PROXY_FIX_X_FOR": "yes"}, "PROXY_FIX_X_FOR: expected the number of proxies"),
])
def test_a_wrong_limit_setting_stops_the_start(make_app, articles_dir, settings, message):
    with pytest.raises(ValueError, match=message):
        make_app(articles_dir, **settings)


def test_an_unreachable_redis_never_breaks_voting(make_app, articles_dir):
    app = make_app(articles_dir, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0",
                   RATELIMIT_VOTES="3 per minute")
    vote = voter(app.test_client())
    answers = [vote().status_code for _ in range(5)]
    assert 500 not in answers
    assert answers[0] == 303  # the vote itself still counts



def test_an_app_counts_on_its_own_after_another_lost_its_redis(make_app, articles_dir):
    """Apps built one after another in a process (tests, a reloading server): the one that
    lost its Redis does not leave the next counting somewhere else."""
    broken = make_app(articles_dir, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0",
                      RATELIMIT_VOTES="3 per minute")
    broken_vote = voter(broken.test_client())
    for _ in range(3):
        broken_vote()
    app = make_app(articles_dir, RATELIMIT_VOTES="3 per minute")
    vote = voter(app.test_client())
    answers = [vote().status_code for _ in range(2)]
    time.sleep(2.5)  # Flask-Limiter looks again at a storage it saw down every 2, 4, ... s
    answers += [vote().status_code for _ in range(2)]
    assert answers == [303, 303, 303, 429]


def test_building_a_second_app_keeps_the_first_ones_counts(make_app, articles_dir):
    first = make_app(articles_dir, RATELIMIT_VOTES="3 per minute")
    vote = voter(first.test_client())
    assert [vote().status_code for _ in range(2)] == [303, 303]
    make_app(articles_dir, RATELIMIT_VOTES="3 per minute")
    assert [vote().status_code for _ in range(2)] == [303, 429]

# --- new tickets: one count for the form and the API, created tickets only ---------------


@pytest.fixture
def ticket_site(make_app, articles_dir):
    return make_app(articles_dir, RATELIMIT_TICKETS="3 per hour",
                    SUPPORT_PHONE="8 800 000-00-00", SUPPORT_EMAIL="support@vektor.example")


def test_the_form_and_the_api_share_one_ticket_limit(ticket_site):
    form, api = ticket_site.test_client(), ticket_site.test_client()
    assert send_ticket(form).status_code == 303
    assert api.post("/api/v1/tickets", json=api_ticket()).status_code == 201
    assert send_ticket(form).status_code == 303
    refused = api.post("/api/v1/tickets", json=api_ticket())
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "8 800 000-00-00" in refused.get_json()["support"]
    assert send_ticket(form).status_code == 429
    assert len(stored_tickets(ticket_site)) == 3


def test_a_form_sent_back_with_mistakes_costs_nothing(ticket_site):
    client = ticket_site.test_client()
    for _ in range(5):
        assert send_ticket(client, email="not an address").status_code == 400
    assert ticket_site.test_client().post(
        "/api/v1/tickets", json=api_ticket(email="nope")).status_code == 400
    assert [send_ticket(client).status_code for _ in range(3)] == [303, 303, 303]
    assert send_ticket(client).status_code == 429


def test_over_the_limit_the_page_says_when_and_how_else_to_reach_support(ticket_site):
    client = english_client(ticket_site)
    for _ in range(3):
        assert send_ticket(client).status_code == 303
    refused = send_ticket(client, subject="Четвёртая заявка")
    assert refused.status_code == 429
    page = refused.get_data(as_text=True)
    wait = int(refused.headers["Retry-After"])
    minutes = max(1, round(wait / 60))
    assert f"You can send this one in {minutes} minutes" in page
    assert "Четвёртая заявка" in page  # what was typed is kept
    assert 'href="tel:88000000000"' in page
    assert 'href="mailto:support@vektor.example"' in page


def test_the_russian_page_says_it_in_russian(ticket_site):
    client = ticket_site.test_client()
    assert [send_ticket(client).status_code for _ in range(3)] == [303, 303, 303]
    page = send_ticket(client).get_data(as_text=True)
    assert re.search(r"Отправить это обращение можно через \d+ минут", page)
    assert "Если ждать нельзя, свяжитесь с нами напрямую:" in page
