"""Search terms: the synonym groups and best bets experts keep beside the articles.

`articles/_synonyms.yml` and `articles/_best_bets.yml` are edited in the expert console.
This module reads them with the version of each file, checks what an expert typed, writes
a file under the editor lock when it is still the version the form was loaded from, and
then updates the index's setting entries, so that every process searches with it at once.
It knows no request: problems are codes with values, which the views put in words.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Generic
from typing import TypeVar

import yaml

from .. import articles as articles_mod
from ..articles import ArticleError
from ..articles import BestBet
from ..articles import Problem
from ..search import ArticleInfo
from ..search import SearchIndex
from ..search import all_relations
from ..search import has_words
from ..search import normalized_form
from . import publishing
from .lock import editor_lock

#: Bounds on what an expert may keep: search reads 200 characters of a query, a results
#: page shows ten articles, and a synonym is a word or a short phrase.
MAX_ENTRY_CHARS = 100
MAX_GROUP_ENTRIES = 20
MAX_GROUPS = 1000
MAX_QUERY_CHARS = 200
MAX_BET_ARTICLES = 5
MAX_BETS = 1000

SYNONYMS_HEADER = """\
# Synonym groups: words and phrases customers use for the same thing. Every entry of a
# group finds what any other entry finds. Edited by the experts at /expert/search-terms.
"""
BEST_BETS_HEADER = """\
# Best bets: articles pinned to the top of the search results for a query. A search
# matches a bet when it has the same words (their form, order and ё/е do not matter).
# Edited by the experts at /expert/search-terms.
"""

RELATIONS_HEADER = """\
# Relations search mined from the articles (abbreviations, translations, keywords, word
# families) that experts switched off: search no longer uses them. Switched on and off by
# the experts at /expert/search-terms, which lists them all.
"""
#: A relation key is a kind and some stems; the list is bounded like the other files.
MAX_RELATION_KEY_CHARS = 400
MAX_RELATIONS_OFF = 10_000

_QUOTED = re.compile(r'"((?:[^"]|"")*)"\s*(?=,|\Z)')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ID_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass
class TermProblem:
    """One thing wrong with what was typed: its line or row (from 0), field and code."""

    row: int
    field: str
    code: str
    # dataclasses.field: the name `field` is this class's own attribute above.
    values: dict[str, object] = dataclasses.field(default_factory=dict)


class TermsError(Exception):
    """Search terms that were not saved."""


class InvalidTerms(TermsError):
    """What was typed breaks the rules; `problems` says where and how."""

    def __init__(self, problems: list[TermProblem]):
        super().__init__(", ".join(f"{p.row}:{p.field}:{p.code}" for p in problems))
        self.problems = problems


class StaleTerms(TermsError):
    """The file changed after the form was loaded: another expert saved first."""

    def __init__(self, current: TermsFile[list[str]] | TermsFile[BestBet]):
        super().__init__("the file changed since the form was loaded")
        self.current = current


#: What a terms file holds a list of: a synonym group (list[str]) or a BestBet.
_Item = TypeVar("_Item")


@dataclass
class TermsFile(Generic[_Item]):
    """The synonym groups or best bets of one file, its version, and what is wrong in it."""

    items: list[_Item]
    version: str
    problems: list[Problem] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------

def file_version(path: Path) -> str:
    """Identifies the current content of a file ("none" when there is none)."""
    try:
        return articles_mod.content_hash(path.read_bytes())[:20]
    except FileNotFoundError:
        return "none"


def read_synonyms(root: Path) -> TermsFile[list[str]]:
    """The synonym groups as the file holds them now."""
    # The version first: a form must never carry a newer version than the text it shows.
    version = file_version(root / articles_mod.SYNONYMS_FILE)
    try:
        return TermsFile(articles_mod.load_synonyms(root), version)
    except ArticleError as error:
        return TermsFile([], version, error.problems)


def read_best_bets(root: Path) -> TermsFile[BestBet]:
    """The best bets as the file holds them now."""
    version = file_version(root / articles_mod.BEST_BETS_FILE)
    try:
        return TermsFile(articles_mod.load_best_bets(root), version)
    except ArticleError as error:
        return TermsFile([], version, error.problems)


def article_states(index: SearchIndex, ids: Iterable[str]) -> dict[str, str]:
    """For each id: "published", "internal", "draft", "archived" or "missing"."""
    catalog = index.catalog()
    states = {}
    for article_id in ids:
        info = catalog.get(article_id)
        if info is None:
            states[article_id] = "missing"
        elif info.status != "published":
            states[article_id] = info.status
        else:
            states[article_id] = "internal" if info.audience == "internal" else "published"
    return states


# --- the friendly form of synonyms ---------------------------------------------------------

def synonyms_text(groups: Sequence[Sequence[str]]) -> str:
    """One group per line, entries separated by commas ("quoted" when they hold one)."""
    return "".join(", ".join(_quoted(entry) for entry in group) + "\n" for group in groups)


def _quoted(entry: str) -> str:
    if "," in entry or entry.startswith('"'):
        return '"' + entry.replace('"', '""') + '"'
    return entry


def split_entries(line: str) -> list[str] | None:
    """The entries of one line of groups; None when a quoted entry is not closed."""
    entries: list[str] = []
    pos, size = 0, len(line)
    while True:
        while pos < size and line[pos].isspace():
            pos += 1
        if pos < size and line[pos] == '"':
            match = _QUOTED.match(line, pos)
            if match is None:
                return None
            entries.append(match.group(1).replace('""', '"').strip())
            pos = match.end()
        else:
            end = line.find(",", pos)
            end = size if end < 0 else end
            entries.append(line[pos:end].strip())
            pos = end
        if pos >= size:
            return [entry for entry in entries if entry]
        pos += 1  # the comma


def article_ids(text: str) -> list[str]:
    """Article ids typed or pasted: separated by commas or spaces; `/kb/...` links too."""
    found = []
    for part in _ID_SEPARATORS.split(text or ""):
        if "/kb/" in part:
            part = part.split("/kb/", 1)[1]
        part = part.split("#", 1)[0].split("?", 1)[0].strip("/")
        if part:
            found.append(part)
    return found


# --- checking ------------------------------------------------------------------------------

def check_synonyms(text: str) -> list[list[str]]:
    """The groups typed as `synonyms_text` writes them; `InvalidTerms` when any is wrong."""
    problems: list[TermProblem] = []
    groups: list[list[str]] = []
    seen: dict[str, int] = {}
    for row, line in enumerate(_LINE_BREAK.split(text or "")):
        if not line.strip():
            continue
        entries = split_entries(line)
        if entries is None:
            problems.append(TermProblem(row, "groups", "unclosed_quote"))
            continue
        found = _group_problems(row, entries, seen)
        problems.extend(found)
        if not found:
            groups.append(entries)
    if len(groups) > MAX_GROUPS:
        problems.append(TermProblem(-1, "groups", "too_many_groups", {"max": MAX_GROUPS}))
    if problems:
        raise InvalidTerms(problems)
    return groups


def _group_problems(row: int, entries: list[str], seen: dict[str, int]) -> list[TermProblem]:
    """What is wrong with one group; `seen` holds the forms of earlier groups' entries."""
    def problem(code: str, **values: object) -> None:
        found.append(TermProblem(row, "groups", code, values))

    found: list[TermProblem] = []
    if len(entries) < 2:
        problem("too_few_entries")
    elif len(entries) > MAX_GROUP_ENTRIES:
        problem("too_many_entries", max=MAX_GROUP_ENTRIES)
    mine: dict[str, str] = {}
    for entry in entries:
        if code := _text_problem(entry, MAX_ENTRY_CHARS):
            problem(code, entry=entry, max=MAX_ENTRY_CHARS)
            continue
        form = normalized_form(entry)
        if form in mine:
            problem("duplicate_entry", entry=entry, other=mine[form])
        elif form in seen:
            problem("entry_in_other_group", entry=entry, line=seen[form] + 1)
        mine.setdefault(form, entry)
    if not found:
        seen.update({form: row for form in mine})
    return found


