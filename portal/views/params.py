"""Reading request parameters strictly: a wrong value is a clear 400, never a 500."""

from __future__ import annotations

import json
from collections.abc import Container

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


def choice_arg(name: str, allowed: Container[str], default: str | None = None) -> str | None:
    """A parameter that must be one of `allowed` (empty: `default`)."""
    value = request.args.get(name) or None
    if value is None:
        return default
    if value not in allowed:
        abort(400, _("Unknown value of “%(name)s”.", name=name))
    return value


def category_arg(known: set[str], name: str = "category") -> str | None:
    """A category filter: empty for all, else one of `known`."""
    value = request.args.get(name) or None
    if value is not None and value not in known:
        abort(400, _("Unknown category."))
    return value


#: The largest JSON body the API reads: a ticket with every field at its longest, in Cyrillic
#: written as \u escapes, is about 95 KB.
MAX_JSON_BYTES = 256 * 1024
#: The API's bodies are flat objects; anything nested deeper is refused.
MAX_JSON_DEPTH = 20


def json_body() -> object:
    """The request's JSON body, parsed within bounds; a 415, 413 or 400 that says what is
    wrong otherwise."""
    if not request.is_json:
        abort(415, _("Send JSON (Content-Type: application/json)."))
    too_large = _("The JSON body is larger than %(size)d KB.", size=MAX_JSON_BYTES // 1024)
    if (request.content_length or 0) > MAX_JSON_BYTES:
        abort(413, too_large)
    data = request.get_data(cache=True)
    if len(data) > MAX_JSON_BYTES:  # a chunked body names no length in advance
        abort(413, too_large)
    too_deep = _("The JSON body is nested more than %(depth)d levels deep.",
                 depth=MAX_JSON_DEPTH)
    try:
        body = json.loads(data)
    except RecursionError:  # the parser gives up on nesting in the hundreds
        abort(400, too_deep)
    except ValueError:
        abort(400, _("The body is not valid JSON."))
    if json_depth(body) > MAX_JSON_DEPTH:
        abort(400, too_deep)
    return body


def json_depth(value: object) -> int:
    """How deeply lists and objects nest in a parsed JSON value (a scalar is 0)."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in children)
    return deepest
