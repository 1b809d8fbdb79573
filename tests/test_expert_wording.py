"""Words an expert reads: the gaps named as gaps in the knowledge base, the first revision
of a file as its initial version, and admonition boxes titled in the article's language."""

from __future__ import annotations

import re
import textwrap

import pytest

from portal.articles import render_markdown

from .editing import expert_client


def test_a_russian_box_without_a_title_is_titled_in_russian():
    html = render_markdown("!!! note\n    Текст.\n\n!!! warning\n    Осторожно.\n\n"
                           "!!! tip\n    Совет.\n", "internet/x", "ru")[0]
    assert re.findall(r'<p class="admonition-title">([^<]*)</p>', html) == [
        "Примечание", "Внимание", "Совет"]


def test_an_english_box_keeps_english_and_a_given_title_is_kept():
    html = render_markdown('!!! note\n    Text.\n\n!!! danger "Не трогать"\n    x\n\n'
                           '!!! tip ""\n    y\n\n!!! custom-kind\n    z\n', "a/b", "en")[0]
    assert re.findall(r'<p class="admonition-title">([^<]*)</p>', html) == [
        "Note", "Не трогать", "Custom-kind"]


def test_box_titles_follow_the_article_not_the_interface(make_app, articles_dir):
    (articles_dir / "internet/zametka.md").write_text(textwrap.dedent("""\
        ---
        title: Заметка о роутере
        lang: ru
        ---
        !!! note
            Перед настройкой сохраните старые параметры.
        """), "utf-8")
    site = make_app(articles_dir)
    reader = site.test_client()
    for ui in ("ru", "en"):
        reader.set_cookie("ui_lang", ui)
        page = reader.get("/kb/internet/zametka").get_data(as_text=True)
        assert '<p class="admonition-title">Примечание</p>' in page, ui
        assert ">Note<" not in page


def history_rows(client, article_id: str) -> list[str]:
    page = client.get(f"/expert/articles/{article_id}/history").get_data(as_text=True)
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_the_first_revision_of_a_file_is_its_initial_version(app, articles_dir):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["index", "build"]).exit_code == 0
    expert = expert_client(app)
    [first] = history_rows(expert, "account/sbros-parolya")
    assert "исходная версия" in first and "изменена вне портала" not in first
    path = articles_dir / "account/sbros-parolya.md"
    path.write_text(path.read_text("utf-8") + "\nСтрока из git pull.\n", "utf-8")
    assert runner.invoke(args=["index", "build"]).exit_code == 0
    newest, first = history_rows(expert, "account/sbros-parolya")
    assert "изменена вне портала" in newest and "исходная версия" in first
    revision = expert.get("/expert/articles/account/sbros-parolya/revisions/1")
    assert "исходная версия" in revision.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/expert/", "/expert/gaps"])
def test_the_gaps_are_named_as_gaps_in_the_knowledge_base(app, path):
    page = expert_client(app).get(path).get_data(as_text=True)
    assert "Пробелы в базе знаний" in page
    assert not re.search(r">\s*Пробелы\s*<", page)


def test_hidden_gaps_are_offered_in_an_experts_words(app):
    page = expert_client(app).get("/expert/gaps").get_data(as_text=True)
    assert "Показать скрытые пробелы" in page and "неучитываемые" not in page
