"""`portal articles import`: DocFX / Hugo / plain Markdown folders become articles."""

from __future__ import annotations

import datetime as dt
import os
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import frontmatter
import pytest

from portal.articles import ArticleError
from portal.articles import check
from portal.articles import iter_article_files
from portal.articles import load_article
from portal.articles import parse_article
from portal.importer import ImporterError
from portal.importer import find_sources
from portal.importer import import_folder
from portal.importer import slugify

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


# --- helpers ---------------------------------------------------------------------------------

def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def run(src: Path, articles: Path, **options):
    """Import, then check that every article written loads without ArticleError."""
    report = import_folder(src, articles, **options)
    for entry in report.imported + report.updated:
        load_article(articles, articles / f"{entry.article_id}.md")
    return report


def article(articles: Path, ident: str):
    return load_article(articles, articles / f"{ident}.md")


def meta_of(articles: Path, ident: str) -> dict:
    return frontmatter.load(articles / f"{ident}.md").metadata


def by_source(report) -> dict:
    return {e.source: e for e in report.entries}


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "Support Docs"
    folder.mkdir()
    return folder


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    return folder


# --- DocFX -----------------------------------------------------------------------------------

def test_docfx_article_front_matter_and_body(src: Path, articles: Path):
    write(src, "Outlook/outlook-crashes.md", """
        ---
        title: Outlook crashes when you open a message
        description: Fixes an issue in which Outlook crashes.
        ms.date: 08/08/2024
        author: someone
        ms.author: luche
        audience: ITPro
        ms.topic: troubleshooting
        ROBOTS: NOINDEX, NOFOLLOW
        ms.custom:
          - CI163313
        ---

        # Outlook crashes when you open a message

        <!-- internal: reviewed by legal -->
        Outlook closes as soon as you open a message.

        > [!NOTE]
        > Only **classic** Outlook is affected.
        >
        > - first point
        > - second point

        > [!IMPORTANT]
        > Back up the registry first.

        > [!CAUTION]
        > This deletes your profile.

        > [!TIP]
        > Restart first.

        > [!WARNING]
        > Mind the gap.

        :::image type="content" source="media/d.png" alt-text="Screenshot of the crash dialog.":::

        [!INCLUDE [Registry important alert](../includes/registry-important-alert.md)]

        :::zone pivot="windows"
        Windows steps stay.
        :::zone-end:::

        > [!div class="nextstepaction"]
        > [Run tests](https://aka.ms/tests)
        """)
    report = run(src, articles)
    entry = by_source(report)["Support Docs/Outlook/outlook-crashes.md"]
    assert entry.action == "imported"
    assert entry.article_id == "support-docs/outlook/outlook-crashes"
    meta = meta_of(articles, entry.article_id)
    assert meta == {
        "title": "Outlook crashes when you open a message",
        "summary": "Fixes an issue in which Outlook crashes.",
        "lang": "en",
        "owner": "luche",
        "reviewed": dt.date(2024, 8, 8),
        "source": "Support Docs/Outlook/outlook-crashes.md",
    }
    page = article(articles, entry.article_id)
    body = page.body
    assert "# Outlook crashes" not in body  # the page prints the title itself
    assert "internal: reviewed" not in body
    assert '!!! note "Note"\n    Only **classic** Outlook is affected.' in body
    assert '!!! important "Important"\n    Back up the registry first.' in body
    assert '!!! danger "Caution"\n    This deletes your profile.' in body
    assert '!!! tip "Tip"' in body and '!!! warning "Warning"' in body
    assert "*Image: Screenshot of the crash dialog.*" in body
    assert "INCLUDE" not in body and "registry-important-alert" not in body
    assert ":::" not in body and "Windows steps stay." in body
    assert "[!div" not in body and "[Run tests](https://aka.ms/tests)" in body
    assert 'class="admonition note"' in page.html
    assert "<li>second point</li>" in page.html  # the quoted list stays a list in the note
    assert 'class="admonition danger"' in page.html


