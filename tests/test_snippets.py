"""What a result says about itself: snippets in sentences, the heading it was found under,
the query repeated back in words a person reads."""

from __future__ import annotations

import html
import re

import pytest

from portal.search import SearchIndex
from portal.search import search
from portal.search.analysis import word_stem
from portal.search.engine import snippet
from portal.views.labels import ECHOED_QUERY_CHARS

TABLE_CELLS = ("866", "Мбит", "ГГц", "Диапазон")


@pytest.fixture
def site(articles_dir, tmp_path):
    index = SearchIndex(tmp_path / "index", articles_dir, refresh_interval=0)
    index.build()
    return index


def _plain(markup) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", str(markup)))


def test_a_snippet_quotes_sentences_not_table_cells(site):
    # The Wi-Fi article's section holds a table of bands and speeds under its prose.
    for query in ("скорость 5 ГГц", "пароль wi-fi роутер"):
        hit = next(h for h in search(site, query).hits if h.id == "internet/nastrojka-wi-fi")
        text = _plain(hit.snippet)
        assert text, query
        assert not any(cell in text for cell in TABLE_CELLS), (query, text)
    # The table is still searched: its words find the article.
    assert "internet/nastrojka-wi-fi" in [h.id for h in search(site, "866 мбит").hits]


def test_a_section_of_nothing_but_a_table_is_shown_by_its_summary(tmp_path):
    from .conftest import write_site

    root = write_site(tmp_path / "articles", {"net/tarify.md": """
        ---
        title: Тарифы на интернет
        summary: Цены и скорости всех тарифов.
        lang: ru
        ---
        ## Таблица тарифов

        | Тариф | Скорость | Цена |
        |---|---|---|
        | Старт | 100 | 500 |
        | Турбо | 500 | 900 |
    """})
    index = SearchIndex(tmp_path / "index", root, refresh_interval=0)
    index.build()
    hit = search(index, "турбо тариф").hits[0]
    assert hit.section == "Таблица тарифов"
    assert _plain(hit.snippet) == "Цены и скорости всех тарифов."


def test_a_transliterated_query_is_shown_in_the_articles_own_words(site):
    results = search(site, "kak sbrosit parol")
    # Not the stems it was matched by ("kak сбросит парол").
    assert results.corrected == "как сбросить пароль"
    assert results.hits[0].id == "account/sbros-parolya"
    assert results.hits[0].section == "Восстановление пароля"


def test_the_results_page_names_the_heading_the_answer_is_under(client):
    page = client.get("/search?q=ошибка+651").get_data(as_text=True)
    found = re.search(r'<p class="result-section">([^<]*)<a href="([^"]+)">([^<]*)</a>', page)
    assert found is not None
    label, href, heading = found.groups()
    # Not «Раздел статьи:», which reads like the «Раздел» (topic) filter above the results.
    assert label.strip() == "Под заголовком:"
    assert heading == "Ошибка 651" and href.endswith("#ошибка-651")
    assert "Раздел статьи" not in page
    client.set_cookie("ui_lang", "en")
    page = client.get("/search?q=ошибка+651").get_data(as_text=True)
    assert "Under the heading:" in page


def test_a_transliterated_query_reads_as_words_on_the_page(client):
    page = client.get("/search?q=kak+sbrosit+parol").get_data(as_text=True)
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S).group(1)
    assert heading == "Результаты по запросу «как сбросить пароль»"


def test_a_long_query_is_shortened_where_it_is_repeated_and_whole_in_the_box(client):
    query = " ".join(["как сбросить пароль"] * 30)[:200]
    page = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    heading = html.unescape(re.search(r"<h1>(.*?)</h1>", page, re.S).group(1))
    echoed = heading.split("«", 1)[1].rstrip("»")
    assert echoed.endswith("…") and len(echoed) <= ECHOED_QUERY_CHARS + 1
    assert query.startswith(echoed[:-1])
    assert echoed[-2] != " " and "парол…" not in echoed  # cut between words
    title = html.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1))
    assert len(title) < 100
    # The search box still holds what was typed, to edit.
    box = re.search(r'<input id="q-top" name="q" type="search" value="([^"]*)"', page)
    assert html.unescape(box.group(1)) == query


def test_a_short_query_is_repeated_whole(client):
    page = client.get("/search?q=ошибка+651").get_data(as_text=True)
    assert "<h1>Результаты по запросу «ошибка 651»</h1>" in page


def test_a_snippet_starts_at_the_sentence_holding_the_match_when_it_can():
    text = ("Первое предложение о другом. Второе тоже о другом, довольно длинное. "
            "Перезагрузите роутер и подождите минуту.")
    shown = _plain(snippet(text, {word_stem("роутер")}, size=12))
    assert shown.startswith("Перезагрузите роутер")
    # Mid-sentence, the ellipsis says something comes before.
    long = " ".join(["слово"] * 40) + " роутер и ещё слова"
    assert _plain(snippet(long, {word_stem("роутер")}, size=12)).startswith("… слово")
