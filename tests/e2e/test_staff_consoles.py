"""The agent's ticket page and the expert's editor in Chromium: picking the article that
solved a ticket from a list, the editor's toolbar, images pasted and uploaded into an
article, and the preview following the cursor."""

from __future__ import annotations

import base64
import io
import os
import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.models import ArticleFlag
from portal.models import Ticket

from .axe import axe_violations
from .staff import log_in
from .staff import staff_account

pytestmark = pytest.mark.browser

ARTICLE = "account/sbros-parolya"
ARTICLE_TITLE = "Как сбросить пароль от личного кабинета"
#: Set to a folder to keep screenshots of the pages at desktop and phone width.
SCREENSHOTS = os.environ.get("LINE0_SCREENSHOTS")


def picture(colour: tuple[int, int, int], size: tuple[int, int] = (60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def screenshot(page: Page, name: str) -> None:
    if not SCREENSHOTS:
        return
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def api_ticket(live_app, subject: str) -> str:
    created = live_app.test_client().post("/api/v1/tickets", environ_base={
        "REMOTE_ADDR": "198.51.100.31"}, json={
        "name": "Олег", "email": "oleg@example.com", "subject": subject,
        "description": "Не приходит письмо для сброса пароля от кабинета."})
    assert created.status_code == 201, created.get_json()
    return created.get_json()["number"]


def test_the_agent_picks_the_article_that_solved_it_from_a_list(browser, base_url, live_app):
    staff_account(live_app, "picker-agent@example.com", "Пётр Выбиралов")
    number = api_ticket(live_app, "Не могу сбросить пароль")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        log_in(page, base_url, "picker-agent@example.com")
        page.goto(f"{base_url}/agent/tickets/{number}")
        # The ticket number never breaks across lines.
        heading_number = page.locator("h1 .ticket-number")
        assert heading_number.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"

        field = page.get_by_role("combobox", name="Статья").first
        expect(field).to_have_attribute("aria-expanded", "false")
        field.click()
        field.press_sequentially("сбросить пар", delay=20)
        options = page.locator("#resolve-article-list [role=option]")
        expect(options.filter(has_text=ARTICLE_TITLE)).to_have_count(1)
        expect(field).to_have_attribute("aria-expanded", "true")
        # The keyboard picks it: down to the option, Enter.
        titles = options.all_inner_texts()
        for _ in range(titles.index(ARTICLE_TITLE) + 1):
            field.press("ArrowDown")
        expect(field).to_have_attribute("aria-activedescendant", re.compile("resolve-article"))
        field.press("Enter")
        expect(field).to_have_value(ARTICLE_TITLE)
        expect(page.locator("#resolve-article-id")).to_have_value(ARTICLE)
        expect(field).to_have_attribute("aria-expanded", "false")
        expect(page.locator("#resolve-article-list")).to_be_hidden()
        screenshot(page, "agent-ticket")
        expect(page.locator("#resolve-article-list")).to_be_hidden()
        page.locator("#resolve").get_by_role("button", name="Решить").click()
        expect(page.get_by_role("status").filter(has_text="Решено.")).to_be_visible()
        with live_app.app_context():
            ticket = db.session.scalar(select(Ticket).where(Ticket.number == number))
            assert ticket.resolution_article_id == ARTICLE
            db.session.rollback()

        # Flagging picks with the mouse from the same kind of list.
        flag_field = page.locator("#flag-article")
        flag_field.click()
        flag_field.press_sequentially("wi-fi", delay=20)
        page.locator("#flag-article-list [role=option]").filter(
            has_text="Настройка Wi-Fi на роутере").click()
        expect(page.locator("#flag-article-id")).to_have_value("internet/nastrojka-wi-fi")
        page.get_by_label("Что в ней не так", exact=True).fill("Адрес роутера теперь другой")
        page.locator("#flag").get_by_role("button", name="Отметить статью").click()
        expect(page.get_by_role("status").filter(has_text="Автор статьи увидит вашу отметку."))\
            .to_be_visible()
        with live_app.app_context():
            flags = db.session.scalars(select(ArticleFlag).where(
                ArticleFlag.article_id == "internet/nastrojka-wi-fi")).all()
            assert any(f.comment == "Адрес роутера теперь другой" for f in flags)
            db.session.rollback()

        logged_in = context.storage_state()
        assert axe_violations(browser, f"{base_url}/agent/tickets/{number}",
                              storage_state=logged_in) == []
    finally:
        context.close()


def open_editor(browser, base_url, live_app, email: str) -> tuple:
    staff_account(live_app, email, "Эксперт Браузерный", role="expert")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, base_url, email, lands_on="Статьи")
    page.goto(base_url + "/expert/articles/new")
    return context, page


def body_of(page: Page):
    return page.get_by_label("Текст (Markdown)", exact=True)


def test_the_toolbar_edits_the_text_by_mouse_and_keyboard(browser, base_url, live_app):
    context, page = open_editor(browser, base_url, live_app, "toolbar-expert@example.com")
    try:
        body = body_of(page)
        body.fill("Перезагрузите роутер")
        body.evaluate("e => e.setSelectionRange(0, 13)")        # «Перезагрузите»
        toolbar = page.get_by_role("toolbar", name="Оформление")
        toolbar.get_by_role("button", name="Жирный").click()
        expect(body).to_have_value("**Перезагрузите** роутер")
        body.press("End")
        toolbar.get_by_role("button", name="Таблица").click()
        assert "| Столбец | Значение |\n|---|---|" in body.input_value()
        preview = page.locator("#preview-body")
        expect(preview.locator("table")).to_have_count(1)
        expect(preview.locator("strong")).to_have_text("Перезагрузите")

        # One tab stop; the arrow keys walk the toolbar; Enter presses a button.
        toolbar.get_by_role("button", name="Заголовок").focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        expect(toolbar.get_by_role("button", name="Список")).to_be_focused()
        body.evaluate("e => e.setSelectionRange(0, 0)")
        toolbar.get_by_role("button", name="Список").focus()
        page.keyboard.press("Enter")
        assert body.input_value().startswith("- **Перезагрузите** роутер")
        body.press("Control+End")
        body.press("Enter")
        body.press("Enter")
        body.press("Control+k")         # a link; its address selected, ready to be typed
        page.keyboard.type("https://vektor.example/help")
        assert body.input_value().endswith("\n\n[текст ссылки](https://vektor.example/help)")
        expect(preview.locator("ul li")).to_have_count(1)
        expect(preview.get_by_role("link", name="текст ссылки")).to_have_attribute(
            "href", "https://vektor.example/help")
        # No field message («Выберите раздел.») in the preview while the fields are empty.
        expect(page.locator("#preview-problems")).to_have_text("")
        screenshot(page, "editor")
        assert axe_violations(browser, base_url + "/expert/articles/new",
                              storage_state=context.storage_state()) == []
    finally:
        context.close()


def png_file(colour, name: str) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": picture(colour)}


def paste_image(page: Page, data: bytes, name: str) -> None:
    """Paste an image into the body as a browser does from the clipboard."""
    page.evaluate("""([b64, name]) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, {type: "image/png"}));
        const area = document.getElementById("body");
        area.focus();
        area.dispatchEvent(new ClipboardEvent("paste", {clipboardData: transfer,
                                                        bubbles: true, cancelable: true}));
    }""", [base64.b64encode(data).decode(), name])


def test_images_pasted_and_uploaded_show_in_the_preview_and_the_article(browser, base_url,
                                                                        live_app):
    context, page = open_editor(browser, base_url, live_app, "image-expert@example.com")
    try:
        page.get_by_label("Заголовок", exact=True).fill("Индикаторы роутера на фото")
        page.get_by_label("Раздел (папка)", exact=True).fill("internet")
        body = body_of(page)
        body.fill("Так выглядит исправный роутер:")
        body.press("End")
        page.locator(".image-input").set_input_files(png_file((20, 160, 40), "zelenyj.png"))
        status = page.locator("#editor-status")
        expect(status).to_contain_text("Изображение добавлено")
        expect(body).to_have_value(re.compile(
            r"роутер:\n\n!\[zelenyj\]\(indikatory-routera-na-foto\.assets/[0-9a-f]+\.png\)\n"))
        # The slug is kept where the image lives.
        expect(page.get_by_label("Адрес (имя файла)", exact=False)).to_have_value(
            "indikatory-routera-na-foto")
        body.press("Control+End")
        paste_image(page, picture((200, 20, 20)), "image.png")
        expect(body).to_have_value(re.compile(r"!\[Рисунок\]\(indikatory-routera-na-foto"))
        preview_images = page.locator("#preview-body img")
        expect(preview_images).to_have_count(2)
        for i in range(2):
            expect(preview_images.nth(i)).to_have_attribute("src", re.compile(r"^/media/"))
            page.wait_for_function("img => img.complete && img.naturalWidth === 60",
                                   arg=preview_images.nth(i).element_handle())

        # A file that is not a plain image is refused with a message; nothing is inserted.
        before = body.input_value()
        page.locator(".image-input").set_input_files({
            "name": "logo.svg", "mimeType": "image/svg+xml",
            "buffer": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'})
        expect(status).to_contain_text("SVG нельзя")
        assert body.input_value() == before

        page.get_by_role("button", name="Опубликовать").click()
        expect(page.get_by_role("status").filter(has_text="Опубликовано")).to_be_visible()
        page.goto(base_url + "/kb/internet/indikatory-routera-na-foto")
        shown = page.locator(".article-body img")
        expect(shown).to_have_count(2)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.article-body img')]"
            ".every(i => i.complete && i.naturalWidth === 60)")
        expect(shown.first).to_have_attribute("alt", "zelenyj")
    finally:
        context.close()


def test_the_preview_follows_the_cursor(browser, base_url, live_app):
    context, page = open_editor(browser, base_url, live_app, "scroll-expert@example.com")
    try:
        sections = "\n\n".join(
            f"## Шаг {n}\n\n" + "\n\n".join(f"Абзац {n}.{k}: проверьте кабель и индикаторы."
                                            for k in range(4)) for n in range(1, 31))
        body = body_of(page)
        body.fill(sections)
        pane = page.locator(".editor-preview")
        preview = page.locator("#preview-body")
        expect(preview.locator("h2")).to_have_count(30)
        # The caret on step 25: the preview shows step 25.
        body.evaluate("""e => { const at = e.value.indexOf("## Шаг 25");
                                e.focus(); e.setSelectionRange(at, at);
                                e.dispatchEvent(new KeyboardEvent("keyup")); }""")
        page.wait_for_function("() => document.querySelector('.editor-preview').scrollTop > 0")
        in_view = preview.locator("h2", has_text="Шаг 25").evaluate("""h => {
            const pane = document.querySelector('.editor-preview').getBoundingClientRect();
            const box = h.getBoundingClientRect();
            return box.top >= pane.top && box.bottom <= pane.bottom; }""")
        assert in_view
        # Back to the top: the preview goes back too.
        body.press("Control+Home")
        page.wait_for_function("() => document.querySelector('.editor-preview').scrollTop < 50")
        assert pane.evaluate("p => p.scrollHeight > p.clientHeight")
    finally:
        context.close()
