"""Hostile text on the staff side. What customers typed (every ticket field, their names,
their searches in the trail, the page they came from) and what staff typed (replies, notes,
escalation notes, vendors, flag comments, article requests, their own names, API token
names) is shown as text in the queue, on the ticket page with its history and on the tokens
page: no element, event handler or script address comes out of it."""

from __future__ import annotations

import json
import random
from urllib.parse import quote
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import Ticket
from portal.views.forms import clean_text

from .badinput import Page
from .badinput import check_page
from .badinput import pack
from .badinput import xss_payloads
from .helpers import api_ticket
from .staff import log_in
from .staff import make_staff
from .staff import page_token

SEARCHES = 6  # hostile searches before each ticket, the trail shows them
ARTICLE = "account/sbros-parolya"
#: What a Referer header may carry as it is (the rest is percent-encoded).
PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != "%")
LIMITS = {"name": 200, "subject": 200, "version": 100, "os": 100, "description": 4500,
          "error_text": 4500, "query": 200, "referrer": 150, "reply": 4500, "note": 4500,
          "escalation": 2000, "vendor": 200, "vendor_ref": 200, "flag": 2000, "topic": 300,
          "request_note": 2000, "token": 100, "kb": 500, "next": 500}


@pytest.fixture
def site(make_app, articles_dir):
    return make_app(articles_dir, RATELIMIT_ENABLED=False)


def one_line(text: str) -> str:
    """A name as stored: its whitespace runs made single spaces (staff and token names)."""
    return " ".join(clean_text(text).split())


class Texts:
    """An endless supply of hostile texts per field: the long fields take the whole list in
    order; each short field a fixed sample of the payloads that fit it."""

    def __init__(self, payloads: list[str]):
        self.payloads = payloads
        self.packed: dict[str, list[tuple[str, int]]] = {}
        self.used: dict[str, int] = {}

    def __call__(self, field: str) -> str:
        if field not in self.packed:
            long = LIMITS[field] >= 2000
            # A short field takes the payloads that fit it (the long fields take them all).
            pool = self.payloads if long else [p for p in self.payloads
                                                if len(p) <= LIMITS[field]]
            if not long:  # a sample of its own, the same on every run
                pool = random.Random(field).sample(pool, len(pool))
            self.packed[field] = pack(pool, LIMITS[field], "\n\n" if long else " ")
            self.used[field] = 0
        texts = self.packed[field]
        text = texts[self.used[field] % len(texts)][0]
        self.used[field] += 1
        return text

    def payloads_sent(self) -> dict[str, int]:
        """How many payloads of the list each field has received."""
        return {field: sum(count for _text, count in texts[:self.used[field]])
                for field, texts in self.packed.items()}


def file_ticket(site, fields: dict, searches: list[str], referrer: str) -> str:
    """A customer who came from `referrer` searches, then files a ticket by the widget API."""
    customer = site.test_client()
    for query in searches:
        response = customer.get("/search", query_string={"q": query},
                                headers={"Referer": referrer})
        assert response.status_code == 200, query[:60]
    response = customer.post("/api/v1/tickets", json=api_ticket(**fields),
                             headers={"Referer": referrer})
    assert response.status_code == 201, (response.get_json(), fields["subject"][:60])
    return response.get_json()["number"]


def work_on(agent, number: str, token: str, texts) -> None:
    """Everything an agent types about a ticket, through the ticket page's forms."""
    base = f"/agent/tickets/{number}"
    steps = [
        ("take", {}),
        ("reply", {"body": texts("reply"), "visibility": "public", "then": ""}),
        ("reply", {"body": texts("note"), "visibility": "internal", "then": ""}),
        ("flag", {"article": ARTICLE, "kind": "wrong", "comment": texts("flag")}),
        ("links", {"article": ARTICLE}),
        ("escalate", {"line": "4", "note": texts("escalation"), "vendor": texts("vendor"),
                      "vendor_ref": texts("vendor_ref")}),
        ("resolve", {"outcome": "no_article", "article": "", "topic": texts("topic"),
                     "note": texts("request_note")}),
    ]
    for action, data in steps:
        response = agent.post(f"{base}/{action}", data={**data, "csrf_token": token})
        assert response.status_code == 303, (action, response.get_data(as_text=True)[:300])


