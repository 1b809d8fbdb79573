"""The Whoosh index on disk: building it from articles, updating it, sharing one searcher.

Only one writer at a time works on an index (Whoosh's file lock); writers wait for it, so
several server processes and the command line can update the same index safely. Each
process keeps one searcher and opens a new one when any process has committed.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from typing import TypeVar
from typing import cast

from whoosh import index as whoosh_index
from whoosh.query import Term

from .. import articles as articles_mod
from ..articles import Article
from ..articles import ArticleError
from ..articles import BestBet
from ..articles import Category
from ..articles import Problem
from .relations import Source
from .schema import INDEX_FORMAT
from .schema import KIND_ARTICLE
from .schema import KIND_CATEGORY
from .schema import KIND_SECTION
from .schema import KIND_SETTING
from .schema import build_schema
from .whoosh_types import Index
from .whoosh_types import Reader
from .whoosh_types import Searcher
from .whoosh_types import StoredFields
from .whoosh_types import Writer

log = logging.getLogger(__name__)

SYNONYMS_ID = "setting:synonyms"
BEST_BETS_ID = "setting:best_bets"
RELATIONS_ID = "setting:relations"
FORMAT_ID = "setting:format"
#: Section and article prose kept for snippets (tables left out: they stay searchable, but
#: quoted they are a heap of cells); longer text is cut.
STORED_TEXT_LIMIT = 20_000

T = TypeVar("T")
#: A link to an article page in rendered HTML: its id (and anchor).
_ARTICLE_HREF = re.compile(r'href="/kb/([a-z0-9/_#-]+)"')


@dataclass
class BuildReport:
    """What one indexing run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    @property
    def skipped(self) -> list[str]:
        """Files left out because of problems."""
        return sorted({problem.path for problem in self.problems})

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, "
                f"{len(self.removed)} removed, {self.unchanged} unchanged, "
                f"{len(self.skipped)} skipped in {self.seconds:.1f} s")


@dataclass(frozen=True)
class ArticleInfo:
    """What listings need to know about an indexed article (no body)."""

    id: str
    title: str
    summary: str
    lang: str
    category: str
    tags: tuple[str, ...]
    audience: str
    status: str
    translations: tuple[str, ...]
    aliases: tuple[str, ...]
    source: str | None
    keywords: tuple[str, ...] = ()
    owner: str | None = None
    #: When the article was last checked (ISO date) and after how many days it is due again.
    reviewed: str | None = None
    review_every: int | None = None

    @property
    def is_public(self) -> bool:
        return articles_mod.is_public(self.audience, self.status)

    @property
    def url(self) -> str:
        return articles_mod.article_url(self.id)


@dataclass(frozen=True)
class IndexedArticle:
    """A published snapshot of an article, as rendered when its file last changed."""

    info: ArticleInfo
    html: str
    toc: tuple[tuple[int, str, str], ...]
    owner: str | None
    reviewed: str | None
    keywords: tuple[str, ...]


def _article_data(article: Article) -> dict[str, object]:
    return {
        "title": article.title, "summary": article.summary, "lang": article.lang,
        "category": article.category, "tags": article.tags, "keywords": article.keywords,
        "audience": article.audience, "status": article.status, "owner": article.owner,
        "reviewed": article.reviewed.isoformat() if article.reviewed else None,
        "review_every": article.review_every, "aliases": article.aliases,
        "translations": article.translations, "source": article.source, "html": article.html,
        "toc": [(h.level, h.anchor, h.title) for h in article.toc],
        "text": article.prose[:STORED_TEXT_LIMIT],
    }


def _info(doc_id: str, data: Mapping[str, Any]) -> ArticleInfo:
    return ArticleInfo(
        id=doc_id, title=data["title"], summary=data["summary"], lang=data["lang"],
        category=data["category"], tags=tuple(data["tags"]), audience=data["audience"],
        status=data["status"], translations=tuple(data["translations"]),
        aliases=tuple(data["aliases"]), source=data["source"],
        keywords=tuple(data.get("keywords", ())), owner=data.get("owner"),
        reviewed=data.get("reviewed"), review_every=data.get("review_every"),
    )


