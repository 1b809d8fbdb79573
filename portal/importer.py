"""Import a folder of Markdown documentation (DocFX, Hugo or plain) as articles.

`import_folder(SRC, articles_dir)` walks SRC for `*.md` / `*.markdown`, converts each file
into an article of the category `articles/<category>/` and reports, file by file, what was
imported, updated, left unchanged or skipped and why. Re-running it updates the articles
it wrote before (found by their `source` key) instead of adding copies.

This is a domain module: no Flask, no printing; the command line reports the result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import os
import re
import textwrap
import tomllib
import unicodedata
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import unquote

from markdown.extensions.toc import slugify_unicode

from portal.articles import LANGUAGES
from portal.articles import ArticleError
from portal.articles import dump_front_matter
from portal.articles import is_valid_id
from portal.articles import parse_article
from portal.articles import read_front_matter
from portal.articles import write_file_atomic

__all__ = [
    "ImportEntry", "ImportReport", "ImporterError", "MAX_SOURCE_BYTES", "convert_body",
    "detect_lang", "find_sources", "import_folder", "slugify",
]

#: Source files larger than this are not imported (articles refuse bodies over 512 KB).
MAX_SOURCE_BYTES = 512 * 1024
GENERIC_FOLDERS = {"content", "docs", "doc", "src", "source", "site", "pages"}
SUFFIXES = (".md", ".markdown")
FRAGMENT_FOLDERS = {"includes", "_includes"}
#: The longest id we make; `is_valid_id` allows 200 and suffixes need room.
MAX_ID_LENGTH = 190
MAX_SEGMENT_LENGTH = 80
#: Below this many articles to check, checking them in other processes does not pay.
PARALLEL_FROM = 200


# --- report --------------------------------------------------------------------------------

@dataclass
class ImportEntry:
    """What happened to one source file."""

    source: str
    article_id: str | None
    action: str  # "imported", "updated", "unchanged" or "skipped"
    reason: str = ""


@dataclass
class ImportReport:
    entries: list[ImportEntry] = field(default_factory=list)
    category: str = ""

    def _with(self, action: str) -> list[ImportEntry]:
        return [e for e in self.entries if e.action == action]

    @property
    def imported(self) -> list[ImportEntry]:
        return self._with("imported")

    @property
    def updated(self) -> list[ImportEntry]:
        return self._with("updated")

    @property
    def unchanged(self) -> list[ImportEntry]:
        return self._with("unchanged")

    @property
    def skipped(self) -> list[ImportEntry]:
        return self._with("skipped")

    def skip_reasons(self) -> dict[str, int]:
        """How many files were skipped for each kind of reason, most frequent first."""
        counts: dict[str, int] = {}
        for entry in self.skipped:
            kind = re.sub(r"\s*[:(].*", "", entry.reason).strip() or entry.reason
            kind = re.sub(r"^duplicate of .*", "duplicate", kind)
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


class ImporterError(Exception):
    """The folder cannot be imported at all (not a folder, no usable category name...)."""


# --- ids -----------------------------------------------------------------------------------

#: Simple transliteration, the one the hand-written articles use (`vhod`, `nastrojka`).
TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "j", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya", "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
}
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2028-\u202f\u2060-\u206f\ufeff]")


def slugify(text: str) -> str:
    """One id segment from any name: `Сброс пароля (new)` -> `sbros-parolya-new`."""
    text = _INVISIBLE.sub("-", unicodedata.normalize("NFC", text).lower())
    text = "".join(TRANSLIT.get(ch, ch) for ch in text)
    text = "".join(ch if ch.isascii() else "" if unicodedata.category(ch) == "Mn" else "-"
                   for ch in unicodedata.normalize("NFKD", text))
    text = re.sub(r"[^a-z0-9_]+", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-_")
    if len(text) > MAX_SEGMENT_LENGTH:
        cut = text[:MAX_SEGMENT_LENGTH]
        text = (cut.rsplit("-", 1)[0] if "-" in cut[20:] else cut).strip("-_")
    return text


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


# --- finding files -------------------------------------------------------------------------

def find_sources(src: Path, exclude: Path | None = None) -> list[str]:
    """The Markdown files under `src` as sorted POSIX paths relative to it.

    Hidden folders and files (`.git`, `.github`, `.draft.md`) are not walked; `exclude`
    (the folder the articles are written to) neither. Use it to size a progress bar: the
    import calls `progress` once per path returned here.
    """
    src = Path(src)
    excluded = exclude.resolve() if exclude is not None else None
    found = []
    for folder, dirnames, filenames in os.walk(src):
        here = Path(folder)
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and (excluded is None or (here / d).resolve() != excluded)
        )
        for name in filenames:
            if name.startswith(".") or not name.lower().endswith(SUFFIXES):
                continue
            found.append((here / name).relative_to(src).as_posix())
    return sorted(found)


# --- the import ----------------------------------------------------------------------------

@dataclass
class _Doc:
    rel: str
    source: str
    meta: dict
    body: str
    title: str
    lang: str
    anchors: dict[str, str]
    article_id: str = ""
    translations: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


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

    outcomes: dict[str, _Doc | ImportEntry] = {}
    for rel in find_sources(src, exclude=cat_dir):
        source = f"{src_name}/{rel}"
        try:
            outcomes[rel] = _read_source(src, rel, source, lang)
        except Exception as exc:  # one odd file must not stop the import of the others
            outcomes[rel] = _skip(source, f"conversion failed: {type(exc).__name__}: {exc}")

    docs = [d for d in outcomes.values() if isinstance(d, _Doc)]
    duplicates = _find_duplicates(docs)
    docs = [d for d in docs if d.rel not in duplicates]
    existing, taken = _existing_articles(articles_dir, cat_dir)
    _assign_ids(docs, cat, existing, taken)
    for rel, first in duplicates.items():
        outcomes[rel] = _skip(outcomes[rel].source, f"duplicate of {first.article_id}")
    _link_translations(docs)
    _keep_aliases(docs, taken)

    links = _Links(src_name, docs)
    planned: dict[str, tuple[_Doc, str, str | None]] = {}
    for doc in docs:
        try:
            planned[doc.rel] = _plan(doc, articles_dir, links)
        except Exception as exc:
            outcomes[doc.rel] = _skip(doc.source,
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
                    outcome = _skip(doc.source, f"not a valid article after conversion: {problem}")
                else:
                    write_file_atomic(articles_dir / f"{doc.article_id}.md", text)
                    outcome = ImportEntry(doc.source, doc.article_id,
                                          "updated" if old is not None else "imported")
        report.entries.append(outcome)
        if progress is not None:
            progress(outcome.source)
    return report


def _skip(source: str, reason: str) -> ImportEntry:
    return ImportEntry(source=source, article_id=None, action="skipped", reason=reason)


def _read_source(src: Path, rel: str, source: str, lang_option: str) -> _Doc | ImportEntry:
    parts = rel.split("/")
    name = parts[-1]
    stem = name.rsplit(".", 1)[0]
    if any(p.lower() in FRAGMENT_FOLDERS for p in parts[:-1]):
        return _skip(source, "include fragment (in an includes folder)")
    is_index = stem.lower() == "_index"
    if stem.startswith("_") and not is_index:
        return _skip(source, "include fragment (name starts with _)")
    path = src / rel
    if path.is_symlink():
        return _skip(source, "symbolic link")
    size = path.stat().st_size
    if size > MAX_SOURCE_BYTES:
        return _skip(source, f"larger than {MAX_SOURCE_BYTES // 1024} KB ({size // 1024} KB)")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _skip(source, "not UTF-8")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    try:
        meta, body = _split_front_matter(source, text)
    except ArticleError as exc:
        problem = exc.problems[0]
        return _skip(source, f"{problem.message} (line {problem.line})")
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        # tomllib recurses once per level of nesting, like any recursive-descent parser.
        reason = str(exc).splitlines()[0] if isinstance(exc, tomllib.TOMLDecodeError) \
            else "nested too deeply"
        return _skip(source, f"front matter is not valid TOML: {reason}")
    if not isinstance(meta, dict):
        return _skip(source, "front matter is not a mapping of keys")

    lang = lang_option if lang_option != "auto" else _guess_lang(meta, source, body)
    converted, anchors = _convert(body, lang)
    title = _meta_text(meta.get("title"))
    h1 = _first_h1(converted)
    if not title and h1 is not None:
        title = h1[1]
    if not title:
        title = _humanise(parts[-2] if is_index and len(parts) > 1 else stem)
    if h1 is not None:
        leading = not "".join(converted.split("\n")[:h1[0]]).strip()
        if _same_title(h1[1], title, loose=leading):
            converted = _remove_lines(converted, h1[0], h1[2])
    converted = _tidy(_demote_headings(converted))
    if not _has_text(converted):
        if is_index:
            return _skip(source, "Hugo section index with no text")
        return _skip(source, "no content")
    return _Doc(rel=rel, source=source, meta=meta, body=converted, title=title, lang=lang,
                anchors=anchors)


def _split_front_matter(source: str, text: str) -> tuple[object, str]:
    """Hugo's TOML front matter (`+++`), else YAML front matter (`---`) read as articles'
    is (`ArticleError` when it is broken)."""
    if text.startswith("+++\n"):
        end = text.find("\n+++", 3)
        if end != -1:
            return tomllib.loads(text[4:end]), text[end + 4:].lstrip("\n")
    if not text.startswith("---"):
        return {}, text
    front = read_front_matter(source, text)
    return front.meta, front.body


def _find_duplicates(docs: list[_Doc]) -> dict[str, _Doc]:
    """Files whose title and converted text repeat an earlier file's exactly -> that file."""
    seen: dict[str, _Doc] = {}
    duplicates: dict[str, _Doc] = {}
    for doc in docs:
        key = hashlib.sha1(f"{doc.title}\0{' '.join(doc.body.split())}".encode()).hexdigest()
        first = seen.setdefault(key, doc)
        if first is not doc:
            duplicates[doc.rel] = first
    return duplicates


