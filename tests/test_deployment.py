"""Where the site lives: links from PORTAL_BASE_URL that no Host header can move, hosts it
refuses, the proxies it trusts and cookies that stay on HTTPS."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func
from sqlalchemy import select

from portal.extensions import db
from portal.models import Ticket

from .helpers import csrf_token
from .helpers import send_ticket
from .helpers import ticket_data
from .staff import act
from .staff import agent
from .staff import make_staff

BASE = "https://help.example.com"
MAIL_FROM = {"MAIL_SENDER": "Линия 0 <help@line0.example>", "SUPPORT_HOURS": "24/7"}
API_TICKET = {k: v for k, v in ticket_data().items() if v}


@pytest.fixture
def site(make_app, articles_dir, smtp_server):
    """A site at BASE that also answers to internal names (a load balancer's checks)."""
    return make_app(articles_dir, BASE_URL=BASE + "/", TRUSTED_HOSTS="10.0.0.5, localhost",
                    **MAIL_FROM, **smtp_server.settings)


def ticket_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Ticket))


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"<>]+", text)


def test_a_forged_host_is_refused_and_nothing_is_created(site, smtp_server):
    client = site.test_client()
    for host in ("evil.example", "help.example.com.evil.example", "evil.example:443"):
        response = client.post("/api/v1/tickets", json=API_TICKET, headers={"Host": host})
        assert response.status_code == 400
        assert "host" in response.get_data(as_text=True)
        assert client.get("/", headers={"Host": host}).status_code == 400
    assert ticket_count(site) == 0
    assert smtp_server.wait_for(1, timeout=0.5) == []


def test_links_come_from_the_base_url_whatever_host_the_request_named(site, smtp_server):
    customer = site.test_client()
    response = customer.post("/api/v1/tickets", json=API_TICKET, base_url="http://10.0.0.5")
    assert response.status_code == 201
    status_link = response.get_json()["status_url"]
    assert status_link.startswith(f"{BASE}/tickets/INC-000001?token=")
    [confirmation] = smtp_server.wait_for(1)
    assert status_link in confirmation.get_content()
    assert all(link.startswith(BASE) for link in links_in(confirmation.get_content()))

    # The form answers with a redirect to the same kind of link.
    browser = site.test_client()
    page = browser.get("/tickets/new", base_url="http://10.0.0.5").get_data(as_text=True)
    form = browser.post("/tickets/new", base_url="http://10.0.0.5",
                        data={**ticket_data(), "csrf_token": csrf_token(page)})
    assert form.headers["Location"].startswith(f"{BASE}/tickets/INC-000002?token=")

    # The assignee's mail when the customer writes again, and the agent's reply to the customer.
    anna = agent(site)
    assert act(anna, "INC-000001", "take").status_code == 303
    token = status_link.split("token=")[1]
    page = customer.get(status_link.removeprefix(BASE), base_url="http://10.0.0.5")
    assert customer.post("/tickets/INC-000001/messages", base_url="http://10.0.0.5", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "token": token,
        "body": "Индикатор WAN не горит."}).status_code == 303
    assert act(anna, "INC-000001", "reply", visibility="public",
               body="Перезагрузите роутер.").status_code == 303
    mails = smtp_server.wait_for(4)
    [note] = [m for m in mails if m["To"] == "anna@example.com"]
    assert f"{BASE}/agent/tickets/INC-000001#conversation" in note.get_content()
    [reply] = [m for m in mails if m["To"] == "irina@example.com" and m is not confirmation
               and "INC-000001" in m["Subject"]]
    assert any(link.startswith(f"{BASE}/tickets/INC-000001?token=")
               for link in links_in(reply.get_content()))
    for mail in mails:
        assert all(link.startswith(BASE) for link in links_in(mail.get_content()))


