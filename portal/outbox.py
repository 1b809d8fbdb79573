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
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import smtplib
import ssl
import threading
import time
import unicodedata
import urllib.error
import urllib.request
import weakref
from dataclasses import dataclass
from dataclasses import field
from email.headerregistry import Address
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import format_datetime
from urllib.parse import urlsplit

from flask import Flask
from flask import current_app
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from .extensions import db
from .models import OutboxMessage

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
#: Non-ASCII text is sent base64-encoded, so a server without 8BITMIME gets it intact.
MAIL_POLICY = default_policy.clone(cte_type="7bit")
_HEADERS = HeaderRegistry()
#: The only headers a mail goes out with (one with an HTML part has no top-level
#: Content-Transfer-Encoding).
MAIL_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Content-Type",
                "Content-Transfer-Encoding", "MIME-Version")
#: The longest subject, and the longest display name of an address, in characters.
SUBJECT_LIMIT = 200
NAME_LIMIT = 100
#: Of a header value, only this many times its limit is read: more could not fit decoded.
_READ_FACTOR = 12
#: Text encoded more than this many times over is not unwrapped further (see header_text).
_DECODE_ROUNDS = 4
#: A cut moves back to the end of a word at most this far; a longer word is cut inside.
_WORD_REACH = 20
#: An RFC 2047 encoded word: =?charset?q-or-b?text?= (the text is printable ASCII but "?").
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([!->@-~]*)\?=")
#: Format characters kept: the joiners are part of how some scripts and emoji are written.
_JOINERS = frozenset("\u200c\u200d")
#: What makes a display name read as something else: RFC 5322 specials but the dot.
_NAME_SPECIALS = str.maketrans(dict.fromkeys('"(),:;<>@[\\]', " "))


class OutboxError(ValueError):
    """A message that cannot be queued or retried as asked."""


