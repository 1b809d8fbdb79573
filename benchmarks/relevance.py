"""Relevance benchmark: the development set and the held-out set, through the search API.

The development set: the Russian AlchemyInsights corpus and its customer queries from the
shared evaluation folder (`eval/alchemy-dev-queries.tsv`), to tune the search on.

The held-out set (`benchmarks/heldout/`, see its README): queries written for three other
corpora and frozen after their first score, to judge search changes on queries they were
never tuned on: the English troubleshooting corpus `corpora/en-officedocs-support`, the two
small Hugo sites of `corpora/ru-hugo-small` (one site, a category each) and the demo
knowledge base `articles/` of this repository, with out-of-domain queries whose right answer
is "nothing found".

Each corpus is imported into a temporary site with the real importer (the demo knowledge
base, already a site, is copied), its search index is built, and every query is asked
through the JSON API (`GET /api/v1/search?q=...&limit=10`, Flask test client). Printed per
query kind and overall: MRR@10, Recall@5 (an article graded 2 in the top five), nDCG@10 and
the zero-result rate; for the development set also search latency p50/p95 over a warm pass
(the query set is run once untimed first), through the API and in the engine alone; for the
out-of-domain queries the share that found nothing and, beside it, the median result count
(the API's `total`) of the demo knowledge base's short plain queries (2-5 words).

Hits are articles: the API returns one hit per article. A qrels docid is a source file's
path relative to its corpus folder (`AlchemyInsights/x.md` in `ru-alchemyinsights/`,
`Exchange/...` in `en-officedocs-support/`, `letsencrypt/content/...` in `ru-hugo-small/`,
`billing/...` in `articles/`); the import report says which article each became. The
importer skips exact duplicates ("duplicate of <id>"); a qrels entry naming a skipped
duplicate counts as the article that was kept.

    .venv/bin/python benchmarks/relevance.py [--set dev|heldout|all] [--shared ../shared]
                                             [--work DIR] [-v]

`--work DIR` keeps the imported sites and indexes there, so that later runs only refresh them.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import math
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CORPUS = Path("corpora/ru-alchemyinsights/AlchemyInsights")
QUERIES = Path("eval/alchemy-dev-queries.tsv")
QRELS = Path("eval/alchemy-dev-qrels.tsv")
DUPLICATE = re.compile(r"duplicate of (\S+)")

HELDOUT = REPO / "benchmarks" / "heldout"
KB_ARTICLES = REPO / "articles"
OUT_OF_DOMAIN = "out_of_domain"


@dataclass
class HeldoutCorpus:
    """One corpus of the held-out set: where it is and which folders the importer reads."""
    name: str
    title: str
    root: Path | None  # the corpus folder, relative to the shared folder (None: the demo KB)
    sources: tuple[str, ...] = ()  # folders imported, relative to root ("." = root itself)
    queries: Path = field(init=False)
    qrels: Path = field(init=False)

    def __post_init__(self) -> None:
        self.queries = HELDOUT / f"{self.name}-queries.tsv"
        self.qrels = HELDOUT / f"{self.name}-qrels.tsv"


HELDOUT_CORPORA = (
    HeldoutCorpus("officedocs", "en-officedocs-support", Path("corpora/en-officedocs-support"),
                  (".",)),
    HeldoutCorpus("hugo", "ru-hugo-small", Path("corpora/ru-hugo-small"),
                  ("letsencrypt/content", "majordomo-doc/content")),
    HeldoutCorpus("kb", "demo knowledge base (articles/)", None),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", dest="which", choices=("dev", "heldout", "all"), default="all",
                        help="which query set to run (default: all)")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                        help="the shared evaluation folder (default: ../shared beside the repo)")
    parser.add_argument("--work", type=Path, default=None,
                        help="keep the imported sites and indexes in this folder between runs")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="list the queries whose first relevant article is not first")
    args = parser.parse_args(argv)

    shared = args.shared.resolve()
    needed: list[Path] = []
    if args.which in ("dev", "all"):
        needed += [shared / p for p in (CORPUS, QUERIES, QRELS)]
    if args.which in ("heldout", "all"):
        for corpus in HELDOUT_CORPORA:
            needed += [corpus.queries, corpus.qrels]
            needed += ([shared / corpus.root / s for s in corpus.sources] if corpus.root
                       else [KB_ARTICLES])
    missing = [p for p in needed if not p.exists()]
    if missing:
        print("relevance benchmark: missing " + ", ".join(str(p) for p in missing)
              + "; pass --shared PATH to the folder holding corpora/ and eval/.",
              file=sys.stderr)
        return 2

    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
        return run(shared, args.work.resolve(), args.which, args.verbose)
    with tempfile.TemporaryDirectory(prefix="line0-relevance-") as tmp:
        return run(shared, Path(tmp), args.which, args.verbose)


def run(shared: Path, work: Path, which: str, verbose: bool) -> int:
    if which in ("dev", "all"):
        print("=== development set: ru-alchemyinsights, eval/alchemy-dev-queries.tsv")
        run_dev(shared, work, verbose)
    if which in ("heldout", "all"):
        if which == "all":
            print()
        run_heldout(shared, work / "heldout", verbose)
    return 0


# --- the development set -------------------------------------------------------------------

def run_dev(shared: Path, work: Path, verbose: bool) -> None:
    # The site stays at the top of --work, where earlier versions of this script kept it.
    articles_dir, index_dir = work / "articles", work / "index"
    articles_dir.mkdir(exist_ok=True)
    docs = _import(shared / CORPUS.parent, [CORPUS.name], articles_dir)
    _build(articles_dir, index_dir)

    queries = [row[:3] for row in _tsv(shared / QUERIES) if len(row) >= 3]
    qrels = _qrels(shared / QRELS, docs)
    ask, engine_search, how = _searcher(articles_dir, index_dir)
    print(f"queries: {len(queries)} through {how}")
    for _qid, text, _kind in queries:  # warm-up: caches, searcher, vocabulary
        ask(text)

    rows = []
    api_ms, engine_ms = [], []
    for qid, text, kind in queries:
        t0 = time.perf_counter()
        ranked, total, partial = ask(text)
        api_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        engine_search(text)
        engine_ms.append((time.perf_counter() - t0) * 1000)
        rows.append(_Row(qid, text, kind, ranked, total, qrels.get(qid, {}), partial))

    print()
    _table(rows)
    print()
    print(f"latency (warm) through the API: p50 {_pct(api_ms, 50):.1f} ms, "
          f"p95 {_pct(api_ms, 95):.1f} ms; engine alone: p50 {_pct(engine_ms, 50):.1f} ms, "
          f"p95 {_pct(engine_ms, 95):.1f} ms")
    if verbose:
        _misses(rows)


# --- the held-out set ----------------------------------------------------------------------

def run_heldout(shared: Path, work: Path, verbose: bool) -> None:
    print("=== held-out set: benchmarks/heldout (frozen; never tune the search on it)")
    everything: list[_Row] = []
    for corpus in HELDOUT_CORPORA:
        print()
        print(f"--- {corpus.title}")
        site = work / corpus.name
        articles_dir, index_dir = site / "articles", site / "index"
        articles_dir.mkdir(parents=True, exist_ok=True)
        if corpus.root is None:
            docs = _copy_site(KB_ARTICLES, articles_dir)
        else:
            docs = _import(shared / corpus.root, list(corpus.sources), articles_dir)
        _build(articles_dir, index_dir)

        queries = [row[:3] for row in _tsv(corpus.queries) if len(row) >= 3]
        qrels = _qrels(corpus.qrels, docs)
        ask, _engine, how = _searcher(articles_dir, index_dir)
        print(f"queries: {len(queries)} through {how}")
        rows, api_ms = [], []
        for qid, text, kind in queries:
            t0 = time.perf_counter()
            ranked, total, partial = ask(text)
            api_ms.append((time.perf_counter() - t0) * 1000)
            rows.append(_Row(qid, text, kind, ranked, total, qrels.get(qid, {}), partial))
        judged = [r for r in rows if r.kind != OUT_OF_DOMAIN]
        print()
        _table(judged)
        print(f"latency (one pass, not warmed) through the API: p50 {_pct(api_ms, 50):.1f} ms, "
              f"p95 {_pct(api_ms, 95):.1f} ms")
        ood = [r for r in rows if r.kind == OUT_OF_DOMAIN]
        if ood:
            short = [r for r in judged if r.kind == "plain" and 2 <= len(r.text.split()) <= 5]
            found_nothing = sum(1 for r in ood if r.total == 0)
            honest = sum(1 for r in ood if r.total == 0 or r.partial)
            judged_partial = sum(1 for r in judged if r.partial)
            print(f"out of domain: {found_nothing}/{len(ood)} found nothing "
                  f"(share {found_nothing / len(ood):.3f}), {honest}/{len(ood)} nothing or "
                  f"only a partial answer (share {honest / len(ood):.3f}); median result count "
                  f"{statistics.median(r.total for r in ood) if ood else 0:g}")
            print(f"judged queries answered only in part: {judged_partial}/{len(judged)}")
            print(f"short plain queries (2-5 words): {len(short)}, median result count "
                  f"{statistics.median(r.total for r in short) if short else 0:g}")
            if verbose:
                for r in ood:
                    if r.total:
                        print(f"  {r.qid} {r.text!r}: {r.total} results, top={r.ranked[:3]}")
        if verbose:
            _misses(judged)
        everything += judged

    print()
    print("--- held-out set, all three corpora")
    _table(everything)


# --- sites -----------------------------------------------------------------------------

def _import(root: Path, sources: list[str], articles_dir: Path) -> dict[str, str]:
    """Import each of `root`'s folders `sources`; {docid relative to root: article id}."""
    from portal.importer import import_folder

    docs: dict[str, str] = {}
    for folder in sources:
        src = (root / folder).resolve()
        prefix = src.relative_to(root.resolve()).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        started = time.perf_counter()
        report = import_folder(src, articles_dir)
        actions: dict[str, int] = defaultdict(int)
        for entry in report.entries:
            actions[entry.action] += 1
        print(f"import {root.name}/{folder}: {dict(actions)} "
              f"in {time.perf_counter() - started:.1f} s")
        # Which article each source file became; skipped duplicates count as the kept one.
        # `source` is "<the imported folder's name>/<path in it>".
        for entry in report.entries:
            docid = prefix + entry.source.split("/", 1)[1]
            found = DUPLICATE.search(entry.reason or "") if entry.action == "skipped" else None
            if entry.article_id:
                docs[docid] = entry.article_id
            elif found:
                docs[docid] = found.group(1)
    return docs


