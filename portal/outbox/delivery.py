"""One delivery run: claim what is due, send each message by its kind, record the outcome."""

from __future__ import annotations

import datetime as dt
import json
import logging
import smtplib
import time
import urllib.error

from sqlalchemy.orm import Session

from ..extensions import db
from . import queue
from .errors import DeliveryError
from .mail import send_mail
from .queue import MAIL
from .queue import WEBHOOK
from .queue import Claim
from .queue import DeliveryReport
from .settings import OutboxSettings
from .webhook import post_webhook

log = logging.getLogger(__name__)


def deliver_due(settings: OutboxSettings, now: dt.datetime | None = None,
                limit: int = 50) -> DeliveryReport:
    """Send the pending messages that are due and held by no other sender; never raises.

    `now` (aware, UTC) is the time of this run: it decides what is due and when to retry.
    Uses its own database session, so the caller's session is left as it was."""
    now = now or queue.utc_now()
    report = DeliveryReport()
    try:
        with Session(db.engine) as session:
            for message_id in queue.due_ids(session, now, limit):
                held = queue.claim(session, message_id, now)
                if held is not None:
                    queue.record(session, held, _attempt(settings, held), now, report,
                                 settings.retries)
    except Exception:
        log.exception("outbox: delivery stopped after %s", report.summary())
    return report


def flush(settings: OutboxSettings, timeout: float = 5.0) -> bool:
    """Send what is due now and wait for other senders' claims; True when nothing due is left.

    For tests and scripts: unlike `deliver_due` it also waits for a message that the
    background sender is sending at this moment."""
    deadline = time.monotonic() + timeout
    while True:
        deliver_due(settings)
        with Session(db.engine) as session:
            left = queue.due_left(session)
        if not left:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _attempt(settings: OutboxSettings, held: Claim) -> DeliveryError | None:
    """Send one message; the error when it did not go out."""
    try:
        payload = json.loads(held.payload)
        if held.kind == MAIL:
            send_mail(settings.mail, held, payload)
        elif held.kind == WEBHOOK:
            post_webhook(settings.webhook, held, payload)
        else:
            raise DeliveryError(f"unknown kind {held.kind!r}", permanent=True)
    except DeliveryError as exc:
        return exc
    except smtplib.SMTPRecipientsRefused as exc:
        # 5xx for the only recipient: the mailbox does not exist, trying again cannot help.
        permanent = all(code >= 500 for code, _reply in exc.recipients.values())
        return DeliveryError(_describe(exc), permanent=permanent)
    except Exception as exc:
        return DeliveryError(_describe(exc))
    return None


def _describe(exc: Exception) -> str:
    """A short, readable account of a failed send for `last_error`."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = "; ".join(f"{code} {_decode(text)}" for code, text in exc.recipients.values())
        return f"recipient refused: {answers}"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"SMTP {exc.smtp_code}: {_decode(exc.smtp_error)}"
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"{type(exc.reason).__name__}: {exc.reason}"
    return f"{type(exc).__name__}: {exc}"


def _decode(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