class DeliveryError(Exception):
    """A send that failed; `permanent` when trying again cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


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
class _Claim:
    """A message this sender holds, read before sending so no transaction stays open."""

    id: int
    kind: str
    payload: str
    attempts: int
    created_at: dt.datetime


# --- queueing (inside the caller's transaction) ---------------------------------------------


def mail_enabled() -> bool:
    """Whether mail goes out at all: only when MAIL_SERVER is set."""
    return bool(_text("MAIL_SERVER"))


def webhook_enabled() -> bool:
    """Whether events go to the outside helpdesk: only when WEBHOOK_URL is set."""
    return bool(_text("WEBHOOK_URL"))


def queue_mail(to: str, subject: str, text: str, ticket_id: int | None = None,
               html: str | None = None) -> OutboxMessage | None:
    """Add a mail to the session for the caller to commit; None (nothing queued) without
    MAIL_SERVER. A line break in the address or subject raises OutboxError either way."""
    to = _one_address(to)
    _refuse_line_breaks("subject", subject)
    subject = header_text(subject, SUBJECT_LIMIT)
    if not isinstance(text, str) or not isinstance(html, str | None):
        raise OutboxError("the text and html of a mail must be text")
    if not mail_enabled():
        log.info("no MAIL_SERVER: mail to %s is not sent", to)
        return None
    payload = {"to": to, "subject": subject, "text": text}
    if html is not None:
        payload["html"] = html
    return _queue(MAIL, payload, ticket_id)


def queue_webhook(event: str, body: dict, ticket_id: int | None = None) -> OutboxMessage | None:
    """Add a webhook call to the session for the caller to commit; None without WEBHOOK_URL."""
    if not isinstance(event, str) or not EVENT_NAME.match(event):
        raise OutboxError(f"not an event name: {event!r}")
    if not isinstance(body, dict):
        raise OutboxError("the webhook body must be a JSON object")
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise OutboxError(f"the webhook body is not JSON: {exc}") from None
    if not webhook_enabled():
        return None
    return _queue(WEBHOOK, {"event": event, "body": body}, ticket_id)


def _queue(kind: str, payload: dict, ticket_id: int | None) -> OutboxMessage:
    now = _now()
    message = OutboxMessage(kind=kind, payload=json.dumps(payload, ensure_ascii=False),
                            ticket_id=ticket_id, status=PENDING, attempts=0,
                            next_attempt_at=now, created_at=now)
    db.session.add(message)
    return message


def _refuse_line_breaks(what: str, value: str) -> None:
    """Refuse control characters and Unicode line separators: they could start a new header."""
    if not isinstance(value, str):
        raise OutboxError(f"the {what} must be text")
    for char in value:
        if char != "\t" and unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            raise OutboxError(f"the {what} contains a line break or control character")


def _one_address(value: str) -> str:
    """`value` if it is exactly one e-mail address (a display name is allowed), written
    the safe way: display name made header text, comments and groups dropped."""
    return str(_address(value))


def _address(value: str) -> Address:
    """The one e-mail address in `value`, with its display name made header text."""
    _refuse_line_breaks("address", value)
    # The email library decodes an encoded word even inside an address ("=?utf-8?q?a=2C_b?=
    # @x" is read as two), and no mailbox needs one: refuse rather than guess.
    if "=?" in value:
        raise OutboxError(f"an encoded word (=?...?=) in an address: {value!r}")
    try:
        header = _HEADERS("To", value)
        addresses = header.addresses
    except Exception:  # the parser can fail on odd input instead of reporting a defect
        addresses, header = (), None
    if (header is None or header.defects or len(addresses) != 1
            or not addresses[0].username or not addresses[0].domain):
        raise OutboxError(f"not one e-mail address: {value!r}")
    if any(unicodedata.category(char) in ("Cf", "Cs") for char in addresses[0].addr_spec):
        raise OutboxError(f"an invisible character in an address: {value!r}")
    # A display name never carries address syntax: the library drops the quotes of a long
    # quoted name when it folds the line, and "Ivanov, Petr" would then read as two names.
    name = " ".join(header_text(addresses[0].display_name, NAME_LIMIT)
                    .translate(_NAME_SPECIALS).split())
    try:
        return Address(name, addr_spec=addresses[0].addr_spec)
    except (ValueError, IndexError):  # an addr-spec only the lenient first parse accepted
        raise OutboxError(f"not one e-mail address: {value!r}") from None


def header_text(value: str, limit: int = SUBJECT_LIMIT) -> str:
    """`value` made safe for a mail header: decoded, one line, no control, at most `limit`."""
    if not isinstance(value, str):
        raise OutboxError("a header must be text")
    text = _one_line(value[:limit * _READ_FACTOR])
    # Decoded first, so what an encoded word hides is cleaned like the rest; text encoded
    # again inside an encoded word is unwrapped too, a few times over at most.
    for _round in range(_DECODE_ROUNDS):
        decoded = _one_line(_decode_words(text))
        if decoded == text:
            break
        text = decoded
    # Whatever still starts like an encoded word (malformed, nested deeper, or a form only some
    # readers decode) is broken up, so neither the email library nor a mail reader decodes it
    # into anything else. A reader sees "= ?" where the text had "=?".
    return _shorten(text.replace("=?", "= ?"), limit)


def _one_line(text: str) -> str:
    """Line breaks and controls as spaces, invisible format characters gone, spaces collapsed."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")
        elif category not in ("Cf", "Cs") or char in _JOINERS:
            kept.append(char)
    return " ".join("".join(kept).split())


def _decode_words(text: str) -> str:
    """`text` with its RFC 2047 encoded words decoded; a word that does not decode stays."""
    parts = []
    end = 0
    after_word = False
    for match in _ENCODED_WORD.finditer(text):
        between = text[end:match.start()]
        decoded = _decode_word(*match.groups())
        if decoded is None:
            parts.append(text[end:match.end()])
            after_word = False
        else:
            # Space between two encoded words is not text (RFC 2047): a word split in two.
            if not (after_word and between.isspace()):
                parts.append(between)
            parts.append(decoded)
            after_word = True
        end = match.end()
    parts.append(text[end:])
    return "".join(parts)


