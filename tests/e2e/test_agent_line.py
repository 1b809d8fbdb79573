"""The whole support line in two browsers: a customer who found nothing files a ticket, an
agent answers it with a knowledge-base link, the customer opens the link, the agent resolves
the ticket with that article."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import select

from portal import tracking
from portal.extensions import db
from portal.models import Ticket
from portal.models import TicketEvent
from portal.models import TicketLink

from ..badinput import xss_payloads
from .axe import axe_violations
from .staff import log_in
from .staff import staff_account
from .staff import without_csp_watching_dialogs

pytestmark = pytest.mark.browser

ARTICLE = "account/sbros-parolya"
ARTICLE_TITLE = "Как сбросить пароль от личного кабинета"


def file_ticket(page: Page, base_url: str, query: str) -> tuple[str, str]:
    """The customer searches `query`, finds nothing and asks for help; the ticket's number
    and status link."""
    page.goto(base_url + "/")
    page.get_by_role("combobox", name="Поиск по центру помощи").fill(query)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("ничего не найдено")
    page.get_by_role("link", name="Обратиться в поддержку").click()
    expect(page.get_by_label("Тема", exact=True)).to_have_value(query)
    page.get_by_label("Что случилось?", exact=True).fill(
        "Хотел войти в кабинет, а пароль не подходит. Сброс не приходит.")
    page.get_by_label("Ваше имя", exact=True).fill("Олег Васильев")
    page.get_by_label("Электронная почта", exact=True).fill("oleg@example.com")
    page.get_by_label("Обычная").check()
    page.get_by_role("button", name="Отправить обращение").click()
    expect(page.get_by_role("heading", name="Ваше обращение принято")).to_be_visible()
    number = page.locator(".ticket-number strong").inner_text()
    return number, page.get_by_label("Ссылка на обращение").input_value()


def stored_link(live_app, number: str) -> TicketLink | None:
    """The ticket's link once the tracking writer has counted an opening, else None."""
    with live_app.app_context():
        tracking.flush()
        link = db.session.scalar(select(TicketLink).join(Ticket).where(Ticket.number == number))
        db.session.expunge_all()
    return link if link is not None and link.opens else None


def test_a_failed_search_is_answered_with_an_article_the_customer_opens(browser, base_url,
                                                                        live_app):
    staff_account(live_app, "line-agent@example.com", "Мария Агентова")
    customer_context = browser.new_context()
    agent_context = browser.new_context()
    try:
        customer, agent = customer_context.new_page(), agent_context.new_page()
        query = "приставка пищит по ночам"
        number, status_link = file_ticket(customer, base_url, query)

        # The agent finds the ticket in the queue and sees what the customer searched.
        log_in(agent, base_url, "line-agent@example.com")
        agent.get_by_role("link", name=number, exact=True).click()
        expect(agent.get_by_role("heading", level=1)).to_contain_text(number)
        trail = agent.locator("section.trail")
        expect(trail.get_by_role("heading", name="Что клиент искал до заявки")).to_be_visible()
        expect(trail.locator(".trail-query")).to_contain_text([query])
        expect(trail).to_contain_text("ничего не найдено")
        ticket_url = agent.url

        # The knowledge-base box answers in place: the reply being typed stays.
        reply = agent.locator("#reply-body")
        reply.fill("Здравствуйте! Вот инструкция:")
        agent.get_by_role("searchbox", name="Поиск статей, включая внутренние").fill(
            "сбросить пароль")
        agent.locator(".kb-search").get_by_role("button", name="Найти").click()
        results = agent.locator("#kb-results")
        hit = results.locator("li.kb-hit").filter(
            has=agent.get_by_role("link", name=ARTICLE_TITLE))
        expect(hit).to_have_count(1)
        assert agent.url == ticket_url
        expect(reply).to_have_value("Здравствуйте! Вот инструкция:")

        reply.press("End")
        hit.get_by_role("button", name="Вставить ссылку").click()
        expect(agent.locator("#agent-status")).to_have_text("Ссылка вставлена в ответ.")
        text = reply.input_value()
        link = re.search(rf"{re.escape(ARTICLE_TITLE)}: (\S+)", text)
        assert text.startswith("Здравствуйте! Вот инструкция: ") and link, text
        url = link.group(1)
        assert url.startswith(f"{base_url}/kb/{ARTICLE}?t="), url
        expect(agent.locator("#resolve-article")).to_have_value(ARTICLE_TITLE)
        expect(agent.locator("#resolve-article-id")).to_have_value(ARTICLE)

        # No mail server here: the reply is promised on the status page only.
        expect(agent.get_by_label("Ответ клиенту (виден только на странице статуса "
                                  "обращения: почтовый сервер не настроен)")).to_be_checked()
        agent.locator("#reply").get_by_role("button", name="Отправить", exact=True).click()
        expect(agent.get_by_role("status").filter(
            has_text="Ответ виден клиенту на странице статуса обращения.")).to_be_visible()
        expect(agent.locator("section.ticket-messages")).to_contain_text("Вот инструкция")

        # The customer sees the reply with a working link and opens the article.
        customer.goto(status_link)
        messages = customer.locator(".ticket-messages")
        expect(messages).to_contain_text("Здравствуйте! Вот инструкция:")
        article_link = messages.get_by_role("link", name=url)
        expect(article_link).to_have_attribute("href", url)
        article_link.click()
        expect(customer.get_by_role("heading", level=1, name=ARTICLE_TITLE)).to_be_visible()
        assert customer.url == url

        opened = None
        for _attempt in range(50):
            opened = stored_link(live_app, number)
            if opened is not None:
                break
            customer.wait_for_timeout(100)
        assert opened is not None and opened.opens == 1 and opened.article_id == ARTICLE

        # The agent's page says so, and the tools pass the accessibility rules.
        agent.reload()
        expect(agent.locator("section").filter(
            has=agent.get_by_role("heading", name="Отправленные статьи"))
        ).to_contain_text("открыта 1 раз")
        expect(agent.locator(".ticket-history")).to_contain_text(
            f"Клиент открыл отправленную статью {ARTICLE}")
        logged_in = agent_context.storage_state()
        for url_to_check in (base_url + "/agent/", ticket_url):
            assert axe_violations(browser, url_to_check, storage_state=logged_in) == [], \
                url_to_check

        # Resolved with the article that was sent, already filled in.
        resolve = agent.locator("#resolve")
        expect(resolve.locator("#resolve-article")).to_have_value(ARTICLE_TITLE)
        expect(resolve.get_by_label("Статья", exact=True).first).to_be_checked()
        resolve.get_by_role("button", name="Решить").click()
        expect(agent.get_by_role("status").filter(has_text="Решено.")).to_be_visible()
        expect(agent.locator(".ticket-badges")).to_contain_text("решена")
        with live_app.app_context():
            ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
            assert (ticket.status, ticket.resolution_article_id) == ("resolved", ARTICLE)
            kinds = [e.kind for e in db.session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                .order_by(TicketEvent.id))]
            db.session.rollback()
        assert kinds.count("link_opened") == 1 and kinds[-1] == "resolved", kinds
    finally:
        customer_context.close()
        agent_context.close()


