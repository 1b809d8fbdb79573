"""Mail headers: what a customer types never becomes a header, a recipient or the start of the
body, however it is encoded (RFC 2047 encoded words, CVE-2024-6923), through the ticket form,
the API and an agent's reply, checked on what a real SMTP server received."""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
import unicodedata
from email.headerregistry import Address
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

import pytest
from flask_migrate import upgrade
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy import select

from portal import create_app
from portal import outbox
from portal.extensions import db
from portal.models import OutboxMessage

from .conftest import _drop_tables
from .conftest import shared_path
from .conftest import write_site
from .helpers import api_ticket
from .helpers import csrf_token
from .helpers import ticket_data
from .servers import MailServer
from .staff import log_in
from .staff import make_staff

SENDER = "Линия 0 <help@line0.example>"
#: Every header the portal writes on a plain-text mail, and nothing else.
PORTAL_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
                  "Content-Transfer-Encoding")
GREETING = "Здравствуйте, "
#: The longest subject a mail may have (outbox.SUBJECT_LIMIT, here so old code can be tested).
SUBJECT_LIMIT = 200
INJECTED = "Bcc: attacker@evil.example"
REPLY = "Перезагрузите роутер, пожалуйста."


def q(text: str, charset: str = "utf-8", marker: str = "q") -> str:
    """`text` as one Q encoded word, every byte but ASCII letters and digits as =XX."""
    data = "".join(chr(byte) if chr(byte).isascii() and chr(byte).isalnum() else f"={byte:02X}"
                   for byte in text.encode(charset))
    return f"=?{charset}?{marker}?{data}?="


def b(text: str, charset: str = "utf-8", marker: str = "b") -> str:
    """`text` as one base64 encoded word."""
    return f"=?{charset}?{marker}?{base64.b64encode(text.encode(charset)).decode()}?="


ATTACK = "Hi\r\n" + INJECTED

