"""Analytics: the metrics of DESIGN.md over a chosen period, with trends and CSV."""

from __future__ import annotations

import datetime as dt
import re

from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from flask import request
from flask_babel import format_date
from flask_babel import format_decimal
from flask_babel import format_percent
from flask_babel import gettext as _
from markupsafe import Markup

from ... import analytics as metrics
from ...service_hours import calendar
from ...web.knowledge import current_index
from .. import charts
from ..agent import duration
from ..forms import reason_choices
from ..params import int_arg
from . import bp

QUICK_DAYS = (7, 30, 90, 365)
DEFAULT_DAYS = 30
#: Rows of each article table shown on the page (the CSV has them all).
SHOWN_ROWS = 25
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PERIOD_ARGS = ("days", "from", "to")


def _date_arg(name: str) -> dt.date | None:
    """A date parameter (YYYY-MM-DD), or None when absent; anything else is a clear 400."""
    raw = request.args.get(name) or None
    if raw is None:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        abort(400, _("“%(name)s” must be a date like %(example)s.", name=name,
                     example="2026-11-30"))


def _period_error(code: str) -> str:
    return {
        "reversed": _("The period ends before it begins: swap the dates."),
        "too_long": _("A period can be at most %(days)d days long.", days=metrics.MAX_DAYS),
        "future": _("The period cannot end after today."),
        "too_early": _("The period cannot begin before %(year)d.",
                       year=metrics.EARLIEST.year),
    }.get(code, _("This period cannot be shown."))


def _period() -> metrics.Period:
    """The period the parameters ask for: the last `days` days, or `from` to `to`."""
    now, zone = dt.datetime.now(dt.UTC), calendar().zone
    first, last = _date_arg("from"), _date_arg("to")
    if first is None and last is None:
        return metrics.last_days(int_arg("days", DEFAULT_DAYS, 1, metrics.MAX_DAYS), now, zone)
    if request.args.get("days"):
        abort(400, _("Choose either the last days or the dates, not both."))
    if first is None or last is None:
        abort(400, _("Give both the first and the last day of the period."))
    try:
        return metrics.between(first, last, now, zone)
    except metrics.PeriodError as error:
        abort(400, _period_error(str(error)))


def _window() -> dt.timedelta:
    return dt.timedelta(hours=int(current_app.config["DEFLECTION_WINDOW_HOURS"]))


def percent(value: float | None) -> str:
    return "—" if value is None else format_percent(value, "#,##0.0%")


def _axis_percent(value: float) -> str:
    return format_percent(value, "#,##0.#%")


def _axis_decimal(value: float) -> str:
    return format_decimal(value, "#,##0.##")


def decimal(value: float | None) -> str:
    return "—" if value is None else format_decimal(value, "#,##0.0")


def span_label(first: dt.date, last: dt.date, pattern: str = "d MMM yyyy") -> str:
    """A bucket as people read it: one date, or "first – last" for a week."""
    if first == last:
        return format_date(first, pattern)
    return f"{format_date(first, pattern)} – {format_date(last, pattern)}"


#: The charts of the trends: id, the rate on `Counts`, whether it is a share (0-100 %).
_CHARTS = (("zero-results", "zero_result_rate", True), ("click-through", "click_through", True),
           ("self-service", "self_service", False), ("deflection", "deflection", True),
           ("helpfulness", "helpfulness", True), ("compliance", "compliance", True))


def metric_names() -> dict[str, str]:
    return {"zero_result_rate": _("Zero-result rate"), "click_through": _("Search click-through"),
            "self_service": _("Self-service score"), "deflection": _("Deflection"),
            "helpfulness": _("Article helpfulness"),
            "compliance": _("Response-time compliance")}


def _chart(report: metrics.Report, labels: list[str], chart_id: str, rate: str,
           share: bool) -> Markup:
    period = report.period
    values = [getattr(bucket, rate) for bucket in report.buckets]
    fmt = _axis_percent if share else _axis_decimal
    title = metric_names()[rate]
    known = [v for v in values if v is not None]
    span = span_label(period.first, period.last)
    if known and period.step == 1:
        description = _("%(metric)s by day, %(span)s: lowest %(low)s, highest %(high)s. The "
                        "numbers are in the table below.", metric=title, span=span,
                        low=fmt(min(known)), high=fmt(max(known)))
    elif known:
        description = _("%(metric)s by week, %(span)s: lowest %(low)s, highest %(high)s. The "
                        "numbers are in the table below.", metric=title, span=span,
                        low=fmt(min(known)), high=fmt(max(known)))
    else:
        description = _("%(metric)s, %(span)s: no data.", metric=title, span=span)
    return charts.line_chart(f"chart-{chart_id}", title, description, labels, values, fmt,
                             cap=1.0 if share else None, empty=_("No data in this period."))


def reason_labels() -> dict[str, str]:
    labels = {reason: str(label) for reason, label in reason_choices()}
    labels[metrics.NO_REASON] = _("no reason given")
    return labels


@bp.get("/analytics")
def analytics():
    """The metrics of the chosen period with their definitions, trends and tables."""
    period = _period()
    report = metrics.build_report(period, current_index().canonical_ids(), _window(),
                                  dt.datetime.now(dt.UTC))
    labels = [span_label(b.first, b.last, "d MMM") for b in report.buckets]
    return render_template(
        "expert/analytics.html", report=report, period=period,
        charts=[(metric_names()[spec[1]], _chart(report, labels, *spec)) for spec in _CHARTS],
        catalog=current_index().catalog(),
        period_args={k: request.args[k] for k in _PERIOD_ARGS if request.args.get(k)},
        quick_days=QUICK_DAYS, zone=getattr(period.zone, "key", str(period.zone)),
        window_hours=int(report.window.total_seconds() // 3600), shown=SHOWN_ROWS,
        percent=percent, decimal=decimal, span_label=span_label, duration=duration,
        reason_labels=reason_labels(), metric_names=metric_names())


@bp.get("/analytics.csv")
def analytics_csv():
    """One table of the analytics page as a CSV download."""
    name = request.args.get("table", "")
    if name not in metrics.TABLES:
        abort(404, _("There is no such table."))
    period = _period()
    index = current_index()
    titles = {article_id: info.title for article_id, info in index.catalog().items()}
    found = metrics.table(name, period, index.canonical_ids(), _window(),
                          dt.datetime.now(dt.UTC), titles)
    filename = f"analytics-{name}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    # The byte order mark lets spreadsheets open the Cyrillic text as UTF-8.
    return Response("\ufeff" + metrics.csv_text(found), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