def _existing_articles(articles_dir: Path, cat_dir: Path) -> tuple[dict[str, str], set[str]]:
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
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not text.startswith("---"):
        return None
    end = text.find("\n---", 3)
    if "source" not in text[3:end if end != -1 else 0]:
        return None
    try:
        # An article broken by hand holds no source we can trust; the import goes on.
        value = read_front_matter(path.name, text).meta.get("source")
    except ArticleError:
        return None
    return value.strip() if isinstance(value, str) else None


def _assign_ids(docs: list[_Doc], category: str, existing: dict[str, str],
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


def _link_translations(docs: list[_Doc]) -> None:
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


def _keep_aliases(docs: list[_Doc], taken: set[str]) -> None:
    """Old ids from the front matter that can redirect here: valid, not the id of an
    article, not claimed by an earlier file."""
    claimed = set(taken) | {d.article_id for d in docs}
    for doc in docs:
        for alias in _words(doc.meta.get("aliases")):
            if is_valid_id(alias) and alias not in claimed:
                doc.aliases.append(alias)
                claimed.add(alias)


def _plan(doc: _Doc, articles_dir: Path, links: _Links) -> tuple[_Doc, str, str | None]:
    """The article file's new text, and its current text (None when there is no file)."""
    body = _resolve_links(doc.body, _Resolver(doc, links))
    text = dump_front_matter(_article_meta(doc)) + "\n" + body.strip("\n") + "\n"
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


# --- front matter --------------------------------------------------------------------------

def _article_meta(doc: _Doc) -> dict:
    meta = doc.meta
    out: dict = {"title": doc.title}
    for key in ("summary", "description", "excerpt"):
        summary = _meta_text(meta.get(key))
        if summary:
            out["summary"] = summary
            break
    out["lang"] = doc.lang
    tags = _words(meta.get("tags")) + _words(meta.get("categories")) + _words(meta.get("keywords"))
    out["tags"] = _unique(tags)
    out["keywords"] = _unique(_words(meta.get("keywords")))
    if _truthy(meta.get("draft")) or meta.get("published") is False:
        out["status"] = "draft"
    for key in ("ms.author", "author"):
        owner = meta.get(key)
        if isinstance(owner, str) and owner.strip():
            out["owner"] = " ".join(owner.split())
            break
    dates = [d for d in (_date(meta.get(k)) for k in ("ms.date", "date", "lastmod")) if d]
    if dates:
        out["reviewed"] = max(dates)
    out["aliases"] = doc.aliases
    out["translations"] = _unique(doc.translations)
    out["source"] = doc.source
    return out


def _meta_text(value) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        return ""
    return " ".join(_INVISIBLE.sub(" ", value).split())


def _words(value) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    words = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            continue
        text = " ".join(str(item).split())
        if text:
            words.append(text)
    return words


def _unique(values: list[str]) -> list[str]:
    seen, out = set(), []
    for value in values:
        if value.casefold() not in seen:
            seen.add(value.casefold())
            out.append(value)
    return out


def _truthy(value) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "yes"))