def test_docfx_complex_image_video_and_no_loc(src: Path, articles: Path):
    write(src, "a.md", """
        ---
        title: Images
        ---
        :::image type="complex" source="media/a.png" alt-text="The settings page.":::
           A long description of every box on the page.
        :::image-end:::

        Name the value *:::no-loc text="AutoSaveByDefault":::*.

        > [!VIDEO https://www.microsoft.com/videoplayer/embed/RE1FOfN]

        [:::image type="icon" source="media/forum.png":::](https://answers.microsoft.com/)

        ![Edit icon](./media/edit.gif) and ![](../media/blank.png)

        ![Remote](https://example.com/logo.png)
        """)
    report = run(src, articles)
    body = article(articles, report.imported[0].article_id).body
    assert "*Image: The settings page.*" in body
    assert "long description" not in body
    assert "*AutoSaveByDefault*" in body
    assert "[Video](https://www.microsoft.com/videoplayer/embed/RE1FOfN)" in body
    assert "<https://answers.microsoft.com/>" in body
    assert "*Image: Edit icon*" in body and "blank.png" not in body
    assert "![Remote](https://example.com/logo.png)" in body


def test_commonmark_lists_with_code_and_notes_render_inside_the_item(src: Path, articles: Path):
    write(src, "steps.md", """
        ---
        title: Steps
        ---
        Do this:
        1. Open PowerShell.

           ```powershell
           Get-Mailbox
           ```

           > [!NOTE]
           > Needs admin rights.

        1. Check the result.
        """)
    report = run(src, articles)
    html = article(articles, report.imported[0].article_id).html
    first_item = html.split("<li>")[1].split("</li>")[0]
    assert "Get-Mailbox" in first_item and 'class="highlight"' in first_item
    assert 'class="admonition note"' in first_item
    assert html.count("<li>") == 2 and "<ol>" in html


# --- Russian (AlchemyInsights style) ----------------------------------------------------------

def test_russian_anchor_h1_is_dropped_and_front_matter_mapped(src: Path, articles: Path):
    write(src, "reset-password.md", """
        ---
        title: Сброс пароля
        ms.author: pebaum
        author: pebaum
        ms.date: 07/15/2020
        ms.contentlocale: ru-RU
        ms.translationtype: MT
        localization_priority: Priority
        ---
        # <a name="reset-password"></a>Сброс пароля

        Откройте страницу входа и нажмите **Забыли пароль?**. См. [ниже](#more-help).

        ## <a name="more-help"></a>Если письмо не пришло

        Проверьте папку «Спам».
        """)
    report = run(src, articles)
    entry = report.imported[0]
    meta = meta_of(articles, entry.article_id)
    assert meta["lang"] == "ru" and meta["owner"] == "pebaum"
    assert meta["reviewed"] == dt.date(2020, 7, 15)
    assert set(meta) == {"title", "lang", "owner", "reviewed", "source"}
    page = article(articles, entry.article_id)
    assert page.body.startswith("Откройте страницу входа")
    assert "<a name" not in page.body
    assert "## Если письмо не пришло" in page.body
    assert [h.title for h in page.toc] == ["Если письмо не пришло"]
    # the in-page link follows the heading to the anchor our renderer gives it
    assert f"(#{page.toc[0].anchor})" in page.body


def test_admonition_titles_follow_the_article_language(src: Path, articles: Path):
    write(src, "ru.md", """
        ---
        title: Заметка
        ---
        Текст статьи на русском языке.

        > [!NOTE]
        > Это примечание.
        """)
    report = run(src, articles)
    body = article(articles, report.imported[0].article_id).body
    assert '!!! note "Примечание"' in body


# --- titles ----------------------------------------------------------------------------------

def test_title_falls_back_to_the_first_h1_then_the_file_name(src: Path, articles: Path):
    write(src, "from-h1.md", """
        Intro line before.

        # The Real Heading

        Body text.
        """)
    write(src, "no_title_at-all.md", """
        ---
        ms.topic: article
        ---
        Just some text, no heading.
        """)
    write(src, "setext.md", """
        Setext Title
        ============

        Text under it.
        """)
    report = run(src, articles)
    ids = {e.source.split("/")[-1]: e.article_id for e in report.imported}
    h1 = article(articles, ids["from-h1.md"])
    assert h1.title == "The Real Heading"
    assert "# The Real Heading" not in h1.body and "Intro line before." in h1.body
    assert article(articles, ids["no_title_at-all.md"]).title == "No title at all"
    setext = article(articles, ids["setext.md"])
    assert setext.title == "Setext Title" and "=====" not in setext.body


