"""What a page address a customer came from means, for staff: the page's title and a link
built by the site itself, never the address as the customer's browser (or an attacker) sent
it. Addresses come from the ticket form's `came_from` and the visit's Referer."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit

from flask import current_app
from flask import request
from flask import url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from ..web.knowledge import current_index
from .public import ui_lang

#: Query parameters that say how a visitor arrived, not what they looked at.
TRACKING_PARAMETERS = frozenset({
    "gclid", "dclid", "fbclid", "msclkid", "yclid", "ysclid", "_openstat", "mc_cid",
    "mc_eid", "igshid", "_ga", "_gl", "ref", "from",
})
#: Of a search query, this much is shown.
QUERY_CHARS = 80


@dataclass(frozen=True)
class Page:
    """A page as staff see it: what it is, and where it is (None: not linked)."""

    title: str
    href: str | None = None


def without_tracking(query: str) -> list[tuple[str, str]]:
    """The query string's parameters without utm_* and click ids."""
    return [(key, value) for key, value in parse_qsl(query, keep_blank_values=False)
            if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMETERS]


def _short(text: str, limit: int = QUERY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def describe_page(address: str | None) -> Page | None:
    """A page of this site by its title, linked; another site's page by its host and path,
    not linked; None when there is no address."""
    if not address or not address.strip():
        return None
    address = address.strip()[:2000]
    if any(ord(c) < 32 or c == "\x7f" for c in address):
        return Page(_short(repr(address)[1:-1]))
    parts = urlsplit(address)
    if parts.scheme or parts.netloc or not address.startswith("/") or "\\" in address:
        if parts.scheme in ("http", "https") and parts.netloc:
            return Page(_short(parts.netloc + parts.path, 200))
        return Page(_short(address, 200))
    return _site_page(parts.path, without_tracking(parts.query))


def _site_page(path: str, query: list[tuple[str, str]]) -> Page:
    adapter = current_app.url_map.bind("", script_name=request.script_root or "/")
    try:
        endpoint, args = adapter.match(path, method="GET")
    except RequestRedirect as moved:
        return _site_page(urlsplit(moved.new_url).path, query)
    except HTTPException:
        return Page(_short(path, 200))
    values = dict(query)
    if endpoint == "public.home":
        return Page(_("Home page"), url_for("public.home"))
    if endpoint == "public.search":
        typed = _short(values.get("q", ""))
        return Page(_("Search results for “%(query)s”", query=typed) if typed
                    else _("Search page"), url_for("public.search", q=typed or None))
    if endpoint == "public.category":
        category = current_index().categories().get(args["name"])
        if category is None:
            return Page(_short(path, 200))
        return Page(category.title(ui_lang()), url_for("public.category",
                                                             name=args["name"]))
    if endpoint == "public.article":
        return _article_page(args["article_id"])
    if endpoint == "tickets.new":
        return Page(_("The ticket form"))
    if endpoint == "tickets.status":
        # The status page's link holds the customer's private token: name it, never link it.
        return Page(_("The status page of ticket %(number)s", number=args["number"]))
    shown = path + ("?" + urlencode(query) if query else "")
    return Page(_short(shown, 200))


def _article_page(article_id: str) -> Page:
    index = current_index()
    article_id = index.canonical_ids().get(article_id, article_id)
    info = index.catalog().get(article_id)
    if info is None:
        return Page(_short(f"/kb/{article_id}", 200))
    return Page(info.title, url_for("public.article", article_id=article_id))