def _date(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    value = value.strip()
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    try:
        if match:
            month, day, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        match = re.match(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return dt.date(year, month, day)
    except ValueError:
        return None
    return None


def _humanise(name: str) -> str:
    name = _INVISIBLE.sub(" ", name)
    for suffix in SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    text = " ".join(re.sub(r"[-_]+", " ", name).split())
    return text[:1].upper() + text[1:] if text else "Untitled"


# --- language ------------------------------------------------------------------------------

LANG_KEYS = ("lang", "language", "ms.contentlocale", "locale", "ms.locale")


def _guess_lang(meta: dict, source: str, body: str) -> str:
    """The language from the front matter, else a `ru`/`en` folder or `.ru.md` name, else
    the text. A hint the text plainly contradicts loses to it: a `ru-RU` page without a
    single Cyrillic letter (AlchemyInsights has French and Spanish ones), an `en` page
    whose letters are mostly Cyrillic."""
    title = meta.get("title") if isinstance(meta.get("title"), str) else ""
    share = _cyrillic_share(f"{title}\n{body}")
    hint = None
    for key in LANG_KEYS:
        value = meta.get(key)
        if isinstance(value, str):
            match = re.match(r"([a-z]{2})(?:[-_]|$)", value.strip().lower())
            if match and match.group(1) in LANGUAGES:
                hint = match.group(1)
                break
    parts = source.split("/")
    if hint is None:
        hint = next((p.lower() for p in reversed(parts[:-1]) if p.lower() in LANGUAGES), None)
    if hint is None:
        match = re.search(r"\.([a-z]{2})\.(?:md|markdown)$", parts[-1].lower())
        if match and match.group(1) in LANGUAGES:
            hint = match.group(1)
    if share is None:
        return hint or LANGUAGES[0]
    if hint == "ru" and share == 0 or hint == "en" and share > 0.6:
        hint = None
    return hint or ("ru" if share >= 0.3 else "en")


def detect_lang(text: str) -> str:
    """`ru` when at least 30 % of the letters of the prose are Cyrillic, else `en`."""
    share = _cyrillic_share(text)
    if share is None:
        return LANGUAGES[0]
    return "ru" if share >= 0.3 else "en"


def _cyrillic_share(text: str) -> float | None:
    """The share of Cyrillic among the letters of the prose (not code, not addresses)."""
    prose = "\n".join(chunk for is_code, chunk in _split_fences(text) if not is_code)
    prose = re.sub(r"\]\([^)]*\)|https?://\S+|`[^`\n]*`|<[^>\n]*>", " ", prose)
    cyrillic = len(re.findall(r"[\u0400-\u04ff]", prose))
    latin = len(re.findall(r"[A-Za-z]", prose))
    if cyrillic + latin == 0:
        return None
    return cyrillic / (cyrillic + latin)


# --- body conversion -----------------------------------------------------------------------

WORDS = {
    "ru": {"note": "Примечание", "tip": "Совет", "important": "Важно",
           "warning": "Предупреждение", "danger": "Осторожно", "image": "Изображение",
           "video": "Видео"},
    "en": {"note": "Note", "tip": "Tip", "important": "Important", "warning": "Warning",
           "danger": "Caution", "image": "Image", "video": "Video"},
}
ADMONITION_KINDS = {
    "note": "note", "info": "note", "information": "note", "primary": "note",
    "secondary": "note", "light": "note", "dark": "note", "notice": "note",
    "pageinfo": "note", "callout": "note", "tip": "tip", "hint": "tip", "success": "tip",
    "important": "important", "warning": "warning", "caution": "danger", "danger": "danger",
    "error": "danger", "alert": "note",
}
ADMONITION_SHORTCODES = {
    "note", "tip", "info", "warning", "caution", "danger", "important", "alert", "notice",
    "hint", "callout", "pageinfo", "admonition",
}


def convert_body(body: str, lang: str = "en") -> str:
    """The Markdown our renderer understands for a DocFX/Hugo body (links left as they are,
    Hugo `ref` links reduced to their text)."""
    converted, _ = _convert(body.replace("\r\n", "\n"), lang)
    return _tidy(_resolve_links(converted, None))


def _convert(body: str, lang: str) -> tuple[str, dict[str, str]]:
    """Everything but link resolution; returns the body and the old heading anchors."""
    words = WORDS.get(lang, WORDS["en"])
    anchors: dict[str, str] = {}
    keep: list[str] = []
    chunks = []
    for is_code, chunk in _split_fences(body):
        if is_code:
            chunks.append(chunk)
            continue
        chunk = re.sub(r"<!--.*?-->", "", chunk, flags=re.S)
        chunk = _hugo(chunk, words, keep)
        chunk = _docfx(chunk, words)
        chunk = _images(chunk, words)
        chunk = _headings(chunk, anchors)
        # anchors outside headings: `name` is not kept by the sanitizer, `id` is
        chunk = ANCHOR_EMPTY.sub(lambda m: f'<a id="{html.escape(m.group(1))}"></a>', chunk)
        chunks.append(chunk)
    text = "\n".join(chunks)
    text = _restore(text, keep)
    text = _normalise_lists(text)
    return text, anchors


FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")


def _split_fences(text: str) -> list[tuple[bool, str]]:
    """The text as chunks, each flagged True when it is a fenced code block."""
    chunks: list[tuple[bool, str]] = []
    buf: list[str] = []
    fence = ""
    for line in text.split("\n"):
        match = FENCE.match(line)
        if not fence:
            if match and not (match.group(2)[0] == "`" and "`" in match.group(3)):
                if buf:
                    chunks.append((False, "\n".join(buf)))
                buf, fence = [line], match.group(2)
            else:
                buf.append(line)
        else:
            buf.append(line)
            if (match and match.group(2)[0] == fence[0] and len(match.group(2)) >= len(fence)
                    and not match.group(3).strip()):
                chunks.append((True, "\n".join(buf)))
                buf, fence = [], ""
    if buf or not chunks:
        chunks.append((bool(fence), "\n".join(buf)))
    return chunks


def _placeholder(keep: list[str], text: str) -> str:
    keep.append(text)
    return f"\x00{len(keep) - 1}\x00"


def _restore(text: str, keep: list[str]) -> str:
    for _ in range(3):  # placeholders may hold placeholders
        if "\x00" not in text:
            break
        text = re.sub(r"\x00(\d+)\x00", lambda m: keep[int(m.group(1))], text)
    return text.replace("\x00", "")


# --- Hugo shortcodes -----------------------------------------------------------------------

SHORTCODE = re.compile(r"\{\{([<%])\s*(/?)\s*(\w[\w./-]*)((?:[^}\"']|\"[^\"]*\"|'[^']*')*?)"
                       r"\s*(/?)\s*[>%]\}\}")
REF_NAMES = ("ref", "relref")


def _shortcode_args(raw: str) -> tuple[list[str], dict[str, str]]:
    positional, named = [], {}
    pattern = r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))|"([^"]*)"|'([^']*)'|(\S+)"""
    for match in re.finditer(pattern, raw):
        if match.group(1):
            named[match.group(1).lower()] = next(
                (g for g in match.group(2, 3, 4) if g is not None), "")
        else:
            positional.append(next(g for g in match.group(5, 6, 7) if g is not None))
    return positional, named


