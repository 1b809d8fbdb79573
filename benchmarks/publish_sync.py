"""How soon a publish on one node is found on another: two `portal serve` nodes, each with
its own clone of one bare git repository and its own index, sharing one PostgreSQL
database, as behind a load balancer.

Run by hand (not a test):
    .venv/bin/python benchmarks/publish_sync.py --pg postgresql+psycopg://postgres@127.0.0.1/db
        [--publishes 40] [--workers 2] [--corpus ../shared]

The database's tables are dropped first. The demo knowledge base (with `--corpus`, the
~3,000 articles of the Russian corpus imported beside it) is pushed to a bare repository
in a temporary folder; both nodes clone it at start-up. An expert then publishes one
article through the editor on node A `--publishes` times, each time with a new keyword,
and two pollers ask `GET /api/v1/search` every 5 ms for it: one on node B (the figure of
issue 16: notice, pull, re-index there), one on node A itself (the reference: the same
node, another worker process, the index refresh alone); both poll at once, and their
difference per publish is what the other node adds.

Prints p50 / p95 / max in milliseconds.
"""

from __future__ import annotations

import argparse
import logging
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402

from portal import staff  # noqa: E402
from portal.importer import import_folder  # noqa: E402
from tests.processes import Browser  # noqa: E402
from tests.processes import ServedPortal  # noqa: E402

PASSWORD = "benchmark password"
ARTICLE = "internet/smena-parolya-wifi"


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.com",
                    *args], cwd=cwd, check=True, capture_output=True, timeout=600)


def seeded_remote(work: Path, articles: Path) -> Path:
    """A bare repository holding `articles` on its branch main."""
    remote = work / "remote.git"
    git(work, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(articles, "init", "--quiet", "--initial-branch=main")
    git(articles, "add", "--all")
    git(articles, "commit", "--quiet", "-m", "The knowledge base")
    git(articles, "push", "--quiet", str(remote), "main")
    return remote


def log_in(browser: Browser) -> None:
    _status, page = browser.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token
    status, _body, _headers = browser.request("/login", {
        "email": "expert@example.com", "password": PASSWORD, "csrf_token": token.group(1)})
    assert status == 303, status


def found_after(node_url: str, keyword: str, since: float, into: list[float]) -> None:
    """Poll the node's search API until it finds the keyword; milliseconds since `since`."""
    visitor = Browser(node_url)
    while True:
        _status, body = visitor.get(f"/api/v1/search?exact=1&q={quote(keyword)}")
        if ARTICLE in body:
            into.append((time.perf_counter() - since) * 1000)
            return
        if time.perf_counter() - since > 60:
            raise RuntimeError(f"{node_url} never found {keyword}")
        time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", required=True, help="a PostgreSQL URL (tables dropped)")
    parser.add_argument("--publishes", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    parser.add_argument("--corpus", type=Path, help="../shared: import the Russian corpus too")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        seed = work / "seed"
        shutil.copytree(ROOT / "articles", seed)
        if args.corpus:
            import_folder(args.corpus / "corpora" / "ru-alchemyinsights" / "AlchemyInsights",
                          seed, lang="ru", category="ru-insights")
        remote = seeded_remote(work, seed)
        configs = {}
        for name in ("a", "b"):
            (work / name).mkdir()
            app = harness.make_app(work / name / "articles", work / name, args.pg if
                                   name == "a" else None, ARTICLES_REMOTE=str(remote))
            configs[name] = {**app.config, "SQLALCHEMY_DATABASE_URI": args.pg}
            app.extensions["tracking"].close()
            if name == "a":
                with app.app_context():
                    staff.create_user("expert@example.com", "Эксперт", "expert", PASSWORD)
                count = len(app.extensions["search_index"].catalog())
        settings = {"ARTICLES_REMOTE": remote, "RATELIMIT_ENABLED": "false",
                    "TRACKING_ENABLED": "false"}
        nodes = [ServedPortal(configs[name], "--workers", str(args.workers), "--access-log",
                              "off", **settings) for name in ("a", "b")]
        for node in nodes:
            node.start(timeout=600)
        try:
            node_a, node_b = nodes
            time.sleep(2)  # the followers listen
            expert = Browser(node_a.url)
            log_in(expert)
            posts: list[float] = []
            other: list[float] = []
            same: list[float] = []
            for _ in range(args.publishes):
                keyword = f"метка{secrets.token_hex(3)}"
                started = time.perf_counter()
                pollers = [threading.Thread(target=found_after,
                                            args=(node.url, keyword, started, into))
                           for node, into in ((node_b, other), (node_a, same))]
                posts.append(harness.publish(expert, ARTICLE, keyword))
                for poller in pollers:
                    poller.start()
                for poller in pollers:
                    poller.join()
            print(f"{count} articles, two nodes x {args.workers} workers, PostgreSQL, "
                  f"{args.publishes} publishes")
            print("| step | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
            harness.report("publish (editor POST: pull, commit, push)", posts, 52)
            harness.report("found on node B, from pressing publish", other, 52)
            harness.report("found on node A itself (reference), same", same, 52)
            # Both pollers ran at once, on one noisy machine: the difference per publish
            # is what the other node adds (notice, fetch, merge, re-index).
            harness.report("node B later than node A, per publish",
                           [b - a for b, a in zip(other, same, strict=True)], 52)
        finally:
            for node in nodes:
                node.stop()


if __name__ == "__main__":
    main()
