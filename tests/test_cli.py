"""The `portal` command: checking articles and building the index."""

from __future__ import annotations

from .conftest import write_site


def test_articles_check_passes_on_a_clean_site(app):
    result = app.test_cli_runner().invoke(args=["articles", "check"])
    assert result.exit_code == 0
    assert "6 files checked, 0 problems." in result.output


def test_articles_check_lists_every_problem_and_fails(app, articles_dir):
    write_site(articles_dir, {
        "internet/bad-yaml.md": "---\ntitle: ok\nlang: [\n---\nx",
        "internet/no-title.md": "---\nsummary: nothing\nlang: fr\n---\nx",
    })
    result = app.test_cli_runner().invoke(args=["articles", "check"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("internet/bad-yaml.md:") and "not valid YAML" in line
               for line in lines)
    assert "internet/no-title.md:1: title is missing or empty" in lines
    assert "internet/no-title.md:3: lang must be one of ru, en, not 'fr'" in lines


def test_index_build_is_incremental_and_clean_rebuilds(app, articles_dir):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["index", "build"])
    assert "0 added, 0 updated, 0 removed, 6 unchanged" in result.output
    write_site(articles_dir, {"internet/novoe.md": "---\ntitle: Новое\n---\nТекст."})
    result = runner.invoke(args=["index", "build"])
    assert "1 added, 0 updated, 0 removed, 6 unchanged" in result.output
    result = runner.invoke(args=["index", "build", "--clean"])
    assert "7 added" in result.output
    assert app.test_client().get("/kb/internet/novoe").status_code == 200


def test_index_build_reports_skipped_articles(app, articles_dir):
    write_site(articles_dir, {"internet/bad.md": "---\ntitle: 5\nstatus: gone\n---\nx"})
    result = app.test_cli_runner().invoke(args=["index", "build"])
    assert "skipped: internet/bad.md:2: title must be text" in result.output
    assert "skipped: internet/bad.md:3: status must be one of" in result.output
    assert "6 unchanged, 1 skipped" in result.output