#: Subjects a customer could send; each is at most 200 characters, so the form accepts it.
SUBJECTS = {
    # The finding: a Reply-To, the body's start, a Bcc from a base64 word.
    "finding-q-reply-to": "=?utf-8?q?Hi=0D=0AReply-To:_attacker@evil.example?=",
    "finding-q-body-start": "=?utf-8?q?Hi=0D=0A=0D=0AAttacker_text_first?=",
    "finding-b-bcc": b(ATTACK),
    # Q and B, upper and lower case.
    "q-upper-case": "=?UTF-8?Q?Hi=0D=0ABcc:_attacker@evil.example?=",
    "q-mixed-case-lower-hex": "=?uTf-8?Q?Hi=0d=0aBcc:_attacker@evil.example?=",
    "b-upper-case": b(ATTACK, "UTF-8", "B"),
    "b-without-padding": b("Hi\r\nBcc: attacker@evil.example.")[:-2].rstrip("=") + "?=",
    "q-every-byte-encoded": q(ATTACK),
    "q-lf-only": "=?utf-8?q?Hi=0ABcc:_attacker@evil.example?=",
    "q-cr-only": "=?utf-8?q?Hi=0DBcc:_attacker@evil.example?=",
    "q-space-as-=20": "=?utf-8?q?Hi=0D=0ABcc:=20attacker@evil.example?=",
    "q-raw-space-inside-word": "=?utf-8?q?Hi=0D=0ABcc: attacker@evil.example?=",
    # Other headers.
    "q-cc": "=?utf-8?q?Hi=0D=0ACc:_attacker@evil.example?=",
    "q-to": "=?utf-8?q?Hi=0D=0ATo:_attacker@evil.example?=",
    "q-second-subject": "=?utf-8?q?Hi=0D=0ASubject:_Pay_now?=",
    "q-content-type-html": "=?utf-8?q?Hi=0D=0AContent-Type:_text/html?=",
    "b-two-headers": b("Hi\r\nReply-To: attacker@evil.example\r\nBcc: attacker@evil.example"),
    "b-header-then-body": b("Hi\r\nBcc: attacker@evil.example\r\n\r\nAttacker text first"),
    # Where the word sits.
    "word-glued-to-text": "Hello=?utf-8?q?=0D=0ABcc:_attacker@evil.example?=",
    "word-after-text": "Роутер: =?utf-8?q?=0D=0ABcc:_attacker@evil.example?=",
    "word-before-text": "=?utf-8?q?=0D=0ABcc:_attacker@evil.example?= мигает",
    # Split across words and folded lines.
    "cr-and-lf-in-two-words": "=?utf-8?q?Hi=0D?= =?utf-8?q?=0ABcc:_attacker@evil.example?=",
    "header-name-split-over-words": "=?utf-8?q?Hi=0D=0ABc?= =?utf-8?q?c:_attacker@evil.example?=",
    "folded-lf-space": "=?utf-8?q?Hi?=\n =?utf-8?q?=0D=0ABcc:_attacker@evil.example?=",
    "folded-crlf-tab": "=?utf-8?q?Hi?=\r\n\t" + b("\r\n" + INJECTED),
    "folded-plain-header": "Hi\r\n " + INJECTED,
    # Charsets.
    "latin-1-q": q(ATTACK, "iso-8859-1"),
    "koi8-r-b": b("Привет\r\n" + INJECTED, "koi8-r"),
    "windows-1251-q": q("Привет\r\n" + INJECTED, "windows-1251"),
    "utf-16-b": b(ATTACK, "utf-16"),
    "utf-7-q": "=?utf-7?q?Hi+AA0ACg-Bcc:_attacker@evil.example?=",
    "us-ascii-q": "=?us-ascii?q?Hi=0D=0ABcc:_attacker@evil.example?=",
    "mixed-charsets-side-by-side": q("Привет", "koi8-r") + " " + b("\r\n" + INJECTED),
    "rfc-2231-language": "=?utf-8*en?q?Hi=0D=0ABcc:_attacker@evil.example?=",
    "unknown-charset": "=?x-unknown?q?Hi=0D=0ABcc:_attacker@evil.example?=",
    "binary-codec-as-charset": "=?base64?q?Hi=0D=0ABcc:_attacker@evil.example?=",
    "unicode-escape-as-charset": "=?unicode_escape?q?Hi\\r\\nBcc:_attacker@evil.example?=",
    # Malformed words.
    "bad-base64": "=?utf-8?b?SGk*DQpC!Y2M6?= " + b(ATTACK),
    "invalid-utf-8-bytes": "=?utf-8?q?=FF=FE=0D=0ABcc:_attacker@evil.example?=",
    "surrogate-bytes": "=?utf-8?q?=ED=A0=80=0D=0ABcc:_attacker@evil.example?=",
    "unterminated-word": "=?utf-8?q?Hi=0D=0ABcc:_attacker@evil.example",
    "empty-words": "=?utf-8?q??= =?utf-8?b??= " + b(ATTACK),
    "unknown-encoding": "=?utf-8?x?Hi=0D=0ABcc:_attacker@evil.example?=",
    "question-mark-equals-inside": "=?utf-8?q?=3F=3D=0D=0ABcc:_attacker@evil.example?=",
    # Overlong.
    "overlong-word": "=?utf-8?q?" + "=41" * 40 + "=0D=0ABcc:_attacker@evil.example?=",
    "many-words": " ".join(["=?utf-8?q?=0D=0A?="] * 7) + " " + b(ATTACK),
    # Nested: what one decoding gives is another encoded word.
    "nested-b-of-q": b("=?utf-8?q?Hi=0D=0ABcc:_attacker@evil.example?="),
    "nested-q-of-b": q(b("Hi\r\nBcc: a@evil.example")),
    "nested-three-deep": b(b(q("\r\nBcc: a@evil.example"))),
    "decodes-to-word-start": "=?utf-8?q?=3D=3F?=utf-8?q?Hi=0D=0ABcc:_attacker@evil.example?=",
    "double-question-mark-start": "==??utf-8?q?Hi=0D=0ABcc:_attacker@evil.example?=",
    # Encoded line and control characters.
    "encoded-nul": q("Hi\x00" + INJECTED),
    "encoded-vt": q("Hi\x0b" + INJECTED),
    "encoded-ff": q("Hi\x0c" + INJECTED),
    "encoded-u2028": q("Hi\u2028" + INJECTED),
    "encoded-u2029": b("Hi\u2029" + INJECTED),
    "encoded-u0085": q("Hi\u0085" + INJECTED),
    "encoded-file-separators": q("Hi\x1c\x1d\x1e\x1f" + INJECTED),
    "encoded-escape-and-del": q("Hi\x1b[31m\x7f" + INJECTED),
    "encoded-tab": q("Hi\t" + INJECTED),
    "encoded-bidi-and-zero-width": q("Hi\u202e\u200b\ufeff\u2060" + INJECTED),
    "encoded-lone-cr-then-text": b("Hi\r") + " " + INJECTED,
    # Raw line breaks (neutralised before; kept so they stay so).
    "raw-crlf": ATTACK,
    "raw-u2028": "Hi\u2028" + INJECTED,
    "raw-u0085": "Hi\u0085" + INJECTED,
    "raw-vt-nul": "Hi\x0b\x00" + INJECTED,
    # Harmless text that must arrive as it was meant.
    "russian-plain": "Не работает интернет",
    "russian-b": b("Не работает интернет"),
    "russian-q-koi8-r": q("Не работает интернет", "koi8-r"),
}
SUBJECT_IDS = list(SUBJECTS)

