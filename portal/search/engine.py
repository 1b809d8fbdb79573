"""Searching: query -> ranked articles, each with the section that answers and a snippet.

An article's score is its BM25F match of the query's slots (each typed word with its
relatives, synonyms and fixes; see `query.slots`), scaled down for the share of the query
it misses (by idf: rare words matter more) and up for the share found in its title and for
a title made of little but the query. Short help articles are about what their title says.

Experts' best bets come first on the first page: the articles pinned to a query whose
normalized form (stems, sorted) is the query's, as far as the search's scope may show them.
"""

from __future__ import annotations

import html
import itertools
import math
import re
import time
from dataclasses import dataclass
from dataclasses import field
from functools import lru_cache

import numpy as np
from markupsafe import Markup
from whoosh.query import And
from whoosh.query import Or
from whoosh.query import Term

from .analysis import FILLER_WORDS
from .analysis import NEGATIONS
from .analysis import STOP_WORDS
from .analysis import WORD
from .analysis import fold
from .analysis import stem
from .analysis import word_stem
from .correct import Vocabulary
from .correct import correct
from .correct import latin_to_cyrillic
from .index import ArticleInfo
from .index import SearchIndex
from .lexicon import builtin_lexicon
from .query import ParsedQuery
from .query import SynonymMap
from .query import WordFamilies
from .query import mined_entries
from .query import normalized_form
from .query import parse
from .query import slots as query_slots
from .relations import Relation
from .relations import mine
from .schema import ARTICLE_FIELDS
from .schema import SECTION_FIELDS
from .scoring import Ranking
from .scoring import Scorer
from .scoring import Slot
from .suggest import Suggestions
from .whoosh_types import Query
from .whoosh_types import Searcher
from .whoosh_types import StoredFields

#: Score multiplier for a document matching only part of a query of several words: the
#: idf-weighted share c in [0, 1] it matches scales its score by (1 - COVERAGE_WEIGHT * (1 - c)).
COVERAGE_WEIGHT = 0.6
#: Score multiplier for the title: 1 + TITLE_WEIGHT * t ** TITLE_POWER + TITLE_PRECISION_WEIGHT
#: * p, where t is the idf-weighted share of the query found in the title and p the share of
#: the title's words that the query matches.
TITLE_WEIGHT = 1.0
TITLE_POWER = 2.0
TITLE_PRECISION_WEIGHT = 0.3
OTHER_LANGUAGE_FACTOR = 0.8
MAX_RESULTS = 1000
#: Results scoring below this share of the best one are not shown: they hold some of the
#: query's words, but in passing, and only bury the answer (on the demo knowledge base a
#: 2-5 word query listed half of all articles).
RELATIVE_CUT = 0.2
_FILLER_STEMS = frozenset(stem(word) for word in FILLER_WORDS)
_NEGATION_STEMS = frozenset(stem(word) for word in NEGATIONS)
SNIPPET_WORDS = 32
#: What stands between two words where a sentence ends: a full stop (!, ?, …) or a line break.
_SENTENCE_BREAK = re.compile(r"[.!?…]\s|\n")
#: At most this many best-bet articles lead the results of one query.
MAX_PINNED = 10


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
    #: An expert pinned this article to the query (a best bet).
    pinned: bool = False
    #: The article lacks some informative word of the query (see `SearchResults.missing`).
    partial: bool = False

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
    #: No article found has every informative word of the query: the words (as typed) the
    #: best of them lacks. The knowledge base may not answer this question yet.
    missing: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return bool(self.missing)

    @property
    def pages(self) -> int:
        return max(1, math.ceil(min(self.total, MAX_RESULTS) / self.per_page))


@dataclass(frozen=True)
class Scope:
    """Which articles a search may return."""

    lang: str | None = None
    category: str | None = None
    #: "public": published public articles (customers); "staff": internal ones too;
    #: "all": drafts and archived as well (the expert's editor).
    visibility: str = "public"
    #: The visitor's language: articles in other languages rank a little lower, so that a
    #: Russian reader gets the Russian article first when a translation matches as well.
    prefer_lang: str | None = None


