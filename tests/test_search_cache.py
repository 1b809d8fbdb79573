"""The cheaper results page: search results kept per process (never older than the index),
translations looked up once per request, and the same page as before."""

from __future__ import annotations

import re

from flask import render_template_string
from flask_babel import force_locale
from flask_babel import get_translations

from portal.models import ArticleEvent
from portal.models import SearchEvent
from portal.search import Scope
from portal.search import cached_search
from portal.search.cache import results_cache
from portal.web.knowledge import current_index

from .editing import expert_client
from .editing import new_article
from .helpers import result_links
from .test_tracking import rows

BODY = "## Что делать\n\nВыключите телепорт на минуту и включите снова.\n"


def found_ids(client, query: str) -> list[str]:
    page = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    return [link.split("?")[0].removeprefix("/kb/") for link in result_links(page)]


def api_ids(client, query: str) -> list[str]:
    answer = client.get("/api/v1/search", query_string={"q": query}).get_json()
    return [hit["id"] for hit in answer["hits"]]


def test_a_publish_is_found_by_the_next_search_of_the_same_process(make_app, articles_dir):
    # As served: the process looks for a newer index at most every 0.2 s, yet its own
    # publish must show at once, on the page and in the API, though both were just asked.
    app = make_app(articles_dir, INDEX_REFRESH_SECONDS=0.2)
    customer = app.test_client()
    assert found_ids(customer, "телепорт мигает") == []
    assert api_ids(customer, "телепорт мигает") == []
    new_article(expert_client(app), "Телепорт мигает", BODY)
    assert len(found_ids(customer, "телепорт мигает")) == 1
    assert len(api_ids(customer, "телепорт мигает")) == 1


def test_a_publish_in_another_process_is_found_once_it_sees_the_new_index(make_app,
                                                                          articles_dir):
    app = make_app(articles_dir)
    other = make_app(articles_dir)  # another server process on the same folders
    assert found_ids(other.test_client(), "телепорт") == []
    new_article(expert_client(app), "Телепорт мигает", BODY)
    assert len(found_ids(other.test_client(), "телепорт")) == 1


def test_the_cache_keeps_at_most_its_size_and_drops_the_least_recently_used(make_app,
                                                                          articles_dir):
    app = make_app(articles_dir, SEARCH_CACHE_SIZE=3)
    with app.app_context():
        index = current_index()
        first = cached_search(index, "пароль", size=3)
        assert cached_search(index, "  пароль ", size=3).hits is first.hits  # as cleaned
        for query in ("роутер", "ошибка 651", "wi-fi"):
            cached_search(index, query, size=3)
        assert len(results_cache(index, 3)) == 3
        again = cached_search(index, "пароль", size=3)
        assert again.hits is not first.hits  # it was dropped, so searched again
        assert [h.id for h in again.hits] == [h.id for h in first.hits]
        # Another scope or page is another entry.
        english = cached_search(index, "пароль", Scope(lang="en"), size=3)
        assert english.hits == []


def test_many_different_queries_keep_the_cache_bounded(make_app, articles_dir):
    app = make_app(articles_dir, SEARCH_CACHE_SIZE=5)
    client = app.test_client()
    for number in range(30):
        assert client.get("/search", query_string={"q": f"пароль {number}"}).status_code == 200
    with app.app_context():
        assert len(results_cache(current_index(), 5)) == 5


def _without_uids(page: str) -> str:
    return re.sub(r"s=[A-Za-z0-9_-]{16}", "s=UID", page)


def test_a_page_from_the_cache_is_the_page_searched_afresh(make_app, articles_dir, tmp_path):
    cached = make_app(articles_dir).test_client()
    for query in ("пароль", "gfhjkm", "роутер", "нет такого слова"):
        for lang in ("ru", "en"):
            cached.set_cookie("ui_lang", lang)
            first = cached.get("/search", query_string={"q": query}).get_data(as_text=True)
            second = cached.get("/search", query_string={"q": query}).get_data(as_text=True)
            assert _without_uids(first) == _without_uids(second)
            assert "Поиск" in first if lang == "ru" else "Search" in first