#: Names go into the body's greeting, never into a header.
NAMES = {
    "name-q-bcc": "=?utf-8?q?Ivan=0D=0ABcc:_attacker@evil.example?=",
    "name-b-body-start": b("Ivan\r\n\r\nAttacker text first"),
    "name-raw-lines": "Ivan\nBcc: attacker@evil.example",
    "name-address-lookalike": "Ivan, attacker@evil.example <attacker@evil.example>",
    "name-u2028": "Ivan\u2028Bcc: attacker@evil.example",
}

#: Addresses: refused by the form (every one with an encoded word), or accepted and then only
#: ever mailed as typed.
ADDRESSES = {
    "email-q-comma": "=?utf-8?q?a=2C_attacker=40evil.example?=@example.com",
    "email-b-comma": "=?utf-8?b?YSwgYXR0YWNrZXJAZXZpbC5leGFtcGxl?=@example.com",
    "email-q-crlf-bcc": "=?utf-8?q?x=0D=0ABcc=3A_attacker=40evil.example?=@example.com",
    "email-word-glued": "a=?utf-8?q?=0A?=@example.com",
    "email-word-between-dots": "a.=?utf-8?q?b?=.c@example.com",
    "email-encoded-u2028": "=?UTF-8?Q?=E2=80=A8?=@example.com",
    "email-encoded-nul": "=?utf-8?q?=00?=@example.com",
    "email-decodes-to-another": "=?utf-8?q?victim?=@example.com",
    "email-latin-1-cr": "=?iso-8859-1?q?a=0Db?=@example.com",
    "email-raw-crlf": "a@example.com\r\nBcc: attacker@evil.example",
    "email-raw-u2028": "a@example.com\u2028Bcc: attacker@evil.example",
    "email-two": "a@example.com, attacker@evil.example",
    "email-display-name": "Ivan <a@example.com>",
    "email-domain-word": "a@=?utf-8?q?evil.example?=",
}


# --- one site for the module ------------------------------------------------------------


@pytest.fixture(scope="module")
def mail_server():
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory, mail_server):
    """One app for every test here: round the clock, no rate limits, mail to `mail_server`."""
    root = tmp_path_factory.mktemp("mail-headers")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test", "ARTICLES_DIR": str(write_site(root / "articles")),
        "INDEX_DIR": str(root / "index"), "INDEX_REFRESH_SECONDS": 0,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'portal.sqlite3'}",
        "RATELIMIT_ENABLED": False, "TRACKING_ENABLED": False, "SUPPORT_HOURS": "24/7",
        "MAIL_SENDER": SENDER, **mail_server.settings})
    with app.app_context():
        upgrade()
    yield app
    app.extensions["tracking"].close()
    with app.app_context():
        outbox.stop()
    _drop_tables(app)


@pytest.fixture(scope="module")
def agent(site):
    """An agent, logged in once (a password check is slow)."""
    make_staff(site, "agent", "anna@example.com", "Анна Смирнова")
    client = site.test_client()
    assert log_in(client, "anna@example.com").status_code == 303
    return client


_numbers = itertools.count(1)


def new_address() -> str:
    """A customer address no other test uses, so a test sees only its own mail."""
    return f"customer{next(_numbers)}@example.com"


def settle(site, timeout: float = 5.0) -> None:
    """Wait until no mail is left to send: like `outbox.flush`, polled finer, as the background
    sender usually holds the message this test just queued."""
    with site.app_context():
        deadline = time.monotonic() + timeout
        while True:
            outbox.deliver_due()
            left = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status == outbox.PENDING,
                OutboxMessage.next_attempt_at <= outbox.queue.utc_now()))
            db.session.rollback()
            if not left:
                return
            assert time.monotonic() < deadline, "mail still waiting to be sent"
            time.sleep(0.005)


