"""Article files the portal writes read as a person would write them: front matter in block
style, one key a line; and a site whose articles folder does not exist yet starts."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from portal.articles import dump_front_matter
from portal.articles import parse_article
from portal.articles import read_front_matter
from portal.importer import import_folder

from .editing import expert_client
from .editing import new_article


def front_lines(text: str) -> list[str]:
    """The lines between the file's `---` lines."""
    return text.split("---\n")[1].splitlines()


def test_front_matter_of_plain_keys_is_one_key_a_line():
    # Keys without lists came out as one flow mapping: `{title: ..., lang: ru, source: ...}`.
    text = dump_front_matter({"title": "Сброс пароля", "lang": "ru", "source": "kb/a.md"})
    assert front_lines(text) == ["title: Сброс пароля", "lang: ru", "source: kb/a.md"]


@pytest.mark.parametrize("title", [
    "Ошибка: 651", 'Кнопка «Войти» и "Выйти"', "It's #1", "- не список", "yes", "null",
    "[в скобках]", "{фигурные}", "a: b: c", "  пробелы по краям  ", "Строка с \\ и %",
])
def test_any_title_stays_valid_yaml_and_reads_back_the_same(title):
    meta = {"title": title, "lang": "ru", "tags": ["пароль", "личный кабинет", "a, b"],
            "keywords": ["не грузит", "пропал инет"], "reviewed": dt.date(2026, 8, 20),
            "review_every": 90}
    text = dump_front_matter(meta)
    assert read_front_matter("x.md", text + "\nТекст.\n").meta == meta
    lines = front_lines(text)
    assert len(lines) == len(meta)  # one key a line
    # Lists of words stay on their key's line, as people write them.
    assert "keywords: [не грузит, пропал инет]" in lines
    assert "tags: [пароль, личный кабинет, 'a, b']" in lines


def test_nested_values_are_written_in_blocks_and_read_back():
    meta = {"title": "x", "extra": {"steps": [["a", "b"], "c"], "owner": "a.ivanova"}}
    text = dump_front_matter(meta)
    assert yaml.safe_load(text.split("---\n")[1]) == meta
    assert not any(line.startswith("{") for line in front_lines(text))
    assert "extra:" in front_lines(text)


def test_imported_articles_get_block_style_front_matter(tmp_path: Path):
    src = tmp_path / "vendor-kb"
    src.mkdir()
    (src / "reset.md").write_text('---\ntitle: "Сброс: пароль и «ключ»"\n---\nТекст.\n',
                                  "utf-8")
    (src / "plain.md").write_text("# Настройка роутера\n\nТекст без front matter.\n", "utf-8")
    articles = tmp_path / "articles"
    report = import_folder(src, articles, lang="ru", workers=1)
    assert len(report.imported) == 2
    for path in sorted(articles.rglob("*.md")):
        text = path.read_text("utf-8")
        lines = front_lines(text)
        assert lines[0].startswith("title: ") and not text.startswith("---\n{")
        assert "lang: ru" in lines and any(line.startswith("source: ") for line in lines)
        article = parse_article(articles, path, text.encode())
        assert article.title in ("Сброс: пароль и «ключ»", "Настройка роутера")


def test_the_editor_writes_block_style_front_matter(app, articles_dir):
    expert = expert_client(app)
    # An article without tags or keywords came out as one flow mapping.
    response = new_article(expert, "Ошибка: «651»", "Проверьте кабель.", slug="oshibka-651")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    lines = front_lines((articles_dir / "internet/oshibka-651.md").read_text("utf-8"))
    assert "title: 'Ошибка: «651»'" in lines and "lang: ru" in lines
    assert not any(line.startswith("{") for line in lines)
    response = new_article(expert, "Модем не отвечает", "Проверьте кабель.", slug="modem",
                           keywords="модем, кабель")
    lines = front_lines((articles_dir / "internet/modem.md").read_text("utf-8"))
    assert "keywords: [модем, кабель]" in lines and "title: Модем не отвечает" in lines


def test_a_site_whose_articles_folder_does_not_exist_yet_starts_and_makes_it(make_app,
                                                                          tmp_path):
    # It crashed at start-up with FileNotFoundError while indexing.
    folder = tmp_path / "new-site" / "articles"
    app = make_app(folder)
    assert folder.is_dir()
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/search?q=пароль").status_code == 200


def test_importing_into_an_articles_folder_that_does_not_exist_yet(make_app, tmp_path):
    folder = tmp_path / "new-site" / "articles"
    src = tmp_path / "guide"
    src.mkdir()
    (src / "router.md").write_text("---\ntitle: Настройка роутера\n---\nТекст.\n", "utf-8")
    app = make_app(folder)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["articles", "import", str(src), "--lang", "ru"])
    assert result.exit_code == 0, result.output
    assert "1 imported" in result.output
    result = runner.invoke(args=["index", "build"])
    assert "Index: 1 added" in result.output, result.output
    page = app.test_client().get("/search?q=роутер").get_data(as_text=True)
    assert re.search(r'href="/kb/guide/router[?"]', page)
