"""What an import did, file by file, and the error that stops it before it starts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field


@dataclass
class ImportEntry:
    """What happened to one source file."""

    source: str
    article_id: str | None
    action: str  # "imported", "updated", "unchanged" or "skipped"
    reason: str = ""


@dataclass
class ImportReport:
    """The entries of one import, in the order of the files, and the category it filled."""

    entries: list[ImportEntry] = field(default_factory=list)
    category: str = ""

    def _with(self, action: str) -> list[ImportEntry]:
        return [e for e in self.entries if e.action == action]

    @property
    def imported(self) -> list[ImportEntry]:
        return self._with("imported")

    @property
    def updated(self) -> list[ImportEntry]:
        return self._with("updated")

    @property
    def unchanged(self) -> list[ImportEntry]:
        return self._with("unchanged")

    @property
    def skipped(self) -> list[ImportEntry]:
        return self._with("skipped")

    def skip_reasons(self) -> dict[str, int]:
        """How many files were skipped for each kind of reason, most frequent first."""
        counts: dict[str, int] = {}
        for entry in self.skipped:
            kind = re.sub(r"\s*[:(].*", "", entry.reason).strip() or entry.reason
            kind = re.sub(r"^duplicate of .*", "duplicate", kind)
            counts[kind] = counts.get(kind, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


class ImporterError(Exception):
    """The folder cannot be imported at all (not a folder, no usable category name...)."""


def skip(source: str, reason: str) -> ImportEntry:
    """The entry of a file that is not imported, and why."""
    return ImportEntry(source=source, article_id=None, action="skipped", reason=reason)
