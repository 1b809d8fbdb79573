"""Error pages: HTML for people, JSON under /api/."""

from __future__ import annotations

import logging

from flask import Flask
from flask import jsonify
from flask import render_template
from flask import request
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import SecurityError

from ..web.limits import retry_after
from .labels import support_contacts

log = logging.getLogger(__name__)


def _titles() -> dict[int, str]:
    return {
        400: _("The request could not be understood"),
        401: _("Authentication required"),
        403: _("Access denied"),
        404: _("Page not found"),
        405: _("This action is not allowed here"),
        413: _("Too much data"),
        429: _("Too many requests"),
        500: _("Something went wrong on our side"),
        503: _("Temporarily unavailable"),
    }


def _default_descriptions() -> dict[int, str]:
    return {
        400: _("Check the address or the values you entered."),
        401: _("Send a valid API token: “Authorization: Bearer <token>”."),
        403: _("Your role does not allow this page or action."),
        404: _("The page you asked for does not exist, or it was moved."),
        405: _("This page cannot be used that way."),
        413: _("The data sent is larger than this site accepts."),
        429: _("You sent too many requests. Please wait a few minutes and try again."),
        500: _("The error has been logged. Please try again in a minute."),
        503: _("We could not save this right now. Please try again in a minute."),
    }


def wait_phrase(seconds: int) -> str:
    """How long to wait, in words that follow "in": "5 minutes", "2 hours"."""
    if seconds <= 90 * 60:
        minutes = max(1, round(seconds / 60))
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    return ngettext("%(num)d hour", "%(num)d hours", round(seconds / 3600))


def _too_many(seconds: int | None) -> str:
    """What a client that hit a rate limit reads, with when to try again if known."""
    if seconds is None:
        return _default_descriptions()[429]
    return _("You sent too many requests. Please try again in %(wait)s.",
             wait=wait_phrase(seconds))


def respond(error: HTTPException):
    code = error.code or 500
    title = _titles().get(code, error.name)
    description = error.description
    headers = {}
    if code == 429:
        # Flask-Limiter describes the limit itself ("30 per 1 minute"): say what to do.
        seconds = retry_after()
        description = _too_many(seconds)
        if seconds is not None:
            headers["Retry-After"] = str(seconds)
    elif code == 500 or description == type(error).description:
        # Werkzeug's stock English text: say it in the visitor's language instead.
        description = _default_descriptions().get(code, description)
    if request.path.startswith("/api/"):
        body = {"error": title, "message": description, "status": code}
        if code == 429 and request.endpoint == "api.create_ticket":
            # A widget can show how else to reach support while no ticket can be sent.
            body["support"] = [contact.text for contact in support_contacts()]
        return jsonify(body), code, headers
    if request.accept_mimetypes.best == "application/json":
        # A page script (e.g. "Did this help?") shows `errors`, as in its own 400 answers.
        return jsonify({"error": title, "message": description, "status": code,
                        "errors": [description]}), code, headers
    try:
        page = render_template("error.html", code=code, title=title, description=description)
    except Exception:  # the error page itself must never fail
        log.exception("could not render the error page")
        page = f"{code} {error.name}"
    return page, code, headers


def untrusted_host(error: SecurityError):
    """A request for a host name this site does not serve (`TRUSTED_HOSTS`): a short plain
    answer, since no link can be built for such a request."""
    log.warning("refused a request for the untrusted host %r",
                request.environ.get("HTTP_HOST", "")[:100])
    return ("400 Bad Request: this site does not answer to that host name.\n", 400,
            {"Content-Type": "text/plain; charset=utf-8"})


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, respond)
    app.register_error_handler(SecurityError, untrusted_host)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        log.exception("unhandled error on %s", request.path)
        return respond(InternalServerError())
