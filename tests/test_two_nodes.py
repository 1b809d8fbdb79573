"""Two nodes behind one load balancer: two `portal serve` servers, each with its own clone of
one bare repository and its own index, sharing one PostgreSQL database. A publish on one
is found on the other at once; publishes on both at the same time stay safe; a node killed
in the middle of a publish finishes it when it starts again."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import textwrap
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from .conftest import write_site
from .editing import read_form
from .editing import revisions
from .gitsync import git
from .gitsync import remote_file
from .gitsync import remote_log
from .gitsync import seeded_remote
from .processes import Browser
from .processes import ServedPortal
from .servers import wait_until
from .staff import make_staff
from .test_publish_safety import log_in
from .test_serve import worker_pids

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="nodes share their database: set TEST_DATABASE_URL to a PostgreSQL database")

ARTICLE = "internet/nastrojka-wi-fi"
OTHER = "account/sbros-parolya"


def api_finds(node: ServedPortal, words: str) -> list[str]:
    """The ids `GET /api/v1/search` answers on `node` (words as typed, no corrections)."""
    url = f"{node.url}/api/v1/search?exact=1&q={quote(words)}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        return [hit["id"] for hit in json.loads(answer.read())["hits"]]


def open_editor(expert: Browser, article_id: str) -> dict[str, str]:
    """The editor's form as the expert's browser got it (fields and the publish button)."""
    status, page = expert.get(f"/expert/articles/{article_id}/edit")
    assert status == 200, page[:300]
    form = read_form(page)
    return {**form.fields, "publish": form.buttons["publish"]}


def send(expert: Browser, article_id: str, form: dict[str, str], **changes) -> tuple[int, str]:
    status, body, _headers = expert.request(f"/expert/articles/{article_id}/edit",
                                            {**form, **changes})
    return status, body


class Cluster:
    """The remote, both nodes' settings, and how to start a node."""

    def __init__(self, make_app, tmp_path: Path) -> None:
        self.remote = seeded_remote(tmp_path / "remote.git", write_site(tmp_path / "seed"))
        self.apps = {name: make_app(tmp_path / name / "articles", "postgresql",
                                    INDEX_DIR=str(tmp_path / name / "index"),
                                    ARTICLES_REMOTE=str(self.remote))
                     for name in ("a", "b")}
        make_staff(self.apps["a"], "expert", "one@example.com", "Эксперт Один")
        make_staff(self.apps["a"], "expert", "two@example.com", "Эксперт Два")
        self.running: list[ServedPortal] = []

    def start(self, name: str) -> ServedPortal:
        node = ServedPortal(self.apps[name].config, "--workers", "2",
                            ARTICLES_REMOTE=self.remote, RATELIMIT_ENABLED="false")
        node.start()
        assert node.wait_for_log("Booting worker", count=2)
        self.running.append(node)
        return node

    def folder(self, name: str) -> Path:
        return Path(self.apps[name].config["ARTICLES_DIR"])

    def stop(self) -> None:
        for node in self.running:
            node.stop()


@pytest.fixture
def cluster(make_app, tmp_path):
    made = Cluster(make_app, tmp_path)
    yield made
    made.stop()


@pytest.fixture
def nodes(cluster):
    return cluster.start("a"), cluster.start("b")


def test_a_publish_on_one_node_is_found_on_the_other_within_two_seconds(cluster, nodes):
    a, b = nodes
    expert = Browser(a.url)
    log_in(expert, "one@example.com")
    assert api_finds(b, "квазирадиомост") == []
    status, _page = send(expert, ARTICLE, open_editor(expert, ARTICLE),
                         keywords="квазирадиомост", message="Слово для поиска")
    published = time.monotonic()
    assert status == 303
    assert wait_until(lambda: api_finds(b, "квазирадиомост") == [ARTICLE], timeout=2.0)
    assert time.monotonic() - published < 2.0
    # The history on the other node shows the revision, by the expert, as current.
    reader = Browser(b.url)
    log_in(reader, "two@example.com")
    status, history = reader.get(f"/expert/articles/{ARTICLE}/history")
    assert status == 200
    assert "Эксперт Один" in history and "Слово для поиска" in history
    assert "differs from the newest revision" not in history
    assert "outside the portal" not in history.split("<tbody>")[1].split("</tr>")[0]
    assert remote_log(cluster.remote)[0] == ("Эксперт Один", "one@example.com",
                                             f"Publish {ARTICLE}")