def _hugo(text: str, words: dict[str, str], keep: list[str]) -> str:
    if "{{" not in text:
        return text
    # {{</* x */>}} is how Hugo pages show a shortcode literally.
    text = re.sub(r"\{\{([<%])/\*(.*?)\*/([>%])\}\}",
                  lambda m: _placeholder(keep, "{{" + m.group(1) + m.group(2) + m.group(3) + "}}"),
                  text, flags=re.S)
    pair = re.compile(
        r"\{\{([<%])\s*(\w[\w./-]*)((?:[^}\"'/]|/(?![>%]\}\})|\"[^\"]*\"|'[^']*')*?)\s*[>%]\}\}"
        r"((?:(?!\{\{[<%]\s*\2[\s>%]).)*?)"
        r"\{\{[<%]\s*/\s*\2\s*[>%]\}\}", re.S)
    for _ in range(20):
        new = pair.sub(lambda m: _hugo_pair(m, words, keep), text)
        if new == text:
            break
        text = new

    def single(match: re.Match) -> str:
        if match.group(3).lower() in REF_NAMES and not match.group(2):
            return match.group(0)  # resolved with the links
        return ""

    return SHORTCODE.sub(single, text)


def _hugo_pair(match: re.Match, words: dict[str, str], keep: list[str]) -> str:
    name = match.group(2).lower()
    positional, named = _shortcode_args(match.group(3))
    content = textwrap.dedent(match.group(4).strip("\n")).strip("\n")
    indent = _line_indent(match)
    if name in ("highlight", "code"):
        lang = named.get("lang") or (positional[0] if positional else "")
        return _fenced(keep, indent, content, lang)
    if name == "tab":
        label = named.get("header") or named.get("title") or (positional[0] if positional else "")
        block = _fenced(keep, indent, content, named["lang"]) if "lang" in named else content
        return f"\n\n{indent}**{_escape(label)}**\n\n{block}\n\n" if label else f"\n\n{block}\n\n"
    if name in ADMONITION_SHORTCODES:
        kind_word = name
        if name == "alert":
            kind_word = named.get("color") or named.get("type") or "note"
        elif name in ("notice", "hint", "callout", "admonition"):
            kind_word = named.get("type") or (positional[0] if positional else "note")
        kind = ADMONITION_KINDS.get(kind_word.lower(), "note")
        title = named.get("title")
        if title is None:
            title = "" if name == "pageinfo" else words.get(kind, kind.capitalize())
        return _admonition(indent, kind, title, content)
    label = named.get("title") or named.get("name") or named.get("header") or ""
    if label and named.get("abbr") and named["abbr"] not in label:
        label = f"{label} ({named['abbr']})"
    if not content.strip():
        return f"**{_escape(label)}**" if label else ""
    if not label:
        return content
    if "\n" not in content:
        return f"**{_escape(label)}** — {content.strip()}"
    return f"\n\n{indent}**{_escape(label)}**\n\n{_indent(content, indent)}\n\n"


def _line_indent(match: re.Match) -> str:
    """The whitespace before the match when it starts its line, else ''."""
    start = match.string.rfind("\n", 0, match.start()) + 1
    prefix = match.string[start:match.start()]
    return prefix if not prefix.strip() else ""