def test_a_different_h1_is_kept_as_a_section_heading(src: Path, articles: Path):
    write(src, "faq.md", """
        ---
        title: FAQ
        ---
        Intro.

        # General questions

        ## What is it?

        An answer.
        """)
    report = run(src, articles)
    page = article(articles, report.imported[0].article_id)
    assert "\n# " not in "\n" + page.body  # the page title stays the only H1
    assert "## General questions" in page.body and "### What is it?" in page.body


# --- ids ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "expected"), [
    ("Сброс пароля", "sbros-parolya"),
    ("Щука и ёж", "shchuka-i-ezh"),
    ("outlook-won't-accept-your-gmail-pwd", "outlook-won-t-accept-your-gmail-pwd"),
    ("office-apps-don’t-launch", "office-apps-don-t-launch"),
    ("restore-group-using-eac\u200b\u200b\u200b", "restore-group-using-eac"),
    ("sign-in to-windows 10", "sign-in-to-windows-10"),
    ("Change-your-password-in-Outlook.com (new)", "change-your-password-in-outlook-com-new"),
    ("  --Ünïcödé__", "unicode"),
    ("_index", "index"),
])
def test_slugify(name: str, expected: str):
    assert slugify(name) == expected


def test_odd_file_names_become_valid_ids_and_collisions_get_suffixes(src: Path, articles: Path):
    for name in ["sign-in to-windows.md", "sign-in-to-windows.md", "sign-in-to-windows-2.md",
                 "don't panic.md", "Don’t Panic.md", "zero\u200bwidth\u200b.md",
                 "Сброс пароля.md", "Office (2016).markdown"]:
        write(src, name, f"Some text for the article {name}.\n")
    report = run(src, articles)
    ids = {e.source.split("/", 1)[1]: e.article_id for e in report.imported}
    assert ids == {
        "sign-in to-windows.md": "support-docs/sign-in-to-windows",
        "sign-in-to-windows-2.md": "support-docs/sign-in-to-windows-2",
        "sign-in-to-windows.md": "support-docs/sign-in-to-windows-3",
        "Don’t Panic.md": "support-docs/don-t-panic",
        "don't panic.md": "support-docs/don-t-panic-2",
        "zero\u200bwidth\u200b.md": "support-docs/zero-width",
        "Сброс пароля.md": "support-docs/sbros-parolya",
        "Office (2016).markdown": "support-docs/office-2016",
    }
    assert sorted(p.name for p in (articles / "support-docs").iterdir()) == sorted(
        i.split("/")[1] + ".md" for i in ids.values())


def test_category_option_and_errors(src: Path, articles: Path, tmp_path: Path):
    write(src, "a.md", "Text.\n")
    report = run(src, articles, category="Справка и FAQ")
    assert report.category == "spravka-i-faq"
    assert report.imported[0].article_id == "spravka-i-faq/a"
    with pytest.raises(ImporterError):
        import_folder(tmp_path / "missing", articles)
    with pytest.raises(ImporterError):
        import_folder(src, articles, category="???")
    with pytest.raises(ImporterError):
        import_folder(src, articles, lang="de")
    with pytest.raises(ImporterError):  # importing a category into itself
        import_folder(articles / "spravka-i-faq", articles, category="Справка и FAQ")


# --- skips ---------------------------------------------------------------------------------