class Received:
    """The mail the server accepts from now on, once the outbox has sent what is due."""

    def __init__(self, site, server: MailServer) -> None:
        self.site = site
        self.server = server
        self.start = len(server.messages)

    def mails(self) -> list[tuple[EmailMessage, tuple[str, list[str]]]]:
        settle(self.site)
        end = len(self.server.messages)
        return list(zip(self.server.messages[self.start:end],
                        self.server.envelopes[self.start:end], strict=True))


# --- sending through the three ways in --------------------------------------------------


def through_form(site, **fields) -> tuple[int, str | None]:
    """Send the ticket form; the answer's status and the ticket number."""
    client = site.test_client()
    token = csrf_token(client.get("/tickets/new").get_data(as_text=True))
    response = client.post("/tickets/new", data={**ticket_data(**fields), "csrf_token": token})
    found = re.search(r"/tickets/([A-Z]+-\d+)", response.headers.get("Location", ""))
    return response.status_code, found and found.group(1)


def through_api(site, **fields) -> tuple[int, str | None]:
    """Send the ticket as JSON; the answer's status and the ticket number."""
    response = site.test_client().post("/api/v1/tickets", json=api_ticket(**fields))
    return response.status_code, (response.get_json() or {}).get("number")


WAYS_IN = {"form": through_form, "api": through_api}


def public_reply(agent, number: str) -> None:
    """The agent answers the customer publicly on the ticket page (which mails "Re: ...")."""
    page = agent.get(f"/agent/tickets/{number}")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True))
    response = agent.post(f"/agent/tickets/{number}/reply", data={
        "csrf_token": token.group(1), "visibility": "public", "body": REPLY})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]


# --- what every mail must look like ---------------------------------------------------


def line_breaks(text: str) -> list[str]:
    return [char for char in text if unicodedata.category(char) in ("Cc", "Zl", "Zp")]


def hidden_marks(text: str) -> list[str]:
    """Invisible format characters (bidi overrides, zero-width spaces) but the joiners."""
    return [char for char in text
            if unicodedata.category(char) == "Cf" and char not in "\u200c\u200d"]


def check_mail(received, address: str, subject_start: str) -> str:
    """Exactly the portal's headers, one recipient, a one-line subject, the portal's text first;
    the decoded subject."""
    mail, (mail_from, recipients) = received
    assert recipients == [address]
    assert mail_from == "help@line0.example"
    assert sorted(name.lower() for name in mail) == sorted(h.lower() for h in PORTAL_HEADERS)
    for name in ("Reply-To", "Bcc", "Cc"):
        assert name not in mail
    assert [a.addr_spec for a in mail["To"].addresses] == [address]
    subject = str(mail["Subject"])
    assert not line_breaks(subject) and not hidden_marks(subject), subject
    # (A subject with nothing left after cleaning has no space after the colon.)
    assert (subject + " ").startswith(subject_start), subject
    # Nothing is left that a mail reader could decode into something else.
    assert "=?" not in subject, subject
    assert len(subject) <= SUBJECT_LIMIT
    assert mail.get_content().startswith(GREETING), mail.get_content()[:200]
    return subject


def created_subject(number: str) -> str:
    return f"Ваше обращение {number}: "


def reply_subject(number: str) -> str:
    return f"Ответ на вашу заявку {number}: "


# --- subjects -----------------------------------------------------------------------------


@pytest.mark.parametrize("way_in", WAYS_IN)
@pytest.mark.parametrize("payload", SUBJECT_IDS)
def test_a_subject_becomes_no_header_in_the_confirmation(site, mail_server, way_in, payload):
    address = new_address()
    received = Received(site, mail_server)
    status, number = WAYS_IN[way_in](site, subject=SUBJECTS[payload], email=address)
    assert status in (201, 303) and number
    [mail] = received.mails()
    check_mail(mail, address, created_subject(number))


@pytest.mark.parametrize("payload", SUBJECT_IDS)
def test_a_subject_becomes_no_header_in_the_agents_reply(site, mail_server, agent, payload):
    address = new_address()
    received = Received(site, mail_server)
    status, number = through_api(site, subject=SUBJECTS[payload], email=address)
    assert status == 201
    public_reply(agent, number)
    # The two may come in either order: the background sender and this test both send.
    confirmation, reply = sorted(received.mails(), key=lambda mail: REPLY in mail[0].get_content())
    check_mail(confirmation, address, created_subject(number))
    check_mail(reply, address, reply_subject(number))
    assert REPLY in reply[0].get_content()


