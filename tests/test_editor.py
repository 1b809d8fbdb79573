"""The article editor: drafts, publishing, unpublishing and archiving write the Markdown
file and update the search at once; every save is a revision; two experts never overwrite
each other; moved articles keep their old address; the preview is the site's rendering."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal import articles as articles_mod
from portal.extensions import db
from portal.models import ArticleRevision
from portal.search import search

from .conftest import database_urls
from .editing import expert_client
from .editing import new_article
from .editing import read_form
from .editing import revisions
from .editing import submit
from .helpers import csrf_token
from .helpers import result_links

BODY = "## Что делать\n\nВыключите телепорт на минуту и включите снова.\n"
EDIT = "/expert/articles/{}/edit"


def found_ids(client, query: str) -> list[str]:
    """What a customer's search finds: the article ids of the result links."""
    page = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    return [link.split("?")[0].removeprefix("/kb/") for link in result_links(page)]


def saved_id(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return re.search(r"/expert/articles/(.+)/edit$", response.headers["Location"]).group(1)


@pytest.mark.parametrize("database", database_urls())
def test_a_draft_is_written_to_disk_and_only_publishing_shows_it_to_customers(
        make_app, articles_dir, database):
    app = make_app(articles_dir, database)
    expert = expert_client(app)
    customer = app.test_client()
    article_id = saved_id(new_article(expert, "Телепорт не включается", BODY, "save_draft",
                                      keywords="телепорт не работает"))
    assert article_id == "internet/teleport-ne-vklyuchaetsya"  # the address from the title
    text = (articles_dir / f"{article_id}.md").read_text("utf-8")
    assert "status: draft" in text and text.endswith(BODY)
    assert found_ids(customer, "телепорт") == []
    assert customer.get(f"/kb/{article_id}").status_code == 404
    # The expert finds the draft in the console's list.
    listing = expert.get("/expert/", query_string={"q": "телепорт"}).get_data(as_text=True)
    assert article_id in listing

    assert saved_id(submit(expert, EDIT.format(article_id), "publish")) == article_id
    assert found_ids(customer, "телепорт не работает")[0] == article_id
    page = customer.get(f"/kb/{article_id}").get_data(as_text=True)
    assert "Выключите телепорт на минуту" in page

    submit(expert, EDIT.format(article_id), "unpublish")
    assert found_ids(customer, "телепорт") == []
    assert "status: draft" in (articles_dir / f"{article_id}.md").read_text("utf-8")
    submit(expert, EDIT.format(article_id), "publish")
    submit(expert, EDIT.format(article_id), "archive")
    assert found_ids(customer, "телепорт") == []
    assert customer.get(f"/kb/{article_id}").status_code == 404

    history = revisions(app, article_id)
    assert [r.status for r in history] == ["draft", "published", "draft", "published",
                                           "archived"]
    assert {r.author_name for r in history} == {"Эксперт"}
    assert all(r.state == "applied" for r in history)
    assert history[-1].content == (articles_dir / f"{article_id}.md").read_text("utf-8")


def test_saved_files_are_valid_articles_that_keep_the_body_exactly(app, articles_dir):
    expert = expert_client(app)
    body = "    отступ — это блок кода\n\n* список\n\n```text\n  ровно так\n```\n\n"
    article_id = saved_id(new_article(
        expert, "Форматирование: «кавычки», ё и — тире", body, tags="a, b, b",
        keywords="первое\nвторое, третье", summary="Коротко.", owner="a.ivanova",
        review_every="90", reviewed="2026-11-01", slug="formatirovanie"))
    assert articles_mod.check(articles_dir) == []
    text = (articles_dir / f"{article_id}.md").read_text("utf-8")
    assert articles_mod.split_file(text)[1] == body  # nothing trimmed or re-wrapped
    article = articles_mod.load_article(articles_dir, articles_dir / f"{article_id}.md")
    assert article.title == "Форматирование: «кавычки», ё и — тире"
    assert article.tags == ["a", "b"] and article.keywords == ["первое", "второе", "третье"]
    assert (article.owner, article.review_every, str(article.reviewed)) == (
        "a.ivanova", 90, "2026-11-01")
    # Opening it again shows the same values, so saving unchanged changes nothing.
    form = read_form(expert.get(EDIT.format(article_id)).get_data(as_text=True))
    assert form.fields["body"] == body and form.fields["keywords"] == "первое\nвторое\nтретье"
    expert.set_cookie("ui_lang", "en")
    response = submit(expert, EDIT.format(article_id), "publish")
    assert saved_id(response) == article_id
    assert len(revisions(app, article_id)) == 1
    page = expert.get(EDIT.format(article_id)).get_data(as_text=True)
    assert "Nothing changed: the article is as it was." in page


def test_a_publish_in_one_process_is_found_by_the_others(make_app, articles_dir):
    app = make_app(articles_dir)
    # Another server process: its own app and searcher on the same folders and database.
    other = make_app(articles_dir)
    assert found_ids(other.test_client(), "телепорт") == []
    article_id = saved_id(new_article(expert_client(app), "Телепорт мигает", BODY))
    assert found_ids(other.test_client(), "телепорт мигает") == [article_id]


def test_the_second_of_two_experts_is_refused_with_what_changed(app, articles_dir):
    first = expert_client(app, "first@example.com", "Анна Первая")
    second = expert_client(app, "second@example.com", "Борис Второй")
    url = EDIT.format("account/sbros-parolya")
    first_page = first.get(url).get_data(as_text=True)
    second_page = second.get(url).get_data(as_text=True)
    first_form = read_form(first_page).fields
    second_form = read_form(second_page).fields

    first_form["body"] += "\nПервая правка.\n"
    assert first.post(url, data={**first_form, "publish": "1"}).status_code == 303
    second_form["body"] += "\nВторая правка.\n"
    second.set_cookie("ui_lang", "en")
    refused = second.post(url, data={**second_form, "publish": "1"})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "Someone else saved this article while you were editing it" in page
    assert "Анна Первая" in page
    conflict = re.sub(r"<[^>]+>", "", page[page.index('class="conflict"'):
                                           page.index('id="editor-form"')])
    assert "Первая правка." in conflict and "Вторая правка." in conflict  # the diff
    on_disk = (articles_dir / "account/sbros-parolya.md").read_text("utf-8")
    assert "Первая правка." in on_disk and "Вторая правка." not in on_disk
    # The second expert's text is still in the form; saving it again, knowingly, works.
    kept = read_form(page)
    assert "Вторая правка." in kept.fields["body"]
    assert second.post(url, data={**kept.fields, "publish": "1"}).status_code == 303
    assert "Вторая правка." in (articles_dir / "account/sbros-parolya.md").read_text("utf-8")
    history = revisions(app, "account/sbros-parolya")
    # The file as it was, then each expert's save: nothing was lost from the history.
    assert [(r.source, r.author_name) for r in history] == [
        ("disk", None), ("editor", "Анна Первая"), ("editor", "Борис Второй")]


def test_two_new_articles_at_one_address_do_not_overwrite_each_other(app, articles_dir):
    first = expert_client(app, "first@example.com", "Анна")
    second = expert_client(app, "second@example.com", "Борис")
    url = "/expert/articles/new"
    first_form = read_form(first.get(url).get_data(as_text=True)).fields
    second_form = read_form(second.get(url).get_data(as_text=True)).fields
    fields = {"title": "Телепорт", "category": "internet", "slug": "teleport", "lang": "ru",
              "audience": "public"}
    assert first.post(url, data={**first_form, **fields, "body": "Первый.",
                                 "publish": "1"}).status_code == 303
    refused = second.post(url, data={**second_form, **fields, "body": "Второй.",
                                     "publish": "1"})
    assert refused.status_code == 409  # the address was free when the form was opened
    assert "Первый." in (articles_dir / "internet/teleport.md").read_text("utf-8")


def test_moving_an_article_keeps_its_old_address_and_history(app, articles_dir):
    expert = expert_client(app)
    customer = app.test_client()
    old = "account/sbros-parolya"
    response = submit(expert, EDIT.format(old), "publish", category="security",
                      slug="vosstanovlenie-parolya", message="Переезд в «Безопасность»")
    new = saved_id(response)
    assert new == "security/vosstanovlenie-parolya"
    assert not (articles_dir / f"{old}.md").exists()
    moved = customer.get(f"/kb/{old}")
    assert moved.status_code == 301 and moved.headers["Location"].endswith(f"/kb/{new}")
    assert found_ids(customer, "сбросить пароль личного кабинета")[0] == new
    article = articles_mod.load_article(articles_dir, articles_dir / f"{new}.md")
    assert old in article.aliases
    history = revisions(app, new)
    assert [r.renamed_from for r in history] == [None, old]
    assert revisions(app, old) == []
    # The editor's old address leads to the new one.
    assert expert.get(EDIT.format(old)).headers["Location"].endswith(EDIT.format(new))
    assert articles_mod.check(articles_dir) == []


def test_an_address_in_use_is_refused(app, articles_dir):
    expert = expert_client(app, "en@example.com", "Expert")
    expert.set_cookie("ui_lang", "en")
    response = submit(expert, EDIT.format("account/sbros-parolya"), "publish",
                      category="internet", slug="nastrojka-wi-fi")
    assert response.status_code == 400
    assert "An article with this address exists already." in response.get_data(as_text=True)
    response = submit(expert, EDIT.format("account/sbros-parolya"), "publish",
                      category="internet", slug="propal-internet")  # another's alias
    assert "This address redirects to another article." in response.get_data(as_text=True)
    assert (articles_dir / "account/sbros-parolya.md").exists()


def test_restoring_a_revision_brings_its_text_back_as_a_new_revision(app, articles_dir):
    expert = expert_client(app)
    url = EDIT.format("internet/nastrojka-wi-fi")
    original = (articles_dir / "internet/nastrojka-wi-fi.md").read_text("utf-8")
    submit(expert, url, "publish", body="Совсем другой текст.")
    submit(expert, url, "publish", slug="wi-fi")  # moved: the restored text must keep that
    history = expert.get("/expert/articles/internet/wi-fi/history").get_data(as_text=True)
    assert history.count("/expert/articles/internet/wi-fi/revisions/") == 3
    response = submit(expert, "/expert/articles/internet/wi-fi/revisions/1", "restore",
                      form_id="restore-form")
    assert response.status_code == 303
    restored = (articles_dir / "internet/wi-fi.md").read_text("utf-8")
    assert articles_mod.split_file(restored)[1] == articles_mod.split_file(original)[1]
    assert "internet/nastrojka-wi-fi" in articles_mod.load_article(
        articles_dir, articles_dir / "internet/wi-fi.md").aliases
    rows = revisions(app, "internet/wi-fi")
    assert [r.source for r in rows] == ["disk", "editor", "editor", "restore"]


def test_a_revision_page_shows_what_it_changed_side_by_side(app):
    expert = expert_client(app)
    url = EDIT.format("internet/no-internet")
    form = read_form(expert.get(url).get_data(as_text=True)).fields
    body = form["body"].replace("restart the router", "unplug the router for a minute")
    submit(expert, url, "publish", body=body, message="Clearer step")
    expert.set_cookie("ui_lang", "en")
    page = expert.get("/expert/articles/internet/no-internet/revisions/2").get_data(
        as_text=True)
    assert "Clearer step" in page
    old_side = re.search(r'<td class="diff-line diff-old">(.*?)</td>', page[page.index(
        "diff-replace"):], re.S).group(1)
    new_side = re.search(r'<td class="diff-line diff-new">(.*?)</td>', page[page.index(
        "diff-replace"):], re.S).group(1)
    assert "restart the router" in re.sub(r"<[^>]+>", "", old_side)
    assert '<mark class="diff-change">' in new_side and "unplug" in new_side
    compare = expert.get("/expert/articles/internet/no-internet/compare?from=1&to=2")
    assert compare.status_code == 200 and "unplug" in compare.get_data(as_text=True)


def test_the_live_preview_renders_like_the_site_and_says_what_is_wrong(app):
    expert = expert_client(app, "en@example.com", "Expert")
    expert.set_cookie("ui_lang", "en")
    token = csrf_token(expert.get("/expert/articles/new").get_data(as_text=True))
    fields = {"csrf_token": token, "title": "Preview", "category": "internet", "lang": "ru",
              "audience": "public"}
    answer = expert.post("/expert/preview", data={
        **fields, "body": "## Шаг 1\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
                          "<img src=x onerror=alert(1)>[x](javascript:alert(2))"}).get_json()
    assert answer["problems"] == []
    assert '<h2 id="шаг-1">' in answer["html"] and "<table>" in answer["html"]
    assert "onerror" not in answer["html"] and "javascript:" not in answer["html"]
    # What is wrong with the other fields is said beside them on saving, never in the
    # preview: it is about the text alone.
    wrong = expert.post("/expert/preview", data={**fields, "title": "", "slug": "Не Так",
                                                 "category": "",
                                                 "body": "## Всё равно видно"}).get_json()
    assert wrong["problems"] == []
    assert '<h2 id="всё-равно-видно">' in wrong["html"]  # the body is previewed anyway
    missing = expert.post("/expert/preview", data={**fields, "body": "x",
                                                   "translations": "nowhere/at-all"}).get_json()
    assert missing["problems"] == [] and "<p>x</p>" in missing["html"]
    slow = expert.post("/expert/preview", data={**fields, "body": "x\n" + "  " * 60 + "- a"
                                                }).get_json()
    assert slow["problems"] and slow["html"] == ""  # a problem of the text itself is shown
    expired = expert.post("/expert/preview", data={**fields, "csrf_token": "stale"})
    assert expired.status_code == 400


def test_text_that_takes_too_long_to_render_is_refused_not_hung_on(make_app, articles_dir):
    app = make_app(articles_dir, EDITOR_RENDER_SECONDS=0.5)
    expert = expert_client(app, "en@example.com", "Expert")
    expert.set_cookie("ui_lang", "en")
    slow = "[a](b " * 9000  # quadratic in Python-Markdown: many seconds
    response = new_article(expert, "Медленная статья", slow)
    assert response.status_code == 400
    assert "takes too long to turn into a page" in response.get_data(as_text=True)
    assert not list((articles_dir / "internet").glob("medlennaya*"))
    assert read_form(response.get_data(as_text=True)).fields["body"] == slow


def test_each_app_keeps_its_own_render_time_limit(make_app, articles_dir):
    # Two apps in one process (tests, or one worker serving two sites): the one built last
    # must not impose its limit on the other.
    patient = make_app(articles_dir, EDITOR_RENDER_SECONDS=20)
    strict = make_app(articles_dir, EDITOR_RENDER_SECONDS=0.5)
    body = "[a](b " * 1500  # quadratic in Python-Markdown: about two seconds
    answers = {}
    for name, app in (("patient", patient), ("strict", strict)):
        expert = expert_client(app, f"{name}@example.com", "Expert")
        expert.set_cookie("ui_lang", "en")
        token = csrf_token(expert.get("/expert/articles/new").get_data(as_text=True))
        answers[name] = expert.post("/expert/preview", data={
            "csrf_token": token, "title": "Slow", "category": "internet", "lang": "ru",
            "audience": "public", "body": body}).get_json()
    assert answers["patient"]["problems"] == [] and answers["patient"]["html"]
    assert any("takes too long" in p for p in answers["strict"]["problems"])


def test_files_changed_outside_the_portal_become_revisions(app, articles_dir):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["index", "build"]).exit_code == 0
    first = {r.article_id for r in revisions_all(app)}
    assert "account/sbros-parolya" in first and "account/chernovik" in first
    path = articles_dir / "account/sbros-parolya.md"
    path.write_text(path.read_text("utf-8") + "\nНовая строка из git pull.\n", "utf-8")
    (articles_dir / "internet/no-internet.md").rename(articles_dir / "internet/offline.md")
    (articles_dir / "account/chernovik.md").unlink()
    result = runner.invoke(args=["index", "build"])
    assert result.exit_code == 0, result.output
    assert "1 recorded, 1 moved, 1 removed" in result.output
    changed = revisions(app, "account/sbros-parolya")
    assert [r.source for r in changed] == ["disk", "disk"]
    assert changed[-1].content_hash == articles_mod.content_hash(path.read_bytes())
    assert [r.renamed_from for r in revisions(app, "internet/offline")] == [
        None, "internet/no-internet"]
    assert revisions(app, "account/chernovik")[-1].status == "removed"
    # Nothing changed since: nothing is recorded again (the build sees the folder as it was).
    again = runner.invoke(args=["index", "build"]).output
    assert "nothing changed in the articles folder since the last build" in again
    assert [r.id for r in revisions(app, "account/sbros-parolya")] == [r.id for r in changed]


