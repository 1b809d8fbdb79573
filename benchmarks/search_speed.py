"""Index build time and search latency at ~3,000 and ~10,000 articles, against tantivy.

Run by hand (not a test): `make bench-speed` or
    .venv/bin/python benchmarks/search_speed.py [--shared ../shared] [--sizes 3000 10000]

For each size it imports the real corpora into a temporary site (the Russian self-help
corpus; for the larger size also the English one, then copies with varied wording until
the size is reached), times a full index build, then times the development queries plus
queries made from article titles through the search API (Flask test client, warm), and
the same queries on the same documents through tantivy with pre-stemmed text. It also
times how long one changed article takes to become visible to a running server.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal import create_app  # noqa: E402
from portal.articles import iter_article_files  # noqa: E402
from portal.articles import load_article  # noqa: E402
from portal.importer import import_folder  # noqa: E402
from portal.search import SearchIndex  # noqa: E402
from portal.search import search  # noqa: E402
from portal.search.analysis import terms  # noqa: E402

VARIATIONS = [
    ("Как", "Каким образом"), ("ошибка", "сбой"), ("Outlook", "Outlook 365"),
    ("не удается", "невозможно"), ("пользователь", "сотрудник"), ("the", "this"),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def build_site(shared: Path, target: Path, size: int) -> int:
    """Import corpora into `target`, then add varied copies up to `size` articles."""
    corpora = shared / "corpora"
    import_folder(corpora / "ru-alchemyinsights" / "AlchemyInsights", target, lang="ru",
                  category="ru-insights")
    count = sum(1 for _ in iter_article_files(target))
    if size > count + 500:
        import_folder(corpora / "en-officedocs-support", target, lang="en",
                      category="en-support")
    originals = list(iter_article_files(target))
    rng = random.Random(7)
    copy = 0
    while len(originals) + copy < size:
        source = rng.choice(originals)
        text = source.read_text("utf-8")
        for old, new in rng.sample(VARIATIONS, 3):
            text = text.replace(old, new)
        copy += 1
        out = target / "variants" / f"v{copy // 1000}" / f"{source.stem}-{copy}.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, "utf-8")
    return sum(1 for _ in iter_article_files(target))


def queries(shared: Path, articles: Path, extra: int) -> list[str]:
    """The development queries, plus the first words of random article titles."""
    with open(shared / "eval" / "alchemy-dev-queries.tsv", encoding="utf-8") as handle:
        found = [row[1] for row in csv.reader(handle, delimiter="\t")]
    rng = random.Random(11)
    paths = list(iter_article_files(articles))
    for path in rng.sample(paths, min(extra, len(paths))):
        head = path.read_text("utf-8").split("title:", 1)[-1].splitlines()[0]
        words = head.strip(" '\"").split()
        if len(words) >= 2:
            found.append(" ".join(words[: rng.randint(2, 6)]))
    return found


def time_api(client, texts: list[str]) -> list[float]:
    timings = []
    for text in texts:
        started = time.perf_counter()
        response = client.get("/api/v1/search", query_string={"q": text, "limit": 10})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (text, response.status_code)
    return timings


def as_typed(texts: list[str]) -> list[str]:
    """What a customer's box holds on the way to each query: every prefix of 2+ letters."""
    return [text[:end] for text in texts for end in range(2, len(text) + 1)
            if not text[end - 1].isspace()]


def time_suggest(client, texts: list[str]) -> list[float]:
    timings = []
    for text in texts:
        started = time.perf_counter()
        response = client.get("/api/v1/suggest", query_string={"q": text})
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (text, response.status_code)
    return timings


