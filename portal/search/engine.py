"""Searching: query -> ranked articles, each with the section that answers and a snippet."""

from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass
from dataclasses import field

from markupsafe import Markup
from whoosh.query import And
from whoosh.query import Or
from whoosh.query import Term

from .analysis import WORD
from .analysis import fold
from .analysis import stem
from .analysis import words as folded_words
from .correct import Vocabulary
from .correct import correct
from .index import ArticleInfo
from .index import SearchIndex
from .query import ParsedQuery
from .query import SynonymMap
from .query import parse
from .query import slots as query_slots
from .schema import ARTICLE_FIELDS
from .schema import SECTION_FIELDS
from .scoring import Scorer

#: Score multiplier for a document matching none but one of several query words:
#: coverage c in [0, 1] scales a score by (1 - COVERAGE_WEIGHT * (1 - c)).
COVERAGE_WEIGHT = 0.6
#: Score multiplier for the share t of the query found in the title: 1 + TITLE_WEIGHT * t^p.
TITLE_WEIGHT = 1.0
TITLE_POWER = 2.0
MAX_RESULTS = 1000
SNIPPET_WORDS = 32


@dataclass
class Hit:
    """One article in the results, with the section that answers best."""

    id: str
    title: str
    url: str
    summary: str
    lang: str
    category: str
    score: float
    snippet: Markup
    section: str | None = None
    anchor: str | None = None
    source: str | None = None

    @property
    def link(self) -> str:
        return f"{self.url}#{self.anchor}" if self.anchor else self.url


@dataclass
class SearchResults:
    query: str
    total: int = 0
    hits: list[Hit] = field(default_factory=list)
    page: int = 1
    per_page: int = 10
    corrected: str | None = None
    correction_kinds: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def pages(self) -> int:
        return max(1, math.ceil(min(self.total, MAX_RESULTS) / self.per_page))


@dataclass(frozen=True)
class Scope:
    """Which articles a search may return."""

    lang: str | None = None
    category: str | None = None
    include_hidden: bool = False


def _filters(scope: Scope):
    terms = []
    if scope.lang:
        terms.append(Term("lang", scope.lang))
    if scope.category:
        terms.append(Term("category", scope.category))
    filter_q = And(terms) if len(terms) > 1 else (terms[0] if terms else None)
    mask = None
    if not scope.include_hidden:
        mask = Or([Term("audience", "internal"), Term("status", "draft"),
                   Term("status", "archived")])
    return filter_q, mask


def search(index: SearchIndex, raw: str | None, scope: Scope = Scope(), page: int = 1,
           per_page: int = 10, allow_correction: bool = True) -> SearchResults:
    """Search the knowledge base as a customer (or, with `include_hidden`, as staff)."""
    started = time.perf_counter()
    parsed = parse(raw)
    result = SearchResults(query=parsed.text, page=page, per_page=per_page)
    if parsed.is_empty:
        if allow_correction and parsed.chunks:
            parsed_fixed = _corrected(index, parsed)
            if parsed_fixed is not None:
                parsed, result.corrected, result.correction_kinds = parsed_fixed
        if parsed.is_empty:
            result.elapsed_ms = (time.perf_counter() - started) * 1000
            return result
    synonyms = index.derived("synonym_map", lambda s: SynonymMap(index.synonyms()))
    ranked, total = _rank(index, parsed, scope, synonyms)
    if allow_correction and result.corrected is None:
        fixed = _corrected(index, parsed)
        if fixed is not None:
            fixed_parsed, text, kinds = fixed
            fixed_ranked, fixed_total = _rank(index, fixed_parsed, scope, synonyms)
            if fixed_ranked:
                parsed, ranked, total = fixed_parsed, fixed_ranked, fixed_total
                result.corrected, result.correction_kinds = text, kinds
    result.total = total
    first = (page - 1) * per_page
    result.hits = _hits(index, parsed, ranked[first:first + per_page], synonyms)
    result.elapsed_ms = (time.perf_counter() - started) * 1000
    return result


