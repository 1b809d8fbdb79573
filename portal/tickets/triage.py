"""Sorting a new ticket: its category from the search trail, its priority, and whether it
looks like part of a mass incident."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Protocol

from sqlalchemy import select

from ..extensions import db
from ..models import Ticket
from ..search import normalized_form
from ..tracking.analysis import verdicts_since

PRIORITIES = ("low", "normal", "high", "urgent")
#: What the customer says about urgency, and the priority it starts the ticket at.
URGENCY_PRIORITY = {"low": "low", "normal": "normal", "high": "high", "critical": "urgent"}
SURGE_WINDOW = dt.timedelta(hours=1)

# Stems of strongly negative words (matched at word starts, case and ё folded). Plain
# problem words ("не работает", "ошибка") are not here: every ticket has those.
_NEGATIVE_STEMS = (
    "ужас", "кошмар", "безобраз", "отвратит", "возмут", "издевател", "бардак", "позор",
    "хамств", "обман", "мошенн", "надоел", "достал", "сколько можно", "невыносим",
    "худш", "отвратн", "жалоб", "суд", "роспотребнадзор", "прокуратур", "расторг",
    "верните деньги", "верните мои деньги", "немедленно", "бесит", "отстой",
    "terrible", "awful", "horrible", "unacceptable", "ridiculous", "disgusting", "outrage",
    "furious", "worst", "scam", "fraud", "lawyer", "lawsuit", "sue ", "refund", "fed up",
    "useless", "pathetic", "immediately",
)
_NEGATIVE = re.compile(r"(?<![\w])(?:" + "|".join(re.escape(s) for s in _NEGATIVE_STEMS) + ")",
                       re.IGNORECASE)
_SHOUTED_WORD = re.compile(r"\b[A-ZА-ЯЁ]{4,}\b")


@dataclass
class Assessment:
    """The priority of a new ticket and why."""

    priority: str
    reasons: list[str] = field(default_factory=list)
    mass_incident: bool = False
    similar_ticket_ids: list[int] = field(default_factory=list)
    similar_failed_searches: int = 0


def raise_priority(priority: str, steps: int = 1) -> str:
    return PRIORITIES[min(PRIORITIES.index(priority) + steps, len(PRIORITIES) - 1)]


def negativity(*texts: str | None) -> int:
    """How strongly negative the wording is: strong words, shouting, runs of "!"."""
    text = " ".join(t for t in texts if t).replace("ё", "е").replace("Ё", "Е")
    score = len(_NEGATIVE.findall(text))
    if len(_SHOUTED_WORD.findall(text)) >= 3:
        score += 1
    if re.search(r"[!?]{3,}", text):
        score += 1
    return score


def _terms(text: str) -> set[str]:
    return set(normalized_form(text).split())


def subject_terms(subject: str) -> str:
    """What `Ticket.subject_terms` keeps: the subject's stems, sorted."""
    return normalized_form(subject)[:400]


class _SubjectRow(Protocol):
    """A row holding a ticket's subject and, for newer tickets, its stored terms."""

    subject: str
    subject_terms: str | None


def _stored_terms(row: _SubjectRow) -> set[str]:
    if row.subject_terms is not None:
        return set(row.subject_terms.split())
    return _terms(row.subject)


def similar(a: set[str], b: set[str]) -> bool:
    """Two questions are alike when they share at least half of the longer one's terms."""
    if not a or not b:
        return False
    return len(a & b) * 2 >= max(len(a), len(b))


def assess(urgency: str, subject: str, description: str, category: str | None,
           now: dt.datetime, settings: Mapping[str, Any]) -> Assessment:
    """The priority: the customer's urgency, raised by strongly negative wording and by a
    surge of similar tickets and failed searches in the last hour (a possible mass
    incident, which also marks those earlier tickets)."""
    result = Assessment(URGENCY_PRIORITY.get(urgency, "normal"))
    if urgency in ("high", "critical"):
        result.reasons.append(f"urgency:{urgency}")
    if negativity(subject, description) >= settings["NEGATIVE_WORDING_THRESHOLD"]:
        result.priority = raise_priority(result.priority)
        result.reasons.append("negative_wording")
    subject_terms = _terms(subject)
    since = now - SURGE_WINDOW
    recent = db.session.execute(
        select(Ticket.id, Ticket.subject, Ticket.subject_terms, Ticket.category,
               Ticket.guessed_category)
        .where(Ticket.created_at >= since)).all()
    result.similar_ticket_ids = [
        row.id for row in recent
        if similar(subject_terms, _stored_terms(row))
        and (not category or category in (row.category, row.guessed_category, None))]
    # Searches of the last hour that have not helped: failed, or nothing opened yet.
    result.similar_failed_searches = sum(
        1 for verdict in verdicts_since(since, now, now, terms=subject_terms)
        if (verdict.failure or verdict.pending)
        and similar(subject_terms, set(verdict.search.normalized.split())))
    if (len(result.similar_ticket_ids) + 1 >= settings["SURGE_TICKETS"]
            or result.similar_failed_searches >= settings["SURGE_FAILED_SEARCHES"]):
        result.mass_incident = True
        result.priority = max(raise_priority(result.priority), "high", key=PRIORITIES.index)
        result.reasons.append("mass_incident")
    return result


def guess_category(trail: Mapping[str, Any], category_of: Callable[[str], str | None],
                   fallback: Callable[[], list[str]]) -> str | None:
    """The category the trail points at: articles read (longer reads count more) and
    results opened; without a trail, the categories of what the ticket's text finds."""
    votes: defaultdict[str, float] = defaultdict(float)
    for article in trail.get("articles", []):
        category = category_of(article["article_id"])
        if not category:
            continue
        weight = 1.0 + min((article.get("seconds") or 0) / 60, 2.0)
        if article.get("vote") and article["vote"].get("reason") == "wrong_product":
            weight = 0.25
        votes[category] += weight
    if not votes:
        for position, category in enumerate(fallback()[:3]):
            if category:
                votes[category] += 1.0 / (position + 1)
    if not votes:
        return None
    return max(sorted(votes), key=lambda c: votes[c])


def similar_tickets(ticket: Ticket, limit: int = 5, days: int = 180,
                    scan: int = 3000) -> list[Ticket]:
    """Earlier tickets asking about the same thing (most shared words first): how they were
    solved is often this ticket's answer."""
    terms = _terms(ticket.subject)
    if not terms:
        return []
    rows = db.session.execute(
        select(Ticket.id, Ticket.subject, Ticket.subject_terms)
        .where(Ticket.id != ticket.id, Ticket.created_at <= ticket.created_at,
               Ticket.created_at >= ticket.created_at - dt.timedelta(days=days))
        .order_by(Ticket.created_at.desc()).limit(scan)).all()
    shared = {}
    for row in rows:
        other = _stored_terms(row)
        if similar(terms, other):
            shared[row.id] = len(terms & other)
    best = sorted(shared, key=lambda i: (-shared[i], -i))[:limit]
    found = {t.id: t for t in db.session.scalars(select(Ticket).where(Ticket.id.in_(best)))}
    return [found[i] for i in best if i in found]
