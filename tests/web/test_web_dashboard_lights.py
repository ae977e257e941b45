"""Suppliers' traffic lights on the dashboard: red for an overdue finding or one in sanction
review, amber for a deadline within 14 days, green when every open finding is on track, grey
when nothing is open; each with an icon and a word (both databases)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from cap.domain.lifecycle import Action
from cap.domain.model import StaffRole
from cap.workflow.dashboard import Light
from tests.conftest import BO, NOW, World
from tests.web.conftest import SARA, Clock
from tests.web.desk_client import Desk
from tests.web.test_web_dashboard import act, another_supplier, section

LIGHTS = "Suppliers' traffic lights"


def lights_world(world: World) -> dict[str, World]:
    """One supplier per light (two greys), by the light it shows on 10 April 2026."""
    late = world  # Nordic IT Supply AB: plan due 7 April
    act(late, late.finding(), Action.NOTIFY, NOW)
    sanction = another_supplier(world, "Fabrik Sanktion AB", "556100-0001")
    ref = sanction.finding()
    act(sanction, ref, Action.NOTIFY, datetime(2026, 3, 23, 9, tzinfo=UTC))
    act(sanction, ref, Action.ESCALATE, datetime(2026, 3, 24, 9, tzinfo=UTC), actor=SARA,
        reason="Child labour confirmed")  # fmt: skip
    soon = another_supplier(world, "Snart Leverans AB", "556100-0002")
    act(soon, soon.finding(), Action.NOTIFY, datetime(2026, 3, 23, 9, tzinfo=UTC))  # 23 April
    calm = another_supplier(world, "Lugn Elektronik AB", "556100-0003")
    calm.finding()  # logged, not yet notified: no deadline
    done = another_supplier(world, "Klar Montering AB", "556100-0004")
    act(done, done.finding(), Action.WITHDRAW, NOW, reason="logged twice")
    idle = another_supplier(world, "Tyst Import AB", "556100-0005")
    return {"late": late, "sanction": sanction, "soon": soon, "calm": calm, "done": done,
            "idle": idle}  # fmt: skip


def figures(page: str) -> dict[str, int]:
    found = re.findall(
        r'<span class="figure">(\d+)</span>\s*<span class="light light-(\w+)">',
        section(page, LIGHTS),
    )
    return {light: int(count) for count, light in found}


def rows(page: str) -> list[tuple[str, str]]:
    """The red and amber suppliers' organisation numbers and lights, in the table's order."""
    return re.findall(
        r'<th scope="row"><a href="/suppliers/([\d-]+)">[^<]*</a></th>\s*'
        r'<td><span class="light light-\w+">([^<]*)</span></td>',
        section(page, LIGHTS),
    )


def test_each_light_with_its_icon_and_word(
    desk_world: World, signed_in: Callable[[str], Desk], clock: Clock
) -> None:
    suppliers = lights_world(desk_world)
    desk = signed_in(BO)

    clock.now = datetime(2026, 4, 10, 8, tzinfo=UTC)  # 23 April is 13 days off
    page = desk.get("/desk").text
    assert figures(page) == {"red": 2, "amber": 1, "green": 1, "grey": 2}
    assert rows(page) == [
        (suppliers["sanction"].org_number, "● Red — sanction review"),  # F before N
        (suppliers["late"].org_number, "● Red — overdue"),
        (suppliers["soon"].org_number, "▲ Amber — due soon"),
    ]
    lights = section(page, LIGHTS)
    assert '<span class="light light-green">✔ Green</span>' in lights
    assert '<span class="light light-grey">○ Grey</span>' in lights
    assert '<a href="/findings?supplier=556100-0002">1 open finding</a>' in lights

    clock.now = datetime(2026, 4, 8, 8, tzinfo=UTC)  # 23 April is 15 days off
    page = desk.get("/desk").text
    assert figures(page) == {"red": 2, "amber": 0, "green": 2, "grey": 2}
    assert [org for org, _ in rows(page)] == [
        suppliers["sanction"].org_number,
        suppliers["late"].org_number,
    ]


def test_the_worst_come_first_and_at_most_twenty(desk_world: World) -> None:
    worst = another_supplier(desk_world, "Ö Sist i Alfabetet AB", "556200-0000")
    for _ in range(2):
        act(worst, worst.finding(), Action.NOTIFY, NOW)
    for i in range(21):
        late = another_supplier(desk_world, f"Leverantör {i:02d} AB", f"556200-{i + 1:04d}")
        act(late, late.finding(), Action.NOTIFY, NOW)
    board = desk_world.workflow.dashboard(
        now=datetime(2026, 4, 10, 8, tzinfo=UTC), user_email=BO, role=StaffRole.VIEWER
    )
    assert [c.count for c in board.lights if c.light is Light.RED] == [22]
    assert len(board.flagged) == 20
    assert board.flagged[0].org_number == "556200-0000" and board.flagged[0].overdue == 2
    assert board.flagged[1].name == "Leverantör 00 AB"
