"""Customer pages and the JSON API, as a visitor sees them."""

from __future__ import annotations

import re

import pytest

from portal import popularity
from portal import tracking

from .conftest import database_urls


def test_home_lists_categories_in_order_with_search(client):
    page = client.get("/").get_data(as_text=True)
    assert 'role="search"' in page and 'name="q"' in page
    assert page.index("Учётная запись") < page.index("Интернет и Wi-Fi")
    assert '<html lang="ru">' in page


def test_interface_switches_to_english_and_back(client):
    response = client.get("/language/en?next=/category/internet")
    assert response.status_code == 302 and response.headers["Location"] == "/category/internet"
    page = client.get("/category/internet").get_data(as_text=True)
    assert '<html lang="en">' in page and "Internet and Wi-Fi" in page
    assert "No internet connection" in page
    client.get("/language/ru")
    assert "Интернет и Wi-Fi" in client.get("/category/internet").get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example", "/\\evil.example", "https:evil.example",
                                    "https://evil.example/", "/\tevil.example"])
def test_language_switch_never_leaves_the_site(client, target):
    response = client.get("/language/en", query_string={"next": target})
    assert response.headers["Location"] == "/"


def test_article_page_has_breadcrumbs_toc_translations_and_related(client):
    page = client.get("/kb/internet/net-interneta").get_data(as_text=True)
    assert 'aria-label="Навигационная цепочка"' in page
    assert '<a href="/category/internet">Интернет и Wi-Fi</a>' in page
    assert 'href="#проверьте-маршрутизатор"' in page
    assert 'href="/kb/internet/no-internet"' in page  # translation
    assert "Всё ещё нужна помощь?" in page
    wifi = client.get("/kb/internet/nastrojka-wi-fi").get_data(as_text=True)
    related = wifi[wifi.index("Похожие статьи"):]
    assert 'href="/kb/account/sbros-parolya?via=related"' in related
    assert "vnutrennyaya" not in related and "chernovik" not in related


def test_old_id_redirects_to_the_article(client):
    response = client.get("/kb/internet/propal-internet")
    assert response.status_code == 301
    assert response.headers["Location"] == "/kb/internet/net-interneta"


@pytest.mark.parametrize("path", [
    "/kb/account/vnutrennyaya-instrukciya", "/kb/account/chernovik", "/kb/no/such-article",
    "/kb/../conftest", "/kb/internet/..%2Fsecret", "/kb/internet%2Fnet-interneta",
    "/kb/internet/net%00interneta", "/kb/internet/net-interneta.md", "/kb/%2e%2e/etc/passwd",
    "/api/v1/articles/account/chernovik", "/api/v1/articles/internet%2Fnet-interneta",
])
def test_hidden_odd_and_unknown_article_urls_are_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    text = response.get_data(as_text=True)
    assert "Секретная" not in text
    assert "Такой страницы нет" in text or path.startswith("/api/")


def test_search_page_shows_results_with_highlighted_snippets(client):
    page = client.get("/search?q=ошибка+651").get_data(as_text=True)
    # The link names the search and the rank, so the click is credited to this search.
    assert re.search(r'href="/kb/internet/net-interneta\?s=[\w-]{16}&amp;r=1#ошибка-651"', page)
    assert "<mark>651</mark>" in page


def test_search_page_announces_a_correction_with_a_way_back(client):
    page = client.get("/search?q=bylbrfnjh").get_data(as_text=True)
    assert "Показаны результаты по запросу" in page and "индикатор" in page
    assert "q=bylbrfnjh" in page and "exact=1" in page
    exact = client.get("/search?q=bylbrfnjh&exact=1").get_data(as_text=True)
    assert "ничего не найдено" in exact



def test_an_answer_lacking_a_word_says_so_in_russian_and_in_english(client):
    page = client.get("/search?q=роутер телепорт").get_data(as_text=True)
    assert ("Нет статей со всеми словами запроса; показаны статьи, где нет слова «телепорт»."
            in page)
    client.set_cookie("ui_lang", "en")
    page = client.get("/search?q=роутер телепорт <script>x").get_data(as_text=True)
    assert ("No article has every word of the query; showing articles without the words "
            "«телепорт», «script», «x»." in page)
    assert "<script>x" not in page
    whole = client.get("/search?q=роутер").get_data(as_text=True)
    assert "No article has every word" not in whole


def test_api_marks_a_partial_answer_and_each_hit(client):
    data = client.get("/api/v1/search?q=роутер телепорт").get_json()
    assert data["partial"] is True and data["missing"] == ["телепорт"]
    assert data["hits"] and all(hit["partial"] for hit in data["hits"])
    whole = client.get("/api/v1/search?q=ошибка 651").get_json()
    assert whole["partial"] is False and whole["missing"] == []
    assert whole["hits"][0]["partial"] is False