def _fenced(keep: list[str], indent: str, content: str, lang: str) -> str:
    lang = re.sub(r"[^\w+#.-]", "", lang)
    fence = "~~~" if "```" in content else "```"
    return _placeholder(keep, f"\n{fence}{lang}\n{content}\n{fence}\n") if not indent else \
        _placeholder(keep, "\n" + _indent(content, indent + "    ") + "\n")


def _admonition(indent: str, kind: str, title: str, content: str) -> str:
    title = " ".join(title.replace('"', "'").split())
    lines = [f"{indent}!!! {kind} \"{title}\""]
    lines += [f"{indent}    {line}" if line.strip() else "" for line in content.split("\n")]
    return "\n\n" + "\n".join(lines) + "\n\n"


def _indent(text: str, indent: str) -> str:
    return "\n".join(indent + line if line.strip() else "" for line in text.split("\n"))


def _escape(text: str) -> str:
    text = re.sub(r"([\\`*_\[\]])", r"\\\1", " ".join(text.split()))
    return text.replace("<", "&lt;")


# --- DocFX ---------------------------------------------------------------------------------

ALERT = re.compile(r"^(\s*)>\s*\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]\s*(.*)$", re.I)
QUOTE = re.compile(r"^(\s*)>(?: ?)(.*)$")
ALERT_KINDS = {"note": "note", "tip": "tip", "important": "important", "warning": "warning",
               "caution": "danger"}
DOCFX_ATTRS = r"((?:\s+[\w-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s:\"']+))*)"
DOCFX_IMAGE = re.compile(r":::image" + DOCFX_ATTRS + r"\s*:::")
DOCFX_COMPLEX_IMAGE = re.compile(r":::image" + DOCFX_ATTRS + r"\s*:::(.*?):::image-end:::", re.S)
DOCFX_INCLUDE = re.compile(r"\[!(?:INCLUDE|code[\w-]*)\s*\[[^\]]*\]\([^)]*\)\s*\]", re.I)
DOCFX_DIV = re.compile(r"\[!div(?:\s[^\]]*)?\]", re.I)
DOCFX_VIDEO = re.compile(r"\[!VIDEO\s+<?([^\s\]>]+)>?\s*\]", re.I)
DOCFX_NOLOC = re.compile(r":::no-loc\s+text\s*=\s*(?:\"([^\"]*)\"|'([^']*)')\s*:::")


def _docfx(text: str, words: dict[str, str]) -> str:
    if "[!" not in text and ":::" not in text:
        return text
    text = DOCFX_COMPLEX_IMAGE.sub(lambda m: _image_text(_attrs(m.group(1)).get("alt-text"),
                                                         words), text)
    text = DOCFX_IMAGE.sub(lambda m: _image_text(_attrs(m.group(1)).get("alt-text"), words),
                           text)
    text = DOCFX_NOLOC.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(2), text)
    text = DOCFX_VIDEO.sub(lambda m: f"[{words['video']}]({m.group(1)})", text)
    out: list[str] = []
    for line in text.split("\n"):
        new = DOCFX_DIV.sub("", DOCFX_INCLUDE.sub("", line))
        if new != line and not new.strip(" >\t"):
            continue  # the line held nothing else
        if re.match(r"^\s*:::", new):
            continue  # zone / moniker / row / column markers: keep what is between them
        out.append(new)
    return "\n".join(_alerts(out, words))


def _attrs(raw: str) -> dict[str, str]:
    return _shortcode_args(raw)[1]


def _image_text(alt: str | None, words: dict[str, str]) -> str:
    alt = " ".join((alt or "").split())
    return f"*{words['image']}: {_escape(alt)}*" if alt else ""


def _alerts(lines: list[str], words: dict[str, str]) -> list[str]:
    """`> [!NOTE]` quotes become `!!! note` admonitions, at the quote's indentation."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = ALERT.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        indent, kind = match.group(1), ALERT_KINDS[match.group(2).lower()]
        body = [match.group(3)] if match.group(3).strip() else []
        i += 1
        while i < len(lines):
            quoted = QUOTE.match(lines[i])
            if not quoted or len(quoted.group(1).expandtabs(4)) > len(indent.expandtabs(4)) + 3:
                break
            body.append(quoted.group(2))
            i += 1
        content = textwrap.dedent("\n".join(_alerts(body, words))).strip("\n")
        if out and out[-1].strip():
            out.append("")
        out.extend(_admonition(indent, kind, words[kind], content).strip("\n").split("\n"))
        out.append("")
    return out


# --- images, headings ----------------------------------------------------------------------

MD_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
HTML_IMAGE = re.compile(r"<img\b[^>]*>", re.I)
IMAGE_LINK = re.compile(r"(?<!!)\[((?:[^\[\]]|\[[^\]]*\])+)\]"
                        r"\(\s*<?([^)\s>]+\.(?:png|jpe?g|gif|svg|webp|bmp))>?\s*\)", re.I)
EMPTY_LINK = re.compile(r"(?<!!)\[\s*\]\(\s*<?([^)\s>]*)>?\s*\)")


def _is_web(url: str) -> bool:
    return bool(re.match(r"https?://", url, re.I))


def _images(text: str, words: dict[str, str]) -> str:
    """Images whose files are not imported (relative paths) become their alt text."""
    def markdown_image(match: re.Match) -> str:
        return match.group(0) if _is_web(match.group(2)) else _image_text(match.group(1), words)

    def html_image(match: re.Match) -> str:
        attrs = _attrs(match.group(0)[4:].rstrip("/>"))
        return match.group(0) if _is_web(attrs.get("src", "")) else \
            _image_text(attrs.get("alt"), words)

    if "![" in text:
        text = MD_IMAGE.sub(markdown_image, text)
    if "<img" in text.lower():
        text = HTML_IMAGE.sub(html_image, text)
    # a link that only held an image: keep web addresses visible, drop the rest
    text = EMPTY_LINK.sub(lambda m: f"<{m.group(1)}>" if _is_web(m.group(1)) else "", text)
    # a link to an image file that is not imported: keep its text
    return IMAGE_LINK.sub(lambda m: m.group(0) if _is_web(m.group(2)) else m.group(1), text)


HEADING = re.compile(r"^(\s{0,3}#{1,6})(\s+)(.*)$")
ANCHOR_EMPTY = re.compile(r"<a\s+(?:name|id)\s*=\s*[\"']([^\"']*)[\"']\s*/?>\s*</a>", re.I)
ANCHOR_WRAP = re.compile(r"<a\s+(?:name|id)\s*=\s*[\"']([^\"']*)[\"']\s*>(.*?)</a>", re.I)
ATTR_ID = re.compile(r"\s*\{\s*#([\w-]+)[^}]*\}\s*$")


def _headings(text: str, anchors: dict[str, str]) -> str:
    """Strip `<a name="x"></a>` from headings; remember x -> the anchor the page will use."""
    if "#" not in text:
        return text
    lines = text.split("\n")
    for n, line in enumerate(lines):
        match = HEADING.match(line)
        if not match:
            continue
        content = match.group(3)
        found = [m.group(1) for m in ANCHOR_EMPTY.finditer(content)]
        content = ANCHOR_EMPTY.sub("", content)
        found += [m.group(1) for m in ANCHOR_WRAP.finditer(content)]
        content = ANCHOR_WRAP.sub(r"\2", content)
        attr = ATTR_ID.search(content)
        if attr:
            found.append(attr.group(1))
            content = content[:attr.start()]
        if found:
            content = content.strip()
            lines[n] = f"{match.group(1)} {content}"
            for anchor in found:
                anchors.setdefault(anchor, slugify_unicode(_plain(content), "-"))
    return "\n".join(lines)


def _plain(markdown_text: str) -> str:
    """Inline Markdown reduced to its words (for titles and anchors)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown_text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!])", r"\1", text)
    text = re.sub(r"[*_`]+", "", text)
    text = text.replace("&nbsp;", " ").replace("&amp;", "&")
    return " ".join(_INVISIBLE.sub(" ", text).split()).rstrip("#").strip()


