"""The anonymous visitor: a random id in a cookie, nothing personal."""

from __future__ import annotations

import re
import secrets

from flask import Flask
from flask import Response
from flask import g
from flask import request

COOKIE = "l0_visitor"
MAX_AGE = 365 * 24 * 3600
_VALID = re.compile(r"[A-Za-z0-9_-]{22,64}")


def visitor_id() -> str:
    """This visitor's id; a new one (set as a cookie with the response) on the first visit."""
    if "visitor_id" not in g:
        sent = request.cookies.get(COOKIE, "")
        if _VALID.fullmatch(sent):
            g.visitor_id, g.new_visitor = sent, False
        else:
            g.visitor_id, g.new_visitor = secrets.token_urlsafe(16), True
    return g.visitor_id


def _remember(response: Response) -> Response:
    if g.get("new_visitor"):
        response.set_cookie(COOKIE, g.visitor_id, max_age=MAX_AGE, httponly=True,
                            samesite="Lax", secure=request.is_secure)
    return response


def init_app(app: Flask) -> None:
    app.after_request(_remember)
