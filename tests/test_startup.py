"""Start-up with nothing changed does no work twice: `articles check` and `index build`
remember the folder they saw, and notice every change to it; `serve --prepare` does what
`make run` did in separate commands."""

from __future__ import annotations

import os

from .conftest import write_site
from .editing import expert_client
from .editing import new_article
from .helpers import result_links
from .processes import Browser
from .processes import ServedPortal

BAD = {"internet/bad.md": "---\ntitle: 5\n---\nx"}


def found(app, query: str) -> list[str]:
    page = app.test_client().get("/search", query_string={"q": query}).get_data(as_text=True)
    return result_links(page)


def test_a_second_build_with_nothing_changed_does_nothing_and_says_so(app, articles_dir):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["index", "build"])
    assert "6 unchanged" in first.output
    again = runner.invoke(args=["index", "build"])
    assert "nothing changed in the articles folder since the last build" in again.output
    assert "Revisions" not in again.output


def test_every_kind_of_change_is_indexed_after_a_remembered_build(app, articles_dir):
    runner = app.test_cli_runner()
    runner.invoke(args=["index", "build"])
    # A new file.
    write_site(articles_dir, {"internet/novoe.md": "---\ntitle: Новое про телепорт\n---\nТекст."})
    assert "1 added" in runner.invoke(args=["index", "build"]).output
    assert len(found(app, "телепорт")) == 1
    # A file rewritten with text of the same length.
    path = articles_dir / "internet/novoe.md"
    text = path.read_text("utf-8")
    path.write_text(text.replace("телепорт", "трамплин"), "utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert "1 updated" in runner.invoke(args=["index", "build"]).output
    assert len(found(app, "трамплин")) == 1 and found(app, "телепорт") == []
    # A file removed.
    path.unlink()
    assert "1 removed" in runner.invoke(args=["index", "build"]).output
    assert found(app, "трамплин") == []


def test_a_save_in_the_editor_is_not_mistaken_for_nothing_changed(app, articles_dir):
    runner = app.test_cli_runner()
    runner.invoke(args=["index", "build"])
    new_article(expert_client(app), "Телепорт мигает", "Выключите телепорт.\n")
    result = runner.invoke(args=["index", "build"])
    assert "nothing changed" not in result.output
    assert "0 recorded" in result.output  # the editor recorded its revision itself
    assert "nothing changed" in runner.invoke(args=["index", "build"]).output


def test_a_remembered_build_still_names_the_files_it_skips(app, articles_dir):
    write_site(articles_dir, BAD)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["index", "build"])
    again = runner.invoke(args=["index", "build"])
    assert "nothing changed" in again.output
    skipped = [line for line in first.output.splitlines() if line.startswith("skipped:")]
    assert skipped and all(line in again.output for line in skipped)


def test_a_second_check_lists_the_same_problems_and_a_fix_is_seen(app, articles_dir):
    write_site(articles_dir, BAD)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["articles", "check"])
    again = runner.invoke(args=["articles", "check"])
    assert first.exit_code == again.exit_code == 1
    assert first.output == again.output
    assert "internet/bad.md:2: title must be text" in again.output
    write_site(articles_dir, {"internet/bad.md": "---\ntitle: Хорошая статья\n---\nТекст."})
    fixed = runner.invoke(args=["articles", "check"])
    assert fixed.exit_code == 0
    assert "0 problems" in fixed.output


def test_serve_prepare_migrates_indexes_and_serves_a_new_site(make_app, articles_dir, tmp_path):
    site = make_app(articles_dir)
    config = {**site.config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'new.db'}",
              "INDEX_DIR": str(tmp_path / "new-index")}
    with ServedPortal(config, "--prepare", "--workers", "1") as served:
        status, page = Browser(served.url).get("/search?q=%D0%BF%D0%B0%D1%80%D0%BE%D0%BB%D1%8C")
        assert status == 200 and "Как сбросить пароль" in page
        log = served.log
    assert "History: 6 articles recorded as the initial import" in log
    assert "No staff accounts yet" in log
    # The next start finds nothing to do.
    with ServedPortal(config, "--prepare", "--workers", "1") as served:
        assert Browser(served.url).get("/")[0] == 200
        log = served.log
    assert "nothing changed in the articles folder since the last build" in log