def _text_problem(text: str, limit: int) -> str | None:
    """What makes a synonym or a query unusable, as a code; None when it is fine."""
    if len(text) > limit:
        return "too_long"
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in text):
        return "control_characters"
    if not has_words(text):
        return "no_words"
    return None


def check_best_bets(index: SearchIndex,
                    rows: Sequence[tuple[str, Sequence[str]]]) -> list[BestBet]:
    """Best bets from (query, article ids) rows; `InvalidTerms` when any row is wrong.

    Each article must be published (internal ones are pinned for staff searches only).
    """
    catalog = index.catalog()
    problems: list[TermProblem] = []
    bets: list[BestBet] = []
    seen: dict[str, str] = {}
    for row, (query, ids) in enumerate(rows):
        query = (query or "").strip()
        found = _query_problems(row, query, seen) + _article_problems(row, ids, catalog)
        problems.extend(found)
        if not found:
            bets.append(BestBet(query, tuple(ids)))
    if len(bets) > MAX_BETS:
        problems.append(TermProblem(-1, "bets", "too_many_bets", {"max": MAX_BETS}))
    if problems:
        raise InvalidTerms(problems)
    return bets


def _query_problems(row: int, query: str, seen: dict[str, str]) -> list[TermProblem]:
    if not query:
        return [TermProblem(row, "query", "no_query")]
    if code := _text_problem(query, MAX_QUERY_CHARS):
        return [TermProblem(row, "query", code, {"max": MAX_QUERY_CHARS})]
    form = normalized_form(query)
    if form in seen:
        return [TermProblem(row, "query", "duplicate_query", {"other": seen[form]})]
    seen[form] = query
    return []


