"""What every part of ticket handling shares."""

from __future__ import annotations

#: The longest message a customer or a staff member can write on a ticket.
MAX_MESSAGE = 5000


class TicketError(ValueError):
    """A ticket action that the rules do not allow; `str()` is a code views put in words."""
