"""When a customer can expect an answer: business hours, holidays, moved days, DST."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from portal import create_app
from portal.service_hours import ServiceCalendar
from portal.service_hours import calendar
from portal.service_hours import describe_due

MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = ServiceCalendar.parse("mon-fri 09:00-18:00", "Europe/Moscow")


def moscow(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MOSCOW)


def berlin(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


def test_friday_evening_ticket_is_answered_on_monday_morning():
    due = OFFICE.add_business_minutes(moscow(2026, 11, 13, 17, 30), 60)  # a Friday
    assert due == moscow(2026, 11, 16, 9, 30)
    assert due.tzinfo == MOSCOW


def test_overnight_the_clock_stops_at_closing_time():
    assert OFFICE.add_business_minutes(moscow(2026, 11, 10, 20, 0), 30) == moscow(
        2026, 11, 11, 9, 30)
    assert OFFICE.answer_due(moscow(2026, 11, 10, 14, 0), "normal") == moscow(
        2026, 11, 11, 13, 0)  # 4 hours on Tuesday, 4 on Wednesday


def test_a_ticket_sent_in_utc_is_counted_in_the_team_zone():
    sent = dt.datetime(2026, 11, 13, 14, 30, tzinfo=dt.UTC)  # 17:30 in Moscow
    assert OFFICE.add_business_minutes(sent, 60) == moscow(2026, 11, 16, 9, 30)


def test_new_year_holidays_are_skipped():
    team = ServiceCalendar.parse("mon-fri 10:00-19:00", holidays="2027-01-01..2027-01-08")
    due = team.add_business_minutes(moscow(2026, 12, 31, 18, 0), 120)
    assert due == moscow(2027, 1, 11, 11, 0)  # one hour on Dec 31, one after the holidays
    assert not team.is_open(moscow(2027, 1, 5, 12, 0))
    assert team.next_opening(moscow(2027, 1, 5, 12, 0)) == moscow(2027, 1, 11, 10, 0)


def test_a_ticket_on_a_holiday_waits_for_the_next_working_day():
    team = ServiceCalendar.parse("mon-fri 09:00-18:00", holidays=["2026-11-04"])
    assert team.add_business_minutes(moscow(2026, 11, 4, 11, 0), 60) == moscow(
        2026, 11, 5, 10, 0)


def test_a_moved_working_saturday_works_and_the_day_off_does_not():
    # 2025: Saturday 1 November worked instead of Monday 3 November; 4 November is a holiday.
    team = ServiceCalendar.parse("mon-fri 09:00-18:00", holidays="2025-11-03, 2025-11-04",
                                 working_days="2025-11-01")
    assert team.add_business_minutes(moscow(2025, 10, 31, 17, 30), 60) == moscow(
        2025, 11, 1, 9, 30)
    assert team.add_business_minutes(moscow(2025, 11, 1, 17, 30), 60) == moscow(
        2025, 11, 5, 9, 30)


def test_a_shortened_day_before_a_holiday():
    team = ServiceCalendar.parse("mon-fri 09:00-18:00", working_days=["2026-12-31 09:00-17:00"])
    assert team.add_business_minutes(moscow(2026, 12, 31, 16, 30), 60) == moscow(
        2027, 1, 1, 9, 30)


def test_different_hours_per_weekday():
    team = ServiceCalendar.parse("mon-fri 09:00-18:00; sat 10:00-14:00")
    assert team.add_business_minutes(moscow(2026, 11, 13, 17, 30), 60) == moscow(
        2026, 11, 14, 10, 30)
    assert team.add_business_minutes(moscow(2026, 11, 14, 13, 30), 60) == moscow(
        2026, 11, 16, 9, 30)


def test_always_open():
    team = ServiceCalendar.parse("24/7", holidays=["2027-01-01"])
    new_year = moscow(2027, 1, 1, 3, 0)
    assert team.is_open(new_year) and team.next_opening(new_year) == new_year
    assert team.answer_due(new_year, "urgent") == moscow(2027, 1, 1, 4, 0)


def test_opening_hours_follow_the_wall_clock_across_dst():
    team = ServiceCalendar.parse("mon-fri 09:00-18:00", "Europe/Berlin")
    # Summer time starts on Sunday 29 March 2026: Monday opens at 09:00 CEST, not 10:00.
    due = team.add_business_minutes(berlin(2026, 3, 27, 17, 30), 60)
    assert due == berlin(2026, 3, 30, 9, 30)
    assert due.utcoffset() == dt.timedelta(hours=2)


def test_business_minutes_are_real_minutes_on_a_dst_night():
    team = ServiceCalendar.parse("24/7", "Europe/Berlin")
    # Summer time ends at 03:00 on 25 October 2026: the clock goes back to 02:00.
    due = team.add_business_minutes(berlin(2026, 10, 24, 23, 0), 240)
    assert due.astimezone(dt.UTC) == dt.datetime(2026, 10, 25, 1, 0, tzinfo=dt.UTC)
    assert (due.hour, due.utcoffset()) == (2, dt.timedelta(hours=1))
    long_sunday = ServiceCalendar.parse("sun 00:00-24:00", "Europe/Berlin")
    assert long_sunday.add_business_minutes(berlin(2026, 10, 25, 0, 0), 24 * 60) == berlin(
        2026, 10, 25, 23, 0)  # that Sunday has 25 hours


def test_is_open_and_next_opening():
    assert OFFICE.is_open(moscow(2026, 11, 13, 9, 0))
    assert not OFFICE.is_open(moscow(2026, 11, 13, 18, 0))
    assert OFFICE.next_opening(moscow(2026, 11, 13, 12, 0)) == moscow(2026, 11, 13, 12, 0)
    assert OFFICE.next_opening(moscow(2026, 11, 14, 12, 0)) == moscow(2026, 11, 16, 9, 0)


def test_naive_datetimes_and_unknown_priorities_are_refused():
    with pytest.raises(ValueError, match="naive"):
        OFFICE.add_business_minutes(dt.datetime(2026, 11, 13, 12, 0), 60)
    with pytest.raises(ValueError, match="'someday'.*urgent"):
        OFFICE.answer_due(moscow(2026, 11, 13, 12, 0), "someday")


@pytest.mark.parametrize(("due", "when"), [
    (moscow(2026, 11, 10, 16, 0), "today"),
    (moscow(2026, 11, 11, 9, 30), "tomorrow"),
    (moscow(2026, 11, 16, 9, 30), "later"),
    (moscow(2026, 11, 10, 11, 0), "past"),
])
def test_describe_due(due, when):
    described = describe_due(due.astimezone(dt.UTC), moscow(2026, 11, 10, 12, 0), OFFICE)
    assert described.when == when
    assert described.at == due and described.at.tzinfo == MOSCOW


@pytest.mark.parametrize(("settings", "message"), [
    ({"SUPPORT_HOURS": "mon-fry 09:00-18:00"}, "SUPPORT_HOURS: unknown day 'fry'"),
    ({"SUPPORT_HOURS": "mon-fri 9-18"}, "SUPPORT_HOURS: 'mon-fri 9-18': hours '9-18'"),
    ({"SUPPORT_HOURS": "mon-fri 18:00-09:00"}, "closing time must be after opening time"),
    ({"SUPPORT_HOURS": "mon-fri 09:00-25:00"}, "should look like 09:00-18:00"),
    ({"SUPPORT_HOURS": "mon-fri"}, "'mon-fri' needs days and hours"),
    ({"SUPPORT_HOURS": "mon-fri 09:00-18:00; fri 10:00-12:00"}, "fri is listed twice"),
    ({"SUPPORT_HOURS": ""}, "SUPPORT_HOURS is empty"),
    ({"SUPPORT_TIMEZONE": "Moscow"}, "SUPPORT_TIMEZONE: unknown time zone 'Moscow'"),
    ({"SUPPORT_HOLIDAYS": "2027-01-01, 2027-13-01"}, "SUPPORT_HOLIDAYS: '2027-13-01'"),
    ({"SUPPORT_HOLIDAYS": "2027-01-08..2027-01-01"}, "ends before it starts"),
    ({"SUPPORT_WORKING_DAYS": "1 November"}, "SUPPORT_WORKING_DAYS: '1 November': '1' is not"),
    ({"SUPPORT_WORKING_DAYS": "2025-11-01 9-18"}, "SUPPORT_WORKING_DAYS: '2025-11-01 9-18'"),
    ({"SUPPORT_HOLIDAYS": ["2025-11-01"], "SUPPORT_WORKING_DAYS": ["2025-11-01"]},
     "both list 2025-11-01"),
    ({"ANSWER_TARGET_MINUTES": {"urgent": 0}}, r"ANSWER_TARGET_MINUTES\['urgent'\]"),
    ({"ANSWER_TARGET_MINUTES": {"normal": "soon"}}, "minutes above zero, got 'soon'"),
    ({"ANSWER_TARGET_MINUTES": 60}, "ANSWER_TARGET_MINUTES: expected priorities"),
])
def test_wrong_settings_say_which_key_and_what_is_wrong(settings, message):
    with pytest.raises(ValueError, match=message):
        ServiceCalendar.from_config(settings)


def test_the_app_refuses_to_start_with_a_typo_in_the_hours(tmp_path):
    with pytest.raises(ValueError, match="SUPPORT_HOURS: unknown day 'fry'"):
        create_app({"TESTING": True, "SECRET_KEY": "test",
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
                    "ARTICLES_DIR": str(tmp_path), "INDEX_DIR": str(tmp_path / "index"),
                    "SUPPORT_HOURS": "mon-fry 09:00-18:00"})


def test_the_app_reads_the_calendar_from_the_environment(monkeypatch, make_app, articles_dir):
    monkeypatch.setenv("PORTAL_SUPPORT_HOURS", "mon-fri 10:00-19:00")
    monkeypatch.setenv("PORTAL_SUPPORT_HOLIDAYS", "2027-01-01..2027-01-08,2027-02-23")
    monkeypatch.setenv("PORTAL_ANSWER_TARGET_MINUTES", '{"urgent": 30, "normal": 240}')
    app = make_app(articles_dir)
    with app.app_context():
        team = calendar()
    assert team.holidays >= {dt.date(2027, 1, 4), dt.date(2027, 2, 23)}
    assert team.answer_due(moscow(2027, 2, 22, 18, 45), "urgent") == moscow(2027, 2, 24, 10, 15)
