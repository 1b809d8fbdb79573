"""Two languages: the switch on an article opens its translation, an article in one language
only says so, the interface language leads "all languages" results; dates as people write
them."""

from __future__ import annotations

import re

import pytest

from .conftest import write_site
from .helpers import result_links


def switch_link(page: str, code: str) -> str:
    """Where the language switch's link to `code` leads."""
    href = re.search(rf'<a href="(/language/{code}\?[^"]+)" lang="{code}"', page).group(1)
    return href.replace("&amp;", "&")


@pytest.mark.parametrize("start, code, lands", [
    ("/kb/internet/net-interneta", "en", "/kb/internet/no-internet"),
    ("/kb/internet/no-internet", "ru", "/kb/internet/net-interneta"),
])
def test_choosing_a_language_on_an_article_opens_its_translation(client, start, code, lands):
    if code == "ru":
        client.get("/language/en")
    switched = client.get(switch_link(client.get(start).get_data(as_text=True), code))
    assert switched.status_code == 302
    assert switched.headers["Location"] == lands
    page = client.get(lands).get_data(as_text=True)
    assert f'<html lang="{code}">' in page


def test_an_article_without_a_translation_keeps_its_page_and_says_so(client):
    client.get("/language/en")
    page = client.get("/kb/account/sbros-parolya").get_data(as_text=True)
    assert "This article is available only in Russian." in page
    assert switch_link(page, "ru").endswith("next=/kb/account/sbros-parolya")
    # An article that has one points at it instead.
    page = client.get("/kb/internet/net-interneta").get_data(as_text=True)
    assert "This article is also available in your language:" in page
    assert '<a href="/kb/internet/no-internet" lang="en" hreflang="en">' in page
    # In its own language, nothing to say.
    client.get("/language/ru")
    page = client.get("/kb/account/sbros-parolya").get_data(as_text=True)
    assert "только на" not in page and "на вашем языке" not in page


BILINGUAL = {
    "router/_category.yml": "title: {ru: Роутер, en: Router}\n",
    "router/parol-routera.md": """
        ---
        title: Настройка роутера
        lang: ru
        ---
        Пароль роутера меняют в веб-интерфейсе.
    """,
    "router/router-password.md": """
        ---
        title: Router password
        lang: en
        tags: [пароль роутера]
        ---
        Change the password in the web interface.
    """,
}


def test_with_all_languages_the_interface_language_leads(make_app, tmp_path):
    app = make_app(write_site(tmp_path / "bilingual", BILINGUAL))
    client = app.test_client()
    page = client.get("/search", query_string={"q": "пароль роутера", "lang": ""})
    links = [link.split("?")[0] for link in result_links(page.get_data(as_text=True))]
    assert links == ["/kb/router/parol-routera", "/kb/router/router-password"]
    client.get("/language/en")
    page = client.get("/search", query_string={"q": "пароль роутера", "lang": ""})
    links = [link.split("?")[0] for link in result_links(page.get_data(as_text=True))]
    assert links == ["/kb/router/router-password", "/kb/router/parol-routera"]


DATED = {
    "account/_category.yml": "title: {ru: Учётная запись, en: Account}\n",
    "account/proverennaya.md": """
        ---
        title: Проверенная статья
        lang: ru
        reviewed: 2026-08-20
        ---
        Текст.
    """,
}


@pytest.mark.parametrize("code, shown", [("ru", "Проверено 20 августа 2026"),
                                         ("en", "Checked on 20 August 2026")])
def test_dates_read_as_people_write_them(make_app, tmp_path, code, shown):
    app = make_app(write_site(tmp_path / "dated", DATED))
    client = app.test_client()
    client.get(f"/language/{code}")
    page = client.get("/kb/account/proverennaya").get_data(as_text=True)
    assert shown in page
    assert "2026-08-20" not in page


def test_every_page_names_its_icon_and_the_icon_is_served(client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico"' in page
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200


def test_the_footer_does_not_repeat_the_support_box(client):
    page = client.get("/kb/account/sbros-parolya").get_data(as_text=True)
    footer = page[page.index('<footer class="site-footer">'):]
    assert "Обратиться в поддержку" not in footer and "поддержк" not in footer