@pytest.mark.parametrize(("payload", "meant"), [
    ("finding-q-reply-to", "Hi Reply-To: attacker@evil.example"),
    ("finding-q-body-start", "Hi Attacker text first"),
    ("finding-b-bcc", "Hi Bcc: attacker@evil.example"),
    ("nested-three-deep", "Bcc: a@evil.example"),
    ("russian-plain", "Не работает интернет"),
    ("russian-b", "Не работает интернет"),
    ("russian-q-koi8-r", "Не работает интернет"),
])
def test_the_subject_reads_as_the_customer_meant_on_one_line(site, mail_server, payload, meant):
    address = new_address()
    received = Received(site, mail_server)
    _status, number = through_api(site, subject=SUBJECTS[payload], email=address)
    [mail] = received.mails()
    assert check_mail(mail, address, created_subject(number)) == created_subject(number) + meant


def test_a_long_subject_is_cut_with_an_ellipsis(site, mail_server):
    address = new_address()
    received = Received(site, mail_server)
    _status, number = through_api(site, subject="Роутер " * 28, email=address)
    [mail] = received.mails()
    subject = check_mail(mail, address, created_subject(number) + "Роутер Роутер")
    assert len(subject) <= SUBJECT_LIMIT and subject.endswith("Роутер…")


def fit(text: str, size: int) -> str:
    """The longest start of `text` that is at most `size` bytes in UTF-8."""
    while len(text.encode()) > size:
        text = text[:-1]
    return text


def test_hostile_strings_from_the_shared_lists_become_no_header(site, mail_server):
    lines = json.loads(shared_path("badinput", "blns", "blns.json").read_text("utf-8"))
    hostile = [line for line in lines if isinstance(line, str) and (
        "=?" in line or line_breaks(line)
        or any(unicodedata.category(char) == "Cf" for char in line))]
    assert hostile
    for line in hostile:
        for subject in (line[:200], b(fit(line, 130)), q(fit(line, 60))):
            address = new_address()
            received = Received(site, mail_server)
            status, number = through_api(site, subject=subject, email=address)
            if status == 400:  # nothing left once control characters are taken out
                assert received.mails() == []
                continue
            [mail] = received.mails()
            check_mail(mail, address, created_subject(number))


# --- names and addresses ------------------------------------------------------------------


@pytest.mark.parametrize("way_in", WAYS_IN)
@pytest.mark.parametrize("payload", list(NAMES))
def test_a_name_stays_in_the_body(site, mail_server, way_in, payload):
    address = new_address()
    received = Received(site, mail_server)
    status, number = WAYS_IN[way_in](site, name=NAMES[payload], email=address)
    assert status in (201, 303)
    [mail] = received.mails()
    check_mail(mail, address, created_subject(number))


@pytest.mark.parametrize("way_in", WAYS_IN)
@pytest.mark.parametrize("payload", list(ADDRESSES))
def test_an_address_is_refused_or_mailed_only_as_typed(site, mail_server, way_in, payload):
    typed = ADDRESSES[payload]
    received = Received(site, mail_server)
    status, number = WAYS_IN[way_in](site, email=typed)
    assert status in (201, 303, 400)
    for mail in received.mails():
        check_mail(mail, typed, created_subject(number))
    if "=?" in typed:
        # No mailbox needs an encoded word: the customer is told, instead of never hearing back.
        assert status == 400


# --- the outbox itself ----------------------------------------------------------------------


def queue_raw(site, to: str, subject: str) -> int:
    """A row as older code could have queued it, without today's checks."""
    with site.app_context():
        now = outbox.queue.utc_now()
        message = OutboxMessage(kind=outbox.MAIL, status=outbox.PENDING, attempts=0,
                                next_attempt_at=now, created_at=now, payload=json.dumps({
                                    "to": to, "subject": subject,
                                    "text": GREETING + "Ирина!\n\nВаше обращение принято."}))
        db.session.add(message)
        db.session.commit()
        return message.id


@pytest.mark.parametrize("payload", ["finding-q-reply-to", "finding-b-bcc", "raw-crlf",
                                     "nested-three-deep", "encoded-u2028"])
def test_a_mail_queued_by_older_code_is_made_safe_before_sending(site, mail_server, payload):
    address = new_address()
    received = Received(site, mail_server)
    queue_raw(site, address, "Ваше обращение INC-000099: " + SUBJECTS[payload])
    [mail] = received.mails()
    check_mail(mail, address, "Ваше обращение INC-000099: ")