def _filters(scope: Scope) -> tuple[Query | None, Query | None]:
    """Whoosh's filter (what to keep) and mask (what to drop) for the scope."""
    terms: list[Query] = []
    if scope.lang:
        terms.append(Term("lang", scope.lang))
    if scope.category:
        terms.append(Term("category", scope.category))
    filter_q = And(terms) if len(terms) > 1 else (terms[0] if terms else None)
    hidden = {"public": [Term("audience", "internal"), Term("status", "draft"),
                         Term("status", "archived")],
              "staff": [Term("status", "draft"), Term("status", "archived")]}
    mask = Or(hidden[scope.visibility]) if scope.visibility in hidden else None
    return filter_q, mask


@dataclass
class _Generation:
    """What searching needs from one index generation, fetched with one `derived` call."""

    scorer: Scorer
    synonyms: SynonymMap
    families: WordFamilies
    catalog: dict[str, ArticleInfo]
    searcher: Searcher
    #: Normalized form of a best bet's query -> its article ids.
    best_bets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _vocabulary: Vocabulary | None = None

    @classmethod
    def of(cls, index: SearchIndex) -> _Generation:
        def compute(searcher: Searcher) -> _Generation:
            # The parts are derived values of their own, shared with `related` and the rest.
            return cls(
                scorer=index.derived("scorer", Scorer),
                synonyms=index.derived("synonym_map", lambda _s: SynonymMap(
                    index.synonyms(), builtin_lexicon(),
                    mined=mined_entries(mined_relations(index), index.relations_off()))),
                families=index.derived("word_families", lambda s: WordFamilies(
                    s, index.relations_off())),
                catalog=index.catalog(), searcher=searcher,
                best_bets=index.derived("best_bet_map", lambda _s: _bet_map(index)))

        return index.derived("search_generation", compute)

    def vocabulary(self) -> Vocabulary:
        """The index vocabulary, built on the first query that needs correcting."""
        if self._vocabulary is None:
            self._vocabulary = Vocabulary(self.searcher, self.synonyms.known_stems())
        return self._vocabulary

    def slots(self, query: ParsedQuery) -> list[Slot]:
        """What to look for: typed words, synonyms, the lexicon, word families and fixes."""
        return query_slots(query, self.synonyms, self.families)

    def pinned(self, query: ParsedQuery, scope: Scope) -> list[str]:
        """The articles experts pinned to this query that `scope` may show, in their order."""
        ids = self.best_bets.get(query.normalized) if self.best_bets and query.text else None
        if not ids:
            return []
        allowed = self.scorer.mask(scope.lang, scope.category, scope.visibility)
        docnums = self.scorer.by_id
        return [i for i in ids if (n := docnums.get(i)) is not None and allowed[n]][:MAX_PINNED]


def mined_relations(index: SearchIndex) -> list[Relation]:
    """The relations mined from this index generation's articles (see `relations`)."""
    return index.derived("mined_relations", lambda _s: mine(index.mining_sources()))


def all_relations(index: SearchIndex) -> list[Relation]:
    """Every mined and derived relation of this generation, switched off or not, for the
    experts' list: abbreviations, translations, keywords, then word families."""
    with index.searcher():
        gen = _Generation.of(index)
        return [*mined_relations(index), *gen.families.relations()]


def _bet_map(index: SearchIndex) -> dict[str, tuple[str, ...]]:
    """The best bets by the normalized form of their query; bets of one form are merged."""
    found: dict[str, tuple[str, ...]] = {}
    for bet in index.best_bets():
        key = normalized_form(bet.query)
        found[key] = tuple(dict.fromkeys(found.get(key, ()) + bet.articles))
    return found


