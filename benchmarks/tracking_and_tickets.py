"""Search latency with and without tracking, and tickets created per second.

Run by hand (not a test): `make bench-tracking` or
    .venv/bin/python benchmarks/tracking_and_tickets.py [--articles PATH] [--rounds 5]
        [--pause MS] [--tickets 200] [--threads 4] [--pg URL | --no-pg] [--json FILE]

Builds a site in a temporary folder (the demo knowledge base, or `--articles PATH`) and
serves it with werkzeug's threaded server (HTTP/1.1 keep-alive) in a separate process, as
in production: the requests and the tracking writer thread share that process, while the
simulated browsers (`http.client`, in this process) do not add to its load.

1. Search: the same ~200 queries (article titles, fragments of them, fragments with a typo,
   queries that find nothing) through `GET /search`, on two servers over the same index, one
   with TRACKING_ENABLED and one without. Each simulated visit is 5 queries under one
   visitor cookie. Both are warmed up first; then rounds alternate which goes first, and
   after each tracked round the writer's catch-up (`tracking.flush()`) is timed.
   Separately: the cost of building a search event and of `track_event` alone, and how
   many events per second the writer stores from a burst of them.
2. Tickets: `POST /api/v1/tickets` (JSON) from visitors who searched 2-3 times first, so
   that each ticket carries a trail: one client after another, several clients at once,
   and one after another with a WEBHOOK_URL where nothing listens (the outbox must not slow
   tickets down). On SQLite and on PostgreSQL, each run on a fresh database. No
   MAIL_SERVER, no rate limits. The one-client run then stores a burst of 2,000 searches
   and posts 20 tickets more: what a busy hour of searching does to a ticket.

Prints two tables (search latency; tickets per second) and notes under each.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import multiprocessing
import os
import random
import secrets
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from werkzeug.serving import WSGIRequestHandler  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from portal.articles import iter_article_files  # noqa: E402
from portal.articles import load_article  # noqa: E402
from portal.search import SearchIndex  # noqa: E402
from portal.search import search as run_search  # noqa: E402
from portal.web.visitors import COOKIE  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
VISIT_LENGTH = 5
BURST = 2000
WARM_TICKETS = 5
LATE_TICKETS = 20
NOTHING = [
    "квазарфотон", "телепортация кота", "zxqv plorf", "гиперпространственный шлюз",
    "рецепт борща со свёклой", "flux capacitor", "ьылвоафж", "драконье яйцо купить",
    "расписание электричек", "xylophrax", "межгалактический роуминг", "qwpzx mnbv",
]


# --- queries --------------------------------------------------------------------------------


def make_queries(articles: Path, count: int = 200, seed: int = 5) -> list[tuple[str, str]]:
    """(kind, query): whole titles, 2-4 word fragments, fragments with a typo, and nonsense."""
    rng = random.Random(seed)
    titles = []
    for path in iter_article_files(articles):
        try:
            article = load_article(articles, path)
        except Exception:  # a broken article is skipped by the index too
            continue
        if article.is_public and article.title:
            titles.append(article.title)
    titles.sort()

    def fragment() -> str:
        words = rng.choice(titles).replace("—", " ").replace(":", " ").split()
        size = min(len(words), rng.randint(2, 4))
        start = rng.randint(0, len(words) - size)
        return " ".join(words[start:start + size]).lower()

    found = [("title", t) for t in rng.sample(titles, min(len(titles), count // 5))]
    nothing = [("nothing", q) for q in NOTHING]
    typos = count // 4
    while len(found) + typos + len(nothing) < count:
        found.append(("fragment", fragment()))
    found.extend(("typo", misspell(rng, fragment())) for _ in range(typos))
    found.extend(nothing)
    rng.shuffle(found)
    return found[:count]


def misspell(rng: random.Random, text: str) -> str:
    """`text` with one longer word mistyped: two letters swapped, one dropped or doubled."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()] or [0]
    i = rng.choice(long)
    word = words[i]
    at = rng.randrange(1, max(2, len(word) - 1))
    how = rng.choice(("swap", "drop", "double"))
    if how == "swap" and at + 1 < len(word):
        word = word[:at] + word[at + 1] + word[at] + word[at + 2:]
    elif how == "drop":
        word = word[:at] + word[at + 1:]
    else:
        word = word[:at] + word[at] + word[at:]
    words[i] = word
    return " ".join(words)


