"""The tables of the analytics page as rows and columns, and as CSV downloads."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

from ..feedback import REASONS
from ..spreadsheet import write_csv
from .build import build_report
from .periods import Period
from .report import Counts
from .report import Report


@dataclass
class Table:
    """One table of the page: a header row and the rows under it."""

    name: str
    columns: list[str]
    rows: list[list]


def _rate(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


_METRICS = (
    ("zero_result_rate", "zero_results", "searches"),
    ("click_through", "clicked", "searches"),
    ("self_service_score", "help_sessions", "tickets"),
    ("deflection", "deflected", "read_sessions"),
    ("helpfulness", "helpful", "votes"),
    ("response_compliance", "on_time", "responses"),
)
_RATE_OF = {"zero_result_rate": "zero_result_rate", "click_through": "click_through",
            "self_service_score": "self_service", "deflection": "deflection",
            "helpfulness": "helpfulness", "response_compliance": "compliance"}


def metric_values(counts: Counts) -> list[tuple[str, float | None, int, int]]:
    """(metric, value, numerator, denominator) for each rate of `counts`."""
    return [(name, getattr(counts, _RATE_OF[name]), getattr(counts, part),
             getattr(counts, whole)) for name, part, whole in _METRICS]


def _summary(report: Report, _titles) -> Table:
    rows = [[name, _rate(value), part, whole]
            for name, value, part, whole in metric_values(report.totals)]
    return Table("summary", ["metric", "value", "numerator", "denominator"], rows)


_TREND_COLUMNS = ["searches", "zero_results", "zero_result_rate", "clicked", "click_through",
                  "help_sessions", "tickets", "self_service_score", "read_sessions",
                  "deflected", "deflection", "votes", "helpful", "helpfulness", "responses",
                  "on_time", "response_compliance"]


def _trend(report: Report, _titles) -> Table:
    rows = []
    for bucket in report.buckets:
        rates = {name: _rate(value) for name, value, _p, _w in metric_values(bucket)}
        rows.append([bucket.first.isoformat(), bucket.last.isoformat()]
                    + [rates[c] if c in rates else getattr(bucket, c) for c in _TREND_COLUMNS])
    return Table("trend", ["first_day", "last_day", *_TREND_COLUMNS], rows)


def _reason_names(report: Report) -> list[str]:
    extra = sorted(set(report.reasons) - set(REASONS))
    return [*REASONS, *extra]


def _helpfulness(report: Report, titles: Mapping[str, str]) -> Table:
    reasons = _reason_names(report)
    rows = [[a.article_id, titles.get(a.article_id, ""), a.votes, a.helpful, a.not_helpful,
             _rate(a.helpfulness), *[a.reasons.get(r, 0) for r in reasons]]
            for a in report.articles]
    return Table("helpfulness", ["article", "title", "votes", "helpful", "not_helpful",
                                 "helpfulness", *[f"no_{r}" for r in reasons]], rows)


def _reasons(report: Report, _titles) -> Table:
    return Table("reasons", ["reason", "votes"], [[r, n] for r, n in report.reasons.items()])


def _linked(report: Report, titles: Mapping[str, str]) -> Table:
    rows = [[a.article_id, titles.get(a.article_id, ""), a.links, a.opened, a.opens]
            for a in report.links]
    return Table("linked", ["article", "title", "links", "links_opened", "opens"], rows)


def _resolution_table(report: Report, titles: Mapping[str, str]) -> Table:
    rows = [[a.article_id, titles.get(a.article_id, ""), a.tickets] for a in report.resolutions]
    return Table("resolutions", ["article", "title", "tickets"], rows)


def _response_table(report: Report, _titles) -> Table:
    rows = [[entry.line, entry.responses, entry.on_time, entry.late, _rate(entry.compliance),
             "" if entry.average_wait_s is None else round(entry.average_wait_s / 60, 1)]
            for entry in report.lines]
    return Table("responses", ["line", "responses", "on_time", "late", "compliance",
                               "average_wait_minutes"], rows)


_BUCKET_PARTS = frozenset({"searches", "sessions", "tickets", "deflection", "votes",
                           "responses"})
#: Each downloadable table: the parts of the report it needs, and how it is made.
TABLES: dict[str, tuple[frozenset[str], Callable[[Report, Mapping[str, str]], Table]]] = {
    "summary": (_BUCKET_PARTS, _summary),
    "trend": (_BUCKET_PARTS, _trend),
    "helpfulness": (frozenset({"votes"}), _helpfulness),
    "reasons": (frozenset({"votes"}), _reasons),
    "linked": (frozenset({"links"}), _linked),
    "resolutions": (frozenset({"resolutions"}), _resolution_table),
    "responses": (frozenset({"responses"}), _response_table),
}


def table(name: str, period: Period, aliases: Mapping[str, str], window: dt.timedelta,
          now: dt.datetime, titles: Mapping[str, str]) -> Table:
    """One table of the page, computing only what it needs (KeyError: no such table)."""
    parts, make = TABLES[name]
    return make(build_report(period, aliases, window, now, parts), titles)


def csv_text(found: Table) -> str:
    """The table as CSV, with a header row, safe to open in a spreadsheet."""
    out = io.StringIO()
    write_csv(out, found.columns, found.rows)
    return out.getvalue()
