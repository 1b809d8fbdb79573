"""How fast the expert console's analytics page answers over a realistic history.

Run by hand (not a test): `make bench-analytics` or
    .venv/bin/python benchmarks/analytics.py [--searches 100000] [--tickets 20000]
        [--requests 30] [--articles PATH] [--database URL]

Builds the demo knowledge base (or `--articles PATH`) in a temporary folder and fills a
fresh database with 90 days of history: `--searches` searches in visits of one to three
(8 % find nothing, about half of the others have a result opened), article views from the
results and directly, "Did this help?" votes with reasons, and `--tickets` tickets from
some of those visitors, with agents' links (opened or not), resolutions with an article (a
tenth of them under an old id, an alias) and responses on lines 1-4, some late. Then an
expert logs in (Flask's test client, in this process: the figures are the app's own time,
without network) and asks `--requests` times for the page over 30 and 90 days and for the
90-day trend as CSV.

Runs on SQLite, and then on PostgreSQL when `--database URL` or TEST_DATABASE_URL is given
(its tables are dropped first). Prints p50 / p95 / max in milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from portal import staff  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import ArticleEvent  # noqa: E402
from portal.models import SearchEvent  # noqa: E402
from portal.models import SearchSession  # noqa: E402
from portal.models import Ticket  # noqa: E402
from portal.models import TicketEvent  # noqa: E402
from portal.models import TicketLink  # noqa: E402
from portal.models import Vote  # noqa: E402
from portal.tickets.rules import format_number  # noqa: E402
from portal.tickets.rules import hash_token  # noqa: E402
from portal.web.knowledge import current_index  # noqa: E402

PASSWORD = "benchmark password"
DAYS = 90
CHUNK = 5000
REASONS = ["not_solved", "unclear", "outdated", "wrong_product", None]




class Filler:
    """Rows for one table, kept until `flush` inserts them in chunks (parents first)."""

    def __init__(self, model):
        self.model, self.rows = model, []

    @property
    def count(self) -> int:
        return len(self.rows)

    def add(self, **row) -> None:
        self.rows.append(row)

    def flush(self) -> None:
        for start in range(0, len(self.rows), CHUNK):
            db.session.execute(insert(self.model), self.rows[start:start + CHUNK])


def _moment(rng: random.Random, now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(seconds=rng.randrange(DAYS * 24 * 3600))


def fill_visits(rng: random.Random, searches: int, articles: list[str], now: dt.datetime,
                fill: dict[str, Filler]) -> list[tuple[int, str, dt.datetime]]:
    """Visits with their searches, views and votes; (session id, visitor, start) of each."""
    sizes = []
    while sum(sizes) < searches:
        sizes.append(rng.choice([1, 1, 2, 2, 3]))
    # Rows are stored as they happen: oldest first, as the tracking writer appends them.
    starts = sorted(_moment(rng, now) for _ in sizes)
    visits, voted = [], set()
    search_id = event_id = 0
    for session_id, (size, start) in enumerate(zip(sizes, starts, strict=True), 1):
        visitor = f"v{rng.randrange(searches // 2)}"
        at = start
        for _ in range(size):
            search_id += 1
            at += dt.timedelta(seconds=rng.randrange(5, 120))
            results = 0 if rng.random() < 0.08 else rng.randrange(1, 30)
            fill["search"].add(id=search_id, uid=f"s{search_id}", session_id=session_id, at=at,
                               query="запрос", normalized="запрос", results=results,
                               latency_ms=5.0, source="page", replaced=0)
            if results and rng.random() < 0.5:
                event_id += 1
                article = rng.choice(articles)
                fill["event"].add(id=event_id, uid=f"e{event_id}", session_id=session_id,
                                  at=at + dt.timedelta(seconds=3), kind="view",
                                  article_id=article, search_id=search_id, rank=1, via="search")
                if rng.random() < 0.3 and (visitor, article) not in voted:
                    voted.add((visitor, article))
                    helpful = rng.random() < 0.6
                    fill["vote"].add(visitor_id=visitor, article_id=article, helpful=helpful,
                                     reason=None if helpful else rng.choice(REASONS),
                                     created_at=at, updated_at=at + dt.timedelta(seconds=40))
        if rng.random() < 0.2:
            event_id += 1
            fill["event"].add(id=event_id, uid=f"e{event_id}", session_id=session_id,
                              at=at + dt.timedelta(seconds=30), kind="view",
                              article_id=rng.choice(articles), via="direct")
        fill["session"].add(id=session_id, visitor_id=visitor, started_at=start,
                            last_seen_at=at + dt.timedelta(seconds=60))
        visits.append((session_id, visitor, start))
    return visits


def fill_tickets(rng: random.Random, count: int, visits, articles: list[str],
                 aliases: list[str], fill: dict[str, Filler]) -> None:
    """Tickets from some of the visitors, with links, resolutions and responses."""
    event_id = 0
    chosen = sorted(((start + dt.timedelta(minutes=rng.randrange(2, 600)), session_id, visitor)
                     for session_id, visitor, start in rng.choices(visits, k=count)))
    for number, (created, session_id, visitor) in enumerate(chosen, 1):
        resolved = rng.random() < 0.5
        article = (rng.choice(aliases) if aliases and rng.random() < 0.1
                   else rng.choice(articles)) if resolved and rng.random() < 0.8 else None
        resolved_at = created + dt.timedelta(hours=rng.randrange(1, 48)) if resolved else None
        fill["ticket"].add(
            id=number, number=format_number("INC", number), token_hash=hash_token(str(number)),
            name="Клиент", email=f"c{number}@example.com", subject="Не работает",
            description="Описание", urgency="normal", priority="normal",
            mass_incident=False, status="resolved" if resolved else "open",
            line=rng.choice([1, 1, 1, 2, 2, 3, 4]), lang="ru", visitor_id=visitor,
            session_id=session_id, trail="{}", created_at=created, updated_at=created,
            resolution_article_id=article, resolved_at=resolved_at)
        for reply in range(rng.choice([1, 1, 2])):
            event_id += 1
            waited = rng.randrange(60, 4 * 3600)
            fill["ticket_event"].add(
                id=event_id, ticket_id=number, actor="staff", kind="responded",
                at=created + dt.timedelta(seconds=waited + reply * 3600),
                data=json.dumps({"line": 1 + reply, "late": waited > 900, "waited_s": waited}))
        if rng.random() < 0.6:
            opens = rng.choice([0, 0, 1, 1, 2, 3])
            fill["link"].add(ticket_id=number, article_id=rng.choice(articles),
                             code=f"l{number}", source="console",
                             created_at=created + dt.timedelta(minutes=10), opens=opens,
                             first_opened_at=created + dt.timedelta(hours=1) if opens else None)


def fill(app, searches: int, tickets: int, seed: int = 11) -> None:
    """The history of the last 90 days (see the module's docstring)."""
    rng = random.Random(seed)
    with app.app_context():
        staff.create_user("expert@example.com", "Expert", "expert", PASSWORD)
        catalog = current_index().catalog()
        articles = sorted(i for i, info in catalog.items() if info.is_public)
        aliases = sorted(current_index().canonical_ids())
        now = dt.datetime.now(dt.UTC)
        tables = {"session": Filler(SearchSession), "search": Filler(SearchEvent),
                  "event": Filler(ArticleEvent), "vote": Filler(Vote), "ticket": Filler(Ticket),
                  "ticket_event": Filler(TicketEvent), "link": Filler(TicketLink)}
        visits = fill_visits(rng, searches, articles, now, tables)
        fill_tickets(rng, tickets, visits, articles, aliases, tables)
        for name in ("session", "search", "event", "vote", "ticket", "ticket_event", "link"):
            tables[name].flush()  # parents before the rows that point at them
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:  # as autovacuum would, soon after
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "ANALYZE")
        print(", ".join(f"{t.count} {name} rows" for name, t in tables.items()))


