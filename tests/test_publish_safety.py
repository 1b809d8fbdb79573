"""Publishing under real conditions: several server processes on one site, searches running
while articles are saved, and a process killed in the middle of a publish."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest

from .conftest import database_urls
from .editing import read_form
from .editing import revisions
from .helpers import csrf_token
from .helpers import result_links
from .processes import ROOT
from .processes import Browser
from .processes import PortalProcess
from .processes import settings_of
from .servers import wait_until
from .staff import PASSWORD
from .staff import make_staff

ARTICLE = "internet/nastrojka-wi-fi"


def log_in(browser: Browser, email: str) -> None:
    _status, page = browser.get("/login")
    status, _body, headers = browser.request("/login", {
        "email": email, "password": PASSWORD, "next": "", "csrf_token": csrf_token(page)})
    assert status == 303, _body[:300]


def publish(browser: Browser, article_id: str, **changes) -> int:
    """Open the article in the editor, change fields, press "Save and publish"."""
    url = f"/expert/articles/{article_id}/edit"
    status, page = browser.get(url)
    assert status == 200, page[:300]
    form = read_form(page)
    status, body, _headers = browser.request(url, {**form.fields, **changes,
                                                   "publish": form.buttons["publish"]})
    return status


def finds(browser: Browser, query: str, exact: bool = False) -> list[str]:
    """The articles a search finds (`exact`: without fixing the spelling)."""
    status, page = browser.get("/search?q=" + quote(query) + ("&exact=1" if exact else ""))
    assert status == 200, page[:300]
    return [link.split("?")[0].removeprefix("/kb/") for link in result_links(page)]


@pytest.fixture
def two_servers(make_app, articles_dir):
    """Two portal processes on the same articles, index and database."""
    app = make_app(articles_dir, RATELIMIT_ENABLED=False, INDEX_REFRESH_SECONDS=0.2)
    make_staff(app, "expert", "one@example.com", "Эксперт Один")
    make_staff(app, "expert", "two@example.com", "Эксперт Два")
    with PortalProcess(settings_of(app.config)) as first, \
            PortalProcess(settings_of(app.config)) as second:
        yield app, first, second


def test_a_publish_in_one_process_is_found_by_searches_in_the_other(two_servers):
    app, first, second = two_servers
    expert, customer = Browser(first.url), Browser(second.url)
    log_in(expert, "one@example.com")
    assert finds(customer, "квазирадиомост") == []
    assert publish(expert, ARTICLE, keywords="квазирадиомост") == 303
    assert wait_until(lambda: finds(customer, "квазирадиомост") == [ARTICLE], timeout=10)


def test_saves_in_two_processes_while_searches_run_lose_nothing(two_servers, articles_dir):
    app, first, second = two_servers
    experts = [Browser(first.url), Browser(second.url)]
    log_in(experts[0], "one@example.com")
    log_in(experts[1], "two@example.com")
    targets = [ARTICLE, "account/sbros-parolya"]
    rounds = 8
    stop = threading.Event()
    answers: list[int] = []

    def search_all_the_time(url: str) -> None:
        visitor = Browser(url)
        while not stop.is_set():
            status, page = visitor.get("/search?q=" + quote("пароль wi-fi роутер"))
            answers.append(status)
            assert "<h2><a href=" in page  # the articles are found while they change

    def save_many(expert: Browser, article_id: str, who: int) -> list[int]:
        return [publish(expert, article_id, keywords=f"правка{who}x{n}")
                for n in range(rounds)]

    with ThreadPoolExecutor(6) as pool:
        searchers = [pool.submit(search_all_the_time, url)
                     for url in (first.url, second.url) * 2]
        savers = [pool.submit(save_many, experts[i], targets[i], i) for i in range(2)]
        statuses = [status for saver in savers for status in saver.result()]
        stop.set()
        for searcher in searchers:
            searcher.result()
    assert statuses == [303] * (2 * rounds)
    assert answers and set(answers) == {200}
    customer = Browser(second.url)
    for who, article_id in enumerate(targets):
        rows = revisions(app, article_id)
        # The file as it was, then every save: none lost, numbered without gaps.
        assert [r.number for r in rows] == list(range(1, rounds + 2))
        assert all(r.state == "applied" for r in rows)
        assert rows[-1].content == (articles_dir / f"{article_id}.md").read_text("utf-8")
        last = f"правка{who}x{rounds - 1}"
        assert wait_until(lambda a=article_id, w=last: finds(customer, w) == [a], timeout=10)
        assert finds(customer, f"правка{who}x0", exact=True) == []  # earlier versions gone


CRASH = """
import os, signal, sys
from portal import create_app, staff
from portal.articles import compose_file, split_file
from portal.authoring import store
from portal.web.knowledge import current_index
import portal.articles.files as articles_mod
import portal.search.index as index_mod

