"""Customer queries: words and quoted phrases only, turned into Whoosh queries.

No query syntax is parsed from customer input: field names, wildcards, ranges, fuzzy
operators and boosts are just words here. Queries are bounded in length and in terms.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from functools import cached_property

from .analysis import NEGATIONS
from .analysis import STOP_WORDS
from .analysis import WORD
from .analysis import derivation_key
from .analysis import fold
from .analysis import stem
from .index import term_frequencies
from .lexicon import Entry
from .relations import Relation
from .scoring import Alternative
from .scoring import Slot
from .whoosh_types import Searcher

MAX_QUERY_CHARS = 200
#: Terms of one query: a long question of 25 words is searched whole.
MAX_WORDS = 25
#: Weight of a synonym's match relative to the word the customer typed: the editors' groups,
#: then the built-in lexicon of colloquial and standard terms.
SYNONYM_WEIGHT = 0.7
LEXICON_WEIGHT = 0.6
#: Weight of a relation mined from the articles themselves (abbreviations, translations,
#: keywords; see `relations`): a hint found by rule, below every list a person wrote.
MINED_WEIGHT = 0.5
#: Ways of matching one slot besides the typed word (each costs a few posting lookups).
MAX_ALTERNATIVES = 8
#: Weight of a derivational relative of a typed word, and how many relatives are tried.
RELATIVE_WEIGHT = 0.8
MAX_RELATIVES = 2
#: Weight of the fix of an unknown word (spelling, transliteration).
CORRECTION_WEIGHT = 0.9
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


@dataclass(frozen=True)
class ParsedQuery:
    """A customer's query, analysed once: the bounded text, its free chunks and "quoted
    phrases", and what search needs of them (terms, phrase terms, negations, normalized
    form), each worked out on first use. A correction gives a new value of the same kind
    (`with_chunks`), carrying the fixes of its unknown words."""

    text: str
    chunks: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    #: Other ways to match an unknown typed word, from a correction: its stem -> the stems
    #: of its likeliest fixes (spelling, transliteration).
    fixes: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @cached_property
    def terms(self) -> tuple[str, ...]:
        """The stems of the free words, in order, without stop words and duplicates."""
        seen: dict[str, None] = {}
        for word in self._words:
            if word not in STOP_WORDS:
                seen.setdefault(stem(word))
        return tuple(seen)[:MAX_WORDS]

    @cached_property
    def phrase_terms(self) -> tuple[tuple[str, ...], ...]:
        """The stems of each quoted phrase."""
        found = []
        for phrase in self.phrases:
            stems = [stem(w) for w in map(fold, WORD.findall(phrase)) if w not in STOP_WORDS]
            if stems:
                found.append(tuple(stems[:MAX_WORDS]))
        return tuple(found)

    @cached_property
    def negations(self) -> dict[str, str]:
        """The stems of the free words typed right after a negation («не приходит»), each
        with the negation's own stem."""
        return {stem(word): stem(before) for before, word in itertools.pairwise(self._words)
                if before in NEGATIONS and word not in STOP_WORDS}

    @cached_property
    def normalized(self) -> str:
        """What the query asks for, for grouping searches and matching best bets: its
        stems, sorted, so that inflection, word order, ё and stop words do not split "the
        same" question in two."""
        stems = set(self.terms).union(*self.phrase_terms)
        return " ".join(sorted(stems)) if stems else fold(self.text)

    @property
    def is_empty(self) -> bool:
        return not (self.terms or self.phrase_terms)

    @cached_property
    def _words(self) -> tuple[str, ...]:
        """The folded free words, stop words included, in order."""
        return tuple(fold(w) for chunk in self.chunks for w in WORD.findall(chunk))

    def with_chunks(self, chunks: Iterable[str],
                    fixes: Mapping[str, tuple[str, ...]] | None = None) -> ParsedQuery:
        """The same query with its free chunks replaced, and the fixes of its unknown
        words (a correction)."""
        chunks = tuple(chunks)
        quoted = " ".join(f'"{p}"' for p in self.phrases)
        text = " ".join(filter(None, [" ".join(chunks), quoted]))
        return ParsedQuery(text=text, chunks=chunks, phrases=self.phrases, fixes=fixes or {})


def clean_query(raw: str | None) -> str:
    """The query as we keep it: control characters removed, spaces folded, length bounded."""
    if not raw:
        return ""
    text = _CONTROL.sub(" ", str(raw))
    text = " ".join(text.split())
    return text[:MAX_QUERY_CHARS].strip()


