"""How fast the expert console's analytics page answers over a realistic history.

Run by hand (not a test): `make bench-analytics` or
    .venv/bin/python benchmarks/analytics.py [--searches 100000] [--tickets 20000]
        [--requests 30] [--raw-requests 5] [--articles PATH] [--database URL]

Builds the demo knowledge base (or `--articles PATH`) in a temporary folder and fills a
fresh database with 90 days of history: `--searches` searches in visits of one to three
(8 % find nothing, about half of the others have a result opened), article views from the
results and directly, "Did this help?" votes with reasons, and `--tickets` tickets from
some of those visitors, with agents' links (opened or not), resolutions with an article (a
tenth of them under an old id, an alias) and responses on lines 1-4, some late. The rows
are made as a stream and inserted in big batches (PostgreSQL COPY, SQLite executemany in
one transaction; the big tables' indexes built afterwards), so 10,000,000 searches fit in
memory and minutes. Then the job that closes visits fills the rollups, as each server's
tracking writer does. Then an expert logs in (Flask's test client, in this process: the
figures are the app's own time, without network) and asks `--requests` times for the page
over 30 and 90 days and for two 90-day CSV tables; last, the report is counted from raw
events as before the rollups (`--raw-requests` times, the counting alone).

Runs on SQLite, and then on PostgreSQL when `--database URL` or TEST_DATABASE_URL is given
(its tables are dropped first). Prints the time to generate and store the rows and to roll
them up, and p50 / p95 / max in milliseconds.
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

from portal import analytics  # noqa: E402
from portal import staff  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.models import ArticleEvent  # noqa: E402
from portal.models import SearchEvent  # noqa: E402
from portal.models import SearchSession  # noqa: E402
from portal.models import Vote  # noqa: E402
from portal.service_hours import calendar  # noqa: E402
from portal.tickets.rules import format_number  # noqa: E402
from portal.tickets.rules import hash_token  # noqa: E402
from portal.tracking import verdicts  # noqa: E402
from portal.web.knowledge import current_index  # noqa: E402

PASSWORD = "benchmark password"
DAYS = 90
#: Rows inserted at once.
BATCH = 200_000
REASONS = ["not_solved", "unclear", "outdated", "wrong_product", None]




class Loader:
    """Rows for the tables, inserted in big batches as they are made (parents first, so
    that every row finds the one it points at): PostgreSQL COPY, SQLite executemany, all in
    one transaction. Rows are tuples in the order of `COLUMNS`."""

    def __init__(self, connection, dialect: str):
        self.connection, self.dialect = connection, dialect
        self.rows: dict[str, list[tuple]] = {name: [] for name in COLUMNS}
        self.counts = dict.fromkeys(COLUMNS, 0)
        self.pending = 0

    def add(self, table: str, *row) -> None:
        self.rows[table].append(row)
        self.pending += 1

    def visit_done(self) -> None:
        """Between visits, every row's parent is in the batch: a good time to flush."""
        if self.pending >= BATCH:
            self.flush()

    def flush(self) -> None:
        cursor = self.connection.cursor()
        for table, rows in self.rows.items():
            if not rows:
                continue
            columns = COLUMNS[table]
            if self.dialect == "postgresql":
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "
                                   f"VALUES ({marks})", [tuple(map(_sqlite, r)) for r in rows])
            self.counts[table] += len(rows)
            rows.clear()
        cursor.close()
        self.pending = 0