def test_skipped_files_are_reported_with_reasons(src: Path, articles: Path):
    write(src, "includes/registry-alert.md", "> [!IMPORTANT]\n> Back up the registry.\n")
    write(src, "docs/_includes/footer.md", "Footer text.\n")
    write(src, "_partial.md", "Partial text.\n")
    write(src, "docs/_index.md", "---\ntitle: Docs\n---\n{{< docs_index >}}\n")
    write(src, "guide/_index.md", "---\ntitle: Guide\n---\nWhat the guide covers.\n")
    write(src, "empty.md", "---\ntitle: Nothing here\n---\n<!-- todo -->\n")
    write(src, "only-title.md", "# Only a title\n")
    (src / "latin1.md").write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    write(src, "huge.md", "word " * (110 * 1024))
    write(src, "broken.md", "---\ntitle: [unclosed\n---\nText.\n")
    write(src, ".github/contributing.md", "How to contribute.\n")
    write(src, "copy-a.md", "---\ntitle: Same\n---\nSame text.\n")
    write(src, "copy-b.md", "---\ntitle: Same\n---\nSame text.\n")
    write(src, "notes.txt", "not markdown")
    report = run(src, articles)
    reasons = {e.source.split("/", 1)[1]: e.reason for e in report.skipped}
    assert reasons == {
        "includes/registry-alert.md": "include fragment (in an includes folder)",
        "docs/_includes/footer.md": "include fragment (in an includes folder)",
        "_partial.md": "include fragment (name starts with _)",
        "docs/_index.md": "Hugo section index with no text",
        "empty.md": "no content",
        "only-title.md": "no content",
        "latin1.md": "not UTF-8",
        "huge.md": "larger than 512 KB (550 KB)",
        "broken.md": reasons["broken.md"],
        "copy-b.md": "duplicate of support-docs/copy-a",
    }
    assert reasons["broken.md"].startswith("front matter is not valid YAML")
    assert {e.article_id for e in report.imported} == {"support-docs/guide/index",
                                                       "support-docs/copy-a"}
    assert article(articles, "support-docs/guide/index").title == "Guide"
    assert report.skip_reasons()["include fragment"] == 3
    assert ".github/contributing.md" not in find_sources(src)


def test_progress_is_called_once_per_source(src: Path, articles: Path):
    write(src, "a.md", "Text A.\n")
    write(src, "includes/b.md", "Text B.\n")
    seen: list[str] = []
    import_folder(src, articles, progress=seen.append)
    assert seen == ["Support Docs/a.md", "Support Docs/includes/b.md"]
    assert len(seen) == len(find_sources(src))


# --- re-running ----------------------------------------------------------------------------

def test_rerun_updates_changed_files_and_leaves_the_rest(src: Path, articles: Path):
    write(src, "a.md", "---\ntitle: A\n---\nFirst version.\n")
    write(src, "b.md", "---\ntitle: B\n---\nStays the same.\n")
    first = run(src, articles)
    assert [e.action for e in first.entries] == ["imported", "imported"]
    files = sorted(articles.rglob("*.md"))
    second = run(src, articles)
    assert [e.action for e in second.entries] == ["unchanged", "unchanged"]
    write(src, "a.md", "---\ntitle: A\n---\nSecond version.\n")
    third = run(src, articles)
    assert [(e.article_id, e.action) for e in third.entries] == [
        ("support-docs/a", "updated"), ("support-docs/b", "unchanged")]
    assert sorted(articles.rglob("*.md")) == files
    assert "Second version." in article(articles, "support-docs/a").body


def test_ids_stay_put_when_a_colliding_file_appears(src: Path, articles: Path):
    write(src, "a-b.md", "---\ntitle: Dashes\n---\nText one.\n")
    assert run(src, articles).imported[0].article_id == "support-docs/a-b"
    write(src, "a b.md", "---\ntitle: Spaces\n---\nText two.\n")  # sorts first
    report = run(src, articles)
    assert {e.source.split("/", 1)[1]: (e.article_id, e.action) for e in report.entries} == {
        "a b.md": ("support-docs/a-b-2", "imported"),
        "a-b.md": ("support-docs/a-b", "unchanged"),
    }


def test_an_expert_article_at_the_target_id_is_not_overwritten(src: Path, articles: Path):
    mine = write(articles, "support-docs/reset.md", "---\ntitle: Ours\n---\nWritten by hand.\n")
    write(src, "reset.md", "---\ntitle: Theirs\n---\nImported text.\n")
    report = run(src, articles)
    assert report.imported[0].article_id == "support-docs/reset-2"
    assert "Written by hand." in mine.read_text("utf-8")


