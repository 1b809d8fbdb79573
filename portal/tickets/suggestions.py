"""Articles that may answer a ticket, found from what the customer wrote and searched.

Knows no request: the view passes the index and the scope staff search in."""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Ticket
from ..search import Hit
from ..search import Scope
from ..search import SearchIndex
from ..search import search
from ..tracking.trail import Trail
from ..tracking.trail import TrailArticle

#: How many articles a ticket page suggests.
SUGGESTED = 6
#: The customer's latest searches that are searched again for the ticket.
_LAST_SEARCHES = 3
#: Of a long description, only the start is searched (the problem is usually told first).
_DESCRIPTION_CHARS = 300


@dataclass(frozen=True)
class Suggestion:
    """An article found for the ticket, and the customer's reading of it (from the trail:
    when, how long, their vote), or None when they did not open it."""

    hit: Hit
    read: TrailArticle | None


def ticket_queries(ticket: Ticket, trail: Trail) -> list[str]:
    """What to search for: the subject, the error text, the description's start and the
    customer's own latest searches; empty ones left out."""
    queries = [ticket.subject, ticket.error_text or "",
               (ticket.description or "")[:_DESCRIPTION_CHARS]]
    queries += [s["query"] for s in trail.get("searches", [])][-_LAST_SEARCHES:]
    return [q for q in queries if q and q.strip()]


def suggested_articles(index: SearchIndex, ticket: Ticket, trail: Trail, scope: Scope,
                       limit: int = SUGGESTED) -> list[Suggestion]:
    """The best articles for each query taken in turns, so each source contributes its
    best; each article once. Articles the customer already voted unhelpful on this trail
    come last: the agent has better to offer first."""
    lists = [search(index, q, scope, per_page=limit).hits for q in ticket_queries(ticket, trail)]
    read = {a["article_id"]: a for a in trail.get("articles", [])}
    seen: dict[str, Suggestion] = {}
    for rank in range(limit):
        for hits in lists:
            if rank < len(hits) and hits[rank].id not in seen and len(seen) < limit:
                seen[hits[rank].id] = Suggestion(hits[rank], read.get(hits[rank].id))
    unhelpful = voted_unhelpful(trail)
    return sorted(seen.values(), key=lambda found: found.hit.id in unhelpful)


def voted_unhelpful(trail: Trail) -> set[str]:
    """The articles the customer said "no" to on this trail."""
    found = set()
    for article in trail.get("articles", []):
        vote = article.get("vote")
        if vote is not None and not vote["helpful"]:
            found.add(article["article_id"])
    return found
