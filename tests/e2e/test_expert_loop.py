"""The loop that closes a gap, in the browser: customers search and find nothing; the expert
sees the gap, writes the article from it with the live preview, publishes; the running
server finds it for the same search at once; the gap shows the failure rate falling."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from portal import tracking

from ..badinput import xss_payloads
from .axe import axe_violations
from .staff import log_in as staff_log_in
from .staff import staff_account
from .staff import without_csp_watching_dialogs

pytestmark = pytest.mark.browser

WAYS_OF_ASKING = ("пульсар гудит", "гудит пульсар", "Пульсары гудят")


def expert_account(live_app, email: str, name: str) -> None:
    staff_account(live_app, email, name, role="expert")


def log_in(page: Page, base_url: str, email: str) -> None:
    """Experts land on their console's list of articles."""
    staff_log_in(page, base_url, email, lands_on="Статьи")


def search_as_customer(browser, base_url: str, query: str) -> Page:
    context = browser.new_context()
    page = context.new_page()
    page.goto(base_url + "/")
    page.get_by_role("combobox", name="Поиск по центру помощи").fill(query)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_be_visible()
    return page


def flush(live_app) -> None:
    with live_app.app_context():
        assert tracking.flush()


def test_a_failed_search_becomes_an_article_that_the_same_search_finds(browser, base_url,
                                                                      live_app):
    for query in WAYS_OF_ASKING:
        page = search_as_customer(browser, base_url, query)
        expect(page.get_by_role("status").first).to_contain_text("ничего не найдено")
        page.context.close()
    flush(live_app)

    expert_account(live_app, "loop-expert@example.com", "Елена Экспертова")
    context = browser.new_context()
    try:
        expert = context.new_page()
        log_in(expert, base_url, "loop-expert@example.com")
        expert.get_by_role("navigation", name="Консоль эксперта").get_by_role(
            "link", name="Пробелы в базе знаний").click()
        gap = expert.locator("article.gap-card").filter(has=expert.get_by_role(
            "heading", name="«Пульсары гудят»"))
        expect(gap).to_contain_text("неудачных 3 из 3 поисков (100 %)")
        expect(gap).to_contain_text("«гудит пульсар»")
        gap.get_by_role("link", name="Написать статью об этом").click()

        # The editor starts from the gap: its queries are the keywords.
        expect(expert.get_by_role("heading", level=1)).to_have_text("Новая статья")
        expect(expert.get_by_label("Заголовок", exact=True)).to_have_value("Пульсары гудят")
        keywords = expert.get_by_label("Ключевые слова", exact=True).input_value()
        assert sorted(keywords.splitlines()) == sorted(WAYS_OF_ASKING)
        expert.get_by_label("Заголовок", exact=True).fill("Почему пульсар гудит")
        expert.get_by_label("Раздел (папка)", exact=True).fill("internet")
        expert.get_by_label("Текст (Markdown)", exact=True).fill(
            "## Это нормально\n\nГул пульсара слышен в наушниках при помехах.\n\n"
            "| Частота | Что делать |\n|---|---|\n| 50 Гц | Проверьте заземление |")
        preview = expert.locator("#preview-body")
        expect(preview.get_by_role("heading", name="Это нормально")).to_be_visible()
        expect(preview.locator("table td").first).to_have_text("50 Гц")
        expert.get_by_role("button", name="Опубликовать").click()
        expect(expert.get_by_role("status").filter(has_text="Опубликовано")).to_be_visible()
        editor_url = expert.url
        assert editor_url.endswith("/expert/articles/internet/pochemu-pulsar-gudit/edit")

        # The running server finds it for the same search: no restart, no rebuild.
        customer = search_as_customer(browser, base_url, "пульсары гудят")
        result = customer.get_by_role("link", name="Почему пульсар гудит")
        expect(result).to_be_visible()
        result.click()
        expect(customer.get_by_role("heading", level=1)).to_have_text("Почему пульсар гудит")
        customer.context.close()
        flush(live_app)

        expert.goto(base_url + "/expert/gaps")
        gap = expert.locator("article.gap-card").filter(has=expert.get_by_role(
            "heading", name="«Пульсары гудят»"))
        expect(gap.locator(".gap-closing")).to_contain_text("Почему пульсар гудит")
        expect(gap.locator(".closing-rates")).to_contain_text(
            "До публикации: неудачных 100 % из 3 поисков")
        expect(gap.locator(".closing-rates")).to_contain_text(
            "После публикации: неудачных 0 % из 1 поиска")

        # Every page of the loop passes the accessibility rules.
        logged_in = context.storage_state()
        for path in ("/expert/", "/expert/gaps", "/expert/inbox?view=all",
                     "/expert/articles/new", editor_url.removeprefix(base_url),
                     "/expert/articles/internet/pochemu-pulsar-gudit/history",
                     "/expert/articles/internet/pochemu-pulsar-gudit/revisions/1"):
            assert axe_violations(browser, base_url + path, storage_state=logged_in) == [], path
    finally:
        context.close()


def test_the_live_preview_of_hostile_markdown_runs_no_script(browser, base_url, live_app):
    """With the page's CSP switched off, only sanitizing stands between the text and a
    dialog: the preview puts the server's HTML into the page as it comes."""
    payloads = [p for p in xss_payloads() if re.search(r"alert|prompt|confirm", p)][::10]
    expert_account(live_app, "xss-expert@example.com", "Эксперт")
    with without_csp_watching_dialogs(browser) as (context, dialogs):
        page = context.new_page()
        log_in(page, base_url, "xss-expert@example.com")
        page.goto(base_url + "/expert/articles/new")
        page.get_by_label("Заголовок", exact=True).fill(payloads[0][:200])
        page.get_by_label("Раздел (папка)", exact=True).fill("internet")
        body = page.get_by_label("Текст (Markdown)", exact=True)
        for start in range(0, len(payloads), 40):
            body.fill(f"## Проверка {start}\n\n" + "\n\n".join(payloads[start:start + 40]))
            # This chunk's own preview is in the page (not the one before it).
            expect(page.locator("#preview-body h2").first).to_have_text(f"Проверка {start}")
            page.locator("#preview-body").hover()
            page.wait_for_timeout(200)
        page.get_by_role("button", name="Опубликовать").click()
        expect(page.get_by_role("status").filter(has_text="Опубликовано")).to_be_visible()
        article = re.search(r"/expert/articles/(.+)/edit$", page.url).group(1)
        page.goto(f"{base_url}/kb/{article}")
        page.locator("article").hover()
        page.wait_for_timeout(300)
    assert dialogs == []
