"""Customer queries: words and quoted phrases only, turned into Whoosh queries.

No query syntax is parsed from customer input: field names, wildcards, ranges, fuzzy
operators and boosts are just words here. Queries are bounded in length and in terms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field

from .analysis import STOP_WORDS
from .analysis import WORD
from .analysis import fold
from .analysis import stem
from .scoring import Alternative
from .scoring import Slot

MAX_QUERY_CHARS = 200
MAX_WORDS = 12
#: Weight of a synonym's match relative to the word the customer typed.
SYNONYM_WEIGHT = 0.7
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


@dataclass
class ParsedQuery:
    """A customer's query: the bounded text, its free chunks and its quoted phrases."""

    text: str
    chunks: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.terms() or self.phrase_terms())

    def terms(self) -> list[str]:
        """The stems of the free words, in order, without stop words and duplicates."""
        seen: list[str] = []
        for chunk in self.chunks:
            for word in WORD.findall(chunk):
                folded = fold(word)
                if folded not in STOP_WORDS and stem(folded) not in seen:
                    seen.append(stem(folded))
        return seen[:MAX_WORDS]

    def phrase_terms(self) -> list[list[str]]:
        """The stems of each quoted phrase."""
        result = []
        for phrase in self.phrases:
            stems = [stem(fold(w)) for w in WORD.findall(phrase) if fold(w) not in STOP_WORDS]
            if stems:
                result.append(stems[:MAX_WORDS])
        return result

    def with_chunks(self, chunks: list[str]) -> ParsedQuery:
        """The same query with its free chunks replaced (used by corrections)."""
        quoted = " ".join(f'"{p}"' for p in self.phrases)
        text = " ".join(filter(None, [" ".join(chunks), quoted]))
        return ParsedQuery(text=text, chunks=list(chunks), phrases=list(self.phrases))


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
    return ParsedQuery(text=text, chunks=chunks, phrases=phrases)


class SynonymMap:
    """Expands runs of query stems with the other members of their synonym group."""

    def __init__(self, groups: list[list[str]]):
        self.alternatives: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for group in groups:
            members = []
            for phrase in group:
                stems = tuple(stem(fold(w)) for w in WORD.findall(phrase)
                              if fold(w) not in STOP_WORDS)
                if stems and stems not in members:
                    members.append(stems)
            for member in members:
                others = [m for m in members if m != member]
                self.alternatives.setdefault(member, [])
                self.alternatives[member].extend(
                    o for o in others if o not in self.alternatives[member])
        self.longest = max((len(k) for k in self.alternatives), default=0)

    def slots(self, stems: list[str]) -> list[tuple[tuple[str, ...], list[tuple[str, ...]]]]:
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
                slots.append(((stems[i],), []))
                i += 1
        return slots


def slots(parsed: ParsedQuery, synonyms: SynonymMap) -> list[Slot]:
    """What to look for: one slot per word or phrase typed, each with its synonyms.

    Every slot is optional; ranking rewards documents that match more of them.
    """
    found = []
    for run, alternatives in synonyms.slots(parsed.terms()):
        options = [Alternative(run)]
        options += [Alternative(alt, SYNONYM_WEIGHT) for alt in alternatives[:6]]
        found.append(Slot(tuple(options)))
    for stems in parsed.phrase_terms():
        found.append(Slot((Alternative(tuple(stems), 1.5),)))
    return found
