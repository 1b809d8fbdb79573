"""Abuse protection: how often one client address may vote, open tickets and write on them.

The limits are named settings (`RATELIMIT_VOTES`, ...), looked up in the app's config on
each request. Counts live in `RATELIMIT_STORAGE_URI`: in memory each server process counts
on its own; Redis shares the counts between processes and machines.

Views are marked with the decorators below; `init_app` gives each app its own Flask-Limiter
and puts the marked views behind it, so two apps in one process (tests build hundreds) never
share counts, key prefixes or a "storage is down" state.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec
from typing import TypeVar

from flask import Flask
from flask import current_app
from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import parse_many

from .. import staff

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

#: Settings holding a limit in Flask-Limiter syntax ("5 per hour;20 per day").
LIMIT_SETTINGS = ("RATELIMIT_TICKETS", "RATELIMIT_VOTES", "RATELIMIT_TICKET_MESSAGES",
                  "RATELIMIT_LOGIN", "RATELIMIT_LOGIN_ACCOUNT")
_MARK = "_portal_limits"


@dataclass(frozen=True)
class Rule:
    """One limit on POSTs to a view: the setting holding it, whose requests share a count
    (`key`, the client address by default), which answers count (`counts`, all by default)
    and, for a limit several views share, the name of the shared count (`shared`)."""

    setting: str
    key: Callable[[], str] | None = None
    counts: Callable[..., bool] | None = None
    shared: str | None = None

    def apply(self, limiter: Limiter, view: Callable) -> Callable:
        amount = _setting(self.setting)
        options = {"methods": ["POST"], "deduct_when": self.counts}
        if self.key is not None:
            options["key_func"] = self.key
        if self.shared is not None:
            return limiter.shared_limit(amount, scope=self.shared, **options)(view)
        return limiter.limit(amount, **options)(view)


def _setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def _marked(*rules: Rule) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a view to be limited by `rules` in every app that serves it."""
    def mark(view: Callable[P, R]) -> Callable[P, R]:
        setattr(view, _MARK, (*getattr(view, _MARK, ()), *rules))
        return view
    return mark


def _ticket_created(response) -> bool:
    """A ticket was stored: the form redirects to its status page, the API answers 201."""
    return response.status_code in (201, 303)


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


#: One count of new tickets per client address, whether they come through the form or the
#: API; only tickets really created count, so typing mistakes cost the customer nothing.
limit_tickets = _marked(Rule("RATELIMIT_TICKETS", counts=_ticket_created, shared="tickets"))
#: "Did this help?" votes (`RATELIMIT_VOTES`).
limit_votes = _marked(Rule("RATELIMIT_VOTES"))
#: Messages customers add on a ticket's status page (`RATELIMIT_TICKET_MESSAGES`).
limit_ticket_messages = _marked(Rule("RATELIMIT_TICKET_MESSAGES"))
#: Failed logins per client address (`RATELIMIT_LOGIN`) and per account
#: (`RATELIMIT_LOGIN_ACCOUNT`, against guessing from many addresses).
limit_login = _marked(Rule("RATELIMIT_LOGIN", counts=_failed),
                      Rule("RATELIMIT_LOGIN_ACCOUNT", key=_account_key, counts=_failed))


def app_limiter() -> Limiter:
    """The limiter of the app handling this request."""
    return current_app.extensions["portal.limiter"]


def retry_after() -> int | None:
    """Seconds until the limit this request broke lets the client in again, if one did."""
    limiter = app_limiter()
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
    """Check the limits, then count requests to every marked view of `app` (per client
    address: see `deployment` for the proxies trusted to name it). Call it once the
    blueprints are registered."""
    for setting in LIMIT_SETTINGS:
        try:
            parse_many(app.config[setting])
        except (ValueError, TypeError):
            raise ValueError(f"{setting}: cannot read the rate limit {app.config[setting]!r} "
                             f"(write e.g. '5 per hour;20 per day')") from None
    limiter = Limiter(key_func=get_remote_address)
    limiter.init_app(app)
    app.extensions["portal.limiter"] = limiter
    for endpoint, view in list(app.view_functions.items()):
        guarded = view
        for rule in reversed(getattr(view, _MARK, ())):
            guarded = rule.apply(limiter, guarded)
        app.view_functions[endpoint] = guarded