def _copy_site(src: Path, dest: Path) -> dict[str, str]:
    """Mirror a site folder (unchanged files are left alone); {docid: article id}."""
    wanted = {p.relative_to(src) for p in src.rglob("*") if p.is_file()}
    for rel in sorted(wanted):
        target = dest / rel
        if not target.exists() or not filecmp.cmp(src / rel, target, shallow=False):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / rel, target)
    for path in sorted(dest.rglob("*"), reverse=True):
        if path.is_file() and path.relative_to(dest) not in wanted:
            path.unlink()
    print(f"copy {src}: {len(wanted)} files")
    return {rel.as_posix(): rel.with_suffix("").as_posix()
            for rel in wanted if rel.suffix == ".md" and not rel.name.startswith("_")}


def _build(articles_dir: Path, index_dir: Path) -> None:
    from portal.search import SearchIndex

    started = time.perf_counter()
    build = SearchIndex(index_dir, articles_dir).build()
    print(f"index: {build.summary()} ({time.perf_counter() - started:.1f} s wall)")


def _qrels(path: Path, docs: dict[str, str]) -> dict[str, dict[str, int]]:
    """{qid: {article id: grade}} from a qrels file of docids."""
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    missing = set()
    for qid, _zero, docid, grade in _tsv(path):
        if docid not in docs:
            missing.add(docid)
        article = docs.get(docid, f"missing:{docid}")
        qrels[qid][article] = max(int(grade), qrels[qid].get(article, 0))
    if missing:
        print(f"qrels: {len(missing)} judged files are not articles of the site: "
              + ", ".join(sorted(missing)[:5]) + (" ..." if len(missing) > 5 else ""))
    return qrels