def search(index: SearchIndex, raw: str | None, scope: Scope = Scope(), page: int = 1,
           per_page: int = 10, allow_correction: bool = True) -> SearchResults:
    """Search the knowledge base as a customer (or, by `scope.visibility`, as staff).

    Words the index does not know are fixed (keyboard layout, spelling, transliteration)
    when `allow_correction`; the fixes are searched together with what was typed, and the
    page says "showing results for" the fixed query when they found something. Best bets
    of the query (else of the fixed query) lead the results and count in the total.
    """
    started = time.perf_counter()
    typed = parse(raw)
    result = SearchResults(query=typed.text, page=page, per_page=per_page)
    with index.searcher():
        gen = _Generation.of(index)
        fix = _Fix.of(gen, typed) if allow_correction else None
        searched = fix.searched if fix else typed
        pinned = gen.pinned(typed, scope)
        if searched.is_empty and not pinned:
            result.elapsed_ms = (time.perf_counter() - started) * 1000
            return result
        # Only the requested page is turned into hits; ranks beyond it are not even sorted.
        wanted = min(max(page, 1) * per_page, MAX_RESULTS)
        slots = gen.slots(searched)
        found = _rank(gen.scorer, slots, scope, wanted, pinned)
        if fix is not None:
            if found.total > len(pinned):
                result.corrected, result.correction_kinds = fix.shown.text, fix.kinds
                if not pinned and (pinned := gen.pinned(fix.shown, scope)):
                    found = _rank(gen.scorer, slots, scope, wanted, pinned)
            else:
                # The fixed query found nothing: search what was typed after all.
                searched, slots = typed, gen.slots(typed)
                found = _rank(gen.scorer, slots, scope, wanted, pinned)
        result.total = found.total
        if found.lacking and not pinned:
            result.missing = _named(searched, [slots[i] for i in found.lacking])
        first = (page - 1) * per_page
        result.hits = _hits(gen, slots, found.ranked[first:first + per_page])
        for hit in result.hits:
            hit.pinned = hit.id in pinned
            hit.partial = not hit.pinned and hit.id not in found.complete
    result.elapsed_ms = (time.perf_counter() - started) * 1000
    return result


@dataclass(frozen=True)
class _Fix:
    """A correction of the words the index does not know, as two queries: the one searched
    (the keyboard layout fixed, each unknown word with its fixes as other ways to match it,
    so that a wrong guess cannot hide what was typed) and the one shown ("showing results
    for")."""

    searched: ParsedQuery
    shown: ParsedQuery
    kinds: list[str]

    @classmethod
    def of(cls, gen: _Generation, typed: ParsedQuery) -> _Fix | None:
        """The fix of `typed`, if it has words to fix and they can be fixed."""
        if not typed.chunks:
            return None
        fix = correct(list(typed.chunks), gen.vocabulary())
        if fix is None:
            return None
        shown = typed.with_chunks(fix.chunks)
        if shown.text == typed.text:
            return None
        return cls(typed.with_chunks(fix.layout_chunks, fix.words), shown, fix.kinds)


@dataclass
class _Ranked:
    """The best articles of one query, best first, and how far they answer it."""

    ranked: list[tuple[str, float]]
    total: int
    #: The ranked articles holding every informative slot.
    complete: set[str] = field(default_factory=set)
    #: When no article found holds them all: the informative slots the best one lacks.
    lacking: list[int] = field(default_factory=list)


def _informative(slot: Slot) -> bool:
    """A slot that says what the question is about, not how it is asked: not a filler word,
    nor a stop word typed in Latin letters ("chto", "ne")."""
    return _informative_stems(slot.alternatives[0].stems)


def _informative_stems(typed: tuple[str, ...] | list[str]) -> bool:
    if set(typed) <= _FILLER_STEMS:
        return False
    return not (len(typed) == 1 and _latin_stop_word(typed[0]))


#: Markup tags pasted into the search box (their names are not what anyone asked about).
_MARKUP_TAG = re.compile(r"<[^<>]*>")


def informative_words(raw: str | None) -> list[str]:
    """The stems of a query that say what it is about, as search sees them: no stop words,
    no words of asking, no markup tags. Empty: nothing to search for (signs, `</div>`)."""
    return list(_informative_words(raw or ""))


@lru_cache(maxsize=10_000)
def _informative_words(raw: str) -> tuple[str, ...]:
    # The gaps page asks this of every sample query of every gap on each load.
    parsed = parse(_MARKUP_TAG.sub(" ", raw))
    stems = [*parsed.terms, *(t for phrase in parsed.phrase_terms for t in phrase)]
    return tuple(t for t in stems if _informative_stems([t]))


@lru_cache(maxsize=10_000)
def _latin_stop_word(word: str) -> bool:
    return word.isascii() and any(w in STOP_WORDS for w in latin_to_cyrillic(word)[:3])


def _completeness(ranking: Ranking, informative: list[int], shown: np.ndarray) -> np.ndarray:
    """Which of the `shown` articles hold every informative slot in one of its ways (word
    forms, synonyms, fixes): none when a slot is one no article has."""
    complete = shown.copy()
    for i in informative:
        complete &= ranking.slot_matches[i]
    return complete


def _about_something(ranking: Ranking, informative: list[int]) -> np.ndarray:
    """The documents holding at least one informative slot: words of asking alone
    ("подскажите, что делать") find nothing, an honest "nothing found"."""
    found = np.zeros(len(ranking.scores), dtype=bool)
    for i in informative:
        found |= ranking.slot_matches[i]
    return found