def _corrected(index: SearchIndex, parsed: ParsedQuery):
    vocab = index.derived("vocabulary", Vocabulary)
    fix = correct(parsed.chunks, vocab)
    if fix is None:
        return None
    fixed = parsed.with_chunks(fix.chunks)
    if fixed.text == parsed.text:
        return None
    return fixed, fixed.text, fix.kinds


def _rank(index: SearchIndex, parsed: ParsedQuery, scope: Scope,
          synonyms: SynonymMap) -> tuple[list[tuple[str, float]], int]:
    """The best article ids with scores, best first, and how many articles matched."""
    slots = query_slots(parsed, synonyms)
    if not slots:
        return [], 0
    with index.searcher():
        scorer: Scorer = index.derived("scorer", Scorer)
        ranking = scorer.rank(slots, ARTICLE_FIELDS, title_field="title")
        scores = ranking.scores
        if len(slots) > 1:
            scores = scores * (1 - COVERAGE_WEIGHT * (1 - ranking.coverage))
        # Short help articles are about what their title says: an article whose title holds
        # most of the query beats one that mentions the same words somewhere in its body.
        scores = scores * (1 + TITLE_WEIGHT * ranking.title_coverage ** TITLE_POWER)
        allowed = scorer.mask(scope.lang, scope.category, scope.include_hidden)
        top, total = scorer.top(scores, allowed, MAX_RESULTS)
        return [(scorer.ids[docnum], score) for docnum, score in top], total


def _hits(index: SearchIndex, parsed: ParsedQuery, ranked: list[tuple[str, float]],
          synonyms: SynonymMap) -> list[Hit]:
    if not ranked:
        return []
    catalog = index.catalog()
    ids = [doc_id for doc_id, _ in ranked]
    stems = set(parsed.terms())
    for phrase in parsed.phrase_terms():
        stems.update(phrase)
    hits = []
    # One searcher for the whole page: stored fields are read by document number, which the
    # scorer already knows, instead of one id lookup (and index check) per hit.
    with index.searcher() as searcher:
        scorer: Scorer = index.derived("scorer", Scorer)
        sections = _best_sections(searcher, scorer, parsed, ids, synonyms)
        for doc_id, score in ranked:
            info: ArticleInfo = catalog[doc_id]
            section = sections.get(doc_id)
            if section is not None:
                text = section["text"]
            else:
                docnum = scorer.by_id.get(doc_id)
                data = searcher.stored_fields(docnum)["data"] if docnum is not None else {}
                text = data.get("text") or info.summary
            hits.append(Hit(
                id=doc_id, title=info.title, url=info.url, summary=info.summary,
                lang=info.lang, category=info.category, score=round(score, 4),
                snippet=snippet(text, stems) if text else Markup(""),
                section=section["title"] if section else None,
                anchor=section["anchor"] if section else None,
                source=info.source,
            ))
    return hits


def _best_sections(searcher, scorer: Scorer, parsed: ParsedQuery, ids: list[str],
                   synonyms: SynonymMap) -> dict[str, dict]:
    """For each article, the stored data of its section that matches the query best."""
    docnums = scorer.section_docnums(set(ids))
    if not docnums:
        return {}
    slots = query_slots(parsed, synonyms)
    if not slots:
        return {}
    scores = scorer.score(slots, SECTION_FIELDS, COVERAGE_WEIGHT)
    best: dict[str, tuple[float, int]] = {}
    for docnum in docnums:
        value = scores[docnum]
        article = scorer.section_article[docnum]
        if value > 0 and value > best.get(article, (0.0, -1))[0]:
            best[article] = (value, docnum)
    return {article: searcher.stored_fields(docnum)["data"]
            for article, (_, docnum) in best.items()}