def _sqlite(value):
    """A value as SQLAlchemy stores it in SQLite (moments as naive UTC text, to the
    microsecond, so that they compare as text in time order)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


COLUMNS = {
    "search_session": ("id", "visitor_id", "started_at", "last_seen_at"),
    "search_event": ("id", "uid", "session_id", "at", "query", "normalized", "results",
                     "partial", "latency_ms", "source", "replaced"),
    "article_event": ("id", "uid", "session_id", "at", "kind", "article_id", "search_id",
                      "rank", "via"),
    "vote": ("visitor_id", "article_id", "helpful", "reason", "created_at", "updated_at"),
    "ticket": ("id", "number", "token_hash", "name", "email", "subject", "description",
               "urgency", "priority", "mass_incident", "status", "line", "lang", "visitor_id",
               "session_id", "trail", "created_at", "updated_at", "resolution_article_id",
               "resolved_at"),
    "ticket_event": ("id", "ticket_id", "actor", "kind", "at", "data"),
    "ticket_link": ("ticket_id", "article_id", "code", "source", "created_at", "opens",
                    "first_opened_at"),
}
#: The big tables, whose secondary indexes are built after the rows are in (faster).
BIG = (SearchSession, SearchEvent, ArticleEvent, Vote)


def fill_visits(rng: random.Random, searches: int, tickets: int, articles: list[str],
                aliases: list[str], now: dt.datetime, load: Loader) -> None:
    """Visits with their searches, views and votes, oldest first (as the tracking writer
    appends them), and tickets from some of those visitors."""
    visits = searches / 1.8  # the mean of the sizes below
    step = DAYS * 24 * 3600 / visits
    begin = now - dt.timedelta(days=DAYS)
    voted: set[tuple[str, str]] = set()
    made = search_id = event_id = number = ticket_event = session_id = 0
    while made < searches:
        session_id += 1
        size = min(rng.choice([1, 1, 2, 2, 3]), searches - made)
        made += size
        start = min(begin + dt.timedelta(seconds=(session_id + rng.random()) * step),
                    now - dt.timedelta(minutes=10))
        visitor = f"v{rng.randrange(max(1, searches // 2))}"
        at = start
        for _ in range(size):
            search_id += 1
            at += dt.timedelta(seconds=rng.randrange(5, 120))
            results = 0 if rng.random() < 0.08 else rng.randrange(1, 30)
            load.add("search_event", search_id,
                     f"s{search_id}", session_id, at, "запрос", "запрос", results, False,
                     5.0, "page", 0)
            if results and rng.random() < 0.5:
                event_id += 1
                article = rng.choice(articles)
                load.add("article_event", event_id, f"e{event_id}", session_id,
                         at + dt.timedelta(seconds=3), "view", article, search_id, 1, "search")
                if rng.random() < 0.3 and (visitor, article) not in voted:
                    voted.add((visitor, article))
                    helpful = rng.random() < 0.6
                    load.add("vote", visitor, article, helpful,
                             None if helpful else rng.choice(REASONS), at,
                             at + dt.timedelta(seconds=40))
        if rng.random() < 0.2:
            event_id += 1
            load.add("article_event", event_id, f"e{event_id}", session_id,
                     at + dt.timedelta(seconds=30), "view", rng.choice(articles), None, None,
                     "direct")
        # Rows are flushed table by table in the order of COLUMNS: sessions first.
        load.add("search_session", session_id, visitor, start, at + dt.timedelta(seconds=60))
        if rng.random() < tickets / visits:
            number += 1
            ticket_event = fill_ticket(rng, number, session_id, visitor, start, now, articles,
                                       aliases, ticket_event, load)
        load.visit_done()


def fill_ticket(rng: random.Random, number: int, session_id: int, visitor: str,
                start: dt.datetime, now: dt.datetime, articles: list[str], aliases: list[str],
                event_id: int, load: Loader) -> int:
    """One ticket with its links, resolution and responses; the last ticket event id."""
    created = min(start + dt.timedelta(minutes=rng.randrange(2, 600)), now)
    resolved = rng.random() < 0.5
    article = (rng.choice(aliases) if aliases and rng.random() < 0.1
               else rng.choice(articles)) if resolved and rng.random() < 0.8 else None
    resolved_at = created + dt.timedelta(hours=rng.randrange(1, 48)) if resolved else None
    load.add("ticket", number, format_number("INC", number), hash_token(str(number)),
             "Клиент", f"c{number}@example.com", "Не работает", "Описание", "normal", "normal",
             False, "resolved" if resolved else "open", rng.choice([1, 1, 1, 2, 2, 3, 4]), "ru",
             visitor, session_id, "{}", created, created, article, resolved_at)
    for reply in range(rng.choice([1, 1, 2])):
        event_id += 1
        waited = rng.randrange(60, 4 * 3600)
        load.add("ticket_event", event_id, number, "staff", "responded",
                 created + dt.timedelta(seconds=waited + reply * 3600),
                 json.dumps({"line": 1 + reply, "late": waited > 900, "waited_s": waited}))
    if rng.random() < 0.6:
        opens = rng.choice([0, 0, 1, 1, 2, 3])
        load.add("ticket_link", number, rng.choice(articles), f"l{number}", "console",
                 created + dt.timedelta(minutes=10), opens,
                 created + dt.timedelta(hours=1) if opens else None)
    return event_id


def fill(app, searches: int, tickets: int, seed: int = 11) -> dt.datetime:
    """The history of the last 90 days (see the module's docstring); its "now"."""
    rng = random.Random(seed)
    with app.app_context():
        staff.create_user("expert@example.com", "Expert", "expert", PASSWORD)
        catalog = current_index().catalog()
        articles = sorted(i for i, info in catalog.items() if info.is_public)
        aliases = sorted(current_index().canonical_ids())
        now = dt.datetime.now(dt.UTC)
        dialect = db.engine.dialect.name
        with db.engine.begin() as connection:
            for model in BIG:
                for index in model.__table__.indexes:
                    index.drop(connection)
            if dialect == "sqlite":
                connection.exec_driver_sql("PRAGMA synchronous=OFF")
            load = Loader(connection.connection.driver_connection, dialect)
            fill_visits(rng, searches, tickets, articles, aliases, now, load)
            load.flush()
        started = time.perf_counter()
        with db.engine.begin() as connection:
            for model in BIG:
                for index in model.__table__.indexes:
                    index.create(connection)
        print(f"indexes built in {time.perf_counter() - started:.1f} s")
        if dialect == "postgresql":
            with db.engine.connect() as connection:  # as autovacuum would, soon after
                connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "ANALYZE")
        print(", ".join(f"{n} {name} rows" for name, n in load.counts.items()))
    return now


