"""Side-by-side differences between two versions of a file, for revisions and conflicts."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from dataclasses import field

#: Unchanged lines shown around each change.
CONTEXT = 3
#: Lines longer than this are compared as wholes, not character by character.
INLINE_LIMIT = 2000
#: Past this many lines a side, only whole lines are compared (no character-level marks).
LINE_LIMIT = 20_000
_WORDS = re.compile(r"\w+|\s+|[^\w\s]")


@dataclass(frozen=True)
class Piece:
    """Part of a line; `changed` parts are what differs from the other side."""

    text: str
    changed: bool = False


@dataclass
class Row:
    """One line of the table: the old version on the left, the new one on the right
    (a side is None where the line does not exist in that version)."""

    kind: str  # equal | replace | delete | insert
    left_number: int | None
    left: list[Piece] | None
    right_number: int | None
    right: list[Piece] | None


@dataclass
class Hunk:
    """A run of changes with a little context, as one block of the table."""

    rows: list[Row] = field(default_factory=list)


@dataclass
class Diff:
    hunks: list[Hunk]
    added: int = 0
    removed: int = 0

    @property
    def same(self) -> bool:
        return not self.hunks


def _inline(old: str, new: str) -> tuple[list[Piece], list[Piece]]:
    """The two lines cut into pieces, word by word, marking the words that differ."""
    if len(old) > INLINE_LIMIT or len(new) > INLINE_LIMIT:
        return [Piece(old, True)], [Piece(new, True)]
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    left, right = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if i2 > i1:
            left.append(Piece("".join(a[i1:i2]), tag != "equal"))
        if j2 > j1:
            right.append(Piece("".join(b[j1:j2]), tag != "equal"))
    return left, right


def _rows(tag: str, old: list[str], new: list[str], i1: int, i2: int, j1: int, j2: int,
          inline: bool) -> list[Row]:
    if tag == "equal":
        return [Row("equal", i1 + k + 1, [Piece(old[i1 + k])], j1 + k + 1, [Piece(new[j1 + k])])
                for k in range(i2 - i1)]
    rows = []
    for k in range(max(i2 - i1, j2 - j1)):
        i, j = i1 + k, j1 + k
        left = old[i] if i < i2 else None
        right = new[j] if j < j2 else None
        if left is not None and right is not None:
            pieces = _inline(left, right) if inline else ([Piece(left, True)],
                                                           [Piece(right, True)])
            rows.append(Row("replace", i + 1, pieces[0], j + 1, pieces[1]))
        elif left is not None:
            rows.append(Row("delete", i + 1, [Piece(left, True)], None, None))
        else:
            assert right is not None  # k < max(...): one side has a line here
            rows.append(Row("insert", None, None, j + 1, [Piece(right, True)]))
    return rows


def side_by_side(old_text: str, new_text: str, context: int = CONTEXT) -> Diff:
    """The changes from `old_text` to `new_text`, grouped with `context` lines around."""
    old, new = old_text.splitlines(), new_text.splitlines()
    inline = len(old) <= LINE_LIMIT and len(new) <= LINE_LIMIT
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    diff = Diff(hunks=[])
    for group in matcher.get_grouped_opcodes(context):
        hunk = Hunk()
        for tag, i1, i2, j1, j2 in group:
            if tag != "equal":
                diff.removed += i2 - i1
                diff.added += j2 - j1
            hunk.rows.extend(_rows(tag, old, new, i1, i2, j1, j2, inline))
        diff.hunks.append(hunk)
    return diff
