"""The expert's data views read as a person would want: junk queries kept apart from the
gaps, and an analytics page that leads with its figures and skips the days of nothing."""

from __future__ import annotations

import html
import re

from portal import tracking

from .editing import expert_client

JUNK = ("?!.,;:-—()", "</div><br>", "подскажите, что делать")


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _search(app, *queries: str) -> None:
    for query in queries:
        app.test_client().get("/search", query_string={"q": query})
    with app.app_context():
        assert tracking.flush()


def _page(client, url: str) -> str:
    client.set_cookie("ui_lang", "en")
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_queries_with_no_words_to_search_are_kept_apart_from_the_gaps(app):
    _search(app, "квазар мерцает", *JUNK)
    page = _page(expert_client(app), "/expert/gaps")
    cards = [_text(c) for c in re.findall(r'<article class="gap-card.*?</article>', page, re.S)]
    assert len(cards) == 1 and "«квазар мерцает»" in cards[0]
    assert "1 gap" in _text(page)
    apart = re.search(r'<details class="gaps-without-words".*?</details>', page, re.S)
    assert apart is not None, "no separate section for the queries without words"
    shown = _text(apart.group())
    assert shown.startswith("Queries with no words to search (3)")
    for query in JUNK:
        assert f"«{query}»" in shown


def test_without_junk_there_is_no_section_for_it(app):
    _search(app, "квазар мерцает")
    assert "gaps-without-words" not in _page(expert_client(app), "/expert/gaps")


def test_analytics_leads_with_the_headline_figures_and_skips_days_of_nothing(app):
    _search(app, "квазар мерцает", "роутер")
    page = _page(expert_client(app), "/expert/analytics?days=30")
    headline = page.index('class="analytics-headline"')
    assert headline < page.index('id="summary-title"') < page.index('id="trends-title"')
    figures = _text(page[headline:page.index("</section>", headline)])
    assert "Zero-result rate 50.0%" in figures
    trend = re.search(r'<table class="staff-table analytics-trend">.*?</table>', page, re.S)
    rows = re.findall(r"<tr>\s*<th scope=\"row\">", trend.group())
    assert len(rows) == 1  # today; the 29 quiet days are left out
    assert "29 days when nothing happened are left out of the table." in _text(page)


def test_a_period_of_nothing_says_so_in_the_trend_table(app):
    page = _page(expert_client(app), "/expert/analytics?days=7")
    assert "Nothing happened in this period." in _text(page)
    assert "7 days when nothing happened are left out of the table." in _text(page)
