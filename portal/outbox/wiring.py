"""The outbox as the app uses it: settings read from the current app's configuration, the
background sender attached to the app, and the calls the rest of the portal makes.

This is the only part of the outbox that looks at `current_app`; each call builds the
settings once and passes them to the domain functions in `queue` and `delivery`.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import Flask
from flask import current_app

from ..models import OutboxMessage
from . import delivery
from . import queue
from .queue import DeliveryReport
from .queue import Overview
from .sender import Sender
from .settings import OutboxSettings
from .settings import settings_from

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Give the app its background sender; the thread starts on the first `kick` (or the
    first request, so messages left pending by a restart go out without waiting)."""
    if app.config["MAIL_SERVER"] and not (app.config["MAIL_SENDER"] or app.config["MAIL_USERNAME"]):
        raise ValueError("MAIL_SENDER: set the From address of mail (e.g. "
                         "'Support <support@example.com>') when MAIL_SERVER is set")
    # Read once here so that a setting that is not a number stops the start, not each send.
    settings_from(app.config)
    app.extensions["outbox"] = Sender(app, _deliver_in_background)
    started: list[bool] = []

    @app.before_request
    def _start_sender() -> None:
        if not started:
            started.append(True)
            kick()


def current_settings() -> OutboxSettings:
    """The outbox settings of the current app, as its configuration says now."""
    return settings_from(current_app.config)


def queue_mail(to: str, subject: str, text: str, ticket_id: int | None = None,
               html: str | None = None) -> OutboxMessage | None:
    """Add a mail to the session for the caller to commit; None (nothing queued) without
    MAIL_SERVER. A line break in the address or subject raises OutboxError either way."""
    return queue.queue_mail(current_settings().mail, to, subject, text, ticket_id, html)


def queue_webhook(event: str, body: dict, ticket_id: int | None = None) -> OutboxMessage | None:
    """Add a webhook call to the session for the caller to commit; None without WEBHOOK_URL."""
    return queue.queue_webhook(current_settings().webhook, event, body, ticket_id)


def deliver_due(now: dt.datetime | None = None, limit: int = 50) -> DeliveryReport:
    """Send the pending messages that are due and held by no other sender; never raises."""
    return delivery.deliver_due(current_settings(), now, limit)


def flush(timeout: float = 5.0) -> bool:
    """Send what is due now and wait for other senders' claims; True when nothing due is left."""
    return delivery.flush(current_settings(), timeout)


def overview(status: str | None = None, limit: int = 50) -> Overview:
    """The newest `limit` messages, of one status if given, and the count of each status."""
    return queue.overview(current_settings().webhook, status, limit)


def kick() -> None:
    """Wake this process's sender after a commit that queued messages; never raises."""
    try:
        settings = current_settings()
        if settings.mail.enabled or settings.webhook.enabled:
            current_app.extensions["outbox"].kick()
    except Exception:
        log.exception("outbox: could not wake the sender")


def stop(timeout: float = 5.0) -> None:
    """Stop the current app's sender thread, if it runs (a later `kick` starts it again)."""
    current_app.extensions["outbox"].stop(timeout)


def _deliver_in_background() -> float:
    """The sender's run, in the app's context: deliver, then say when to look again."""
    settings = current_settings()
    delivery.deliver_due(settings)
    return settings.poll_seconds
