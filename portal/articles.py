"""Articles on disk: find, parse, validate and render `articles/<category>/<slug>.md`.

The Markdown files are the source of truth. This module knows nothing about requests or
the search engine: it turns a file into an `Article` (or a list of `Problem`s) and renders
its body to sanitized HTML once, when the file changes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from html.parser import HTMLParser
from pathlib import Path

import markdown
import nh3
import yaml
from markdown.extensions.codehilite import CodeHiliteExtension
from markdown.extensions.toc import TocExtension
from markdown.extensions.toc import slugify_unicode
from yaml.composer import Composer
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.reader import ReaderError
from yaml.resolver import Resolver
from yaml.scanner import Scanner

log = logging.getLogger(__name__)

#: Bump when rendering changes, so that every article is rendered (and indexed) again.
RENDER_VERSION = "3"

LANGUAGES = ("ru", "en")
AUDIENCES = ("public", "internal")
STATUSES = ("published", "draft", "archived")
KNOWN_KEYS = {
    "title", "summary", "lang", "tags", "keywords", "audience", "status", "owner",
    "reviewed", "review_every", "aliases", "translations", "source",
}
#: Bodies larger than this are refused: rendering cost must stay bounded.
MAX_BODY_BYTES = 512 * 1024
#: Deeper nesting of lists or quotes than this is refused (Markdown recursion).
MAX_NESTING = 40
#: Bounds on a YAML document (front matter or a settings file). The parser recurses once
#: per level of nesting, aliases let a few lines stand for millions of values, and Python
#: refuses to print an integer of 4,300 digits: beyond these, the file is refused.
MAX_YAML_DEPTH = 20
MAX_YAML_VALUES = 100_000
MAX_NUMBER_CHARS = 100
#: The editor offers 1 to 3650 days; a longer interval is a typo, not a plan.
MAX_REVIEW_DAYS = 3650

ID_SEGMENT = re.compile(r"[a-z0-9][a-z0-9_-]*")
CATEGORY_FILE = "_category.yml"
SYNONYMS_FILE = "_synonyms.yml"
BEST_BETS_FILE = "_best_bets.yml"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, reported as `path:line: message`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ArticleError(Exception):
    """A file that cannot become an article; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Heading:
    level: int
    anchor: str
    title: str


@dataclass(frozen=True)
class Section:
    """The part of an article under one H2/H3 heading."""

    anchor: str
    title: str
    level: int
    text: str


@dataclass
class Article:
    id: str
    title: str
    body: str
    lang: str
    category: str
    summary: str = ""
    tags: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    audience: str = "public"
    status: str = "published"
    owner: str | None = None
    reviewed: dt.date | None = None
    review_every: int | None = None
    aliases: list[str] = field(default_factory=list)
    translations: list[str] = field(default_factory=list)
    source: str | None = None
    digest: str = ""
    html: str = ""
    toc: list[Heading] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    text: str = ""

    @property
    def is_public(self) -> bool:
        return is_public(self.audience, self.status)

    @property
    def url(self) -> str:
        return f"/kb/{self.id}"


def is_public(audience: str, status: str) -> bool:
    """Shown to and found by anonymous visitors: public and published."""
    return audience == "public" and status == "published"


@dataclass
class Category:
    id: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    order: int = 1000
    digest: str = ""

    def title(self, lang: str) -> str:
        return _pick(self.titles, lang) or self.id.replace("-", " ").capitalize()

    def description(self, lang: str) -> str:
        return _pick(self.descriptions, lang)


def _pick(values: dict[str, str], lang: str) -> str:
    return values.get(lang) or next(iter(values.values()), "")


# --- finding files -------------------------------------------------------------------------

def article_id(root: Path, path: Path) -> str:
    """The id of the article at `path`: its path under `root` without `.md`."""
    return path.relative_to(root).with_suffix("").as_posix()


def is_valid_id(value: str) -> bool:
    """True for ids made of lowercase Latin segments (`billing/autopay`)."""
    if not value or len(value) > 200:
        return False
    return all(ID_SEGMENT.fullmatch(part) for part in value.split("/"))


def iter_article_files(root: Path) -> Iterator[Path]:
    """Every Markdown file under `root` that can be an article, in a stable order."""
    for path in sorted(root.rglob("*.md")):
        parts = path.relative_to(root).parts
        if any(p.startswith((".", "_")) for p in parts):
            continue
        yield path