def _named(shown: ParsedQuery, slots: list[Slot]) -> list[str]:
    """The words of `slots` as the page shows the query (with its corrections, if any)."""
    typed: dict[str, str] = {}
    for chunk in shown.chunks:
        for word in WORD.findall(chunk):
            typed.setdefault(stem(fold(word)), word)
    named = [" ".join(typed.get(s, s) for s in slot.alternatives[0].stems) for slot in slots]
    return list(dict.fromkeys(named))


def _rank(scorer: Scorer, slots: list[Slot], scope: Scope, limit: int = MAX_RESULTS,
          pinned: list[str] | None = None) -> _Ranked:
    """The best `limit` article ids with scores, best first, and how many articles matched.

    The `pinned` ids (best bets the scope may show) come first, matched or not, and are
    not repeated among the others, which must score at least `RELATIVE_CUT` of the best.
    """
    pinned = pinned or []
    if not slots:
        return _Ranked([(doc_id, 0.0) for doc_id in pinned], len(pinned))
    ranking = scorer.rank(slots, ARTICLE_FIELDS, title_field="title")
    scores = ranking.scores
    if len(slots) > 1:
        scores = scores * (1 - COVERAGE_WEIGHT * (1 - ranking.coverage))
    # Short help articles are about what their title says: an article whose title holds
    # most of the query beats one that mentions the same words somewhere in its body.
    scores = scores * (1 + TITLE_WEIGHT * ranking.title_coverage ** TITLE_POWER
                       + TITLE_PRECISION_WEIGHT * ranking.title_precision)
    if scope.prefer_lang and not scope.lang:
        scores = np.where(scorer.language_is(scope.prefer_lang), scores,
                          scores * OTHER_LANGUAGE_FACTOR)
    allowed = scorer.mask(scope.lang, scope.category, scope.visibility)
    docnums = [scorer.by_id[doc_id] for doc_id in pinned]
    if docnums:
        allowed = allowed.copy()
        allowed[docnums] = False
    informative = [i for i, slot in enumerate(slots) if _informative(slot)]
    allowed = allowed & (scores > 0) & _about_something(ranking, informative)
    if allowed.any():
        allowed &= scores >= RELATIVE_CUT * scores[allowed].max()
    wanted = max(limit - len(pinned), 1)
    if scope.prefer_lang and not scope.lang:
        # All languages: the interface language leads, each language best first. The cut
        # above stays the same for both, so a weak match never leads for its language alone.
        own = allowed & scorer.language_is(scope.prefer_lang)
        top, total = scorer.top(scores, own, wanted)
        others, more = scorer.top(scores, allowed & ~own, wanted)
        top, total = (top + others)[:wanted], total + more
    else:
        top, total = scorer.top(scores, allowed, wanted)
    first = [(doc_id, float(scores[n])) for doc_id, n in zip(pinned, docnums, strict=True)]
    complete = _completeness(ranking, informative, allowed)
    lacking = []
    if top and not complete.any():
        best = top[0][0]
        lacking = [i for i in informative if not ranking.slot_matches[i][best]]
    return _Ranked(first + [(scorer.ids[docnum], score) for docnum, score in top],
                   total + len(pinned), {scorer.ids[n] for n, _ in top if complete[n]}, lacking)


def _hits(gen: _Generation, slots: list[Slot], ranked: list[tuple[str, float]]) -> list[Hit]:
    if not ranked:
        return []
    scorer, searcher = gen.scorer, gen.searcher
    ids = [doc_id for doc_id, _ in ranked]
    # Highlight every form that counted: typed words, relatives and synonyms (a negation
    # only scores a phrase: marking every «не» would say nothing).
    stems = {s for slot in slots for alternative in slot.alternatives for s in alternative.stems
             if s not in _NEGATION_STEMS}
    sections = _best_sections(searcher, scorer, slots, ids)
    hits: list[Hit] = []
    for doc_id, score in ranked:
        info: ArticleInfo = gen.catalog[doc_id]
        section = sections.get(doc_id)
        if section is not None:
            # A section that is only a table has no prose to quote: the summary then.
            text = section["text"] or info.summary
        else:
            # Stored fields by document number, which the scorer knows: no id lookup.
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


