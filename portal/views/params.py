"""Reading request parameters strictly: a wrong value is a clear 400, never a 500."""

from __future__ import annotations

from flask import abort
from flask import current_app
from flask import request
from flask_babel import gettext as _

from ..search.query import MAX_QUERY_CHARS


def text_arg(name: str, max_length: int = MAX_QUERY_CHARS * 100) -> str:
    """A text parameter. Long queries are cut by the search itself; only absurd lengths
    (far beyond anything typed) are refused."""
    value = request.args.get(name, "")
    if len(value) > max_length:
        abort(400, _("The value of “%(name)s” is too long.", name=name))
    return value


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A whole-number parameter within [low, high]."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        abort(400, _("“%(name)s” must be a whole number from %(low)d to %(high)d.",
                     name=name, low=low, high=high))
    return int(raw)


def lang_arg(name: str = "lang") -> str | None:
    """An article language filter: empty for all languages."""
    value = request.args.get(name) or None
    if value is not None and value not in current_app.config["LANGUAGES"]:
        abort(400, _("Unknown language “%(value)s”.", value=value[:20]))
    return value


def category_arg(known: set[str], name: str = "category") -> str | None:
    """A category filter: empty for all, else one of `known`."""
    value = request.args.get(name) or None
    if value is not None and value not in known:
        abort(400, _("Unknown category."))
    return value
