"""Overdue and due soon on the dashboard: a deadline is overdue from the end of its local day,
due soon when it falls within the next 14 days; the SQL current deadline is the lifecycle's
(both databases)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from cap.domain.lifecycle import Action
from cap.domain.model import StaffRole
from tests.conftest import ANNA, BO, NOW, World
from tests.web.conftest import Clock
from tests.web.desk_client import Desk
from tests.web.test_web_dashboard import act, refs_in, section

#: Notified at NOW, a finding's plan is due on 7 April 2026 (Good Friday and Easter Monday
#: roll the month's 3 April forward); Stockholm is on summer time (UTC+2) by then.
PLAN_DUE = date(2026, 4, 7)
END_OF_PLAN_DAY = datetime(2026, 4, 7, 22, 0, tzinfo=UTC)
OVERDUE = "Overdue now"
SOON = "Due in the next 14 days"


def test_a_deadline_is_overdue_from_the_end_of_its_local_day(
    desk_world: World, signed_in: Callable[[str], Desk], clock: Clock
) -> None:
    ref = desk_world.finding()
    act(desk_world, ref, Action.NOTIFY, NOW)
    desk = signed_in(BO)

    clock.now = END_OF_PLAN_DAY - timedelta(seconds=1)
    page = desk.get("/desk").text
    assert "Nothing is overdue." in section(page, OVERDUE)
    soon = section(page, SOON)
    assert refs_in(soon) == [ref] and '<td class="number">today</td>' in soon

    clock.now = END_OF_PLAN_DAY
    page = desk.get("/desk").text
    overdue = section(page, OVERDUE)
    assert "1 finding is past its deadline." in overdue
    assert '<a href="/findings?overdue=1">All overdue findings</a>' in overdue
    assert refs_in(overdue) == [ref]
    assert "<td>plan due</td>" in overdue and "<td>7 Apr 2026</td>" in overdue
    assert '<td class="number">1</td>' in overdue  # 8 April: one day overdue
    assert "Nordic IT Supply AB" in overdue
    assert refs_in(section(page, SOON)) == []


def test_due_soon_covers_today_and_the_next_14_days(
    desk_world: World, signed_in: Callable[[str], Desk], clock: Clock
) -> None:
    ref = desk_world.finding()
    act(desk_world, ref, Action.NOTIFY, NOW)
    desk = signed_in(ANNA)

    # 23 March, 23:59:59 in Stockholm (winter time, UTC+1): 7 April is 15 days off.
    clock.now = datetime(2026, 3, 23, 22, 59, 59, tzinfo=UTC)
    soon = section(desk.get("/desk").text, SOON)
    assert "No deadline falls in the next 14 days." in soon and refs_in(soon) == []

    clock.now = datetime(2026, 3, 23, 23, 0, tzinfo=UTC)  # 24 March: 14 days off
    soon = section(desk.get("/desk").text, SOON)
    assert "1 finding has a deadline by 7 Apr 2026." in soon
    assert '<a href="/findings?due_before=2026-04-07">All findings due by 7 Apr 2026</a>' in soon
    assert refs_in(soon) == [ref] and '<td class="number">14</td>' in soon


def test_the_lists_show_the_most_pressing_first(desk_world: World) -> None:
    early, late, soonest, later = (desk_world.finding() for _ in range(4))
    act(desk_world, late, Action.NOTIFY, NOW)  # plan due 7 April
    act(desk_world, early, Action.NOTIFY, datetime(2026, 2, 27, 9, tzinfo=UTC))  # 27 March
    act(desk_world, later, Action.NOTIFY, datetime(2026, 3, 23, 9, tzinfo=UTC))  # 23 April
    act(desk_world, soonest, Action.NOTIFY, datetime(2026, 3, 20, 9, tzinfo=UTC))  # 20 April
    board = desk_world.workflow.dashboard(
        now=datetime(2026, 4, 10, 8, tzinfo=UTC), user_email=BO, role=StaffRole.VIEWER
    )
    assert [i.ref for i in board.overdue_items] == [early, late]
    assert [i.days for i in board.overdue_items] == [14, 3]
    assert [i.ref for i in board.due_soon_items] == [soonest, later]
    assert [i.days for i in board.due_soon_items] == [10, 13]
    assert (board.overdue, board.due_soon) == (2, 2)