def file_digest(data: bytes) -> str:
    """Identifies one version of a file as rendered by this version of the code."""
    return hashlib.sha1(RENDER_VERSION.encode() + b"\0" + data).hexdigest()


# --- reading one file safely ---------------------------------------------------------------

@contextlib.contextmanager
def reading(rel: str) -> Iterator[None]:
    """Turn any failure inside the block into an `ArticleError` of the file `rel`, logged."""
    try:
        yield
    except ArticleError:
        raise
    except Exception as exc:
        # Whatever one file makes the code below trip over (a bug, an odd byte, a file
        # gone since it was listed) is that file's problem: the other files go on.
        log.warning("%s could not be read", rel, exc_info=exc)
        raise ArticleError([Problem(rel, 1, f"could not be read: {type(exc).__name__}: "
                                            f"{_cut(str(exc))}")]) from exc


def _short(value: object) -> str:
    """A value as a problem message quotes it: text in quotes, on one line, cut short."""
    quoted = isinstance(value, str) or not isinstance(value, (int, float, dt.date))
    return _cut(repr(value) if quoted else str(value), 60)


def _cut(text: str, limit: int = 200) -> str:
    """One line of at most `limit` characters: a problem is one line of the output."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


@dataclass(frozen=True)
class YamlDocument:
    """What `read_yaml` read: the data, and the file lines where each top-level key and
    each item of a top-level list start."""

    data: object
    lines: dict = field(default_factory=dict)
    items: dict = field(default_factory=dict)


_INT_TAG = "tag:yaml.org,2002:int"
_MERGE_TAG = "tag:yaml.org,2002:merge"


try:
    from yaml._yaml import CParser as _EventParser
except ImportError:  # PyYAML built without libyaml: the same events, parsed in Python

    class _EventParser(Reader, Scanner, Parser):
        def __init__(self, text: str):
            Reader.__init__(self, text)
            Scanner.__init__(self)
            Parser.__init__(self)


class _BoundedLoader(Composer, _EventParser, SafeConstructor, Resolver):
    """PyYAML's safe loader (no Python objects) that refuses, at the node where they
    happen: nesting deeper than MAX_YAML_DEPTH (before the composer recurses into it),
    aliases that repeat more than MAX_YAML_VALUES values or refer to their own
    collection, numbers longer than MAX_NUMBER_CHARS, and keys given twice.

    libyaml parses the text into events when it is there (four times faster than
    PyYAML's Python parser); the nodes are composed in Python, where they can be bounded.
    """

    def __init__(self, text: str):
        _EventParser.__init__(self, text)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            target = self.anchors.get(event.anchor)
            if target is not None and not hasattr(target, "values"):
                raise ComposerError(
                    None, None, f"the alias *{event.anchor} is inside its own anchor",
                    event.start_mark)
            return super().compose_node(parent, index)
        if self._depth >= MAX_YAML_DEPTH:
            raise ComposerError(
                None, None, f"nested more than {MAX_YAML_DEPTH} levels deep", event.start_mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        # How many values the node stands for once its aliases are expanded.
        if isinstance(node, yaml.SequenceNode):
            node.values = 1 + sum(item.values for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            node.values = 1 + sum(key.values + value.values for key, value in node.value)
        else:
            node.values = 1
        if node.values > MAX_YAML_VALUES:
            raise ComposerError(
                None, None, f"stands for more than {MAX_YAML_VALUES} values (aliases "
                "repeat too much)", node.start_mark)
        return node

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, OverflowError, TypeError, ArithmeticError) as exc:
            # Dates and numbers that match YAML's patterns but are out of range
            # (9999-99-99, a time zone of +99:00) fail in Python's constructors.
            kind = "date" if node.tag.endswith("timestamp") else "value"
            raise ConstructorError(
                None, None, f"{_short(node.value)} is not a valid {kind} ({exc})",
                node.start_mark) from None

    def construct_bounded_int(self, node):
        if len(node.value) > MAX_NUMBER_CHARS:
            raise ConstructorError(
                None, None, f"a number longer than {MAX_NUMBER_CHARS} digits", node.start_mark)
        return self.construct_yaml_int(node)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key, _value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE_TAG:
                if (key.tag, key.value) in seen:
                    raise ConstructorError(
                        None, None, f"the key {_short(key.value)} is given twice",
                        key.start_mark)
                seen.add((key.tag, key.value))
        return super().construct_mapping(node, deep)


_BoundedLoader.add_constructor(_INT_TAG, _BoundedLoader.construct_bounded_int)


def read_yaml(rel: str, text: str, first_line: int = 1,
              label: str = "not valid YAML") -> YamlDocument:
    """Read one YAML document from the file `rel` whose text starts at `first_line`; any
    way it fails is an `ArticleError` with the line where it did."""
    loader = None
    try:
        loader = _BoundedLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
        return YamlDocument(data, *_top_level_lines(loader, node, first_line))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = first_line + (mark.line if mark is not None else 0)
        reason = exc.problem or exc.context
    except ReaderError as exc:
        line = first_line + text.count("\n", 0, exc.position)
        reason = (f"the character U+{exc.character:04X} is not allowed"
                  if isinstance(exc.character, int) else exc.reason)
    except Exception as exc:
        # Anything else the parser runs into (it is a large piece of code): still this
        # file's problem, at the last place the parser had reached.
        log.warning("%s: unexpected failure reading YAML", rel, exc_info=exc)
        mark = getattr(getattr(loader, "current_event", None), "start_mark", None)
        line = first_line + (mark.line if mark is not None else 0)
        reason = f"{type(exc).__name__}: {_cut(str(exc))}"
    finally:
        if loader is not None:
            loader.dispose()
    raise ArticleError([Problem(rel, line, f"{label}: {reason}")]) from None


def _top_level_lines(loader, node, first_line: int) -> tuple[dict, dict]:
    """The line of each top-level key, and of each item of each top-level list."""
    lines: dict = {}
    items: dict = {}
    if not isinstance(node, yaml.MappingNode):
        return lines, items
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            continue
        key = loader.construct_object(key_node)
        lines.setdefault(key, first_line + key_node.start_mark.line)
        if isinstance(value_node, yaml.SequenceNode):
            items.setdefault(key, [first_line + item.start_mark.line
                                   for item in value_node.value])
    return lines, items


@dataclass(frozen=True)
class FrontMatter:
    """An article file's text split: the front matter's keys, where each one is, the body."""

    meta: dict
    body: str
    lines: dict


#: A line of three or more dashes opens and closes the front matter.
_BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)


def read_front_matter(rel: str, text: str) -> FrontMatter:
    """The front matter (read with `read_yaml`) and the body of a file's text; a text that
    does not start with a `---` line has no front matter."""
    stripped = text.strip()
    opening = _BOUNDARY.match(stripped)
    closing = _BOUNDARY.search(stripped, opening.end()) if opening else None
    if closing is None:
        return FrontMatter({}, stripped, {})
    start = len(text) - len(text.lstrip()) + opening.end()
    first_line = text.count("\n", 0, start) + 1
    document = read_yaml(rel, stripped[opening.end():closing.start()], first_line,
                         "front matter is not valid YAML")
    if document.data is None:
        return FrontMatter({}, stripped[closing.end():].strip(), {})
    if not isinstance(document.data, dict):
        raise ArticleError([Problem(rel, first_line, "front matter must be a mapping of keys")])
    return FrontMatter(document.data, stripped[closing.end():].strip(), document.lines)


# --- parsing -------------------------------------------------------------------------------

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
    text = _utf8(rel, data).lstrip("\ufeff")
    front = read_front_matter(rel, text)
    meta, body, lines = front.meta, front.body, front.lines

    def bad(key: object, message: str) -> None:
        problems.append(Problem(rel, lines.get(key, 1), message))

    for key in sorted(set(meta) - KNOWN_KEYS, key=repr):
        bad(key, f"unknown front matter key {_short(key)}")

    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        bad("title", "title is missing or empty" if title in (None, "") else
            "title must be text")
        title = ""
    summary = _text(meta, "summary", bad)
    lang = meta.get("lang", default_lang)
    if lang not in LANGUAGES:
        bad("lang", f"lang must be one of {', '.join(LANGUAGES)}, not {_short(lang)}")
    audience = meta.get("audience", "public")
    if audience not in AUDIENCES:
        bad("audience", f"audience must be one of {', '.join(AUDIENCES)}, not "
                        f"{_short(audience)}")
    status = meta.get("status", "published")
    if status not in STATUSES:
        bad("status", f"status must be one of {', '.join(STATUSES)}, not {_short(status)}")
    tags = _text_list(meta, "tags", bad)
    keywords = _text_list(meta, "keywords", bad)
    aliases = _text_list(meta, "aliases", bad)
    translations = _text_list(meta, "translations", bad)
    for key, ids in (("aliases", aliases), ("translations", translations)):
        for value in ids:
            if not is_valid_id(value):
                bad(key, f"{key} entry {_short(value)} is not a valid article id")
    owner = _text(meta, "owner", bad) or None
    source = _text(meta, "source", bad) or None
    reviewed = meta.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, dt.date):
        bad("reviewed", "reviewed must be a date written as YYYY-MM-DD")
        reviewed = None
    if isinstance(reviewed, dt.datetime):
        reviewed = reviewed.date()
    review_every = meta.get("review_every")
    if review_every is not None and (
        isinstance(review_every, bool) or not isinstance(review_every, int)
        or not 1 <= review_every <= MAX_REVIEW_DAYS
    ):
        bad("review_every", f"review_every must be a whole number of days from 1 to "
                            f"{MAX_REVIEW_DAYS}")
        review_every = None
    if len(body.encode("utf-8")) > MAX_BODY_BYTES:
        problems.append(Problem(rel, 1, f"body is larger than {MAX_BODY_BYTES // 1024} KB"))
    depth, depth_line = _nesting_depth(body)
    if depth > MAX_NESTING:
        problems.append(Problem(rel, depth_line + len(text.splitlines()) - len(body.splitlines()),
                                f"lists or quotes nested {depth} deep (at most {MAX_NESTING})"))
    if problems:
        raise ArticleError(problems)

    article = Article(
        id=ident, title=title.strip(), body=body, lang=lang, category=_category_of(ident),
        summary=summary, tags=tags, keywords=keywords, audience=audience, status=status,
        owner=owner, reviewed=reviewed, review_every=review_every, aliases=aliases,
        translations=translations, source=source, digest=file_digest(data),
    )
    try:
        rendered = render_markdown(body)
    except RecursionError:
        raise ArticleError([Problem(rel, 1, "body is nested too deeply to render")]) from None
    article.html, article.toc, article.sections, article.text = rendered
    return article


def _utf8(rel: str, data: bytes) -> str:
    """The text of a file, or an `ArticleError` at the line of the first byte that is not
    UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ArticleError([Problem(rel, line, f"not UTF-8 text: {exc.reason}")]) from None


def _category_of(ident: str) -> str:
    return ident.split("/", 1)[0] if "/" in ident else ""


def _key_lines(text: str) -> dict[str, int]:
    """Line numbers of the top-level keys of the front matter."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if line.strip() == "---":
            break
        match = re.match(r"([A-Za-z_][\w-]*)\s*:", line)
        if match:
            lines.setdefault(match.group(1), number)
    return lines


def _text(meta: dict, key: str, bad) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        bad(key, f"{key} must be text")
        return ""
    return value.strip()


def _text_list(meta: dict, key: str, bad) -> list[str]:
    value = meta.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        value = [part for part in (p.strip() for p in value.split(",")) if part]
    if not isinstance(value, list) or not all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value
    ):
        bad(key, f"{key} must be a list of words or phrases")
        return []
    return [str(v).strip() for v in value if str(v).strip()]


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


# --- categories and synonyms --------------------------------------------------------------

def load_category(root: Path, name: str) -> Category:
    """The category folder `name`, with its `_category.yml` when there is one."""
    path = root / name / CATEGORY_FILE
    rel = path.relative_to(root).as_posix()
    with reading(rel):
        if not path.is_file():
            return Category(id=name, titles={}, descriptions={})
        data = path.read_bytes()
        return _category(name, rel, data)


def _category(name: str, rel: str, data: bytes) -> Category:
    document = _yaml_file(rel, data)
    meta = document.data
    if not isinstance(meta, dict):
        raise ArticleError([Problem(rel, 1, "must be a mapping with title, description, order")])
    problems = []
    titles = _localized(meta.get("title"))
    descriptions = _localized(meta.get("description"))
    if titles is None:
        problems.append(Problem(rel, document.lines.get("title", 1),
                                "title must be text or a mapping of language to text"))
    if descriptions is None:
        problems.append(Problem(rel, document.lines.get("description", 1),
                                "description must be text or a mapping of language to text"))
    order = meta.get("order", 1000)
    if isinstance(order, bool) or not isinstance(order, int):
        problems.append(Problem(rel, document.lines.get("order", 1), "order must be a whole "
                                                                      "number"))
    if problems:
        raise ArticleError(problems)
    return Category(id=name, titles=titles or {}, descriptions=descriptions or {}, order=order,
                    digest=file_digest(data))


def _yaml_file(rel: str, data: bytes) -> YamlDocument:
    """The YAML document in a settings file (empty: an empty mapping), or an `ArticleError`
    pointing at the broken line."""
    document = read_yaml(rel, _utf8(rel, data).lstrip("\ufeff"))
    return document if document.data else YamlDocument({})


def _localized(value) -> dict[str, str] | None:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"": value.strip()}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v.strip() for k, v in value.items()}
    return None


def load_synonyms(root: Path) -> list[list[str]]:
    """The expert-kept synonym groups from `articles/_synonyms.yml` (empty when absent)."""
    path = root / SYNONYMS_FILE
    rel = path.relative_to(root).as_posix()
    with reading(rel):
        if not path.is_file():
            return []
        meta = _yaml_file(rel, path.read_bytes()).data
        groups = meta.get("groups") if isinstance(meta, dict) else None
        if not isinstance(groups, list) or not all(
            isinstance(g, list) and all(isinstance(w, str) for w in g) for g in groups
        ):
            raise ArticleError([Problem(rel, 1, "expected 'groups:' with a list of lists of "
                                                "words")])
        return [[w.strip() for w in group if w.strip()] for group in groups if len(group) > 1]


@dataclass(frozen=True)
class BestBet:
    """Articles an expert pinned to the top of the results of one query."""

    query: str
    articles: tuple[str, ...]
    #: Where the bet starts in its file (0 when it was not read from one).
    line: int = field(default=0, compare=False)


def load_best_bets(root: Path) -> list[BestBet]:
    """The expert-pinned best bets from `articles/_best_bets.yml` (empty when absent)."""
    path = root / BEST_BETS_FILE
    rel = path.relative_to(root).as_posix()
    with reading(rel):
        if not path.is_file():
            return []
        return _best_bets(rel, path.read_bytes())


def _best_bets(rel: str, data: bytes) -> list[BestBet]:
    document = _yaml_file(rel, data)
    meta = document.data
    bets = (meta.get("bets") or []) if isinstance(meta, dict) else None
    if not isinstance(bets, list):
        raise ArticleError([Problem(rel, 1, "expected 'bets:' with a list of queries and "
                                            "their articles")])
    lines = document.items.get("bets", [])
    problems: list[Problem] = []
    found = []
    for number, item in enumerate(bets):
        line = lines[number] if number < len(lines) else 1
        messages = _best_bet_problems(item)
        problems.extend(Problem(rel, line, message) for message in messages)
        if not messages:
            articles = item["articles"]
            found.append(BestBet(str(item["query"]).strip(), tuple(
                [articles] if isinstance(articles, str) else articles), line))
    if problems:
        raise ArticleError(problems)
    return found


def _best_bet_problems(item) -> list[str]:
    if not isinstance(item, dict):
        return ["each bet must be a mapping with 'query' and 'articles'"]
    messages = [f"unknown key {_short(key)} in a bet"
                for key in sorted(set(map(str, item)) - {"query", "articles"})]
    query = item.get("query")
    if isinstance(query, bool) or not isinstance(query, (str, int, float)) or \
            not str(query).strip():
        messages.append("the bet has no query")
    articles = item.get("articles")
    articles = [articles] if isinstance(articles, str) else articles
    if not isinstance(articles, list) or not articles:
        messages.append("the bet names no articles: give a list of article ids")
    else:
        messages += [f"{_short(value)} is not a valid article id" for value in articles
                     if not isinstance(value, str) or not is_valid_id(value)]
    return messages


# --- the whole folder ----------------------------------------------------------------------

def check(root: Path, default_lang: str = "ru") -> list[Problem]:
    """Every problem in the knowledge base at `root`, file by file, then across files."""
    problems: list[Problem] = []
    articles: dict[str, Article] = {}
    for path in iter_article_files(root):
        try:
            article = load_article(root, path, default_lang)
        except ArticleError as exc:
            problems.extend(exc.problems)
        else:
            articles[article.id] = article
    for folder in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        try:
            load_category(root, folder.name)
        except ArticleError as exc:
            problems.extend(exc.problems)
    try:
        load_synonyms(root)
    except ArticleError as exc:
        problems.extend(exc.problems)
    try:
        bets = load_best_bets(root)
    except ArticleError as exc:
        problems.extend(exc.problems)
        bets = []
    problems.extend(_cross_problems(root, articles))
    problems.extend(_best_bet_targets(bets, articles))
    return problems


def _best_bet_targets(bets: list[BestBet], articles: dict[str, Article]) -> list[Problem]:
    """A best bet naming an article that does not exist (renamed, deleted or mistyped)."""
    return [Problem(BEST_BETS_FILE, bet.line, f"best bet {bet.query!r} names article "
                                              f"{target!r}, which does not exist")
            for bet in bets for target in bet.articles if target not in articles]


def _cross_problems(root: Path, articles: dict[str, Article]) -> list[Problem]:
    problems = []
    alias_owner: dict[str, str] = {}
    # A translation may name an article by an old id (it moved since): that still counts.
    moved = {alias: a.id for a in articles.values() for alias in a.aliases}
    for article in articles.values():
        rel = f"{article.id}.md"
        text = (root / rel).read_text("utf-8")
        lines = _key_lines(text)
        for target in article.translations:
            target = target if target in articles else moved.get(target, target)
            if target not in articles:
                problems.append(Problem(rel, lines.get("translations", 1),
                                        f"translation {target!r} does not exist"))
            elif articles[target].lang == article.lang:
                problems.append(Problem(rel, lines.get("translations", 1),
                                        f"translation {target!r} is in the same language"))
        for alias in article.aliases:
            if alias in articles:
                problems.append(Problem(rel, lines.get("aliases", 1),
                                        f"alias {alias!r} is the id of an existing article"))
            elif alias in alias_owner:
                problems.append(Problem(rel, lines.get("aliases", 1),
                                        f"alias {alias!r} is also claimed by "
                                        f"{alias_owner[alias]!r}"))
            else:
                alias_owner[alias] = article.id
    return problems


# --- rendering -----------------------------------------------------------------------------

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "s", "samp", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_URL_ATTRIBUTES = {"href", "src"}
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")


def _check_url(_tag: str, attribute: str, value: str) -> str | None:
    """Drop URLs whose scheme is not allowed once the characters browsers ignore are gone.

    Browsers remove tabs and newlines inside URLs, so "jav&#9;ascript:" is "javascript:".
    """
    if attribute not in _URL_ATTRIBUTES:
        return value
    compact = "".join(c for c in value if c > " " and c != "\x7f").lower()
    match = _SCHEME.match(compact)
    if match and match.group(1) not in URL_SCHEMES:
        return None
    return value


def sanitize(html: str) -> str:
    """Keep only allow-listed tags, attributes and URL schemes; drop everything else."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
        attribute_filter=_check_url,
    )