def timed(client, url: str, times: int) -> list[float]:
    return harness.timed(client, "GET", url, times)


def report(name: str, spent: list[float]) -> None:
    harness.report(name, spent, width=32)


def run(args, database: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = harness.make_app(args.articles, Path(tmp), database)
        started = time.perf_counter()
        fill(app, args.searches, args.tickets)
        print(f"stored in {time.perf_counter() - started:.1f} s "
              f"({'PostgreSQL' if database else 'SQLite'})")
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"email": "expert@example.com",
                                               "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 303, response.status_code
        client.get("/expert/analytics?days=7")  # warm: the index catalog, templates
        n = args.requests
        print("| request | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
        report("analytics page, 30 days", timed(client, "/expert/analytics?days=30", n))
        report("analytics page, 90 days", timed(client, "/expert/analytics?days=90", n))
        report("trend CSV, 90 days",
               timed(client, "/expert/analytics.csv?table=trend&days=90", n))
        report("helpfulness CSV, 90 days",
               timed(client, "/expert/analytics.csv?table=helpfulness&days=90", n))
        app.extensions["tracking"].close()
        with app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--articles", type=Path, default=ROOT / "articles")
    parser.add_argument("--database", default=os.environ.get("TEST_DATABASE_URL"),
                        help="a PostgreSQL URL (its tables are dropped first); default: "
                             "TEST_DATABASE_URL")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    run(args, None)
    if args.database:
        run(args, args.database)


if __name__ == "__main__":
    main()
