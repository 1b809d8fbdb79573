"""A customer who found nothing asks for help: the ticket carries what they searched."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import select

from portal import tracking
from portal.extensions import db
from portal.models import ArticleEvent
from portal.models import Ticket

from .axe import axe_violations

pytestmark = pytest.mark.browser


def test_a_failed_search_becomes_a_ticket_that_remembers_it(page: Page, base_url, live_app):
    page.goto(base_url + "/")
    page.get_by_role("combobox", name="Поиск по центру помощи").fill("телепорт в гараже")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("ничего не найдено")

    page.get_by_role("link", name="Обратиться в поддержку").click()
    subject = page.get_by_label("Тема", exact=True)
    expect(subject).to_have_value("телепорт в гараже")

    # While the subject is typed, articles that may answer it appear under it.
    subject.fill("забыл пароль от кабинета")
    suggestions = page.locator(".ticket-suggestions")
    expect(suggestions.get_by_role("link", name="Как сбросить пароль от личного кабинета")
           ).to_be_visible()
    subject.fill("телепорт в гараже не включается")

    page.get_by_label("Что случилось?", exact=True).fill("Нажимаю кнопку — ничего не происходит.")
    page.get_by_label("Ваше имя", exact=True).fill("Анна <b>Смирнова</b>")
    page.get_by_label("Электронная почта", exact=True).fill("anna@example.com")
    page.get_by_label("Высокая — мешает работать").check()
    page.get_by_role("button", name="Отправить обращение").click()

    expect(page.get_by_role("heading", name="Ваше обращение принято")).to_be_visible()
    number = page.locator(".ticket-number strong").inner_text()
    assert re.fullmatch(r"INC-\d{6}", number)
    link = page.get_by_label("Ссылка на обращение").input_value()
    assert f"/tickets/{number}?token=" in link
    expect(page.locator("main")).to_contain_text("Мы ответим")

    with live_app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
        trail = json.loads(ticket.trail)
    searched = [(s["query"], s["failure"]) for s in trail["searches"]]
    assert ("телепорт в гараже", "no_results") in searched
    assert ticket.name == "Анна <b>Смирнова</b>" and ticket.priority == "high"

    # The status link works on its own, and the name is shown as text.
    page.goto(link)
    expect(page.get_by_role("heading", name=f"Обращение {number}")).to_be_visible()
    page.get_by_label("Ваше сообщение").fill("Гараж на даче, интернет там есть.")
    page.get_by_role("button", name="Отправить", exact=True).click()
    expect(page.locator(".ticket-messages")).to_contain_text("Гараж на даче")
    assert page.locator("main b").count() == 0


def test_reading_time_is_reported_when_the_reader_leaves(page: Page, base_url, live_app):
    page.goto(base_url + "/kb/internet/nastrojka-wi-fi")
    view = page.locator("article[data-view]").get_attribute("data-view")
    page.wait_for_timeout(1200)
    page.goto(base_url + "/")  # leaving the page sends the reading time
    with live_app.app_context():
        for _attempt in range(50):
            tracking.flush()
            event = db.session.scalar(select(ArticleEvent).where(ArticleEvent.uid == view))
            if event is not None and event.dwell_ms:
                break
            db.session.rollback()
            page.wait_for_timeout(100)
        assert event is not None and event.dwell_ms >= 1000


def test_the_status_page_passes_axe_accessibility_rules(browser, page: Page, base_url):
    created = page.request.post(base_url + "/api/v1/tickets", data={
        "name": "Пётр", "email": "petr@example.com", "subject": "Нет звука в эфире",
        "description": "С утра нет звука."})
    assert created.status == 201
    assert axe_violations(browser, created.json()["status_url"]) == []


def test_a_subject_typed_before_the_page_script_runs_still_gets_suggestions(page: Page,
                                                                             base_url):
    """On a slow connection the customer types before the script has arrived."""
    held = []
    page.route("**/js/ticket.js", lambda route: held.append(route))  # hold the script back
    page.goto(base_url + "/tickets/new", wait_until="commit")
    subject = page.get_by_label("Тема", exact=True)
    subject.fill("забыл пароль от кабинета")
    page.wait_for_timeout(100)
    assert held, "the page asked for its script"
    held[0].continue_()
    expect(page.locator(".ticket-suggestions").get_by_role(
        "link", name="Как сбросить пароль от личного кабинета")).to_be_visible()
