"""The built-in lexicon: how customers say things ("комп", "расшарить", "тимс") mapped to how
help articles say them ("компьютер", "общий доступ", "teams").

The entries live in `lexicon_ru.py` (format described in its docstring). They
are general knowledge of IT support, the same for every knowledge base, and weigh less than
the editors' own synonyms: a customer's word found as typed always counts most.
"""

from __future__ import annotations

from functools import lru_cache

from ..text import comma_list
from . import lexicon_ru

#: One directed entry: any of `keys` in a query may also be matched as any of `values`.
Entry = tuple[tuple[str, ...], tuple[str, ...]]


def parse_lexicon(text: str) -> list[Entry]:
    """The directed entries of a lexicon text; `a = b = c` lines give one entry each way."""
    entries: list[Entry] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=>" in line:
            left, _, right = line.partition("=>")
            keys, values = _terms(left), _terms(right)
            if not keys or not values or "=" in right:
                raise ValueError(f"lexicon line {number}: expected 'a, b => c, d': {raw!r}")
            entries.append((keys, values))
        elif "=" in line:
            members = tuple(part.strip() for part in line.split("=") if part.strip())
            if len(members) < 2 or any("," in m for m in members):
                raise ValueError(f"lexicon line {number}: expected 'a = b = c': {raw!r}")
            for member in members:
                entries.append(((member,), tuple(m for m in members if m != member)))
        else:
            raise ValueError(f"lexicon line {number}: no '=>' or '=': {raw!r}")
    return entries


def _terms(part: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(comma_list(part)))


@lru_cache(maxsize=1)
def builtin_lexicon() -> tuple[Entry, ...]:
    """The entries of the lexicon shipped with the portal (read once per process)."""
    return tuple(parse_lexicon(lexicon_ru.TEXT))
