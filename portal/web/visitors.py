"""The anonymous visitor: a random id in a cookie, nothing personal."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Flask
from flask import Response
from flask import g
from flask import request

from .deployment import cookie_secure

COOKIE = "l0_visitor"
MAX_AGE = 365 * 24 * 3600
_VALID = re.compile(r"[A-Za-z0-9_-]{22,64}")
_EVENT_UID = re.compile(r"[A-Za-z0-9_-]{16}")


def visitor_id() -> str:
    """This visitor's id; a new one (set as a cookie with the response) on the first visit."""
    if "visitor_id" not in g:
        sent = request.cookies.get(COOKIE, "")
        if _VALID.fullmatch(sent):
            g.visitor_id, g.new_visitor = sent, False
        else:
            g.visitor_id, g.new_visitor = secrets.token_urlsafe(16), True
    return g.visitor_id


def known_visitor() -> bool:
    """True when the request carries a visitor cookie (a browser, not a script)."""
    return bool(_VALID.fullmatch(request.cookies.get(COOKIE, "")))


def is_event_uid(value: str) -> bool:
    """True for something shaped like an event id (what `tracking.new_uid` makes)."""
    return bool(_EVENT_UID.fullmatch(value))


_LINK_CODE = re.compile(r"[A-Za-z0-9_-]{8,32}")


def is_link_code(value: str) -> bool:
    """True for something shaped like the code of a link an agent sent (`?t=`)."""
    return bool(_LINK_CODE.fullmatch(value))


def event_context() -> dict:
    """Who and where, for a tracking event: the visitor, this page, and the site they came
    from (without its query string, which may hold someone's data)."""
    referrer = None
    if request.referrer:
        parts = urlsplit(request.referrer)
        if parts.netloc and parts.netloc != request.host:
            referrer = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))[:500]
    return {"visitor_id": visitor_id(), "page": request.path[:500], "referrer": referrer,
            "new_visitor": bool(g.get("new_visitor"))}


def _remember(response: Response) -> Response:
    if g.get("new_visitor"):
        response.set_cookie(COOKIE, g.visitor_id, max_age=MAX_AGE, httponly=True,
                            samesite="Lax", secure=cookie_secure())
    return response


def init_app(app: Flask) -> None:
    app.after_request(_remember)
