"""Which article id each imported file gets, and the ids it refers to.

A file keeps the id of the article that holds its `source` already (a re-import updates
it), else gets the id its path asks for, made unique in the category. Hugo translations
(`ru/x.md`, `en/x.md`) link to each other; old ids in `aliases` redirect when free.
"""

from __future__ import annotations

from pathlib import Path

from portal.articles import LANGUAGES
from portal.articles import ArticleError
from portal.articles import is_valid_id
from portal.articles import read_front_matter
from portal.articles import split_front_matter
from portal.text import slugify

from .front_matter import words_of
from .sources import SUFFIXES
from .sources import Doc

#: The longest id we make; `is_valid_id` allows 200 and suffixes need room.
MAX_ID_LENGTH = 190


def _path_id(category: str, rel: str) -> str:
    """The id a source path asks for: category + each part slugified, without suffix."""
    parts = rel.split("/")
    stem = parts[-1]
    for suffix in SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    segments = [category] + [slugify(p) or "untitled" for p in parts[:-1] + [stem]]
    ident = "/".join(segments)
    if len(ident) > MAX_ID_LENGTH:
        head = "/".join(segments[:-1])
        room = max(MAX_ID_LENGTH - len(head) - 1, 8)
        ident = f"{head}/{segments[-1][:room].strip('-_') or 'untitled'}"
    return ident


def existing_articles(articles_dir: Path, cat_dir: Path) -> tuple[dict[str, str], set[str]]:
    """Ids of the files already in the category, and for each `source` the id holding it."""
    by_source: dict[str, str] = {}
    taken: set[str] = set()
    if not cat_dir.is_dir():
        return by_source, taken
    for path in sorted(cat_dir.rglob("*.md")):
        ident = path.relative_to(articles_dir).with_suffix("").as_posix()
        taken.add(ident)
        source = _front_matter_source(path)
        if source and source not in by_source:
            by_source[source] = ident
    return by_source, taken


def _front_matter_source(path: Path) -> str | None:
    """The `source` key of an article file; None when it has none or cannot be read."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    front = split_front_matter(text).front
    if front is None or "source" not in front:
        return None  # reading the YAML is the slow part; articles written by hand skip it
    try:
        # An article broken by hand holds no source we can trust; the import goes on.
        value = read_front_matter(path.name, text).meta.get("source")
    except ArticleError:
        return None
    return value.strip() if isinstance(value, str) else None


def assign_ids(docs: list[Doc], category: str, existing: dict[str, str],
               taken: set[str]) -> None:
    """Give each doc its id: the one that holds its source already, else the id its path
    asks for when free, else that id with `-2`, `-3`... (in sorted order of the paths)."""
    taken = set(taken)
    waiting = []
    for doc in docs:
        if doc.source in existing:
            doc.article_id = existing[doc.source]
    for doc in docs:
        if doc.article_id:
            continue
        base = _path_id(category, doc.rel)
        if base in taken:
            waiting.append((doc, base))
        else:
            doc.article_id = base
            taken.add(base)
    for doc, base in waiting:
        number = 2
        while f"{base}-{number}" in taken:
            number += 1
        doc.article_id = f"{base}-{number}"
        taken.add(doc.article_id)


def link_translations(docs: list[Doc]) -> None:
    """Hugo keeps translations as `content/ru/x.md` + `content/en/x.md`: link them."""
    by_rel = {d.rel: d for d in docs}
    for doc in docs:
        parts = doc.rel.split("/")
        for i, part in enumerate(parts[:-1]):
            if part not in LANGUAGES:
                continue
            for other_lang in LANGUAGES:
                other = by_rel.get("/".join(parts[:i] + [other_lang] + parts[i + 1:]))
                if other is not None and other is not doc and other.lang != doc.lang:
                    doc.translations.append(other.article_id)
            break


def keep_aliases(docs: list[Doc], taken: set[str]) -> None:
    """Old ids from the front matter that can redirect here: valid, not the id of an
    article, not claimed by an earlier file."""
    claimed = set(taken) | {d.article_id for d in docs}
    for doc in docs:
        for alias in words_of(doc.meta.get("aliases")):
            if is_valid_id(alias) and alias not in claimed:
                doc.aliases.append(alias)
                claimed.add(alias)