def tantivy_run(articles: Path, texts: list[str]) -> tuple[float, list[float]]:
    """Build a tantivy index of the same articles (pre-stemmed) and time the same queries."""
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    builder.add_text_field("title", tokenizer_name="default")
    builder.add_text_field("body", tokenizer_name="default")
    schema = builder.build()
    folder = tempfile.mkdtemp(prefix="tantivy-")
    started = time.perf_counter()
    index = tantivy.Index(schema, path=folder)
    writer = index.writer(heap_size=256_000_000, num_threads=2)
    for path in iter_article_files(articles):
        try:
            article = load_article(articles, path)
        except Exception:  # broken files are skipped by both engines
            continue
        writer.add_document(tantivy.Document(
            id=article.id, title=" ".join(terms(article.title)),
            body=" ".join(terms(" ".join([article.summary, " ".join(article.keywords),
                                          article.text])))))
    writer.commit()
    index.reload()
    build_seconds = time.perf_counter() - started
    searcher = index.searcher()
    timings = []
    for text in texts:
        started = time.perf_counter()
        stems = [s for s in terms(text) if s.isalnum()]
        if stems:
            expression = " OR ".join(f"title:{s}^4 OR body:{s}" for s in stems)
            query = index.parse_query(expression, ["title", "body"])
            searcher.search(query, 10)
        timings.append((time.perf_counter() - started) * 1000)
    return build_seconds, timings


def change_visibility(index_dir: Path, articles: Path) -> float:
    """Seconds from saving one changed article to a running server finding it."""
    server = SearchIndex(index_dir, articles, refresh_interval=0.2)
    search(server, "пароль")
    path = next(iter_article_files(articles))
    text = path.read_text("utf-8")
    marker = "квазарфотон"
    started = time.perf_counter()
    path.write_text(text.rstrip() + f"\n\nНовое слово: {marker}.\n", "utf-8")
    SearchIndex(index_dir, articles).build()
    while not search(server, marker).hits:
        if time.perf_counter() - started > 10:
            return float("inf")
        time.sleep(0.01)
    return time.perf_counter() - started


def run(shared: Path, size: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"line0-speed-{size}-"))
    articles = work / "articles"
    articles.mkdir()
    count = build_site(shared, articles, size)
    app = create_app({"ARTICLES_DIR": str(articles), "INDEX_DIR": str(work / "index"),
                      "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "bench",
                      "BUILD_INDEX_ON_START": False})
    index = app.extensions["search_index"]
    started = time.perf_counter()
    report = index.build(clean=True)
    build_seconds = time.perf_counter() - started
    texts = queries(shared, articles, 220)
    client = app.test_client()
    time_api(client, texts)  # warm: postings read once per index generation
    ours = time_api(client, texts)
    typed = as_typed(texts)
    time_suggest(client, typed[:50])  # warm: the suggestion words are read once per generation
    suggestions = time_suggest(client, typed)
    tantivy_build, theirs = tantivy_run(articles, texts)
    visible = change_visibility(work / "index", articles)
    return {
        "size": count, "indexed": len(report.added), "build_s": build_seconds,
        "p50": statistics.median(ours), "p95": percentile(ours, 0.95),
        "t_build_s": tantivy_build, "t_p50": statistics.median(theirs),
        "t_p95": percentile(theirs, 0.95), "visible_s": visible, "queries": len(texts),
        "s_p50": statistics.median(suggestions), "s_p95": percentile(suggestions, 0.95),
        "typed": len(typed),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 10000])
    args = parser.parse_args()
    if not (args.shared / "corpora").is_dir():
        sys.exit(f"{args.shared}/corpora not found: pass --shared PATH (the corpora are not "
                 "part of the repository)")
    print("| articles | full build | search p50 | search p95 | tantivy build | tantivy p50 "
          "| tantivy p95 | p95 ratio | one change visible | suggest p50 | suggest p95 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        r = run(args.shared, size)
        print(f"| {r['size']:,} ({r['indexed']:,} indexed) | {r['build_s']:.1f} s "
              f"| {r['p50']:.1f} ms | {r['p95']:.1f} ms | {r['t_build_s']:.1f} s "
              f"| {r['t_p50']:.2f} ms | {r['t_p95']:.2f} ms | {r['p95'] / r['t_p95']:.0f}× "
              f"| {r['visible_s']:.2f} s | {r['s_p50']:.1f} ms | {r['s_p95']:.1f} ms |",
              flush=True)
    print(f"\n{r['queries']} queries per size (development set + title fragments), "
          f"through GET /api/v1/search, warm; suggestions: {r['typed']} prefixes of them as "
          "typed, through GET /api/v1/suggest.")


if __name__ == "__main__":
    main()
