"""The whole customer line in Chromium against `portal serve` (gunicorn), as deployed: search,
read, "did this help?", a ticket, the status page and its link."""

from __future__ import annotations

import re

import pytest
from flask_migrate import upgrade
from playwright.sync_api import Page
from playwright.sync_api import expect

from portal import create_app

from ..conftest import write_site
from ..processes import ServedPortal

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The test site served by `portal serve` with two workers, under its own address."""
    root = tmp_path_factory.mktemp("served")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "served", "ARTICLES_DIR": str(write_site(root / "articles")),
        "INDEX_DIR": str(root / "index"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'portal.sqlite3'}",
    })
    with app.app_context():
        upgrade()
    app.extensions["tracking"].close()
    server = ServedPortal(app.config, "--workers", "2", SUPPORT_PHONE="8 800 000-00-00")
    server.env["PORTAL_BASE_URL"] = server.url
    with server:
        yield server


def test_a_customer_goes_from_search_to_a_ticket_under_the_production_server(page: Page,
                                                                             served):
    page.goto(served.url + "/")
    page.get_by_role("combobox", name="Поиск по центру помощи").fill("ошибка 651")
    page.keyboard.press("Enter")
    result = page.locator(".result").first
    result.get_by_role("link", name="Нет интернета — что проверить").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Нет интернета — что проверить")

    feedback = page.locator("#feedback")
    feedback.get_by_role("button", name="Нет").click()
    expect(feedback.get_by_role("status")).to_contain_text("статья не помогла")

    help_box = page.locator(".still-need-help")
    expect(help_box.get_by_role("link", name="8 800 000-00-00")).to_have_attribute(
        "href", "tel:88000000000")
    help_box.get_by_role("link", name="Обратиться в поддержку").click()
    page.get_by_label("Тема", exact=True).fill("Ошибка 651 после перезагрузки")
    page.get_by_label("Что случилось?", exact=True).fill("Кабель на месте, ошибка осталась.")
    page.get_by_label("Ваше имя", exact=True).fill("Ирина")
    page.get_by_label("Электронная почта", exact=True).fill("irina@example.com")
    page.get_by_role("button", name="Отправить обращение").click()

    expect(page.get_by_role("heading", name="Ваше обращение принято")).to_be_visible()
    number = page.locator(".ticket-number strong").inner_text()
    assert re.fullmatch(r"INC-\d{6}", number)
    link = page.get_by_label("Ссылка на обращение").input_value()
    assert link.startswith(f"{served.url}/tickets/{number}?token=")

    # The link works on its own, in another browser, whichever worker answers.
    other = page.context.browser.new_page()
    try:
        other.goto(link)
        expect(other.get_by_role("heading", level=1)).to_contain_text(number)
    finally:
        other.close()
    assert f'"GET /tickets/{number} HTTP/1.1" 200' in served.log
    assert "token=" not in served.log