def article_documents(article: Article) -> Iterator[dict[str, object]]:
    """The index entries of one article: the article itself, then one per section."""
    headings = " \n".join(h.title for h in article.toc)
    yield {
        "id": article.id, "kind": KIND_ARTICLE, "article": article.id, "lang": article.lang,
        "category": article.category, "audience": article.audience, "status": article.status,
        "title": article.title, "keywords": " \n".join(article.tags + article.keywords),
        "headings": headings, "summary": article.summary, "body": article.text,
        "words": "\n".join([article.title, article.summary, " ".join(article.keywords),
                            " ".join(article.tags), article.text]),
        "aliases": ",".join(article.aliases),
        "translations": ",".join(article.translations), "digest": article.digest,
        "data": _article_data(article),
    }
    for section in article.sections:
        yield {
            "id": f"{article.id}#{section.anchor}", "kind": KIND_SECTION,
            "article": article.id, "lang": article.lang, "category": article.category,
            "audience": article.audience, "status": article.status,
            "sec_title": section.title, "sec_body": section.text,
            "data": {"anchor": section.anchor, "title": section.title,
                     "text": section.prose[:STORED_TEXT_LIMIT]},
        }


def file_stamp(path: Path) -> str:
    """Modification time and size of a file: when both are unchanged, so is the file."""
    info = path.stat()
    return f"{info.st_mtime_ns}:{info.st_size}"


def term_frequencies(reader: Reader, field: str) -> dict[str, int]:
    """Every term of `field` with the number of documents holding it.

    Walks each segment's own term list and adds the counts up: iterating the merged
    reader instead looks every term up in every segment, 10x slower on a fresh update.
    """
    counts: dict[str, int] = {}
    for leaf, _offset in reader.leaf_readers():
        if field not in leaf.indexed_field_names():
            continue
        for term, info in leaf.iter_field(field):
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            counts[text] = counts.get(text, 0) + info.doc_frequency()
    return counts


def column_values(reader: Reader, name: str, default: object = "") -> list[Any]:
    """Every entry's value of a column, in document order, over all segments.

    Whoosh's merged column reader leaves out segments where no entry has the column (one
    holding only setting entries has no `status`), which shifts every later value: read
    segment by segment and fill such a segment with the default.
    """
    values: list[Any] = []  # whatever the column stores
    for leaf, _offset in reader.leaf_readers():
        if leaf.has_column(name):
            values.extend(leaf.column_reader(name))
        else:
            values.extend([default] * leaf.doc_count_all())
    return values


def _stored(searcher: Searcher, doc_id: str) -> StoredFields | None:
    """The stored fields of the entry with this unique id (a direct term lookup)."""
    docnum = searcher.document_number(id=doc_id)
    return None if docnum is None else searcher.stored_fields(docnum)


def _skip(report: BuildReport, problems: list[Problem]) -> None:
    """Record and log the problems of a file that is left out of this run."""
    report.problems.extend(problems)
    for problem in problems:
        log.warning("skipped: %s", problem)