def parse(raw: str | None) -> ParsedQuery:
    """Split a customer's query into free chunks and "quoted phrases"."""
    text = clean_query(raw)
    chunks: list[str] = []
    phrases: list[str] = []
    parts = text.split('"')
    if len(parts) % 2 == 0:
        # An unmatched quote: the text after it is ordinary words.
        parts[-2:] = [parts[-2] + " " + parts[-1]]
    for index, part in enumerate(parts):
        if index % 2:
            if part.strip():
                phrases.append(part.strip())
        else:
            chunks.extend(part.split())
    return ParsedQuery(text=text, chunks=tuple(chunks), phrases=tuple(phrases))


class SynonymMap:
    """Expands runs of query stems with other ways of saying the same thing.

    Three sources: the editors' synonym groups (every member stands for every other), the
    built-in lexicon's directed entries (colloquial -> standard), which weigh less, and the
    relations mined from the articles (`relations.mine`), which weigh least.
    """

    def __init__(self, groups: list[list[str]], lexicon: Iterable[Entry] = (),
                 lexicon_weight: float | None = None, mined: Iterable[Entry] = ()) -> None:
        lexicon_weight = LEXICON_WEIGHT if lexicon_weight is None else lexicon_weight
        #: run of stems -> {alternative run of stems: weight}, best first.
        self.alternatives: dict[tuple[str, ...], dict[tuple[str, ...], float]] = {}
        for group in groups:
            members = _unique_runs(group)
            for member in members:
                for other in members:
                    if other != member:
                        self._add(member, other, SYNONYM_WEIGHT)
        for keys, values in lexicon:
            targets = _unique_runs(values)
            for key in _unique_runs(keys):
                for target in targets:
                    if target != key:
                        self._add(key, target, lexicon_weight)
        for keys, values in mined:
            targets = _unique_runs(values)
            for key in _unique_runs(keys):
                for target in targets:
                    if target != key:
                        # Words matched score each: an expansion of one typed word counts
                        # as one word («ЕПД» -> «единый платёжный документ»), below it.
                        self._add(key, target, MINED_WEIGHT * min(1.0, len(key) / len(target)))
        for run, options in self.alternatives.items():
            self.alternatives[run] = dict(sorted(options.items(), key=lambda o: -o[1]))
        self.longest = max((len(k) for k in self.alternatives), default=0)

    def known_stems(self) -> set[str]:
        """Single stems with synonyms: real words even where the articles lack them."""
        return {run[0] for run in self.alternatives if len(run) == 1}

    def _add(self, run: tuple[str, ...], other: tuple[str, ...], weight: float) -> None:
        options = self.alternatives.setdefault(run, {})
        options[other] = max(weight, options.get(other, 0.0))

    def slots(self, stems: list[str]) -> list[tuple[tuple[str, ...], dict[tuple[str, ...], float]]]:
        """Group `stems` into slots: each run matched by a synonym, with its alternatives."""
        slots = []
        i = 0
        while i < len(stems):
            for size in range(min(self.longest, len(stems) - i), 0, -1):
                run = tuple(stems[i:i + size])
                if run in self.alternatives:
                    slots.append((run, self.alternatives[run]))
                    i += size
                    break
            else:
                slots.append(((stems[i],), {}))
                i += 1
        return slots


def _unique_runs(phrases: Iterable[str]) -> list[tuple[str, ...]]:
    """The stems of each phrase (stop words dropped), without empty or repeated runs."""
    runs: list[tuple[str, ...]] = []
    for phrase in phrases:
        stems = tuple(stem(fold(w)) for w in WORD.findall(phrase) if fold(w) not in STOP_WORDS)
        if stems and stems not in runs:
            runs.append(stems)
    return runs


