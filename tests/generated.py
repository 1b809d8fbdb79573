"""A generated month of visits, for the tests that compare the rollups with the raw
counting: varied enough that every rule of both has something to decide."""

from __future__ import annotations

import datetime as dt
import json
import random
from zoneinfo import ZoneInfo

from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from portal.extensions import db
from portal.models import ArticleEvent
from portal.models import SearchEvent
from portal.models import SearchSession
from portal.models import Ticket
from portal.models import TicketEvent
from portal.models import TicketLink
from portal.models import Vote

ZONE = ZoneInfo("Europe/Moscow")
FORMS = [("роутер мигает", "роутер мига"), ("Роутер мигает!", "роутер мига"),
         ("пароль wi-fi", "парол wi fi"), ("телепорт", "телепорт"), ("модем гудит", "модем гуд"),
         ("?!.,;:-—()", ""), ("<b>тег</b>", "b тег b"), ("ошибка 651", "ошибк 651"),
         ("оплата картой", "оплат карт"), ("кабель", "кабел")]
ARTICLES = ["internet/net-interneta", "internet/nastrojka-wi-fi", "account/sbros-parolya"]


def generate_month(seed: int, now: dt.datetime, visits: int = 900) -> None:
    """A month of varied visits: one to five searches each, found or not, partial answers,
    results opened and voted on (yes, no, changed), long and short reads, direct views,
    tickets; visits crossing the team's midnight; some still open, some just ended."""
    rng = random.Random(seed)
    sessions, searches, events, tickets = [], [], [], []
    search_id = event_id = 0
    for session_id in range(1, visits + 1):
        if session_id % 9 == 0:  # around a local midnight
            day = (now - dt.timedelta(days=rng.randrange(1, 29))).astimezone(ZONE).date()
            midnight = dt.datetime.combine(day, dt.time(), tzinfo=ZONE).astimezone(dt.UTC)
            start = midnight - dt.timedelta(minutes=rng.randrange(1, 25))
        elif session_id % 23 == 0:  # still going, or just ended (not closed yet)
            start = now - dt.timedelta(minutes=rng.choice([3, 10, 33, 40]))
        else:
            start = now - dt.timedelta(minutes=rng.randrange(45, 30 * 24 * 60))
        visitor = f"v{rng.randrange(visits // 2)}"
        at = start
        for _ in range(rng.choice([1, 1, 2, 3, 5])):
            if at > now - dt.timedelta(minutes=1):
                break  # a visit still going has done nothing yet that is still to come
            search_id += 1
            query, normalized = rng.choice(FORMS)
            results = 0 if rng.random() < 0.2 else rng.randrange(1, 9)
            searches.append({"id": search_id, "uid": f"s{search_id}", "session_id": session_id,
                             "at": at, "query": query, "normalized": normalized,
                             "results": results, "partial": results > 0 and rng.random() < 0.2,
                             "latency_ms": 3.0, "source": "page", "replaced": 0})
            if results and rng.random() < 0.55:
                event_id += 1
                article = rng.choice(ARTICLES)
                view_at = at + dt.timedelta(seconds=rng.randrange(2, 30))
                events.append({"id": event_id, "uid": f"e{event_id}", "session_id": session_id,
                               "at": view_at, "kind": "view", "article_id": article,
                               "search_id": search_id, "rank": 1, "via": "search",
                               "dwell_ms": rng.choice([None, 4000, 45_000])})
                for _vote in range(rng.choice([0, 0, 1, 1, 2])):
                    event_id += 1
                    view_at += dt.timedelta(seconds=20)
                    events.append({"id": event_id, "uid": f"e{event_id}",
                                   "session_id": session_id, "at": view_at, "kind": "vote",
                                   "article_id": article, "via": "direct",
                                   "helpful": rng.random() < 0.5})
            if rng.random() < 0.15:
                event_id += 1
                events.append({"id": event_id, "uid": f"e{event_id}", "session_id": session_id,
                               "at": at + dt.timedelta(seconds=40), "kind": "view",
                               "article_id": rng.choice(ARTICLES), "via": "direct",
                               "dwell_ms": rng.choice([None, 60_000])})
            at += dt.timedelta(minutes=rng.randrange(1, 12))
        last_seen = min(at + dt.timedelta(minutes=1), now - dt.timedelta(minutes=1))
        sessions.append({"id": session_id, "visitor_id": visitor, "started_at": start,
                         "last_seen_at": max(start, last_seen)})
        if rng.random() < 0.12:
            number = len(tickets) + 1
            created = min(at, now - dt.timedelta(minutes=1))
            tickets.append({
                "id": number, "number": f"INC-{number:06d}", "token_hash": f"t{number}",
                "name": "Клиент", "email": "c@example.com", "subject": "Не работает",
                "description": "Описание", "urgency": "normal", "priority": "normal",
                "mass_incident": False, "status": "new", "line": 1, "lang": "ru",
                "visitor_id": visitor, "session_id": session_id, "trail": "{}",
                "created_at": created, "updated_at": created})
    for model, rows in ((SearchSession, sessions), (SearchEvent, searches),
                        (ArticleEvent, events), (Ticket, tickets)):
        for start in range(0, len(rows), 500):
            db.session.execute(insert(model), rows[start:start + 500])
    db.session.commit()