def test_the_id_an_article_was_moved_to_is_kept(src: Path, articles: Path):
    write(src, "guide.md", "---\ntitle: Guide\n---\nText.\n")
    run(src, articles)
    old = articles / "support-docs/guide.md"
    moved = articles / "support-docs/user-guide.md"
    old.rename(moved)
    report = run(src, articles)
    assert (report.entries[0].article_id, report.entries[0].action) == (
        "support-docs/user-guide", "unchanged")
    assert not old.exists()


# --- Hugo ------------------------------------------------------------------------------------

def test_hugo_site_shortcodes_languages_and_translations(tmp_path: Path, articles: Path):
    site = tmp_path / "site" / "content"
    write(site, "ru/docs/faq.md", """
        ---
        title: Частые вопросы
        date: 2024-03-01T10:00:00Z
        lastmod: 2024-05-02
        author: Команда
        tags: [сертификаты, https]
        categories: помощь, faq
        keywords: бесплатно, цена
        aliases: [old/faq, /docs/faq/]
        ---
        Смотрите [лимиты]({{< ref "/docs/rate-limits" >}})
        и [старый раздел]({{< relref "gone.md" >}}).

        {{< note >}}
        Сертификаты бесплатны.
        {{< /note >}}

        {{% alert title="Важно" color="warning" %}}
        Продлевайте вовремя.
        {{% /alert %}}

        {{< highlight bash >}}
        certbot renew
        {{< /highlight >}}

        {{< newsletter-inline >}}
        Текст после {{< i "icon" >}}значка.
        """)
    write(site, "ru/docs/rate-limits.md", "---\ntitle: Лимиты\n---\nНе больше 50 в неделю.\n")
    write(site, "en/docs/faq.md", "---\ntitle: FAQ\ndraft: true\n---\nFrequently asked.\n")
    write(site, "en/docs/rate-limits.md", "---\ntitle: Rate limits\n---\nAt most 50 a week.\n")
    report = run(site, articles, category="letsencrypt")
    ids = {e.source: e.article_id for e in report.imported}
    assert ids["content/ru/docs/faq.md"] == "letsencrypt/ru/docs/faq"
    meta = meta_of(articles, "letsencrypt/ru/docs/faq")
    assert meta["lang"] == "ru"
    assert meta["reviewed"] == dt.date(2024, 5, 2)
    assert meta["owner"] == "Команда"
    assert meta["tags"] == ["сертификаты", "https", "помощь", "faq", "бесплатно", "цена"]
    assert meta["keywords"] == ["бесплатно", "цена"]
    assert meta["aliases"] == ["old/faq"]
    assert meta["translations"] == ["letsencrypt/en/docs/faq"]
    assert meta_of(articles, "letsencrypt/en/docs/faq")["status"] == "draft"
    assert meta_of(articles, "letsencrypt/en/docs/faq")["lang"] == "en"
    body = article(articles, "letsencrypt/ru/docs/faq").body
    assert "[лимиты](rate-limits.md)" in body
    assert "старый раздел" in body and "gone.md" not in body
    assert '!!! note "Примечание"\n    Сертификаты бесплатны.' in body
    assert '!!! warning "Важно"\n    Продлевайте вовремя.' in body
    assert "```bash\ncertbot renew\n```" in body
    assert "{{" not in body and "Текст после значка." in body
    assert check(articles) == []  # translations and aliases hold across files too


def test_toml_front_matter(src: Path, articles: Path):
    write(src, "post.md", """
        +++
        title = "Release notes"
        date = 2023-01-02
        draft = true
        tags = ["release"]
        +++
        What changed in this release.
        """)
    write(src, "bad.md", "+++\ntitle = \n+++\nText.\n")
    report = run(src, articles)
    meta = meta_of(articles, "support-docs/post")
    assert meta["title"] == "Release notes" and meta["status"] == "draft"
    assert meta["reviewed"] == dt.date(2023, 1, 2) and meta["tags"] == ["release"]
    assert report.skipped[0].reason.startswith("front matter is not valid TOML")