def _article_problems(row: int, ids: Sequence[str],
                      catalog: dict[str, ArticleInfo]) -> list[TermProblem]:
    def problem(code: str, **values: object) -> None:
        found.append(TermProblem(row, "articles", code, values))

    found: list[TermProblem] = []
    if not ids:
        problem("no_articles")
    elif len(ids) > MAX_BET_ARTICLES:
        problem("too_many_articles", max=MAX_BET_ARTICLES)
    for number, article_id in enumerate(ids):
        info = catalog.get(article_id) if articles_mod.is_valid_id(article_id) else None
        if info is None:
            problem("unknown_article", id=article_id)
        elif article_id in ids[:number]:
            problem("duplicate_article", id=article_id)
        elif info.status != "published":
            problem("unpublished_article", id=article_id, status=info.status)
    return found


# --- saving --------------------------------------------------------------------------------

def save_synonyms(root: Path, index: SearchIndex, text: str, version: str) -> list[list[str]]:
    """Replace the synonym groups with those typed, if the file is still at `version`."""
    groups = check_synonyms(text)
    content = _document(SYNONYMS_HEADER, "groups", groups, lambda data: data == groups)
    with editor_lock(root), publishing.publishing(root, index) as publication:
        if file_version(root / articles_mod.SYNONYMS_FILE) != version:
            raise StaleTerms(read_synonyms(root))
        _write(root, index, articles_mod.SYNONYMS_FILE, content, publication)
    return groups


def save_best_bets(root: Path, index: SearchIndex, rows: Sequence[tuple[str, Sequence[str]]],
                   version: str) -> list[BestBet]:
    """Replace the best bets with those typed, if the file is still at `version`."""
    bets = check_best_bets(index, rows)
    content = _bets_document(bets)
    with editor_lock(root), publishing.publishing(root, index) as publication:
        if file_version(root / articles_mod.BEST_BETS_FILE) != version:
            raise StaleTerms(read_best_bets(root))
        _write(root, index, articles_mod.BEST_BETS_FILE, content, publication)
    return bets