def _decode_word(charset: str, encoding: str, data: str) -> str | None:
    """The text of one encoded word; None when its data is not valid Q or base64."""
    try:
        if encoding in "qQ":
            raw = binascii.a2b_qp(data, header=True)
        else:
            raw = binascii.a2b_base64(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return None
    codec = charset.partition("*")[0]  # RFC 2231 may add a language: "utf-8*ru"
    try:
        return raw.decode(codec, "replace")
    except Exception:  # unknown charset, or a codec that fails in its own way
        return raw.decode("utf-8", "replace")


def _shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, between words when one ends near."""
    if len(text) <= limit:
        return text
    cut = limit - 1
    space = text.rfind(" ", 0, cut + 1)
    if space > cut - _WORD_REACH:
        cut = space
    # A letter keeps its accents: never cut before a combining mark.
    while cut > 0 and unicodedata.combining(text[cut]):
        cut -= 1
    return text[:cut].rstrip() + "\u2026"


# --- delivery -------------------------------------------------------------------------------


def deliver_due(now: dt.datetime | None = None, limit: int = 50) -> DeliveryReport:
    """Send the pending messages that are due and held by no other sender; never raises.

    `now` (aware, UTC) is the time of this run: it decides what is due and when to retry.
    Uses its own database session, so the caller's session is left as it was."""
    now = now or _now()
    report = DeliveryReport()
    try:
        with Session(db.engine) as session:
            for message_id in _due_ids(session, now, limit):
                claim = _claim(session, message_id, now)
                if claim is not None:
                    _record(session, claim, _attempt(claim), now, report)
    except Exception:
        log.exception("outbox: delivery stopped after %s", report.summary())
    return report


def _due_ids(session: Session, now: dt.datetime, limit: int) -> list[int]:
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


def _claim(session: Session, message_id: int, now: dt.datetime) -> _Claim | None:
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
    return _Claim(*row)


def _attempt(claim: _Claim) -> DeliveryError | None:
    """Send one message; the error when it did not go out."""
    try:
        payload = json.loads(claim.payload)
        if claim.kind == MAIL:
            _send_mail(claim, payload)
        elif claim.kind == WEBHOOK:
            _post_webhook(claim, payload)
        else:
            raise DeliveryError(f"unknown kind {claim.kind!r}", permanent=True)
    except DeliveryError as exc:
        return exc
    except smtplib.SMTPRecipientsRefused as exc:
        # 5xx for the only recipient: the mailbox does not exist, trying again cannot help.
        permanent = all(code >= 500 for code, _reply in exc.recipients.values())
        return DeliveryError(_describe(exc), permanent=permanent)
    except Exception as exc:
        return DeliveryError(_describe(exc))
    return None


def _record(session: Session, claim: _Claim, error: DeliveryError | None, now: dt.datetime,
            report: DeliveryReport) -> None:
    attempts = claim.attempts + 1
    values: dict = {"attempts": attempts, "locked_until": None}
    if error is None:
        values.update(status=SENT, sent_at=now, last_error=None)
        report.sent += 1
    elif error.permanent or attempts >= _number("OUTBOX_MAX_ATTEMPTS", 10):
        values.update(status=DEAD, next_attempt_at=now, last_error=str(error)[:MAX_ERROR])
        report.dead += 1
        log.error("outbox message %s (%s) is dead after %d attempts: %s",
                  claim.id, claim.kind, attempts, error)
    else:
        retry_at = now + backoff(attempts)
        values.update(next_attempt_at=retry_at, last_error=str(error)[:MAX_ERROR])
        report.failed += 1
        log.warning("outbox message %s (%s) failed, attempt %d, next at %s: %s",
                    claim.id, claim.kind, attempts, retry_at.isoformat(), error)
    session.execute(update(OutboxMessage).where(OutboxMessage.id == claim.id).values(**values)
                    .execution_options(synchronize_session=False))
    session.commit()


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failure: OUTBOX_BACKOFF_SECONDS, doubled each time,
    at most OUTBOX_BACKOFF_MAX_SECONDS."""
    base = _number("OUTBOX_BACKOFF_SECONDS", 30)
    cap = _number("OUTBOX_BACKOFF_MAX_SECONDS", 3600)
    return dt.timedelta(seconds=min(base * 2 ** min(attempts - 1, 32), cap))


def _send_mail(claim: _Claim, payload: dict) -> None:
    server = _text("MAIL_SERVER")
    if not server:
        raise DeliveryError("MAIL_SERVER is not set")
    sender = _text("MAIL_SENDER") or _text("MAIL_USERNAME")
    if not sender:
        raise DeliveryError("MAIL_SENDER is not set")
    mail = _build_mail(claim, payload, sender)
    port = int(_number("MAIL_PORT", 25))
    timeout = _number("MAIL_TIMEOUT", 10)
    use_ssl = _flag("MAIL_USE_SSL")
    use_tls = _flag("MAIL_USE_TLS") and not use_ssl
    # Made only when used: loading the system's certificates costs about 50 ms a mail.
    context = ssl.create_default_context() if use_ssl or use_tls else None
    if use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(server, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(server, port, timeout=timeout)
    with smtp:
        if use_tls:
            smtp.starttls(context=context)
        if _text("MAIL_USERNAME"):
            smtp.login(_text("MAIL_USERNAME"), _text("MAIL_PASSWORD"))
        options: tuple[str, ...] = ()
        if mail.international:
            smtp.ehlo_or_helo_if_needed()
            if not smtp.has_extn("smtputf8"):
                raise DeliveryError("the address is not ASCII and the mail server does not "
                                    "accept SMTPUTF8")
            options = ("SMTPUTF8", "BODY=8BITMIME")
        # The envelope names the one recipient, and the bytes are those checked above: the
        # server gets neither a recipient nor a header that the checks did not see.
        smtp.sendmail(mail.sender, [mail.recipient], mail.data, options)


@dataclass(frozen=True)
class _Mail:
    """A mail ready to send: its envelope and the exact bytes that go out."""

    sender: str
    recipient: str
    data: bytes
    international: bool


def _build_mail(claim: _Claim, payload: dict, sender: str) -> _Mail:
    """The mail of `payload`, every header made safe again (a row queued by older code may hold
    anything) and checked by reading the bytes back as a receiver will."""
    try:
        from_address = _address(sender)
    except OutboxError as exc:
        raise DeliveryError(f"MAIL_SENDER: {exc}") from None
    try:
        to_address = _address(payload["to"])
    except OutboxError as exc:
        raise DeliveryError(str(exc), permanent=True) from None
    try:
        subject = header_text(payload["subject"], SUBJECT_LIMIT)
    except OutboxError as exc:
        raise DeliveryError(str(exc), permanent=True) from None
    mail = EmailMessage(policy=MAIL_POLICY)
    mail["From"] = str(from_address)
    mail["To"] = str(to_address)
    mail["Subject"] = subject
    mail["Date"] = format_datetime(_now())
    # The same id on every attempt, so a receiver can drop a repeat.
    stamp = int(claim.created_at.timestamp())
    mail["Message-ID"] = f"<outbox.{claim.id}.{stamp}@{from_address.domain or 'localhost'}>"
    mail.set_content(payload["text"])
    if payload.get("html"):
        mail.add_alternative(payload["html"], subtype="html")
    international = not (from_address.addr_spec + to_address.addr_spec).isascii()
    policy = MAIL_POLICY.clone(linesep="\r\n", utf8=international)
    data = mail.as_bytes(policy=policy)
    _check_headers(data, mail, from_address, to_address, subject)
    return _Mail(from_address.addr_spec, to_address.addr_spec, data, international)


def _check_headers(data: bytes, mail: EmailMessage, sender: Address, to: Address,
                   subject: str) -> None:
    """Refuse to send unless `data`, read back, has exactly the headers that `mail` was given,
    one sender, one recipient and the subject as meant: the email library has written headers
    other than it was told (CVE-2024-6923), and this check holds whatever version runs."""
    back = BytesHeaderParser(policy=default_policy).parsebytes(data)
    names = [name.lower() for name in back]
    meant = [name.lower() for name in mail]
    problem = None
    if names != meant or not set(names) <= {name.lower() for name in MAIL_HEADERS}:
        problem = f"headers {back.keys()} instead of {mail.keys()}"
    elif _mailboxes(back["From"]) != [sender.addr_spec]:
        problem = f"sender {str(back['From'])!r} instead of {sender.addr_spec!r}"
    elif _mailboxes(back["To"]) != [to.addr_spec]:
        problem = f"recipients {str(back['To'])!r} instead of {to.addr_spec!r}"
    elif _letters(str(back["Subject"])) != _letters(subject):
        # Compared without spaces: a long word the library had to fold may come back split.
        problem = f"subject {str(back['Subject'])!r} instead of {subject!r}"
    if problem is not None:
        raise DeliveryError(f"the mail would not arrive as built: {problem}", permanent=True)


def _mailboxes(header) -> list[str]:
    """The addresses an address header holds, groups and all, as a receiver reads them."""
    return [address.addr_spec for group in header.groups for address in group.addresses]


def _letters(text: str) -> str:
    return "".join(text.split())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: urllib would turn the POST into a GET without the body."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post_webhook(claim: _Claim, payload: dict) -> None:
    url = _text("WEBHOOK_URL")
    if not url:
        raise DeliveryError("WEBHOOK_URL is not set")
    if urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError("WEBHOOK_URL must be an http or https URL")
    body = json.dumps({
        "event": payload["event"],
        "delivery": claim.id,
        "created_at": claim.created_at.isoformat(),
        "data": payload["body"],
    }, ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Line0-outbox",
        "X-Line0-Event": payload["event"],
        "X-Line0-Delivery": str(claim.id),
    }
    secret = _text("WEBHOOK_SECRET")
    if secret:
        digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers["X-Line0-Signature"] = "sha256=" + digest
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        # urllib raises HTTPError for every answer outside 2xx (redirects included, above).
        with _OPENER.open(request, timeout=_number("WEBHOOK_TIMEOUT", 10)) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        raise


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


# --- by hand --------------------------------------------------------------------------------


def retry(message_id: int) -> OutboxMessage:
    """Put a dead or failing message back in line, due now, with its attempts started over."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise OutboxError(f"there is no outbox message {message_id}")
    if message.status == SENT:
        raise OutboxError(f"message {message_id} was sent already")
    now = _now()
    if message.locked_until is not None and message.locked_until > now:
        raise OutboxError(f"message {message_id} is being sent right now")
    message.status = PENDING
    message.attempts = 0
    message.next_attempt_at = now
    message.locked_until = None
    db.session.commit()
    return message


def overview(status: str | None = None, limit: int = 50) -> Overview:
    """The newest `limit` messages, of one status if given, and the count of each status."""
    if status is not None and status not in STATUSES:
        raise OutboxError(f"unknown status {status!r}")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    lines = [MessageLine(m.id, m.kind, m.status, m.attempts, m.next_attempt_at, m.sent_at,
                         _target(m), m.last_error)
             for m in db.session.scalars(query)]
    counts = dict.fromkeys(STATUSES, 0)
    counts.update((row_status, count) for row_status, count in db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)))
    return Overview(lines, counts)


