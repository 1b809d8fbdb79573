"""What the console benchmarks share: a fresh app on a temporary site, and timing rows."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db


def make_app(articles: Path, work: Path, database: str | None, **config):
    """The portal over `articles`, its index in `work`, with a database at the current
    schema: SQLite in `work`, or `database` (a PostgreSQL URL) emptied first."""
    app = create_app({
        "SECRET_KEY": "bench", "ARTICLES_DIR": str(articles), "INDEX_DIR": str(work / "index"),
        "SQLALCHEMY_DATABASE_URI": database or f"sqlite:///{work / 'bench.sqlite3'}",
        "INDEX_REFRESH_SECONDS": 0, "RATELIMIT_ENABLED": False, "TRACKING_ENABLED": False,
        "SUPPORT_HOURS": "24/7", **config,
    })
    with app.app_context():
        if database:
            db.drop_all()
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        upgrade()
    return app


def timed(client, method: str, url: str, times: int, **kwargs) -> list[float]:
    """Milliseconds of `times` requests; a 4xx or 5xx answer stops the benchmark."""
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        response = client.open(url, method=method, **kwargs)
        spent.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {url}: {response.status_code}")
    return spent


def report(name: str, spent: list[float], width: int = 44) -> None:
    """One row of a Markdown table: p50, p95 and max milliseconds."""
    ordered = sorted(spent)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(f"| {name:<{width}} | {statistics.median(ordered):7.1f} | {p95:7.1f} | "
          f"{ordered[-1]:7.1f} |", flush=True)


def publish(expert, article: str, keyword: str) -> float:
    """In a served portal (`tests.processes.Browser` logged in as an expert): open the
    article's editor, set a keyword, press "Save and publish"; the POST's milliseconds."""
    from tests.editing import read_form

    url = f"/expert/articles/{article}/edit"
    _status, page = expert.get(url)
    form = read_form(page)
    data = {**form.fields, "keywords": keyword, "publish": form.buttons["publish"]}
    started = time.perf_counter()
    status, body, _headers = expert.request(url, data)
    spent = (time.perf_counter() - started) * 1000
    assert status == 303, body[:300]
    return spent
