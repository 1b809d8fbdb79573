"""Helpers for tests of the staff side: accounts, logging in and out, a ticket to work on,
the buttons of the ticket page."""

from __future__ import annotations

import re

from portal import staff

from .helpers import csrf_token
from .helpers import send_ticket

PASSWORD = "correct horse battery"
#: The name of the agent `agent` logs in by default.
AGENT = "Анна Смирнова"


def make_staff(app, role: str = "agent", email: str | None = None, name: str | None = None,
               password: str = PASSWORD) -> int:
    """Create an account; its id."""
    with app.app_context():
        user = staff.create_user(email or f"{role}@example.com", name or role.capitalize(),
                                 role, password)
        return user.id


def log_in(client, email: str, password: str = PASSWORD, next_url: str = ""):
    """Fill in and send the login form; the response."""
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"email": email, "password": password, "next": next_url,
                                       "csrf_token": csrf_token(page)})


class AuthActions:
    """Log one test client in and out as a staff member, through the pages a person uses
    (the `auth` fixture, as in Flask's tutorial)."""

    def __init__(self, client):
        self._client = client

    def login(self, email: str = "agent@example.com", password: str = PASSWORD,
              next_url: str = ""):
        """Send the login form; the response."""
        return log_in(self._client, email, password, next_url)

    def logout(self):
        """Press "Log out" (a POST with the session's CSRF token); the response."""
        return self._client.post("/logout", data={"csrf_token": page_token(self._client,
                                                                           "/tickets/new")})


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


def agent(app, name: str = AGENT, email: str = "anna@example.com", role: str = "agent"):
    """A test client logged in as a new staff member, reading the console in English."""
    make_staff(app, role, email, name)
    client = app.test_client()
    client.set_cookie("ui_lang", "en")
    assert log_in(client, email).status_code == 303
    return client


def file_ticket(app, client=None, **overrides) -> tuple[str, str]:
    """A customer sends a ticket; its number and the private status link."""
    response = send_ticket(client or app.test_client(), **overrides)
    assert response.status_code == 303
    location = response.headers["Location"]
    return re.search(r"/tickets/([A-Z]+-\d+)", location).group(1), location


def token(client, number: str) -> str:
    """The staff session's CSRF token, as the ticket page's forms carry it."""
    if not hasattr(client, "csrf"):
        page = client.get(f"/agent/tickets/{number}").get_data(as_text=True)
        client.csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.csrf


def act(client, number: str, action: str, **data):
    """Press a button of the ticket page."""
    data.setdefault("csrf_token", token(client, number))
    return client.post(f"/agent/tickets/{number}/{action}", data=data)
