"""Front matter: where it is in a file, the bounded YAML reader, the rules for its keys.

`split_front_matter` is the one place that decides where a file's front matter starts and
ends; the site's parser, the editor and the importer all cut files with it, so that they
never disagree about which lines are the front matter.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import TypedDict

import yaml
from yaml.composer import Composer
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.constructor import SafeConstructor
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.reader import ReaderError
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from .model import AUDIENCES
from .model import LANGUAGES
from .model import STATUSES
from .model import ArticleError
from .model import Problem
from .model import is_valid_id
from .model import one_line
from .model import quoted

log = logging.getLogger(__name__)

#: The keys an article's front matter may have, in the order they are written back.
KEY_ORDER = ["title", "summary", "lang", "tags", "keywords", "audience", "status",
             "owner", "reviewed", "review_every", "aliases", "translations", "source"]
KNOWN_KEYS = set(KEY_ORDER)
#: Bounds on a YAML document (front matter or a settings file). The parser recurses once
#: per level of nesting, aliases let a few lines stand for millions of values, and Python
#: refuses to print an integer of 4,300 digits: beyond these, the file is refused.
MAX_YAML_DEPTH = 20
MAX_YAML_VALUES = 100_000
MAX_NUMBER_CHARS = 100
#: The editor offers 1 to 3650 days; a longer interval is a typo, not a plan.
MAX_REVIEW_DAYS = 3650


# --- the bounded YAML reader -----------------------------------------------------------------

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
                None, None, f"{quoted(node.value)} is not a valid {kind} ({exc})",
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
                        None, None, f"the key {quoted(key.value)} is given twice",
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
        reason = f"{type(exc).__name__}: {one_line(str(exc))}"
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


# --- where the front matter is -----------------------------------------------------------------

#: A line of three or more dashes, and nothing after them but blank space.
_BOUNDARY = re.compile(r"^-{3,}[^\S\n]*$", re.MULTILINE)
#: Whole lines of blank space.
_BLANK_LINES = re.compile(r"(?:[^\S\n]*\n)*")


@dataclass(frozen=True)
class SplitText:
    """A file's text cut at its front matter: the lines between the boundary lines (None
    when there is no front matter), the line of the file they start on, and the text after
    the closing line (all of the text when there is no front matter), both exactly as
    written."""

    front: str | None
    first_line: int
    body: str


def split_front_matter(text: str) -> SplitText:
    """Cut a file's text at its front matter: a line of dashes, first in the text after a
    byte order mark and blank space, up to the next such line. Without the closing line
    there is no front matter."""
    text = text.lstrip("\ufeff")
    stripped = text.lstrip()
    opening = _BOUNDARY.match(stripped)
    # The opening line ends at a newline (or at the end of the text: nothing can follow).
    start = opening.end() + 1 if opening else len(stripped) + 1
    closing = _BOUNDARY.search(stripped, start) if start <= len(stripped) else None
    if closing is None:
        return SplitText(None, 1, text)
    first_line = text.count("\n", 0, len(text) - len(stripped) + start) + 1
    return SplitText(stripped[start:closing.start()], first_line, stripped[closing.end() + 1:])


def split_file(text: str) -> tuple[str | None, str]:
    """The front matter's YAML (None when there is none) and the body exactly as written,
    without the one blank line `compose_file` puts after the front matter."""
    split = split_front_matter(text)
    if split.front is not None and split.body.startswith("\n"):
        return split.front, split.body[1:]
    return split.front, split.body


def blank_after_front(text: str) -> bool:
    """Whether the file puts a blank line between its front matter and its body (a file
    without front matter counts as one that does: that is how this code writes them)."""
    split = split_front_matter(text)
    return split.front is None or split.body.startswith("\n")


@dataclass(frozen=True)
class FrontMatter:
    """An article file's text split: the front matter's keys, where each one is, the body."""

    meta: dict
    body: str
    lines: dict


def read_front_matter(rel: str, text: str) -> FrontMatter:
    """The front matter (read with `read_yaml`) and the body, stripped, of a file's text; a
    text that does not start with a `---` line has no front matter."""
    split = split_front_matter(text)
    body = split.body.strip()
    if split.front is None:
        return FrontMatter({}, body, {})
    # Blank lines at the top are not YAML (one of tabs would be an error). The YAML is
    # read from the line break before its first line, where the reader always started.
    match = _BLANK_LINES.match(split.front)
    blank = match.end() if match else 0
    line = split.first_line + split.front.count("\n", 0, blank) - 1
    document = read_yaml(rel, "\n" + split.front[blank:], line, "front matter is not valid YAML")
    if document.data is None:
        return FrontMatter({}, body, {})
    if not isinstance(document.data, dict):
        raise ArticleError([Problem(rel, line, "front matter must be a mapping of keys")])
    return FrontMatter(document.data, body, document.lines)


class _FrontMatterDumper(yaml.SafeDumper):
    """YAML as people write front matter by hand: one key a line (block style), a list of
    words on its key's line (`tags: [a, b]`), anything nested in blocks."""


