"""Fixing what customers type: wrong keyboard layout, misspellings, transliteration.

A word is fixed only when the index does not know it, and only into a word the index
does know: the knowledge base's own vocabulary is the dictionary.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_left
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from functools import cached_property
from typing import TypeVar

from rapidfuzz import process
from rapidfuzz.distance import OSA

from .analysis import STOP_WORDS
from .analysis import WORD
from .analysis import fold
from .analysis import script_of
from .analysis import stem
from .index import term_frequencies
from .schema import ARTICLE_FIELDS
from .whoosh_types import Searcher

LAYOUT = "layout"
SPELLING = "spelling"
TRANSLIT = "translit"
#: The query's last word was cut short ("...requires elev"): it is read as the known words
#: it begins, as search-as-you-type reads a prefix.
COMPLETION = "completion"
#: A word cut shorter than this is too little to guess from ("кот" is not "которые").
MIN_PREFIX = 4

_EN_KEYS = "`qwertyuiop[]asdfghjkl;'zxcvbnm,./~QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>?"
_RU_KEYS = "ёйцукенгшщзхъфывапролджэячсмитьбю.ЁЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ,"
EN_TO_RU = str.maketrans(_EN_KEYS, _RU_KEYS)
RU_TO_EN = str.maketrans(_RU_KEYS, _EN_KEYS)

# Latin spellings of Russian letters, longest first; a list gives the readings to try.
_LATIN_TO_RU: list[tuple[str, list[str]]] = sorted([
    ("shch", ["щ"]), ("sch", ["щ", "ш"]), ("zh", ["ж"]), ("kh", ["х"]), ("ch", ["ч"]),
    ("sh", ["ш"]), ("ts", ["ц", "тс"]), ("tz", ["ц"]), ("ya", ["я"]), ("ja", ["я"]),
    ("yu", ["ю"]), ("ju", ["ю"]), ("yo", ["е"]), ("jo", ["е"]), ("ye", ["ые", "е", "ье"]),
    ("iy", ["ий"]), ("yi", ["ый", "ий"]), ("ei", ["ей"]), ("ai", ["ай", "аи"]),
    ("oi", ["ой"]), ("ui", ["уй"]), ("x", ["кс"]), ("w", ["в"]), ("q", ["к"]),
    ("a", ["а"]), ("b", ["б"]), ("c", ["ц", "к", "с"]), ("d", ["д"]), ("e", ["е", "э"]),
    ("f", ["ф"]), ("g", ["г"]), ("h", ["х"]), ("i", ["и", "й"]), ("j", ["й", "ж"]),
    ("k", ["к"]), ("l", ["л"]), ("m", ["м"]), ("n", ["н"]), ("o", ["о"]), ("p", ["п"]),
    ("r", ["р"]), ("s", ["с"]), ("t", ["т"]), ("u", ["у"]), ("v", ["в"]), ("y", ["ы", "й"]),
    ("z", ["з"]), ("'", ["ь"]),
], key=lambda pair: -len(pair[0]))

# How English words tend to be written in Cyrillic ("outlook" -> "аутлук").
_EN_SOUNDS: list[tuple[str, str]] = sorted([
    ("tion", "шн"), ("oo", "у"), ("ou", "ау"), ("ea", "и"), ("ee", "и"), ("ai", "ей"),
    ("ay", "ей"), ("ey", "ей"), ("oa", "о"), ("ow", "оу"), ("sh", "ш"), ("ch", "ч"),
    ("th", "т"), ("ph", "ф"), ("ck", "к"), ("qu", "кв"), ("wh", "в"), ("ya", "я"),
    ("yo", "йо"), ("yu", "ю"), ("ce", "се"), ("ci", "си"), ("cy", "си"), ("ge", "дже"),
    ("a", "а"), ("b", "б"), ("c", "к"), ("d", "д"), ("e", "е"), ("f", "ф"), ("g", "г"),
    ("h", "х"), ("i", "и"), ("j", "дж"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"),
    ("o", "о"), ("p", "п"), ("q", "к"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"),
    ("v", "в"), ("w", "в"), ("x", "кс"), ("y", "и"), ("z", "з"),
], key=lambda pair: -len(pair[0]))

MAX_VARIANTS = 48
#: Equally near spelling fixes searched together (the first one is shown).
MAX_CANDIDATES = 3


def _dedupe_letters(word: str) -> str:
    return "".join(ch for ch, _ in itertools.groupby(word))


#: What a spelling table replaces a spelling with: a string, or the readings of a letter.
Part = TypeVar("Part")


def _split_by_spellings(word: str, table: Sequence[tuple[str, Part]],
                        unknown: Callable[[str], Part]) -> list[Part]:
    """`word` cut left to right into the longest spellings `table` knows, each replaced by
    its value; a letter the table lacks becomes `unknown(letter)`."""
    parts: list[Part] = []
    i = 0
    while i < len(word):
        for spelling, value in table:
            if word.startswith(spelling, i):
                parts.append(value)
                i += len(spelling)
                break
        else:
            parts.append(unknown(word[i]))
            i += 1
    return parts


def latin_to_cyrillic(word: str) -> list[str]:
    """Readings of a transliterated Russian word ("faily" -> "файлы", ...), most likely first."""
    options = _split_by_spellings(word, _LATIN_TO_RU, lambda letter: [letter])
    variants = []
    for combo in itertools.product(*options):
        variants.append("".join(combo))
        if len(variants) >= MAX_VARIANTS:
            break
    return variants


def english_sound_key(word: str) -> str:
    """How an English word is likely written in Cyrillic, doubled letters folded."""
    if len(word) > 3 and word.endswith("e") and word[-2] not in "aeiouy":
        word = word[:-1]
    return _dedupe_letters("".join(_split_by_spellings(word, _EN_SOUNDS, lambda letter: letter)))


def max_distance(word: str) -> int:
    """How many edits a misspelling of `word` may have: none for short words."""
    if len(word) <= 3:
        return 0
    if len(word) <= 7:
        return 1
    return 2


@dataclass
class Correction:
    """A fixed query: its new words and the kinds of fix applied, in order of use.

    `chunks` is the whole fixed query, for display. Searching uses `layout_chunks` (the
    query with only its keyboard layout fixed: a switched chunk is surely meant) and takes
    each of `words` (stem of an unknown word -> stems of its likeliest fixes) as other ways
    to match that word, so that a wrong guess cannot hide what the customer typed.
    """

    chunks: list[str]
    kinds: list[str]
    layout_chunks: list[str] = field(default_factory=list)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)


class Vocabulary:
    """The words the index knows, with how many articles use each.

    `also_known` are stems known otherwise (the lexicon's and the editors' synonyms): a
    valid word the articles happen not to use must not be "corrected" into another one.
    """

    def __init__(self, searcher: Searcher, also_known: Iterable[str] = ()) -> None:
        self._reader = searcher.reader()
        self.also_known = frozenset(also_known)

    # The word lists are read only when a query needs fixing: most queries after an index
    # change only ask `knows`, which the reader answers directly.

    @cached_property
    def frequency(self) -> dict[str, int]:
        """Every surface word of the index with the number of documents using it."""
        return {word: count for word, count in term_frequencies(self._reader, "words").items()
                if len(word) > 1 and not word.isdigit()}

    @cached_property
    def by_script(self) -> dict[str, list[str]]:
        """The known words, Cyrillic ("ru") and Latin ("en") apart."""
        grouped: dict[str, list[str]] = {"ru": [], "en": []}
        for word in self.frequency:
            script = script_of(word)
            if script in grouped:
                grouped[script].append(word)
        return grouped

    @cached_property
    def sound_keys(self) -> dict[str, list[str]]:
        """Known English words by how they are likely spelled in Cyrillic."""
        keys: dict[str, list[str]] = {}
        for word in self.by_script["en"]:
            if word.isalpha():
                keys.setdefault(english_sound_key(word), []).append(word)
        return keys

    @cached_property
    def _key_list(self) -> list[str]:
        return list(self.sound_keys)

    def knows(self, word: str) -> bool:
        """True when the stem of a folded word occurs in any searchable article field."""
        term = stem(word)
        return any(self._reader.doc_frequency(name, term) for name in ARTICLE_FIELDS)

    def is_word(self, word: str) -> bool:
        """True for words the index knows and for those known otherwise (`also_known`)."""
        return stem(word) in self.also_known or self.knows(word)

    def chunk_is_known(self, chunk: str) -> bool:
        words = [fold(w) for w in WORD.findall(chunk)]
        content = [w for w in words if w not in STOP_WORDS]
        return bool(content) and all(self.is_word(w) for w in content)

    def closest(self, word: str, limit: int | None = None) -> str | None:
        """The most used known word within a few edits of `word` in the same script."""
        found = self.closest_all(word, limit)
        return found[0] if found else None

    def closest_all(self, word: str, limit: int | None = None) -> list[str]:
        """The known words nearest to `word` (all at the same, smallest distance), most used
        first, one per stem: "читатль" is as near to "читатель" as to "читать"."""
        script = script_of(word)
        distance = max_distance(word) if limit is None else limit
        if script not in self.by_script or distance == 0:
            return []
        # Customers rarely get the first letter wrong; a candidate differing there is far
        # more often another real word ("писать" -> "описать") than the intended one.
        choices = self._by_initial(script).get(word[0], [])
        found = process.extract(word, choices, scorer=OSA.distance,
                                score_cutoff=distance, limit=20)
        if not found:
            return []
        nearest = min(hit[1] for hit in found)
        ranked = sorted((hit[0] for hit in found if hit[1] == nearest),
                        key=lambda w: -self.frequency.get(w, 0))
        by_stem: dict[str, str] = {}
        for candidate in ranked:
            by_stem.setdefault(stem(candidate), candidate)
        return list(by_stem.values())[:MAX_CANDIDATES]

    @cached_property
    def _in_order(self) -> list[str]:
        return sorted(self.frequency)

    def completions(self, prefix: str) -> list[str]:
        """The most used known words that begin with `prefix`, one per stem, longer than it."""
        words = self._in_order
        start = bisect_left(words, prefix)
        end = bisect_left(words, prefix + "\U0010ffff", lo=start)
        ranked = sorted((w for w in words[start:end] if w != prefix and w not in STOP_WORDS),
                        key=lambda w: (-self.frequency[w], w))
        by_stem: dict[str, str] = {}
        for word in ranked:
            by_stem.setdefault(stem(word), word)
            if len(by_stem) == MAX_CANDIDATES:
                break
        return list(by_stem.values())

    def _by_initial(self, script: str) -> dict[str, list[str]]:
        if not hasattr(self, "_initials"):
            self._initials: dict[str, dict[str, list[str]]] = {}
            for name, words in self.by_script.items():
                grouped: dict[str, list[str]] = {}
                for word in words:
                    grouped.setdefault(word[0], []).append(word)
                self._initials[name] = grouped
        return self._initials[script]

    def spelled(self, word: str) -> str:
        """A known word as the articles write it: itself when they use it, else their most
        used word of its stem ("сменит" -> "сменить"), so that a fix never shows a stem."""
        if word in self.frequency:
            return word
        key = stem(word)
        same = [w for w in self._by_initial(script_of(word)).get(word[:1], [])
                if w.startswith(key[:2]) and stem(w) == key] if script_of(word) in \
            self.by_script else []
        return max(same, key=lambda w: (self.frequency[w], w)) if same else word

    def english_for(self, word: str) -> str | None:
        """The known English word a Cyrillic spelling stands for ("аутлук" -> "outlook")."""
        keys = {_dedupe_letters(word), _dedupe_letters(stem(word))}
        for key in keys:
            if key in self.sound_keys:
                return max(self.sound_keys[key], key=lambda w: self.frequency.get(w, 0))
        longest = max(keys, key=len)
        if len(longest) < 4:
            return None
        found = process.extract(longest, self._key_list, scorer=OSA.distance,
                                score_cutoff=1, limit=5)
        if not found:
            return None
        key = min(found, key=lambda hit: hit[1])[0]
        return max(self.sound_keys[key], key=lambda w: self.frequency.get(w, 0))


def switch_layout(chunk: str) -> str | None:
    """The chunk as typed on the other keyboard layout, or None if it mixes scripts."""
    if all(c in _EN_KEYS or c.isdigit() for c in chunk) and any(c.isalpha() for c in chunk):
        return chunk.translate(EN_TO_RU)
    if all(c in _RU_KEYS or c.isdigit() for c in chunk) and any(c.isalpha() for c in chunk):
        return chunk.translate(RU_TO_EN)
    return None


def correct(chunks: list[str], vocab: Vocabulary) -> Correction | None:
    """Fix the chunks the index does not know; None when nothing needed or could be fixed."""
    fixed = list(chunks)
    kinds: list[str] = []
    unknown = [i for i, chunk in enumerate(chunks) if _needs_fixing(chunk, vocab)]
    if not unknown:
        return None
    words: dict[str, tuple[str, ...]] = {}
    layout_fixed = _fix_layout(fixed, unknown, vocab)
    if layout_fixed:
        kinds.append(LAYOUT)
    layout_chunks = list(fixed)
    # Words still unknown after a layout switch were mistyped as well: fix them too.
    for i in unknown:
        chunk_words = WORD.findall(fixed[i])
        new_words = []
        for n, word in enumerate(chunk_words):
            folded = fold(word)
            if folded in STOP_WORDS or vocab.knows(folded) or folded.isdigit():
                new_words.append(word)
                continue
            # A real word the articles lack is only read in the other script ("аутлук"),
            # never "corrected" into a different word.
            candidates, kind = _fix_word(folded, vocab, spelling=not vocab.is_word(folded))
            if not candidates and i == len(chunks) - 1 and n == len(chunk_words) - 1 \
                    and len(folded) >= MIN_PREFIX and not vocab.is_word(folded):
                # The last word, and no fix for it: a pasted line cut off mid-word.
                candidates, kind = vocab.completions(folded), COMPLETION
            if not candidates:
                new_words.append(word)
            else:
                new_words.append(candidates[0])
                words[stem(folded)] = tuple(stem(fold(c)) for c in candidates)
                if kind not in kinds:
                    kinds.append(kind)
        if new_words != chunk_words:
            fixed[i] = " ".join(new_words)
    if not kinds:
        return None
    if TRANSLIT in kinds:
        # Shown, not searched: "kak сменить пароль" reads as "как сменить пароль".
        fixed = [WORD.sub(_small_word_in_cyrillic, chunk) for chunk in fixed]
    return Correction(chunks=fixed, kinds=kinds, layout_chunks=layout_chunks, words=words)


def _small_word_in_cyrillic(match: re.Match[str]) -> str:
    """A Latin-typed stop word ("kak", "ne") in Cyrillic; any other word as it is."""
    word = match.group()
    if script_of(word) == "en":
        for reading in latin_to_cyrillic(fold(word))[:3]:
            if reading in STOP_WORDS:
                return reading
    return word


def _needs_fixing(chunk: str, vocab: Vocabulary) -> bool:
    words = [fold(w) for w in WORD.findall(chunk)]
    return any(w not in STOP_WORDS and not w.isdigit() and not vocab.knows(w) for w in words)


def _fix_layout(chunks: list[str], unknown: list[int], vocab: Vocabulary) -> set[int]:
    """Switch the layout of unknown chunks once the query shows it was typed in the wrong one.

    The evidence is one chunk whose other-layout form the index knows; then every unknown
    chunk that can be switched is, short words ("d" for "в") included.
    """
    switched = {i: switch_layout(chunks[i]) for i in unknown}
    candidates = {i: other for i, other in switched.items() if other}
    if not any(vocab.chunk_is_known(other) for other in candidates.values()):
        return set()
    for i, chunk in enumerate(chunks):
        if i not in candidates and not vocab.chunk_is_known(chunk):
            other = switch_layout(chunk)
            if other and fold(other) in STOP_WORDS:
                candidates[i] = other
    for i, other in candidates.items():
        chunks[i] = other
    return set(candidates)


def _fix_word(word: str, vocab: Vocabulary, spelling: bool = True) -> tuple[list[str], str]:
    """Known words for an unknown one, the likeliest first, and how they were found.

    Without `spelling`, only exact readings in the other script are tried.
    """
    script = script_of(word)
    if script == "en":
        readings = latin_to_cyrillic(word)
        for reading in readings:
            if vocab.knows(reading):
                return [vocab.spelled(reading)], TRANSLIT
    elif script == "ru":
        english = vocab.english_for(word)
        if english and len(word) >= 3:
            exact = vocab.sound_keys.get(_dedupe_letters(word)) or vocab.sound_keys.get(
                _dedupe_letters(stem(word)))
            if exact:
                return [english], TRANSLIT
    if not spelling:
        return [], ""
    nearest = vocab.closest_all(word)
    if nearest:
        return nearest, SPELLING
    if script == "en":
        for reading in latin_to_cyrillic(word)[:8]:
            closest = vocab.closest(reading, limit=1 if len(reading) > 3 else 0)
            if closest is not None:
                return [closest], TRANSLIT
    elif script == "ru":
        english = vocab.english_for(word)
        if english:
            return [english], TRANSLIT
    return [], ""
