"""How fast the expert console works, and how soon a publish reaches every server process.

Run by hand (not a test): `make bench-expert` or
    .venv/bin/python benchmarks/expert_console.py [--saves 40] [--searches 30000]
        [--corpus ../shared] [--pg URL] [--gaps-only] [--raw-requests 3]

Builds the demo knowledge base in a temporary folder (with `--corpus`, the ~3,000 articles
of the Russian corpus are imported beside it), then, as an expert (Flask's test client in
this process, the app's own time without network, unless said otherwise):

- on one of two server processes on the same folders and database (as under gunicorn),
  saves an article through the editor `--saves` times over HTTP ("Save and publish":
  bounded render in a child process, atomic file, revision, the index entries of that
  article only), and measures how long after each publish returns the *other* process finds
  the change (it polls the search API every 5 ms);
- asks the live preview of that server to render the article;
- fills the database with `--searches` searches over 30 days (a third find nothing, a
  result of half the others is opened; about 600 different forms; COPY on PostgreSQL), opens
  the gaps page as it was before the rollups (every visit judged on each request), counts
  the rollups (`portal report rollup`, timed) and opens the gaps page again;
- opens the inbox with 300 flags, 300 requests and 2,000 "no" votes.

Prints p50 / p95 / max in milliseconds per step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import random
import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from portal import staff  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.importer import import_folder  # noqa: E402
from portal.models import ArticleEvent  # noqa: E402
from portal.models import ArticleFlag  # noqa: E402
from portal.models import ArticleRequest  # noqa: E402
from portal.models import SearchEvent  # noqa: E402
from portal.models import SearchSession  # noqa: E402
from portal.models import Vote  # noqa: E402
from portal.search.query import normalized_form  # noqa: E402
from portal.service_hours import calendar  # noqa: E402
from portal.tracking import verdicts  # noqa: E402
from tests.editing import read_form  # noqa: E402
from tests.processes import Browser  # noqa: E402
from tests.processes import PortalProcess  # noqa: E402
from tests.processes import settings_of  # noqa: E402

PASSWORD = "benchmark password"
ARTICLE = "internet/smena-parolya-wifi"
WORDS = ("роутер", "пароль", "квазар", "телепорт", "модем", "почта", "тариф", "спутник",
         "пульсар", "гравицапа", "оплата", "кабель", "сигнал", "приставка", "камера")
VERBS = ("не работает", "мигает", "гудит", "пропал", "сломался", "тормозит", "не видит")


def make_app(articles: Path, work: Path, database: str | None):
    app = harness.make_app(articles, work, database, INDEX_REFRESH_SECONDS=0.2)
    with app.app_context():
        staff.create_user("expert@example.com", "Эксперт", "expert", PASSWORD)
    return app


report = harness.report


def log_in(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "expert@example.com",
                                           "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.status_code


def browser_log_in(browser: Browser) -> None:
    _status, page = browser.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    status, _body, _headers = browser.request("/login", {
        "email": "expert@example.com", "password": PASSWORD, "csrf_token": token})
    assert status == 303, status


def editor_over_http(app, saves: int) -> None:
    """Two server processes, as under gunicorn: the expert works on one, a customer
    searches on the other."""
    settings = settings_of(app.config)
    with PortalProcess(settings) as first, PortalProcess(settings) as second:
        expert, visitor = Browser(first.url), Browser(second.url)
        browser_log_in(expert)
        spent, seen = [], []
        for _ in range(saves):
            keyword = f"метка{secrets.token_hex(3)}"
            spent.append(harness.publish(expert, ARTICLE, keyword))
            returned = time.perf_counter()
            while True:
                _status, body = visitor.get(f"/api/v1/search?exact=1&q={quote(keyword)}")
                if ARTICLE in body:
                    break
                if time.perf_counter() - returned > 10:
                    raise RuntimeError("the other process never found the change")
                time.sleep(0.005)
            seen.append((time.perf_counter() - returned) * 1000)
        report("save and publish (editor POST over HTTP)", spent)
        report("found by the other process, after save", seen)
        _status, page = expert.get(f"/expert/articles/{ARTICLE}/edit")
        fields = read_form(page).fields
        previews = []
        for _ in range(30):
            started = time.perf_counter()
            status, body, _headers = expert.request("/expert/preview", fields)
            previews.append((time.perf_counter() - started) * 1000)
            assert status == 200 and '"html"' in body
        report("live preview (render in a child process)", previews)


def _copy_rows(table, rows: list[dict]) -> None:
    """Insert `rows` fast: COPY on PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.execute(insert(table), rows)
        return
    columns = list(rows[0])
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(
            f"COPY {table.__tablename__} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def fill_searches(app, count: int, seed: int = 11) -> None:
    """`count` searches over 30 days in visits of 1-4 searches; about a third find nothing,
    and a result of half the others is opened."""
    rng = random.Random(seed)
    forms = [f"{rng.choice(WORDS)} {rng.choice(VERBS)} {rng.randrange(40)}" for _ in range(600)]
    normal = {query: normalized_form(query) for query in forms}
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        sessions, searches, views = [], [], []
        session_id = made = viewed = 0
        while made < count:
            session_id += 1
            start = now - dt.timedelta(seconds=rng.randrange(30 * 24 * 3600 - 7200) + 3600)
            size = rng.randint(1, 4)
            sessions.append({"id": session_id, "visitor_id": f"v{session_id}",
                             "started_at": start,
                             "last_seen_at": start + dt.timedelta(seconds=20 * size)})
            for k in range(size):
                made += 1
                query = rng.choice(forms)
                results = 0 if rng.random() < 0.33 else rng.randint(1, 30)
                at = start + dt.timedelta(seconds=20 * k)
                searches.append({
                    "id": made, "uid": f"s{made}", "session_id": session_id, "at": at,
                    "query": query, "normalized": normal[query], "results": results,
                    "partial": False, "latency_ms": 5.0, "source": "page", "replaced": 0})
                if results and rng.random() < 0.5:
                    viewed += 1
                    views.append({"id": viewed, "uid": f"e{viewed}",
                                  "session_id": session_id, "at": at + dt.timedelta(seconds=5),
                                  "kind": "view", "article_id": ARTICLE, "search_id": made,
                                  "rank": 1, "via": "search"})
            if len(searches) > 20_000:
                _copy_rows(SearchSession, sessions)
                _copy_rows(SearchEvent, searches)
                _copy_rows(ArticleEvent, views)
                sessions, searches, views = [], [], []
        _copy_rows(SearchSession, sessions)
        _copy_rows(SearchEvent, searches)
        _copy_rows(ArticleEvent, views)
        db.session.commit()
        analyze()


def analyze() -> None:
    """Fresh planner statistics on PostgreSQL, as autovacuum would make soon after."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "ANALYZE")


def rollup(app) -> float:
    """Judge every visit and count the rollups (`portal report rollup`); seconds taken."""
    with app.app_context():
        started = time.perf_counter()
        verdicts.rebuild(dt.datetime.now(dt.UTC), calendar().zone)
        spent = time.perf_counter() - started
        analyze()
    return spent


def gaps_at_scale(app, client, searches: int, raw_requests: int) -> None:
    """The gaps page over `searches` searches: judged from raw events on each request (as
    before the rollups), then from the rollups."""
    started = time.perf_counter()
    fill_searches(app, searches)
    print(f"({searches} searches stored in {time.perf_counter() - started:.1f} s)")
    if raw_requests:
        report(f"gaps page, 30 days, nothing rolled up ({searches} searches)",
               timed(client, "/expert/gaps?days=30", raw_requests))
    print(f"(rollup of every visit: {rollup(app):.1f} s)")
    timed(client, "/expert/gaps?days=30", 1)  # warm
    report(f"gaps page, 30 days, from the rollups ({searches} searches)",
           timed(client, "/expert/gaps?days=30", 20))
    report("gaps page, 30 days, page 3", timed(client, "/expert/gaps?days=30&page=3", 10))


def fill_inbox(app, seed: int = 5) -> None:
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        ids = [info.id for info in app.extensions["search_index"].catalog().values()
               if info.is_public]
        db.session.execute(insert(ArticleFlag), [
            {"article_id": rng.choice(ids), "kind": "outdated", "comment": "Устарело",
             "status": "open", "created_at": now} for _ in range(300)])
        db.session.execute(insert(ArticleRequest), [
            {"topic": f"Нужна статья {n}", "status": "open", "created_at": now}
            for n in range(300)])
        db.session.execute(insert(Vote), [
            {"visitor_id": f"v{n}", "article_id": rng.choice(ids), "helpful": False,
             "reason": "not_solved", "comment": "Не помогло" if n % 3 else None,
             "created_at": now, "updated_at": now} for n in range(2000)])
        db.session.commit()


def timed(client, url: str, times: int) -> list[float]:
    return harness.timed(client, "GET", url, times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=40)
    parser.add_argument("--searches", type=int, default=30_000)
    parser.add_argument("--corpus", type=Path, help="../shared: import the Russian corpus too")
    parser.add_argument("--pg", help="a PostgreSQL URL (its tables are dropped first)")
    parser.add_argument("--gaps-only", action="store_true",
                        help="only the gaps page (no editor, inbox or article pages)")
    parser.add_argument("--raw-requests", type=int, default=3,
                        help="requests of the gaps page before the rollup (each judges "
                             "every visit again; 0 to skip)")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        articles = work / "articles"
        shutil.copytree(ROOT / "articles", articles)
        if args.corpus:
            import_folder(args.corpus / "corpora" / "ru-alchemyinsights" / "AlchemyInsights",
                          articles, lang="ru", category="ru-insights")
        app = make_app(articles, work, args.pg)
        count = len(app.extensions["search_index"].catalog())
        print(f"{count} articles, {'PostgreSQL' if args.pg else 'SQLite'}")
        print("| step | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
        client = app.test_client()
        log_in(client)
        if args.gaps_only:
            gaps_at_scale(app, client, args.searches, args.raw_requests)
            app.extensions["tracking"].close()
            return
        editor_over_http(app, args.saves)
        gaps_at_scale(app, client, args.searches, args.raw_requests)
        fill_inbox(app)
        report("inbox, everything (2,600 items)", timed(client, "/expert/inbox?view=all", 10))
        report("articles list", timed(client, "/expert/", 20))
        report(f"history of {ARTICLE}", timed(client, f"/expert/articles/{ARTICLE}/history",
                                              20))
        app.extensions["tracking"].close()


if __name__ == "__main__":
    main()
