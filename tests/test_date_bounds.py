"""The dates cap counts with are bounded by what its calendar covers, and said so in one line.

The calendar covers the years of its holiday data (SE: 1953-2100), or 1900-9998 without a
country; a date typed for a new deadline lies at most 3 years after the action. Outside, the
error names the field; inside, nothing changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from cap.domain.calendar import BusinessCalendar, OutsideCalendar, Period, add_months
from cap.domain.lifecycle import Action, ActionRequest, Change, DeadlinePolicy, perform
from cap.domain.model import Area, Case, Severity, State
from cap.errors import InvalidInput
from tests.conftest import ANNA, NOW, World

SE = BusinessCalendar()
PLAIN = BusinessCalendar(country=None)
POLICY = DeadlinePolicy()
SE_RANGE = "outside the years the calendar covers (1953-2100, the holiday data for SE)"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- the calendar ----------------------------------------------------------------------------


def test_it_covers_the_years_of_its_holiday_data_or_a_plain_range() -> None:
    assert SE.covered_years() == (1953, 2100)
    assert PLAIN.covered_years() == (1900, 9998)


@pytest.mark.parametrize(
    ("calendar", "inside", "outside"),
    [
        (SE, date(2100, 12, 31), date(2101, 1, 1)),
        (SE, date(1953, 1, 1), date(1952, 12, 31)),
        (PLAIN, date(9998, 12, 31), date(9999, 1, 1)),
        (PLAIN, date(1900, 1, 1), date(1899, 12, 31)),
    ],
)
def test_it_checks_a_date_on_both_sides_of_each_bound(
    calendar: BusinessCalendar, inside: date, outside: date
) -> None:
    calendar.check_covered(inside, "until")
    with pytest.raises(OutsideCalendar) as refused:
        calendar.check_covered(outside, "until")
    assert str(refused.value).startswith(f"until: {outside.isoformat()} is outside the years")


def test_it_checks_an_instant_by_its_local_date() -> None:
    # 23:00 UTC on New Year's Eve 2100 is already 2101 in Stockholm.
    SE.check_covered(utc(2100, 12, 31, 22, 59, 59), "now")
    with pytest.raises(OutsideCalendar) as refused:
        SE.check_covered(utc(2100, 12, 31, 23, 0), "now")
    assert str(refused.value) == f"now: 2100-12-31T23:00:00+00:00 is {SE_RANGE}"


@pytest.mark.parametrize(
    "instant",
    [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=1))),
    ],
)
def test_an_instant_at_the_edge_of_python_dates_is_refused_not_overflowed(
    instant: datetime,
) -> None:
    for calendar in (SE, PLAIN):
        with pytest.raises(OutsideCalendar, match=r"^now: .* is outside the years"):
            calendar.check_covered(instant, "now")
    with pytest.raises(OutsideCalendar):
        SE.local_date(instant)


def test_arithmetic_at_the_edge_of_python_dates_is_refused_not_overflowed() -> None:
    with pytest.raises(OutsideCalendar, match="9999-12-31"):
        PLAIN.end_of_day(date(9999, 12, 31))
    assert PLAIN.end_of_day(date(9999, 12, 30)) == utc(9999, 12, 30, 23, 0)
    with pytest.raises(OutsideCalendar, match="0001-01-01"):
        PLAIN.at(date(1, 1, 1), time(0, 30))
    # Stockholm kept local mean time then (+01:12:12): half past midnight is the day before.
    assert PLAIN.at(date(1, 1, 2), time(0, 30)).date() == date(1, 1, 1)
    assert add_months(date(9999, 11, 30), 1) == date(9999, 12, 30)
    with pytest.raises(OutsideCalendar, match="outside the years 1-9999"):
        add_months(date(9999, 12, 1), 1)


def test_outside_the_calendar_is_bad_input_and_still_a_value_error() -> None:
    with pytest.raises(OutsideCalendar) as refused:
        SE.is_closed(date(2101, 12, 25))
    assert isinstance(refused.value, InvalidInput)
    assert isinstance(refused.value, ValueError)
    assert refused.value.exit_code == 2


def test_a_deadline_past_the_calendar_names_the_deadline() -> None:
    # 1 June 2100 + 6 months: Wednesday 1 December 2100.
    assert SE.due_date(utc(2100, 6, 1, 9), Period(months=6)) == date(2100, 12, 1)
    with pytest.raises(OutsideCalendar) as refused:
        SE.due_date(utc(2100, 7, 1, 9), Period(months=6), field="remediation_due")
    assert str(refused.value) == (
        f"remediation_due: 6 months after 2100-07-01 is 2101-01-01, {SE_RANGE}"
    )
    with pytest.raises(OutsideCalendar, match=r"^deadline: 1 day after 9998-12-31 is 9999-01-01"):
        PLAIN.due_date(utc(9998, 12, 31, 9), Period(days=1))


def test_a_closed_day_that_rolls_past_the_calendar_says_so() -> None:
    # Thursday 30 December 2100 is open; Friday 31 December is New Year's Eve.
    assert SE.roll(date(2100, 12, 30)) == date(2100, 12, 30)
    with pytest.raises(OutsideCalendar) as refused:
        SE.roll(date(2100, 12, 31), field="until")
    assert str(refused.value) == (
        f"until: 2100-12-31 is closed (New Year's Eve) and the next open day is {SE_RANGE}"
    )


# -- the lifecycle ---------------------------------------------------------------------------


def notified(at: datetime) -> Case:
    case = Case(state=State.OPEN, severity=Severity.MAJOR, area=Area.WAGES)
    return act(case, Action.NOTIFY, at).case


def act(case: Case, action: Action, at: datetime, **kwargs: object) -> Change:
    request = ActionRequest(action=action, actor=ANNA, at=at, **kwargs)  # type: ignore[arg-type]
    return perform(case, request, now=at, calendar=SE, policy=POLICY)


def test_an_action_outside_the_calendar_is_refused() -> None:
    assert notified(utc(1953, 1, 2, 9)).remediation_due == date(1953, 7, 2)
    with pytest.raises(OutsideCalendar, match=r"^at: 1952-12-31T09:00:00\+00:00 is outside"):
        notified(utc(1952, 12, 31, 9))


def test_a_computed_deadline_outside_the_calendar_is_refused_naming_it() -> None:
    assert notified(utc(2100, 6, 1, 9)).remediation_due == date(2100, 12, 1)
    with pytest.raises(OutsideCalendar) as refused:
        notified(utc(2100, 12, 1, 9))
    # The plan is due a month later, on 1 January 2101.
    assert str(refused.value) == f"plan_due: 1 month after 2100-12-01 is 2101-01-01, {SE_RANGE}"


def test_an_until_outside_the_calendar_is_refused() -> None:
    case = notified(utc(2100, 6, 1, 9))
    at = utc(2100, 6, 2, 9)
    change = act(case, Action.EXTEND, at, until=date(2100, 12, 30), reason="Audit delayed")
    assert change.case.plan_due == date(2100, 12, 30)
    with pytest.raises(OutsideCalendar) as refused:
        act(case, Action.EXTEND, at, until=date(2101, 1, 3), reason="Audit delayed")
    assert str(refused.value) == f"until: 2101-01-03 is {SE_RANGE}"
    with pytest.raises(OutsideCalendar, match=r"^until: 2100-12-31 is closed \(New Year's Eve\)"):
        act(case, Action.EXTEND, at, until=date(2100, 12, 31), reason="Audit delayed")


@pytest.mark.parametrize("action", [Action.EXTEND, Action.REJECT_PLAN])
def test_an_until_more_than_three_years_away_is_refused(action: Action) -> None:
    at = utc(2026, 3, 3, 9)
    case = notified(at)
    if action is Action.REJECT_PLAN:
        case = act(case, Action.SUBMIT_PLAN, at).case
    # Three years after Tuesday 3 March 2026: Saturday 3 March 2029, rolled to Monday 5 March.
    change = act(case, action, at, until=date(2029, 3, 3), reason="Needs a new line")
    assert change.case.plan_due == date(2029, 3, 5)
    with pytest.raises(InvalidInput) as refused:
        act(case, action, at, until=date(2029, 3, 4), reason="Needs a new line")
    assert str(refused.value) == (
        "until: 2029-03-04 is more than 3 years away; give a date up to 2029-03-03 "
        "(3 years after the action)"
    )


def test_three_years_are_counted_from_the_local_date_of_the_action() -> None:
    # 23:30 UTC on 2 March is 3 March in Stockholm: the limit is 3 March 2029 (a Saturday,
    # accepted and rolled to Monday 5 March).
    at = utc(2026, 3, 2, 23, 30)
    case = notified(at)
    change = act(case, Action.EXTEND, at, until=date(2029, 3, 3), reason="Needs a new line")
    assert change.case.plan_due == date(2029, 3, 5)
    with pytest.raises(InvalidInput, match=r"^until: 2029-03-04 is more than 3 years away"):
        act(case, Action.EXTEND, at, until=date(2029, 3, 4), reason="Needs a new line")


# -- through the workflow --------------------------------------------------------------------


def test_the_workflow_refuses_an_until_out_of_bounds_and_changes_nothing(world: World) -> None:
    wf = world.workflow
    ref = world.finding()
    wf.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    before = wf.show_finding(ref, now=NOW)
    limit = add_months(NOW.date(), 36)  # 3 March 2029

    for until, message in [
        (limit + timedelta(days=1), "until: 2029-03-04 is more than 3 years away"),
        (date(2101, 1, 3), f"until: 2101-01-03 is {SE_RANGE}"),
    ]:
        request = ActionRequest(Action.EXTEND, ANNA, NOW, reason="Line rebuilt", until=until)
        with pytest.raises(InvalidInput) as refused:
            wf.act(ref, request, now=NOW)
        assert str(refused.value).startswith(message)
        after = wf.show_finding(ref, now=NOW)
        assert (after.version, after.plan_due) == (before.version, before.plan_due)

    request = ActionRequest(Action.EXTEND, ANNA, NOW, reason="Line rebuilt", until=limit)
    wf.act(ref, request, now=NOW)
    after = wf.show_finding(ref, now=NOW)
    assert after.version == before.version + 1
    assert str(after.plan_due) == "2029-03-05"  # Saturday 3 March rolled to Monday
