"""The outbox table: queueing messages in the caller's transaction, claiming them for a
sender, recording how a send went (sent, retried later, dead), and putting one back by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import OutboxMessage
from .errors import DeliveryError
from .errors import OutboxError
from .headers import SUBJECT_LIMIT
from .headers import header_text
from .headers import one_address
from .headers import refuse_line_breaks
from .settings import MailSettings
from .settings import RetrySettings
from .settings import WebhookSettings

log = logging.getLogger(__name__)

MAIL = "mail"
WEBHOOK = "webhook"
PENDING = "pending"
SENT = "sent"
DEAD = "dead"
STATUSES = (PENDING, SENT, DEAD)

#: How long a sender owns a claimed message; one whose sender died is sent again after this.
LEASE = dt.timedelta(minutes=5)
MAX_ERROR = 1000
#: Event names go into an HTTP header: a short word with dots, like "ticket.created".
EVENT_NAME = re.compile(r"[A-Za-z0-9_.:-]{1,100}\Z")


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    failed: int = 0
    dead: int = 0

    def summary(self) -> str:
        """'1 sent, 0 failed (will retry), 0 dead'."""
        return f"{self.sent} sent, {self.failed} failed (will retry), {self.dead} dead"


@dataclass(frozen=True)
class MessageLine:
    """One outbox message as the command line shows it."""

    id: int
    kind: str
    status: str
    attempts: int
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None
    target: str
    last_error: str | None

    def summary(self) -> str:
        """Id, kind, status, tries, when, recipient or event and URL, last error."""
        if self.status == SENT and self.sent_at:
            when = "sent " + _clock(self.sent_at)
        elif self.status == DEAD:
            when = "gave up " + _clock(self.next_attempt_at)
        else:
            when = "next " + _clock(self.next_attempt_at)
        error = f"  {self.last_error}" if self.last_error else ""
        return (f"{self.id:>6}  {self.kind:<7}  {self.status:<7}  {self.attempts:>2} tries  "
                f"{when}  {self.target}{error}")


@dataclass(frozen=True)
class Overview:
    """The newest messages (of one status, if asked) and how many there are of each status."""

    messages: list[MessageLine]
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """'2 pending, 40 sent, 1 dead'."""
        return ", ".join(f"{count} {status}" for status, count in self.counts.items())


@dataclass(frozen=True)
class Claim:
    """A message this sender holds, read before sending so no transaction stays open."""

    id: int
    kind: str
    payload: str
    attempts: int
    created_at: dt.datetime


# --- queueing (inside the caller's transaction) ---------------------------------------------


def queue_mail(settings: MailSettings, to: str, subject: str, text: str,
               ticket_id: int | None = None, html: str | None = None) -> OutboxMessage | None:
    """Add a mail to the session for the caller to commit; None (nothing queued) when mail is
    off. A line break in the address or subject raises OutboxError either way."""
    to = one_address(to)
    refuse_line_breaks("subject", subject)
    subject = header_text(subject, SUBJECT_LIMIT)
    if not isinstance(text, str) or not isinstance(html, str | None):
        raise OutboxError("the text and html of a mail must be text")
    if not settings.enabled:
        log.info("no MAIL_SERVER: mail to %s is not sent", to)
        return None
    payload = {"to": to, "subject": subject, "text": text}
    if html is not None:
        payload["html"] = html
    return _queue(MAIL, payload, ticket_id)


def queue_webhook(settings: WebhookSettings, event: str, body: dict,
                  ticket_id: int | None = None) -> OutboxMessage | None:
    """Add a webhook call to the session for the caller to commit; None when it is off."""
    if not isinstance(event, str) or not EVENT_NAME.match(event):
        raise OutboxError(f"not an event name: {event!r}")
    if not isinstance(body, dict):
        raise OutboxError("the webhook body must be a JSON object")
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise OutboxError(f"the webhook body is not JSON: {exc}") from None
    if not settings.enabled:
        return None
    return _queue(WEBHOOK, {"event": event, "body": body}, ticket_id)


def _queue(kind: str, payload: dict, ticket_id: int | None) -> OutboxMessage:
    now = utc_now()
    message = OutboxMessage(kind=kind, payload=json.dumps(payload, ensure_ascii=False),
                            ticket_id=ticket_id, status=PENDING, attempts=0,
                            next_attempt_at=now, created_at=now)
    db.session.add(message)
    return message


# --- claiming and recording (in the sender's own session) -----------------------------------


def due_ids(session: Session, now: dt.datetime, limit: int) -> list[int]:
    """The pending messages due at `now` that no other sender holds, oldest due first."""
    ids = list(session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now,
               _unclaimed(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)))
    session.commit()
    return ids


def _unclaimed(now: dt.datetime):
    return or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now)


def claim(session: Session, message_id: int, now: dt.datetime) -> Claim | None:
    """Take the message for this sender, or None when another sender was quicker.

    The conditional UPDATE is the whole lock: on PostgreSQL a second sender waits for the
    first one's commit and then finds the row claimed; SQLite lets one writer in at a time."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == PENDING,
               _unclaimed(now))
        .values(locked_until=now + LEASE)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        session.rollback()
        return None
    row = session.execute(
        select(OutboxMessage.id, OutboxMessage.kind, OutboxMessage.payload,
               OutboxMessage.attempts, OutboxMessage.created_at)
        .where(OutboxMessage.id == message_id)).one()
    session.commit()
    return Claim(*row)


