"""The expert's article list shows views, helpfulness and last change, sorted on the server;
the inbox opens on the view that has work."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from portal import popularity
from portal import tracking
from portal.extensions import db

from .editing import expert_client
from .editing import submit
from .helpers import vote


def listed(client, **query) -> tuple[list[str], str]:
    """The article ids of the list in order, and the page."""
    response = client.get("/expert/", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    page = response.get_data(as_text=True)
    return re.findall(r"<td><code>([^<]+)</code></td>", page), page


def row_of(page: str, article_id: str) -> list[str]:
    row = re.search(rf"<tr>\s*<td>.*?<code>{re.escape(article_id)}</code>.*?</tr>", page, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)]


@pytest.fixture
def site(app):
    """Views and votes: Wi-Fi opened 10 times and voted yes twice, no once; the password
    article opened 3 times (and once 40 days ago) and voted no; nothing for the others."""
    with app.app_context():
        today = dt.date.today()
        for _ in range(7):
            popularity.count_view("internet/nastrojka-wi-fi", today)
        for _ in range(2):
            popularity.count_view("account/sbros-parolya", today)
        popularity.count_view("account/sbros-parolya", today - dt.timedelta(days=40))
        db.session.commit()
    for helpful in (True, True, False):
        reader = app.test_client()
        vote(reader, reader.get("/kb/internet/nastrojka-wi-fi").get_data(as_text=True),
             helpful, None if helpful else "outdated")
    reader = app.test_client()
    vote(reader, reader.get("/kb/account/sbros-parolya").get_data(as_text=True), False,
         "unclear")
    with app.app_context():
        tracking.flush()   # the voters' own views count too: Wi-Fi 7 + 3, password 2 + 1
    return app


def test_each_article_shows_its_views_helpfulness_and_last_change(site):
    expert = expert_client(site)
    expert.set_cookie("ui_lang", "en")
    ids, page = listed(expert)
    assert "Views (30 days)" in page and "Helpfulness" in page and "Last updated" in page
    wifi = row_of(page, "internet/nastrojka-wi-fi")
    assert wifi[-3:-1] == ["10", "67 % (3 votes)"]
    assert re.fullmatch(r"\d{1,2} \w{3} \d{4}", wifi[-1]), wifi[-1]   # e.g. "3 Dec 2026"
    assert row_of(page, "account/sbros-parolya")[-3:-1] == ["3", "0 % (1 vote)"]
    assert row_of(page, "internet/no-internet")[-3:-1] == ["0", "no votes"]


def test_the_list_sorts_by_each_column_both_ways(site):
    expert = expert_client(site)
    ids, _page = listed(expert, sort="views", dir="desc")
    assert ids[:2] == ["internet/nastrojka-wi-fi", "account/sbros-parolya"]
    ids, _page = listed(expert, sort="views", dir="asc")
    assert ids[-2:] == ["account/sbros-parolya", "internet/nastrojka-wi-fi"]
    ids, _page = listed(expert, sort="helpfulness", dir="desc")
    assert ids[:2] == ["internet/nastrojka-wi-fi", "account/sbros-parolya"]
    ids, _page = listed(expert, sort="helpfulness", dir="asc")
    # Articles without votes stay below those with votes, whichever way.
    assert ids[:2] == ["account/sbros-parolya", "internet/nastrojka-wi-fi"]
    ids, page = listed(expert, sort="title", dir="asc")
    titles = [html.unescape(t) for t in re.findall(
        r'<td><a href="/expert/articles/[^"]+/edit"[^>]*>([^<]+)</a>', page)]
    assert titles == sorted(titles, key=str.casefold) and len(titles) == len(ids)
    # The article saved last comes first by date, and last the other way round.
    for article_id in ("internet/no-internet", "account/chernovik"):
        edited = submit(expert, f"/expert/articles/{article_id}/edit", "save_draft"
                        if article_id == "account/chernovik" else "publish",
                        body=f"Новый текст {article_id}.")
        assert edited.status_code == 303, edited.get_data(as_text=True)[:300]
    ids, _page = listed(expert, sort="updated", dir="desc")
    assert ids[:2] == ["account/chernovik", "internet/no-internet"]
    ids, _page = listed(expert, sort="updated", dir="asc")
    assert ids[-2:] == ["internet/no-internet", "account/chernovik"]


def test_sorted_columns_say_so_and_their_links_turn_the_order(site):
    expert = expert_client(site)
    _ids, page = listed(expert, sort="views", dir="desc", status="published")
    header = re.search(r'<th scope="col" aria-sort="descending">\s*<a href="([^"]+)"', page)
    assert header, "the sorted column has no aria-sort"
    link = html.unescape(header.group(1))
    assert "sort=views" in link and "dir=asc" in link and "status=published" in link
    assert page.count("aria-sort=") == 1
    _ids, unsorted = listed(expert)
    assert "aria-sort=" not in unsorted


@pytest.mark.parametrize("query", [{"sort": "evil"}, {"sort": "views", "dir": "sideways"},
                                   {"sort": "<script>"}, {"dir": "desc"}])
def test_a_strange_sort_is_refused_or_ignored_clearly(site, query):
    response = expert_client(site).get("/expert/", query_string=query)
    assert response.status_code in (200, 400)
    assert "<script>" not in response.get_data(as_text=True)


def test_the_inbox_opens_on_the_view_that_has_work(site):
    expert = expert_client(site)
    page = expert.get("/expert/inbox").get_data(as_text=True)
    # Nothing is this expert's; the votes are on articles without an owner.
    current = re.search(r'<span aria-current="page">([^<]+)</span>', page).group(1)
    assert "(0)" not in current, current
    assert 'class="inbox-item' in page
    mine = expert.get("/expert/inbox?view=mine").get_data(as_text=True)
    assert re.search(r'<span aria-current="page">[^<]+\(0\)</span>', mine)


def test_an_empty_inbox_opens_on_the_experts_own_view(app):
    page = expert_client(app).get("/expert/inbox").get_data(as_text=True)
    current = re.search(r'<span aria-current="page">([^<]+)</span>', page).group(1)
    assert current.endswith("(0)")
