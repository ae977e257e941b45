"""Findings opened and closed per month on the dashboard: months in the buyer's time zone, the
current one last; a closing counted once; the chart's bars and the table say the same
(both databases)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime

from cap.domain.lifecycle import Action
from cap.domain.model import StaffRole
from cap.web.dashboard import month_chart
from cap.workflow import EvidenceFile
from cap.workflow.dashboard import MonthFigures, month_starts
from tests.conftest import ANNA, BO, World
from tests.web.conftest import Clock
from tests.web.desk_client import Desk
from tests.web.test_web_dashboard import act, section

MONTHS = "Findings opened and closed per month"
#: Stockholm is on summer time (UTC+2) from 30 March 2025, on winter time (UTC+1) in January.
LAST_OF_MARCH_2025 = datetime(2025, 3, 31, 21, 59, tzinfo=UTC)  # 23:59 local: March
FIRST_OF_APRIL_2025 = datetime(2025, 3, 31, 22, 0, tzinfo=UTC)  # 00:00 local: April
FIRST_OF_FEBRUARY_2026 = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # 00:30 local


def months_world(world: World) -> None:
    early = date(2025, 3, 1)
    world.finding(found_on=early, now=LAST_OF_MARCH_2025)  # before the twelve months
    world.finding(found_on=early, now=FIRST_OF_APRIL_2025)
    world.finding(now=FIRST_OF_FEBRUARY_2026)
    closed = world.finding(now=datetime(2026, 2, 15, 10, tzinfo=UTC))
    world.finding(now=datetime(2026, 3, 2, 10, tzinfo=UTC))
    # Withdrawn at 00:30 on 1 March in Stockholm: a March closing.
    act(world, closed, Action.WITHDRAW, datetime(2026, 2, 28, 23, 30, tzinfo=UTC),
        reason="logged twice")  # fmt: skip
    # A later event of the withdrawn finding is no second closing.
    world.workflow.add_evidence(closed, [EvidenceFile("note.txt", b"duplicate of NC-1")],
                                actor=ANNA, now=datetime(2026, 3, 5, 10, tzinfo=UTC))  # fmt: skip


def test_months_are_local_and_a_closing_counts_once(desk_world: World) -> None:
    months_world(desk_world)
    board = desk_world.workflow.dashboard(
        now=datetime(2026, 3, 10, 10, tzinfo=UTC), user_email=BO, role=StaffRole.VIEWER
    )
    assert [m.month for m in board.months] == month_starts(date(2026, 3, 10))[:-1]
    assert board.months[0].month == date(2025, 4, 1)
    assert board.months[-1].month == date(2026, 3, 1)
    counts = {m.month: (m.opened, m.closed) for m in board.months if m.opened or m.closed}
    assert counts == {
        date(2025, 4, 1): (1, 0),
        date(2026, 2, 1): (2, 0),
        date(2026, 3, 1): (1, 1),
    }


def test_the_bars_and_the_table_say_the_same(
    desk_world: World, signed_in: Callable[[str], Desk], clock: Clock
) -> None:
    months_world(desk_world)
    clock.now = datetime(2026, 3, 10, 10, tzinfo=UTC)
    page = section(signed_in(BO).get("/desk").text, MONTHS)

    table = re.findall(
        r'<th scope="row">([^<]+)</th>\s*<td class="number">(\d+)</td>\s*'
        r'<td class="number">(\d+)</td>',
        page,
    )
    assert [month for month, _, _ in table][:2] == ["Apr 2025", "May 2025"]
    assert table[-1] == ("Mar 2026", "1", "1") and table[-2] == ("Feb 2026", "2", "0")
    assert len(table) == 12

    bars = re.findall(
        r'<rect class="(opened|closed)" x="[\d.]+" y="([\d.]+)" width="\d+" '
        r'height="([\d.]+)" data-value="(\d+)"><title>([^<]+): (\d+) (?:opened|closed)</title>',
        page,
    )
    assert len(bars) == 24
    from_bars: dict[str, dict[str, int]] = {}
    heights: dict[int, float] = {}
    for kind, y, height, value, month, said in bars:
        assert value == said
        from_bars.setdefault(month, {})[kind] = int(value)
        heights.setdefault(int(value), float(height))
        assert heights[int(value)] == float(height)  # one value, one height
        assert float(y) + float(height) == month_chart([]).baseline  # standing on the axis
    assert [(m, str(b["opened"]), str(b["closed"])) for m, b in from_bars.items()] == table
    # In proportion: the tallest bar is the largest number, zero has no height.
    assert heights[0] == 0 and heights[1] * 2 == heights[2] > 0
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in page
    assert '<title id="chart-title">Findings opened and closed per month</title>' in page


def test_a_chart_of_zeros_is_flat() -> None:
    chart = month_chart([MonthFigures(date(2026, m, 1), 0, 0) for m in range(1, 13)])
    assert {bar.height for month in chart.months for bar in month.bars} == {0}
    assert all(0 <= month.label_x <= chart.width for month in chart.months)
