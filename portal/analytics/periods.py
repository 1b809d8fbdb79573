"""The periods analytics are shown over: whole local days of the team, per day or per week."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: The longest period shown at once (two years and a leap day).
MAX_DAYS = 731
#: Periods longer than this are shown per week rather than per day.
DAILY_UP_TO_DAYS = 92
#: No period starts before this date (older dates are typing mistakes).
EARLIEST = dt.date(2000, 1, 1)


class PeriodError(ValueError):
    """A period that cannot be shown: `reversed`, `too_long`, `future` or `too_early`."""


@dataclass(frozen=True)
class Period:
    """Whole local days from `first` to `last` (both included) in `zone`, in buckets of
    `step` days (1 or 7) counted from `first`."""

    first: dt.date
    last: dt.date
    zone: dt.tzinfo
    step: int

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def since(self) -> dt.datetime:
        return local_midnight(self.first, self.zone)

    @property
    def until(self) -> dt.datetime:
        return local_midnight(self.last + dt.timedelta(days=1), self.zone)

    def spans(self) -> list[tuple[dt.date, dt.date]]:
        """The first and last day of each bucket."""
        starts = range(0, self.days, self.step)
        return [(self.first + dt.timedelta(days=n),
                 min(self.first + dt.timedelta(days=n + self.step - 1), self.last))
                for n in starts]

    def edges(self) -> list[dt.datetime]:
        """The UTC moments where buckets begin, then the end of the period."""
        return ([local_midnight(first, self.zone) for first, _last in self.spans()]
                + [self.until])


def local_midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The moment `day` begins in `zone`, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def between(first: dt.date, last: dt.date, now: dt.datetime, zone: dt.tzinfo) -> Period:
    """The local days from `first` to `last`; a reversed, future or too long range raises
    `PeriodError`."""
    today = now.astimezone(zone).date()
    if first > last:
        raise PeriodError("reversed")
    if first < EARLIEST:
        raise PeriodError("too_early")
    if last > today:
        raise PeriodError("future")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError("too_long")
    step = 1 if (last - first).days + 1 <= DAILY_UP_TO_DAYS else 7
    return Period(first, last, zone, step)


def last_days(days: int, now: dt.datetime, zone: dt.tzinfo) -> Period:
    """Today and the `days - 1` days before it, in the team's time zone."""
    if not 1 <= days <= MAX_DAYS:
        raise PeriodError("too_long")
    today = now.astimezone(zone).date()
    return between(today - dt.timedelta(days=days - 1), today, now, zone)