def _target(message: OutboxMessage) -> str:
    try:
        payload = json.loads(message.payload)
    except ValueError:
        return "?"
    if message.kind == MAIL:
        return str(payload.get("to"))
    return f"{payload.get('event')} -> {_text('WEBHOOK_URL') or '(no WEBHOOK_URL)'}"


def flush(timeout: float = 5.0) -> bool:
    """Send what is due now and wait for other senders' claims; True when nothing due is left.

    For tests and scripts: unlike `deliver_due` it also waits for a message that the
    background sender is sending at this moment."""
    deadline = time.monotonic() + timeout
    while True:
        deliver_due()
        with Session(db.engine) as session:
            left = session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= _now()))
        if not left:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


# --- the background sender ------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Give the app its background sender; the thread starts on the first `kick` (or the
    first request, so messages left pending by a restart go out without waiting)."""
    if app.config["MAIL_SERVER"] and not (app.config["MAIL_SENDER"] or app.config["MAIL_USERNAME"]):
        raise ValueError("MAIL_SENDER: set the From address of mail (e.g. "
                         "'Support <support@example.com>') when MAIL_SERVER is set")
    app.extensions["outbox"] = _Sender(app)
    started = []

    @app.before_request
    def _start_sender() -> None:
        if not started:
            started.append(True)
            kick()


def kick() -> None:
    """Wake this process's sender after a commit that queued messages; never raises."""
    try:
        if mail_enabled() or webhook_enabled():
            current_app.extensions["outbox"].kick()
    except Exception:
        log.exception("outbox: could not wake the sender")


