"""Results pages drawn once and served again to every visitor who asks the same thing.

A customer's page of results depends only on what the address asks (query, filters,
page), the interface language and the index generation: everything about the visitor is
either absent for someone not logged in, or (the search's own id in the result links, which
ties a click to its search) put in at the end. So each process keeps the most recently drawn
pages of its current index generation, and a page is drawn again only when the index
changes, or for a visitor it could not be shared with: a logged-in member of staff, or one
with a message waiting to be shown. A page that shows what changes with every visit (the
"nothing found" page lists the most read articles) is not one to share.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import current_app
from flask import request
from flask import session
from flask_babel import get_locale
from flask_login import current_user

from ..search import SearchIndex
from ..search.cache import BoundedCache

#: Stands in a shared page for the one thing that differs per visit: unguessable, so no
#: query typed by a customer can contain it.
_HOLE = secrets.token_urlsafe(16)


def shareable() -> bool:
    """Whether this request's page may be drawn for everyone (and served from the cache)."""
    return (request.method == "GET" and not current_user.is_authenticated
            and not session.get("_flashes"))


def shared_page(index: SearchIndex, draw: Callable[[str | None], str],
                uid: str | None) -> str:
    """The page `draw(uid)` would make, from this process's cache when it can be shared;
    `uid` (the search's id, or None) goes where `draw` put its argument."""
    size = current_app.config["SEARCH_CACHE_SIZE"]
    if size <= 0 or not shareable():
        return draw(uid)
    key = (request.full_path, str(get_locale()), uid is not None)
    pages = index.derived("shared_pages", lambda _searcher: BoundedCache[str](size))
    html = pages.get(key)
    if html is None:
        html = draw(_HOLE if uid else None)
        pages.put(key, html)
    return html.replace(_HOLE, uid) if uid else html