def _markdown() -> markdown.Markdown:
    return markdown.Markdown(
        extensions=[
            TocExtension(slugify=slugify_unicode, toc_depth="2-4", permalink=False),
            "tables",
            "fenced_code",
            CodeHiliteExtension(guess_lang=False, css_class="highlight", wrapcode=False),
            "admonition",
            "sane_lists",
            "def_list",
        ],
        output_format="html",
    )


def render_markdown(body: str) -> tuple[str, list[Heading], list[Section], str]:
    """Render a body to sanitized HTML; return it with its headings, sections and text."""
    md = _markdown()
    html = sanitize(md.convert(body))
    toc = [Heading(level, anchor, title) for level, anchor, title in _flatten(md.toc_tokens)]
    sections, text = _split_sections(html)
    return html, toc, sections, text


def _flatten(tokens: list[dict]) -> Iterator[tuple[int, str, str]]:
    for token in tokens:
        yield token["level"], token["id"], _strip_tags(token["name"])
        yield from _flatten(token.get("children", []))


def _strip_tags(fragment: str) -> str:
    collector = _TextCollector()
    collector.feed(fragment)
    collector.close()
    return " ".join("".join(collector.parts).split())


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


class _SectionSplitter(HTMLParser):
    """Splits rendered HTML into plain-text sections at each h2/h3 with an id."""

    BLOCKS = {"p", "li", "pre", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "div", "dt", "dd",
              "blockquote", "br", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections: list[list] = [["", "", 0, []]]
        self.heading: list | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3"):
            anchor = dict(attrs).get("id") or ""
            self.heading = [anchor, [], int(tag[1])]
        if tag in self.BLOCKS:
            self.sections[-1][3].append("\n")

    def handle_endtag(self, tag):
        if tag in ("h2", "h3") and self.heading is not None:
            anchor, parts, level = self.heading
            title = " ".join("".join(parts).split())
            self.sections.append([anchor, title, level, []])
            self.heading = None
        elif tag in self.BLOCKS:
            self.sections[-1][3].append("\n")

    def handle_data(self, data):
        if self.heading is not None:
            self.heading[1].append(data)
        else:
            self.sections[-1][3].append(data)


def _clean_text(parts: list[str]) -> str:
    lines = ("".join(parts)).splitlines()
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def _split_sections(html: str) -> tuple[list[Section], str]:
    splitter = _SectionSplitter()
    splitter.feed(html)
    splitter.close()
    sections, texts = [], []
    for anchor, title, level, parts in splitter.sections:
        text = _clean_text(parts)
        texts.append("\n".join(filter(None, [title, text])))
        if anchor:
            sections.append(Section(anchor=anchor, title=title, level=level, text=text))
    return sections, "\n".join(t for t in texts if t)


# --- writing -------------------------------------------------------------------------------

def dump_front_matter(meta: dict) -> str:
    """Front matter as YAML between `---` lines, keys in a readable order."""
    order = ["title", "summary", "lang", "tags", "keywords", "audience", "status",
             "owner", "reviewed", "review_every", "aliases", "translations", "source"]
    ordered = {k: meta[k] for k in order if meta.get(k) not in (None, "", [])}
    ordered.update({k: v for k, v in meta.items() if k not in ordered and v not in (None, "", [])})
    # As people write it by hand: lists of words in flow style (`tags: [a, b]`), and no
    # long line folded, so that a save changes only the lines that really changed.
    text = yaml.safe_dump(ordered, allow_unicode=True, sort_keys=False, width=1_000_000,
                          default_flow_style=None)
    return f"---\n{text}---\n"


def compose_file(meta: dict, body: str, blank_line: bool = True) -> str:
    """The text of an article file: front matter, a blank line (unless the file being
    rewritten had none), the body as written."""
    if body and not body.endswith("\n"):
        body += "\n"
    return dump_front_matter(meta) + ("\n" if blank_line else "") + body


def blank_after_front(text: str) -> bool:
    """Whether the file puts a blank line between its front matter and its body (a file
    without front matter counts as one that does: that is how this code writes them)."""
    front, _body = split_file(text)
    if front is None:
        return True
    rest = text.lstrip("\ufeff")[4 + len(front):]
    return rest.partition("\n")[2].startswith("\n")


def split_file(text: str) -> tuple[str | None, str]:
    """The front matter's YAML (None when there is none) and the body exactly as written,
    without the one blank line `compose_file` puts after the front matter."""
    text = text.lstrip("\ufeff")
    if not text.startswith("---\n"):
        return None, text
    end = re.search(r"^---[ \t]*$\n?", text[4:], re.MULTILINE)
    if end is None:
        return None, text
    front, body = text[4:4 + end.start()], text[4 + end.end():]
    return front, body[1:] if body.startswith("\n") else body


def content_hash(data: bytes) -> str:
    """sha256 of a file's bytes: names one version of it in revisions and in the editor."""
    return hashlib.sha256(data).hexdigest()


def write_file_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old or the new file, never half of one,
    and the new one is on disk when this returns (even if the machine stops right after)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name of its own (hidden: never taken for an article), in the same folder
    # so that the rename cannot cross file systems.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename or removal in `folder` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
