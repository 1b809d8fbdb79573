"""Articles: front matter rules, problems reported with lines, rendering and sanitizing."""

from __future__ import annotations

import re
import textwrap

import pytest

from portal import articles
from portal.articles import ArticleError


def write(root, rel, text):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def test_article_fields_come_from_front_matter(articles_dir):
    article = articles.load_article(articles_dir, articles_dir / "internet/net-interneta.md")
    assert article.id == "internet/net-interneta"
    assert article.category == "internet"
    assert article.title == "Нет интернета — что проверить"
    assert article.tags == ["интернет", "подключение"]
    assert article.aliases == ["internet/propal-internet"]
    assert article.is_public


def test_cyrillic_headings_get_readable_anchors_and_sections(articles_dir):
    article = articles.load_article(articles_dir, articles_dir / "internet/net-interneta.md")
    assert [h.anchor for h in article.toc] == ["проверьте-маршрутизатор", "ошибка-651"]
    assert 'id="проверьте-маршрутизатор"' in article.html
    section = article.sections[1]
    assert section.title == "Ошибка 651"
    assert "модем не отвечает" in section.text


def test_tables_code_and_admonitions_render(articles_dir):
    article = articles.load_article(articles_dir, articles_dir / "internet/nastrojka-wi-fi.md")
    assert "<table>" in article.html and "<td>2,4 ГГц</td>" in article.html
    assert 'class="highlight"' in article.html and "flushdns" in article.html
    assert 'class="admonition warning"' in article.html
    assert "Внимание" in article.html


@pytest.mark.parametrize(
    ("front_matter", "line", "message"),
    [
        ("summary: no title\n", 1, "title is missing"),
        ("title: [unclosed\n", None, "not valid YAML"),
        ("title: T\nlang: de\n", 3, "lang must be one of"),
        ("title: T\ntags: 5\n", 3, "tags must be a list"),
        ("title: T\nreviewed: yesterday\n", 3, "reviewed must be a date"),
        ("title: T\nreview_every: soon\n", 3, "review_every must be a whole number"),
        ("title: T\nstatus: hidden\n", 3, "status must be one of"),
        ("title: T\nlayout: wide\n", 3, "unknown front matter key 'layout'"),
        ("title: 12\naudience: everyone\n", 3, "audience must be one of"),
    ],
)
def test_broken_front_matter_is_reported_with_its_line(tmp_path, front_matter, line, message):
    path = write(tmp_path, "net/broken.md", f"---\n{front_matter}---\nBody.\n")
    with pytest.raises(ArticleError) as caught:
        articles.load_article(tmp_path, path)
    problem = next(p for p in caught.value.problems if message in p.message)
    assert problem.path == "net/broken.md"
    if line is not None:
        assert problem.line == line
    assert str(problem).startswith(f"net/broken.md:{problem.line}: ")


def test_check_lists_problems_across_files(articles_dir):
    write(articles_dir, "internet/bad.md",
          "---\ntitle: Bad\ntranslations: [internet/missing]\n---\nx")
    write(articles_dir, "internet/Bad Name.md", "---\ntitle: Odd\n---\nx")
    write(articles_dir, "internet/dup.md",
          "---\ntitle: Dup\naliases: [internet/propal-internet]\n---\nx")
    messages = [str(p) for p in articles.check(articles_dir)]
    assert "internet/bad.md:3: translation 'internet/missing' does not exist" in messages
    assert any(m.startswith("internet/Bad Name.md:1: file name gives id") for m in messages)
    assert any("alias 'internet/propal-internet' is also claimed" in m for m in messages)


def test_unsafe_html_is_removed_from_rendered_articles():
    body = textwrap.dedent("""
        <script>alert(1)</script>
        [click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=)
        <img src=x onerror="alert(1)"> <a href="#" onclick="x()">a</a>
        <iframe src="https://evil.example"></iframe><style>body{}</style>

        !!! note "<b onmouseover=alert(1)>title</b>"
            text
    """)
    html, *_ = articles.render_markdown(body)
    lowered = html.lower()
    for bad in ("<script", "javascript:", "data:", "onerror", "onclick", "onmouseover",
                "<iframe", "<style", "alert(1)</"):
        assert bad not in lowered



def test_links_to_other_article_files_become_their_pages_when_rendered():
    body = textwrap.dedent("""
        [near](avtoplatezh.md) [other topic](../internet/nastrojka-wi-fi.md#router)
        [old style](/kb/internet/nastrojka-wi-fi) [outside](../../../etc/passwd.md)
        [site](https://example.com/guide.md) [upper](../Internet/Wi-Fi.md)
    """)
    html, *_ = articles.render_markdown(body, "billing/sposoby-oplaty")
    assert 'href="/kb/billing/avtoplatezh"' in html
    assert 'href="/kb/internet/nastrojka-wi-fi#router"' in html
    assert 'href="/kb/internet/nastrojka-wi-fi"' in html  # files imported earlier keep working
    assert 'href="../../../etc/passwd.md"' in html  # leaves the knowledge base: not an article
    assert 'href="https://example.com/guide.md"' in html
    assert 'href="../Internet/Wi-Fi.md"' in html  # no article can have that id


def test_an_article_page_links_to_the_article_its_file_names(client):
    """On the test site: a relative link between files opens the other article's page."""
    html, *_ = articles.render_markdown("[пароль](../account/sbros-parolya.md)", "email/x")
    href = re.search(r'href="([^"]+)"', html).group(1)
    assert client.get(href).status_code == 200

def test_deeply_nested_markdown_is_refused_not_crashing(tmp_path):
    nested = "".join("  " * depth + "- item\n" for depth in range(600))
    path = write(tmp_path, "net/deep.md", "---\ntitle: Deep\n---\n" + nested)
    with pytest.raises(ArticleError) as caught:
        articles.load_article(tmp_path, path)
    assert "nested" in str(caught.value)


def test_stress_accents_and_yo_are_kept_in_text_but_not_in_the_way(tmp_path):
    path = write(tmp_path, "net/accent.md", "---\ntitle: Кари́бский ёж\n---\nТекст.")
    article = articles.load_article(tmp_path, path)
    assert article.title == "Кари́бский ёж"


@pytest.mark.parametrize(("text", "message"), [
    ("groups: [[роутер, маршрутизатор]\n", "_synonyms.yml:2: not valid YAML"),
    ("groups: роутер\n", "_synonyms.yml:1: expected 'groups:' with a list of lists of words"),
])
def test_broken_synonyms_and_category_files_are_reported(articles_dir, text, message):
    (articles_dir / "_synonyms.yml").write_text(text, encoding="utf-8")
    (articles_dir / "internet" / "_category.yml").write_text("title: [1, 2]\n", "utf-8")
    problems = [str(p) for p in articles.check(articles_dir)]
    assert any(p.startswith(message) for p in problems), problems
    assert any(p.startswith("internet/_category.yml:1: title must be text") for p in problems)