def _represent_list(dumper: yaml.SafeDumper, items: list) -> yaml.SequenceNode:
    words = all(isinstance(item, (str, int, float, bool, dt.date)) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=words)


_FrontMatterDumper.add_representer(list, _represent_list)


def dump_front_matter(meta: dict) -> str:
    """Front matter as YAML between `---` lines, keys in a readable order, one a line.

    Every writer of article files (the editor's saves, the importer) comes through here."""
    ordered = {k: meta[k] for k in KEY_ORDER if meta.get(k) not in (None, "", [])}
    ordered.update({k: v for k, v in meta.items() if k not in ordered and v not in (None, "", [])})
    # No long line folded, so that a save changes only the lines that really changed.
    text = yaml.dump(ordered, Dumper=_FrontMatterDumper, allow_unicode=True, sort_keys=False,
                     width=1_000_000, default_flow_style=False)
    return f"---\n{text}---\n"


# --- the rules for each key ----------------------------------------------------------------------

class ArticleFields(TypedDict):
    """The fields of an `Article` that its front matter gives."""

    title: str
    summary: str
    lang: str
    tags: list[str]
    keywords: list[str]
    audience: str
    status: str
    owner: str | None
    reviewed: dt.date | None
    review_every: int | None
    aliases: list[str]
    translations: list[str]
    source: str | None


#: Reports a problem at the line of a key.
Complaint = Callable[[object, str], None]


def article_fields(rel: str, front: FrontMatter,
                   default_lang: str) -> tuple[ArticleFields, list[Problem]]:
    """The article's fields from its front matter (by `Article`'s names), and every problem
    with them at the line of its key; a wrong value is left at its default."""
    meta, lines = front.meta, front.lines
    problems: list[Problem] = []

    def bad(key: object, message: str) -> None:
        problems.append(Problem(rel, lines.get(key, 1), message))

    for key in sorted(set(meta) - KNOWN_KEYS, key=repr):
        bad(key, f"unknown front matter key {quoted(key)}")

    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        bad("title", "title is missing or empty" if title in (None, "") else
            "title must be text")
        title = ""
    summary = _text(meta, "summary", bad)
    lang = meta.get("lang", default_lang)
    if lang not in LANGUAGES:
        bad("lang", f"lang must be one of {', '.join(LANGUAGES)}, not {quoted(lang)}")
    audience = meta.get("audience", "public")
    if audience not in AUDIENCES:
        bad("audience", f"audience must be one of {', '.join(AUDIENCES)}, not "
                        f"{quoted(audience)}")
    status = meta.get("status", "published")
    if status not in STATUSES:
        bad("status", f"status must be one of {', '.join(STATUSES)}, not {quoted(status)}")
    tags = _text_list(meta, "tags", bad)
    keywords = _text_list(meta, "keywords", bad)
    aliases = _text_list(meta, "aliases", bad)
    translations = _text_list(meta, "translations", bad)
    for key, ids in (("aliases", aliases), ("translations", translations)):
        for value in ids:
            if not is_valid_id(value):
                bad(key, f"{key} entry {quoted(value)} is not a valid article id")
    owner = _text(meta, "owner", bad) or None
    source = _text(meta, "source", bad) or None
    reviewed = _reviewed(meta, bad)
    review_every = meta.get("review_every")
    if review_every is not None and (
        isinstance(review_every, bool) or not isinstance(review_every, int)
        or not 1 <= review_every <= MAX_REVIEW_DAYS
    ):
        bad("review_every", f"review_every must be a whole number of days from 1 to "
                            f"{MAX_REVIEW_DAYS}")
        review_every = None
    fields = ArticleFields(
        title=title.strip(), summary=summary, lang=lang, tags=tags, keywords=keywords,
        audience=audience, status=status, owner=owner, reviewed=reviewed,
        review_every=review_every, aliases=aliases, translations=translations, source=source,
    )
    return fields, problems


def _reviewed(meta: dict, bad: Complaint) -> dt.date | None:
    reviewed = meta.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, dt.date):
        bad("reviewed", "reviewed must be a date written as YYYY-MM-DD")
        return None
    if isinstance(reviewed, dt.datetime):
        return reviewed.date()
    return reviewed


def _text(meta: dict, key: str, bad: Complaint) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        bad(key, f"{key} must be text")
        return ""
    return value.strip()


def _text_list(meta: dict, key: str, bad: Complaint) -> list[str]:
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
