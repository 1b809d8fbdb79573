"""One article file to an `Article`: its id, its front matter's fields, its body bounded
and rendered. Everything wrong with the file is gathered into one `ArticleError`."""

from __future__ import annotations

from pathlib import Path

from .files import article_id
from .files import decode_utf8
from .files import file_digest
from .files import reading
from .meta import article_fields
from .meta import read_front_matter
from .model import Article
from .model import ArticleError
from .model import Problem
from .model import is_valid_id
from .render import render_markdown

#: Bodies larger than this are refused: rendering cost must stay bounded.
MAX_BODY_BYTES = 512 * 1024
#: Deeper nesting of lists or quotes than this is refused (Markdown recursion).
MAX_NESTING = 40


def load_article(root: Path, path: Path, default_lang: str = "ru") -> Article:
    """Read, validate and render one article; raise `ArticleError` listing all problems."""
    with reading(path.relative_to(root).as_posix()):
        data = path.read_bytes()
    return parse_article(root, path, data, default_lang)


def parse_article(root: Path, path: Path, data: bytes, default_lang: str = "ru") -> Article:
    """Validate and render an article from the bytes of its file; whatever is wrong with
    them, raise only `ArticleError`."""
    rel = path.relative_to(root).as_posix()
    with reading(rel):
        return _parse_article(root, path, rel, data, default_lang)


def _parse_article(root: Path, path: Path, rel: str, data: bytes, default_lang: str) -> Article:
    problems: list[Problem] = []
    ident = article_id(root, path)
    if not is_valid_id(ident):
        problems.append(Problem(rel, 1, f"file name gives id {ident!r}: use lowercase Latin "
                                        "letters, digits, '-' and '_' only"))
    text = decode_utf8(rel, data).lstrip("\ufeff")
    front = read_front_matter(rel, text)
    fields, field_problems = article_fields(rel, front, default_lang)
    problems.extend(field_problems)
    body = front.body
    if len(body.encode("utf-8")) > MAX_BODY_BYTES:
        problems.append(Problem(rel, 1, f"body is larger than {MAX_BODY_BYTES // 1024} KB"))
    depth, depth_line = _nesting_depth(body)
    if depth > MAX_NESTING:
        problems.append(Problem(rel, depth_line + len(text.splitlines()) - len(body.splitlines()),
                                f"lists or quotes nested {depth} deep (at most {MAX_NESTING})"))
    if problems:
        raise ArticleError(problems)

    article = Article(id=ident, body=body, category=_category_of(ident),
                      digest=file_digest(data), **fields)
    try:
        rendered = render_markdown(body, ident, article.lang)
    except RecursionError:
        raise ArticleError([Problem(rel, 1, "body is nested too deeply to render")]) from None
    article.html, article.toc, article.sections, article.text, article.prose = rendered
    return article


def _category_of(ident: str) -> str:
    return ident.split("/", 1)[0] if "/" in ident else ""


def _nesting_depth(body: str) -> tuple[int, int]:
    """The deepest list/quote nesting in `body`, estimated from indentation, and its line."""
    deepest, where = 0, 1
    for number, line in enumerate(body.splitlines(), start=1):
        stripped = line.lstrip(" \t>")
        prefix = line[: len(line) - len(stripped)]
        depth = prefix.count(">") + len(prefix.replace(">", "").expandtabs(4)) // 2
        if depth > deepest:
            deepest, where = depth, number
    return deepest, where
