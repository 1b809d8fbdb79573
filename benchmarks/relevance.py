"""Relevance benchmark: the Russian AlchemyInsights corpus and its customer queries.

Imports `corpora/ru-alchemyinsights/AlchemyInsights` from the shared evaluation folder into a
temporary site with the real importer, builds the search index, asks every query of
`eval/alchemy-dev-queries.tsv` through the JSON API (`GET /api/v1/search?q=...&limit=10`,
Flask test client) and prints, per query kind and overall: MRR@10, Recall@5 (an article
graded 2 in the top five), nDCG@10 and the zero-result rate, then search latency p50/p95
over a warm pass (the query set is run once untimed first), through the API and in the
engine alone.

Hits are articles: the API returns one hit per article. The importer skips exact
duplicates ("duplicate of <id>"); a qrels entry naming a skipped duplicate counts as the
article that was kept.

    .venv/bin/python benchmarks/relevance.py [--shared ../shared] [--work DIR] [-v]

`--work DIR` keeps the imported site and index there, so that later runs only refresh them.
"""

from __future__ import annotations

import argparse
import csv
import math
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CORPUS = Path("corpora/ru-alchemyinsights/AlchemyInsights")
QUERIES = Path("eval/alchemy-dev-queries.tsv")
QRELS = Path("eval/alchemy-dev-qrels.tsv")
DUPLICATE = re.compile(r"duplicate of (\S+)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                        help="the shared evaluation folder (default: ../shared beside the repo)")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the imported site and index in this folder between runs")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list the queries whose first relevant article is not first")
    args = parser.parse_args(argv)

    shared = args.shared.resolve()
    missing = [p for p in (CORPUS, QUERIES, QRELS) if not (shared / p).exists()]
    if missing:
        print(f"relevance benchmark: the shared evaluation folder {shared} lacks "
              + ", ".join(str(p) for p in missing)
              + "; pass --shared PATH to the folder holding corpora/ and eval/.",
              file=sys.stderr)
        return 2

    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
        return run(shared, args.work.resolve(), args.verbose)
    with tempfile.TemporaryDirectory(prefix="line0-relevance-") as tmp:
        return run(shared, Path(tmp), args.verbose)


def run(shared: Path, work: Path, verbose: bool) -> int:
    from portal.importer import import_folder
    from portal.search import SearchIndex

    articles_dir, index_dir = work / "articles", work / "index"
    articles_dir.mkdir(exist_ok=True)
    started = time.perf_counter()
    report = import_folder(shared / CORPUS, articles_dir)
    actions = defaultdict(int)
    for entry in report.entries:
        actions[entry.action] += 1
    print(f"import: {dict(actions)} in {time.perf_counter() - started:.1f} s")

    # Which article each source file became; skipped duplicates count as the kept article.
    article_of: dict[str, str] = {}
    for entry in report.entries:
        if entry.article_id:
            article_of[entry.source] = entry.article_id
    for entry in report.entries:
        found = DUPLICATE.search(entry.reason or "") if entry.action == "skipped" else None
        if found:
            article_of[entry.source] = found.group(1)

    started = time.perf_counter()
    build = SearchIndex(index_dir, articles_dir).build()
    print(f"index: {build.summary()} ({time.perf_counter() - started:.1f} s wall)")

    queries = [row for row in _tsv(shared / QUERIES) if len(row) >= 3]
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    for qid, _zero, docid, grade in _tsv(shared / QRELS):
        article = article_of.get(docid, f"missing:{docid}")
        qrels[qid][article] = max(int(grade), qrels[qid].get(article, 0))

    ask, engine_search, how = _searcher(articles_dir, index_dir)
    print(f"queries: {len(queries)} through {how}")
    for _qid, text, _kind in queries:  # warm-up: caches, searcher, vocabulary
        ask(text)

    rows = []
    api_ms, engine_ms = [], []
    for qid, text, kind in queries:
        t0 = time.perf_counter()
        hits = ask(text)
        api_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        engine_search(text)
        engine_ms.append((time.perf_counter() - t0) * 1000)
        ranked: list[str] = []
        for source in hits:
            article = article_of.get(source, f"unknown:{source}")
            if article not in ranked:
                ranked.append(article)
        rows.append((qid, text, kind, ranked[:10], qrels.get(qid, {})))

    metrics = [(kind, _metrics(ranked, judged)) for _q, _t, kind, ranked, judged in rows]
    kinds = sorted({kind for kind, _ in metrics})
    print()
    print(f"{'kind':10} {'n':>3} {'MRR@10':>7} {'R@5':>6} {'nDCG@10':>8} {'zero':>6}")
    for kind in kinds + ["ALL"]:
        chosen = [m for k, m in metrics if kind in ("ALL", k)]
        print(f"{kind:10} {len(chosen):3d} "
              + f"{statistics.mean(m['mrr'] for m in chosen):7.3f} "
              + f"{statistics.mean(m['r5'] for m in chosen):6.3f} "
              + f"{statistics.mean(m['ndcg'] for m in chosen):8.3f} "
              + f"{statistics.mean(m['zero'] for m in chosen):6.3f}")
    print()
    print(f"latency (warm) through the API: p50 {_pct(api_ms, 50):.1f} ms, "
          f"p95 {_pct(api_ms, 95):.1f} ms; engine alone: p50 {_pct(engine_ms, 50):.1f} ms, "
          f"p95 {_pct(engine_ms, 95):.1f} ms")

    if verbose:
        print()
        for (qid, text, kind, ranked, judged), (_k, m) in zip(rows, metrics, strict=True):
            if m["mrr"] < 1:
                wanted = [a for a, g in judged.items() if g == 2]
                print(f"{qid} {kind:8} rr={m['mrr']:.2f} {text!r}\n    top={ranked[:3]}"
                      f"\n    want={wanted}")
    return 0