def stop(timeout: float = 5.0) -> None:
    """Stop the current app's sender thread, if it runs (a later `kick` starts it again)."""
    current_app.extensions["outbox"].stop(timeout)


class _Sender:
    """One daemon thread per app and process: sends when kicked and every OUTBOX_POLL_SECONDS.

    It holds the app weakly, so an app that is gone takes its thread with it."""

    def __init__(self, app: Flask) -> None:
        self._app = weakref.ref(app)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def kick(self) -> None:
        with self._lock:
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                # Each thread has its own stop flag, so a stopped one never comes back to life.
                self._stopping = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(self._stopping,),
                                                name="outbox-sender", daemon=True)
                self._thread.start()

    def stop(self, timeout: float) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping.set()
            self._wake.set()
        if thread is not None:
            thread.join(timeout)

    def _run(self, stopping: threading.Event) -> None:
        # The first run happens even when `stop` came first: the kick's message gets its try.
        while True:
            poll = self._deliver()
            if poll is None or stopping.is_set():
                return
            self._wake.wait(poll)
            if stopping.is_set():
                return
            # A kick after this line is not lost: its message is committed, the run below sees it.
            self._wake.clear()

    def _deliver(self) -> float | None:
        """One delivery run; the seconds until the next one, None when the app is gone."""
        app = self._app()
        if app is None:
            return None
        poll = 10.0
        try:
            with app.app_context():
                poll = _number("OUTBOX_POLL_SECONDS", 10)
                deliver_due()
        except Exception:
            log.exception("outbox: the background sender failed")
        return poll


# --- small helpers --------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _clock(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _text(key: str) -> str:
    """A text setting; PORTAL_* variables that look like numbers arrive as numbers."""
    value = current_app.config.get(key)
    return "" if value is None else str(value).strip()


def _number(key: str, fallback: float) -> float:
    value = current_app.config.get(key)
    return fallback if value in (None, "") else float(value)


def _flag(key: str) -> bool:
    value = current_app.config.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