# --- the server process ---------------------------------------------------------------------


class _LogCounter(logging.Handler):
    """Counts the portal's warnings and keeps the first few errors, for the summary."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.name} {record.levelname}"] += 1
        if record.levelno >= logging.ERROR and len(self.errors) < 5:
            cause = f" ({record.exc_info[1]!r})"[:300] if record.exc_info else ""
            self.errors.append(f"{record.name}: {record.getMessage()}{cause}")


class _Control:
    """The app, plus /_bench/* answers for the benchmark: flush, counts, burst, close."""

    def __init__(self, app, queries: list[str], log: _LogCounter) -> None:
        self.app, self.queries, self.log = app, queries, log

    def __call__(self, environ, start_response):
        action = environ["PATH_INFO"].removeprefix("/_bench/")
        if action == environ["PATH_INFO"]:
            return self.app(environ, start_response)
        body = json.dumps(getattr(self, action)()).encode("utf-8")
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    def flush(self) -> dict:
        from portal import tracking

        started = time.perf_counter()
        with self.app.app_context():
            done = tracking.flush(timeout=120)
        return {"seconds": time.perf_counter() - started, "done": done}

    def counts(self) -> dict:
        from sqlalchemy import func
        from sqlalchemy import select

        from portal.extensions import db
        from portal.models import OutboxMessage
        from portal.models import SearchEvent
        from portal.models import Ticket

        def count(model, *where) -> int:
            return db.session.scalar(select(func.count()).select_from(model).where(*where))

        recorder = self.app.extensions["tracking"]
        with self.app.app_context():
            found = {
                "search_rows": count(SearchEvent),
                "folded_as_typing": db.session.scalar(
                    select(func.coalesce(func.sum(SearchEvent.replaced), 0))),
                "stored_tickets": count(Ticket),
                "with_trail": count(Ticket, Ticket.session_id.is_not(None)),
                "mass_incident": count(Ticket, Ticket.mass_incident),
                "outbox": {f"{status} after {tries} tries": n for status, tries, n in
                           db.session.execute(select(OutboxMessage.status,
                                                     OutboxMessage.attempts, func.count())
                                              .group_by(OutboxMessage.status,
                                                        OutboxMessage.attempts))},
                "dropped": recorder.dropped, "failed": recorder.failed,
            }
            db.session.remove()
        return found

    def burst(self) -> dict:
        """Microseconds to build a search event and to hand it to `track_event`; then how
        fast the writer stores a burst of them (events per second until `flush` returns)."""
        from portal import tracking
        from portal.web.visitors import event_context

        built, put, events = [], [], []
        with self.app.test_request_context("/search"):
            for number in range(BURST):
                if number % VISIT_LENGTH == 0:
                    visitor = new_visitor()
                started = time.perf_counter()
                context = event_context() | {"visitor_id": visitor}
                events.append(tracking.SearchMade.of(
                    self.queries[number % len(self.queries)], 3, 4.2, source="page", **context))
                built.append((time.perf_counter() - started) * 1e6)
            recorder = self.app.extensions["tracking"]
            dropped = recorder.dropped
            first = time.perf_counter()
            for event in events:
                started = time.perf_counter()
                tracking.track_event(event)
                put.append((time.perf_counter() - started) * 1e6)
            done = tracking.flush(timeout=120)
            seconds = time.perf_counter() - first
        return {"build_event_us": {"p50": statistics.median(built),
                                   "p99": percentile(built, 0.99)},
                "track_event_us": {"p50": statistics.median(put), "p99": percentile(put, 0.99)},
                "burst": BURST, "burst_s": seconds if done else None,
                "burst_per_s": BURST / seconds if done else None,
                "burst_dropped": recorder.dropped - dropped}

    def close(self) -> dict:
        """Stop the tracking writer and the outbox sender; close the database connections."""
        from portal import outbox
        from portal.extensions import db

        self.app.extensions["tracking"].close(timeout=60)
        with self.app.app_context():
            outbox.stop()
            db.engine.dispose()
        return {"log": dict(self.log.counts), "errors": self.log.errors}


class _Handler(WSGIRequestHandler):
    """werkzeug's request handler speaking HTTP/1.1 (keep-alive), without a log line each."""

    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs) -> None:
        pass


def _serve(settings: dict, queries: list[str], log_path: str, pipe) -> None:
    """The server process: build and migrate the app, then serve it until terminated."""
    with open(log_path, "a", encoding="utf-8") as log_file:
        os.dup2(log_file.fileno(), 2)  # alembic's and werkzeug's chatter go to the log file
    from flask_migrate import upgrade

    from portal import create_app

    counter = _LogCounter()
    logging.getLogger("portal").addHandler(counter)
    app = create_app(settings)
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, _Control(app, queries, counter), threaded=True,
                         request_handler=_Handler)
    pipe.send(server.server_port)
    server.serve_forever()


class Server:
    """The portal served by a separate process on a free local port."""

    def __init__(self, work: Path, articles: Path, database: str, queries: list[str],
                 name: str, **config) -> None:
        settings = {
            "SECRET_KEY": "bench", "ARTICLES_DIR": str(articles),
            "INDEX_DIR": str(work / "index"), "SQLALCHEMY_DATABASE_URI": database,
            "RATELIMIT_ENABLED": False, "MAIL_SERVER": "", "WEBHOOK_URL": "",
            "TRACKING_ENABLED": True,
        }
        settings.update(config)
        self.log_path = work / f"server-{name}.log"
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self.process = context.Process(target=_serve, name=f"portal-{name}", daemon=True,
                                       args=(settings, queries, str(self.log_path), theirs))
        self.process.start()
        if not ours.poll(120):
            self.process.terminate()
            raise SystemExit(f"the {name} server did not start; see {self.log_path}")
        self.port = ours.recv()
        self.result: dict = {}

    def control(self, action: str) -> dict:
        browser = Browser(self.port)
        status, body, _seconds = browser.request("GET", f"/_bench/{action}", "")
        browser.close()
        if status != 200:
            raise SystemExit(f"/_bench/{action}: HTTP {status}; see {self.log_path}")
        return json.loads(body)

    def close(self) -> dict:
        """The server's log counts; the process is gone afterwards."""
        try:
            found = self.control("close")
        finally:
            self.process.terminate()
            self.process.join(30)
        return found


@contextlib.contextmanager
def serving(*args, **kwargs):
    server = Server(*args, **kwargs)
    try:
        yield server
    finally:
        server.result = server.close()


class Browser:
    """One keep-alive connection; each request names its visitor with the visitor cookie."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(self, method: str, path: str, visitor: str,
                body: dict | None = None) -> tuple[int, bytes, float]:
        """(status, body, seconds) of one request."""
        headers = {"Cookie": f"{COOKIE}={visitor}", "Accept-Language": "ru"}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        self.connection.request(method, path, body=data, headers=headers)
        response = self.connection.getresponse()
        payload = response.read()
        return response.status, payload, time.perf_counter() - started

    def search(self, query: str, visitor: str) -> float:
        status, _body, seconds = self.request("GET", "/search?q=" + quote(query), visitor)
        if status != 200:
            raise SystemExit(f"GET /search?q={query!r}: HTTP {status}")
        return seconds

    def close(self) -> None:
        self.connection.close()


def new_visitor() -> str:
    return secrets.token_urlsafe(16)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def spread(seconds: list[float]) -> dict:
    """p50/p95/p99/mean/max of durations, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": statistics.median(ms), "p95": percentile(ms, 0.95),
            "p99": percentile(ms, 0.99), "mean": statistics.fmean(ms), "max": max(ms)}


# --- 1. search with and without tracking ----------------------------------------------------


def search_latency(work: Path, articles: Path, queries: list[str], rounds: int,
                   pause: float = 0.0) -> dict:
    """Latency of GET /search with tracking on and off, alternating which goes first."""
    database = f"sqlite:///{work / 'search.sqlite3'}"
    timings: dict[str, list[float]] = {"on": [], "off": []}
    round_p50: dict[str, list[float]] = {"on": [], "off": []}
    catch_up, stored_rates = [], []
    with (serving(work, articles, database, queries, "tracked") as tracked,
          serving(work, articles, database, queries, "untracked",
                  TRACKING_ENABLED=False) as untracked):
        browsers = {"on": Browser(tracked.port), "off": Browser(untracked.port)}

        def visit_all(mode: str, order: list[str]) -> list[float]:
            spent = []
            for start in range(0, len(order), VISIT_LENGTH):
                visitor = new_visitor()
                for query in order[start:start + VISIT_LENGTH]:
                    spent.append(browsers[mode].search(query, visitor))
                    if pause:
                        time.sleep(pause)
            return spent

        for mode in ("on", "off"):  # warm-up: templates, searcher, corrections, connections
            visit_all(mode, queries)
        tracked.control("flush")
        rng = random.Random(3)
        for number in range(rounds):
            order = rng.sample(queries, len(queries))
            for mode in (("on", "off") if number % 2 == 0 else ("off", "on")):
                started = time.perf_counter()
                spent = visit_all(mode, order)
                block = time.perf_counter() - started
                timings[mode].extend(spent)
                round_p50[mode].append(statistics.median(spent) * 1000)
                if mode == "on":
                    flushed = tracked.control("flush")
                    catch_up.append(flushed["seconds"] if flushed["done"] else float("inf"))
                    stored_rates.append(len(order) / (block + flushed["seconds"]))
        for browser in browsers.values():
            browser.close()
        counts = tracked.control("counts")
        costs = tracked.control("burst")
    index = SearchIndex(work / "index", articles)
    result = {
        "queries": len(queries), "rounds": rounds,
        "zero_result_queries": sum(1 for q in queries if run_search(index, q).total == 0),
        "on": spread(timings["on"]), "off": spread(timings["off"]),
        "p50_diff_ms": statistics.median(timings["on"]) * 1000
        - statistics.median(timings["off"]) * 1000,
        "round_p50_diff_ms": [a - b for a, b in zip(round_p50["on"], round_p50["off"],
                                                    strict=True)],
        "catch_up_ms": [s * 1000 for s in catch_up],
        "stored_per_s_while_serving": statistics.fmean(stored_rates),
        "events_sent": len(queries) * (rounds + 1),
        "server_log": [tracked.result, untracked.result],
    }
    index.close()
    return result | counts | costs


# --- 2. tickets -----------------------------------------------------------------------------


def journeys(port: int, queries: list[str], count: int, seed: int) -> list[tuple[str, dict]]:
    """`count` visitors who each search 2-3 times; (visitor, ticket body) for each."""
    rng = random.Random(seed)
    browser = Browser(port)
    found = []
    for number in range(count):
        visitor = new_visitor()
        asked = rng.sample(queries, rng.randint(2, 3))
        for query in asked:
            browser.search(query, visitor)
        subject = asked[-1] if len(asked[-1]) >= 3 else asked[0]
        found.append((visitor, {
            "name": f"Клиент {seed}-{number}", "email": f"client{seed}.{number}@example.com",
            "subject": subject[:200], "urgency": rng.choice(("low", "normal", "normal", "high")),
            "description": f"Искал(а) «{asked[0]}», статьи не помогли. Обращение {number}.",
        }))
    browser.close()
    return found


def post_tickets(port: int, visits: list[tuple[str, dict]], clients: int) -> dict:
    """POST every ticket, `clients` at once; statuses, latencies in order, wall time."""
    pending = list(reversed(visits))
    lock = threading.Lock()
    spent: list[float] = []
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    start = threading.Barrier(clients + 1)

    def client() -> None:
        browser = Browser(port)
        start.wait()
        while True:
            with lock:
                if not pending:
                    break
                visitor, body = pending.pop()
            status, payload, seconds = browser.request("POST", "/api/v1/tickets", visitor,
                                                       body)
            with lock:
                spent.append(seconds)
                statuses[status] += 1
                if status != 201 and len(errors) < 3:
                    errors.append(f"HTTP {status} {payload[:200].decode('utf-8', 'replace')}")
        browser.close()

    workers = [threading.Thread(target=client) for _ in range(clients)]
    for worker in workers:
        worker.start()
    start.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    return {"clients": clients, "tickets": len(visits), "created": statuses[201],
            "statuses": dict(statuses), "errors": errors, "wall_s": wall,
            "per_s": statuses[201] / wall, "latency": spread(spent), "in_order": spent}


def ticket_run(work: Path, articles: Path, database: str, queries: list[str], count: int,
               clients: int, seed: int, name: str, **config) -> dict:
    """One run on a fresh database: the visitors search, then their tickets are posted.
    A sequential run then stores a burst of searches and posts a few tickets more, to show
    what a busier hour of searching does to a ticket."""
    late = LATE_TICKETS if clients == 1 and not config.get("WEBHOOK_URL") else 0
    with serving(work, articles, database, queries, name, **config) as server:
        visits = journeys(server.port, queries, WARM_TICKETS + count + late, seed)
        server.control("flush")
        post_tickets(server.port, visits[:WARM_TICKETS], 1)  # first-use costs, not timed
        result = post_tickets(server.port, visits[WARM_TICKETS:WARM_TICKETS + count], clients)
        server.control("flush")
        result |= server.control("counts")
        if late:
            result["writer_burst_per_s"] = server.control("burst")["burst_per_s"]
            searched = server.control("counts")["search_rows"]
            after = post_tickets(server.port, visits[-late:], 1)
            result["after_burst"] = {"searches_in_hour": searched, "tickets": late,
                                     "p50": after["latency"]["p50"],
                                     "per_s": after["per_s"]}
    result["server_log"] = server.result
    in_order = result.pop("in_order")
    tenth = max(1, len(in_order) // 10)
    result["first_tenth_p50"] = statistics.median(in_order[:tenth]) * 1000
    result["last_tenth_p50"] = statistics.median(in_order[-tenth:]) * 1000
    return result


def closed_port() -> int:
    """A local port where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def fresh_database(kind: str, work: Path, pg: str, name: str):
    """A new empty database URL; a PostgreSQL one is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{work / (name + '.sqlite3')}"
        return
    server = make_url(pg)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    unique = f"line0_bench_{name}_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{unique}"')
    try:
        yield server.set(database=unique).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{unique}" WITH (FORCE)')
        admin.dispose()


def postgres_problem(pg: str) -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        engine = create_engine(make_url(pg).set(database="postgres"))
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


def tickets_on(kind: str, work: Path, articles: Path, pg: str, queries: list[str],
               count: int, clients: int) -> dict:
    """One client, several clients, and one client with an unreachable webhook."""
    runs = {}
    plans = [("sequential", 1, {}), ("concurrent", clients, {}),
             ("webhook", 1, {"WEBHOOK_URL": f"http://127.0.0.1:{closed_port()}/hook",
                             "WEBHOOK_TIMEOUT": 2})]
    for seed, (run, run_clients, config) in enumerate(plans, start=1):
        name = f"{kind}-{run}"
        with fresh_database(kind, work, pg, name.replace("-", "_")) as database:
            runs[run] = ticket_run(work, articles, database, queries, count, run_clients,
                                   seed, name, **config)
        print(f"  {name}: {runs[run]['per_s']:.1f} tickets/s", flush=True)
    return runs


# --- the report -----------------------------------------------------------------------------


def print_search(r: dict) -> None:
    print(f"\nSearch: {r['queries']} queries ({r['zero_result_queries']} find nothing), "
          f"visits of {VISIT_LENGTH} under one visitor cookie, GET /search, "
          f"{r['rounds']} rounds per mode after a warm-up\n")
    print("| tracking | requests | p50 | p95 | p99 | mean |")
    print("|---|---|---|---|---|---|")
    for mode in ("off", "on"):
        s = r[mode]
        print(f"| {mode} | {s['n']} | {s['p50']:.2f} ms | {s['p95']:.2f} ms "
              f"| {s['p99']:.2f} ms | {s['mean']:.2f} ms |")
    rounds = ", ".join(f"{d:+.2f}" for d in r["round_p50_diff_ms"])
    verdict = "under" if r["p50_diff_ms"] < 1 else "NOT under"
    print(f"\np50 difference (on - off): {r['p50_diff_ms']:+.2f} ms, {verdict} the 1 ms target "
          f"(per round: {rounds})")
    catch = r["catch_up_ms"]
    print(f"writer catch-up after a round (tracking.flush): median {statistics.median(catch):.0f}"
          f" ms, max {max(catch):.0f} ms; {r['stored_per_s_while_serving']:.0f} events/s "
          "stored while serving (= the request rate)")
    print(f"events: {r['events_sent']} searches sent, {r['search_rows']} search rows "
          f"({r['folded_as_typing']} folded as typing), {r['dropped']} dropped, "
          f"{r['failed']} failed")
    print(f"cost in the request: building the event {r['build_event_us']['p50']:.0f} µs p50 "
          f"({r['build_event_us']['p99']:.0f} µs p99); track_event "
          f"{r['track_event_us']['p50']:.1f} µs p50 ({r['track_event_us']['p99']:.1f} µs p99)")
    print(f"writer burst: {r['burst']} events queued at once stored in {r['burst_s']:.2f} s "
          f"= {r['burst_per_s']:.0f} events/s ({r['burst_dropped']} dropped)")


def print_tickets(results: dict[str, dict], count: int) -> None:
    print(f"\nTickets: POST /api/v1/tickets (JSON), {count} per run, each from a visitor "
          "who searched 2-3 times first; a fresh database per run\n")
    print("| database | run | clients | tickets/s | p50 | p95 | max | failed |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, runs in results.items():
        if "skipped" in runs:
            print(f"| {kind} | skipped: {runs['skipped']} |||||||")
            continue
        for run, r in runs.items():
            lat = r["latency"]
            print(f"| {kind} | {run} | {r['clients']} | {r['per_s']:.1f} | {lat['p50']:.0f} ms "
                  f"| {lat['p95']:.0f} ms | {lat['max']:.0f} ms "
                  f"| {r['tickets'] - r['created']} |")
    print()
    for kind, runs in results.items():
        for run, r in runs.items():
            if not isinstance(r, dict):
                continue
            notes = [f"{r['with_trail']} of {r['stored_tickets']} tickets with a trail",
                     f"{r['mass_incident']} marked mass incident",
                     f"p50 of the first tenth {r['first_tenth_p50']:.0f} ms, of the last "
                     f"{r['last_tenth_p50']:.0f} ms"]
            if r["outbox"]:
                notes.append("outbox: " + ", ".join(f"{n} {s}" for s, n in r["outbox"].items()))
            if r.get("writer_burst_per_s"):
                notes.append(f"tracking writer {r['writer_burst_per_s']:.0f} events/s")
            if r.get("after_burst"):
                a = r["after_burst"]
                notes.append(f"with {a['searches_in_hour']} searches in the last hour: "
                             f"{a['p50']:.0f} ms p50, {a['per_s']:.1f} tickets/s")
            if r["errors"]:
                notes.append("errors: " + " | ".join(r["errors"]))
            print(f"  {kind} {run}: " + "; ".join(notes))


def print_logs(searched: dict, tickets: dict) -> None:
    logs = list(searched["server_log"])
    logs += [r["server_log"] for runs in tickets.values() for r in runs.values()
             if isinstance(r, dict)]
    counts: Counter[str] = Counter()
    errors: list[str] = []
    for log in logs:
        counts.update(log["log"])
        errors += log["errors"]
    if counts:
        print("\nserver logs: " + ", ".join(f"{n} × {k}" for k, n in sorted(counts.items())))
    for error in errors[:5]:
        print(f"  {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=Path, default=ROOT / "articles",
                        help="the knowledge base to serve (default: the demo one)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per mode")
    parser.add_argument("--pause", type=float, default=0.0,
                        help="milliseconds a visitor waits between searches (default: none)")
    parser.add_argument("--tickets", type=int, default=200, help="tickets per run")
    parser.add_argument("--threads", type=int, default=4, help="clients in the concurrent run")
    parser.add_argument("--pg", default=DEFAULT_PG,
                        help="PostgreSQL server URL (its database name is not used: a fresh "
                        "database is made there for each run and dropped after)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    articles = args.articles.resolve()
    if not articles.is_dir():
        parser.error(f"{articles} is not a folder")

    kinds = {"sqlite": None}
    if not args.no_pg:
        kinds["postgresql"] = postgres_problem(args.pg)
    queries = [text for _kind, text in make_queries(articles, args.queries)]
    with tempfile.TemporaryDirectory(prefix="line0-tracking-") as tmp:
        work = Path(tmp)
        print(f"articles: {articles}; {len(queries)} queries; servers in a child process",
              flush=True)
        searched = search_latency(work, articles, queries, args.rounds, args.pause / 1000)
        print_search(searched)
        tickets: dict[str, dict] = {}
        for kind, problem in kinds.items():
            if problem:
                tickets[kind] = {"skipped": problem}
                continue
            print(f"\ntickets on {kind}:", flush=True)
            tickets[kind] = tickets_on(kind, work, articles, args.pg, queries, args.tickets,
                                       args.threads)
        print_tickets(tickets, args.tickets)
        print_logs(searched, tickets)
    if args.json:
        args.json.write_text(json.dumps({"search": searched, "tickets": tickets}, indent=2,
                                        ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
