"""One broken file never stops the site: whatever is wrong with it is that file's problem.

Every way reading one article or settings file can fail (out-of-range dates, huge numbers,
deep nesting, odd YAML, bytes that are not UTF-8) becomes a `path:line: message` problem;
`portal articles check`, `portal index build`, `portal articles import` and the start-up
build report it and go on with the other files.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from portal import articles
from portal.articles import Article
from portal.articles import ArticleError
from portal.search import SearchIndex

from .conftest import write_site

GOOD = "internet/net-interneta"

#: Front matter that stopped `portal index build` (and most of it `portal articles check`)
#: with a traceback, with the line of the problem in the file
#: `---\ntitle: Broken\n<front matter>---\nBody.` and words of its message.
CRASHING = {
    "date-out-of-range": ("reviewed: 9999-99-99\n", 3, "not a valid date"),
    "year-zero": ("reviewed: 0000-01-01\n", 3, "not a valid date"),
    "time-zone-out-of-range": ("reviewed: 2024-05-01 10:00:00+99:00\n", 3, "not a valid date"),
    "huge-number": ("review_every: " + "9" * 5000 + "\n", 3, "longer than 100 digits"),
    "huge-hex-summary": ("summary: 0x" + "f" * 5000 + "\n", 3, "longer than 100 digits"),
    "deep-tags": ("tags: " + "[" * 20_000 + "]" * 20_000 + "\n", 3, "nest"),
    "deep-block-tags": ("tags:\n" + "".join(" " * n + "-\n" for n in range(1, 3000)), 23,
                        "nested more than 20 levels"),
    "number-key": ("1: one\nextra: two\n", 3, "unknown front matter key 1"),
    "date-key": ("2024-05-01: day\nextra: two\n", 3, "unknown front matter key 2024-05-01"),
}

#: Odd YAML that was already refused (or silently misread) before, each still a clear
#: problem at its line.
ODD = {
    "python-object-tag": ("tags: !!python/object:os.system {}\n", 3, "could not determine a "
                                                                       "constructor"),
    "binary-title": ("summary: !!binary aGVsbG8=\n", 3, "summary must be text"),
    "bad-binary": ("summary: !!binary aGVsbG8\n", 3, "failed to decode base64"),
    # Each line stands for nine of the line before: the sixth is over 500,000 values.
    "alias-bomb": ("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{key}: &{key} [{', '.join([f'*{prev}'] * 9)}]\n"
        for prev, key in zip("abcdef", "bcdefg", strict=True)) + "tags: *g\n", 8,
        "aliases repeat too much"),
    "recursive-alias": ("tags: &loop [*loop]\n", 3, "inside its own anchor"),
    "undefined-alias": ("tags: *nothing\n", 3, "undefined alias"),
    "unhashable-key": ("[a, b]: c\n", 3, "unhashable key"),
    "duplicate-key": ("summary: one\nsummary: two\n", 4, "the key 'summary' is given twice"),
    "nul-character": ("summary: a\x00b\n", 3, "U+0000 is not allowed"),
    "review-every-absurd": ("review_every: 99999\n", 3, "from 1 to 3650"),
    "tags-a-mapping": ("tags: {a: 1}\n", 3, "tags must be a list"),
    "lang-a-list": ("lang: [ru, en]\n", 3, "lang must be one of ru, en, not ['ru', 'en']"),
    "unclosed-flow": ("tags: [a, b\n", 4, "not valid YAML"),
}


def broken_file(front_matter: str) -> str:
    return f"---\ntitle: Broken\n{front_matter}---\nBody.\n"


def write_broken(root: Path, cases: dict) -> dict[str, tuple[int, str]]:
    """Write one article per case; return its path under `root` -> (line, message)."""
    expected = {}
    for name, (front_matter, line, message) in cases.items():
        rel = f"internet/broken-{name}.md"
        (root / rel).write_text(broken_file(front_matter), encoding="utf-8")
        expected[rel] = (line, message)
    return expected


def assert_reported(output: str, expected: dict[str, tuple[int, str]], prefix: str = "") -> None:
    """Each file has a `path:line: message` line with its line and message."""
    lines = output.splitlines()
    for rel, (line, message) in expected.items():
        mine = [text for text in lines if text.startswith(f"{prefix}{rel}:")]
        assert any(text.startswith(f"{prefix}{rel}:{line}: ") and message in text
                   for text in mine), (rel, mine)
    assert "Traceback" not in output


# --- parsing one article ---------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CRASHING) + sorted(ODD))
def test_each_broken_front_matter_is_a_problem_at_its_line(name):
    front_matter, line, message = {**CRASHING, **ODD}[name]
    data = broken_file(front_matter).encode("utf-8")
    with pytest.raises(ArticleError) as caught:
        articles.parse_article(Path("/kb"), Path("/kb/net/broken.md"), data)
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"net/broken.md:{line}: ") and message in p for p in found), found


def test_bytes_that_are_not_utf8_are_a_problem_at_their_line():
    data = b"---\ntitle: Broken\nsummary: caf\xe9\n---\nBody.\n"
    with pytest.raises(ArticleError) as caught:
        articles.parse_article(Path("/kb"), Path("/kb/net/latin1.md"), data)
    assert [str(p) for p in caught.value.problems] == [
        "net/latin1.md:3: not UTF-8 text: invalid continuation byte"]


def test_front_matter_that_is_not_a_mapping_is_a_problem():
    data = b"---\n- a\n- b\n---\nBody.\n"
    with pytest.raises(ArticleError) as caught:
        articles.parse_article(Path("/kb"), Path("/kb/net/list.md"), data)
    assert [str(p) for p in caught.value.problems] == [
        "net/list.md:1: front matter must be a mapping of keys"]


def test_a_body_that_looks_like_json_front_matter_is_just_a_body():
    data = b"{\nnot json at all\n}\n"
    with pytest.raises(ArticleError) as caught:
        articles.parse_article(Path("/kb"), Path("/kb/net/braces.md"), data)
    assert [str(p) for p in caught.value.problems] == ["net/braces.md:1: title is missing or empty"]


@pytest.mark.parametrize(("front_matter", "field", "value"), [
    ("reviewed: 2024-05-01 10:00:00+03:00\n", "reviewed", "2024-05-01"),
    ("reviewed: 2024-05-01T23:30:00-11:00\n", "reviewed", "2024-05-01"),
    ("reviewed: 9999-12-31\n", "reviewed", "9999-12-31"),
    ("review_every: 3650\n", "review_every", 3650),
    ("tags: [wi-fi, 5, 2.5]\n", "tags", ["wi-fi", "5", "2.5"]),
    ("keywords: 'роутер, router'\n", "keywords", ["роутер", "router"]),
    ("<<: {summary: Shared.}\n", "summary", "Shared."),
    ("owner: &who a.ivanova\nsource: *who\n", "source", "a.ivanova"),
])
def test_valid_but_unusual_values_are_accepted(front_matter, field, value):
    data = broken_file(front_matter).encode("utf-8")
    article = articles.parse_article(Path("/kb"), Path("/kb/net/ok.md"), data)
    found = getattr(article, field)
    assert (found.isoformat() if field == "reviewed" else found) == value


def test_an_unexpected_failure_in_one_file_is_that_files_problem(monkeypatch, tmp_path):
    # No known input makes rendering raise any more: stand in for the next such bug.
    real = articles.render_markdown

    def render(body, *args):
        if "BOOM" in body:
            raise RuntimeError("renderer bug")
        return real(body, *args)

    monkeypatch.setattr(articles.parse, "render_markdown", render)  # where parsing finds it
    root = write_site(tmp_path / "articles")
    (root / "internet/boom.md").write_text("---\ntitle: Boom\n---\nBOOM\n", "utf-8")
    problems = [str(p) for p in articles.check(root)]
    assert problems == ["internet/boom.md:1: could not be read: RuntimeError: renderer bug"]
    index = SearchIndex(tmp_path / "index", root, refresh_interval=0)
    report = index.build()
    assert [str(p) for p in report.problems] == problems
    assert GOOD in index.catalog() and "internet/boom" not in index.catalog()


def test_an_index_that_cannot_be_written_is_not_taken_for_a_file_problem(tmp_path):
    root = write_site(tmp_path / "articles")
    (tmp_path / "index").write_text("a file where the index folder should be")
    with pytest.raises(OSError):
        SearchIndex(tmp_path / "index", root).build()


# --- the command line -----------------------------------------------------------------------

def test_articles_check_reports_every_broken_file_and_fails(app, articles_dir):
    expected = write_broken(articles_dir, CRASHING)
    result = app.test_cli_runner().invoke(args=["articles", "check"])
    assert result.exit_code == 1, result.output
    assert_reported(result.output, expected)
    assert f"{6 + len(CRASHING)} files checked" in result.output
    assert not any(line.startswith(f"{GOOD}.md") for line in result.output.splitlines())


def test_index_build_skips_every_broken_file_and_indexes_the_rest(app, articles_dir):
    expected = write_broken(articles_dir, CRASHING)
    write_site(articles_dir, {"internet/novoe.md": "---\ntitle: Новая статья\n---\nТекст."})
    result = app.test_cli_runner().invoke(args=["index", "build"])
    assert result.exit_code == 0, result.output
    assert_reported(result.output, expected, prefix="skipped: ")
    assert f"1 added, 0 updated, 0 removed, 6 unchanged, {len(CRASHING)} skipped" \
        in result.output
    client = app.test_client()
    assert client.get("/kb/internet/novoe").status_code == 200
    assert client.get("/kb/internet/broken-date-out-of-range").status_code == 404


def test_an_article_that_breaks_later_leaves_the_index(app, articles_dir):
    path = articles_dir / "internet/nastrojka-wi-fi.md"
    path.write_text(broken_file(CRASHING["date-out-of-range"][0]), "utf-8")
    result = app.test_cli_runner().invoke(args=["index", "build"])
    assert result.exit_code == 0, result.output
    assert "skipped: internet/nastrojka-wi-fi.md:3: " in result.output
    assert "0 added, 0 updated, 1 removed" in result.output
    assert app.test_client().get("/kb/internet/nastrojka-wi-fi").status_code == 404


# --- the settings files beside the articles ---------------------------------------------------

BROKEN_SETTINGS = {
    "internet/_category.yml": ("title: Интернет\norder: " + "9" * 5000 + "\n", 2,
                               "not valid YAML: a number longer than 100 digits"),
    "_synonyms.yml": ("groups: " + "[" * 20_000 + "]" * 20_000 + "\n", 1, "not valid YAML"),
    "_best_bets.yml": ("bets:\n  - query: 9999-99-99\n    articles: [internet/net-interneta]\n",
                       2, "not valid YAML: '9999-99-99' is not a valid date"),
}


def write_settings(root: Path) -> dict[str, tuple[int, str]]:
    for rel, (text, _line, _message) in BROKEN_SETTINGS.items():
        (root / rel).write_text(text, encoding="utf-8")
    return {rel: (line, message) for rel, (_text, line, message) in BROKEN_SETTINGS.items()}


def test_articles_check_reports_broken_settings_files(app, articles_dir):
    expected = write_settings(articles_dir)
    result = app.test_cli_runner().invoke(args=["articles", "check"])
    assert result.exit_code == 1, result.output
    assert_reported(result.output, expected)


def test_index_build_keeps_going_over_broken_settings_files(app, articles_dir):
    expected = write_settings(articles_dir)
    result = app.test_cli_runner().invoke(args=["index", "build"])
    assert result.exit_code == 0, result.output
    assert_reported(result.output, expected, prefix="skipped: ")
    # The synonyms indexed before the file broke still apply: "лк" is "личный кабинет".
    page = app.test_client().get("/search?q=лк").get_data(as_text=True)
    assert "Как сбросить пароль от личного кабинета" in page


# --- start-up --------------------------------------------------------------------------------

def test_the_site_starts_over_an_empty_index_and_serves_the_other_articles(make_app, tmp_path,
                                                                           caplog):
    root = write_site(tmp_path / "articles")
    expected = write_broken(root, CRASHING)
    write_settings(root)
    app = make_app(root)  # no index yet: it is built now, as `portal run` does
    client = app.test_client()
    assert client.get(f"/kb/{GOOD}").status_code == 200
    assert "Нет интернета" in client.get("/search?q=интернет").get_data(as_text=True)
    assert client.get("/kb/internet/broken-huge-number").status_code == 404
    logged = caplog.text
    for rel in [*expected, *BROKEN_SETTINGS]:
        assert f"skipped: {rel}:" in logged


# --- import ----------------------------------------------------------------------------------

IMPORT_BROKEN = {name: CRASHING[name] for name in (
    "date-out-of-range", "year-zero", "time-zone-out-of-range", "huge-number", "deep-tags")}


def test_import_skips_broken_front_matter_and_imports_the_rest(app, articles_dir, tmp_path):
    site = tmp_path / "docs-site"
    site.mkdir()
    for name, (front_matter, _line, _message) in IMPORT_BROKEN.items():
        (site / f"{name}.md").write_text(broken_file(front_matter), "utf-8")
    (site / "fine.md").write_text("---\ntitle: Fine page\n---\nIt imports.\n", "utf-8")
    result = app.test_cli_runner().invoke(args=["articles", "import", str(site), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "imported: docs-site/fine.md -> docs-site/fine" in result.output
    for name, (_front_matter, line, message) in IMPORT_BROKEN.items():
        found = [text for text in result.output.splitlines()
                 if text.startswith(f"skipped: docs-site/{name}.md ")]
        assert len(found) == 1, (name, result.output)
        assert "(front matter is not valid YAML: " in found[0] and message in found[0]
        assert f"(line {line}))" in found[0]
    assert f"1 imported, 0 updated, 0 unchanged, {len(IMPORT_BROKEN)} skipped" in result.output


def test_import_goes_on_when_the_category_holds_a_broken_article(app, articles_dir, tmp_path):
    site = tmp_path / "docs-site"
    site.mkdir()
    (site / "fine.md").write_text("---\ntitle: Fine page\n---\nIt imports.\n", "utf-8")
    broken = articles_dir / "docs-site/edited-by-hand.md"
    broken.parent.mkdir()
    broken.write_text("---\ntitle: Edited\nsource: docs-site/old.md\nreviewed: 9999-99-99\n"
                      "---\nText.\n", "utf-8")
    result = app.test_cli_runner().invoke(args=["articles", "import", str(site), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "1 imported, 0 updated, 0 unchanged, 0 skipped" in result.output
    assert (articles_dir / "docs-site/fine.md").is_file()


# --- fuzzing ---------------------------------------------------------------------------------

KEYS = sorted(articles.KNOWN_KEYS) + [
    "extra", "1", "2024-05-01", "<<", "~", "true", "'quoted'", "[a, b]", "{a: 1}", "? x",
]
SCALARS = st.one_of(
    st.sampled_from([
        "", "~", "null", "true", "no", "ru", "en", "de", "public", "internal", "draft",
        ".inf", "-.inf", ".nan", "0x1F", "0o17", "0b101", "1_000", "1:30:00", "-0", "1e400",
        "!!binary aGVsbG8=", "!!binary '***'", "!!python/object:os.system {}",
        "!!python/name:os.system", "!!set {a, b}", "!!omap [{a: 1}]", "!!str 5",
        "!!int x", "!!float y", "!!timestamp 2024-13-01", "!local thing", "&a x", "*a",
        "*missing", "'it''s'", '"\\u00e9 \\x00 \\ud800"', "|\n  block\n", ">-\n  folded\n",
        "{", "[", "]", "}", ",", "---", "...", "%YAML 1.1", "- a\n- b", "a: b: c", "\t",
        "<<: *a", "@at", "`tick",
    ]),
    st.integers(-10**9, 10**9).map(str),
    st.integers(1, 6000).map(lambda n: "9" * n),
    st.integers(1, 3000).map(lambda n: "0x" + "f" * n),
    st.from_regex(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
                  r"([Tt ][0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,12})?"
                  r"( ?(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?", fullmatch=True),
    st.floats().map(repr),
    st.text(st.characters(categories=["L", "N", "P", "Zs"]), max_size=20),
    st.text(max_size=10),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
    st.lists(st.tuples(st.sampled_from(KEYS), inner), max_size=3).map(
        lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"),
), max_leaves=12)
TITLES = st.text(st.characters(categories=["L", "Nd", "Zs"]), min_size=1, max_size=30)
DEEP = st.one_of(
    st.sampled_from([19, 20, 21, 999, 1000, 1001, 20_000]).map(lambda n: "[" * n + "]" * n),
    st.integers(15, 40).map(lambda n: "\n" + "".join(" " * i + "- x\n" for i in range(1, n))),
    st.integers(15, 40).map(lambda n: "\n" + "".join("  " * i + f"k{i}:\n" for i in range(n))),
)


@st.composite
def article_files(draw) -> bytes:
    """The bytes of a file with generated front matter, sometimes with random bytes in."""
    entries = draw(st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=6))
    # One deep value at most, and not in most files, so that the checks of each key are
    # reached as well.
    if draw(st.integers(0, 4)) == 0:
        entries.insert(draw(st.integers(0, len(entries))), (draw(st.sampled_from(KEYS)),
                                                            draw(DEEP)))
    front = "".join(f"{key}: {value}\n" for key, value in entries)
    if draw(st.integers(0, 7)):
        front = f"title: {draw(st.one_of(TITLES, TITLES, SCALARS))}\n" + front
    body = draw(st.sampled_from(["Body.\n", "", "## Heading\n\nText.\n", "---\nmore\n"]))
    data = f"---\n{front}---\n{body}".encode()
    if draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    return data


def assert_problem_lines(problems, rel: str, data: bytes) -> None:
    """Problems render as one `path:line: message` line each, at a line of the file."""
    assert problems
    for problem in problems:
        text = str(problem)
        assert re.fullmatch(rf"{re.escape(rel)}:[0-9]+: \S[^\n]*", text), text
        assert 1 <= problem.line <= data.count(b"\n") + 1, text
        # Every way the text fails is understood, none is left to the catch-all.
        assert "could not be read" not in problem.message, text


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(article_files())
def test_fuzzed_front_matter_gives_an_article_or_problem_lines(data):
    try:
        article = articles.parse_article(Path("/kb"), Path("/kb/net/fuzz.md"), data)
    except ArticleError as exc:
        assert_problem_lines(exc.problems, "net/fuzz.md", data)
    else:
        assert isinstance(article, Article) and article.title


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(st.tuples(st.sampled_from(["title", "description", "order", "groups",
                                           "bets", "query", "articles", "extra"]),
                          st.one_of(VALUES, DEEP)), max_size=6))
def test_fuzzed_settings_files_load_or_give_problem_lines(tmp_path_factory, entries):
    root = tmp_path_factory.getbasetemp() / "fuzzed-settings"
    (root / "net").mkdir(parents=True, exist_ok=True)
    data = "".join(f"{key}: {value}\n" for key, value in entries).encode()
    for rel, load in (("net/_category.yml", lambda: articles.load_category(root, "net")),
                      ("_synonyms.yml", lambda: articles.load_synonyms(root)),
                      ("_best_bets.yml", lambda: articles.load_best_bets(root))):
        (root / rel).write_bytes(data)
        try:
            load()
        except ArticleError as exc:
            assert_problem_lines(exc.problems, rel, data)