@pytest.mark.parametrize("query", ["page=0", "page=abc", "page=99999", "lang=de",
                                   "category=nope"])
def test_wrong_search_parameters_are_a_clear_400(client, query):
    response = client.get(f"/search?q=пароль&{query}")
    assert response.status_code == 400
    assert "Не удалось разобрать запрос" in response.get_data(as_text=True)


def test_api_search_returns_the_documented_shape(client):
    data = client.get("/api/v1/search?q=ошибка 651&limit=2&lang=ru").get_json()
    assert set(data) >= {"query", "total", "corrected", "hits"}
    hit = data["hits"][0]
    assert set(hit) >= {"id", "title", "url", "section", "snippet", "score", "source"}
    assert hit["id"] == "internet/net-interneta" and hit["source"] is None
    assert hit["url"].startswith("/kb/internet/net-interneta")
    assert len(data["hits"]) <= 2


@pytest.mark.parametrize("query", ["", "q=", "q=x&limit=0", "q=x&limit=51", "q=x&limit=ten",
                                   "q=x&lang=xx", "q=x&category=nope", "q=x&page=0"])
def test_api_rejects_bad_parameters_with_json(client, query):
    response = client.get(f"/api/v1/search?{query}")
    assert response.status_code == 400
    assert response.get_json()["status"] == 400


def test_api_suggest_and_article(client):
    suggestions = client.get("/api/v1/suggest?q=нет инт").get_json()["suggestions"]
    assert suggestions[0]["url"] == "/kb/internet/net-interneta"
    article = client.get("/api/v1/articles/internet/net-interneta").get_json()
    assert article["title"] == "Нет интернета — что проверить"
    assert 'id="ошибка-651"' in article["html"]


def test_pages_load_nothing_from_outside(client):
    for path in ("/", "/search?q=пароль", "/kb/internet/nastrojka-wi-fi", "/category/account"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        assert "http://" not in page.replace("http://localhost", "")
        assert "https://" not in page
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("database", database_urls())
def test_popular_articles_follow_views(make_app, articles_dir, database):
    app = make_app(articles_dir, database=database)
    client = app.test_client()
    assert "Популярные статьи" not in client.get("/").get_data(as_text=True)
    for _ in range(3):
        client.get("/kb/internet/nastrojka-wi-fi")
    client.get("/kb/account/sbros-parolya")
    with app.app_context():
        assert tracking.flush()  # views are counted by the tracking writer
    page = client.get("/").get_data(as_text=True)
    popular = page[page.index("Популярные статьи"):]
    assert popular.index("Настройка Wi-Fi") < popular.index("Как сбросить пароль")
    with app.app_context():
        assert popularity.most_viewed(30, 5)[0] == ("internet/nastrojka-wi-fi", 3)


def test_a_failing_database_never_breaks_article_pages(make_app, articles_dir):
    app = make_app(articles_dir)
    from portal.extensions import db

    with app.app_context():
        db.drop_all()  # every query now fails: "no such table"
    client = app.test_client()
    assert client.get("/kb/internet/net-interneta").status_code == 200
    assert client.get("/").status_code == 200


def test_sqlite_runs_in_write_ahead_mode_so_readers_never_wait(app):
    from sqlalchemy import text

    from portal.extensions import db

    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def test_nothing_found_offers_where_to_go_next(app, client):
    """Nothing found: the page says so, lists where to start (the popular articles once
    there are views) and the way to support, and the search counts as a failure."""
    page = client.get("/search", query_string={"q": "гороскоп овна"}).get_data(as_text=True)
    assert "Ничего не найдено" in page or "не найдено" in page
    offered = page[page.index('id="no-results-next-title"'):]
    assert "С чего начать" in offered[:200]
    assert offered.count('href="/kb/') >= 3
    for _ in range(2):
        client.get("/kb/internet/nastrojka-wi-fi")
    with app.app_context():
        assert tracking.flush()
    page = client.get("/search", query_string={"q": "гороскоп овна"}).get_data(as_text=True)
    offered = page[page.index('id="no-results-next-title"'):]
    assert "Популярные статьи" in offered[:200]
    # The one article with views leads; the topics' leading articles fill the list up.
    listed = offered[:offered.index("</section>")]
    assert listed.index("Настройка Wi-Fi") < listed.index('href="/kb/', listed.index("Wi-Fi"))
    assert listed.count('href="/kb/') >= 3
    # A search that finds something lists its results, not the starting points.
    found = client.get("/search", query_string={"q": "роутер"}).get_data(as_text=True)
    assert "no-results-next" not in found
