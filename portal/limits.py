"""Abuse protection: how often one client address may vote, open tickets and write on them.

The limits are named settings (`RATELIMIT_VOTES`, ...), looked up in the app's config on
each request. Counts live in `RATELIMIT_STORAGE_URI`: in memory each server process counts
on its own; Redis shares the counts between processes and machines.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable
from typing import ParamSpec
from typing import TypeVar

from flask import Flask
from flask import current_app
from flask import request
from limits import parse_many

from . import staff
from .extensions import limiter

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

#: Settings holding a limit in Flask-Limiter syntax ("5 per hour;20 per day").
LIMIT_SETTINGS = ("RATELIMIT_TICKETS", "RATELIMIT_VOTES", "RATELIMIT_TICKET_MESSAGES",
                  "RATELIMIT_LOGIN", "RATELIMIT_LOGIN_ACCOUNT")


def _limit(setting: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A decorator limiting POSTs to a view by the limit in `setting`, per client address."""
    return limiter.limit(lambda: current_app.config[setting], methods=["POST"])


def _ticket_created(response) -> bool:
    """A ticket was stored: the form redirects to its status page, the API answers 201."""
    return response.status_code in (201, 303)


#: One count of new tickets per client address, whether they come through the form or the
#: API; only tickets really created count, so typing mistakes cost the customer nothing.
limit_tickets = limiter.shared_limit(lambda: current_app.config["RATELIMIT_TICKETS"],
                                     scope="tickets", methods=["POST"],
                                     deduct_when=_ticket_created)


def limit_votes(view: Callable[P, R]) -> Callable[P, R]:
    """Limit "Did this help?" votes (`RATELIMIT_VOTES`)."""
    return _limit("RATELIMIT_VOTES")(view)


def limit_ticket_messages(view: Callable[P, R]) -> Callable[P, R]:
    """Limit messages customers add on a ticket's status page (`RATELIMIT_TICKET_MESSAGES`)."""
    return _limit("RATELIMIT_TICKET_MESSAGES")(view)


def _failed(response) -> bool:
    """A login attempt that did not log anyone in (a successful one redirects); one the
    database could not answer (503) is no guess and does not count."""
    return response.status_code not in (302, 303, 503)


def _account_key() -> str:
    """The account a login is for, as stored: "AGENT@xn--e1afmkfd.xn--p1ai" and
    "agent@пример.рф" share one count, or each spelling would get its own guesses."""
    typed = (request.form.get("email") or "").strip()[:320]
    with contextlib.suppress(staff.StaffError):
        typed = staff.normalize_email(typed)
    return "login:" + typed.lower()


def limit_login(view: Callable[P, R]) -> Callable[P, R]:
    """Limit failed logins per client address (`RATELIMIT_LOGIN`) and per account
    (`RATELIMIT_LOGIN_ACCOUNT`, against guessing from many addresses)."""
    per_account = limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"],
                                key_func=_account_key, methods=["POST"], deduct_when=_failed)
    per_address = limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"],
                                methods=["POST"], deduct_when=_failed)
    return per_address(per_account(view))


def retry_after() -> int | None:
    """Seconds until the limit this request broke lets the client in again, if one did."""
    broken = limiter.current_limit if limiter.enabled else None
    if broken is None or not broken.breached:
        return None
    try:
        reset_at = broken.reset_at  # asks the storage, which may be down
    except Exception:
        log.exception("could not read when a rate limit resets")
        return None
    return max(1, math.ceil(reset_at - time.time()))


def init_app(app: Flask) -> None:
    """Check the limits, then start counting (per client address: see `deployment` for
    the proxies trusted to name it)."""
    for setting in LIMIT_SETTINGS:
        try:
            parse_many(app.config[setting])
        except (ValueError, TypeError):
            raise ValueError(f"{setting}: cannot read the rate limit {app.config[setting]!r} "
                             f"(write e.g. '5 per hour;20 per day')") from None
    # The limiter is one per process, and Flask-Limiter keeps a key prefix read from the
    # first app's settings; read it from this app's (tests build many apps in one process).
    limiter._key_prefix = ""
    limiter.init_app(app)
