"""The outbox: mail and webhook calls are queued with their cause, sent after, retried, kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading

import pytest
from sqlalchemy import func
from sqlalchemy import select

from portal import outbox
from portal.extensions import db
from portal.models import OutboxMessage

from .conftest import _drop_tables
from .conftest import database_urls
from .servers import wait_until

SENDER = "Линия 0 <support@line0.example>"
SECRET = "webhook-secret"
BACKOFF = 60


@pytest.fixture(params=database_urls())
def site(request, make_app, articles_dir, smtp_server, http_receiver):
    app = make_app(articles_dir, database=request.param, BUILD_INDEX_ON_START=False,
                   MAIL_SENDER=SENDER, WEBHOOK_SECRET=SECRET, OUTBOX_BACKOFF_SECONDS=BACKOFF,
                   OUTBOX_MAX_ATTEMPTS=3, **smtp_server.settings, **http_receiver.settings)
    yield app
    with app.app_context():
        outbox.stop()
    _drop_tables(app)


def queue_mail(app, **fields) -> int:
    mail = {"to": "ivan@example.com", "subject": "Заявка L0-17 принята",
            "text": "Здравствуйте! Мы получили вашу заявку."}
    with app.app_context():
        message = outbox.queue_mail(**{**mail, **fields})
        db.session.commit()
        return message.id


def queue_webhook(app, event="ticket.created", body=None) -> int:
    with app.app_context():
        message = outbox.queue_webhook(event, body or {"number": "L0-17"})
        db.session.commit()
        return message.id


def deliver(app, now=None) -> outbox.DeliveryReport:
    with app.app_context():
        return outbox.deliver_due(now=now)


def stored(app, message_id) -> OutboxMessage:
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        db.session.expunge(message)
        return message


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def later(start: dt.datetime, seconds: float) -> dt.datetime:
    return start + dt.timedelta(seconds=seconds)


def test_mail_arrives_with_recipient_subject_and_russian_text(site, smtp_server):
    message_id = queue_mail(site, to="Иван Петров <ivan@example.com>",
                            subject="Заявка L0-17: «нет интернета» — принята",
                            text="Здравствуйте!\nМы получили вашу заявку № L0-17.",
                            html="<p>Здравствуйте!</p>")
    assert deliver(site) == outbox.DeliveryReport(sent=1)
    [mail] = smtp_server.messages
    assert smtp_server.envelopes == [("support@line0.example", ["ivan@example.com"])]
    assert mail["From"] == SENDER
    assert mail["To"] == "Иван Петров <ivan@example.com>"
    assert mail["Subject"] == "Заявка L0-17: «нет интернета» — принята"
    text = mail.get_body(("plain",)).get_content()
    assert text == "Здравствуйте!\nМы получили вашу заявку № L0-17.\n"
    assert mail.get_body(("html",)).get_content() == "<p>Здравствуйте!</p>\n"
    row = stored(site, message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None)
    assert row.sent_at is not None


def test_server_down_keeps_the_mail_then_sends_it_once_when_back(site, smtp_server):
    smtp_server.stop()
    message_id = queue_mail(site)
    start = now()
    assert deliver(site, start) == outbox.DeliveryReport(failed=1)
    row = stored(site, message_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Connection refused" in row.last_error
    assert row.next_attempt_at == later(start, BACKOFF)

    assert deliver(site, later(start, BACKOFF - 1)) == outbox.DeliveryReport()
    smtp_server.start()
    assert deliver(site, later(start, BACKOFF)) == outbox.DeliveryReport(sent=1)
    assert deliver(site, later(start, 3600)) == outbox.DeliveryReport()
    assert len(smtp_server.messages) == 1
    row = stored(site, message_id)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)


def test_backoff_doubles_up_to_its_cap(site, smtp_server):
    smtp_server.stop()
    site.config.update(OUTBOX_MAX_ATTEMPTS=10, OUTBOX_BACKOFF_MAX_SECONDS=200)
    message_id = queue_mail(site)
    at = now()
    waits = []
    for _ in range(4):
        assert deliver(site, at).failed == 1
        retry_at = stored(site, message_id).next_attempt_at
        waits.append((retry_at - at).total_seconds())
        at = retry_at
    assert waits == [60, 120, 200, 200]


def test_mail_to_an_unknown_mailbox_is_dead_at_once(site, smtp_server):
    smtp_server.refuse("nobody@example.com")
    message_id = queue_mail(site, to="nobody@example.com")
    assert deliver(site) == outbox.DeliveryReport(dead=1)
    row = stored(site, message_id)
    assert row.status == "dead"
    assert row.last_error.startswith("recipient refused: 550")
    assert smtp_server.messages == []


def test_a_mail_rolled_back_with_its_cause_is_never_sent(site, smtp_server):
    with site.app_context():
        outbox.queue_mail("ivan@example.com", "Заявка", "Текст")
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert deliver(site) == outbox.DeliveryReport()
    assert smtp_server.messages == []


def test_webhook_gets_the_json_body_with_a_valid_signature(site, http_receiver):
    body = {"number": "L0-17", "subject": "Нет интернета", "priority": "high"}
    message_id = queue_webhook(site, "ticket.created", body)
    assert deliver(site) == outbox.DeliveryReport(sent=1)
    [request] = http_receiver.requests
    assert (request.method, request.path) == ("POST", "/hook")
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["X-Line0-Event"] == "ticket.created"
    assert request.headers["X-Line0-Delivery"] == str(message_id)
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Line0-Signature"] == f"sha256={expected}"
    payload = request.json
    assert (payload["event"], payload["delivery"], payload["data"]) == (
        "ticket.created", message_id, body)
    assert dt.datetime.fromisoformat(payload["created_at"]).tzinfo is not None


def test_webhook_answering_500_is_retried_later_then_delivered(site, http_receiver):
    http_receiver.fail_next(1)
    message_id = queue_webhook(site)
    start = now()
    assert deliver(site, start) == outbox.DeliveryReport(failed=1)
    row = stored(site, message_id)
    assert row.last_error == "HTTP 500 Internal Server Error"
    assert row.next_attempt_at == later(start, BACKOFF)
    assert deliver(site, later(start, BACKOFF)) == outbox.DeliveryReport(sent=1)
    first, second = http_receiver.requests
    # The same delivery id both times: the helpdesk can tell a repeat from a new event.
    assert first.body == second.body
    assert stored(site, message_id).status == "sent"


def test_after_max_attempts_the_message_is_dead_until_retried_by_hand(site, http_receiver):
    http_receiver.status = 503
    message_id = queue_webhook(site)
    start = now()
    assert deliver(site, start).failed == 1
    assert deliver(site, later(start, BACKOFF)).failed == 1
    assert deliver(site, later(start, 3 * BACKOFF)) == outbox.DeliveryReport(dead=1)
    assert deliver(site, later(start, 86400)) == outbox.DeliveryReport()
    assert len(http_receiver.requests) == 3

    runner = site.test_cli_runner()
    result = runner.invoke(args=["outbox", "list", "--status", "dead"])
    [line, summary] = result.output.splitlines()
    assert line.split()[:5] == [str(message_id), "webhook", "dead", "3", "tries"]
    assert f"ticket.created -> {http_receiver.url}" in line
    assert line.endswith("HTTP 503 Service Unavailable")
    assert summary == "Outbox: 0 pending, 0 sent, 1 dead."

    http_receiver.status = 200
    result = runner.invoke(args=["outbox", "retry", str(message_id)])
    assert result.exit_code == 0
    assert f"Message {message_id} is pending again" in result.output
    result = runner.invoke(args=["outbox", "send"])
    assert result.output == "Outbox: 1 sent, 0 failed (will retry), 0 dead.\n"
    assert len(http_receiver.requests) == 4
    assert stored(site, message_id).status == "sent"


@pytest.mark.parametrize(("message_id", "error"), [
    (None, "was sent already"),
    (999, "there is no outbox message 999"),
])
def test_retry_refuses_a_sent_or_missing_message(site, message_id, error):
    sent_id = queue_mail(site)
    deliver(site)
    result = site.test_cli_runner().invoke(args=["outbox", "retry", str(message_id or sent_id)])
    assert result.exit_code == 1
    assert error in result.output


def test_two_senders_at_once_send_each_message_once(site, smtp_server):
    subjects = [f"Письмо {number}" for number in range(20)]
    for subject in subjects:
        queue_mail(site, subject=subject)
    start = threading.Barrier(2)
    reports = []

    def sender() -> None:
        with site.app_context():
            start.wait()
            reports.append(outbox.deliver_due())

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(report.sent for report in reports) == 20
    assert sorted(mail["Subject"] for mail in smtp_server.messages) == sorted(subjects)


def test_list_and_send_on_the_command_line(site, smtp_server):
    sent_id = queue_mail(site, to="anna@example.com")
    deliver(site)
    smtp_server.stop()
    pending_id = queue_mail(site, to="boris@example.com")
    deliver(site)
    runner = site.test_cli_runner()

    lines = runner.invoke(args=["outbox", "list"]).output.splitlines()
    assert len(lines) == 3
    assert lines[0].split()[:5] == [str(pending_id), "mail", "pending", "1", "tries"]
    assert "next " in lines[0] and "boris@example.com" in lines[0]
    assert "Connection refused" in lines[0]
    assert lines[1].split()[:5] == [str(sent_id), "mail", "sent", "1", "tries"]
    assert "anna@example.com" in lines[1]
    assert lines[2] == "Outbox: 1 pending, 1 sent, 0 dead."

    lines = runner.invoke(args=["outbox", "list", "--status", "sent"]).output.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == [str(sent_id)]

    # Not due yet: the failed mail waits for its backoff even when asked by hand.
    smtp_server.start()
    result = runner.invoke(args=["outbox", "send"])
    assert result.output == "Outbox: 0 sent, 0 failed (will retry), 0 dead.\n"
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize("fields", [
    {"to": "ivan@example.com\r\nBcc: everyone@example.com"},
    {"to": "ivan@example.com\nBcc: everyone@example.com"},
    {"subject": "Заявка\r\nBcc: everyone@example.com"},
    {"subject": "Заявка\nBcc: everyone@example.com"},
    {"subject": "Заявка\u2028Bcc: everyone@example.com"},
    {"to": "ivan@example.com, everyone@example.com"},
    {"to": "not an address"},
    {"to": ""},
])
def test_header_injection_and_bad_addresses_are_refused(site, fields):
    mail = {"to": "ivan@example.com", "subject": "Заявка", "text": "Текст", **fields}
    with site.app_context():
        with pytest.raises(outbox.OutboxError):
            outbox.queue_mail(**mail)
        with pytest.raises(outbox.OutboxError):
            outbox.queue_webhook("ticket.created\r\nX-Evil: 1", {})
        assert not db.session.new


def test_without_a_mail_server_or_webhook_url_nothing_is_queued(make_app, articles_dir):
    app = make_app(articles_dir, BUILD_INDEX_ON_START=False)
    with app.app_context():
        assert outbox.queue_mail("ivan@example.com", "Заявка", "Текст") is None
        assert outbox.queue_webhook("ticket.created", {"number": "L0-1"}) is None
        db.session.commit()
        outbox.kick()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        with pytest.raises(outbox.OutboxError):
            outbox.queue_mail("ivan@example.com\nBcc: x@example.com", "Заявка", "Текст")


def test_kick_sends_at_once_in_the_background(site, smtp_server, http_receiver):
    with site.app_context():
        outbox.queue_mail("ivan@example.com", "Заявка L0-17 принята", "Текст")
        outbox.queue_webhook("ticket.created", {"number": "L0-17"})
        db.session.commit()
        outbox.kick()
    assert [mail["Subject"] for mail in smtp_server.wait_for(1)] == ["Заявка L0-17 принята"]
    assert [request.json["data"] for request in http_receiver.wait_for(1)] == [
        {"number": "L0-17"}]
    with site.app_context():
        assert outbox.flush(timeout=5)
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
    assert statuses == ["sent", "sent"]


def test_the_background_sender_retries_on_its_own(site, smtp_server):
    site.config.update(OUTBOX_POLL_SECONDS=0.05, OUTBOX_BACKOFF_SECONDS=0.2)
    smtp_server.stop()
    message_id = queue_mail(site)
    with site.app_context():
        outbox.kick()
    assert wait_until(lambda: stored(site, message_id).attempts >= 1)
    smtp_server.start()
    assert len(smtp_server.wait_for(1)) == 1
    assert wait_until(lambda: stored(site, message_id).status == "sent")
    assert len(smtp_server.messages) == 1
