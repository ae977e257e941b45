"""Results become JSON in one place: a dataclass as its fields in order, enums as values,
dates and instants in ISO 8601, amounts as digits, tuples as lists."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, date, datetime
from decimal import Decimal

from cap.domain.model import DeadlineKind, Role, State
from cap.workflow import ContractView, EventView, SweepAction, to_json
from tests.conftest import ANNA, NOW, World


def test_a_result_is_its_fields_in_order_with_dates_and_amounts_as_text() -> None:
    contract = ContractView(
        reference="RS-2019-ICT-01",
        supplier="Nordic IT Supply AB",
        supplier_org_number="556000-1234",
        category="Personal computers",
        manager=ANNA,
        start=date(2019, 5, 1),
        end=None,
        value=Decimal("12500000.00"),
    )
    shown = to_json(contract)
    assert list(shown) == [f.name for f in fields(ContractView)]
    assert shown["start"] == "2019-05-01" and shown["end"] is None
    assert shown["value"] == "12500000.00"


def test_enums_instants_tuples_and_stored_data_inside_a_result() -> None:
    event = EventView(
        at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
        recorded_at=datetime(2026, 3, 3, 9, 0, 1, 500, tzinfo=UTC),
        actor=ANNA,
        kind="notify",
        from_state=State.OPEN,
        to_state=State.AWAITING_PLAN,
        data={"deadlines": [{"deadline": "plan", "new": "2026-04-07"}], "plan_version": 1},
    )
    step = SweepAction(
        ref="NC-2026-0001",
        rule="R-plan-7d",
        deadline=DeadlineKind.PLAN,
        due=date(2026, 4, 7),
        step_due_at=datetime(2026, 3, 31, 7, 0, tzinfo=UTC),
        to=(Role.SUPPLIER, Role.CONTRACT_MANAGER),
        template="plan_reminder",
        level=1,
        outcome="applied",
        action=None,
    )
    assert to_json(event) == {
        "at": "2026-03-03T09:00:00+00:00",
        "recorded_at": "2026-03-03T09:00:01.000500+00:00",
        "actor": ANNA,
        "kind": "notify",
        "from_state": "open",
        "to_state": "awaiting_plan",
        "data": {"deadlines": [{"deadline": "plan", "new": "2026-04-07"}], "plan_version": 1},
    }
    assert to_json([step])[0]["to"] == ["supplier", "contract_manager"]
    assert to_json(step)["deadline"] == "plan" and to_json(step)["due"] == "2026-04-07"


def test_a_finding_as_shown_is_plain_json(world: World) -> None:
    ref = world.finding()
    shown = json.loads(json.dumps(to_json(world.workflow.show_finding(ref, now=NOW))))
    assert (shown["ref"], shown["state"], shown["found_on"]) == (ref, "open", "2026-01-20")
    assert shown["allowed_actions"] == ["notify", "withdraw"]
    assert shown["events"][0]["kind"] == "logged" and shown["plans"] == []
    assert datetime.fromisoformat(shown["created_at"]) == NOW
