"""Helpers for tests of the customer side: the ticket form and the API, results, votes."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Ticket


def csrf_token(page: str) -> str:
    """The CSRF token of the (first) form on `page`."""
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def ticket_data(**overrides) -> dict:
    """The fields of the ticket form, filled in as a customer would (with `overrides`)."""
    data = {"name": "Ирина Петрова", "email": "irina@example.com",
            "subject": "Роутер мигает красным", "urgency": "normal", "category": "",
            "description": "После грозы роутер мигает красным, интернета нет.",
            "version": "", "os": "", "occurred_at": "", "error_text": ""}
    data.update(overrides)
    return data


def api_ticket(**overrides) -> dict:
    """A ticket for the widget API: the form's fields without the empty ones."""
    data = ticket_data(**overrides)
    return {key: value for key, value in data.items() if value != ""}


def send_ticket(client, came_from: str = "/", **overrides):
    """Open the ticket form (from `came_from`) and send it; the response."""
    page = client.get("/tickets/new", query_string={"came_from": came_from})
    data = ticket_data(**overrides)
    data["csrf_token"] = csrf_token(page.get_data(as_text=True))
    data["came_from"] = came_from
    return client.post("/tickets/new", data=data)


def stored_tickets(app) -> list[Ticket]:
    """Every ticket as stored, with its messages, oldest first."""
    with app.app_context():
        found = list(db.session.scalars(select(Ticket).options(selectinload(Ticket.messages))
                                        .order_by(Ticket.id)))
        db.session.expunge_all()
        return found


def result_links(page: str) -> list[str]:
    """The links of the results on a search page, top to bottom."""
    return [h.replace("&amp;", "&") for h in re.findall(r'<h2><a href="(/kb/[^"]+)"', page)]


def open_result(client, query: str, rank: int = 1) -> str:
    """Search, open the result at `rank`; the article page's HTML."""
    page = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    return client.get(result_links(page)[rank - 1]).get_data(as_text=True)


def vote(client, article_page: str, helpful: bool, reason: str | None = None) -> None:
    """Answer "Was this helpful?" on an article page (with a `reason` for a no)."""
    article = re.search(r'action="(/kb/[^"]+/feedback)"', article_page).group(1)
    data = {"csrf_token": csrf_token(article_page), "yes" if helpful else "no": "1"}
    if reason:
        data["reason"] = reason
    assert client.post(article, data=data).status_code == 303