def record(session: Session, held: Claim, error: DeliveryError | None, now: dt.datetime,
           report: DeliveryReport, retries: RetrySettings) -> None:
    """Release `held`: sent, due again after a backoff, or dead when trying cannot help."""
    attempts = held.attempts + 1
    values: dict = {"attempts": attempts, "locked_until": None}
    if error is None:
        values.update(status=SENT, sent_at=now, last_error=None)
        report.sent += 1
    elif error.permanent or attempts >= retries.max_attempts:
        values.update(status=DEAD, next_attempt_at=now, last_error=str(error)[:MAX_ERROR])
        report.dead += 1
        log.error("outbox message %s (%s) is dead after %d attempts: %s",
                  held.id, held.kind, attempts, error)
    else:
        retry_at = now + backoff(attempts, retries)
        values.update(next_attempt_at=retry_at, last_error=str(error)[:MAX_ERROR])
        report.failed += 1
        log.warning("outbox message %s (%s) failed, attempt %d, next at %s: %s",
                    held.id, held.kind, attempts, retry_at.isoformat(), error)
    session.execute(update(OutboxMessage).where(OutboxMessage.id == held.id).values(**values)
                    .execution_options(synchronize_session=False))
    session.commit()


def backoff(attempts: int, retries: RetrySettings) -> dt.timedelta:
    """The wait after the `attempts`-th failure: the backoff doubled each time, up to a cap."""
    seconds = retries.backoff_seconds * 2 ** min(attempts - 1, 32)
    return dt.timedelta(seconds=min(seconds, retries.backoff_max_seconds))


def due_left(session: Session) -> int:
    """How many pending messages are due now, held by a sender or not."""
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= utc_now())) or 0


# --- by hand --------------------------------------------------------------------------------


def retry(message_id: int) -> OutboxMessage:
    """Put a dead or failing message back in line, due now, with its attempts started over."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise OutboxError(f"there is no outbox message {message_id}")
    if message.status == SENT:
        raise OutboxError(f"message {message_id} was sent already")
    now = utc_now()
    if message.locked_until is not None and message.locked_until > now:
        raise OutboxError(f"message {message_id} is being sent right now")
    message.status = PENDING
    message.attempts = 0
    message.next_attempt_at = now
    message.locked_until = None
    db.session.commit()
    return message


def overview(webhook: WebhookSettings, status: str | None = None,
             limit: int = 50) -> Overview:
    """The newest `limit` messages, of one status if given, and the count of each status."""
    if status is not None and status not in STATUSES:
        raise OutboxError(f"unknown status {status!r}")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    lines = [MessageLine(m.id, m.kind, m.status, m.attempts, m.next_attempt_at, m.sent_at,
                         _target(m, webhook), m.last_error)
             for m in db.session.scalars(query)]
    counts = dict.fromkeys(STATUSES, 0)
    counts.update((row_status, count) for row_status, count in db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)))
    return Overview(lines, counts)


def _target(message: OutboxMessage, webhook: WebhookSettings) -> str:
    try:
        payload = json.loads(message.payload)
    except ValueError:
        return "?"
    if message.kind == MAIL:
        return str(payload.get("to"))
    return f"{payload.get('event')} -> {webhook.url or '(no WEBHOOK_URL)'}"


def utc_now() -> dt.datetime:
    """Now, aware, in UTC: the clock of every outbox row."""
    return dt.datetime.now(dt.UTC)


def _clock(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
