"""The demo help center on a phone: no page of it scrolls sideways at 390 px, in Russian and
English, for customers and for staff; wide tables scroll inside their own box."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from playwright.sync_api import Page
from playwright.sync_api import expect
from werkzeug.serving import make_server

from portal import create_app

from ..conftest import CHEAP_PASSWORD_HASH
from .axe import axe_violations
from .conftest import whole_bodies
from .staff import log_in
from .staff import staff_account

pytestmark = pytest.mark.browser

DEMO_ARTICLES = Path(__file__).resolve().parents[2] / "articles"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo knowledge base served on a free port: (app, address)."""
    root = tmp_path_factory.mktemp("demo")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "demo", "ARTICLES_DIR": str(DEMO_ARTICLES),
        "INDEX_DIR": str(root / "index"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'portal.sqlite3'}",
        "SUPPORT_PHONE": "8 800 000-00-00", "SUPPORT_EMAIL": "support@vektor.example",
        "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,
    })
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, whole_bodies(app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["tracking"].close()


def customer_pages(app) -> list[str]:
    """Every page a customer can reach on the demo site, but the status page (made below)."""
    from portal.web.knowledge import current_index
    with app.test_request_context():
        catalog = current_index().catalog()
        categories = sorted({info.category for info in catalog.values() if info.category})
        articles = sorted(info.url for info in catalog.values()
                          if info.is_public and info.status == "published")
    assert len(articles) > 60
    return (["/", "/search?q=пароль", "/search?q=телепорт", "/tickets/new"]
            + [f"/category/{name}" for name in categories] + articles)


def sideways(page: Page) -> int:
    """How far the page scrolls sideways (0: it fits the screen)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


def too_wide(page: Page) -> list[str]:
    """The elements that reach past the right edge of the screen (for the failure message)."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > innerWidth + 0.5)
        .slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 60))""")


@pytest.mark.parametrize("code", ["ru", "en"])
def test_no_page_of_the_demo_site_scrolls_sideways_on_a_phone(browser, demo, code):
    app, address = demo
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{address}/language/{code}?next=/")
        created = page.request.post(address + "/api/v1/tickets", data={
            "name": "Пётр", "email": "petr@example.com", "subject": "Нет интернета",
            "description": "С утра не работает."})
        wide = []
        for path in customer_pages(app) + [created.json()["status_url"]]:
            page.goto(path if path.startswith("http") else address + path)
            if sideways(page) > 0:
                wide.append((path, sideways(page)))
        assert wide == []
    finally:
        context.close()


def test_a_wide_table_scrolls_inside_its_own_box(browser, page: Page, demo):
    _app, address = demo
    page.set_viewport_size(PHONE)
    page.goto(address + "/kb/email/kody-oshibok-smtp")
    table = page.locator(".article-body table").first
    inner, box = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
    assert inner > box  # the table is wider than the screen...
    assert sideways(page) == 0  # ...and only the table scrolls
    table.focus()  # by keyboard too
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(table).to_be_focused()
    assert table.evaluate("t => t.scrollLeft") > 0
    assert axe_violations(browser, address + "/kb/email/kody-oshibok-smtp", viewport=PHONE) == []


def test_staff_pages_fit_a_phone_and_fold_their_menu(browser, demo):
    app, address = demo
    staff_account(app, "expert@example.com", "Эксперт Эра", role="expert")
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        numbers = [page.request.post(address + "/api/v1/tickets", data={
            "name": f"Клиент {n}", "email": f"c{n}@example.com",
            "subject": "Не работает почта на телефоне после обновления",
            "description": "Письма не уходят."}).json()["number"] for n in range(3)]
        log_in(page, address, "expert@example.com", lands_on="Статьи")
        for path in ("/agent/", "/agent/?view=all", f"/agent/tickets/{numbers[0]}",
                     "/expert/", "/expert/gaps",
                     "/expert/analytics", "/expert/inbox", "/expert/search-terms",
                     "/expert/articles/new", "/expert/articles/account/sbros-parolya/edit",
                     "/expert/articles/account/sbros-parolya/history", "/account/tokens"):
            page.goto(address + path)
            assert sideways(page) == 0, (path, too_wide(page))
        page.goto(address + "/agent/")
        queue = page.locator("table.queue")
        assert queue.evaluate("t => t.scrollWidth > t.clientWidth")  # it scrolls in its box
        menu = page.get_by_role("button", name="Меню")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(page.get_by_role("link", name="Консоль эксперта")).to_be_hidden()
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        page.get_by_role("link", name="Консоль эксперта").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Статьи")
        expect(page.locator("footer")).to_have_count(0)  # the consoles are work, not the site
        assert axe_violations(browser, address + "/agent/", viewport=PHONE,
                              storage_state=context.storage_state()) == []
    finally:
        context.close()


def test_wide_screens_keep_the_staff_links_in_view(browser, demo):
    app, address = demo
    staff_account(app, "agent@example.com", "Агент Анна")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        log_in(page, address, "agent@example.com")
        expect(page.get_by_role("button", name="Меню")).to_be_hidden()
        expect(page.get_by_role("link", name="Очередь заявок")).to_be_visible()
    finally:
        context.close()