def _searcher(articles_dir: Path, index_dir: Path):
    """How to ask a query: the JSON API through Flask's test client, and the engine alone.

    `ask(text)` returns the ids of the articles found (first page of ten), the total, and
    whether the answer is partial (no article had every informative word).
    """
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

        def ask(text: str) -> tuple[list[str], int, bool]:
            response = client.get("/api/v1/search", query_string={"q": text, "limit": 10})
            if response.status_code != 200:
                raise SystemExit(f"GET /api/v1/search?q={text!r}: HTTP {response.status_code}")
            data = response.get_json()
            return (_unique(hit["id"] for hit in data["hits"]), int(data["total"]),
                    bool(data.get("partial")))

        def engine(text: str):
            return search(index, text, per_page=10)

        return ask, engine, "GET /api/v1/search (Flask test client)"

    index = SearchIndex(index_dir, articles_dir)

    def ask_engine(text: str) -> tuple[list[str], int, bool]:
        results = search(index, text, per_page=10)
        return (_unique(hit.id for hit in results.hits), results.total,
                bool(getattr(results, "partial", False)))

    def engine_only(text: str):
        return search(index, text, per_page=10)

    return ask_engine, engine_only, "portal.search.search (portal.create_app is missing)"


def _unique(ids) -> list[str]:
    ranked: list[str] = []
    for article in ids:
        if article not in ranked:
            ranked.append(article)
    return ranked[:10]


# --- metrics -------------------------------------------------------------------------------

@dataclass
class _Row:
    qid: str
    text: str
    kind: str
    ranked: list[str]
    total: int
    judged: dict[str, int]
    partial: bool = False

    @property
    def metrics(self) -> dict[str, float]:
        return _metrics(self.ranked, self.judged)


def _table(rows: list[_Row]) -> None:
    metrics = [(row.kind, row.metrics) for row in rows]
    kinds = sorted({kind for kind, _ in metrics})
    print(f"{'kind':10} {'n':>3} {'MRR@10':>7} {'R@5':>6} {'nDCG@10':>8} {'zero':>6}")
    for kind in kinds + ["ALL"]:
        chosen = [m for k, m in metrics if kind in ("ALL", k)]
        if not chosen:
            continue
        print(f"{kind:10} {len(chosen):3d} "
              + f"{statistics.mean(m['mrr'] for m in chosen):7.3f} "
              + f"{statistics.mean(m['r5'] for m in chosen):6.3f} "
              + f"{statistics.mean(m['ndcg'] for m in chosen):8.3f} "
              + f"{statistics.mean(m['zero'] for m in chosen):6.3f}")


def _misses(rows: list[_Row]) -> None:
    print()
    for row in rows:
        m = row.metrics
        if m["mrr"] < 1:
            wanted = [a for a, g in row.judged.items() if g == 2]
            print(f"{row.qid} {row.kind:8} rr={m['mrr']:.2f} {row.text!r}\n"
                  f"    top={row.ranked[:3]}\n    want={wanted}")


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