def test_two_experts_on_two_nodes_publishing_different_articles_both_land(cluster, nodes):
    a, b = nodes
    experts = [Browser(a.url), Browser(b.url)]
    log_in(experts[0], "one@example.com")
    log_in(experts[1], "two@example.com")
    targets = [ARTICLE, OTHER]
    rounds = 3
    statuses: list[int] = []

    def publish_many(who: int) -> None:
        for n in range(rounds):
            form = open_editor(experts[who], targets[who])
            statuses.append(send(experts[who], targets[who], form,
                                 keywords=f"правка{who}x{n}")[0])

    threads = [threading.Thread(target=publish_many, args=(who,)) for who in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert statuses == [303] * (2 * rounds)
    subjects = [subject for _name, _mail, subject in remote_log(cluster.remote)]
    assert subjects.count(f"Publish {ARTICLE}") == rounds
    assert subjects.count(f"Publish {OTHER}") == rounds
    for node in (a, b):
        for who, article_id in enumerate(targets):
            word = f"правка{who}x{rounds - 1}"
            assert wait_until(lambda n=node, w=word, i=article_id: api_finds(n, w) == [i],
                              timeout=10)
    for name in ("a", "b"):
        assert git(cluster.folder(name), "status", "--porcelain") == ""
        assert git(cluster.folder(name), "rev-parse", "HEAD") == git(
            cluster.remote, "rev-parse", "main")


def test_the_same_article_on_two_nodes_at_once_is_the_editors_conflict_for_the_second(
        cluster, nodes):
    a, b = nodes
    experts = [Browser(a.url), Browser(b.url)]
    log_in(experts[0], "one@example.com")
    log_in(experts[1], "two@example.com")
    forms = [open_editor(expert, ARTICLE) for expert in experts]  # both open version 1
    answers: dict[int, tuple[int, str]] = {}

    def press(who: int) -> None:
        answers[who] = send(experts[who], ARTICLE, forms[who], keywords=f"версия{who}")

    threads = [threading.Thread(target=press, args=(who,)) for who in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(status for status, _page in answers.values()) == [303, 409]
    loser = next(who for who, (status, _page) in answers.items() if status == 409)
    winner = 1 - loser
    page = answers[loser][1]
    assert f"версия{loser}" in read_form(page).fields["keywords"]  # their text is kept
    assert "Эксперт Один" in page or "Эксперт Два" in page  # who saved in between
    subjects = [subject for _name, _mail, subject in remote_log(cluster.remote, f"{ARTICLE}.md")]
    assert subjects.count(f"Publish {ARTICLE}") == 1
    assert f"версия{winner}" in remote_file(cluster.remote, f"{ARTICLE}.md")
    for node in (a, b):
        assert wait_until(lambda n=node: api_finds(n, f"версия{winner}") == [ARTICLE], 10)
        assert api_finds(node, f"версия{loser}") == []


HOOK = """
import pathlib, sys, time
hold = pathlib.Path({hold!r})
if hold.exists():
    pathlib.Path({entered!r}).write_text("1")
    while hold.exists():
        time.sleep(0.05)
    sys.exit(1)  # the push of a node killed meanwhile never lands
"""


def test_a_node_killed_during_a_publish_finishes_it_when_it_starts_again(cluster, nodes,
                                                                        tmp_path):
    a, b = nodes
    hold, entered = tmp_path / "hold", tmp_path / "entered"
    hook = cluster.remote / "hooks" / "pre-receive"
    hook.write_text("#!/usr/bin/env python3\n" + textwrap.dedent(HOOK).format(
        hold=str(hold), entered=str(entered)), encoding="utf-8")
    hook.chmod(0o755)
    hold.write_text("1")
    expert = Browser(a.url)
    log_in(expert, "one@example.com")
    form = open_editor(expert, ARTICLE)

    def publish_and_lose_the_answer() -> None:
        with contextlib.suppress(OSError):  # the node dies before it answers
            send(expert, ARTICLE, form, keywords="квазирадиомост")

    publishing = threading.Thread(target=publish_and_lose_the_answer, daemon=True)
    publishing.start()
    assert wait_until(entered.exists, timeout=30)  # the publish is pushing now
    for pid in [a.process.pid, *worker_pids(a.log)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    a.process.wait(10)
    hold.unlink()
    publishing.join(30)
    assert remote_log(cluster.remote)[0][2] != f"Publish {ARTICLE}"  # it never got there
    assert api_finds(b, "квазирадиомост") == []
    cluster.start("a")  # at start-up the node sends what it committed
    assert wait_until(lambda: api_finds(b, "квазирадиомост") == [ARTICLE], timeout=15)
    subjects = [s for _n, _m, s in remote_log(cluster.remote)]
    assert subjects.count(f"Publish {ARTICLE}") == 1
    assert git(cluster.folder("a"), "status", "--porcelain") == ""
    rows = revisions(cluster.apps["a"], ARTICLE)
    assert [r.state for r in rows] == ["applied"] * len(rows)
    assert "квазирадиомост" in rows[-1].content
