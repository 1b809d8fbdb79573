"""The outbox's settings: read from the app's configuration in one place, then passed in.

The rest of the outbox never looks at a configuration; the app's edge (`wiring`) builds
these from `app.config` and hands them to each call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any


@dataclass(frozen=True)
class MailSettings:
    """The SMTP server mail goes through, and whom it is from."""

    server: str = ""
    port: int = 25
    #: The From address: MAIL_SENDER, else MAIL_USERNAME.
    sender: str = ""
    username: str = ""
    password: str = ""
    timeout: float = 10
    use_ssl: bool = False
    use_tls: bool = False

    @property
    def enabled(self) -> bool:
        """Whether mail goes out at all: only when MAIL_SERVER is set."""
        return bool(self.server)


@dataclass(frozen=True)
class WebhookSettings:
    """Where ticket events are POSTed, and how they are signed."""

    url: str = ""
    secret: str = ""
    timeout: float = 10

    @property
    def enabled(self) -> bool:
        """Whether events go to the outside helpdesk: only when WEBHOOK_URL is set."""
        return bool(self.url)


@dataclass(frozen=True)
class RetrySettings:
    """How often and how far apart a failed message is tried again."""

    max_attempts: float = 10
    backoff_seconds: float = 30
    backoff_max_seconds: float = 3600


@dataclass(frozen=True)
class OutboxSettings:
    """Everything the outbox needs to know about its surroundings."""

    mail: MailSettings = field(default_factory=MailSettings)
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    retries: RetrySettings = field(default_factory=RetrySettings)
    #: How often a server process's sender looks for messages due for a retry.
    poll_seconds: float = 10


def settings_from(config: Mapping[str, Any]) -> OutboxSettings:
    """The outbox settings in `config` (an app's config); ValueError for a number that is
    not one."""
    return OutboxSettings(
        mail=MailSettings(
            server=_text(config, "MAIL_SERVER"),
            port=int(_number(config, "MAIL_PORT", 25)),
            sender=_text(config, "MAIL_SENDER") or _text(config, "MAIL_USERNAME"),
            username=_text(config, "MAIL_USERNAME"),
            password=_text(config, "MAIL_PASSWORD"),
            timeout=_number(config, "MAIL_TIMEOUT", 10),
            use_ssl=_flag(config, "MAIL_USE_SSL"),
            use_tls=_flag(config, "MAIL_USE_TLS"),
        ),
        webhook=WebhookSettings(
            url=_text(config, "WEBHOOK_URL"),
            secret=_text(config, "WEBHOOK_SECRET"),
            timeout=_number(config, "WEBHOOK_TIMEOUT", 10),
        ),
        retries=RetrySettings(
            max_attempts=_number(config, "OUTBOX_MAX_ATTEMPTS", 10),
            backoff_seconds=_number(config, "OUTBOX_BACKOFF_SECONDS", 30),
            backoff_max_seconds=_number(config, "OUTBOX_BACKOFF_MAX_SECONDS", 3600),
        ),
        poll_seconds=_number(config, "OUTBOX_POLL_SECONDS", 10),
    )


def _text(config: Mapping[str, Any], key: str) -> str:
    """A text setting; PORTAL_* variables that look like numbers arrive as numbers."""
    value = config.get(key)
    return "" if value is None else str(value).strip()


def _number(config: Mapping[str, Any], key: str, fallback: float) -> float:
    value = config.get(key)
    if value in (None, ""):
        return fallback
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key}: not a number: {value!r}") from None


def _flag(config: Mapping[str, Any], key: str) -> bool:
    value = config.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
