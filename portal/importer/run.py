"""The import itself: each source file read and converted, given an id, its links
resolved, checked as an article would be, and written when it changed."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from portal.articles import LANGUAGES
from portal.articles import ArticleError
from portal.articles import dump_front_matter
from portal.articles import is_valid_id
from portal.articles import parse_article
from portal.articles import write_file_atomic
from portal.text import slugify

from .convert import convert
from .convert import has_text
from .convert import tidy
from .front_matter import article_meta
from .front_matter import meta_text
from .ids import assign_ids
from .ids import existing_articles
from .ids import keep_aliases
from .ids import link_translations
from .language import guess_lang
from .links import Links
from .links import Resolver
from .links import resolve_links
from .report import ImportEntry
from .report import ImporterError
from .report import ImportReport
from .report import skip
from .sources import Doc
from .sources import find_sources
from .sources import read_source
from .titles import demote_headings
from .titles import take_title

#: Folder names that say nothing about a site: the category is named after their parent.
GENERIC_FOLDERS = {"content", "docs", "doc", "src", "source", "site", "pages"}
#: Below this many articles to check, checking them in other processes does not pay.
PARALLEL_FROM = 200


def import_folder(
    src: Path,
    articles_dir: Path,
    lang: str = "auto",
    category: str | None = None,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import every Markdown file under `src` into `articles_dir/<category>/`.

    `category` defaults to the name of `src`'s folder (its parent's for generic names such
    as `content` or `docs`); both are slugified. `lang` is
    `ru`, `en` or `auto` (front matter, then a `ru`/`en` folder in the path, then the share
    of Cyrillic letters). `progress(source)` is called once per file `find_sources` lists,
    in that order. New and changed articles are checked with `parse_article` before they
    are written, in `workers` processes (default: one per CPU, up to 4) when there are many.
    Raises `ImporterError` when `src` cannot be imported at all.
    """
    src = Path(src)
    articles_dir = Path(articles_dir)
    if not src.is_dir():
        raise ImporterError(f"{src} is not a folder")
    if lang not in ("auto", *LANGUAGES):
        raise ImporterError(f"lang must be auto or one of {', '.join(LANGUAGES)}, not {lang!r}")
    src_name = src.resolve().name
    # Sites keep their pages in folders with generic names ("content", "docs"): the
    # site's own folder says more, and two sites then do not land in one category.
    default = src.resolve().parent.name if src_name.lower() in GENERIC_FOLDERS else src_name
    cat = slugify(category if category is not None else default)
    if not cat or not is_valid_id(cat):
        raise ImporterError(f"cannot make a category name from {category or src_name!r}: "
                            "pass --category with Latin letters or digits")
    cat_dir = articles_dir / cat
    if src.resolve().is_relative_to(cat_dir.resolve()):
        raise ImporterError(f"{src} is inside {cat_dir}, where the articles would be written")

    outcomes: dict[str, Doc | ImportEntry] = {}
    for rel in find_sources(src, exclude=cat_dir):
        source = f"{src_name}/{rel}"
        try:
            outcomes[rel] = _read_document(src, rel, source, lang)
        except Exception as exc:  # one odd file must not stop the import of the others
            outcomes[rel] = skip(source, f"conversion failed: {type(exc).__name__}: {exc}")

    docs = [d for d in outcomes.values() if isinstance(d, Doc)]
    duplicates = _find_duplicates(docs)
    docs = [d for d in docs if d.rel not in duplicates]
    existing, taken = existing_articles(articles_dir, cat_dir)
    assign_ids(docs, cat, existing, taken)
    for rel, first in duplicates.items():
        outcomes[rel] = skip(outcomes[rel].source, f"duplicate of {first.article_id}")
    link_translations(docs)
    keep_aliases(docs, taken)

    links = Links(src_name, docs)
    planned: dict[str, tuple[Doc, str, str | None]] = {}
    for doc in docs:
        try:
            planned[doc.rel] = _plan(doc, articles_dir, links)
        except Exception as exc:
            outcomes[doc.rel] = skip(doc.source,
                                     f"conversion failed: {type(exc).__name__}: {exc}")
    jobs = [(str(articles_dir), doc.article_id, text)
            for doc, text, old in planned.values() if text != old]
    verdicts = _validate_all(jobs, workers)

    report = ImportReport(category=cat)
    for rel, outcome in outcomes.items():
        if rel in planned:
            doc, text, old = planned[rel]
            if text == old:
                outcome = ImportEntry(doc.source, doc.article_id, "unchanged")
            else:
                problem = next(verdicts)
                if problem is not None:
                    outcome = skip(doc.source, f"not a valid article after conversion: {problem}")
                else:
                    write_file_atomic(articles_dir / f"{doc.article_id}.md", text)
                    outcome = ImportEntry(doc.source, doc.article_id,
                                          "updated" if old is not None else "imported")
        report.entries.append(outcome)
        if progress is not None:
            progress(outcome.source)
    return report


