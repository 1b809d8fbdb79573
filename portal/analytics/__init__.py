"""Analytics: the metrics of DESIGN.md over a period, per day or week, and as CSV tables.

The definitions (the analytics page says them in words):

- **zero-result rate**: searches that found nothing ÷ searches;
- **search click-through**: searches with at least one result opened ÷ searches;
- **self-service score**: help sessions (visits with a search or an article read) ÷ tickets
  created;
- **deflection**: of the visits that read an article, the share whose visitor opened no
  ticket within the window after the first article read; visits whose window is not over
  yet, and that have no ticket, are *pending* and not counted;
- **article helpfulness**: "yes" votes ÷ votes given or changed in the period;
- **most linked articles**: articles agents linked to tickets, and how often customers
  opened those links;
- **resolution articles**: tickets resolved (and still resolved or closed) per article;
- **response-time compliance**: public replies within the line's target ÷ replies that
  answered a waiting customer.

Articles opened from a link in a support reply are no self-service: they count neither as
help sessions nor as reads for deflection. Everything is counted in SQL, per bucket of the
support team's local days (a balanced CASE over the bucket edges, which SQLite and
PostgreSQL both run); only the few visits followed by a ticket are looked at in Python.
Knows no request: the caller passes the period, the article aliases and the window.

The big parts (searches, help sessions, reads for deflection, votes) are read from daily
rollups (`rollups` writes them when a visit is judged, `rolled` reads them), with the
visits still open and the votes not counted yet counted raw; `build_report(...,
from_raw=True)` counts everything from raw events, with the same figures.

The parts: `periods` (the days shown and their buckets), `report` (the counted numbers as
records), `counts` (the SQL that fills them from raw events), `rollups` and `rolled` (the
rollups, written and read), `build` (a report of either) and `tables` (the page's tables
and their CSV).
"""

from __future__ import annotations

from .build import build_report
from .counts import PARTS
from .periods import DAILY_UP_TO_DAYS
from .periods import EARLIEST
from .periods import MAX_DAYS
from .periods import Period
from .periods import PeriodError
from .periods import between
from .periods import last_days
from .periods import local_midnight
from .report import NO_REASON
from .report import ArticleLinks
from .report import ArticleResolutions
from .report import ArticleVotes
from .report import Bucket
from .report import Counts
from .report import LineResponses
from .report import Report
from .tables import TABLES
from .tables import Table
from .tables import csv_text
from .tables import metric_values
from .tables import table

__all__ = [
    "DAILY_UP_TO_DAYS", "EARLIEST", "MAX_DAYS", "NO_REASON", "PARTS", "TABLES",
    "ArticleLinks", "ArticleResolutions", "ArticleVotes", "Bucket", "Counts", "LineResponses",
    "Period", "PeriodError", "Report", "Table", "between", "build_report", "csv_text",
    "last_days", "local_midnight", "metric_values", "table",
]