#: An id an article had before it was renamed (the report counts it under the new one).
OLD_ID = "internet/staryj-adres"
REASONS = ["not_solved", "unclear", "outdated", None]


def _next_id(model) -> int:
    return (db.session.scalar(select(model.id).order_by(model.id.desc()).limit(1)) or 0) + 1


def generate_support(seed: int, now: dt.datetime) -> None:
    """What agents and the "Did this help?" form add to `generate_month`'s visits: articles
    opened from links in replies (no self-service), votes given over the month (some under
    an old article id), and on the tickets links, resolutions and responses, some late."""
    rng = random.Random(seed)
    sessions = db.session.execute(select(SearchSession.id, SearchSession.visitor_id,
                                         SearchSession.started_at)).all()
    event_id = _next_id(ArticleEvent)
    views = []
    for session_id, _visitor, started in rng.sample(sessions, len(sessions) // 10):
        views.append({"id": event_id, "uid": f"agent{event_id}", "session_id": session_id,
                      "at": min(started + dt.timedelta(seconds=5), now), "kind": "view",
                      "article_id": rng.choice(ARTICLES), "via": "agent_link"})
        event_id += 1
    votes, voted = [], set()
    for _session_id, visitor, started in rng.sample(sessions, len(sessions) // 3):
        article = rng.choice([*ARTICLES, OLD_ID])
        if (visitor, article) in voted:
            continue
        voted.add((visitor, article))
        helpful = rng.random() < 0.5
        at = min(started + dt.timedelta(minutes=rng.randrange(0, 20)), now)
        votes.append({"visitor_id": visitor, "article_id": article, "helpful": helpful,
                      "reason": None if helpful else rng.choice(REASONS),
                      "created_at": at, "updated_at": at})
    tickets = db.session.execute(select(Ticket.id, Ticket.created_at)).all()
    links, responses = [], []
    for ticket_id, created in tickets:
        if rng.random() < 0.5:
            opens = rng.choice([0, 1, 2])
            links.append({"ticket_id": ticket_id, "article_id": rng.choice([*ARTICLES, OLD_ID]),
                          "code": f"code{ticket_id}", "source": "console",
                          "created_at": created, "opens": opens})
        waited = rng.randrange(60, 3 * 3600)
        responses.append({"ticket_id": ticket_id, "actor": "staff", "kind": "responded",
                          "at": min(created + dt.timedelta(seconds=waited), now),
                          "data": json.dumps({"line": rng.choice([1, 2]),
                                              "late": waited > 1800, "waited_s": waited})})
        if rng.random() < 0.4:
            db.session.execute(update(Ticket).where(Ticket.id == ticket_id).values(
                status=rng.choice(["resolved", "closed", "open"]),
                resolved_at=min(created + dt.timedelta(hours=2), now),
                resolution_article_id=rng.choice([*ARTICLES, OLD_ID, None])))
    for model, rows in ((ArticleEvent, views), (Vote, votes), (TicketLink, links),
                        (TicketEvent, responses)):
        for start in range(0, len(rows), 500):
            db.session.execute(insert(model), rows[start:start + 500])
    db.session.commit()
