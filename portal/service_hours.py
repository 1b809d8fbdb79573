"""Business hours: when the support team works, and when a customer can expect an answer.

Opening hours are wall-clock times in the team's time zone; durations ("60 business
minutes") are real elapsed minutes inside open periods, so a day with a DST change has one
hour more or less of it. Every datetime this module returns is timezone-aware, in the
calendar's zone (`ServiceCalendar.zone`); convert with `.astimezone(datetime.UTC)` to store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Literal
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

from flask import Flask
from flask import current_app

DAY = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = {name: number for number, name in enumerate(WEEKDAYS)}
_DAY_NAMES.update({name: number for number, name in enumerate(
    ("пн", "вт", "ср", "чт", "пт", "сб", "вс"))})
_DAY_NAMES.update({name: number for number, name in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))})
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
#: One group of SUPPORT_HOURS: days, then an interval ("mon-fri 09:00-18:00").
_GROUP = re.compile(r"(?P<days>.*?\S)\s+(?P<hours>[\d:.]+\s*-\s*[\d:.]+)")
#: Beyond this, a calendar that never opens is a bug rather than a long wait.
_SEARCH_DAYS = 3 * 366

#: Opening and closing as minutes after local midnight; closing may be 24:00 (1440).
Interval = tuple[int, int]


@dataclasses.dataclass(frozen=True)
class ServiceCalendar:
    """When the support team works: weekly hours, a time zone, holidays, moved working days."""

    zone: ZoneInfo
    #: Weekday (Monday 0) to its one open interval; a weekday not listed is closed.
    hours: Mapping[int, Interval]
    #: Dates off, even on a working weekday.
    holidays: frozenset[dt.date] = frozenset()
    #: Dates that work although their weekday does not (or with other hours), to their hours.
    working_days: Mapping[dt.date, Interval] = dataclasses.field(default_factory=dict)
    #: Priority to business minutes until the first answer.
    answer_targets: Mapping[str, int] = dataclasses.field(default_factory=dict)
    #: "24/7": open every minute, holidays do not apply.
    always_open: bool = False
    #: Support line to priority to business minutes until the team's next response.
    response_targets: Mapping[int, Mapping[str, int]] = dataclasses.field(default_factory=dict)

    @classmethod
    def parse(cls, hours: str, timezone: str = "Europe/Moscow", holidays: object = (),
              working_days: object = (), answer_targets: object = None,
              response_targets: object = None) -> ServiceCalendar:
        """A calendar from the readable settings, e.g. `parse("mon-fri 09:00-18:00")`."""
        zone = parse_zone(timezone)
        always_open, weekly = parse_hours(hours)
        extra = parse_working_days(working_days, _usual_hours(weekly))
        off = frozenset(parse_dates(holidays, "SUPPORT_HOLIDAYS"))
        both = sorted(off & extra.keys())
        if both:
            raise ValueError(f"SUPPORT_HOLIDAYS and SUPPORT_WORKING_DAYS both list "
                             f"{both[0].isoformat()}: keep it in one of them")
        targets = parse_targets(answer_targets if answer_targets is not None
                                else DEFAULT_ANSWER_TARGETS)
        per_line = parse_response_targets(response_targets if response_targets is not None
                                          else DEFAULT_RESPONSE_TARGETS)
        return cls(zone, weekly, off, extra, targets, always_open, per_line)

    @classmethod
    def from_config(cls, config: Mapping) -> ServiceCalendar:
        """The calendar the `SUPPORT_*` and `ANSWER_TARGET_MINUTES` settings describe."""
        return cls.parse(config.get("SUPPORT_HOURS", "mon-fri 09:00-18:00"),
                         config.get("SUPPORT_TIMEZONE", "Europe/Moscow"),
                         config.get("SUPPORT_HOLIDAYS", ()),
                         config.get("SUPPORT_WORKING_DAYS", ()),
                         config.get("ANSWER_TARGET_MINUTES"),
                         config.get("RESPONSE_TARGET_MINUTES"))

    def hours_on(self, day: dt.date) -> Interval | None:
        """The open interval on a local date, or None when the team does not work."""
        if self.always_open:
            return (0, DAY)
        if day in self.working_days:
            return self.working_days[day]
        if day in self.holidays:
            return None
        return self.hours.get(day.weekday())

    def is_open(self, at: dt.datetime) -> bool:
        """Whether the team works at this moment."""
        start, _end = next(self._periods(at))
        return start <= at

    def next_opening(self, at: dt.datetime) -> dt.datetime:
        """`at` itself when open, else the moment the team next starts work."""
        start, _end = next(self._periods(at))
        return self._local(max(start, at))

    def add_business_minutes(self, start: dt.datetime, minutes: int) -> dt.datetime:
        """The moment `minutes` of open time after `start` (nights, weekends, holidays skipped)."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        remaining = dt.timedelta(minutes=minutes)
        for opens, closes in self._periods(start):
            begin = max(opens, start)
            if begin + remaining <= closes:
                return self._local(begin + remaining)
            remaining -= closes - begin
        raise AssertionError("unreachable: _periods never ends")  # pragma: no cover

    def answer_due(self, created_at: dt.datetime, priority: str) -> dt.datetime:
        """When the first answer to a ticket of this priority is due."""
        try:
            minutes = self.answer_targets[priority]
        except KeyError:
            known = ", ".join(sorted(self.answer_targets))
            raise ValueError(f"no answer target for priority {priority!r} "
                             f"(ANSWER_TARGET_MINUTES has {known})") from None
        return self.add_business_minutes(created_at, minutes)

    def response_due(self, since: dt.datetime, line: int, priority: str) -> dt.datetime:
        """When the team on `line` must respond to a ticket waiting since `since`."""
        targets = self.response_targets.get(line) or {}
        minutes = targets.get(priority) or max(targets.values(), default=None)
        if minutes is None:
            raise ValueError(f"RESPONSE_TARGET_MINUTES has no targets for line {line}")
        return self.add_business_minutes(since, minutes)

    def _local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.zone)

    def _periods(self, after: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """Open periods (UTC start, UTC end) that end after `after`, in order."""
        if after.tzinfo is None or after.utcoffset() is None:
            raise ValueError("naive datetime: pass an aware one")
        after = after.astimezone(dt.UTC)
        if self.always_open:
            yield after, after + dt.timedelta(days=_SEARCH_DAYS)
            return
        day = after.astimezone(self.zone).date()
        for _ in range(_SEARCH_DAYS):
            interval = self.hours_on(day)
            if interval:
                opens, closes = (self._moment(day, minute) for minute in interval)
                if closes > after:
                    yield opens, closes
            day += dt.timedelta(days=1)
        raise ValueError(f"the support calendar has no open hours for {_SEARCH_DAYS} days")

    def _moment(self, day: dt.date, minute: int) -> dt.datetime:
        """Local wall-clock `minute` after midnight of `day`, as a UTC moment."""
        day += dt.timedelta(days=minute // DAY)
        clock = dt.time(minute % DAY // 60, minute % 60)
        return dt.datetime.combine(day, clock, tzinfo=self.zone).astimezone(dt.UTC)


#: Business minutes until the first answer, per ticket priority (the default of the
#: `ANSWER_TARGET_MINUTES` setting).
DEFAULT_ANSWER_TARGETS = {"urgent": 60, "high": 240, "normal": 480, "low": 960}
#: Support line to priority to business minutes until the team's next response (the default
#: of the `RESPONSE_TARGET_MINUTES` setting).
DEFAULT_RESPONSE_TARGETS = {
    1: {"urgent": 15, "high": 15, "normal": 15, "low": 15},
    2: {"urgent": 60, "high": 120, "normal": 240, "low": 480},
    3: {"urgent": 120, "high": 480, "normal": 960, "low": 1920},
    4: {"urgent": 240, "high": 960, "normal": 2400, "low": 4800},
}


@dataclasses.dataclass(frozen=True)
class Due:
    """When an answer is due, in words a page can use: "today at 15:30", "tomorrow at 9:30"."""

    when: Literal["past", "today", "tomorrow", "later"]
    #: The due moment in the calendar's zone.
    at: dt.datetime
    #: Real minutes from now until then (0 when past).
    minutes: int


def describe_due(due: dt.datetime, now: dt.datetime, calendar: ServiceCalendar) -> Due:
    """Whether `due` falls today, tomorrow or later, as seen in the calendar's zone."""
    at, here = due.astimezone(calendar.zone), now.astimezone(calendar.zone)
    minutes = max(0, int((due - now).total_seconds() // 60))
    if due <= now:
        return Due("past", at, 0)
    days = (at.date() - here.date()).days
    when = "today" if days == 0 else "tomorrow" if days == 1 else "later"
    return Due(when, at, minutes)


def parse_zone(name: object) -> ZoneInfo:
    """An IANA time zone such as "Europe/Moscow"."""
    try:
        return ZoneInfo(str(name).strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"SUPPORT_TIMEZONE: unknown time zone {name!r} "
                         f"(use a name like 'Europe/Moscow')") from None


def parse_hours(text: object) -> tuple[bool, dict[int, Interval]]:
    """(always open, weekday -> interval) from e.g. "mon-fri 09:00-18:00; sat 10:00-14:00"."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("SUPPORT_HOURS is empty: write e.g. 'mon-fri 09:00-18:00' or '24/7'")
    if text.strip().lower() == "24/7":
        return True, {}
    weekly: dict[int, Interval] = {}
    for group in filter(None, (part.strip() for part in re.split(r"[;\n]", text))):
        match = _GROUP.fullmatch(group)
        if not match:
            raise ValueError(f"SUPPORT_HOURS: {group!r} needs days and hours, "
                             f"like 'mon-fri 09:00-18:00'")
        interval = parse_interval(match["hours"], f"SUPPORT_HOURS: {group!r}")
        for day in parse_days(match["days"], group):
            if day in weekly:
                raise ValueError(f"SUPPORT_HOURS: {WEEKDAYS[day]} is listed twice "
                                 f"(one interval per day)")
            weekly[day] = interval
    return False, weekly


def parse_days(text: str, group: str) -> list[int]:
    """Weekday numbers from "mon-fri", "sat,sun", "fri-mon" (a range may wrap the week)."""
    days: list[int] = []
    text = re.sub(r"\s*-\s*", "-", text)
    for part in filter(None, (p.strip().lower() for p in re.split(r"[,\s]+", text))):
        first, _, last = part.partition("-")
        for name in (first, last) if last else (first,):
            if name not in _DAY_NAMES:
                raise ValueError(f"SUPPORT_HOURS: unknown day {name!r} in {group!r} "
                                 f"(use {', '.join(WEEKDAYS)})")
        start, end = _DAY_NAMES[first], _DAY_NAMES[last or first]
        days.extend((start + step) % 7 for step in range((end - start) % 7 + 1))
    return days


def parse_interval(text: str, where: str) -> Interval:
    """Minutes after midnight from "09:00-18:00"; closing may be "24:00"."""
    opens_text, dash, closes_text = text.strip().partition("-")
    opens, closes = _clock(opens_text), _clock(closes_text)
    if not dash or opens is None or closes is None:
        raise ValueError(f"{where}: hours {text!r} should look like 09:00-18:00")
    if opens >= closes:
        raise ValueError(f"{where}: closing time must be after opening time in {text!r} "
                         f"(no overnight intervals; use 00:00-24:00 for a whole day)")
    return opens, closes


def _clock(text: str) -> int | None:
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2])
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        return None
    return hour * 60 + minute


def _entries(value: object, key: str) -> list[str]:
    """A list of entries from a list or a comma/semicolon-separated string (environment)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,;\n]", value) if part.strip()]
    if isinstance(value, dt.date):
        return [value.isoformat()]
    if isinstance(value, Iterable):
        return [item.isoformat() if isinstance(item, dt.date) else str(item).strip()
                for item in value]
    raise ValueError(f"{key}: expected a list of dates or a comma-separated string, "
                     f"got {value!r}")


def _date(text: str, key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{key}: {text!r} is not a date (write YYYY-MM-DD)") from None


def parse_dates(value: object, key: str) -> list[dt.date]:
    """Dates from "2026-01-01, 2026-01-02" or a list; "2026-01-01..2026-01-08" is a range."""
    dates: list[dt.date] = []
    for entry in _entries(value, key):
        first, dots, last = entry.partition("..")
        start = _date(first.strip(), key)
        end = _date(last.strip(), key) if dots else start
        if end < start:
            raise ValueError(f"{key}: the range {entry!r} ends before it starts")
        dates.extend(start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return dates


def parse_working_days(value: object, usual: Interval | None) -> dict[dt.date, Interval]:
    """Moved working days: "2026-11-07" (usual hours) or "2026-12-31 09:00-17:00"."""
    key = "SUPPORT_WORKING_DAYS"
    days: dict[dt.date, Interval] = {}
    for entry in _entries(value, key):
        date_text, _, interval_text = entry.partition(" ")
        day = _date(date_text, f"{key}: {entry!r}" if interval_text else key)
        if interval_text.strip():
            interval = parse_interval(interval_text, f"{key}: {entry!r}")
        elif usual is None:
            raise ValueError(f"{key}: give hours for {entry!r} (e.g. '{date_text} 09:00-18:00'):"
                             f" SUPPORT_HOURS has no working weekday to copy them from")
        else:
            interval = usual
        days[day] = interval
    return days


def _usual_hours(weekly: Mapping[int, Interval]) -> Interval | None:
    """The hours a moved working day keeps: those of the first working weekday."""
    return weekly[min(weekly)] if weekly else None


def parse_targets(value: object, key: str = "ANSWER_TARGET_MINUTES") -> dict[str, int]:
    """Priority -> business minutes, each a whole number above zero."""
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"{key}: expected priorities with minutes, like "
                         f"{{'urgent': 60, 'normal': 480}}, got {value!r}")
    targets: dict[str, int] = {}
    for priority, minutes in value.items():
        number = minutes if isinstance(minutes, int) and not isinstance(minutes, bool) else (
            int(minutes) if isinstance(minutes, str) and minutes.strip().isdigit() else None)
        if number is None or number <= 0:
            raise ValueError(f"{key}[{priority!r}]: expected a whole number of minutes "
                             f"above zero, got {minutes!r}")
        targets[str(priority)] = number
    return targets


def parse_response_targets(value: object) -> dict[int, dict[str, int]]:
    """Line (1-4) -> priority -> business minutes; a line may give one number for all."""
    key = "RESPONSE_TARGET_MINUTES"
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"{key}: expected lines with minutes per priority, like "
                         f"{{1: {{'normal': 15}}, 2: 240}}, got {value!r}")
    targets: dict[int, dict[str, int]] = {}
    for line, minutes in value.items():
        number = line if isinstance(line, int) and not isinstance(line, bool) else (
            int(line) if isinstance(line, str) and line.strip() in ("1", "2", "3", "4") else 0)
        if number not in (1, 2, 3, 4):
            raise ValueError(f"{key}: lines are 1 to 4, got {line!r}")
        per_priority = minutes if isinstance(minutes, Mapping) else {"normal": minutes}
        targets[number] = parse_targets(per_priority, f"{key}[{line!r}]")
    return targets


def init_app(app: Flask) -> None:
    """Read the calendar once at start-up, so a typo in the settings fails loudly."""
    try:
        app.extensions["service_calendar"] = ServiceCalendar.from_config(app.config)
    except ValueError as error:
        raise ValueError(f"support hours configuration: {error}") from None


def calendar() -> ServiceCalendar:
    """The current app's support calendar."""
    return current_app.extensions["service_calendar"]