class WordFamilies:
    """The index's stems grouped by derivation: подключ / подключен / подключа.

    Built once per index generation from the vocabulary of the main text fields; a query
    word then also matches its relatives that the articles actually use.
    """

    FIELDS = ("title", "body")

    def __init__(self, searcher: Searcher, off: frozenset[str] = frozenset()) -> None:
        reader = searcher.reader()
        frequency: dict[str, int] = {}
        for name in self.FIELDS:
            for text, count in term_frequencies(reader, name).items():
                frequency[text] = max(frequency.get(text, 0), count)
        groups: dict[str, list[str]] = {}
        for text in frequency:
            key = derivation_key(text)
            if key != text:
                groups.setdefault(key, []).append(text)
        for key, members in groups.items():
            if key in frequency:  # the bare key is a stem of its own: подключ
                members.append(key)
            members.sort(key=lambda m: -frequency[m])
        #: derivation key -> its stems in the articles, the most used first.
        self.groups = {key: tuple(m) for key, m in groups.items() if len(m) > 1}
        #: The families experts switched off (by `family_key`): listed, not used.
        self.off = off

    def relatives(self, stem_: str, limit: int = MAX_RELATIVES) -> list[str]:
        """Other stems of the same family, the most used first."""
        key = derivation_key(stem_)
        if family_key(key) in self.off:
            return []
        members = self.groups.get(key, ())
        return [m for m in members if m != stem_][:limit]

    def relations(self) -> list[Relation]:
        """Each family as a relation, for the experts' list (stems, the most used first)."""
        return [Relation("family", members[0], ", ".join(members[1:]), ident=family_key(key))
                for key, members in sorted(self.groups.items())]


def family_key(key: str) -> str:
    """The key by which experts switch off the word family of this derivation key."""
    return f"family:{key}"


def mined_entries(relations: Iterable[Relation], off: frozenset[str]) -> list[Entry]:
    """The lexicon entries of the mined relations experts did not switch off."""
    entries: list[Entry] = []
    for relation in relations:
        if relation.key in off:
            continue
        entries.append(((relation.left,), (relation.right,)))
        if relation.both_ways:
            entries.append(((relation.right,), (relation.left,)))
    return entries


def slots(parsed: ParsedQuery, synonyms: SynonymMap,
          families: WordFamilies | None = None) -> list[Slot]:
    """What to look for: one slot per word or phrase typed, each with its other forms.

    Every slot is optional; ranking rewards documents that match more of them. Besides the
    typed word, a slot matches (weaker) its derivational relatives (подключить ->
    подключение), its synonyms, and for an unknown word its correction (`parsed.fixes`,
    stem -> stems) with the corrections' own relatives and synonyms. The strongest
    `MAX_ALTERNATIVES` other forms are kept.
    """
    found = []
    negated = parsed.negations
    for run, alternatives in synonyms.slots(list(parsed.terms)):
        options: dict[tuple[str, ...], float] = {}
        _expand(options, run, 1.0, alternatives, families)
        negation: tuple[Alternative, ...] = ()
        if len(run) == 1 and run[0] in negated:
            # «не приходит»: the articles that say it, negation and all, score above those
            # that only use the word (the phrase adds the negation's own small weight).
            negation = (Alternative((negated[run[0]], run[0]), 1.0, adjacent=True),)
        if len(run) == 1:
            for fixed in parsed.fixes.get(run[0], ()):
                _offer(options, (fixed,), CORRECTION_WEIGHT)
                _expand(options, (fixed,), CORRECTION_WEIGHT,
                        synonyms.alternatives.get((fixed,), {}), families)
        options.pop(run, None)
        strongest = sorted(options.items(), key=lambda o: -o[1])[:MAX_ALTERNATIVES]
        # Typed words grouped by a synonym ("каждый год") need not stand together, and
        # neither do the words of a synonym: positions are costly to read, and a synonym is
        # a hint, not what the customer typed.
        found.append(Slot((Alternative(run, adjacent=False),) + negation + tuple(
            Alternative(alt, weight, adjacent=False) for alt, weight in strongest)))
    for stems in parsed.phrase_terms:
        found.append(Slot((Alternative(stems, 1.5),)))
    return found


def _offer(options: dict[tuple[str, ...], float], run: tuple[str, ...], weight: float) -> None:
    """Add one way of matching a slot, keeping the highest weight it is offered at."""
    options[run] = max(weight, options.get(run, 0.0))


def _expand(options: dict[tuple[str, ...], float], run: tuple[str, ...], weight: float,
            synonyms: dict[tuple[str, ...], float], families: WordFamilies | None) -> None:
    """Add the relatives and synonyms of one way of matching a slot, at `weight` of theirs."""
    if families is not None and len(run) == 1:
        for relative in families.relatives(run[0]):
            _offer(options, (relative,), weight * RELATIVE_WEIGHT)
    for alt, alt_weight in synonyms.items():
        _offer(options, alt, weight * alt_weight)


def normalized_form(raw: str | None) -> str:
    """What a query asks for, for grouping searches (see `ParsedQuery.normalized`)."""
    return parse(raw).normalized


def has_words(raw: str | None) -> bool:
    """True when a query has words search looks for (not only stop words or signs)."""
    return not parse(raw).is_empty