def timed(client, url: str, times: int) -> list[float]:
    return harness.timed(client, "GET", url, times)


def report(name: str, spent: list[float]) -> None:
    harness.report(name, spent, width=32)


def raw_report(app, days: int, times: int) -> list[float]:
    """Milliseconds of the report counted from raw events, as before the rollups (the
    counting alone, without the page around it)."""
    spent = []
    with app.app_context():
        window = dt.timedelta(hours=int(app.config["DEFLECTION_WINDOW_HOURS"]))
        aliases = current_index().canonical_ids()
        for _ in range(times):
            started = time.perf_counter()
            now = dt.datetime.now(dt.UTC)
            analytics.build_report(analytics.last_days(days, now, calendar().zone), aliases,
                                   window, now, from_raw=True)
            spent.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
    return spent


def run(args, database: str | None) -> None:
    name = "PostgreSQL" if database else "SQLite"
    with tempfile.TemporaryDirectory() as tmp:
        app = harness.make_app(args.articles, Path(tmp), database)
        started = time.perf_counter()
        fill(app, args.searches, args.tickets)
        print(f"generated and stored in {time.perf_counter() - started:.1f} s ({name})",
              flush=True)
        with app.app_context():
            started = time.perf_counter()
            closed = verdicts.close_visits(dt.datetime.now(dt.UTC), calendar().zone)
            print(f"rollup (the job that closes visits): {closed} visits in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            if database:
                with db.engine.connect() as connection:  # as autovacuum would, soon after
                    connection.execution_options(isolation_level="AUTOCOMMIT") \
                        .exec_driver_sql("VACUUM ANALYZE")
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
        if args.raw_requests:
            report("raw counting (before), 30 days", raw_report(app, 30, args.raw_requests))
            report("raw counting (before), 90 days", raw_report(app, 90, args.raw_requests))
        app.extensions["tracking"].close()
        with app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--raw-requests", type=int, default=5,
                        help="times the raw counting (before the rollups) is timed (0: not)")
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