def test_the_page_reads_the_same_as_with_flask_babels_own_lookups(app):
    client = app.test_client()
    pages = {}
    for lang in ("ru", "en"):
        client.set_cookie("ui_lang", lang)
        pages[lang] = client.get("/search", query_string={"q": "пароль"}).get_data(as_text=True)
    # Flask-Babel's own gettext callables, looked up on every call.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=lambda s, p, n: get_translations().ungettext(s, p, n), newstyle=True)
    for lang in ("ru", "en"):
        client.set_cookie("ui_lang", lang)
        page = client.get("/search", query_string={"q": "пароль"}).get_data(as_text=True)
        assert _without_uids(page) == _without_uids(pages[lang])
    assert re.search(r"Найден[оа] \d+ стат", pages["ru"])
    assert re.search(r"\d+ articles? found", pages["en"])


def test_russian_and_english_alternate_in_one_process(app):
    client = app.test_client()
    for _round in range(3):
        client.set_cookie("ui_lang", "en")
        english = client.get("/search", query_string={"q": "роутер"}).get_data(as_text=True)
        client.set_cookie("ui_lang", "ru")
        russian = client.get("/search", query_string={"q": "роутер"}).get_data(as_text=True)
        assert "Still need help?" in english and "Language" in english
        assert "Still need help?" not in russian and "Язык" in russian


def test_text_in_another_language_within_a_request_gets_that_language(app):
    # A mail to a customer is rendered in their language during a staff member's request.
    with app.test_request_context("/", headers={"Cookie": "ui_lang=en"}):
        assert render_template_string('{{ _("Language") }}') == "Language"
        with force_locale("ru"):
            assert render_template_string('{{ _("Language") }}') == "Язык"
        assert render_template_string('{{ _("Language") }}') == "Language"


def test_visitors_asking_the_same_get_one_page_each_with_their_own_search_in_the_links(app):
    first, second = app.test_client(), app.test_client()
    pages = [c.get("/search", query_string={"q": "роутер"}).get_data(as_text=True)
             for c in (first, second)]
    links = [result_links(page) for page in pages]
    uids = [set(re.findall(r"[?&]s=([A-Za-z0-9_-]+)", " ".join(found))) for found in links]
    assert all(len(found) == 1 for found in uids) and uids[0] != uids[1]
    assert _without_uids(pages[0]) == _without_uids(pages[1])  # the same page otherwise
    # Each visitor's click names that visitor's own search.
    assert second.get(links[1][0]).status_code == 200
    [opened] = rows(app, ArticleEvent)
    [search] = rows(app, SearchEvent, SearchEvent.id == opened.search_id)
    assert search.uid in uids[1]


def test_staff_and_customers_never_see_each_others_pages(app):
    customer = app.test_client()
    before = customer.get("/search", query_string={"q": "роутер"}).get_data(as_text=True)
    agent = expert_client(app, "agent@example.com", "Агент", role="agent")
    staff_page = agent.get("/search", query_string={"q": "роутер"}).get_data(as_text=True)
    assert "Очередь заявок" in staff_page and "csrf_token" in staff_page
    after = app.test_client().get("/search", query_string={"q": "роутер"}).get_data(as_text=True)
    for page in (before, after):
        assert "Очередь заявок" not in page and "csrf_token" not in page


def test_a_message_waiting_for_the_visitor_is_shown_on_an_asked_before_page(app):
    app.test_client().get("/search", query_string={"q": "роутер"})
    visitor = app.test_client()
    with visitor.session_transaction() as session:
        session["_flashes"] = [("info", "Сообщение для этого посетителя")]
    page = visitor.get("/search", query_string={"q": "роутер"}).get_data(as_text=True)
    assert "Сообщение для этого посетителя" in page
