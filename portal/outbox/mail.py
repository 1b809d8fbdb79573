"""Mail to customers over SMTP: the mail built from a queued row, checked, and sent."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import format_datetime

from .errors import DeliveryError
from .errors import OutboxError
from .headers import SUBJECT_LIMIT
from .headers import address
from .headers import header_text
from .queue import Claim
from .queue import utc_now
from .settings import MailSettings

#: Non-ASCII text is sent base64-encoded, so a server without 8BITMIME gets it intact.
MAIL_POLICY = default_policy.clone(cte_type="7bit")
#: The only headers a mail goes out with (one with an HTML part has no top-level
#: Content-Transfer-Encoding).
MAIL_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "Content-Type",
                "Content-Transfer-Encoding", "MIME-Version")


@dataclass(frozen=True)
class Mail:
    """A mail ready to send: its envelope and the exact bytes that go out."""

    sender: str
    recipient: str
    data: bytes
    international: bool


def send_mail(settings: MailSettings, held: Claim, payload: dict) -> None:
    """Send the mail of `payload` through the SMTP server; DeliveryError when it cannot go."""
    if not settings.server:
        raise DeliveryError("MAIL_SERVER is not set")
    if not settings.sender:
        raise DeliveryError("MAIL_SENDER is not set")
    mail = build_mail(held, payload, settings.sender)
    use_ssl = settings.use_ssl
    use_tls = settings.use_tls and not use_ssl
    # Made only when used: loading the system's certificates costs about 50 ms a mail.
    context = ssl.create_default_context() if use_ssl or use_tls else None
    if use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.server, settings.port,
                                              timeout=settings.timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
    with smtp:
        if use_tls:
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password)
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


def build_mail(held: Claim, payload: dict, sender: str) -> Mail:
    """The mail of `payload`, every header made safe again (a row queued by older code may hold
    anything) and checked by reading the bytes back as a receiver will."""
    try:
        from_address = address(sender)
    except OutboxError as exc:
        raise DeliveryError(f"MAIL_SENDER: {exc}") from None
    try:
        to_address = address(payload["to"])
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
    mail["Date"] = format_datetime(utc_now())
    # The same id on every attempt, so a receiver can drop a repeat.
    stamp = int(held.created_at.timestamp())
    mail["Message-ID"] = f"<outbox.{held.id}.{stamp}@{from_address.domain or 'localhost'}>"
    mail.set_content(payload["text"])
    if payload.get("html"):
        mail.add_alternative(payload["html"], subtype="html")
    international = not (from_address.addr_spec + to_address.addr_spec).isascii()
    policy = MAIL_POLICY.clone(linesep="\r\n", utf8=international)
    data = mail.as_bytes(policy=policy)
    check_headers(data, mail, from_address, to_address, subject)
    return Mail(from_address.addr_spec, to_address.addr_spec, data, international)


def check_headers(data: bytes, mail: EmailMessage, sender: Address, to: Address,
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
    return [mailbox.addr_spec for group in header.groups for mailbox in group.addresses]


def _letters(text: str) -> str:
    return "".join(text.split())