class SearchIndex:
    """The index directory of one site, its writers and this process's searcher."""

    def __init__(self, index_dir: Path, articles_dir: Path, default_lang: str = "ru",
                 refresh_interval: float = 0.2, writer_timeout: float = 60.0) -> None:
        self.index_dir = Path(index_dir)
        self.articles_dir = Path(articles_dir)
        self.default_lang = default_lang
        self.refresh_interval = refresh_interval
        self.writer_timeout = writer_timeout
        self._lock = threading.RLock()
        self._ix: Index | None = None
        self._searcher: Searcher | None = None
        self._pid: int | None = None
        self._checked_at = 0.0
        self._depth = 0  # how many `searcher()` blocks this (locked) thread is inside
        self._derived: dict[str, object] = {}

    # --- opening ---------------------------------------------------------------------------

    def exists(self) -> bool:
        """True when the index directory holds an index."""
        found: bool = whoosh_index.exists_in(str(self.index_dir))
        return found

    def _index(self, create: bool = False) -> Index:
        if self._pid != os.getpid():
            # After a fork, never share file handles with the parent.
            self._ix = self._searcher = None
            self._derived = {}
            self._depth = 0
            self._pid = os.getpid()
        if create or (self._ix is None and not self.exists()):
            self.index_dir.mkdir(parents=True, exist_ok=True)
            self._ix = whoosh_index.create_in(str(self.index_dir), build_schema())
            self._close_searcher()
        elif self._ix is None:
            self._ix = whoosh_index.open_dir(str(self.index_dir))
        return self._ix

    def _close_searcher(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
        self._searcher = None
        self._derived = {}

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """This process's searcher, refreshed when the index has changed on disk.

        Only the outermost `with` refreshes: a search asks again for the searcher (and for
        values derived from it) while it runs, and must not find the one it holds closed
        because another process published meanwhile."""
        with self._lock:
            ix = self._index()
            if self._searcher is None:
                self._searcher = ix.searcher()
                self._checked_at = time.monotonic()
            elif (self._depth == 0
                  and time.monotonic() - self._checked_at >= self.refresh_interval):
                self._checked_at = time.monotonic()
                if not self._searcher.up_to_date():
                    # Not Searcher.refresh(): Whoosh-Reloaded's reader reuse keeps old
                    # segments and their old deletions, so removed articles stay findable.
                    self._close_searcher()
                    self._searcher = ix.searcher()
            self._depth += 1
            try:
                yield self._searcher
            finally:
                self._depth -= 1

    def derived(self, key: str, compute: Callable[[Searcher], T]) -> T:
        """A value computed from the current index generation, computed once per generation."""
        with self.searcher() as searcher:
            if key not in self._derived:
                self._derived[key] = compute(searcher)
            # A key is always computed by the same function, so its value has that type.
            return cast(T, self._derived[key])

    def close(self) -> None:
        with self._lock:
            self._close_searcher()
            self._ix = None

    # --- writing ---------------------------------------------------------------------------

    @contextmanager
    def _writer(self, create: bool = False) -> Iterator[Writer]:
        with self._lock:
            ix = self._index(create=create)
        writer = ix.writer(timeout=self.writer_timeout, delay=0.02, limitmb=128)
        try:
            yield writer
        except BaseException:
            writer.cancel()
            raise
        else:
            writer.commit()
        finally:
            with self._lock:
                self._checked_at = 0.0

    def _versions(self) -> tuple[dict[str, str], dict[str, str]]:
        """The digest of every article, category and setting entry now in the index, and
        the file stamp (modification time and size) each article was read with."""
        if not self.exists():
            return {}, {}
        with self.searcher() as searcher:
            reader = searcher.reader()
            if reader.doc_count() == 0:
                return {}, {}
            size = reader.doc_count_all()

            def column(name: str) -> list[Any]:
                # Whole columns at once: item by item is ten times slower. An index made by
                # an older version may lack a column; its format entry is missing too, so
                # `build` starts over.
                return column_values(reader, name) if name in reader.schema else [""] * size

            rows = zip(column("id"), column("kind"), column("digest"), column("stamp"),
                       strict=True)
            deleted = reader.is_deleted if reader.has_deletions() else None
            digests: dict[str, str] = {}
            stamps: dict[str, str] = {}
            for docnum, (doc_id, kind, digest, stamp) in enumerate(rows):
                if kind == KIND_SECTION or (deleted and deleted(docnum)):
                    continue
                digests[doc_id] = digest
                stamps[doc_id] = stamp
            return digests, stamps

    def build(self, clean: bool = False,
              progress: Callable[[str], None] | None = None) -> BuildReport:
        """Bring the index up to date with the articles folder; only changed files are read."""
        started = time.monotonic()
        report = BuildReport()
        known, stamps = ({}, {}) if clean else self._versions()
        if known and known.get(FORMAT_ID) != INDEX_FORMAT:
            log.warning("the index was built by another version of the search: rebuilding")
            clean, known, stamps = True, {}, {}
        seen: set[str] = set()
        with self._writer(create=clean or not self.exists()) as writer:
            for path in articles_mod.iter_article_files(self.articles_dir):
                doc_id = articles_mod.article_id(self.articles_dir, path)
                seen.add(doc_id)
                if progress:
                    progress(doc_id)
                try:
                    article, stamp = self._changed_article(path, doc_id, known, stamps)
                except ArticleError as exc:
                    _skip(report, exc.problems)
                    if doc_id in known:
                        writer.delete_by_term("article", doc_id)
                        report.removed.append(doc_id)
                    continue
                if article is None:
                    report.unchanged += 1
                    continue
                self._write_article(writer, article, replace=doc_id in known, stamp=stamp)
                (report.updated if doc_id in known else report.added).append(doc_id)
            for doc_id in sorted(set(known) - seen):
                if ":" not in doc_id:
                    writer.delete_by_term("article", doc_id)
                    report.removed.append(doc_id)
            self._write_categories(writer, known, report)
            self._write_synonyms(writer, known, report)
            self._write_best_bets(writer, known, report)
            self._write_relations(writer, known, report)
            if known.get(FORMAT_ID) != INDEX_FORMAT:
                writer.update_document(id=FORMAT_ID, kind=KIND_SETTING, digest=INDEX_FORMAT,
                                       data={})
        report.seconds = time.monotonic() - started
        return report

    def _changed_article(self, path: Path, doc_id: str, known: dict[str, str],
                         stamps: dict[str, str]) -> tuple[Article | None, str]:
        """The article at `path` with its file stamp, or None when the index holds this
        version already; `ArticleError` for whatever stops this one file being indexed
        (the writer is not touched here, so its errors are never taken for the file's)."""
        with articles_mod.reading(path.relative_to(self.articles_dir).as_posix()):
            stamp = file_stamp(path)
            if doc_id in known and stamps.get(doc_id) == stamp:
                return None, stamp  # not even read: same time and size as indexed
            data = path.read_bytes()
            if known.get(doc_id) == articles_mod.file_digest(data):
                return None, stamp
            return articles_mod.parse_article(self.articles_dir, path, data,
                                              self.default_lang), stamp

    def _write_article(self, writer: Writer, article: Article, replace: bool,
                       stamp: str = "") -> None:
        if replace:
            writer.delete_by_term("article", article.id)
        for doc in article_documents(article):
            writer.add_document(**doc, stamp=stamp)

    def _write_categories(self, writer: Writer, known: dict[str, str], report: BuildReport) -> None:
        folders = sorted(p.name for p in self.articles_dir.iterdir()
                         if p.is_dir() and not p.name.startswith((".", "_")))
        wanted: set[str] = set()
        for name in folders:
            doc_id = f"category:{name}"
            wanted.add(doc_id)
            try:
                category = articles_mod.load_category(self.articles_dir, name)
            except ArticleError as exc:
                _skip(report, exc.problems)
                category = Category(id=name, titles={}, descriptions={}, digest="invalid")
            if known.get(doc_id) == (category.digest or "none"):
                continue
            writer.update_document(
                id=doc_id, kind=KIND_CATEGORY, digest=category.digest or "none",
                data={"titles": category.titles, "descriptions": category.descriptions,
                      "order": category.order},
            )
        for doc_id in known:
            if doc_id.startswith("category:") and doc_id not in wanted:
                writer.delete_by_term("id", doc_id)

    def _write_synonyms(self, writer: Writer, known: dict[str, str], report: BuildReport) -> None:
        self._write_setting(writer, known, report, SYNONYMS_ID, articles_mod.SYNONYMS_FILE,
                            lambda: {"groups": articles_mod.load_synonyms(self.articles_dir)})

    def _write_best_bets(self, writer: Writer, known: dict[str, str], report: BuildReport) -> None:
        self._write_setting(writer, known, report, BEST_BETS_ID, articles_mod.BEST_BETS_FILE,
                            lambda: {"bets": [
                                {"query": bet.query, "articles": list(bet.articles)}
                                for bet in articles_mod.load_best_bets(self.articles_dir)]})

    def _write_relations(self, writer: Writer, known: dict[str, str], report: BuildReport) -> None:
        self._write_setting(writer, known, report, RELATIONS_ID, articles_mod.RELATIONS_FILE,
                            lambda: {"off": articles_mod.load_relations_off(self.articles_dir)})

    def _write_setting(self, writer: Writer, known: dict[str, str], report: BuildReport,
                       doc_id: str, name: str, load: Callable[[], dict[str, object]]) -> None:
        """The settings entry of one file of the folder (synonyms, best bets), when the file
        changed; a broken file keeps the entry as it was and is reported."""
        path = self.articles_dir / name
        try:
            data = load()
            with articles_mod.reading(name):
                digest = articles_mod.file_digest(path.read_bytes()) if path.is_file() \
                    else "none"
        except ArticleError as exc:
            _skip(report, exc.problems)
            return
        if known.get(doc_id) != digest:
            writer.update_document(id=doc_id, kind=KIND_SETTING, digest=digest, data=data)

    def update_search_terms(self) -> list[Problem]:
        """Index the synonym and best-bet files again, both in one commit, so that every
        process searches with them once it sees the new generation; what is wrong with
        a file is returned, and its entry is left as it was."""
        report = BuildReport()
        with self._writer() as writer:
            self._write_synonyms(writer, {}, report)
            self._write_best_bets(writer, {}, report)
            self._write_relations(writer, {}, report)
        return report.problems

    def is_current(self) -> bool:
        """True when the index exists and was built by this version of the search (one term
        lookup: every process asks at start-up)."""
        if not self.exists():
            return False
        with self.searcher() as searcher:
            try:
                return searcher.document_number(id=FORMAT_ID, digest=INDEX_FORMAT) is not None
            except KeyError:  # an index from before the field this lookup reads
                return False

    def generation(self) -> int:
        """The number of the index's latest commit on disk, by any process (-1: no index)."""
        if not self.exists():
            return -1
        with self._lock:
            found: int = self._index().latest_generation()
            return found

    def update_article(self, article: Article) -> None:
        """Index one article (its entry and sections), replacing any earlier version."""
        self.replace_article(article)

    def replace_article(self, article: Article, old_id: str | None = None) -> None:
        """Index one article in one commit, taking out the entries of the id it had before
        (a rename) as well as its own earlier version."""
        path = self.articles_dir / f"{article.id}.md"
        stamp = file_stamp(path) if path.is_file() else ""
        with self._writer() as writer:
            if old_id and old_id != article.id:
                writer.delete_by_term("article", old_id)
            self._write_article(writer, article, replace=True, stamp=stamp)

    def remove_article(self, article_id: str) -> None:
        """Take one article and its sections out of the index."""
        with self._writer() as writer:
            writer.delete_by_term("article", article_id)

    # --- reading ---------------------------------------------------------------------------

    def catalog(self) -> dict[str, ArticleInfo]:
        """Every indexed article by id (hidden ones included), for this index generation."""

        def compute(searcher: Searcher) -> dict[str, ArticleInfo]:
            return {doc["id"]: _info(doc["id"], doc["data"])
                    for doc in searcher.documents(kind=KIND_ARTICLE)}

        return self.derived("catalog", compute)

    def categories(self) -> dict[str, Category]:
        """Category folders with their titles, descriptions and order."""

        def compute(searcher: Searcher) -> dict[str, Category]:
            found: dict[str, Category] = {}
            for doc in searcher.documents(kind=KIND_CATEGORY):
                name = doc["id"].split(":", 1)[1]
                data = doc["data"]
                found[name] = Category(id=name, titles=data["titles"],
                                       descriptions=data["descriptions"], order=data["order"])
            return found

        return self.derived("categories", compute)

    def synonyms(self) -> list[list[str]]:
        """The synonym groups of the indexed knowledge base."""

        def compute(searcher: Searcher) -> list[list[str]]:
            doc = _stored(searcher, SYNONYMS_ID)
            groups: list[list[str]] = doc["data"]["groups"] if doc else []
            return groups

        return self.derived("synonyms", compute)

    def relations_off(self) -> frozenset[str]:
        """The keys of the mined relations experts switched off."""

        def compute(searcher: Searcher) -> frozenset[str]:
            doc = _stored(searcher, RELATIONS_ID)
            return frozenset(doc["data"]["off"] if doc else ())

        return self.derived("relations_off", compute)

    def mining_sources(self) -> list[Source]:
        """What relation mining reads of each public, published article."""
        found = []
        with self.searcher() as searcher:
            for doc in searcher.documents(kind=KIND_ARTICLE):
                data = doc["data"]
                if not articles_mod.is_public(data["audience"], data["status"]):
                    continue
                found.append(Source(
                    id=doc["id"], lang=data["lang"], title=data["title"],
                    headings=[title for _level, _anchor, title in data["toc"]],
                    keywords=[*data["tags"], *data.get("keywords", ())],
                    translations=data["translations"], text=data["text"]))
        return found

    def best_bets(self) -> list[BestBet]:
        """The experts' best bets of the indexed knowledge base, in their file's order."""

        def compute(searcher: Searcher) -> list[BestBet]:
            doc = _stored(searcher, BEST_BETS_ID)
            bets = doc["data"]["bets"] if doc else []
            return [BestBet(bet["query"], tuple(bet["articles"])) for bet in bets]

        return self.derived("best_bets", compute)

    def article(self, article_id: str) -> IndexedArticle | None:
        """The indexed snapshot of one article, or None."""
        with self.searcher() as searcher:
            doc = _stored(searcher, article_id)
        if doc is None or doc.get("kind") != KIND_ARTICLE:
            return None
        data = doc["data"]
        return IndexedArticle(
            info=_info(doc["id"], data), html=data["html"],
            toc=tuple(tuple(h) for h in data["toc"]), owner=data["owner"],
            reviewed=data["reviewed"], keywords=tuple(data["keywords"]),
        )

    def links_in(self) -> dict[str, int]:
        """For each article, how many other articles link to it (from their rendered
        pages): the articles the knowledge base itself points to most."""

        def compute(searcher: Searcher) -> dict[str, int]:
            counts: dict[str, int] = {}
            for doc in searcher.documents(kind=KIND_ARTICLE):
                targets = {match.split("#", 1)[0]
                           for match in _ARTICLE_HREF.findall(doc["data"]["html"])}
                for target in targets - {doc["id"]}:
                    counts[target] = counts.get(target, 0) + 1
            return counts

        return self.derived("links_in", compute)

    def resolve_alias(self, old_id: str) -> str | None:
        """The id of the article that lists `old_id` among its aliases."""
        with self.searcher() as searcher:
            for doc in searcher.search(Term("aliases", old_id), limit=1):
                found: str = doc["id"]
                return found
        return None

    def canonical_ids(self) -> dict[str, str]:
        """Old ids (aliases) to the id of the article that carries them now, so that rows
        recorded under an article's earlier id count for the article it became."""

        def compute(_searcher: Searcher) -> dict[str, str]:
            return {alias: info.id for info in self.catalog().values()
                    for alias in info.aliases}

        return self.derived("canonical_ids", compute)

    def translations_of(self, article_id: str) -> list[ArticleInfo]:
        """Articles linked to this one as translations, in either direction."""
        catalog = self.catalog()
        info = catalog.get(article_id)
        if info is None:
            return []
        ids = set(info.translations) | self._translated_by().get(article_id, set())
        ids.discard(article_id)
        return [catalog[i] for i in sorted(ids) if i in catalog]

    def _translated_by(self) -> dict[str, set[str]]:
        """For each article, the articles that name it as their translation."""

        def compute(_searcher: Searcher) -> dict[str, set[str]]:
            reverse: dict[str, set[str]] = {}
            for other in self.catalog().values():
                for target in other.translations:
                    reverse.setdefault(target, set()).add(other.id)
            return reverse

        return self.derived("translated_by", compute)
