"""Staff in the browser tests: accounts in the live app, logging in through the page."""

from __future__ import annotations

from contextlib import contextmanager

from playwright.sync_api import Page
from playwright.sync_api import expect

from portal import staff

PASSWORD = "correct horse battery"


def staff_account(live_app, email: str, name: str, role: str = "agent") -> None:
    """An account in the live app (kept between tests: made once)."""
    with live_app.app_context():
        if staff.find_user(email) is None:
            staff.create_user(email, name, role, PASSWORD)


def log_in(page: Page, base_url: str, email: str, lands_on: str = "Очередь заявок") -> None:
    """Log in through the login page; the page it lands on has the heading `lands_on`."""
    page.goto(base_url + "/login")
    page.get_by_label("Электронная почта", exact=True).fill(email)
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name=lands_on, exact=True)).to_be_visible()


@contextmanager
def without_csp_watching_dialogs(browser):
    """A browser context with the pages' CSP switched off (only escaping and sanitizing stand
    between hostile text and script) and every alert, prompt or confirm it raised."""
    context = browser.new_context(bypass_csp=True)
    dialogs: list[str] = []
    context.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        yield context, dialogs
    finally:
        context.close()
