"""A first start reads as setting up, in order; a new help center has articles to offer."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from portal import popularity
from portal import tracking

from .conftest import write_site


def portal(args: list[str], site: Path) -> str:
    """Run the `portal` command as `make run` does, on the site in `site`; its output."""
    env = {**os.environ, "PORTAL_SECRET_KEY": "test", "PORTAL_ARTICLES_DIR": str(site / "articles"),
           "PORTAL_INDEX_DIR": str(site / "index"),
           "PORTAL_SQLALCHEMY_DATABASE_URI": f"sqlite:///{site / 'portal.sqlite3'}"}
    done = subprocess.run([sys.executable, "-c", "from portal.cli import main; main()", *args],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_a_first_start_migrates_then_checks_then_indexes_and_records_the_initial_import(
        tmp_path):
    write_site(tmp_path / "articles")
    migrated = portal(["db", "upgrade"], tmp_path)
    # Migrating does not index first (it printed "search index built at start-up").
    assert "Running upgrade" in migrated
    assert "index" not in migrated.lower().replace("informative", "")
    assert not (tmp_path / "index").exists()
    checked = portal(["articles", "check"], tmp_path)
    assert "6 files checked, 0 problems." in checked
    # The check keeps its record among derived data, but builds no index.
    assert not list((tmp_path / "index").glob("*.toc"))
    built = portal(["index", "build"], tmp_path)
    assert "Index: 6 added, 0 updated, 0 removed, 0 unchanged" in built
    # The files a fresh install starts with are its history's beginning, not changes.
    assert "History: 6 articles recorded as the initial import (their first revisions)." in built
    assert "outside the portal" not in built
    # Later, a file edited on the server is a change outside the portal.
    path = tmp_path / "articles/internet/net-interneta.md"
    path.write_text(path.read_text("utf-8") + "\nЕщё один шаг.\n", "utf-8")
    again = portal(["index", "build"], tmp_path)
    assert "Revisions of changes outside the portal: 1 recorded, 0 moved, 0 removed." in again


def _section(page: str, name: str) -> list[str] | None:
    found = re.search(rf'<section aria-labelledby="{name}-title">(.*?)</section>', page, re.S)
    return re.findall(r'<a href="(/kb/[^"?]+)', found.group(1)) if found else None


def test_a_new_help_center_offers_each_topics_leading_article_until_people_read(app, client):
    page = client.get("/").get_data(as_text=True)
    assert "С чего начать" in page and _section(page, "popular") is None
    # Topics in their order (account 0, internet 1): the Russian public articles of each.
    assert _section(page, "leading") == ["/kb/account/sbros-parolya",
                                         "/kb/internet/nastrojka-wi-fi",
                                         "/kb/internet/net-interneta"]
    client.set_cookie("ui_lang", "en")
    assert _section(client.get("/").get_data(as_text=True), "leading") == [
        "/kb/internet/no-internet"]
    client.set_cookie("ui_lang", "ru")
    client.get("/kb/internet/net-interneta")
    with app.app_context():
        assert tracking.flush()  # views are counted by the tracking writer
    page = client.get("/").get_data(as_text=True)
    assert _section(page, "popular") == ["/kb/internet/net-interneta"]
    assert _section(page, "leading") is None and "С чего начать" not in page


class Info:
    def __init__(self, id, category, title=""):
        self.id, self.category, self.title = id, category, title or id


def test_an_article_others_link_to_leads_its_topic_and_topics_take_turns():
    articles = [Info("b/alpha", "b"), Info("b/zulu", "b"), Info("a/one", "a"),
                Info("a/two", "a"), Info("a/three", "a"), Info("c/x", "hidden")]
    chosen = popularity.leading_articles(articles, ["a", "b"], {"b/zulu": 3, "a/two": 1}, 4)
    assert [a.id for a in chosen] == ["a/two", "b/zulu", "a/one", "b/alpha"]
    assert popularity.leading_articles(articles, ["a", "b"], {}, 10)[-1].id == "a/two"


@pytest.mark.parametrize("limit", [0, 1])
def test_leading_articles_respect_the_limit(limit):
    assert len(popularity.leading_articles([Info("a/x", "a"), Info("a/y", "a")], ["a"], {},
                                           limit)) == limit