def _read_document(src: Path, rel: str, source: str, lang_option: str) -> Doc | ImportEntry:
    """One source file read and converted, or the entry that says why it is skipped."""
    read = read_source(src, rel, source)
    if isinstance(read, ImportEntry):
        return read
    meta, body = read
    parts = rel.split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    is_index = stem.lower() == "_index"
    lang = lang_option if lang_option != "auto" else guess_lang(meta, source, body)
    converted, anchors = convert(body, lang)
    name = parts[-2] if is_index and len(parts) > 1 else stem
    title, converted = take_title(converted, meta_text(meta.get("title")), name)
    converted = tidy(demote_headings(converted))
    if not has_text(converted):
        if is_index:
            return skip(source, "Hugo section index with no text")
        return skip(source, "no content")
    return Doc(rel=rel, source=source, meta=meta, body=converted, title=title, lang=lang,
               anchors=anchors)


def _find_duplicates(docs: list[Doc]) -> dict[str, Doc]:
    """Files whose title and converted text repeat an earlier file's exactly -> that file."""
    seen: dict[str, Doc] = {}
    duplicates: dict[str, Doc] = {}
    for doc in docs:
        key = hashlib.sha1(f"{doc.title}\0{' '.join(doc.body.split())}".encode()).hexdigest()
        first = seen.setdefault(key, doc)
        if first is not doc:
            duplicates[doc.rel] = first
    return duplicates


def _plan(doc: Doc, articles_dir: Path, links: Links) -> tuple[Doc, str, str | None]:
    """The article file's new text, and its current text (None when there is no file)."""
    body = resolve_links(doc.body, Resolver(doc, links))
    text = dump_front_matter(article_meta(doc)) + "\n" + body.strip("\n") + "\n"
    path = articles_dir / f"{doc.article_id}.md"
    old = None
    if path.is_file():
        try:
            old = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            old = ""
    return doc, text, old


def _validate(job: tuple[str, str, str]) -> str | None:
    """None when the text is a valid article, else what is wrong (runs in workers)."""
    root, ident, text = job
    try:
        parse_article(Path(root), Path(root) / f"{ident}.md", text.encode("utf-8"))
    except ArticleError as exc:
        return exc.problems[0].message
    return None


def _validate_all(jobs: list[tuple[str, str, str]], workers: int | None) -> Iterator[str | None]:
    """The verdicts of `_validate`, in order; rendering is the slow part of an import."""
    if workers is None:
        workers = min(os.cpu_count() or 1, 4)
    if workers <= 1 or len(jobs) < PARALLEL_FROM:
        return map(_validate, jobs)
    pool = ProcessPoolExecutor(max_workers=workers)

    def verdicts() -> Iterator[str | None]:
        try:
            yield from pool.map(_validate, jobs, chunksize=8)
        finally:
            pool.shutdown(cancel_futures=True)

    return verdicts()
