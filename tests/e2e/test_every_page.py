"""What every customer page does in Chromium: contents before the text on a phone, the chosen
vote looks chosen, dark mode, printing, errors that go once fixed, one ticket per form and a
sensible Back, the status page and its link, the language switch on an article."""

from __future__ import annotations

import threading

import pytest
from flask_migrate import upgrade
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db
from portal.models import Ticket

from ..conftest import write_site
from .axe import axe_violations
from .conftest import whole_bodies

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
ARTICLE = "/kb/internet/net-interneta"  # two sections, a translation


@pytest.fixture(scope="module")
def site_app(tmp_path_factory):
    """The test site in an app of this module's own: these tests send more tickets than the
    hourly limit of one address allows, which must not starve the other browser tests."""
    root = tmp_path_factory.mktemp("every-page")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "every-page",
        "ARTICLES_DIR": str(write_site(root / "articles")), "INDEX_DIR": str(root / "index"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'portal.sqlite3'}",
        "RATELIMIT_TICKETS": "100 per hour",
    })
    with app.app_context():
        upgrade()
    yield app
    app.extensions["tracking"].close()


@pytest.fixture(scope="module")
def site(site_app):
    """The address of `site_app`, served on a free port."""
    server = make_server("127.0.0.1", 0, whole_bodies(site_app), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def top(page: Page, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => e.getBoundingClientRect().top")


def left(page: Page, selector: str) -> float:
    return page.locator(selector).first.evaluate("e => e.getBoundingClientRect().left")


def test_on_a_phone_the_contents_come_before_the_text(page: Page, site):
    page.set_viewport_size(PHONE)
    page.goto(site + ARTICLE)
    assert top(page, "h1") < top(page, ".toc") < top(page, ".article-body")
    assert top(page, ".article-body") < top(page, ".article-aside")
    page.set_viewport_size(WIDE)  # beside the text on a wide screen
    assert left(page, ".toc") > left(page, ".article-body")
    assert abs(top(page, ".toc") - top(page, "h1")) < 40


def test_the_chosen_answer_looks_chosen_also_after_a_reload(page: Page, site):
    page.goto(site + "/kb/internet/nastrojka-wi-fi")
    feedback = page.locator("#feedback")
    yes = feedback.get_by_role("button", name="Да")
    no = feedback.get_by_role("button", name="Нет")
    plain = yes.evaluate("b => getComputedStyle(b).backgroundColor")
    assert plain == no.evaluate("b => getComputedStyle(b).backgroundColor")  # nothing chosen
    yes.click()
    expect(yes).to_have_attribute("aria-pressed", "true")
    no.click()
    for _ in (1, 2):
        expect(no).to_have_attribute("aria-pressed", "true")
        expect(yes).to_have_attribute("aria-pressed", "false")
        assert no.evaluate("b => getComputedStyle(b).backgroundColor") != plain
        assert yes.evaluate("b => getComputedStyle(b).backgroundColor") == plain
        page.reload()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("path", [ARTICLE, "/kb/internet/nastrojka-wi-fi", "/tickets/new",
                                  "/search?q=роутер"])
def test_pages_pass_axe_at_phone_width_in_light_and_dark(browser, site, path, scheme):
    assert axe_violations(browser, site + path, viewport=PHONE, color_scheme=scheme) == []


def test_dark_mode_follows_the_system_setting(browser, site):
    for scheme, dark in (("light", False), ("dark", True)):
        context = browser.new_context(color_scheme=scheme)
        try:
            page = context.new_page()
            page.goto(site + ARTICLE)
            red, green, blue = page.evaluate("""() => getComputedStyle(document.body)
                .backgroundColor.match(/\\d+/g).slice(0, 3).map(Number)""")
            assert (red + green + blue < 150) is dark
        finally:
            context.close()


def test_the_status_page_passes_axe_in_the_dark_on_a_phone(browser, page: Page, site):
    created = page.request.post(site + "/api/v1/tickets", data={
        "name": "Пётр", "email": "petr@example.com", "subject": "Нет звука",
        "description": "С утра нет звука."})
    for scheme in ("light", "dark"):
        assert axe_violations(browser, created.json()["status_url"], viewport=PHONE,
                              color_scheme=scheme) == []


def test_printing_an_article_prints_the_article_only(page: Page, site):
    page.goto(site + ARTICLE)
    page.emulate_media(media="print")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(".article-body")).to_be_visible()
    for hidden in (".site-header", "#feedback", ".still-need-help", ".site-footer",
                   ".breadcrumbs", ".article-aside"):
        expect(page.locator(hidden)).to_be_hidden()
    page.emulate_media(media="screen")
    expect(page.locator("#feedback")).to_be_visible()


def test_the_icon_is_there_for_every_page(page: Page, site):
    page.goto(site + "/")
    href = page.locator("link[rel=icon]").first.get_attribute("href")
    assert page.request.get(site + href).status == 200
    assert page.request.get(site + "/favicon.ico").status == 200


def fill_ticket(page: Page, **fields) -> None:
    values = {"Тема": "Роутер мигает красным", "Что случилось?": "После грозы нет интернета.",
              "Ваше имя": "Ирина", "Электронная почта": "irina@example.com", **fields}
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)


def count_tickets(site_app) -> int:
    with site_app.app_context():
        return db.session.scalar(select(func.count(Ticket.id)))


