"""The outbox: mail to customers and calls to an outside helpdesk, sent after their cause.

A message is written in the same database transaction as what caused it (a ticket), so the
one never exists without the other, and a ticket never waits for or fails with the mail
server. After the commit the caller `kick`s this process's background sender, which sends at
once and retries failures with exponential backoff; after OUTBOX_MAX_ATTEMPTS a message is
marked dead and kept until someone `retry`s it.

Delivery is at least once. A sender claims a message before sending it, so two processes
never send it together; but a process that dies between sending and recording may leave it
to be sent again. The stable Message-ID of a mail and the delivery id of a webhook call let
the receiver recognise a repeat.

The parts: `queue` (the table: queue, claim, record, retry), `headers` (what may go into a
mail header), `mail` (SMTP), `webhook` (the helpdesk), `delivery` (one run over what is
due), `sender` (the background thread), `settings` (what the configuration says), and
`wiring`, the one part that reads the current app and is what the rest of the portal calls.
"""

from __future__ import annotations

from .errors import DeliveryError
from .errors import OutboxError
from .headers import NAME_LIMIT
from .headers import SUBJECT_LIMIT
from .headers import header_text
from .mail import MAIL_POLICY
from .queue import DEAD
from .queue import MAIL
from .queue import PENDING
from .queue import SENT
from .queue import STATUSES
from .queue import WEBHOOK
from .queue import DeliveryReport
from .queue import MessageLine
from .queue import Overview
from .queue import retry
from .settings import OutboxSettings
from .settings import settings_from
from .wiring import current_settings
from .wiring import deliver_due
from .wiring import flush
from .wiring import init_app
from .wiring import kick
from .wiring import overview
from .wiring import queue_mail
from .wiring import queue_webhook
from .wiring import stop

__all__ = [
    "DEAD", "MAIL", "MAIL_POLICY", "NAME_LIMIT", "PENDING", "SENT", "STATUSES", "SUBJECT_LIMIT",
    "WEBHOOK", "DeliveryError", "DeliveryReport", "MessageLine", "OutboxError",
    "OutboxSettings", "Overview", "current_settings", "deliver_due", "flush", "header_text",
    "init_app", "kick", "overview", "queue_mail", "queue_webhook", "retry", "settings_from",
    "stop",
]
