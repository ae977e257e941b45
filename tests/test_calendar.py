"""Deadline arithmetic. Every expected date below was checked against a printed calendar."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cap.domain.calendar import BusinessCalendar, Period, add_months
from cap.errors import InvalidInput

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SE = BusinessCalendar()
UTC_CAL = BusinessCalendar(timezone="UTC")


def d(iso: str) -> date:
    return date.fromisoformat(iso)


def utc(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=UTC)


def noon(day: str) -> datetime:
    """An instant well inside ``day`` in Stockholm."""
    return datetime.combine(d(day), time(12), tzinfo=STOCKHOLM)


# --- Period -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "text"),
    [
        (Period(months=1), "1 month"),
        (Period(months=6), "6 months"),
        (Period(days=14), "14 days"),
        (Period(days=1), "1 day"),
        (Period(months=1, days=3), "1 month 3 days"),
        (Period(months=2, days=1), "2 months 1 day"),
        (Period(), "0 days"),
    ],
)
def test_it_renders_a_period_in_words(period: Period, text: str) -> None:
    assert str(period) == text


@pytest.mark.parametrize(("months", "days"), [(-1, 0), (0, -1), (-3, -3)])
def test_it_refuses_a_negative_period(months: int, days: int) -> None:
    with pytest.raises(ValueError, match="negative"):
        Period(months=months, days=days)


def test_it_accepts_a_zero_period() -> None:
    assert Period(months=0, days=0) == Period()


# --- add_months --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2026-01-31", 1, "2026-02-28"),  # clamped, common year
        ("2024-01-31", 1, "2024-02-29"),  # clamped, leap year
        ("2026-01-30", 1, "2026-02-28"),
        ("2026-01-28", 1, "2026-02-28"),  # fits, not clamped
        ("2026-01-27", 1, "2026-02-27"),
        ("2026-03-31", 1, "2026-04-30"),
        ("2025-08-31", 6, "2026-02-28"),
        ("2026-08-31", 6, "2027-02-28"),  # over the year end
        ("2026-11-15", 2, "2027-01-15"),
        ("2026-12-31", 12, "2027-12-31"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2026-05-17", 0, "2026-05-17"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-01-15", -1, "2025-12-15"),
    ],
)
def test_it_adds_calendar_months_clamping_to_the_month_end(
    start: str, months: int, expected: str
) -> None:
    assert add_months(d(start), months) == d(expected)


def test_it_refuses_to_add_months_past_year_9999() -> None:
    assert add_months(date(9999, 11, 30), 1) == date(9999, 12, 30)
    with pytest.raises(ValueError):
        add_months(date(9999, 12, 1), 1)


@given(st.dates(date(1900, 1, 1), date(2100, 12, 28)), st.integers(-240, 240))
def test_it_keeps_the_day_of_month_when_it_exists(start: date, months: int) -> None:
    if start.day > 28:
        start = start.replace(day=28)
    result = add_months(start, months)
    assert result.day == start.day
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months


# --- due dates over month ends ------------------------------------------------------------


@pytest.mark.parametrize(
    ("notified", "period", "due"),
    [
        # 28 Feb 2026 is a Saturday, 1 March a Sunday.
        ("2026-01-31", Period(months=1), "2026-03-02"),
        # 29 Feb 2024 is a Thursday.
        ("2024-01-31", Period(months=1), "2024-02-29"),
        ("2025-08-31", Period(months=6), "2026-03-02"),
        # 28 Feb 2027 is a Sunday.
        ("2026-08-31", Period(months=6), "2027-03-01"),
        # Months first, then days: 28 Feb + 3 days = 3 March 2026, a Tuesday.
        ("2026-01-31", Period(months=1, days=3), "2026-03-03"),
        ("2026-03-02", Period(), "2026-03-02"),
    ],
)
def test_it_computes_the_due_date_over_month_ends(notified: str, period: Period, due: str) -> None:
    assert SE.due_date(noon(notified), period) == d(due)


# --- weekends -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "rolled"),
    [
        ("2026-03-06", "2026-03-06"),  # Friday stays
        ("2026-03-07", "2026-03-09"),  # Saturday -> Monday
        ("2026-03-08", "2026-03-09"),  # Sunday -> Monday
        ("2026-03-09", "2026-03-09"),  # Monday stays
    ],
)
def test_it_rolls_weekends_to_monday(day: str, rolled: str) -> None:
    assert SE.roll(d(day)) == d(rolled)


def test_it_names_the_weekend_days() -> None:
    assert SE.closed_reason(d("2026-03-06")) is None
    assert SE.closed_reason(d("2026-03-07")) == "Saturday"
    assert SE.closed_reason(d("2026-03-08")) == "Sunday"
    assert SE.closed_reason(d("2026-03-09")) is None


# --- Swedish public holidays -------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "rolled"),
    [
        ("2026-04-02", "2026-04-02"),  # Maundy Thursday is a working day
        ("2026-04-03", "2026-04-07"),  # Good Friday, Sat, Easter Sunday, Easter Monday
        ("2026-04-06", "2026-04-07"),
        ("2026-04-07", "2026-04-07"),
        ("2026-05-13", "2026-05-13"),
        ("2026-05-14", "2026-05-15"),  # Ascension Day, a Thursday
        ("2026-05-01", "2026-05-04"),  # May Day, a Friday
        ("2026-01-06", "2026-01-07"),  # Epiphany, a Tuesday
        ("2026-06-05", "2026-06-05"),
        ("2026-06-06", "2026-06-08"),  # National Day on a Saturday
        ("2027-06-06", "2027-06-07"),  # National Day on a Sunday
        # National Day on a Friday; Whit Monday 9 June 2025 is no longer a holiday (2005).
        ("2025-06-06", "2025-06-09"),
    ],
)
def test_it_rolls_past_swedish_public_holidays(day: str, rolled: str) -> None:
    assert SE.roll(d(day)) == d(rolled)


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("2026-04-03", "Good Friday"),
        ("2026-04-06", "Easter Monday"),
        ("2026-05-14", "Ascension Day"),
        # The holiday wins over the weekday it falls on.
        ("2026-06-06", "National Day"),
        ("2026-01-01", "New Year's Day"),
        ("2026-12-25", "Christmas Day"),
    ],
)
def test_it_names_the_holiday(day: str, reason: str) -> None:
    assert SE.closed_reason(d(day)) == reason
    assert SE.is_closed(d(day))


# --- the eves of lag 1930:173 ------------------------------------------------------------


def test_it_rolls_midsummer_eve_past_the_weekend() -> None:
    assert SE.is_closed(d("2026-06-18")) is False
    assert SE.closed_reason(d("2026-06-19")) == "Midsummer Eve"
    assert SE.closed_reason(d("2026-06-20")) == "Midsummer Day"
    assert SE.roll(d("2026-06-19")) == d("2026-06-22")


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("2027-06-18", None),  # a Friday, but not between 19 and 25 June
        ("2027-06-24", None),
        ("2027-06-25", "Midsummer Eve"),  # the latest possible date
        ("2026-06-19", "Midsummer Eve"),  # the earliest possible date
        ("2021-06-25", "Midsummer Eve"),
    ],
)
def test_it_finds_midsummer_eve_on_the_friday_between_19_and_25_june(
    day: str, reason: str | None
) -> None:
    assert SE.closed_reason(d(day)) == reason


def test_it_rolls_christmas_eve_past_christmas_and_the_weekend() -> None:
    assert SE.is_closed(d("2026-12-23")) is False
    assert SE.closed_reason(d("2026-12-24")) == "Christmas Eve"
    assert SE.is_closed(d("2026-12-26"))
    assert SE.roll(d("2026-12-24")) == d("2026-12-28")
    # A Wednesday Christmas Eve: 24, 25, 26 Dec, then the weekend.
    assert SE.roll(d("2025-12-24")) == d("2025-12-29")


def test_it_rolls_new_years_eve_into_the_new_year() -> None:
    assert SE.is_closed(d("2026-12-30")) is False
    assert SE.closed_reason(d("2026-12-31")) == "New Year's Eve"
    # 1 Jan 2027 is a Friday holiday, 2-3 Jan a weekend.
    assert SE.roll(d("2026-12-31")) == d("2027-01-04")
    assert SE.due_date(noon("2026-12-17"), Period(days=14)) == d("2027-01-04")


def test_it_knows_sweden_by_its_alpha_3_code_too() -> None:
    assert BusinessCalendar(country="SWE").closed_reason(d("2026-06-19")) == "Midsummer Eve"


# --- local dates ------------------------------------------------------------------------


def test_it_takes_the_local_date_of_the_notification() -> None:
    late = utc("2026-01-31T23:30:00")
    assert SE.local_date(late) == d("2026-02-01")
    assert UTC_CAL.local_date(late) == d("2026-01-31")
    # 1 March 2026 is a Sunday.
    assert SE.due_date(late, Period(months=1)) == d("2026-03-02")


def test_it_gives_a_different_due_date_in_another_time_zone() -> None:
    late = utc("2026-01-31T23:30:00")
    assert SE.due_date(late, Period(days=10)) == d("2026-02-11")
    assert UTC_CAL.due_date(late, Period(days=10)) == d("2026-02-10")


def test_it_changes_the_local_date_exactly_at_local_midnight() -> None:
    assert SE.local_date(utc("2026-01-31T22:59:59.999999")) == d("2026-01-31")
    assert SE.local_date(utc("2026-01-31T23:00:00")) == d("2026-02-01")
    tokyo = timezone(timedelta(hours=9))
    assert SE.local_date(datetime(2026, 2, 1, 7, 59, tzinfo=tokyo)) == d("2026-01-31")
    assert SE.local_date(datetime(2026, 2, 1, 8, 0, tzinfo=tokyo)) == d("2026-02-01")


# --- end of day and daylight saving time -----------------------------------------------


@pytest.mark.parametrize(
    ("day", "end"),
    [
        ("2026-01-15", "2026-01-15T23:00:00"),  # CET
        ("2026-03-28", "2026-03-28T23:00:00"),  # CET; the next midnight is still CET
        ("2026-03-29", "2026-03-29T22:00:00"),  # clocks go forward: a 23-hour day
        ("2026-07-01", "2026-07-01T22:00:00"),  # CEST
        ("2026-10-24", "2026-10-24T22:00:00"),  # CEST
        ("2026-10-25", "2026-10-25T23:00:00"),  # clocks go back: a 25-hour day
    ],
)
def test_it_ends_the_day_at_the_next_stockholm_midnight(day: str, end: str) -> None:
    result = SE.end_of_day(d(day))
    assert result == utc(end)
    assert result.tzinfo is UTC


def test_it_makes_dst_days_23_and_25_hours_long() -> None:
    assert SE.end_of_day(d("2026-03-29")) - SE.end_of_day(d("2026-03-28")) == timedelta(hours=23)
    assert SE.end_of_day(d("2026-10-25")) - SE.end_of_day(d("2026-10-24")) == timedelta(hours=25)
    assert SE.end_of_day(d("2026-10-26")) - SE.end_of_day(d("2026-10-25")) == timedelta(hours=24)


def test_it_ends_the_day_at_utc_midnight_in_utc() -> None:
    assert UTC_CAL.end_of_day(d("2026-03-29")) == utc("2026-03-30T00:00:00")


@pytest.mark.parametrize(
    ("day", "end"),
    [
        # Santiago turns 24:00 into 23:00 on 4 April 2026: the day ends at the second midnight.
        ("2026-04-04", "2026-04-05T04:00:00"),
        ("2026-04-05", "2026-04-06T04:00:00"),
        # ...and skips from 24:00 to 01:00 on 5 September 2026: midnight never shows.
        ("2026-09-05", "2026-09-06T04:00:00"),
        ("2026-09-06", "2026-09-07T03:00:00"),
    ],
)
def test_it_ends_the_day_correctly_where_dst_changes_at_midnight(day: str, end: str) -> None:
    santiago = BusinessCalendar(timezone="America/Santiago", country=None)
    assert santiago.end_of_day(d(day)) == utc(end)
    assert santiago.local_date(utc(end) - timedelta(microseconds=1)) == d(day)
    assert santiago.local_date(utc(end)) == d(day) + timedelta(days=1)


# --- overdue ---------------------------------------------------------------------------


def test_it_is_overdue_from_the_end_of_the_due_day_on() -> None:
    due = d("2026-03-02")
    end = utc("2026-03-02T23:00:00")
    assert SE.is_overdue(due, end - timedelta(microseconds=1)) is False
    assert SE.is_overdue(due, end) is True
    assert SE.is_overdue(due, end + timedelta(seconds=1)) is True


def test_it_is_not_overdue_during_the_last_local_second_of_the_due_day() -> None:
    due = d("2026-07-01")
    assert SE.is_overdue(due, datetime(2026, 7, 1, 23, 59, 59, tzinfo=STOCKHOLM)) is False
    assert SE.is_overdue(due, datetime(2026, 7, 2, 0, 0, 0, tzinfo=STOCKHOLM)) is True
    assert SE.is_overdue(due, datetime(2026, 7, 1, 8, 0, 0, tzinfo=STOCKHOLM)) is False


@settings(deadline=None)
@given(
    st.datetimes(datetime(2000, 1, 1), datetime(2060, 1, 1), timezones=st.just(UTC)),
    st.integers(-3, 3),
    st.sampled_from(["Europe/Stockholm", "America/Santiago", "UTC", "Asia/Kolkata"]),
)
def test_it_is_overdue_exactly_when_the_local_date_is_past_due(
    now: datetime, offset: int, zone: str
) -> None:
    cal = BusinessCalendar(timezone=zone, country=None)
    due = cal.local_date(now) + timedelta(days=offset)
    assert cal.is_overdue(due, now) == (cal.local_date(now) > due)


# --- options ---------------------------------------------------------------------------


def test_it_keeps_a_closed_day_when_rolling_is_off() -> None:
    fixed = BusinessCalendar(roll_forward=False)
    assert fixed.roll(d("2026-03-07")) == d("2026-03-07")
    assert fixed.is_closed(d("2026-03-07"))
    assert fixed.due_date(noon("2026-01-31"), Period(months=1)) == d("2026-02-28")


def test_it_honours_extra_closed_days() -> None:
    closed_friday = BusinessCalendar(extra_closed_days=frozenset({d("2026-03-06")}))
    assert closed_friday.closed_reason(d("2026-03-05")) is None
    assert closed_friday.closed_reason(d("2026-03-06")) == "extra closed day"
    assert closed_friday.roll(d("2026-03-05")) == d("2026-03-05")
    assert closed_friday.roll(d("2026-03-06")) == d("2026-03-09")
    assert SE.roll(d("2026-03-06")) == d("2026-03-06")


def test_it_stays_hashable_when_given_a_plain_set() -> None:
    cal = BusinessCalendar(extra_closed_days={d("2026-03-06")})  # type: ignore[arg-type]
    assert cal.extra_closed_days == frozenset({d("2026-03-06")})
    assert hash(cal) == hash(BusinessCalendar(extra_closed_days=frozenset({d("2026-03-06")})))


def test_it_is_an_immutable_value() -> None:
    assert BusinessCalendar() == SE
    assert hash(BusinessCalendar()) == hash(SE)
    assert len({SE, BusinessCalendar(), UTC_CAL}) == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        SE.roll_forward = False  # type: ignore[misc]


def test_it_only_skips_weekends_without_a_country() -> None:
    weekends = BusinessCalendar(country=None)
    assert weekends.roll(d("2026-04-03")) == d("2026-04-03")  # Good Friday
    assert weekends.roll(d("2026-06-19")) == d("2026-06-19")  # Midsummer Eve
    assert weekends.roll(d("2026-12-24")) == d("2026-12-24")  # Christmas Eve
    assert weekends.roll(d("2026-03-07")) == d("2026-03-09")
    assert weekends.closed_reason(d("2026-12-25")) is None


def test_it_uses_british_holidays_and_no_swedish_eves_for_gb() -> None:
    gb = BusinessCalendar(timezone="Europe/London", country="GB")
    assert gb.is_closed(d("2026-06-19")) is False  # no Midsummer Eve
    assert gb.is_closed(d("2026-12-24")) is False  # no Christmas Eve
    assert gb.is_closed(d("2026-12-31")) is False  # no New Year's Eve
    assert gb.is_closed(d("2026-01-06")) is False  # no Epiphany
    assert gb.closed_reason(d("2026-05-25")) == "Spring Bank Holiday"
    assert gb.roll(d("2026-05-25")) == d("2026-05-26")
    assert SE.roll(d("2026-05-25")) == d("2026-05-25")
    # Boxing Day falls on a Saturday in 2026 and is observed on Monday 28 December.
    assert gb.roll(d("2026-12-25")) == d("2026-12-29")


def test_it_uses_german_holidays_for_de() -> None:
    de = BusinessCalendar(timezone="Europe/Berlin", country="DE")
    assert de.is_closed(d("2025-06-09"))  # Whit Monday
    assert de.roll(d("2025-06-06")) == d("2025-06-06")  # not Swedish National Day
    assert de.is_closed(d("2026-06-19")) is False


# --- errors ----------------------------------------------------------------------------


def test_it_refuses_an_unknown_time_zone_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        BusinessCalendar(timezone="Mars/Base")
    assert str(caught.value) == "calendar.timezone: unknown time zone 'Mars/Base'"


@pytest.mark.parametrize("zone", ["", "../etc/passwd", "/etc/localtime", "localtime", "Europe"])
def test_it_refuses_time_zone_names_that_are_no_zones(zone: str) -> None:
    with pytest.raises(InvalidInput, match=r"^calendar\.timezone: "):
        BusinessCalendar(timezone=zone)


@pytest.mark.parametrize("country", ["XX", "", "se", "Sweden"])
def test_it_refuses_an_unknown_country_naming_the_field(country: str) -> None:
    with pytest.raises(InvalidInput, match=r"^calendar\.country: .*'" + country + "'"):
        BusinessCalendar(country=country)


def test_it_refuses_an_extra_closed_day_that_is_a_datetime() -> None:
    with pytest.raises(InvalidInput, match=r"^calendar\.extra_closed_days: "):
        BusinessCalendar(extra_closed_days=frozenset({datetime(2026, 3, 6, tzinfo=UTC)}))


def test_it_refuses_naive_datetimes() -> None:
    naive = datetime(2026, 3, 2, 12, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        SE.local_date(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        SE.due_date(naive, Period(months=1))
    with pytest.raises(ValueError, match="timezone-aware"):
        SE.is_overdue(d("2026-03-02"), naive)


def test_it_refuses_years_the_holiday_data_does_not_cover() -> None:
    with pytest.raises(ValueError, match="no public holiday data"):
        SE.is_closed(date(9000, 12, 25))
    assert BusinessCalendar(country=None).is_closed(date(9000, 12, 25)) is False


# --- properties ------------------------------------------------------------------------


@settings(deadline=None)
@given(
    st.dates(date(1990, 1, 1), date(2090, 12, 31)),
    st.builds(Period, months=st.integers(0, 24), days=st.integers(0, 400)),
)
def test_it_always_lands_on_an_open_day_shortly_after_the_unrolled_date(
    notified: date, period: Period
) -> None:
    unrolled = add_months(notified, period.months) + timedelta(days=period.days)
    due = SE.due_date(datetime.combine(notified, time(12), tzinfo=STOCKHOLM), period)
    assert not SE.is_closed(due)
    assert unrolled <= due <= unrolled + timedelta(days=10)


@settings(deadline=None)
@given(st.dates(date(1990, 1, 1), date(2090, 12, 31)))
def test_it_rolls_to_the_first_open_day(day: date) -> None:
    rolled = SE.roll(day)
    assert not SE.is_closed(rolled)
    skipped = (rolled - day).days
    assert all(SE.is_closed(day + timedelta(days=n)) for n in range(skipped))


def test_country_codes_are_those_the_holidays_package_lists() -> None:
    """The calendar checks a code against the registry of `holidays` without loading any
    country; it must accept exactly the codes the package's own list has (aliases included),
    each of which then loads, and refuse class names."""
    import holidays

    from cap.domain.calendar import _country_codes, _holiday_class

    listed = set(holidays.list_supported_countries())
    assert _country_codes() == listed
    assert all(_holiday_class(code) is not None for code in listed)
    for name in ("Sweden", "sweden", "se", "Se", "SE ", "MON", "XX", ""):
        assert _holiday_class(name) is None, name
        assert name not in _country_codes()
