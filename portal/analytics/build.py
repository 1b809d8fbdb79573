"""A report of a period: from the rollups when their days are the team's, else raw."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Mapping

from sqlalchemy import text

from ..extensions import db
from ..tracking import verdicts
from .counts import PARTS
from .counts import RAW
from .periods import Period
from .report import Bucket
from .report import Report
from .rolled import ROLLED


def build_report(period: Period, aliases: Mapping[str, str], window: dt.timedelta,
                 now: dt.datetime, parts: Iterable[str] = PARTS,
                 from_raw: bool = False) -> Report:
    """The metrics of `period` (only the `parts` asked for); `aliases` maps old article ids
    to current ones, `window` is how long after reading a ticket undoes a deflection. Read
    from the rollups, unless `from_raw` or they count days of another time zone."""
    report = Report(period, window, [Bucket(first=a, last=b) for a, b in period.spans()])
    edges = period.edges()
    if db.session.get_bind().dialect.name == "postgresql":
        # These scans look costly to the planner, which then compiles them to machine code
        # first: that alone took longer (0.1-0.4 s) than running them.
        db.session.execute(text("SET LOCAL jit = off"))
    sections = RAW if from_raw or not verdicts.rollups_usable(period.zone) else ROLLED
    parts = set(parts)
    for part, count in sections.items():
        if part in parts:
            count(report, edges, aliases, now)
    for bucket in report.buckets:
        report.totals.add(bucket)
    return report