def _first_h1(body: str) -> tuple[int, str, int] | None:
    """(line number, text, lines it spans) of the first level-1 heading outside code."""
    offset = 0
    for is_code, chunk in _split_fences(body):
        lines = chunk.split("\n")
        if not is_code:
            for n, line in enumerate(lines):
                match = re.match(r"^ {0,3}#(?!#)\s*(.*?)\s*#*\s*$", line)
                if match and (line.lstrip().startswith("# ") or line.strip() == "#"):
                    return offset + n, _plain(match.group(1)), 1
                if (n + 1 < len(lines) and re.fullmatch(r" {0,3}=+\s*", lines[n + 1])
                        and line.strip() and not line.startswith("    ")
                        and (n == 0 or not lines[n - 1].strip())):
                    return offset + n, _plain(line), 2
        offset += len(lines)
    return None


def _remove_lines(body: str, start: int, count: int) -> str:
    lines = body.split("\n")
    del lines[start:start + count]
    return "\n".join(lines)


def _same_title(heading: str, title: str, loose: bool) -> bool:
    """The heading repeats the title; at the top of the page, rewording it is enough."""
    a = re.sub(r"[\W_]+", " ", heading.casefold()).strip()
    b = re.sub(r"[\W_]+", " ", title.casefold()).strip()
    if a == b:
        return True
    if not loose or not a or not b:
        return False
    x, y = set(a.split()), set(b.split())
    return x <= y or y <= x or len(x & y) / len(x | y) >= 0.6


def _demote_headings(body: str) -> str:
    """When H1s remain in the body, make every heading one level lower: the page's title
    is its only H1."""
    if _first_h1(body) is None:
        return body
    chunks = []
    for is_code, chunk in _split_fences(body):
        if not is_code:
            chunk = re.sub(r"^( {0,3})(#{1,5})(?=\s|$)", r"\1#\2", chunk, flags=re.M)
            chunk = re.sub(r"^( {0,3}\S.*\n {0,3})=+[ \t]*$", r"\1" + "-" * 3, chunk, flags=re.M)
        chunks.append(chunk)
    return "\n".join(chunks)


def _tidy(text: str) -> str:
    lines = [line if line.endswith("  ") and line.strip() else line.rstrip()
             for line in text.split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n") + "\n"


def _has_text(body: str) -> bool:
    text = re.sub(r"<[^>]*>", " ", body)
    text = SHORTCODE.sub(" ", text)
    text = re.sub(r"^\s*!!! \w+.*$", " ", text, flags=re.M)
    text = re.sub(r"^[ \t]*(?:`{3,}|~{3,}).*$", " ", text, flags=re.M)
    return bool(re.search(r"\w", text))


# --- lists ---------------------------------------------------------------------------------

LIST_ITEM = re.compile(r"^( *)([-*+]|\d{1,9}[.)])([ \t]+|$)(.*)$")
THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?: *\1){2,} *$")
FENCE_OPEN = re.compile(r"^( *)(`{3,}|~{3,})\s*([^`\s{]*)[^`]*$")


@dataclass
class _Item:
    marker: int  # the source's indentation of the marker
    content: int  # the source's column of the item's content
    new_content: int  # the column we give it: a multiple of 4
    admonition: bool = False


