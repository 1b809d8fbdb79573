"""Small line charts drawn on the server as inline SVG: no script, no inline style (the
pages' CSP forbids both), only presentation attributes and classes styled in portal.css.

Each chart is an image with a title and a description for screen readers; the numbers it
draws are also in a table on the page, so nobody needs the picture to read them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence

from markupsafe import Markup
from markupsafe import escape

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 14, 34
#: At most this many dates under the x axis (the first and the last always).
X_LABELS = 6
TICKS = 4


def nice_top(value: float, cap: float | None = None) -> float:
    """The top of the y axis: `TICKS` steps of 1, 2, 2.5 or 5 times a power of ten, so that
    every grid line has a round value; at most `cap` (then the steps are `cap / TICKS`)."""
    if value <= 0:
        return cap or 1.0
    wanted = value / TICKS
    power = 10 ** math.floor(math.log10(wanted))
    step = next(n * power for n in (1, 2, 2.5, 5, 10) if wanted <= n * power * (1 + 1e-9))
    top = step * TICKS
    return cap if cap is not None and top > cap else top


def _x(position: int, count: int) -> float:
    span = WIDTH - LEFT - RIGHT
    return LEFT + (span / 2 if count == 1 else span * position / (count - 1))


def _y(value: float, top: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / top)


def _grid(top: float, fmt: Callable[[float], str]) -> list[str]:
    parts = []
    for tick in range(TICKS + 1):
        value = top * tick / TICKS
        y = _y(value, top)
        parts.append(f'<line class="chart-grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
                     f'y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart-label" x="{LEFT - 6}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{escape(fmt(value))}</text>')
    return parts


def _x_labels(labels: Sequence[str]) -> list[str]:
    count = len(labels)
    if count == 0:
        return []
    every = max(1, math.ceil((count - 1) / (X_LABELS - 1))) if count > 1 else 1
    shown = sorted(set(range(0, count, every)) | {count - 1})
    if len(shown) > 1 and shown[-1] - shown[-2] < every / 2:
        shown.pop(-2)  # keep the last date apart from its neighbour
    parts = []
    for position in shown:
        anchor = "start" if position == 0 and count > 1 else (
            "end" if position == count - 1 and count > 1 else "middle")
        parts.append(f'<text class="chart-label" x="{_x(position, count):.1f}" '
                     f'y="{HEIGHT - 8}" text-anchor="{anchor}">{escape(labels[position])}</text>')
    return parts


def _runs(values: Sequence[float | None]) -> list[list[int]]:
    """Positions of consecutive known values (a gap in the data breaks the line)."""
    runs, current = [], []
    for position, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(position)
    if current:
        runs.append(current)
    return runs


def _line(labels: Sequence[str], values: Sequence[float | None], top: float,
          fmt: Callable[[float], str]) -> list[str]:
    count = len(values)
    parts = []
    for run in _runs(values):
        points = " ".join(f"{_x(p, count):.1f},{_y(values[p], top):.1f}" for p in run)
        if len(run) > 1:
            parts.append(f'<polyline class="chart-line" points="{points}"/>')
        for p in run:
            parts.append(f'<circle class="chart-point" cx="{_x(p, count):.1f}" '
                         f'cy="{_y(values[p], top):.1f}" r="3"><title>'
                         f'{escape(labels[p])}: {escape(fmt(values[p]))}</title></circle>')
    return parts


def line_chart(chart_id: str, title: str, description: str, labels: Sequence[str],
               values: Sequence[float | None], fmt: Callable[[float], str],
               cap: float | None = None, empty: str = "") -> Markup:
    """An SVG line chart of `values` (None: no data that day) under `labels`; `fmt` writes
    a value for people, `cap` is the highest the axis may go (1.0 for shares)."""
    known = [v for v in values if v is not None]
    top = nice_top(max(known, default=0.0), cap)
    parts = [f'<svg class="chart" id="{escape(chart_id)}" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
             f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
             f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
             f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>']
    parts += _grid(top, fmt)
    parts += _x_labels(labels)
    if known:
        parts += _line(labels, values, top, fmt)
    elif empty:
        parts.append(f'<text class="chart-empty" x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" '
                     f'text-anchor="middle">{escape(empty)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
