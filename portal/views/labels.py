"""Words for codes (roles, statuses, priorities, history entries) in the reader's language,
the `linkify` filter that makes links in plain-text replies clickable, and the support
team's contacts as links."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from flask import Flask
from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from markupsafe import Markup
from markupsafe import escape

from .forms import urgency_choices

_URL = re.compile(r"https?://[^\s<>\"']+")
#: Sentence punctuation that ends a URL typed in text rather than belonging to it.
_TRAILING = ".,;:!?)»"
#: Shaped like one plain address, so it can go into a mailto: link as it is.
_ONE_ADDRESS = re.compile(r"[^@\s,;:<>()\[\]\"']+@[^@\s,;:<>()\[\]\"'?&#]+")


def role_label(role: str) -> str:
    return {"agent": _("agent, line 1"), "engineer": _("engineer, line 2"),
            "expert": _("expert, line 3"), "admin": _("administrator")}.get(role, role)


def staff_status(status: str) -> str:
    return {"new": _("new"), "open": _("open"), "waiting": _("waiting for customer"),
            "escalated": _("escalated"), "resolved": _("resolved"),
            "closed": _("closed")}.get(status, status)


def priority_label(priority: str) -> str:
    return {"low": _("low"), "normal": _("normal"), "high": _("high"),
            "urgent": _("urgent")}.get(priority, priority)


def urgency_label(urgency: str) -> str:
    return dict(urgency_choices()).get(urgency, urgency)


def line_label(line: int) -> str:
    return {1: _("line 1"), 2: _("line 2 (engineers)"), 3: _("line 3 (experts)"),
            4: _("line 4 (vendor)")}.get(line, str(line))


def article_status(status: str) -> str:
    return {"published": _("published"), "draft": _("draft"), "archived": _("archived"),
            "removed": _("removed"), "new": _("new")}.get(status, status)


def audience_label(audience: str) -> str:
    return {"public": _("everyone"), "internal": _("staff only")}.get(audience, audience)


def source_label(source: str, first: bool = False) -> str:
    """How a revision came about. The first revision of an article found in the folder
    (a fresh install, an import, a file added by hand) is its initial version, not a change."""
    if first and source == "disk":
        return _("initial version")
    return {"editor": _("saved in the editor"), "restore": _("restored"),
            "review": _("reviewed"), "gap": _("keywords from a gap"),
            "disk": _("changed outside the portal")}.get(source, source)


def trend_label(direction: str) -> str:
    return {"rising": _("rising"), "falling": _("falling"),
            "steady": _("steady")}.get(direction, direction)


def outcome_label(outcome: str) -> str:
    return {"ticket": _("opened a ticket"), "found_later": _("found something later"),
            "left": _("left"), "pending": _("still on the site")}.get(outcome, outcome)


def answer_label(kind: str) -> str:
    return {"article": _("new article"), "keywords": _("its keywords"),
            "best_bet": _("best bet")}.get(kind, kind)


def inbox_kind(kind: str) -> str:
    return {"request": _("article request"), "flag": _("flag"),
            "votes": _("“no” votes"), "review": _("review due")}.get(kind, kind)


def flag_label(kind: str) -> str:
    return {"outdated": _("outdated"), "wrong": _("wrong")}.get(kind, kind)


def failure_label(kind: str | None) -> str:
    return {"no_results": _("nothing found"),
            "partial": _("only some of its words found"), "not_opened": _("no result opened"),
            "voted_no": _("the article did not help"),
            "ticket": _("followed by the ticket")}.get(kind or "", kind or "")


def via_label(via: str | None) -> str:
    return {"search": _("from the search results"), "suggest": _("from suggestions"),
            "related": _("from related articles"), "ticket_form": _("from the ticket form"),
            "agent_link": _("from a support reply"),
            "direct": _("opened directly")}.get(via or "", via or "")


def isodatetime(value: str | None, pattern: str = "d MMMM, HH:mm") -> str:
    """A moment stored as ISO text (in a ticket's trail), shown in the reader's zone."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return str(value)
    return format_datetime(moment, pattern)


def fromjson(value: str | None) -> dict:
    try:
        data = json.loads(value or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def event_text(event) -> str:
    """One line of a ticket's history in words."""
    data = json.loads(event.data or "{}")
    kind = event.kind
    if kind == "created":
        return _("The customer sent the request.")
    if kind == "assigned":
        return _("Assigned to %(name)s.", name=data.get("to") or "?")
    if kind == "unassigned":
        return _("Put back in the queue.")
    if kind == "reply":
        return _("Public reply sent.")
    if kind == "note":
        return _("Internal note added.")
    if kind == "responded":
        return (_("Response given after the target time.") if data.get("late")
                else _("Response given within the target time."))
    if kind == "status":
        return _("Status: %(previous)s → %(to)s.", previous=staff_status(data.get("previous", "")),
                 to=staff_status(data.get("to", "")))
    if kind == "line":
        text = _("Moved from %(previous)s to %(to)s.", previous=line_label(data.get("previous")),
                 to=line_label(data.get("to")))
        if data.get("vendor"):
            text += " " + _("Vendor: %(vendor)s, reference %(ref)s.", vendor=data["vendor"],
                            ref=data.get("vendor_ref") or "")
        return text
    if kind == "linked":
        return _("Article linked: %(article)s.", article=data.get("article") or "?")
    if kind == "link_opened":
        return _("The customer opened the linked article %(article)s.",
                 article=data.get("article") or "?")
    if kind == "resolved":
        if data.get("article"):
            return _("Resolved with the article %(article)s.", article=data["article"])
        return _("Resolved; no article exists, one was requested: %(topic)s.",
                 topic=data.get("request") or "")
    if kind == "flagged":
        return _("Article %(article)s flagged as %(flag)s.", article=data.get("article") or "?",
                 flag=flag_label(data.get("flag", "")))
    if kind == "customer_message":
        return _("The customer wrote again.")
    if kind == "customer_solved":
        return _("The customer marked the request as solved.")
    return kind


def linkify(text: str | None) -> Markup:
    """Plain text, escaped, with its http(s) addresses as links (opened without a referrer,
    so a ticket page's address never leaks to another site)."""
    if not text:
        return Markup("")
    parts = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        parts.append(escape(text[last:match.start()]))
        parts.append(Markup('<a href="{0}" rel="noopener noreferrer nofollow">{0}</a>')
                     .format(url))
        last = end
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


#: How much of a query the results page repeats in its heading; the search box has it all.
ECHOED_QUERY_CHARS = 48


def short_query(query: str | None, limit: int = ECHOED_QUERY_CHARS) -> str:
    """A query as a heading repeats it: cut at a word boundary with an ellipsis when long
    (a query pasted thirty times would fill the screen)."""
    text = " ".join((query or "").split())
    if len(text) <= limit:
        return text
    cut = text[:limit + 1].rsplit(" ", 1)[0] if " " in text[:limit + 1] else text[:limit]
    return cut[:limit].rstrip(" ,.;:-—") + "…"


@dataclass(frozen=True)
class Contact:
    """One way to reach the support team, with a link when it has one (tel:, mailto:)."""

    text: str
    href: str | None = None


def support_contacts() -> list[Contact]:
    """How customers reach support besides a ticket: `SUPPORT_PHONE` (a tel: link),
    `SUPPORT_EMAIL` (a mailto: link) and the free text of `SUPPORT_CONTACT`."""
    config = current_app.config
    found = []
    phone = str(config.get("SUPPORT_PHONE") or "").strip()
    if phone:
        digits = re.sub(r"[^0-9]", "", phone)
        found.append(Contact(phone, f"tel:{'+' if phone.startswith('+') else ''}{digits}"
                             if digits else None))
    email = str(config.get("SUPPORT_EMAIL") or "").strip()
    if email:
        found.append(Contact(email, f"mailto:{email}" if _ONE_ADDRESS.fullmatch(email) else None))
    other = str(config.get("SUPPORT_CONTACT") or "").strip()
    if other:
        found.append(Contact(other))
    return found


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(support_contacts=support_contacts)
    app.jinja_env.filters.update(linkify=linkify, isodatetime=isodatetime, fromjson=fromjson)
    app.jinja_env.filters["short_query"] = short_query
    app.jinja_env.globals.update(
        role_label=role_label, staff_status=staff_status, priority_label=priority_label,
        line_label=line_label, flag_label=flag_label, event_text=event_text,
        failure_label=failure_label, via_label=via_label, urgency_label=urgency_label,
        article_status=article_status, audience_label=audience_label, source_label=source_label,
        trend_label=trend_label, outcome_label=outcome_label, answer_label=answer_label,
        inbox_kind=inbox_kind)