def _normalise_lists(text: str) -> str:
    """Re-indent list items for Python-Markdown.

    Python-Markdown nests under a list item only what is indented by 4 spaces per level,
    needs a blank line between a paragraph and a list, and sees fenced code only at the top
    level. CommonMark sources indent by the marker's width (2-3 spaces) and fence code
    inside list items and notes: re-indent, and make such fences indented code blocks
    (with a `:::lang` first line, which the highlighter understands).
    """
    lines = [_expand_indent(line) for line in text.split("\n")]
    out: list[str] = []
    stack: list[_Item] = []
    prev = "blank"  # what the previous line was: blank, item, text or block
    prev_shift = 0
    last_code = (-1, -1)  # indentation and last line of the code block we made last
    admonitions: list[int] = []  # indentation of the admonitions still open
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            if last_code[1] == len(out) - 1 and out and not out[-1]:
                continue  # keep "blank line after our code block" detectable
            out.append("")
            prev = "blank"
            continue
        indent = len(line) - len(line.lstrip(" "))
        item = LIST_ITEM.match(line)
        if item and not THEMATIC_BREAK.match(line):
            popped, pops = None, 0
            while stack and indent < stack[-1].content:
                popped, pops = stack.pop(), pops + 1
            if (pops > 1 or popped is not None and prev in ("text", "block")) and out \
                    and out[-1].strip():
                out.append("")  # else the text or nested list before swallows this item
            _close_admonition(admonitions, new_marker := stack[-1].new_content if stack else 0)
            marker, spaces, rest = item.group(2), item.group(3), item.group(4)
            spaces = (" " * indent + marker + spaces).expandtabs(4)[indent + len(marker):]
            width = len(marker) + (len(spaces) if rest and len(spaces) <= 4 else 1)
            first = marker in "-*+" or marker[:-1] == "1"
            if prev == "text" and popped is None and first:
                out.append("")  # a list does not interrupt a paragraph in Python-Markdown
            if marker.endswith(")"):
                marker = marker[:-1] + "."
            stack.append(_Item(indent, indent + width, new_marker + 4))
            out.append(" " * new_marker + f"{marker} {rest}".rstrip())
            prev, prev_shift = "item", new_marker - indent
            continue
        fence = FENCE_OPEN.match(line)
        interrupts = fence or re.match(r" *(#|>|!!! |<)", line)
        lazy = prev in ("text", "item") and stack and indent < stack[-1].content \
            and not interrupts
        if lazy:
            new_indent = max(indent + prev_shift, 0)
        else:
            popped = None
            while stack and indent < stack[-1].content:
                popped = stack.pop()
            base, new_base = (stack[-1].content, stack[-1].new_content) if stack else (0, 0)
            new_indent = new_base  # 1-3 spaces more than the container's mean nothing
            if fence and popped is not None and not popped.admonition and stack \
                    and prev == "blank":
                # code after a nested list: Python-Markdown cannot put it in the outer
                # item (its indentation would be the inner item's), so it joins the inner
                new_indent = popped.new_content
            if indent - base >= 4 and prev == "blank":
                # an indented code block: copy it, shifted with its container
                _separate_from_admonition(out, admonitions, new_base)
                out.append(" " * new_indent + line.lstrip(" "))
                while i < len(lines) and (not lines[i].strip() or
                                          len(lines[i]) - len(lines[i].lstrip(" ")) >= base + 4):
                    out.append(" " * (new_base - base) + lines[i] if lines[i].strip() else "")
                    i += 1
                prev = "block"
                continue
        if fence and not lazy:
            char, length = fence.group(2)[0], len(fence.group(2))
            block = []
            while i < len(lines):
                close = re.match(r"^ *(`{3,}|~{3,})\s*$", lines[i])
                i += 1
                if close and close.group(1)[0] == char and len(close.group(1)) >= length:
                    break
                block.append(lines[i - 1])
            block = [b[min(indent, len(b) - len(b.lstrip(" "))):] for b in block]
            if new_indent == 0 or (not stack and indent < 4):
                out.append(line.lstrip(" "))
                out.extend(block)
                out.append(char * length)
                prev = "block"
                continue
            pad = " " * (new_indent + 4)
            if out and out[-1].strip():
                out.append("")
            _separate_from_admonition(out, admonitions, new_indent)
            # an indented block right after another would continue it: one block then
            follows = last_code == (len(pad), len(out) - 1) if out else False
            if fence.group(3) and not follows:
                out.append(f"{pad}:::{fence.group(3)}")
            out.extend(pad + b if b.strip() else "" for b in block)
            out.append("")
            last_code = (len(pad), len(out) - 1)
            prev = "blank"
            continue
        _close_admonition(admonitions, new_indent)
        out.append(" " * new_indent + line.lstrip(" "))
        prev_shift = new_indent - indent
        stripped = line.lstrip(" ")
        if stripped.startswith("!!! "):
            stack.append(_Item(indent, indent + 4, new_indent + 4, admonition=True))
            admonitions.append(new_indent)
            prev = "item"
        else:
            prev = "block" if stripped.startswith(("#", "<", "|")) else "text"
    return "\n".join(out)


def _close_admonition(admonitions: list[int], indent: int) -> None:
    """A line at `indent` ends the admonitions opened at that indentation or deeper."""
    while admonitions and admonitions[-1] >= indent:
        admonitions.pop()


def _separate_from_admonition(out: list[str], admonitions: list[int], indent: int) -> None:
    """Python-Markdown takes an indented block right after an admonition for part of it:
    an (invisible) comment at the container's indentation ends the admonition first."""
    if admonitions and admonitions[-1] == indent:
        out.extend([" " * indent + "<!-- -->", ""])
        admonitions.pop()


def _expand_indent(line: str) -> str:
    if "\t" not in line:
        return line
    body = line.lstrip(" \t")
    return line[: len(line) - len(body)].expandtabs(4) + body


# --- links ---------------------------------------------------------------------------------

class _Links:
    """The imported files, looked up by their path relative to SRC (any case)."""

    def __init__(self, src_name: str, docs: list[_Doc]):
        self.src_name = src_name
        self.by_lower = {d.rel.lower(): d for d in docs}
        #: every ending of every path (`b/c`, `c` for `a/b/c.md`; folders for `_index.md`)
        self.tails: dict[str, list[_Doc]] = {}
        for rel, doc in self.by_lower.items():
            stem = rel.rsplit(".", 1)[0]
            forms = {stem, stem.removesuffix("/_index"), stem.removesuffix("/index")}
            for form in forms:
                parts = form.split("/")
                for k in range(len(parts)):
                    self.tails.setdefault("/".join(parts[k:]), []).append(doc)


