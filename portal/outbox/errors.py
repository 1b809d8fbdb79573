"""The outbox's two errors: a message asked for wrongly, and a send that failed."""

from __future__ import annotations


class OutboxError(ValueError):
    """A message that cannot be queued or retried as asked."""


class DeliveryError(Exception):
    """A send that failed; `permanent` when trying again cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
