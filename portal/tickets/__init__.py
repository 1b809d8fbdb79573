"""Tickets: what line 1 gets when self-help did not solve the problem."""

from .common import MAX_MESSAGE
from .common import TicketError
from .notify import due_phrase
from .notify import queue_customer_wrote
from .notify import queue_reply
from .notify import ticket_data
from .rules import CUSTOMER_CAN_WRITE
from .rules import REQUEST_KEY
from .rules import STATUSES
from .rules import URGENCIES
from .rules import Created
from .rules import TicketRequest
from .rules import add_customer_message
from .rules import create_ticket
from .rules import find_ticket
from .rules import grant_access
from .rules import mark_solved
from .rules import public_messages
from .triage import PRIORITIES

__all__ = [
    "CUSTOMER_CAN_WRITE",
    "MAX_MESSAGE",
    "PRIORITIES",
    "REQUEST_KEY",
    "STATUSES",
    "URGENCIES",
    "Created",
    "TicketError",
    "TicketRequest",
    "add_customer_message",
    "create_ticket",
    "due_phrase",
    "find_ticket",
    "grant_access",
    "mark_solved",
    "public_messages",
    "queue_customer_wrote",
    "queue_reply",
    "ticket_data",
]