def test_an_error_goes_once_its_field_is_fixed(page: Page, site):
    page.goto(site + "/tickets/new")
    fill_ticket(page, **{"Ваше имя": "", "Электронная почта": "не адрес"})
    page.get_by_role("button", name="Отправить обращение").click()
    name = page.get_by_label("Ваше имя", exact=True)
    email = page.get_by_label("Электронная почта", exact=True)
    expect(page.locator("#name-error")).to_be_visible()
    expect(page.locator("#email-error")).to_be_visible()
    expect(email).to_have_value("не адрес")  # typed text kept through the error
    name.fill("Ирина")
    expect(page.locator("#name-error")).to_have_count(0)
    expect(name).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-error")).to_be_visible()  # not fixed yet: still said


def test_one_form_makes_one_ticket_and_back_lands_on_a_fresh_form(page: Page, site,
                                                                  site_app):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    before = count_tickets(site_app)
    page.goto(site + "/kb/account/sbros-parolya")
    page.get_by_role("link", name="Обратиться в поддержку").click()
    fill_ticket(page, **{"Ваше имя": ""})
    page.get_by_role("button", name="Отправить обращение").click()  # an error first
    expect(page.locator("#name-error")).to_be_visible()
    page.get_by_label("Ваше имя", exact=True).fill("Ирина")
    page.get_by_role("button", name="Отправить обращение").click()
    expect(page.get_by_role("heading", name="Ваше обращение принято")).to_be_visible()
    number = page.locator(".ticket-number strong").inner_text()

    page.go_back()  # not "Confirm Form Resubmission", not the filled form: a fresh one
    notice = page.get_by_role("status").filter(has_text="Вы уже отправили обращение")
    expect(notice).to_contain_text(number)
    expect(page.get_by_label("Что случилось?", exact=True)).to_have_value("")
    assert dialogs == []
    notice.get_by_role("link", name="Посмотреть его статус и ответы").click()
    expect(page.get_by_role("heading", name=f"Обращение {number}")).to_be_visible()
    assert count_tickets(site_app) == before + 1


def test_the_same_form_sent_from_two_tabs_is_one_ticket(page: Page, site, site_app):
    before = count_tickets(site_app)
    page.goto(site + "/tickets/new")
    fill_ticket(page)
    form = page.locator("form.ticket-form")
    data = form.evaluate("f => Object.fromEntries(new FormData(f))")
    page.get_by_role("button", name="Отправить обращение").click()
    expect(page.get_by_role("heading", name="Ваше обращение принято")).to_be_visible()
    number = page.locator(".ticket-number strong").inner_text()
    again = page.request.post(site + "/tickets/new", form=data)  # the same form again
    assert again.ok and f"/tickets/{number}?token=" in again.url
    assert count_tickets(site_app) == before + 1


def test_the_status_page_reads_well_and_copies_its_link(browser, site):
    context = browser.new_context(viewport=PHONE, permissions=["clipboard-read",
                                                                "clipboard-write"])
    try:
        page = context.new_page()
        page.goto(site + "/tickets/new")
        fill_ticket(page)
        page.get_by_role("button", name="Отправить обращение").click()
        expect(page.locator("main")).to_contain_text("по московскому времени")
        link = page.get_by_label("Ссылка на обращение").input_value()
        copy = page.get_by_role("button", name="Скопировать ссылку")
        copy.click()
        expect(page.locator("#copy-status")).to_have_text("Ссылка скопирована.")
        assert page.evaluate("() => navigator.clipboard.readText()") == link

        page.goto(link)  # a revisit keeps the promise
        expect(page.locator(".ticket-facts").first).to_contain_text("по московскому времени")
        label = page.get_by_text("Ваше сообщение", exact=True)
        box = page.get_by_label("Ваше сообщение")
        send = page.get_by_role("button", name="Отправить", exact=True)
        assert label.bounding_box()["y"] + label.bounding_box()["height"] <= box.bounding_box()["y"]
        assert label.bounding_box()["x"] == pytest.approx(box.bounding_box()["x"], abs=2)
        assert box.bounding_box()["y"] + box.bounding_box()["height"] <= send.bounding_box()["y"]
    finally:
        context.close()


def test_without_javascript_the_copy_control_is_a_plain_link(browser, site):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(site + "/tickets/new")
        fill_ticket(page)
        page.get_by_role("button", name="Отправить обращение").click()
        link = page.get_by_label("Ссылка на обращение").input_value()
        plain = page.get_by_role("link", name="Открыть по ссылке")
        expect(plain).to_have_attribute("href", link)
        plain.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Обращение")
    finally:
        context.close()


def test_english_on_a_russian_article_opens_its_translation(page: Page, site):
    page.goto(site + ARTICLE)
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(site + "/kb/internet/no-internet")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "No internet connection — what to check")
    page.get_by_role("link", name="Русский").click()
    expect(page).to_have_url(site + ARTICLE)
    page.get_by_role("link", name="English").click()
    page.goto(site + "/kb/account/sbros-parolya")
    expect(page.get_by_text("This article is available only in Russian.")).to_be_visible()
    page.get_by_role("link", name="Русский").click()  # back to Russian for the other tests
    expect(page.locator("html")).to_have_attribute("lang", "ru")
