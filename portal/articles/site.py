"""The site's settings files beside the articles: a category's `_category.yml`, and the
experts' `_synonyms.yml` and `_best_bets.yml`. Each is read with the bounded YAML reader and
refused, with the line of each problem, when it does not say what it should."""

from __future__ import annotations

from pathlib import Path

from .files import decode_utf8
from .files import file_digest
from .files import reading
from .meta import YamlDocument
from .meta import read_yaml
from .model import ArticleError
from .model import BestBet
from .model import Category
from .model import Problem
from .model import is_valid_id
from .model import quoted

CATEGORY_FILE = "_category.yml"
SYNONYMS_FILE = "_synonyms.yml"
BEST_BETS_FILE = "_best_bets.yml"
#: The mined search relations experts switched off (see `portal.search.relations`).
RELATIONS_FILE = "_relations.yml"


def _yaml_file(rel: str, data: bytes) -> YamlDocument:
    """The YAML document in a settings file (empty: an empty mapping), or an `ArticleError`
    pointing at the broken line."""
    document = read_yaml(rel, decode_utf8(rel, data).lstrip("\ufeff"))
    return document if document.data else YamlDocument({})


# --- categories ------------------------------------------------------------------------------

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


def _localized(value) -> dict[str, str] | None:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"": value.strip()}
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v.strip() for k, v in value.items()}
    return None


# --- synonyms --------------------------------------------------------------------------------

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


def load_relations_off(root: Path) -> list[str]:
    """The keys of the mined relations experts switched off, from `articles/_relations.yml`."""
    path = root / RELATIONS_FILE
    rel = path.relative_to(root).as_posix()
    with reading(rel):
        if not path.is_file():
            return []
        meta = _yaml_file(rel, path.read_bytes()).data
        off = (meta.get("off") or []) if isinstance(meta, dict) else None
        if not isinstance(off, list) or not all(isinstance(k, str) for k in off):
            raise ArticleError([Problem(rel, 1, "expected 'off:' with a list of relation keys")])
        return list(dict.fromkeys(k.strip() for k in off if k.strip()))


# --- best bets -------------------------------------------------------------------------------

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
    messages = [f"unknown key {quoted(key)} in a bet"
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
        messages += [f"{quoted(value)} is not a valid article id" for value in articles
                     if not isinstance(value, str) or not is_valid_id(value)]
    return messages