def revisions_all(app) -> list[ArticleRevision]:
    with app.app_context():
        rows = list(db.session.scalars(select(ArticleRevision)))
        db.session.expunge_all()
        return rows


@pytest.mark.parametrize("url", [
    "/expert/articles/../etc/passwd/edit", "/expert/articles/NOPE/edit",
    "/expert/articles/account/missing/edit", "/expert/articles/account/missing/history",
    "/expert/articles/account/sbros-parolya/revisions/99",
    "/expert/articles/account/sbros-parolya/revisions/99999999999999999999",
    "/expert/articles/account/sbros-parolya/compare?from=x&to=2",
    "/expert/?status=gone", "/expert/?page=0", "/expert/?category=%00",
])
def test_wrong_addresses_and_parameters_are_clear_errors(app, url):
    response = expert_client(app).get(url)
    assert response.status_code in (400, 404), response.get_data(as_text=True)[:300]


def test_an_agent_cannot_open_the_editor(app, articles_dir):
    agent = expert_client(app, "agent@example.com", "Агент", role="agent")
    assert agent.get("/expert/").status_code == 403
    token = csrf_token(agent.get("/tickets/new").get_data(as_text=True))
    refused = agent.post("/expert/articles/new", data={
        "csrf_token": token, "title": "x", "category": "internet", "lang": "ru",
        "audience": "public", "body": "x", "publish": "1"})
    assert refused.status_code == 403
    assert not (articles_dir / "internet/x.md").exists()