def _best_sections(searcher: Searcher, scorer: Scorer, slots: list[Slot],
                   ids: list[str]) -> dict[str, StoredFields]:
    """For each article, the stored data of its section that matches the query best."""
    docnums = scorer.section_docnums(set(ids))
    if not docnums or not slots:
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
    text = text[:20_000]
    words = WORD.findall(text)
    if not words:
        return Markup("")
    # The query stem of each distinct word that has one; then where those words stand.
    keys = {w: key for w in set(words) if (key := word_stem(w)) in stems}
    positions = [i for i, w in enumerate(words) if w in keys]
    found = {i: keys[words[i]] for i in positions}
    best_start, best_end, best_value = 0, min(size, len(words)), -1
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
    # Give the passage some words before its first match when they fit: from the start of
    # a sentence when one starts among them, so that the passage reads as sentences.
    match = best_start
    best_start = max(0, best_end - size, best_start - size // 4)
    sentence = _sentence_start(text, best_start, match)
    if sentence is not None:
        best_start = sentence
    stop = min(len(words), best_start + size)
    # Character offsets are needed for the chosen words only.
    window = list(itertools.islice(WORD.finditer(text), best_start, stop))
    begin = window[0].start() if best_start else 0
    # A passage reaching the last word keeps what ends the text (its full stop).
    end = window[-1].end() if stop < len(words) else len(text.rstrip())
    parts = []
    cursor = begin
    for i, m in enumerate(window, best_start):
        if i in found:
            parts.append(html.escape(text[cursor:m.start()]))
            parts.append(f"<mark>{html.escape(m.group())}</mark>")
            cursor = m.end()
    parts.append(html.escape(text[cursor:end]))
    prefix = "… " if begin > 0 and sentence is None else ""
    suffix = " …" if end < len(text.rstrip()) else ""
    body = " ".join("".join(parts).split())
    return Markup(prefix + body + suffix)


def _sentence_start(text: str, first: int, last: int) -> int | None:
    """The first of the words `first`..`last` of `text` that begins a sentence (or a line:
    a paragraph, a list item), or None when they all stand inside one."""
    if first == 0:
        return 0
    spans = list(itertools.islice(WORD.finditer(text), first - 1, last + 1))
    for i in range(1, len(spans)):
        if _SENTENCE_BREAK.search(text[spans[i - 1].end():spans[i].start()]):
            return first - 1 + i
    return None


def suggest(index: SearchIndex, raw: str | None, scope: Scope = Scope(),
            limit: int = 8) -> list[ArticleInfo]:
    """Articles for what is typed so far, for suggestions as you type (see `suggest`)."""
    text = parse(raw).text
    if not text:
        return []
    catalog = index.catalog()
    with index.searcher():
        scorer: Scorer = index.derived("scorer", Scorer)
        table: Suggestions = index.derived("suggestions", lambda s: Suggestions(s, scorer))
        allowed = scorer.mask(scope.lang, scope.category, scope.visibility)
        prefer = (scorer.language_is(scope.prefer_lang)
                  if scope.prefer_lang and not scope.lang else None)
        ids = table.find(text, allowed, limit, prefer)
    return [catalog[i] for i in ids if i in catalog]


def related(index: SearchIndex, article_id: str, limit: int = 5) -> list[ArticleInfo]:
    """Public articles about the same things as this one, in its language."""

    def compute(_searcher: Searcher) -> dict[str, list[ArticleInfo]]:
        return {}

    cache = index.derived("related", compute)
    if article_id in cache:
        return cache[article_id]
    catalog = index.catalog()
    info = catalog.get(article_id)
    if info is None:
        return []
    text = " ".join([info.title, " ".join(info.tags)])
    parsed = ParsedQuery(text=text, chunks=tuple(text.split()))
    slots = query_slots(parsed, SynonymMap([]))
    found: list[ArticleInfo] = []
    if slots:
        with index.searcher():
            scorer: Scorer = index.derived("scorer", Scorer)
            scores = scorer.score(slots, {"title": 2.0, "keywords": 1.5, "headings": 1.0,
                                          "summary": 1.0}, COVERAGE_WEIGHT)
            allowed = scorer.mask(info.lang, None, "public")
            top, _ = scorer.top(scores, allowed, limit + 1)
            for docnum, _score in top:
                doc_id = scorer.ids[docnum]
                if doc_id != article_id and doc_id in catalog:
                    found.append(catalog[doc_id])
    if len(cache) > 5000:
        cache.clear()
    cache[article_id] = found[:limit]
    return cache[article_id]
