"""The whole knowledge-base folder checked at once: each file, then the rules across files
(translations, aliases, best bets naming articles that exist)."""

from __future__ import annotations

import hashlib
import json
import logging
from functools import lru_cache
from pathlib import Path

from .files import folder_fingerprint
from .files import iter_article_files
from .files import write_file_atomic
from .meta import read_front_matter
from .model import Article
from .model import ArticleError
from .model import BestBet
from .model import Problem
from .parse import load_article
from .site import BEST_BETS_FILE
from .site import load_best_bets
from .site import load_category
from .site import load_relations_off
from .site import load_synonyms

log = logging.getLogger(__name__)


def check_unless_unchanged(root: Path, record: Path, default_lang: str = "ru") -> list[Problem]:
    """`check`, or the problems it found the last time when nothing under `root` has changed
    since (same fingerprint, same checking code); `record` keeps that fingerprint and those
    problems, so a restart with nothing changed renders no article."""
    key = f"{folder_fingerprint(root)}:{_checker_version()}:{default_lang}"
    try:
        kept = json.loads(record.read_text("utf-8"))
        if kept.get("key") == key:
            return [Problem(path, line, message) for path, line, message in kept["problems"]]
    except (OSError, ValueError, TypeError, KeyError):
        pass  # no record yet, or not one we can read: check
    problems = check(root, default_lang)
    if folder_fingerprint(root) == key.split(":", 1)[0]:  # nothing changed while checking
        try:
            record.parent.mkdir(parents=True, exist_ok=True)
            write_file_atomic(record, json.dumps({
                "key": key, "problems": [[p.path, p.line, p.message] for p in problems]},
                ensure_ascii=False))
        except OSError as error:
            log.warning("could not keep the result of the check: %s", error)
    return problems


@lru_cache(maxsize=1)
def _checker_version() -> str:
    """Identifies the code of this package, whose rules the check applies."""
    digest = hashlib.sha1()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


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
    for load in (load_synonyms, load_relations_off):
        try:
            load(root)
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
        if not (article.translations or article.aliases):
            continue
        rel = f"{article.id}.md"
        lines = _key_lines(rel, (root / rel).read_text("utf-8"))
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



def _key_lines(rel: str, text: str) -> dict:
    """The line of each front matter key of a file that parsed a moment ago."""
    try:
        return read_front_matter(rel, text).lines
    except ArticleError:  # changed since: the problems are reported without their line
        return {}
