"""A customer finds an answer: suggestions, corrections, reading, languages, keyboard, phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from .axe import axe_violations

pytestmark = pytest.mark.browser


def test_suggestions_as_you_type_lead_to_the_article(page: Page, base_url):
    page.goto(base_url + "/")
    box = page.get_by_role("combobox", name="Поиск по центру помощи")
    box.press_sequentially("нет инт", delay=30)
    option = page.get_by_role("option", name="Нет интернета — что проверить")
    expect(option).to_be_visible()
    box.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page).to_have_url(base_url + "/kb/internet/net-interneta?via=suggest")
    expect(page.get_by_role("heading", level=1)).to_have_text("Нет интернета — что проверить")
    page.get_by_role("link", name="Ошибка 651").first.click()
    fragment = page.evaluate("() => decodeURIComponent(location.hash)")
    assert fragment == "#ошибка-651"
    expect(page.get_by_role("heading", name="Ошибка 651")).to_be_in_viewport()



@pytest.mark.parametrize("typed", ["сбро пар",  # words inside the title, unfinished
                                   "gfhj"])  # "паро" typed on the English layout
def test_suggestions_for_words_inside_the_title_and_for_the_wrong_layout(page: Page, base_url,
                                                                         typed):
    page.goto(base_url + "/")
    box = page.get_by_role("combobox", name="Поиск по центру помощи")
    box.press_sequentially(typed, delay=30)
    expect(page.get_by_role("option", name="Как сбросить пароль от личного кабинета")
           ).to_be_visible()

def test_search_without_javascript_features_shows_results(page: Page, base_url):
    page.goto(base_url + "/")
    page.get_by_role("combobox", name="Поиск по центру помощи").fill("ошибка 651")
    page.get_by_role("button", name="Найти").click()
    result = page.locator(".result").first
    expect(result.get_by_role("link", name="Нет интернета — что проверить")).to_be_visible()
    expect(result.locator("mark", has_text="651")).to_have_count(1)
    expect(page.get_by_text("Всё ещё нужна помощь?")).to_be_visible()


def test_wrong_layout_is_announced_and_can_be_undone(page: Page, base_url):
    page.goto(base_url + "/search?q=bylbrfnjh")
    status = page.locator(".correction")
    expect(status).to_contain_text("другой раскладке")
    expect(status).to_contain_text("индикатор")
    expect(page.locator(".result").first).to_contain_text("Нет интернета")
    status.get_by_role("link", name="bylbrfnjh").click()
    expect(page.get_by_text("ничего не найдено")).to_be_visible()


def test_interface_switches_to_english(page: Page, base_url):
    page.goto(base_url + "/category/internet")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Internet and Wi-Fi")
    page.get_by_role("link", name="No internet connection — what to check").click()
    expect(page.get_by_role("link", name="Нет интернета — что проверить")).to_be_visible()


def test_keyboard_users_can_skip_to_content_and_see_focus(page: Page, base_url):
    page.goto(base_url + "/kb/internet/nastrojka-wi-fi")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Перейти к содержимому")
    expect(skip).to_be_focused()
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_every_form_control_has_a_name(page: Page, base_url):
    for path in ("/", "/search?q=пароль", "/kb/internet/net-interneta"):
        page.goto(base_url + path)
        unnamed = page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, button')].filter(el => {
              const label = el.labels && el.labels.length ? el.labels[0].textContent.trim() : '';
              const value = el.type === 'submit' ? (el.value || '').trim() : '';
              return !label && !value && !el.getAttribute('aria-label') && !el.textContent.trim();
            }).map(el => el.outerHTML)""")
        assert unnamed == [], path


def test_pages_fit_a_phone_screen(page: Page, base_url):
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/", "/kb/internet/nastrojka-wi-fi", "/search?q=пароль"):
        page.goto(base_url + path)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
        # What the page is about comes first, not the sidebar.
        expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
        if path.startswith("/kb/"):
            title_top, aside_top = page.evaluate("""() => [
                document.querySelector('h1').getBoundingClientRect().top,
                document.querySelector('.article-aside').getBoundingClientRect().top]""")
            assert title_top < aside_top


@pytest.mark.parametrize("path", ["/", "/category/internet", "/kb/internet/nastrojka-wi-fi",
                                  "/search?q=пароль", "/search?q=bylbrfnjh", "/kb/nope",
                                  "/tickets/new",
                                  # nothing found; a partial answer, in Russian and English
                                  "/search?q=телепорт", "/search?q=роутер%20телепорт",
                                  "/language/en?next=/search?q%3Dроутер%2520телепорт",
                                  "/language/en?next=/search?q%3Dтелепорт"])
def test_pages_pass_axe_accessibility_rules(browser, base_url, path):
    assert axe_violations(browser, base_url + path) == []


def test_did_this_help_asks_why_without_reloading(page: Page, base_url):
    page.goto(base_url + "/kb/account/sbros-parolya")
    page.evaluate("() => { window.notReloaded = true; }")
    feedback = page.locator("#feedback")
    feedback.get_by_role("button", name="Нет").click()
    expect(feedback.get_by_role("status")).to_have_text(
        "Жаль, что статья не помогла. Что было не так?")
    feedback.get_by_label("Устарела").check()
    feedback.get_by_label("Хотите что-то добавить? (необязательно)").fill("Кнопка называется иначе")
    feedback.get_by_role("button", name="Отправить").click()
    expect(feedback.get_by_role("status")).to_have_text(
        "Спасибо! Ваш ответ поможет улучшить статью.")
    assert page.evaluate("() => window.notReloaded === true")
    page.reload()
    expect(feedback.get_by_role("status")).to_contain_text("статья не помогла")
    expect(feedback.get_by_label("Устарела")).to_be_checked()