def add_best_bet(root: Path, index: SearchIndex, query: str,
                 article_ids: Sequence[str]) -> BestBet:
    """Pin articles to a query (the gaps page: "this article answers this search").

    A bet for the same query (same words in any form or order) gains the articles;
    otherwise a new bet is added at the end. Returns the bet as saved.
    """
    new = check_best_bets(index, [(query, list(dict.fromkeys(article_ids)))])[0]
    with editor_lock(root), publishing.publishing(root, index) as publication:
        current = read_best_bets(root)
        if current.problems:
            raise InvalidTerms([TermProblem(-1, "bets", "broken_file",
                                            {"problem": str(current.problems[0])})])
        bets, saved = _merged(current.items, new)
        content = _bets_document(bets)
        _write(root, index, articles_mod.BEST_BETS_FILE, content, publication)
    return saved


def read_relations_off(root: Path) -> TermsFile[str]:
    """The keys of the relations experts switched off, with the file's version."""
    path = root / articles_mod.RELATIONS_FILE
    try:
        keys = articles_mod.load_relations_off(root)
        problems: list[Problem] = []
    except ArticleError as error:
        keys, problems = [], error.problems
    return TermsFile(keys, file_version(path), problems)


def switch_relation(root: Path, index: SearchIndex, key: str, on: bool) -> bool:
    """Switch a mined relation off (`on` false) or back on; False when switching off a
    `key` that names no relation search knows. Switching on one that is on does nothing."""
    if not key or len(key) > MAX_RELATION_KEY_CHARS:
        return False
    with editor_lock(root), publishing.publishing(root, index) as publication:
        current = read_relations_off(root).items
        if on:
            if key not in current:
                return True  # on already (switched on twice, or never off)
            keys = [k for k in current if k != key]
        else:
            if key in current:
                return True
            if key not in {r.key for r in all_relations(index)}:
                return False
            if len(current) >= MAX_RELATIONS_OFF:
                raise InvalidTerms([TermProblem(-1, "off", "too_many_relations",
                                                {"max": MAX_RELATIONS_OFF})])
            keys = [*current, key]
        content = _document(RELATIONS_HEADER, "off", keys, lambda data: data == keys)
        _write(root, index, articles_mod.RELATIONS_FILE, content, publication)
    return True


def _merged(bets: list[BestBet], new: BestBet) -> tuple[list[BestBet], BestBet]:
    """`bets` with `new` added to the bet of its query, or appended; and that bet."""
    form = normalized_form(new.query)
    for number, bet in enumerate(bets):
        if normalized_form(bet.query) == form:
            ids = tuple(dict.fromkeys(bet.articles + new.articles))
            if len(ids) > MAX_BET_ARTICLES:
                raise InvalidTerms([TermProblem(0, "articles", "too_many_articles",
                                                {"max": MAX_BET_ARTICLES})])
            merged = BestBet(bet.query, ids)
            return bets[:number] + [merged] + bets[number + 1:], merged
    if len(bets) >= MAX_BETS:
        raise InvalidTerms([TermProblem(-1, "bets", "too_many_bets", {"max": MAX_BETS})])
    return bets + [new], new


def _bets_document(bets: list[BestBet]) -> str:
    plain = [{"query": bet.query, "articles": list(bet.articles)} for bet in bets]
    return _document(BEST_BETS_HEADER, "bets", plain, lambda data: data == plain)


def _document(header: str, key: str, items: Sequence[object],
              same: Callable[[object], bool]) -> str:
    """The file's text; `InvalidTerms` if reading it back would not give `items` exactly."""
    body = yaml.safe_dump({key: items}, allow_unicode=True, sort_keys=False,
                          default_flow_style=None, width=1_000_000)
    try:
        data = articles_mod.read_yaml(key, body).data
    except ArticleError:
        data = None
    if not isinstance(data, dict) or not same(data.get(key)):
        raise InvalidTerms([TermProblem(-1, key, "not_storable")])
    return header + body


def _write(root: Path, index: SearchIndex, name: str, content: str,
           publication: publishing.Publication) -> None:
    """Replace the file (the caller holds the editor lock), then the index's entries, then
    commit it when the folder is shared."""
    articles_mod.write_file_atomic(root / name, content)
    index.update_search_terms()
    publication.commit([name], None, f"Update {name}\n")