def _searcher(articles_dir: Path, index_dir: Path):
    """How to ask a query: the JSON API through Flask's test client, and the engine alone."""
    from portal.search import SearchIndex
    from portal.search import search

    try:
        from portal import create_app
    except ImportError:
        create_app = None
    if create_app is not None:
        app = create_app({
            "ARTICLES_DIR": str(articles_dir), "INDEX_DIR": str(index_dir),
            "SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True,
            "SECRET_KEY": "relevance-benchmark",
        })
        client = app.test_client()
        index = app.extensions["search_index"]

        def ask(text: str) -> list[str]:
            response = client.get("/api/v1/search", query_string={"q": text, "limit": 10})
            if response.status_code != 200:
                raise SystemExit(f"GET /api/v1/search?q={text!r}: HTTP {response.status_code}")
            return [hit["source"] for hit in response.get_json()["hits"]]

        def engine(text: str):
            return search(index, text, per_page=10)

        return ask, engine, "GET /api/v1/search (Flask test client)"

    index = SearchIndex(index_dir, articles_dir)

    def ask_engine(text: str) -> list[str]:
        return [hit.source for hit in search(index, text, per_page=10).hits]

    def engine_only(text: str):
        return search(index, text, per_page=10)

    return ask_engine, engine_only, "portal.search.search (portal.create_app is missing)"


def _metrics(ranked: list[str], judged: dict[str, int]) -> dict[str, float]:
    """MRR@10, Recall@5 (grade 2 in the top 5), nDCG@10 (graded) and zero results."""
    rr = next((1 / (i + 1) for i, a in enumerate(ranked[:10]) if judged.get(a, 0) >= 1), 0.0)
    r5 = float(any(judged.get(a, 0) == 2 for a in ranked[:5]))
    dcg = sum((2 ** judged.get(a, 0) - 1) / math.log2(i + 2) for i, a in enumerate(ranked[:10]))
    ideal = sorted(judged.values(), reverse=True)[:10]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return {"mrr": rr, "r5": r5, "ndcg": dcg / idcg if idcg else 0.0,
            "zero": float(not ranked)}


def _pct(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))] if ordered else 0.0


def _tsv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.reader(handle, delimiter="\t") if row]


if __name__ == "__main__":
    raise SystemExit(main())
