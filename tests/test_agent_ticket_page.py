"""What the agent's ticket page says about the page the customer wrote from and where the
visit came from, the suggested articles' order, and the reply's promise about mail."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import update

from portal import tracking
from portal.extensions import db
from portal.models import Ticket

from .helpers import vote
from .staff import agent
from .staff import file_ticket


@pytest.fixture
def site(make_app, articles_dir):
    return make_app(articles_dir, SUPPORT_HOURS="24/7", RATELIMIT_ENABLED=False)


def sent_from(page: str) -> str:
    """The «Sent from» entry of the ticket's facts, as HTML."""
    found = re.search(r'<dd class="sent-from">(.*?)</dd>', page, re.S)
    assert found, "no «Sent from» entry"
    return found.group(1)


def with_source_page(app, number: str, address: str) -> None:
    """Store a page address on the ticket as an older version or a tool might have."""
    with app.app_context():
        db.session.execute(update(Ticket).where(Ticket.number == number)
                           .values(source_page=address))
        db.session.commit()


def test_a_ticket_sent_from_an_article_names_the_article_and_links_it(site):
    number, _link = file_ticket(
        site, came_from="/kb/account/sbros-parolya?utm_source=mail&utm_campaign=x&gclid=1")
    shown = sent_from(agent(site).get(f"/agent/tickets/{number}").get_data(as_text=True))
    assert shown == ('<a href="/kb/account/sbros-parolya" target="_blank" rel="noopener">'
                     'Как сбросить пароль от личного кабинета</a>')


@pytest.mark.parametrize("address, title, href", [
    ("/", "Home page", "/"),
    ("/search?q=%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C&utm_medium=cpc",
     "Search results for “пароль”", "/search?q=%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C"),
    ("/category/internet?fbclid=zzz", "Internet and Wi-Fi", "/category/internet"),
    ("/kb/internet/propal-internet", "Нет интернета — что проверить",   # an old address
     "/kb/internet/net-interneta"),
])
def test_a_page_of_the_site_is_shown_by_its_title(site, address, title, href):
    number, _link = file_ticket(site)
    with_source_page(site, number, address)
    shown = sent_from(agent(site).get(f"/agent/tickets/{number}").get_data(as_text=True))
    assert re.fullmatch(r'<a href="([^"]*)" target="_blank" rel="noopener">([^<]*)</a>', shown)
    assert html.unescape(re.search(r'href="([^"]*)"', shown).group(1)) == href
    assert html.unescape(re.search(r">([^<]*)</a>", shown).group(1)) == title


@pytest.mark.parametrize("address, shown", [
    ("javascript:alert(document.cookie)", "javascript:alert(document.cookie)"),
    ("JaVaScRiPt:alert(1)//", "JaVaScRiPt:alert(1)//"),
    ("data:text/html,<script>alert(1)</script>", "data:text/html,&lt;script&gt;"),
    ("https://evil.example/phish?utm_source=x", "evil.example/phish"),
    ("//evil.example/kb/x", "//evil.example/kb/x"),
    ("/\\evil.example", "/\\evil.example"),
    ("/kb/nope/missing?utm_source=x", "/kb/nope/missing"),
    ("/no/such/page?utm_source=x&a=1", "/no/such/page"),
    ("/tickets/INC-000009?token=secret", "The status page of ticket INC-000009"),
    ("/\x00/\r\nSet-Cookie: x", "\\x00"),
    ("/" + "a" * 600, "…"),
])
def test_a_hostile_or_unknown_address_is_text_never_a_link(site, address, shown):
    number, _link = file_ticket(site)
    with_source_page(site, number, address[:500])
    page = agent(site).get(f"/agent/tickets/{number}").get_data(as_text=True)
    entry = sent_from(page)
    assert "<a" not in entry and "<script" not in entry and "secret" not in entry
    assert shown in entry and "utm_" not in entry, entry
    assert "evil.example" not in "".join(re.findall(r'href="([^"]*)"', page))


def test_where_the_visit_came_from_is_shown_without_its_tracking_and_never_linked(site):
    customer = site.test_client()
    customer.get("/search", query_string={"q": "роутер"}, headers={
        "Referer": "https://evil.example/landing?utm_source=ads&gclid=42"})
    number, _link = file_ticket(site, customer)
    page = agent(site).get(f"/agent/tickets/{number}").get_data(as_text=True)
    trail = page[page.index('aria-labelledby="trail-title"'):]
    trail = trail[:trail.index("</section>")]
    assert "came from evil.example/landing" in trail
    assert "utm_source" not in trail and "gclid" not in trail
    assert 'href="https://evil.example' not in page


def test_an_article_the_customer_voted_unhelpful_is_suggested_last(site):
    customer = site.test_client()
    vote(customer, customer.get("/kb/account/sbros-parolya").get_data(as_text=True), False)
    with site.app_context():
        tracking.flush()
    number, _link = file_ticket(site, customer, subject="Как сбросить пароль",
                                description="Не могу сбросить пароль от личного кабинета")
    page = agent(site).get(f"/agent/tickets/{number}").get_data(as_text=True)
    suggested = page[page.index('aria-labelledby="suggested-title"'):]
    suggested = suggested[:suggested.index("</section>")]
    links = re.findall(r'<li class="kb-hit">\s*<a href="([^"]+)"', suggested)
    assert "/kb/account/sbros-parolya" in links and len(links) > 1, links
    assert links[-1] == "/kb/account/sbros-parolya", links
    assert "did not help" in suggested


def test_without_a_mail_server_a_reply_is_promised_on_the_status_page_only(site):
    number, status_link = file_ticket(site)
    anna = agent(site)
    page = anna.get(f"/agent/tickets/{number}").get_data(as_text=True)
    assert "sent by e-mail" not in page
    assert "status page only: no mail server is set up" in page
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    sent = anna.post(f"/agent/tickets/{number}/reply", follow_redirects=True, data={
        "csrf_token": token, "body": "Проверьте кабель", "visibility": "public", "then": ""})
    assert "The reply is on the customer&#39;s status page." in sent.get_data(as_text=True)
    assert "Проверьте кабель" in site.test_client().get(status_link).get_data(as_text=True)


def test_with_a_mail_server_a_reply_is_promised_by_mail(make_app, articles_dir):
    site = make_app(articles_dir, SUPPORT_HOURS="24/7", RATELIMIT_ENABLED=False,
                    MAIL_SERVER="127.0.0.1", MAIL_PORT=9, MAIL_SENDER="help@example.com")
    number, _link = file_ticket(site)
    page = agent(site).get(f"/agent/tickets/{number}").get_data(as_text=True)
    assert "Reply to the customer (sent by e-mail)" in page
    assert "status page only" not in page