def test_the_search_finds_what_the_editor_saved_without_a_rebuild(app, index, articles_dir):
    expert = expert_client(app)
    submit(expert, EDIT.format("internet/nastrojka-wi-fi"), "publish",
           keywords="квантовый роутер")
    with app.app_context():
        assert [h.id for h in search(index, "квантовый").hits] == ["internet/nastrojka-wi-fi"]


def test_an_expired_form_gives_the_text_back_with_a_fresh_token(app, articles_dir):
    expert = expert_client(app, "en@example.com", "Expert")
    expert.set_cookie("ui_lang", "en")
    url = EDIT.format("internet/nastrojka-wi-fi")
    form = read_form(expert.get(url).get_data(as_text=True)).fields
    typed = form["body"] + "\nЧас работы над текстом.\n"
    refused = expert.post(url, data={**form, "body": typed, "csrf_token": "expired",
                                     "publish": "1"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "its form expired. Your text is kept" in page
    kept = read_form(page).fields
    assert kept["body"].replace("\r\n", "\n") == typed
    assert "Час работы" not in (articles_dir / "internet/nastrojka-wi-fi.md").read_text("utf-8")
    assert expert.post(url, data={**kept, "publish": "1"}).status_code == 303
    assert "Час работы" in (articles_dir / "internet/nastrojka-wi-fi.md").read_text("utf-8")


def test_a_moved_article_stays_the_translation_of_its_counterpart(app, articles_dir):
    expert = expert_client(app)
    new = saved_id(submit(expert, EDIT.format("internet/no-internet"), "publish",
                          slug="offline"))
    assert new == "internet/offline"
    # The Russian article still names the old id; the check and the pages follow the move.
    assert "internet/no-internet" in (articles_dir / "internet/net-interneta.md").read_text(
        "utf-8")
    assert articles_mod.check(articles_dir) == []
    page = app.test_client().get("/kb/internet/net-interneta").get_data(as_text=True)
    assert 'href="/kb/internet/offline"' in page
    # And saving the Russian one, which names the old id, is not refused.
    assert saved_id(submit(expert, EDIT.format("internet/net-interneta"), "publish",
                           message="Без изменений в переводах")) == "internet/net-interneta"


def test_a_save_changes_only_the_lines_that_changed(app, articles_dir):
    path = articles_dir / "internet/nastrojka-wi-fi.md"
    long_summary = "Как сменить имя сети и пароль Wi-Fi на роутере, " * 4
    text = path.read_text("utf-8").replace(
        "summary: Как сменить имя сети и пароль Wi-Fi.", f"summary: {long_summary.strip()}")
    path.write_text(text, "utf-8")
    before = path.read_text("utf-8").splitlines()
    submit(expert_client(app), EDIT.format("internet/nastrojka-wi-fi"), "publish",
           tags="wi-fi, пароль, роутер")
    after = path.read_text("utf-8").splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=False) if old != new]
    assert len(before) == len(after) and changed == [
        ("tags: [wi-fi, пароль]", "tags: [wi-fi, пароль, роутер]")]
