"""Relations between words mined from the knowledge base itself, again for every index
generation: what no hand-written list has to know.

- **abbreviation**: an abbreviation defined in an article, «Система быстрых платежей (СБП)»
  or «ЛК (личный кабинет)»: the initials of the words spell it.
- **translation**: a Russian article and its English translation say the same thing; their
  titles, and their headings when both have as many, are aligned word to word by competitive
  linking (the pair seen together most often, relative to how often each is seen, is linked
  first; each word is linked once), and a segment left with one unlinked word on each side
  links those two.
- **keyword**: an article's keywords and tags are other names for what its short title says.
- **family**: derivational relatives by rule (`analysis.derivation_key`; see
  `query.WordFamilies`), listed here so that experts can see and switch them off.

Every relation weighs less than the word typed (`query.MINED_WEIGHT`, `RELATIVE_WEIGHT`), so
it finds more without burying exact matches. Experts switch a relation off by its `key` on the
search-terms page (the articles folder's `_relations.yml`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass

from .analysis import FILLER_WORDS
from .analysis import STOP_WORDS
from .analysis import WORD
from .analysis import fold
from .analysis import stem

KINDS = ("abbreviation", "translation", "keyword", "family")
#: An abbreviation: 2 to 6 capital letters (Cyrillic or Latin), in parentheses or before them.
_ABBREVIATION = r"[A-ZА-ЯЁ]{2,6}"
_DEFINED_AFTER = re.compile(rf"\((?P<abbr>{_ABBREVIATION})\)")
_DEFINED_INSIDE = re.compile(rf"(?<![\w-])(?P<abbr>{_ABBREVIATION})\s*\((?P<words>[^()]{{3,80}})\)")
#: Small words an expansion may hold without an initial of their own: «плата за услуги».
_LINKING = frozenset(["и", "в", "во", "на", "за", "для", "по", "с", "со", "к", "от",
                      "of", "and", "for", "the", "to", "in", "on", "a"])
#: A keyword that names this many articles of different titles is a topic, not a name.
MAX_KEYWORD_TITLES = 3
#: Nor is one whose words many articles use («почта», «настройка»): a keyword relates to
#: its title only when each of its words is in at most this share of the articles (and
#: at least `MIN_RARE_ARTICLES`).
MAX_KEYWORD_SHARE = 0.02
MIN_RARE_ARTICLES = 2
#: Titles longer than this (informative words) are sentences, not names of one thing.
MAX_NAME_WORDS = 3
#: Translation links need a pair seen together in this many segments, unless a segment
#: leaves nothing else to link.
MIN_LINK_COUNT = 2
MIN_LINK_DICE = 0.5
#: At most this many expansions of one abbreviation are kept (the most often defined).
MAX_EXPANSIONS = 3


@dataclass(frozen=True)
class Relation:
    """`left` in a query may also be matched as `right` (and the other way round when
    `both_ways`); `evidence` is an article that shows it."""

    kind: str
    left: str
    right: str
    evidence: str = ""
    both_ways: bool = True
    #: The key, when the kind has its own (a word family's is its derivation key).
    ident: str = ""

    @property
    def key(self) -> str:
        """What identifies the relation when it is switched off: its kind and stems."""
        return self.ident or f"{self.kind}:{_stem_key(self.left)}={_stem_key(self.right)}"


@dataclass(frozen=True)
class Source:
    """What mining reads of one indexed article."""

    id: str
    lang: str
    title: str
    headings: Sequence[str]
    keywords: Sequence[str]
    translations: Sequence[str]
    text: str


def mine(sources: Iterable[Source]) -> list[Relation]:
    """The abbreviation, translation and keyword relations of these articles, each once."""
    articles = list(sources)
    found: dict[str, Relation] = {}
    for relation in [*abbreviations(articles), *translations(articles), *keywords(articles)]:
        found.setdefault(relation.key, relation)
    return sorted(found.values(), key=lambda r: (KINDS.index(r.kind), fold(r.left), r.right))


def _stems(text: str) -> list[str]:
    """The informative stems of a text, in order: no stop words or words of asking."""
    return [stem(w) for w in (fold(w) for w in WORD.findall(text))
            if w not in STOP_WORDS and w not in FILLER_WORDS]


def _stem_key(text: str) -> str:
    return " ".join(stem(fold(w)) for w in WORD.findall(text))


# --- abbreviations ---------------------------------------------------------------------------

def abbreviations(articles: Iterable[Source]) -> list[Relation]:
    """Abbreviations and the words they stand for, as the articles define them."""
    seen: dict[str, Counter[str]] = {}
    evidence: dict[tuple[str, str], str] = {}
    for article in articles:
        for abbr, words in _definitions(article.text):
            key = fold(abbr)
            seen.setdefault(key, Counter())[words] += 1
            evidence.setdefault((key, words), article.id)
    relations = []
    for key, expansions in seen.items():
        for words, _count in expansions.most_common(MAX_EXPANSIONS):
            relations.append(Relation("abbreviation", key.upper(), words, evidence[key, words]))
    return relations


def _definitions(text: str) -> Iterable[tuple[str, str]]:
    """(abbreviation, expansion in lower case) for each definition found in the text."""
    for match in _DEFINED_AFTER.finditer(text):
        abbr = match.group("abbr")
        before = WORD.findall(text[max(0, match.start() - 200):match.start()])
        words = _spelled_by_end(abbr, before)
        if words:
            yield abbr, words
    for match in _DEFINED_INSIDE.finditer(text):
        abbr = match.group("abbr")
        inside = WORD.findall(match.group("words"))
        if _spells(abbr, inside):
            yield abbr, " ".join(w.lower() for w in inside)


def _spelled_by_end(abbr: str, words: list[str]) -> str | None:
    """The shortest run ending the words whose initials spell `abbr`, small words between."""
    letters = fold(abbr)
    need = len(letters)
    i = len(words)
    taken: list[str] = []
    while i > 0 and need > 0:
        i -= 1
        word = words[i]
        lowered = fold(word)
        if taken and lowered in _LINKING:
            taken.append(word)
            continue
        if not lowered or lowered[0] != letters[need - 1] or lowered == letters:
            return None
        taken.append(word)
        need -= 1
    if need:
        return None
    return " ".join(w.lower() for w in reversed(taken))


def _spells(abbr: str, words: list[str]) -> bool:
    """True when the words, small ones aside, are as many as the letters and start with them."""
    content = [fold(w) for w in words if fold(w) not in _LINKING]
    letters = fold(abbr)
    return len(content) == len(letters) and all(
        w[0] == letter for w, letter in zip(content, letters, strict=True))


# --- translations ----------------------------------------------------------------------------

def translations(articles: Iterable[Source]) -> list[Relation]:
    """Russian and English words that translate each other in translated articles."""
    by_id = {a.id: a for a in articles}
    segments: list[_Segment] = []
    origin: list[str] = []
    for article in by_id.values():
        if article.lang != "ru":
            continue
        for other_id in article.translations:
            other = by_id.get(other_id)
            if other is None or other.lang != "en":
                continue
            texts = [(article.title, other.title)]
            if len(article.headings) == len(other.headings):
                texts += list(zip(article.headings, other.headings, strict=True))
            for ru_text, en_text in texts:
                segments.append((_surface(ru_text), _surface(en_text)))
                origin.append(article.id)
    relations = []
    for ru, en in sorted(_competitive_links(segments)):
        where = next(i for i, (r, e) in enumerate(segments) if ru in r and en in e)
        relations.append(Relation("translation", segments[where][0][ru],
                                  segments[where][1][en], origin[where]))
    return relations


def _surface(text: str) -> dict[str, str]:
    """Informative stems of a text with the word each was seen as (lower case)."""
    found: dict[str, str] = {}
    for word in WORD.findall(text):
        folded = fold(word)
        if folded in STOP_WORDS or folded in FILLER_WORDS or len(folded) < 3 or folded.isdigit():
            continue
        found.setdefault(stem(folded), word.lower())
    return found


_Segment = tuple[dict[str, str], dict[str, str]]


def _competitive_links(segments: list[_Segment]) -> set[tuple[str, str]]:
    """Russian-English stem pairs linked across the aligned segments (see the docstring)."""
    pair_count: Counter[tuple[str, str]] = Counter()
    ru_count: Counter[str] = Counter()
    en_count: Counter[str] = Counter()
    aligned: list[tuple[set[str], set[str]]] = []
    for ru_words, en_words in segments:
        # A word written the same on both sides (Wi-Fi, SMS) needs no translation.
        same = set(ru_words) & set(en_words)
        ru, en = set(ru_words) - same, set(en_words) - same
        aligned.append((ru, en))
        ru_count.update(ru)
        en_count.update(en)
        pair_count.update((r, e) for r in ru for e in en)
    def dice(pair: tuple[str, str]) -> float:
        return 2 * pair_count[pair] / (ru_count[pair[0]] + en_count[pair[1]])
    links: set[tuple[str, str]] = set()
    linked_ru: set[str] = set()
    linked_en: set[str] = set()
    candidates = [p for p, n in pair_count.items() if n >= MIN_LINK_COUNT
                  and dice(p) >= MIN_LINK_DICE]
    for pair in sorted(candidates, key=lambda p: (-dice(p), -pair_count[p], p)):
        if pair[0] not in linked_ru and pair[1] not in linked_en:
            links.add(pair)
            linked_ru.add(pair[0])
            linked_en.add(pair[1])
    for ru, en in aligned:
        left_ru = ru - linked_ru
        left_en = en - linked_en
        if len(left_ru) == 1 and len(left_en) == 1 and len(ru) == len(en):
            pair = (next(iter(left_ru)), next(iter(left_en)))
            links.add(pair)
            linked_ru.add(pair[0])
            linked_en.add(pair[1])
    return links


# --- keywords --------------------------------------------------------------------------------

def keywords(articles: Iterable[Source]) -> list[Relation]:
    """Each rare keyword or tag of an article with a short title -> that title, one way."""
    articles = list(articles)
    used: Counter[str] = Counter()
    for article in articles:
        used.update(set(_stems(article.title)) | set(_stems(article.text)))
    rare = max(MIN_RARE_ARTICLES, int(MAX_KEYWORD_SHARE * len(articles)))
    named: dict[str, dict[str, tuple[str, Source]]] = {}
    for article in articles:
        title = _stems(article.title)
        if not 0 < len(title) <= MAX_NAME_WORDS:
            continue
        for keyword in article.keywords:
            stems = _stems(keyword)
            if not 0 < len(stems) <= MAX_NAME_WORDS or set(stems) & set(title) \
                    or any(used[s] > rare for s in stems):
                continue
            named.setdefault(" ".join(stems), {}).setdefault(
                " ".join(title), (keyword.lower().strip(), article))
    relations = []
    for titles in named.values():
        if len(titles) > MAX_KEYWORD_TITLES:
            continue
        for keyword, article in titles.values():
            relations.append(Relation("keyword", keyword, _name(article.title), article.id,
                                      both_ways=False))
    return relations


def _name(title: str) -> str:
    """A title as a relation shows it: its informative words, in lower case."""
    return " ".join(w.lower() for w in WORD.findall(title)
                    if fold(w) not in STOP_WORDS and fold(w) not in FILLER_WORDS)