def test_hugo_paired_shortcodes_inside_lines_and_escaped_ones(src: Path, articles: Path):
    write(src, "glossary.md", """
        ---
        title: Glossary
        ---
        {{% def id="AIA" name="Authority Info Access" abbr="AIA" %}} A cert extension. {{% /def %}}

        {{< tabpane >}}
        {{< tab header="Tabs:" disabled=true />}}
        {{< tab header="PHP" lang="php" >}}
        echo('zz');
        {{< /tab >}}
        {{< /tabpane >}}

        Write `{{</* note */>}}` to make a note.
        """)
    report = run(src, articles)
    body = article(articles, report.imported[0].article_id).body
    assert "**Authority Info Access (AIA)** — A cert extension." in body
    assert "**PHP**\n\n```php\necho('zz');\n```" in body
    assert "Tabs:" not in body
    assert "`{{< note >}}`" in body


def test_links_between_imported_files_point_to_the_new_articles(src: Path, articles: Path):
    write(src, "Outlook/a.md", """
        ---
        title: A
        ---
        See [B](../Exchange/b.md#cause), [C](/Support%20Docs/c), [web](https://example.com/x.md)
        and [missing](nowhere.md).

        [ref-style]: ../Exchange/b.md
        """)
    write(src, "Exchange/b.md", "---\ntitle: B\n---\n## Cause\n\nText.\n")
    write(src, "c.md", "---\ntitle: C\n---\nText C.\n")
    report = run(src, articles)
    imported = article(articles, by_source(report)["Support Docs/Outlook/a.md"].article_id)
    body = imported.body
    # The file links to the other files, as a docs repository would; no page address in it.
    assert "[B](../exchange/b.md#cause)" in body
    assert "[C](../c.md)" in body
    assert "[web](https://example.com/x.md)" in body and "[missing](nowhere.md)" in body
    assert "[ref-style]: ../exchange/b.md" in body
    # The page links to the other articles' pages.
    assert 'href="/kb/support-docs/exchange/b#cause"' in imported.html
    assert 'href="/kb/support-docs/c"' in imported.html
    assert 'href="https://example.com/x.md"' in imported.html


# --- language --------------------------------------------------------------------------------

def test_language_detection(src: Path, articles: Path):
    write(src, "plain-ru.md", "Не приходит письмо с кодом подтверждения в Outlook.\n")
    write(src, "plain-en.md", "The confirmation code e-mail does not arrive in Outlook.\n")
    write(src, "locale-en.md", "---\nlocale: en-US\n---\nТекст по-русски, но с пометкой en.\n")
    write(src, "french.md", "---\nms.contentlocale: ru-RU\n---\nBloquer des expéditeurs.\n")
    write(src, "ru/page.md", "Mostly English words in a ru folder, OK.\n")
    report = run(src, articles)
    langs = {e.source.split("/", 1)[1]: meta_of(articles, e.article_id)["lang"]
             for e in report.imported}
    assert langs == {"plain-ru.md": "ru", "plain-en.md": "en", "locale-en.md": "ru",
                     "french.md": "en", "ru/page.md": "en"}
    forced = run(src, articles, lang="ru")
    assert {meta_of(articles, e.article_id)["lang"] for e in forced.updated} == {"ru"}


def test_language_hints_win_when_the_text_is_mixed(src: Path, articles: Path):
    write(src, "ru/mixed.md", "Настройте Microsoft Outlook и Exchange Online PowerShell.\n")
    write(src, "hinted.md", "---\nlang: ru\n---\nOutlook, Teams и OneDrive for Business.\n")
    report = run(src, articles)
    assert {meta_of(articles, e.article_id)["lang"] for e in report.imported} == {"ru"}


# --- the real corpora ------------------------------------------------------------------------

CORPUS_CASES = {
    # name: (folder under corpora, category, at least this many imported)
    "alchemy": ("ru-alchemyinsights/AlchemyInsights", None, 2900),
    "officedocs": ("en-officedocs-support", None, 2300),
    "letsencrypt": ("ru-hugo-small/letsencrypt/content", "letsencrypt", 120),
    "majordomo": ("ru-hugo-small/majordomo-doc/content", "majordomo", 20),
}


def _check_file(job: tuple[str, str]) -> str | None:
    root, path = job
    try:
        parse_article(Path(root), Path(path), Path(path).read_bytes())
    except ArticleError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="module", params=sorted(CORPUS_CASES))
