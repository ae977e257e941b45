"""Deadline arithmetic: periods, calendar months, closed days and the instant a day ends.

Pure: nothing here reads the clock, the environment or the database. The caller passes every
instant in, always timezone-aware. Dates are local dates of the calendar's time zone.

The closing rule follows the Swedish act on computing statutory time limits (lag 1930:173):
a deadline that falls on a Saturday, a Sunday, a public holiday, Midsummer Eve, Christmas Eve
or New Year's Eve moves to the next day that is none of those. For other countries the
calendar closes on weekends and that country's public holidays only.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from holidays import HolidayBase
from holidays.registry import EntityLoader

from cap.errors import InvalidInput

_SATURDAY = 5
_FRIDAY = 4
_ONE_DAY = timedelta(days=1)

# Holiday names are for people reading a reason; a fixed language keeps them independent of
# the process locale, which `holidays` would otherwise consult.
_NAME_LANGUAGE = "en_US"

# Years a calendar without holiday data counts in: a date outside is a typo, not a deadline.
_PLAIN_YEARS = (1900, 9998)
# With holiday data, its years, kept a year inside Python's 1-9999: the end of 9999-12-31 and
# an instant of year 1 in a zone east of UTC cannot be represented.
_SAFE_YEARS = (2, 9998)


class OutsideCalendar(InvalidInput, ValueError):
    """A date or instant the calendar cannot count with: no holiday data for its year, or too
    close to the years 1-9999 to move by a period or turn into an instant.

    Also a ValueError: calendar arithmetic raised ValueError for these before it had a class.
    """


@dataclass(frozen=True)
class Period:
    """A time limit such as '1 month' or '14 days'.

    Months are added first (calendar months, clamped to the month's end), then days.
    ``months`` and ``days`` must be >= 0, otherwise ValueError.
    """

    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if self.months < 0 or self.days < 0:
            raise ValueError(f"a period cannot be negative: months={self.months}, days={self.days}")

    def __str__(self) -> str:
        parts: list[str] = []
        if self.months:
            parts.append(_plural(self.months, "month"))
        if self.days or not self.months:
            parts.append(_plural(self.days, "day"))
        return " ".join(parts)


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def add_months(day: date, months: int) -> date:
    """Return ``day`` moved by ``months`` calendar months (negative moves back).

    When the target month is shorter, the result is its last day:
    2026-01-31 + 1 -> 2026-02-28, 2024-01-31 + 1 -> 2024-02-29. ValueError if the result
    falls outside the years 1-9999.
    """
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    if not 1 <= year <= 9999:
        raise OutsideCalendar(f"{day.isoformat()} + {months} months is outside the years 1-9999")
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(day.day, last))


@lru_cache(maxsize=1)
def _country_codes() -> frozenset[str]:
    """The codes `holidays` knows (aliases such as GBR included), from its registry.

    list_supported_countries() gives the same codes but imports every country's module for
    their subdivisions, a tenth of a second on every command that reads the rules; the
    registry's list loads nothing (tests/test_calendar.py checks the two agree)."""
    return frozenset(EntityLoader.get_country_codes(include_aliases=True))


@lru_cache(maxsize=512)
def _holiday_class(country: str) -> type[HolidayBase] | None:
    """The `holidays` class for a country code (loaded now), or None if it is no code."""
    # country_holidays() also accepts class names such as "Sweden"; only codes are codes.
    if country not in _country_codes():
        return None
    try:
        return type(holidays.country_holidays(country))
    except NotImplementedError:
        return None


def _swedish_eves(year: int) -> dict[date, str]:
    june_19 = date(year, 6, 19)
    midsummer_eve = june_19 + timedelta(days=(_FRIDAY - june_19.weekday()) % 7)
    return {
        midsummer_eve: "Midsummer Eve",
        date(year, 12, 24): "Christmas Eve",
        date(year, 12, 31): "New Year's Eve",
    }


@lru_cache(maxsize=1024)
def _closed_days(country: str, year: int) -> Mapping[date, str]:
    """Public holidays (and, for Sweden, the three eves) of ``country`` in ``year``, by date.

    OutsideCalendar when `holidays` has no data for that year: outside its range it silently
    returns no holidays, which would make e.g. Christmas an ordinary working day.
    """
    cls = _holiday_class(country)
    if cls is None:
        raise ValueError(f"unknown country code {country!r}")
    if not cls.start_year <= year <= cls.end_year:
        raise OutsideCalendar(
            f"no public holiday data for {country!r} in {year} "
            f"(covered: {cls.start_year}-{cls.end_year})"
        )
    language = _NAME_LANGUAGE if _NAME_LANGUAGE in cls.supported_languages else cls.default_language
    names: dict[date, str] = dict(cls(years=year, categories=("public",), language=language))
    # The eves are closed by lag 1930:173, not public holidays, so `holidays` leaves them out;
    # computed here because its names for them are localised and not stable to match on.
    if cls.country == "SE":
        for day, name in _swedish_eves(year).items():
            names.setdefault(day, name)
    return MappingProxyType(names)


@dataclass(frozen=True)
class BusinessCalendar:
    """Which days are closed for deadlines, and where a local day begins and ends.

    ``timezone`` is an IANA zone name; ``country`` a country code known to the `holidays`
    package (ISO 3166-1 alpha-2 or alpha-3, upper case) or None for weekends only.
    ``roll_forward`` False disables moving deadlines off closed days. ``extra_closed_days``
    are closed in addition (e.g. a buyer's own closure days).

    Construction raises InvalidInput naming the field for an unknown time zone or country.
    Instances are immutable and hashable. Methods raise ValueError for naive datetimes and
    :class:`OutsideCalendar` for dates outside :meth:`covered_years` (for SE: 1953-2100);
    :meth:`check_covered` says so up front, naming the field.
    """

    timezone: str = "Europe/Stockholm"
    country: str | None = "SE"
    roll_forward: bool = True
    extra_closed_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        # "localtime" is a valid key on most hosts but means whatever the host is set to.
        if self.timezone == "localtime":
            raise InvalidInput(
                "calendar.timezone: 'localtime' depends on the host; "
                "name a zone such as 'Europe/Stockholm'"
            )
        # OSError: Python 3.11 lets IsADirectoryError escape for a key such as 'Europe'.
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
            raise InvalidInput(f"calendar.timezone: unknown time zone {self.timezone!r}") from None
        # The code only: the country's holidays are loaded when a deadline first needs them.
        if self.country is not None and self.country not in _country_codes():
            raise InvalidInput(
                f"calendar.country: unknown country code {self.country!r} "
                "(an upper-case ISO 3166-1 code such as 'SE', or none for weekends only)"
            )
        extra = frozenset(self.extra_closed_days)
        if any(isinstance(d, datetime) or not isinstance(d, date) for d in extra):
            raise InvalidInput("calendar.extra_closed_days: every entry must be a date")
        # A set passed in by mistake would make the instance unhashable.
        object.__setattr__(self, "extra_closed_days", extra)

    @property
    def tz(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.timezone)

    def covered_years(self) -> tuple[int, int]:
        """The first and last year the calendar counts in: the years of the country's holiday
        data (SE: 1953-2100), without a country 1900-9998."""
        if self.country is None:
            return _PLAIN_YEARS
        cls = _holiday_class(self.country)
        assert cls is not None  # checked at construction
        return max(cls.start_year, _SAFE_YEARS[0]), min(cls.end_year, _SAFE_YEARS[1])

    def check_covered(self, value: date | datetime, field: str) -> None:
        """OutsideCalendar naming ``field`` unless ``value`` (a date, or an aware instant's
        local date) falls in :meth:`covered_years`."""
        if isinstance(value, datetime):
            _require_aware(value, field)
            try:
                # UTC first: converting an instant near year 1 or 9999 to the calendar's zone
                # overflows, while one inside the covered years converts safely.
                covered = self._covers(value.astimezone(UTC)) and self._covers(
                    self.local_date(value)
                )
            except OverflowError:
                covered = False
        else:
            covered = self._covers(value)
        if not covered:
            raise self._outside(field, f"{value.isoformat()} is")

    def _covers(self, day: date) -> bool:
        first, last = self.covered_years()
        return first <= day.year <= last

    def _outside(self, field: str, subject: str) -> OutsideCalendar:
        first, last = self.covered_years()
        data = f", the holiday data for {self.country}" if self.country is not None else ""
        return OutsideCalendar(
            f"{field}: {subject} outside the years the calendar covers ({first}-{last}{data})"
        )

    def local_date(self, instant: datetime) -> date:
        """The date ``instant`` falls on in the calendar's time zone. Naive -> ValueError,
        an instant whose local date is not a Python date (year 1 or 9999) -> OutsideCalendar."""
        _require_aware(instant, "instant")
        try:
            return instant.astimezone(self.tz).date()
        except OverflowError:
            raise self._outside("instant", f"{instant.isoformat()} is") from None

    def closed_reason(self, day: date) -> str | None:
        """Why ``day`` is closed, or None if it is open.

        A holiday or eve name wins over the weekday ("National Day" rather than "Saturday"),
        then "Saturday"/"Sunday", then "extra closed day".
        """
        if self.country is not None:
            name = _closed_days(self.country, day.year).get(day)
            if name is not None:
                return name
        weekday = day.weekday()
        if weekday >= _SATURDAY:
            return "Saturday" if weekday == _SATURDAY else "Sunday"
        if day in self.extra_closed_days:
            return "extra closed day"
        return None

    def is_closed(self, day: date) -> bool:
        """True on weekends, public holidays, the Swedish eves (SE only) and extra closed days."""
        return self.closed_reason(day) is not None

    def roll(self, day: date, *, field: str = "date") -> date:
        """The first day on or after ``day`` that is not closed; ``day`` if not roll_forward.

        OutsideCalendar naming ``field`` when ``day``, or the open day after it, lies outside
        :meth:`covered_years` (2100-12-31 is New Year's Eve: for SE it rolls into 2101)."""
        if not self.roll_forward:
            return day
        start = day
        try:
            while self.is_closed(day):
                day += _ONE_DAY
        except OutsideCalendar:
            self.check_covered(start, field)
            reason = self.closed_reason(start)
            raise self._outside(
                field, f"{start.isoformat()} is closed ({reason}) and the next open day is"
            ) from None
        return day

    def roll_back(self, day: date) -> date:
        """The last day on or before ``day`` that is not closed; ``day`` if not roll_forward.

        Reminders use it: a reminder due on a Sunday goes out on the Friday before, while the
        deadline it announces moves forward."""
        if not self.roll_forward:
            return day
        while self.is_closed(day):
            day -= _ONE_DAY
        return day

    def at(self, day: date, clock: time) -> datetime:
        """The UTC instant of local ``day`` at ``clock`` (a time skipped by DST moves later).
        OutsideCalendar where that instant is not a Python datetime (year 1 or 9999)."""
        local = datetime.combine(day, clock, tzinfo=self.tz)
        try:
            return max(local.astimezone(UTC), local.replace(fold=1).astimezone(UTC))
        except OverflowError:
            raise self._outside("day", f"{day.isoformat()} is") from None

    def end_of_day(self, day: date) -> datetime:
        """The UTC instant at which local ``day`` ends: the next local midnight.

        On a day with a DST change this is 23 or 25 hours after it began. Where midnight
        itself is skipped or repeated, it is the instant from which the local date is no
        longer ``day``. OutsideCalendar where that instant is not a Python datetime (the end
        of 9999-12-31, year 1 east of UTC).
        """
        try:
            midnight = datetime.combine(day + _ONE_DAY, time(0), tzinfo=self.tz)
            # fold=0 is right when midnight is skipped, fold=1 when it occurs twice; the later
            # of the two is right in both cases and equal to either otherwise.
            return max(
                midnight.astimezone(UTC),
                midnight.replace(fold=1).astimezone(UTC),
            )
        except OverflowError:
            raise self._outside("day", f"{day.isoformat()} is") from None

    def due_date(self, start: datetime, period: Period, *, field: str = "deadline") -> date:
        """THE one function for deadlines.

        The local date of ``start``, plus ``period.months`` calendar months (clamped to the
        month's end), plus ``period.days`` days, then rolled forward off closed days.
        Naive ``start`` -> ValueError; a deadline outside :meth:`covered_years` ->
        OutsideCalendar naming ``field``.
        """
        begin = self.local_date(start)
        try:
            day: date | None = add_months(begin, period.months) + timedelta(days=period.days)
        except (OutsideCalendar, OverflowError):
            day = None
        if day is None or not self._covers(day):
            landing = day.isoformat() if day is not None else "past the year 9999"
            raise self._outside(field, f"{period} after {begin.isoformat()} is {landing},")
        return self.roll(day, field=field)

    def is_overdue(self, due: date, now: datetime) -> bool:
        """True from the end of the due day on: ``now >= end_of_day(due)``. Naive -> ValueError."""
        _require_aware(now, "now")
        return now >= self.end_of_day(due)


def _require_aware(instant: datetime, name: str) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {instant.isoformat()}")