def test_hostile_text_never_runs_script_on_the_staff_pages(browser, base_url, live_app):
    """With the pages' CSP switched off, only escaping stands between the text and a dialog."""
    payloads = [p for p in xss_payloads() if re.search(r"alert|prompt|confirm", p)][::25]
    short = [p for p in payloads if len(p) <= 90]
    customer = live_app.test_client()
    visitor = {"REMOTE_ADDR": "198.51.100.7"}  # its own rate-limit bucket
    for query in short[:3]:
        customer.get("/search", query_string={"q": query}, environ_base=visitor)
    created = customer.post("/api/v1/tickets", environ_base=visitor, json={
        "name": short[3], "email": "x@example.com", "subject": short[4], "os": short[5],
        "version": short[6], "description": "\n".join(payloads)[:9000],
        "error_text": "\n".join(reversed(payloads))[:4500]})
    assert created.status_code == 201, created.get_json()
    number, status_url = created.get_json()["number"], created.get_json()["status_url"]
    staff_account(live_app, "dialog-agent@example.com", short[7])

    with without_csp_watching_dialogs(browser) as (context, dialogs):
        page = context.new_page()
        log_in(page, base_url, "dialog-agent@example.com")
        page.goto(f"{base_url}/agent/tickets/{number}?kb={quote(short[8])}")
        page.locator("#reply-body").fill("\n".join(payloads)[:4900])
        page.locator("#reply").get_by_role("button", name="Отправить", exact=True).click()
        expect(page.get_by_role("status").filter(
            has_text="Ответ виден клиенту на странице статуса обращения.")).to_be_visible()
        page.get_by_role("searchbox", name="Поиск статей, включая внутренние").fill(short[9])
        page.locator(".kb-search").get_by_role("button", name="Найти").click()
        expect(page.locator("#kb-results li")).not_to_have_count(0)
        page.locator(".ticket-main").hover()
        page.goto(base_url + "/agent/?view=all")
        page.goto(status_url.replace("http://localhost", base_url))
        expect(page.locator(".ticket-messages")).to_contain_text(payloads[0][:20])
        page.locator(".ticket-messages").hover()
        page.wait_for_timeout(300)
    assert dialogs == []
