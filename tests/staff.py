"""Helpers for tests of the staff side: accounts, logging in, a ticket to work on."""

from __future__ import annotations

import re

from portal import staff

from .test_tickets import csrf_token
from .test_tickets import send_ticket

PASSWORD = "correct horse battery"


def make_staff(app, role: str = "agent", email: str | None = None, name: str | None = None,
               password: str = PASSWORD) -> int:
    """Create an account; its id."""
    with app.app_context():
        user = staff.create_user(email or f"{role}@example.com", name or role.capitalize(),
                                 role, password)
        return user.id


def log_in(client, email: str, password: str = PASSWORD, next_url: str = ""):
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"email": email, "password": password, "next": next_url,
                                       "csrf_token": csrf_token(page)})


def staff_client(app, role: str = "agent", email: str | None = None):
    """A test client logged in as a new account with `role`."""
    email = email or f"{role}@example.com"
    make_staff(app, role, email)
    client = app.test_client()
    response = log_in(client, email)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return client


def new_ticket_number(app, **overrides) -> str:
    """A customer files a ticket (searching first); its number."""
    customer = app.test_client()
    customer.get("/search", query_string={"q": "роутер мигает красным"})
    response = send_ticket(customer, **overrides)
    assert response.status_code == 303
    return re.search(r"/tickets/([A-Z]+-\d+)", response.headers["Location"]).group(1)


def page_token(client, url: str) -> str:
    """The CSRF token of a staff page."""
    return csrf_token(client.get(url).get_data(as_text=True))
