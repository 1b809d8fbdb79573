"""BM25F ranking over Whoosh's postings, computed with numpy.

Whoosh stores and matches; scoring a customer's OR query of a dozen words over five fields
through Whoosh's pure-Python matchers costs 40-60 ms on 3,000 articles. Here each
(field, term) posting list is read once per index generation and turned into per-document
length-normalised frequencies; a query is then a few vector operations over all documents.

The score is BM25F: a term's weighted frequencies in all fields are added *before* the
saturation, so a word found in the title and again in the body counts once, strongly, and
an article that matches more of the query's words beats one that repeats a single word.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import TypeVar
from typing import cast

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.query import Phrase

from .index import column_values
from .schema import KIND_ARTICLE
from .schema import KIND_SECTION
from .whoosh_types import Reader
from .whoosh_types import Searcher

K1 = 1.2
#: Length normalisation per field: titles and keyword lists barely need it.
B = {"title": 0.3, "keywords": 0.3, "headings": 0.5, "summary": 0.5, "body": 0.75,
     "sec_title": 0.3, "sec_body": 0.75}
CACHE_TERMS = 50_000

T = TypeVar("T")


@dataclass(frozen=True)
class Alternative:
    """One way to match a slot: a word, or a run of words.

    A run must stand together (a phrase) when `adjacent`; otherwise its words need only all
    occur in the document, which is much cheaper than reading positions, and close enough
    for synonyms such as "общий доступ" or "windows 10".
    """

    stems: tuple[str, ...]
    weight: float = 1.0
    adjacent: bool = True


@dataclass(frozen=True)
class Slot:
    """One thing the customer asked for: what they typed and its synonyms."""

    alternatives: tuple[Alternative, ...]


@dataclass
class Ranking:
    """Per-document vectors of one query: the score and what it is made of."""

    scores: np.ndarray
    #: Share of the query's weight (idf of each slot) the document matches, 0..1.
    coverage: np.ndarray
    #: Share of the query's weight the document matches in its title field, 0..1.
    title_coverage: np.ndarray
    #: Share of the title's words that the query matches, 0..1: 1 when the title is
    #: nothing but what was asked ("Поиск в SharePoint Online" for that very query).
    title_precision: np.ndarray
    #: Per slot: which documents match it in any of its ways, and the slot's weight (the
    #: idf of what was typed, else of its best other form; 0 when no document has any).
    slot_matches: list[np.ndarray] = field(default_factory=list)
    slot_weights: list[float] = field(default_factory=list)


def read_postings(reader: Reader, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and term frequencies of one posting list, as arrays.

    Whoosh's own iteration decodes every posting's value (its positions) in Python; on
    disk, each block of postings already holds its ids and weights, so whole blocks are
    taken at once: 2-10x faster for common words. This reads the block internals of the
    W3 codec of the pinned Whoosh-Reloaded 2.7.5; should they differ, and for anything but
    an on-disk block list (inlined postings of rare words), the ordinary interface is used.
    Postings of deleted documents may be included: the caller drops them.
    """
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for leaf, offset in reader.leaf_readers():
        if not leaf.doc_frequency(field, term):
            continue
        matcher = leaf.postings(field, term)
        inner = getattr(matcher, "child", matcher)  # unwrap the deleted-documents filter
        found: tuple[np.ndarray, np.ndarray] | None = None
        if isinstance(inner, W3LeafMatcher):
            try:
                found = _read_blocks(inner)
            except (AttributeError, TypeError, ValueError):
                found = None
                matcher = leaf.postings(field, term)
        if found is None:
            items = list(matcher.items_as("weight"))
            found = (np.array([d for d, _ in items], dtype=np.int64),
                     np.array([w for _, w in items], dtype=np.float64))
        ids.append(found[0] + offset)
        weights.append(found[1])
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty(0)
    return np.concatenate(ids), np.concatenate(weights)


