"""Suggestions as you type: articles whose title, headings or keywords hold every word typed
so far, the last one possibly unfinished.

A finished word matches any form of itself (its stem) or a longer word it starts; the word
being typed matches as the start of any word. A word that matches nothing is tried with one
typing mistake, and a text that finds nothing is tried as typed on the other keyboard
layout. Words of the title count most, then keywords and tags, then headings.

The words are read once per index generation from the articles' stored fields, into a
sorted vocabulary (a prefix is a range of it) and sets of document numbers, so a
suggestion is a few set operations: no posting is read while the customer types.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import numpy as np

from .analysis import STOP_WORDS
from .analysis import stem
from .analysis import words as folded_words
from .correct import switch_layout
from .scoring import Scorer
from .whoosh_types import Searcher

#: Where a word was found, and what that counts for.
FIELD_WEIGHTS = {"title": 3.0, "keywords": 2.0, "headings": 1.0}
#: Words typed beyond these are not looked at.
MAX_WORDS = 6
#: A word this long or longer may hold one typing mistake.
TYPO_LENGTH = 4
#: The shortest unfinished word that is completed.
MIN_PREFIX = 2
#: Added for an article in the visitor's language (less than one more word matched).
PREFERRED_BONUS = 0.5
#: Added for a title that begins with the words typed, as they are typed.
TITLE_START_BONUS = 2.0


def within_one_edit(a: str, b: str) -> bool:
    """True when `b` is `a` with at most one letter changed, added, removed or two swapped."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = next((k for k, (x, y) in enumerate(zip(short, long, strict=False)) if x != y),
             len(short))
    return short[i:] == long[i + 1:]


class Suggestions:
    """The words of every article's title, keywords and headings, for one index generation."""

    def __init__(self, searcher: Searcher, scorer: Scorer) -> None:
        self.scorer = scorer
        #: Folded word -> {document number: weight of the best field holding it}.
        self.by_word: dict[str, dict[int, float]] = {}
        #: Document number -> its title's folded words, space-separated.
        self.titles: dict[int, str] = {}
        for docnum in np.flatnonzero(scorer.articles):
            data = searcher.stored_fields(int(docnum))["data"]
            self.titles[int(docnum)] = " ".join(folded_words(data["title"]))
            fields = {"title": [data["title"]],
                      "keywords": list(data.get("tags", ())) + list(data.get("keywords", ())),
                      "headings": [title for _level, _anchor, title in data.get("toc", ())]}
            for name, texts in fields.items():
                for word in folded_words(" ".join(texts)):
                    found = self.by_word.setdefault(word, {})
                    found[int(docnum)] = max(found.get(int(docnum), 0.0), FIELD_WEIGHTS[name])
        self.vocabulary = sorted(self.by_word)
        #: Stem -> the vocabulary words of that stem.
        self.by_stem: dict[str, list[str]] = {}
        for word in self.vocabulary:
            self.by_stem.setdefault(stem(word), []).append(word)

    def _starting(self, prefix: str) -> list[str]:
        start = bisect.bisect_left(self.vocabulary, prefix)
        end = bisect.bisect_left(self.vocabulary, prefix + "\U0010ffff")
        return self.vocabulary[start:end]

    def _candidates(self, word: str, finished: bool) -> list[str]:
        """The vocabulary words `word` stands for (see the module's docstring)."""
        found = set(self._starting(word))
        if finished:
            found.update(self.by_stem.get(stem(word), ()))
        if found or len(word) < TYPO_LENGTH:
            return sorted(found)
        # One typing mistake: the same first letter, then at most one edit in the part typed.
        return [w for w in self._starting(word[0])
                if within_one_edit(word, w if finished else w[:len(word)])
                or (not finished and within_one_edit(word, w[:len(word) + 1]))]

    def _weights(self, word: str, finished: bool) -> dict[int, float]:
        weights: dict[int, float] = {}
        for candidate in self._candidates(word, finished):
            for docnum, weight in self.by_word[candidate].items():
                weights[docnum] = max(weights.get(docnum, 0.0), weight)
        return weights

    def _scores(self, typed: list[str]) -> dict[int, float]:
        """Documents holding every typed word but stop words, valued by where they hold
        them; stop words ("нет", "от") only add to the value of those that have them."""
        required = [i for i, w in enumerate(typed) if w not in STOP_WORDS]
        if not required:
            return {}
        found = {i: self._weights(w, i < len(typed) - 1) for i, w in enumerate(typed)}
        scores = found[required[0]]
        for i in required[1:]:
            scores = {d: s + found[i][d] for d, s in scores.items() if d in found[i]}
        for i, word in enumerate(typed):
            if word in STOP_WORDS:
                scores = {d: s + found[i].get(d, 0.0) for d, s in scores.items()}
        # A title that begins with what was typed is what the customer is spelling out.
        start = " ".join(typed)
        return {d: s + (TITLE_START_BONUS if self.titles[d].startswith(start) else 0.0)
                for d, s in scores.items()}

    def find(self, text: str, allowed: np.ndarray, limit: int,
             prefer: np.ndarray | None = None) -> list[str]:
        """The ids of the best `limit` allowed articles for what is typed so far."""
        for attempt in _readings(text):
            typed = _typed_words(attempt)
            if not typed:
                continue
            scores = {d: s for d, s in self._scores(typed).items() if allowed[d]}
            if prefer is not None:
                scores = {d: s + (PREFERRED_BONUS if prefer[d] else 0.0)
                          for d, s in scores.items()}
            if scores:
                best = sorted(scores, key=lambda d: (-scores[d], d))[:limit]
                return [self.scorer.ids[d] for d in best]
        return []


def _readings(text: str) -> Iterable[str]:
    """What was typed, then the same keys on the other keyboard layout."""
    yield text
    switched = [switch_layout(chunk) for chunk in text.split()]
    if switched and all(s is not None for s in switched):
        yield " ".join(s for s in switched if s is not None)


def _typed_words(text: str) -> list[str]:
    """The folded words typed, in order."""
    return [w for w in folded_words(text) if len(w) >= MIN_PREFIX][:MAX_WORDS]