where = sys.argv[1]
app = create_app({settings!r})
with app.app_context():
    index = current_index()
    current = store.snapshot(index.articles_dir, {article!r})
    text = current.text.replace("Откройте веб-интерфейс", "Откройте приложение")
    die = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
    if where == "before-index":
        index_mod.SearchIndex.replace_article = die
    elif where == "mid-file":
        original = os.replace
        articles_mod.os.replace = die
    store.save(index, {article!r}, text, base=current.hash,
               author=staff.find_user("one@example.com"), message="cut short")
print("not killed")
"""


def publish_and_die(app, where: str) -> None:
    """Publish a change to ARTICLE in another process that is killed at `where`."""
    script = CRASH.format(settings=settings_of(app.config), article=ARTICLE)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script), where], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == -9, result.stdout + result.stderr  # SIGKILL


def restarted(make_app, articles_dir, database):
    """The portal started again on the same site (a new process would do the same)."""
    fresh = make_app(articles_dir, database)
    fresh.test_client().get("/")  # the first request finishes what the crash left
    return fresh


@pytest.mark.parametrize("database", database_urls())
def test_a_publish_killed_between_the_file_and_the_index_is_finished_at_restart(
        make_app, articles_dir, database):
    app = make_app(articles_dir, database)
    make_staff(app, "expert", "one@example.com", "Эксперт Один")
    publish_and_die(app, "before-index")
    path = articles_dir / f"{ARTICLE}.md"
    assert "Откройте приложение" in path.read_text("utf-8")  # the file is whole and new
    assert [r.state for r in revisions(app, ARTICLE)] == ["applied", "pending"]
    fresh = restarted(make_app, articles_dir, database)
    customer = fresh.test_client()
    page = customer.get(f"/kb/{ARTICLE}").get_data(as_text=True)
    assert "Откройте приложение" in page  # the index caught up with the file
    found = customer.get("/search?q=" + quote("откройте приложение")).get_data(
        as_text=True)
    assert f"/kb/{ARTICLE}" in found
    rows = revisions(app, ARTICLE)
    assert [(r.state, r.message) for r in rows] == [("applied", ""),
                                                    ("applied", "cut short")]
    assert rows[-1].content == path.read_text("utf-8")


@pytest.mark.parametrize("database", database_urls())
def test_a_publish_killed_while_writing_the_file_leaves_the_old_article(make_app,
                                                                        articles_dir,
                                                                        database):
    app = make_app(articles_dir, database)
    make_staff(app, "expert", "one@example.com", "Эксперт Один")
    path = articles_dir / f"{ARTICLE}.md"
    before = path.read_text("utf-8")
    publish_and_die(app, "mid-file")
    assert path.read_text("utf-8") == before  # never half a file
    leftovers = list(Path(articles_dir).rglob(".*.tmp"))
    assert leftovers  # the new text was being written beside it
    fresh = restarted(make_app, articles_dir, database)
    assert list(Path(articles_dir).rglob(".*.tmp")) == []
    rows = revisions(app, ARTICLE)
    # The save never happened: its revision is gone; the file's own is kept.
    assert [(r.state, r.message) for r in rows] == [("applied", "")]
    assert rows[0].content == before
    page = fresh.test_client().get(f"/kb/{ARTICLE}").get_data(as_text=True)
    assert "Откройте веб-интерфейс" in page
