"""The experts' inbox: article requests and flags from agents, customers' "no" votes, and
articles due for review — each routed to the article's owner, each closed with a note."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from portal import articles as articles_mod
from portal.extensions import db
from portal.models import ArticleFlag
from portal.models import ArticleRequest
from portal.models import ArticleRevision
from portal.models import Vote
from portal.web.knowledge import current_index

from .conftest import database_urls
from .editing import expert_client
from .editing import read_form
from .helpers import open_result
from .helpers import vote
from .staff import act
from .staff import new_ticket_number

OWNED = "internet/nastrojka-wi-fi"


@pytest.fixture
def site(make_app, articles_dir):
    """The test site with one article owned by Ольга (o.kuznetsova) and due for review."""
    path = articles_dir / f"{OWNED}.md"
    text = path.read_text("utf-8").replace(
        "lang: ru\n", "lang: ru\nowner: o.kuznetsova\nreviewed: 2025-01-10\nreview_every: 90\n",
        1)
    path.write_text(text, "utf-8")
    return make_app(articles_dir)


def olga(app):
    """The owner of OWNED: her address's first part is the article's `owner`."""
    client = expert_client(app, "o.kuznetsova@vektor.example", "Ольга Кузнецова")
    client.set_cookie("ui_lang", "en")
    return client


def inbox(client, view: str = "mine", **args) -> list[str]:
    """The items of one view, each as text."""
    response = client.get("/expert/inbox", query_string={"view": view, **args})
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    items = re.findall(r'<li class="inbox-item[^"]*"[^>]*>(.*?)</li>\s*(?=<li class="inbox|'
                       r'</ol>)', response.get_data(as_text=True), re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", i)).split()) for i in items]


def close(client, kind: str, key: str, note: str = "", view: str = "mine"):
    page = client.get("/expert/inbox", query_string={"view": "all"}).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(f"/expert/inbox/{kind}/{key}/close",
                       data={"csrf_token": token, "note": note, "view": view})


def agent_client(app):
    return expert_client(app, "anna@example.com", "Анна Агентова", role="agent")


def test_a_review_date_at_the_end_of_the_calendar_is_simply_not_due(make_app, articles_dir):
    path = articles_dir / f"{OWNED}.md"
    path.write_text(path.read_text("utf-8").replace(
        "lang: ru\n", "lang: ru\nowner: o.kuznetsova\nreviewed: 9999-12-01\nreview_every: 60\n",
        1), "utf-8")
    app = make_app(articles_dir)
    assert inbox(olga(app), "all") == []


def test_an_article_due_for_review_goes_to_its_owner_and_is_marked_reviewed(site,
                                                                            articles_dir):
    owner = olga(site)
    other = expert_client(site, "other@example.com", "Пётр")
    other.set_cookie("ui_lang", "en")
    [item] = inbox(owner)
    assert "review due" in item and "due since 10 April 2025" in item
    assert "owner: o.kuznetsova" in item
    assert inbox(other) == [] and len(inbox(other, "all")) == 1
    assert inbox(other, "unowned") == []  # Ольга has an account: the item is hers
    response = close(owner, "review", OWNED, note="Проверила адрес 192.168.0.1")
    assert response.status_code == 303
    article = articles_mod.load_article(articles_dir, articles_dir / f"{OWNED}.md")
    assert article.reviewed == dt.date.today()
    with site.app_context():
        last = db.session.scalars(select(ArticleRevision).where(
            ArticleRevision.article_id == OWNED).order_by(ArticleRevision.number.desc())).first()
        assert (last.source, last.message, last.author_name) == (
            "review", "Проверила адрес 192.168.0.1", "Ольга Кузнецова")
        assert current_index().catalog()[OWNED].reviewed == dt.date.today().isoformat()
    assert inbox(owner) == []


@pytest.mark.parametrize("database", database_urls())
def test_a_flag_from_an_agent_reaches_the_owner_and_is_closed_with_a_note(make_app,
                                                                          articles_dir,
                                                                          database):
    app = make_app(articles_dir, database)
    number = new_ticket_number(app)
    agent = agent_client(app)
    assert act(agent, number, "flag", article="internet/net-interneta", kind="outdated",
               comment="Индикатор теперь называется «Internet»").status_code == 303
    expert = expert_client(app)
    expert.set_cookie("ui_lang", "en")
    assert inbox(expert) == []  # nobody owns the article: it is for everyone
    [item] = [i for i in inbox(expert, "unowned") if "flag" in i]
    assert "Нет интернета — что проверить" in item and "outdated" in item
    assert "Индикатор теперь называется «Internet»" in item and number in item
    assert "Анна Агентова" in item
    with app.app_context():
        flag_id = db.session.scalar(select(ArticleFlag.id))
    assert close(expert, "flag", str(flag_id), note="Исправил", view="unowned").status_code \
        == 303
    assert [i for i in inbox(expert, "all") if "flag" in i] == []
    with app.app_context():
        flag = db.session.get(ArticleFlag, flag_id)
        assert (flag.status, flag.close_note, flag.closed_by_id is not None) == (
            "closed", "Исправил", True)
    # Closing twice says so instead of pretending.
    again = close(expert, "flag", str(flag_id))
    page = expert.get(again.headers["Location"]).get_data(as_text=True)
    assert "Nothing to close: someone closed it already." in page


def test_an_article_request_becomes_a_draft_and_is_closed(site, articles_dir):
    number = new_ticket_number(site)
    agent = agent_client(site)
    act(agent, number, "resolve", outcome="no_article", topic="Как настроить IPTV",
        note="Третий раз за неделю")
    expert = olga(site)
    [item] = [i for i in inbox(expert, "unowned") if "article request" in i]
    assert "«Как настроить IPTV»" in item and "Третий раз за неделю" in item
    page = expert.get("/expert/inbox", query_string={"view": "unowned"}).get_data(
        as_text=True)
    write = html.unescape(re.search(r'href="(/expert/articles/new\?[^"]*request=[^"]+)"',
                                    page).group(1))
    form = read_form(expert.get(write).get_data(as_text=True))
    assert form.fields["title"] == "Как настроить IPTV"
    saved = expert.post("/expert/articles/new", data={
        **form.fields, "category": "internet", "body": "## Шаги\n\nОткройте приставку.",
        "save_draft": form.buttons["save_draft"]})
    assert saved.status_code == 303
    with site.app_context():
        request_row = db.session.scalar(select(ArticleRequest))
        assert request_row.article_id == "internet/kak-nastroit-iptv"
        request_id = request_row.id
    # The draft is hers (the editor makes its writer the owner), so the request is too.
    [item] = [i for i in inbox(expert, "mine") if "article request" in i]
    assert "Article started: Как настроить IPTV" in item
    assert close(expert, "request", str(request_id)).status_code == 303
    assert [i for i in inbox(expert, "all") if "article request" in i] == []


def test_no_votes_with_reasons_and_comments_gather_per_article(site):
    owner = olga(site)
    for reason, comment in (("not_solved", "Пароль не меняется"), ("unclear", ""),
                            ("not_solved", "")):
        customer = site.test_client()
        vote(customer, open_result(customer, "пароль wi-fi"), helpful=False, reason=reason)
        if comment:
            page = customer.get(f"/kb/{OWNED}").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                              page).group(1)
            customer.post(f"/kb/{OWNED}/feedback", data={
                "csrf_token": token, "send": "1", "reason": reason, "comment": comment})
    helped = site.test_client()
    vote(helped, open_result(helped, "пароль wi-fi"), helpful=True)
    [item] = [i for i in inbox(owner) if "“no” votes" in i]
    assert "3 customers said it did not help" in item
    assert "It did not solve my problem — 2" in item and "It is hard to understand — 1" in item
    assert "Пароль не меняется" in item
    assert close(owner, "votes", OWNED, note="Переписал шаг 2").status_code == 303
    assert [i for i in inbox(owner) if "“no” votes" in i] == []
    with site.app_context():
        notes = set(db.session.scalars(select(Vote.close_note).where(Vote.helpful.is_(False))))
        assert notes == {"Переписал шаг 2"}
    # A customer who votes "no" again after that is news again.
    again = site.test_client()
    vote(again, open_result(again, "пароль wi-fi"), helpful=False, reason="outdated")
    [item] = [i for i in inbox(owner) if "“no” votes" in i]
    assert "1 customer said it did not help" in item and "It is out of date — 1" in item


@pytest.mark.parametrize("url", ["/expert/inbox?view=theirs", "/expert/inbox?kind=spam"])
def test_wrong_inbox_parameters_are_a_clear_error(site, url):
    assert olga(site).get(url).status_code == 400


@pytest.mark.parametrize("kind,key", [("spam", "1"), ("flag", "x" * 300)])
def test_closing_something_that_is_not_an_inbox_item_is_not_found(site, kind, key):
    assert close(olga(site), kind, key).status_code == 404


@pytest.mark.parametrize("key", ["999", "abc", "1" * 40, "-1"])
def test_closing_a_missing_item_says_nothing_was_closed(site, key):
    owner = olga(site)
    response = close(owner, "request", key)
    assert response.status_code == 303
    page = owner.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nothing to close" in page


def test_a_note_too_long_is_refused_and_the_item_stays(site):
    owner = olga(site)
    response = close(owner, "review", OWNED, note="x" * 2001)
    assert response.status_code == 303
    assert len(inbox(owner)) == 1


def test_a_long_inbox_comes_in_pages(site):
    with site.app_context():
        now = dt.datetime.now(dt.UTC)
        db.session.add_all([ArticleFlag(article_id=OWNED, kind="wrong", comment=f"Ошибка {n}",
                                        status="open", created_at=now) for n in range(60)])
        db.session.commit()
    owner = olga(site)
    first, second = inbox(owner), inbox(owner, page="2")
    assert len(first) == 50 and len(second) == 11  # 60 flags and the review
    assert not set(first) & set(second)
    page = owner.get("/expert/inbox?view=mine").get_data(as_text=True)
    assert "61 items" in page and 'rel="next"' in page