def corpus(request, tmp_path_factory):
    if not CORPORA.is_dir():
        pytest.skip(f"the evaluation corpora are not checked out at {CORPORA}")
    folder, category, minimum = CORPUS_CASES[request.param]
    src = CORPORA / folder
    if not src.is_dir():
        pytest.skip(f"corpus {folder} is missing under {CORPORA}")
    articles = tmp_path_factory.mktemp(f"articles-{request.param}")
    started = time.monotonic()
    report = import_folder(src, articles, category=category)
    seconds = time.monotonic() - started
    return {"name": request.param, "src": src, "category": category, "minimum": minimum,
            "articles": articles, "report": report, "seconds": seconds}


@pytest.mark.corpus
def test_corpus_imports_sensibly(corpus):
    report = corpus["report"]
    assert len(report.imported) >= corpus["minimum"], report.skip_reasons()
    assert not report.updated and not report.unchanged
    assert len(report.entries) == len(find_sources(corpus["src"]))
    odd = [(e.source, e.reason) for e in report.skipped
           if e.reason.startswith(("conversion failed", "not a valid article"))]
    assert odd == []
    expected_kinds = {"include fragment", "no content", "Hugo section index with no text",
                      "duplicate"}
    assert set(report.skip_reasons()) <= expected_kinds
    ids = [e.article_id for e in report.imported]
    assert len(ids) == len(set(ids))


@pytest.mark.corpus
def test_corpus_articles_all_parse(corpus):
    articles = corpus["articles"]
    files = list(iter_article_files(articles))
    assert len(files) == len(corpus["report"].imported)
    jobs = [(str(articles), str(path)) for path in files]
    with ProcessPoolExecutor(max_workers=min(os.cpu_count() or 1, 4)) as pool:
        problems = [p for p in pool.map(_check_file, jobs, chunksize=32) if p]
    assert problems == []


@pytest.mark.corpus
def test_corpus_rerun_changes_nothing(corpus):
    before = {p: p.stat().st_mtime_ns for p in corpus["articles"].rglob("*.md")}
    report = import_folder(corpus["src"], corpus["articles"], category=corpus["category"])
    assert not report.imported and not report.updated
    assert len(report.unchanged) == len(corpus["report"].imported)
    assert {p: p.stat().st_mtime_ns for p in corpus["articles"].rglob("*.md")} == before


@pytest.mark.corpus
def test_corpus_specific_quirks(corpus):
    report, articles = corpus["report"], corpus["articles"]
    entries = by_source(report)
    if corpus["name"] == "alchemy":
        zero_width = next(s for s in entries if "using-eac\u200b" in s)
        assert entries[zero_width].article_id == \
            "alchemyinsights/restore-an-office-365-group-using-eac"
        assert entries["AlchemyInsights/outlook-won't-accept-your-gmail-pwd.md"].article_id == \
            "alchemyinsights/outlook-won-t-accept-your-gmail-pwd"
        assert entries["AlchemyInsights/includes/alchemyinsights-content-updates.md"].reason == \
            "include fragment (in an includes folder)"
        page = article(articles, "alchemyinsights/about-identity-in-yammer")
        assert page.lang == "ru" and page.title == "Сведения об удостоверениях в Yammer"
        assert "<a name" not in page.body and not page.body.startswith("#")
    elif corpus["name"] == "officedocs":
        assert report.skip_reasons() == {"include fragment": 11}
        bodies = [(articles / f"{e.article_id}.md").read_text("utf-8") for e in report.imported]
        assert not any("[!NOTE]" in b or ":::image" in b or "[!INCLUDE" in b for b in bodies)
        assert sum("!!! note" in b for b in bodies) > 500
    elif corpus["name"] in ("letsencrypt", "majordomo"):
        bodies = [(articles / f"{e.article_id}.md").read_text("utf-8") for e in report.imported]
        assert not any("{{<" in b or "{{%" in b for b in bodies)
        langs = {meta_of(articles, e.article_id)["lang"] for e in report.imported}
        assert langs == {"ru", "en"}
        assert check(articles) == []