def snippet(text: str, stems: set[str], size: int = SNIPPET_WORDS) -> Markup:
    """The passage of `text` with the most query words, HTML-escaped, matches in <mark>.

    A passage is `size` words; it is valued by its distinct query words first, then by
    all of them. Only passages starting at a match can be best, so only those are tried.
    """
    tokens = list(WORD.finditer(text[:20_000]))
    if not tokens:
        return Markup("")
    keys: dict[str, str | None] = {}
    found: list[str | None] = []
    for m in tokens:
        word = m.group()
        if word not in keys:
            key = stem(fold(word))
            keys[word] = key if key in stems else None
        found.append(keys[word])
    positions = [i for i, key in enumerate(found) if key is not None]
    best_start, best_end, best_value = 0, min(size, len(tokens)), -1
    counts: dict[str, int] = {}
    right = 0  # index into positions: matches inside [start, start + size)
    for left, start in enumerate(positions):
        while right < len(positions) and positions[right] < start + size:
            key = found[positions[right]]
            counts[key] = counts.get(key, 0) + 1
            right += 1
        value = len(counts) * 10 + (right - left)
        if value > best_value:
            best_start, best_value = start, value
            best_end = positions[right - 1] + 1
        key = found[start]
        counts[key] -= 1
        if not counts[key]:
            del counts[key]
    # Give the passage some words before its first match when they fit.
    best_start = max(0, best_end - size, best_start - size // 4)
    window = range(best_start, min(len(tokens), best_start + size))
    begin = tokens[window[0]].start() if best_start else 0
    end = tokens[window[-1]].end()
    parts = []
    cursor = begin
    for i in window:
        if found[i] is not None:
            m = tokens[i]
            parts.append(html.escape(text[cursor:m.start()]))
            parts.append(f"<mark>{html.escape(m.group())}</mark>")
            cursor = m.end()
    parts.append(html.escape(text[cursor:end]))
    prefix = "… " if begin > 0 else ""
    suffix = " …" if end < len(text.rstrip()) else ""
    body = " ".join("".join(parts).split())
    return Markup(prefix + body + suffix)


def suggest(index: SearchIndex, raw: str | None, scope: Scope = Scope(),
            limit: int = 8) -> list[ArticleInfo]:
    """Articles whose titles start with the words typed so far, for suggestions as you type."""
    typed = [w for w in folded_words(parse(raw).text) if len(w) >= 2][:6]
    if not typed:
        return []
    query = And([Term("title_prefix", w[:20]) for w in typed])
    filter_q, mask = _filters(scope)
    catalog = index.catalog()
    with index.searcher() as searcher:
        reader_ids = searcher.reader().column_reader("id")
        results = searcher.search(query, limit=limit, filter=filter_q, mask=mask)
        ids = [reader_ids[docnum] for _, docnum in results.top_n]
    return [catalog[i] for i in ids if i in catalog]


def related(index: SearchIndex, article_id: str, limit: int = 5) -> list[ArticleInfo]:
    """Public articles about the same things as this one, in its language."""

    def compute(_searcher) -> dict:
        return {}

    cache = index.derived("related", compute)
    if article_id in cache:
        return cache[article_id]
    catalog = index.catalog()
    info = catalog.get(article_id)
    if info is None:
        return []
    text = " ".join([info.title, " ".join(info.tags)])
    parsed = ParsedQuery(text=text, chunks=text.split())
    slots = query_slots(parsed, SynonymMap([]))
    found: list[ArticleInfo] = []
    if slots:
        with index.searcher():
            scorer: Scorer = index.derived("scorer", Scorer)
            scores = scorer.score(slots, {"title": 2.0, "keywords": 1.5, "headings": 1.0,
                                          "summary": 1.0}, COVERAGE_WEIGHT)
            allowed = scorer.mask(info.lang, None, False)
            top, _ = scorer.top(scores, allowed, limit + 1)
            for docnum, _score in top:
                doc_id = scorer.ids[docnum]
                if doc_id != article_id and doc_id in catalog:
                    found.append(catalog[doc_id])
    if len(cache) > 5000:
        cache.clear()
    cache[article_id] = found[:limit]
    return cache[article_id]