def _read_blocks(matcher: W3LeafMatcher) -> tuple[np.ndarray, np.ndarray] | None:
    """All ids and weights of an on-disk posting list, block by block (see read_postings)."""
    if matcher._byteids:
        return None
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    while not matcher._atend:
        matcher._read_data()
        block_ids, block_weights = matcher._data[0], matcher._data[1]
        count = matcher._blocklength
        # Ids are stored as gaps from the previous one, starting from 0 in each block.
        ids.append(np.cumsum(np.asarray(block_ids, dtype=np.int64)))
        if block_weights is None or isinstance(block_weights, float):
            weights.append(np.full(count, 1.0 if block_weights is None else block_weights))
        else:
            weights.append(np.asarray(block_weights, dtype=np.float64))
        if matcher._lastblock:
            break
        matcher._next_block()
    if not ids:
        return np.empty(0, dtype=np.int64), np.empty(0)
    return np.concatenate(ids), np.concatenate(weights)


class Scorer:
    """Arrays describing one index generation, and the postings read from it so far."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        reader = searcher.reader()
        self.reader = reader
        self.size = reader.doc_count_all()
        # Whole columns at once: reading them item by item is ten times slower.
        columns = {name: column_values(reader, name) for name in
                   ("id", "kind", "article", "lang", "category", "audience", "status")}
        live = np.ones(self.size, dtype=bool)
        if reader.has_deletions():
            live[:] = False
            live[list(reader.all_doc_ids())] = True
        self.live = live
        self.has_deletions = not live.all()
        self.ids: list[str] = columns["id"]
        kinds = np.array(columns["kind"], dtype=object)
        self.articles = live & (kinds == KIND_ARTICLE)
        self.sections = live & (kinds == KIND_SECTION)
        self.section_article: list[str] = columns["article"]
        self._values: dict[str, np.ndarray] = {name: np.array(columns[name], dtype=object)
                        for name in ("lang", "category", "audience", "status")}
        unpublished = self._values["status"] != "published"
        #: What each visibility (see `Scope.visibility`) may not see.
        self.hidden: dict[str, np.ndarray] = {
            "public": (self._values["audience"] == "internal") | unpublished,
            "staff": unpublished}
        self._lengths: dict[str, tuple[np.ndarray, float]] = {}
        #: Postings and masks by what they were computed from, least recently used first.
        self._cache: OrderedDict[tuple[object, ...], object] = OrderedDict()
        self._masks: dict[tuple[str | None, str | None, str, str], np.ndarray] = {}
        self.by_id = {doc_id: n for n, doc_id in enumerate(self.ids)
                      if self.articles[n] or self.sections[n]}

    def section_docnums(self, article_ids: set[str]) -> list[int]:
        """The live section entries of the given articles."""
        if not hasattr(self, "_sections_of"):
            self._sections_of: dict[str, list[int]] = {}
            for docnum in np.flatnonzero(self.sections):
                self._sections_of.setdefault(self.section_article[docnum], []).append(int(docnum))
        return [n for a in article_ids for n in self._sections_of.get(a, ())]

    def language_is(self, lang: str) -> np.ndarray:
        """Which documents are in `lang`."""
        return self._cached(("lang", lang), lambda: self._values["lang"] == lang)

    def mask(self, lang: str | None, category: str | None, visibility: str = "public",
             kind: str = KIND_ARTICLE) -> np.ndarray:
        """Which documents a search may return ("public", "staff" or "all"; see `Scope`)."""
        key = (lang, category, visibility, kind)
        if key not in self._masks:
            allowed = (self.articles if kind == KIND_ARTICLE else self.sections).copy()
            if lang:
                allowed &= self._values["lang"] == lang
            if category:
                allowed &= self._values["category"] == category
            if visibility in self.hidden:
                allowed &= ~self.hidden[visibility]
            self._masks[key] = allowed
        return self._masks[key]

    # --- postings ----------------------------------------------------------------------------

    def _cached(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            # A key names one kind of computation (its first item), so one type of value.
            return cast(T, found)
        value = compute()
        self._cache[key] = value
        if len(self._cache) > CACHE_TERMS:
            self._cache.popitem(last=False)
        return value

    def _field_lengths(self, field: str) -> tuple[np.ndarray, float]:
        if field not in self._lengths:
            reader = self.reader
            lengths = np.fromiter((reader.doc_field_length(n, field, 0) for n in range(self.size)),
                                  dtype=np.float64, count=self.size)
            present = lengths[lengths > 0]
            average = float(present.mean()) if present.size else 1.0
            self._lengths[field] = (lengths, average)
        return self._lengths[field]

    def frequencies(self, field: str, term: str) -> tuple[np.ndarray, np.ndarray]:
        """Documents containing `term` in `field`, with its length-normalised frequency."""

        def compute() -> tuple[np.ndarray, np.ndarray]:
            ids, tf = read_postings(self.reader, field, term)
            if self.has_deletions and ids.size:
                keep = self.live[ids]
                ids, tf = ids[keep], tf[keep]
            if ids.size:
                lengths, average = self._field_lengths(field)
                b = B.get(field, 0.75)
                tf = tf / (1 - b + b * lengths[ids] / average)
            return ids, tf

        return self._cached(("tf", field, term), compute)

    def _population(self, fields: tuple[tuple[str, float], ...]) -> int:
        sections = all(name.startswith("sec_") for name, _ in fields)
        return int(self.sections.sum() if sections else self.articles.sum()) or 1

    def term(self, fields: tuple[tuple[str, float], ...], term: str) -> tuple[
            np.ndarray, np.ndarray, float]:
        """Documents with `term` in any of the weighted fields, their BM25F frequency, and idf."""

        def compute() -> tuple[np.ndarray, np.ndarray, float]:
            parts: list[tuple[np.ndarray, np.ndarray]] = []
            for name, weight in fields:
                ids, tf = self.frequencies(name, term)
                if ids.size:
                    parts.append((ids, weight * tf))
            if not parts:
                return np.empty(0, dtype=np.int64), np.empty(0), 0.0
            if len(parts) == 1:
                ids, tf = parts[0]
            else:
                ids, inverse = np.unique(np.concatenate([p[0] for p in parts]),
                                         return_inverse=True)
                tf = np.bincount(inverse, weights=np.concatenate([p[1] for p in parts]))
            population = self._population(fields)
            df = min(ids.size, population)
            idf = math.log(1 + (population - df + 0.5) / (df + 0.5))
            return ids, tf, idf

        return self._cached(("bm25f", fields, term), compute)

    def phrase_docs(self, field: str, stems: tuple[str, ...]) -> np.ndarray:
        """Documents where the stems stand together, in this order, in `field`."""

        def compute() -> np.ndarray:
            if all(self.reader.doc_frequency(field, s) for s in stems):
                found = self.searcher.docs_for_query(Phrase(field, list(stems)))
                return np.fromiter(found, dtype=np.int64)
            return np.array([], dtype=np.int64)

        return self._cached(("phrase", field, stems), compute)

    # --- scoring -----------------------------------------------------------------------------

    def alternative_scores(self, alternative: Alternative,
                           fields: tuple[tuple[str, float], ...]) -> tuple[np.ndarray, float]:
        """BM25F scores of every document for one way of matching a slot, and its idf."""
        total = np.zeros(self.size)
        if len(alternative.stems) == 1:
            ids, tf, idf = self.term(fields, alternative.stems[0])
            if ids.size:
                total[ids] = alternative.weight * idf * tf * (K1 + 1) / (tf + K1)
            return total, idf
        part = np.zeros(self.size)
        idfs: list[float] = []
        docs: np.ndarray | None = None
        for stem_ in alternative.stems:
            ids, tf, idf = self.term(fields, stem_)
            part[ids] += idf * tf * (K1 + 1) / (tf + K1)
            idfs.append(idf)
            docs = ids if docs is None else np.intersect1d(docs, ids, assume_unique=True)
        assert docs is not None  # a run has two stems or more
        if alternative.adjacent and docs.size:
            docs = np.intersect1d(docs, np.unique(np.concatenate(
                [self.phrase_docs(name, alternative.stems) for name, _ in fields])),
                assume_unique=True)
        if docs.size == 0:
            return total, 0.0
        total[docs] = alternative.weight * part[docs]
        # A phrase is rarer than any of its words: count it as its rarest word.
        return total, max(idfs)

    def in_field(self, alternative: Alternative, field: str) -> np.ndarray:
        """Documents matching one alternative in a single field."""
        if len(alternative.stems) == 1:
            return self.frequencies(field, alternative.stems[0])[0]
        if alternative.adjacent:
            return self.phrase_docs(field, alternative.stems)
        docs = self.frequencies(field, alternative.stems[0])[0]
        for stem_ in alternative.stems[1:]:
            docs = np.intersect1d(docs, self.frequencies(field, stem_)[0], assume_unique=True)
        return docs

    def rank(self, slots: list[Slot], fields: dict[str, float],
             title_field: str | None = None) -> Ranking:
        """Every document's BM25F score summed over slots, with its (title) coverage.

        A slot scores as its best alternative. Each slot weighs as much as its rarest
        typed form (idf), so missing "продлить" costs more than missing "настроить"; a slot
        matched only through a synonym or a fix covers it at that alternative's weight.
        """
        key = tuple(fields.items())
        total = np.zeros(self.size)
        covered = np.zeros(self.size)
        titled = np.zeros(self.size)
        title_slots = np.zeros(self.size)
        weights = 0.0
        slot_matches: list[np.ndarray] = []
        slot_weights: list[float] = []
        for slot in slots:
            best = np.zeros(self.size)
            matched = np.zeros(self.size)
            in_title = np.zeros(self.size)
            idfs = []
            for alternative in slot.alternatives:
                scores, idf = self.alternative_scores(alternative, key)
                idfs.append(idf)
                if not idf:
                    continue
                strength = min(alternative.weight, 1.0)
                np.maximum(best, scores, out=best)
                np.maximum(matched, strength * (scores > 0), out=matched)
                if title_field:
                    docs = self.in_field(alternative, title_field)
                    in_title[docs] = np.maximum(in_title[docs], strength)
            # The slot weighs as what was typed; as its best synonym if the index lacks that.
            slot_idf = idfs[0] or max(idfs)
            slot_matches.append(matched > 0)
            slot_weights.append(slot_idf)
            if not slot_idf:
                continue
            total += best
            covered += slot_idf * np.minimum(matched, 1.0)
            weights += slot_idf
            titled += slot_idf * np.minimum(in_title, 1.0)
            title_slots += in_title > 0
        if weights:
            covered /= weights
            titled /= weights
        precision = np.zeros(self.size)
        if title_field:
            lengths = self._field_lengths(title_field)[0]
            np.divide(title_slots, lengths, out=precision, where=lengths > 0)
            np.minimum(precision, 1.0, out=precision)
        return Ranking(total, covered, titled, precision, slot_matches, slot_weights)

    def score(self, slots: list[Slot], fields: dict[str, float],
              coverage_weight: float) -> np.ndarray:
        """Every document's score: slot scores summed, scaled down for slots it misses."""
        ranking = self.rank(slots, fields)
        if len(slots) > 1:
            return ranking.scores * (1 - coverage_weight * (1 - ranking.coverage))
        return ranking.scores

    def top(self, scores: np.ndarray, allowed: np.ndarray, limit: int) -> tuple[
            list[tuple[int, float]], int]:
        """The best `limit` allowed documents with positive scores, and how many there are."""
        candidates = np.flatnonzero(allowed & (scores > 0))
        if candidates.size == 0:
            return [], 0
        values = scores[candidates]
        if candidates.size > limit:
            keep = np.argpartition(-values, limit - 1)[:limit]
            candidates, values = candidates[keep], values[keep]
        order = np.lexsort((candidates, -values))
        return [(int(candidates[i]), float(values[i])) for i in order], int(
            np.count_nonzero(allowed & (scores > 0)))
