"""Hostile text in the expert console. Markdown made of every XSS payload is kept in the
file exactly as typed, and is inert in the live preview, on the published page and back in
the editor; naughty strings in every editor field are saved or refused with a message,
never a 500; hostile searches, flags and requests are only text on the gaps and inbox pages."""

from __future__ import annotations

import random
import re

import pytest

from portal import articles as articles_mod
from portal.articles import ALLOWED_TAGS
from portal.views.forms import clean_text
from portal.views.forms import one_line

from .badinput import Page
from .badinput import check_page
from .badinput import naughty_strings
from .badinput import pack
from .badinput import xss_payloads
from .editing import expert_client
from .editing import read_form
from .staff import act
from .staff import new_ticket_number

#: The elements of the console's own pages (the article's sanitized HTML adds its own).
CONSOLE_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "a", "header", "div", "nav",
    "span", "form", "input", "button", "main", "h1", "h2", "p", "fieldset", "legend",
    "label", "textarea", "select", "option", "datalist", "section", "footer", "ul", "li",
    "code", "details", "summary", "dl", "dt", "dd", "ol", "strong", "article", "aside",
    "table", "thead", "tbody", "tr", "th", "td", "mark", "svg", "polyline", "pre",
}
PAGE_TAGS = CONSOLE_TAGS | ALLOWED_TAGS


def as_stored(markdown: str) -> str:
    """Markdown as the file must keep it: only line ends unified, NUL dropped, ending in a
    newline."""
    text = markdown.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    return text if text.endswith("\n") else text + "\n"


@pytest.fixture
def site(make_app, articles_dir):
    return make_app(articles_dir, RATELIMIT_ENABLED=False, EDITOR_RENDER_SECONDS=20)


def editor_fields(expert) -> dict:
    form = read_form(expert.get("/expert/articles/new").get_data(as_text=True))
    return {**form.fields, "category": "xss", "lang": "ru", "audience": "public"}


def test_xss_payloads_in_the_editor_stay_text_and_the_file_keeps_them(site, articles_dir):
    expert = expert_client(site)
    fields = editor_fields(expert)
    chunks = pack(xss_payloads(), 8000, "\n\n")
    titles = [p for p in xss_payloads() if len(p) <= 200 and "\n" not in p]
    sent = 0
    for number, (body, count) in enumerate(chunks):
        title = f"{number}: {titles[number % len(titles)]}"
        preview = expert.post("/expert/preview", data={**fields, "title": title, "body": body})
        answer = preview.get_json()
        assert answer["problems"] == [], (number, answer["problems"][:3])
        rendered = Page(answer["html"])
        assert rendered.problems == [] and rendered.tags <= ALLOWED_TAGS, (
            number, rendered.problems[:3], rendered.tags - ALLOWED_TAGS)

        saved = expert.post("/expert/articles/new", data={
            **fields, "title": title, "slug": f"payloads-{number}", "body": body,
            "summary": titles[(number + 7) % len(titles)], "publish": "1"})
        assert saved.status_code == 303, (number, saved.get_data(as_text=True)[:300])
        article_id = f"xss/payloads-{number}"
        text = (articles_dir / f"{article_id}.md").read_text("utf-8")
        assert articles_mod.split_file(text)[1] == as_stored(body)  # kept as written
        assert articles_mod.load_article(articles_dir, articles_dir / f"{article_id}.md") \
            .title == one_line(title)

        check_page(site.test_client(), f"/kb/{article_id}", PAGE_TAGS)
        editor = check_page(expert, f"/expert/articles/{article_id}/edit", PAGE_TAGS)
        assert read_form(expert.get(f"/expert/articles/{article_id}/edit").get_data(
            as_text=True)).fields["body"].replace("\r\n", "\n") == as_stored(body)
        assert one_line(title)[:40] in editor.text  # the title is shown, as text
        sent += count
    assert sent == len(xss_payloads())
    check_page(expert, "/expert/articles/xss/payloads-0/history", PAGE_TAGS)
    check_page(expert, "/expert/articles/xss/payloads-0/revisions/1", PAGE_TAGS)
    check_page(expert, "/expert/?category=xss", PAGE_TAGS)


FIELDS = ("title", "summary", "tags", "keywords", "owner", "message", "translations",
          "slug", "category", "review_every", "reviewed")


def test_naughty_strings_in_every_editor_field_are_saved_or_refused(site, articles_dir):
    expert = expert_client(site)
    expert.set_cookie("ui_lang", "en")
    fields = {**editor_fields(expert), "title": "Заголовок", "body": "Текст."}
    strings = naughty_strings()
    for number, line in enumerate(strings):
        field = FIELDS[number % len(FIELDS)]
        data = {**fields, field: line, "slug": f"naughty-{number}", "category": "naughty"}
        if field in ("slug", "category"):
            data[field] = line
        press = "publish" if number % 4 == 0 else "preview"
        response = expert.post("/expert/articles/new", data={**data, press: "1"})
        assert response.status_code in (200, 303, 400), (field, line[:60], response.status_code)
        page = response.get_data(as_text=True)
        if response.status_code == 400:
            assert 'class="field-error"' in page or 'class="form-error"' in page, (
                field, line[:60])
            kept = read_form(page).fields[field].replace("\r\n", "\n")
            typed = clean_text(line) if field in ("summary", "keywords") else one_line(line)
            assert kept == typed or field in ("review_every", "reviewed"), (field, line[:60])
        elif response.status_code == 303:
            saved = re.search(r"/expert/articles/(.+)/edit$", response.headers["Location"])
            path = articles_dir / f"{saved.group(1)}.md"
            article = articles_mod.load_article(articles_dir, path)
            if field == "title":
                assert article.title == one_line(line)
            if field == "summary":
                assert article.summary == clean_text(line).strip()
        else:
            assert press == "preview"
    assert articles_mod.check(articles_dir) == []


def test_hostile_searches_flags_and_requests_are_text_on_the_gaps_and_inbox_pages(site):
    payloads = [p for p in xss_payloads() if 3 < len(p) <= 200]
    chosen = random.Random(5).sample(payloads, 60)
    for query in chosen:
        site.test_client().get("/search", query_string={"q": query})
    agent = expert_client(site, "agent@example.com", "<img src=x onerror=alert(1)>",
                          role="agent")
    for number, text in enumerate(chosen[:8]):
        ticket = new_ticket_number(site)
        assert act(agent, ticket, "flag", article="internet/nastrojka-wi-fi", kind="wrong",
                   comment=text).status_code == 303
        assert act(agent, ticket, "resolve", outcome="no_article",
                   topic=chosen[number + 8][:300], note=text).status_code == 303
    from portal import tracking

    with site.app_context():
        tracking.flush()
    expert = expert_client(site)
    gaps = check_page(expert, "/expert/gaps", PAGE_TAGS)
    assert gaps.problems == []
    check_page(expert, "/expert/inbox?view=all", PAGE_TAGS)
    # "Write an article for this" on a hostile gap opens an editor that is still inert.
    page = expert.get("/expert/gaps").get_data(as_text=True)
    for link in re.findall(r'href="(/expert/articles/new\?[^"]+)"', page)[:10]:
        check_page(expert, link.replace("&amp;", "&"), PAGE_TAGS)