def shown_on_ticket_page(ticket: Ticket) -> list[str]:
    """The stored texts the ticket page shows, customer's and staff's."""
    trail = json.loads(ticket.trail)
    texts = [ticket.subject, ticket.name, ticket.description, ticket.error_text, ticket.version,
             ticket.os, ticket.vendor, ticket.vendor_ref]
    # Addresses are not shown as sent: another site's as its host and path (as text), a
    # page of this one by its title (see tests/test_agent_ticket_page.py).
    referrer = (trail.get("session") or {}).get("referrer")
    if referrer:
        parts = urlsplit(referrer)
        texts.append(" ".join((parts.netloc + parts.path).split())[:100])
    texts += [s["query"] for s in trail["searches"]]
    texts += [m.body for m in ticket.messages]
    for event in ticket.events:
        data = json.loads(event.data or "{}")
        texts += [data.get("note"), data.get("request")]
    return [t for t in texts if t]


def own_tags_of(site, agent, token) -> set[str]:
    """Every kind of element the staff pages use, from pages about harmless text."""
    number = file_ticket(site, dict(error_text="Ошибка 651", version="2.1", os="Android 14"),
                         ["роутер", "телепорт"], "https://example.com/help/router")
    work_on(agent, number, token, lambda field: "Обычный текст: http://example.com/a?b=1.")
    agent.post("/account/tokens", data={"name": "Helpdesk", "csrf_token": token})
    tags: set[str] = set()
    for url in (f"/agent/tickets/{number}", f"/agent/tickets/{number}?kb=пароль",
                "/agent/?view=all", "/account/tokens", "/login"):
        response = (site.test_client() if url == "/login" else agent).get(url)
        assert response.status_code == 200, url
        tags |= Page(response.get_data(as_text=True)).tags
    return tags


def test_hostile_text_on_every_staff_page_is_shown_as_text(site):
    payloads = xss_payloads()
    texts = Texts(payloads)
    staff_name = one_line(texts("name"))
    make_staff(site, "agent", "agent@example.com", name=staff_name)
    agent = site.test_client()
    assert log_in(agent, "agent@example.com").status_code == 303
    token = page_token(agent, "/account/tokens")
    own_tags = own_tags_of(site, agent, token)
    assert "script" in own_tags and "form" in own_tags

    numbers = []
    # As many tickets as it takes for the long fields to receive every payload.
    for _ in range(len(pack(payloads, LIMITS["description"], "\n\n"))):
        fields = {field: texts(field) for field in
                  ("name", "subject", "description", "error_text", "version", "os")}
        referrer = "https://example.com/" + quote(texts("referrer"), safe=PRINTABLE)
        number = file_ticket(site, fields, [texts("query") for _ in range(SEARCHES)], referrer)
        work_on(agent, number, token, texts)
        numbers.append(number)
    for _ in range(150):
        name = texts("token")
        response = agent.post("/account/tokens", data={"name": name, "csrf_token": token})
        assert response.status_code == 200
        created = Page(response.get_data(as_text=True))
        assert created.problems == [] and created.tags <= own_tags, created.problems[:5]
        assert one_line(name) in created.text

    with site.app_context():
        stored = {t.number: t for t in db.session.scalars(
            select(Ticket).where(Ticket.number.in_(numbers)))}
        for number in numbers:
            kb = texts("kb")
            shown = shown_on_ticket_page(stored[number]) + [staff_name]
            page = check_page(agent, f"/agent/tickets/{number}?kb={quote(kb)}", own_tags, shown)
            assert page.values["kb-query"] == kb
        # The trail and the page of origin really carried hostile text to the page.
        trails = [json.loads(t.trail) for t in stored.values()]
        assert all(len(trail["searches"]) == SEARCHES for trail in trails)
        assert all(trail["session"]["referrer"] and t.source_page
                   for trail, t in zip(trails, stored.values(), strict=True))
        subjects = [t.subject for t in stored.values()]
        names = [t.name for t in stored.values()]
    queue_text = ""
    for page in (1, 2):
        queue_text += check_page(agent, f"/agent/?view=all&page={page}", own_tags,
                                 [staff_name] if page == 1 else []).text
    assert [s for s in subjects + names if s not in queue_text] == []
    tokens_page = check_page(agent, "/account/tokens", own_tags, [staff_name])
    stranger = site.test_client()
    for _ in range(40):
        target = texts("next")
        login = check_page(stranger, f"/login?next={quote(target)}", own_tags)
        assert login.values["next"] == target
    token_names = [one_line(text) for text, _count in texts.packed["token"][:150]]
    assert [n for n in token_names if n not in tokens_page.text] == []
    sent = texts.payloads_sent()
    assert all(sent[f] >= len(payloads) for f in ("description", "error_text", "reply", "note"))
    assert min(sent.values()) >= 50, sent
