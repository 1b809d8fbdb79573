"""Where the time of one results page goes: a loop of `GET /search` through Flask's test
client (no network), tracking on, over a copy of the demo knowledge base, under cProfile.

    .venv/bin/python benchmarks/search_page_profile.py [--requests 2000] [--top 30]

Prints the time per page (median of rounds, without the profiler) for the search page and
the search API, then the functions that cost the most (cumulative, with the profiler).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import make_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ["пароль", "не работает интернет", "роутер мигает красным", "сбросить пароль",
           "wi-fi", "оплата картой", "почта не приходит", "личный кабинет", "gfhjkm",
           "тариф", "how to pay", "password reset", "мобильное приложение", "спам"]


def pages(client, path: str, n: int) -> float:
    """Milliseconds per request over `n` requests of `path` with the query mix."""
    started = time.perf_counter()
    for i in range(n):
        response = client.get(path, query_string={"q": QUERIES[i % len(QUERIES)]})
        assert response.status_code == 200, response.status_code
    return (time.perf_counter() - started) * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="line0-profile-") as tmp:
        work = Path(tmp)
        articles = work / "articles"
        shutil.copytree(ROOT / "articles", articles)
        app = make_app(articles, work, None, TRACKING_ENABLED=True,
                       INDEX_REFRESH_SECONDS=0.2)  # as served (the default)
        client = app.test_client()
        pages(client, "/search", 50)  # warm-up: searchers, ranking arrays, templates
        pages(client, "/api/v1/search", 50)
        rounds = max(1, args.requests // 5)
        for path in ("/search", "/api/v1/search"):
            spent = [pages(client, path, rounds) for _ in range(5)]
            print(f"{path}: {statistics.median(spent):.2f} ms per request "
                  f"(median of 5 rounds of {rounds})")
        profile = cProfile.Profile()
        profile.enable()
        pages(client, "/search", args.requests)
        profile.disable()
        app.extensions["tracking"].close()
        stats = pstats.Stats(profile)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