class _Resolver:
    """Finds which imported article a link in `doc` points to."""

    def __init__(self, doc: _Doc, links: _Links):
        self.doc = doc
        self.src_name = links.src_name
        self.by_lower = links.by_lower
        self.tails = links.tails

    def _lookup(self, rel: str) -> _Doc | None:
        rel = rel.strip("/")
        candidates = [rel] if rel.lower().endswith(SUFFIXES) else [
            rel + ".md", rel + ".markdown", rel + "/_index.md", rel + "/index.md",
            rel + "/readme.md"]
        for candidate in candidates:
            found = self.by_lower.get(candidate.lower())
            if found is not None:
                return found
        return None

    def link(self, target: str) -> str | None:
        """`/kb/<id>#anchor` for a relative link to an imported file, else None."""
        url, _, anchor = target.partition("#")
        url = unquote(url).replace("\\", "/")
        if not url or re.match(r"[a-z][\w+.-]*:", url, re.I) or url.startswith("//"):
            return None
        here = self.doc.rel.rsplit("/", 1)[0] if "/" in self.doc.rel else ""
        if url.startswith("/"):
            parts = url.strip("/").split("/", 1)
            if parts[0] != self.src_name or len(parts) == 1:
                # a site-absolute address: the imported file whose path ends the same way
                found = self._by_tail(url, 2)
                return f"/kb/{found.article_id}" + (f"#{anchor}" if anchor else "") \
                    if found is not None else None
            rel = parts[1]
        else:
            rel = _join(here, url)
            if rel is None:
                return None
        found = self._lookup(rel)
        if found is None:
            return None
        return f"/kb/{found.article_id}" + (f"#{anchor}" if anchor else "")

    def ref(self, target: str) -> str | None:
        """Resolve a Hugo `ref`: a content path, absolute or relative, with its extension
        or not; searched near the current page first (same language folder)."""
        url, _, anchor = target.partition("#")
        suffix = f"#{anchor}" if anchor else ""
        url = unquote(url).strip()
        if not url:
            return f"#{anchor}" if anchor else None
        if not url.startswith("/"):
            here = self.doc.rel.rsplit("/", 1)[0] if "/" in self.doc.rel else ""
            rel = _join(here, url)
            found = self._lookup(rel) if rel is not None else None
            if found is not None:
                return f"/kb/{found.article_id}{suffix}"
        best = self._by_tail(url, 0)
        return f"/kb/{best.article_id}{suffix}" if best is not None else None

    def _by_tail(self, url: str, segments: int) -> _Doc | None:
        """The file whose path ends with the last `segments` parts of `url` (all when 0),
        nearest to the current file; a folder stands for its `_index`/`index` page."""
        wanted = url.strip("/").lower()
        for suffix in SUFFIXES:
            wanted = wanted.removesuffix(suffix)
        if segments:
            wanted = "/".join(wanted.split("/")[-segments:])
        if not wanted:
            return None
        here = self.doc.rel.lower()
        candidates = self.tails.get(wanted, [])
        return max(candidates, key=lambda d: _common_prefix(d.rel.lower(), here), default=None)


def _join(here: str, url: str) -> str | None:
    parts = [p for p in here.split("/") if p]
    for part in url.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split("/"), b.split("/"), strict=False):
        if x != y:
            break
        n += 1
    return n


INLINE_LINK = re.compile(r"(\]\()\s*(<[^>\n]*>|[^)\s]*)((?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\))")
REF_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*\{\{[<%]\s*(?:rel)?ref\s+"
                      r"(?:\"([^\"]*)\"|'([^']*)'|([^\s>%]+))\s*[>%]\}\}\s*\)")
BARE_REF = re.compile(r"\{\{[<%]\s*(?:rel)?ref\s+(?:\"([^\"]*)\"|'([^']*)'|([^\s>%]+))\s*"
                      r"[>%]\}\}")
DEFINITION = re.compile(r"^( {0,3}\[[^\]]+\]:\s*)(\S+)(.*)$", re.M)


def _resolve_links(body: str, resolver: _Resolver | None) -> str:
    """Point links at the imported articles; reduce Hugo refs we cannot resolve to text."""
    anchors = resolver.doc.anchors if resolver is not None else {}
    chunks = []
    for is_code, chunk in _split_fences(body):
        if is_code:
            chunks.append(chunk)
            continue
        if "ref" in chunk and "{{" in chunk:
            def ref_link(match: re.Match) -> str:
                target = next(g for g in match.group(2, 3, 4) if g is not None)
                url = resolver.ref(target) if resolver is not None else None
                return f"[{match.group(1)}]({url})" if url else match.group(1)

            def bare_ref(match: re.Match) -> str:
                target = next(g for g in match.group(1, 2, 3) if g is not None)
                url = resolver.ref(target) if resolver is not None else None
                return url or "#"

            chunk = REF_LINK.sub(ref_link, chunk)
            chunk = BARE_REF.sub(bare_ref, chunk)
        if resolver is not None:
            def inline(match: re.Match) -> str:
                target = match.group(2).strip("<>")
                if target.startswith("#"):
                    new = anchors.get(target[1:])
                    return f"{match.group(1)}#{new}{match.group(3)}" if new else match.group(0)
                url = resolver.link(target)
                return f"{match.group(1)}{url}{match.group(3)}" if url else match.group(0)

            def definition(match: re.Match) -> str:
                url = resolver.link(match.group(2).strip("<>"))
                return f"{match.group(1)}{url}{match.group(3)}" if url else match.group(0)

            chunk = INLINE_LINK.sub(inline, chunk)
            chunk = DEFINITION.sub(definition, chunk)
        chunks.append(chunk)
    return "\n".join(chunks)
