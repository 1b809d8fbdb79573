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


def test_import_prints_what_it_did_and_updates_on_a_second_run(app, articles_dir, tmp_path):
    site = write_site(tmp_path / "mysite" / "content", {
        "guide/setup.md": """
            ---
            title: Setting up the router
            ---
            > [!NOTE]
            > Unplug it first.

            Then plug it in again.
        """,
        "includes/fragment.md": "Shared text.",
        "guide/_index.md": "---\ntitle: Guide\n---\n",
    })
    runner = app.test_cli_runner()
    first = runner.invoke(args=["articles", "import", str(site), "--lang", "en"])
    assert first.exit_code == 0, first.output
    assert "imported: content/guide/setup.md -> mysite/guide/setup" in first.output
    assert "skipped: content/includes/fragment.md (include fragment" in first.output
    assert "1 imported, 0 updated, 0 unchanged, 2 skipped" in first.output
    text = (articles_dir / "mysite/guide/setup.md").read_text("utf-8")
    assert "!!! note" in text and "source: content/guide/setup.md" in text

    (site / "guide/setup.md").write_text("---\ntitle: Setting up the router\n---\nNew text.\n")
    second = runner.invoke(args=["articles", "import", str(site), "--lang", "en"])
    assert "updated: content/guide/setup.md -> mysite/guide/setup" in second.output
    assert "0 imported, 1 updated" in second.output
    runner.invoke(args=["index", "build"])
    assert "New text" in app.test_client().get("/kb/mysite/guide/setup").get_data(as_text=True)


def test_import_of_a_missing_or_wrong_folder_is_a_clear_error(app, tmp_path):
    runner = app.test_cli_runner()
    missing = runner.invoke(args=["articles", "import", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    odd = tmp_path / "Ёлки"
    odd.mkdir()
    result = runner.invoke(args=["articles", "import", str(odd), "--category", "!!!"])
    assert result.exit_code == 1 and "cannot make a category name" in result.output
