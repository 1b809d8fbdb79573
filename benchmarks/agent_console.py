"""How fast the agent console answers with a realistic backlog of tickets.

Run by hand (not a test): `make bench-agent` or
    .venv/bin/python benchmarks/agent_console.py [--tickets 20000] [--requests 60]
        [--articles PATH] [--pg URL]

Builds the demo knowledge base (or `--articles PATH`) in a temporary folder, fills a fresh
database (SQLite, or PostgreSQL with `--pg`) with `--tickets` tickets spread over 90 days:
subjects taken from article titles with a word or two changed, every status, line and
priority, a third of them assigned, each with a search trail of 2-4 searches and 1-3 reads.
Then an agent logs in (Flask's test client, in this process: the figures are the app's own
time, without network) and each page is requested `--requests` times:

- the queue (default view, "mine", a priority filter, page 20 of "all");
- the ticket page (trail timeline, similar earlier tickets over the last 180 days,
  suggested articles from four searches, linked articles, history);
- the ticket page's knowledge-base search (JSON);
- "insert link" and a public reply (each a write and a commit).

Prints p50 / p95 / max in milliseconds per page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402
from harness import timed  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from portal import staff  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import Ticket  # noqa: E402
from portal.tickets.rules import format_number  # noqa: E402
from portal.tickets.rules import hash_token  # noqa: E402
from portal.tickets.triage import subject_terms  # noqa: E402
from portal.web.knowledge import current_index  # noqa: E402

STATUSES = ["new"] * 2 + ["open"] * 3 + ["waiting"] * 2 + ["escalated", "resolved"] * 1 + [
    "closed"] * 4
PRIORITIES = ["low", "normal", "normal", "normal", "high", "urgent"]
PASSWORD = "benchmark password"




def fill(app, count: int, seed: int = 7) -> tuple[int, list[str]]:
    """Insert `count` tickets; the agent's id and a few ticket numbers to open."""
    rng = random.Random(seed)
    with app.app_context():
        agents = [staff.create_user(f"agent{n}@example.com", f"Agent {n}", "agent", PASSWORD)
                  for n in range(5)]
        catalog = [info for info in current_index().catalog().values() if info.is_public]
        now = dt.datetime.now(dt.UTC)
        rows = []
        for number in range(1, count + 1):
            info = rng.choice(catalog)
            words = info.title.split()
            if len(words) > 2:
                words[rng.randrange(len(words))] = rng.choice(["не", "снова", "опять", "ошибка"])
            created = now - dt.timedelta(minutes=rng.randrange(90 * 24 * 60))
            status = rng.choice(STATUSES)
            trail = {"source_page": "/", "session": None, "searches": [
                {"at": created.isoformat(), "query": " ".join(words[:3]), "results": 3,
                 "failed": True, "failure": "not_opened", "opened": [],
                 "corrected": None, "correction": None} for _ in range(rng.randint(2, 4))],
                "articles": [{"at": created.isoformat(), "article_id": info.id,
                              "title": info.title, "via": "search", "from_search": None,
                              "rank": 1, "seconds": 40, "vote": None}
                             for _ in range(rng.randint(1, 3))]}
            rows.append({
                "id": number, "number": format_number("INC", number),
                "token_hash": hash_token(str(number)), "name": "Клиент", "lang": "ru",
                "email": f"c{number}@example.com", "subject": " ".join(words)[:200],
                "subject_terms": subject_terms(" ".join(words)[:200]),
                "description": info.summary or info.title, "category": info.category,
                "urgency": "normal", "priority": rng.choice(PRIORITIES),
                "mass_incident": rng.random() < 0.002, "status": status,
                "line": rng.choice([1, 1, 1, 2, 2, 3, 4]), "trail": json.dumps(trail),
                "created_at": created, "updated_at": created,
                "assignee_id": rng.choice(agents).id if rng.random() < 0.33 else None,
                "response_due_at": created + dt.timedelta(minutes=15)
                if status in ("new", "open", "escalated") else None,
                "awaiting_since": created if status in ("new", "open", "escalated") else None,
            })
            if len(rows) == 2000:
                db.session.execute(insert(Ticket), rows)
                rows = []
        if rows:
            db.session.execute(insert(Ticket), rows)
        db.session.commit()
        recent = [format_number("INC", n) for n in rng.sample(range(1, count + 1), 20)]
        return agents[0].id, recent




def report(name: str, spent: list[float]) -> None:
    harness.report(name, spent, width=38)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--articles", type=Path, default=ROOT / "articles")
    parser.add_argument("--pg", help="a PostgreSQL URL (its tables are dropped first)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        app = harness.make_app(args.articles, Path(tmp), args.pg)
        started = time.perf_counter()
        _agent_id, numbers = fill(app, args.tickets)
        print(f"{args.tickets} tickets stored in {time.perf_counter() - started:.1f} s "
              f"({'PostgreSQL' if args.pg else 'SQLite'})")
        client = app.test_client()
        response = client.post("/login", data={"email": "agent0@example.com",
                                               "password": PASSWORD,
                                               "csrf_token": _token(client, "/login")})
        assert response.status_code == 303, response.status_code
        token = _token(client, "/agent/")
        n = args.requests
        print("| page | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
        report("queue (all open)", timed(client, "GET", "/agent/", n))
        report("queue: mine", timed(client, "GET", "/agent/?view=mine", n))
        report("queue: urgent, line 2", timed(client, "GET", "/agent/?priority=urgent&line=2",
                                              n))
        report("queue: all, page 20", timed(client, "GET", "/agent/?view=all&page=20", n))
        pages = []
        for i in range(n):
            pages += timed(client, "GET", f"/agent/tickets/{numbers[i % len(numbers)]}", 1)
        report("ticket page", pages)
        report("knowledge-base search (JSON)", timed(client, "GET", "/agent/kb?q=пароль роутер",
                                                     n))
        article = next(iter(i.id for i in app.extensions["search_index"].catalog().values()
                            if i.is_public))
        number = next(x for x in numbers if _open(app, x))
        report("insert link", timed(client, "POST", f"/agent/tickets/{number}/links", n,
                                    data={"article": article, "csrf_token": token},
                                    headers={"Accept": "application/json"}))
        report("public reply", timed(client, "POST", f"/agent/tickets/{number}/reply", n,
                                     data={"body": "Попробуйте так.", "visibility": "public",
                                           "then": "", "csrf_token": token}))
        app.extensions["tracking"].close()


def _token(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def _open(app, number: str) -> bool:
    with app.app_context():
        ticket = db.session.scalar(db.select(Ticket).where(Ticket.number == number))
        return bool(ticket and ticket.status != "closed" and re.match(r"INC-\d+", number))


if __name__ == "__main__":
    main()