@pytest.mark.parametrize("to", ["=?utf-8?q?a=2C_attacker=40evil.example?=@example.com",
                                "=?utf-8?q?Evil=2C_attacker@evil.example?= <a@example.com>",
                                "a@example.com\r\nBcc: attacker@evil.example",
                                "a@example.com, attacker@evil.example"])
def test_a_queued_address_that_is_not_one_mailbox_is_never_sent(site, mail_server, to):
    received = Received(site, mail_server)
    message_id = queue_raw(site, to, "Ваше обращение INC-000099: Роутер")
    assert received.mails() == []
    with site.app_context():
        row = db.session.get(OutboxMessage, message_id)
        assert row.status == outbox.DEAD and "address" in row.last_error


def test_a_display_name_is_cleaned_like_a_subject(site, mail_server):
    received = Received(site, mail_server)
    with site.app_context():
        outbox.queue_mail("Иван\u00a0 Петров\u200b <ivan@example.com>", "Заявка", "Здравствуйте!")
        db.session.commit()
    [(mail, envelope)] = received.mails()
    assert envelope[1] == ["ivan@example.com"]
    [to] = mail["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Иван Петров", "ivan@example.com")


def test_bytes_with_a_header_the_mail_was_not_given_are_not_sent():
    mail = EmailMessage(policy=outbox.MAIL_POLICY)
    mail["From"] = "help@line0.example"
    mail["To"] = "ivan@example.com"
    mail["Subject"] = "Hi"
    data = (b"From: help@line0.example\r\nTo: ivan@example.com\r\nSubject: Hi\r\n"
            b"Bcc: attacker@evil.example\r\n\r\nText\r\n")
    with pytest.raises(outbox.DeliveryError) as caught:
        outbox.mail.check_headers(data, mail, Address(addr_spec="help@line0.example"),
                                  Address(addr_spec="ivan@example.com"), "Hi")
    assert caught.value.permanent and "headers" in str(caught.value)


# --- the rule, for any text -----------------------------------------------------------------

#: Text that is likely to matter: encoded-word syntax, line and format characters, any letter.
PIECES = st.sampled_from(["=?", "?=", "?q?", "?B?", "utf-8", "=0D", "=0A", "=?utf-8?q?",
                          "=?utf-8?b?", "\r", "\n", "\r\n ", "\t", "\x00", "\x0b", "\x85",
                          "\u2028", "\u2029", "\u200b", "\u202e", "\ufeff", "Bcc: x@evil.example",
                          " ", "_", "=", "?", ":", "<", ">", ",", '"', "Не работает", "…"])
TEXTS = st.one_of(st.text(), st.lists(st.one_of(PIECES, st.text(max_size=5))).map("".join))


def read_back(mail: EmailMessage):
    data = mail.as_bytes(policy=outbox.MAIL_POLICY.clone(linesep="\r\n"))
    assert b"\r\n\r\n" not in data.rstrip(b"\r\n")  # no header block other than the whole
    return data, BytesHeaderParser(policy=default_policy).parsebytes(data)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_any_text_makes_exactly_one_subject_header(text):
    subject = outbox.header_text(text)
    assert outbox.header_text(subject) == subject  # once is enough: queueing, then sending
    assert not line_breaks(subject) and "=?" not in subject
    assert len(subject) <= SUBJECT_LIMIT
    mail = EmailMessage(policy=outbox.MAIL_POLICY)
    mail["Subject"] = subject
    data, back = read_back(mail)
    assert list(back) == ["Subject"]
    value = str(back["Subject"])
    assert not line_breaks(value)
    assert "".join(value.split()) == "".join(subject.split())


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_any_text_makes_one_recipient_with_that_display_name(text):
    name = outbox.header_text(text, outbox.NAME_LIMIT)
    written = outbox.headers.one_address(str(Address(name, addr_spec="ivan@example.com")))
    [meant] = HeaderRegistry()("To", written).addresses
    mail = EmailMessage(policy=outbox.MAIL_POLICY)
    mail["To"] = written
    data, back = read_back(mail)
    assert list(back) == ["To"]
    assert not line_breaks(str(back["To"]))
    [group] = back["To"].groups
    [to] = group.addresses
    assert to.addr_spec == "ivan@example.com"
    assert "".join(to.display_name.split()) == "".join(meant.display_name.split())