def test_an_article_link_from_the_staff_api_is_under_the_base_url(site):
    make_staff(site, "agent", "api@example.com")
    number = send_ticket(site.test_client()).headers["Location"].split("/")[-1].split("?")[0]
    with site.app_context():
        from portal import staff

        secret = staff.create_token(staff.find_user("api@example.com"), "helpdesk").secret
    response = site.test_client().post(
        f"/api/v1/tickets/{number}/links", json={"article": "internet/net-interneta"},
        headers={"Authorization": f"Bearer {secret}"}, base_url="http://10.0.0.5")
    assert response.status_code == 201
    assert response.get_json()["url"].startswith(f"{BASE}/kb/internet/net-interneta?t=")


def test_a_base_url_with_a_path_names_the_prefix_once(make_app, articles_dir):
    app = make_app(articles_dir, BASE_URL="https://example.com/help", TRUSTED_HOSTS="localhost",
                   PROXY_FIX_X_PREFIX=1)
    response = app.test_client().post("/api/v1/tickets", json=API_TICKET,
                                      headers={"X-Forwarded-Prefix": "/help"})
    assert response.status_code == 201
    assert response.get_json()["status_url"].startswith(
        "https://example.com/help/tickets/INC-000001?token=")


def test_without_a_base_url_links_follow_the_request(client):
    response = client.post("/api/v1/tickets", json=API_TICKET,
                           base_url="http://portal.internal:8080")
    assert response.get_json()["status_url"].startswith(
        "http://portal.internal:8080/tickets/INC-000001?token=")


def test_a_forwarded_scheme_counts_only_from_a_trusted_proxy(make_app, articles_dir):
    https = {"X-Forwarded-Proto": "https"}
    trusting = make_app(articles_dir, PROXY_FIX_X_PROTO=1).test_client()
    answer = trusting.post("/api/v1/tickets", json=API_TICKET, headers=https)
    assert answer.get_json()["status_url"].startswith("https://localhost/tickets/")


def test_a_forged_forwarded_scheme_or_host_changes_nothing_by_default(client):
    answer = client.post("/api/v1/tickets", json=API_TICKET,
                         headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"})
    assert answer.get_json()["status_url"].startswith("http://localhost/tickets/")


def cookie_flags(response) -> dict[str, str]:
    """Each cookie the response sets, with its attributes as sent."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_under_an_https_address_every_cookie_is_secure(make_app, articles_dir):
    app = make_app(articles_dir, BASE_URL=BASE)
    client = app.test_client()
    cookies = cookie_flags(client.get("/tickets/new", base_url=BASE))
    cookies.update(cookie_flags(client.get("/language/en?next=/", base_url=BASE)))
    assert {"session", "l0_visitor", "ui_lang"} <= set(cookies)
    assert all("Secure" in header for header in cookies.values())


def test_under_a_plain_http_address_cookies_still_work(make_app, articles_dir):
    app = make_app(articles_dir, BASE_URL="http://127.0.0.1:5000", TRUSTED_HOSTS="localhost")
    cookies = cookie_flags(app.test_client().get("/tickets/new"))
    assert "session" in cookies and "Secure" not in cookies["session"]


@pytest.mark.parametrize("value", [
    "help.example.com", "ftp://help.example.com", "https://", "https://user:pw@help.example.com",
    "https://help.example.com/?page=1", "https://help.example.com/#top",
    "https://help.example.com:port", 42,
])
def test_a_wrong_base_url_stops_the_start_with_its_name(make_app, articles_dir, value):
    with pytest.raises(ValueError, match="BASE_URL"):
        make_app(articles_dir, BASE_URL=value)


@pytest.mark.parametrize(("setting", "value"), [
    ("PROXY_FIX_X_PROTO", "yes"), ("PROXY_FIX_X_HOST", -1), ("TRUSTED_HOSTS", {"a": 1}),
])
def test_a_wrong_proxy_or_host_setting_stops_the_start(make_app, articles_dir, setting, value):
    with pytest.raises(ValueError, match=setting):
        make_app(articles_dir, **{setting: value})
