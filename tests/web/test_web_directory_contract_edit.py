"""Changing a contract on the desk: its category, contract manager, dates and value; its
reference, supplier and findings stay; bad input changes nothing (both databases)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from cap.workflow import ContractView, Workflow
from tests.conftest import ANNA, BO, NOW, World
from tests.web.conftest import ADA, SARA
from tests.web.desk_client import Desk

SignIn = Callable[[str], Desk]
EDIT = "/contracts/RS-2019-ICT-01/edit"
FORM = {
    "category": "Personal computers and monitors",
    "manager": "eva.ek@region.example",
    "start": "2019-05-01",
    "end": "2026-04-30",
    "value": "9800000.50",
}


def contract(workflow: Workflow) -> ContractView:
    (found,) = [c for c in workflow.list_contracts() if c.reference == "RS-2019-ICT-01"]
    return found


@pytest.mark.parametrize("who", [ANNA, ADA])
def test_the_category_manager_dates_and_value_change_and_the_findings_stay(
    desk_world: World, signed_in: SignIn, who: str
) -> None:
    ref = desk_world.finding()
    desk = signed_in(who)
    form = desk.get(EDIT)
    assert form.status_code == 200
    assert 'id="start" name="start" type="date" value="2019-05-01"' in form.text
    assert 'name="reference"' not in form.text and 'name="supplier"' not in form.text

    saved = desk.submit(EDIT, FORM, page=EDIT)
    assert saved.status_code == 303 and saved.headers["location"] == "/contracts/RS-2019-ICT-01"
    changed = contract(desk_world.workflow)
    assert (changed.category, changed.manager) == (FORM["category"], FORM["manager"])
    assert (changed.start, changed.end) == (date(2019, 5, 1), date(2026, 4, 30))
    assert changed.value == Decimal("9800000.50")
    assert changed.supplier_org_number == "556000-1234"
    finding = desk_world.workflow.show_finding(ref, now=NOW)
    assert (finding.contract, finding.contract_manager) == ("RS-2019-ICT-01", FORM["manager"])
    page = desk.get("/contracts/RS-2019-ICT-01")
    assert '<p class="notice" role="status">The changes were saved.</p>' in page.text
    assert "<dt>End</dt><dd>30 Apr 2026</dd>" in page.text

    # Emptied, the optional fields are cleared.
    cleared = {**FORM, "start": "", "end": "", "value": ""}
    assert desk.submit(EDIT, cleared, page=EDIT).status_code == 303
    after = contract(desk_world.workflow)
    assert (after.start, after.end, after.value) == (None, None, None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("category", "", "is required"),
        ("manager", "eva@", "is not an email address"),
        ("start", "2019-5-1x", "is not a date; write it as YYYY-MM-DD"),
        ("end", "2019-04-30", "2019-04-30 is before the start 2019-05-01"),
        ("value", "1,5", "is not a number"),
    ],
)
def test_bad_input_is_named_next_to_its_field_and_changes_nothing(
    desk_world: World, signed_in: SignIn, field: str, value: str, message: str
) -> None:
    before = contract(desk_world.workflow)
    refused = signed_in(ANNA).submit(EDIT, {**FORM, field: value}, page=EDIT)
    assert refused.status_code == 400
    error = refused.text.split(f'<p class="error" id="{field}-error">')[1].split("</p>")[0]
    assert message in error
    assert "<title>Error: Edit contract RS-2019-ICT-01 - cap</title>" in refused.text
    assert contract(desk_world.workflow) == before


@pytest.mark.parametrize("who", [BO, SARA])
def test_roles_that_may_not_edit_get_403_and_nothing_changes(
    desk_world: World, signed_in: SignIn, who: str
) -> None:
    before = contract(desk_world.workflow)
    desk = signed_in(who)
    assert desk.get(EDIT).status_code == 403
    assert desk.submit(EDIT, FORM, page="/contracts").status_code == 403
    assert contract(desk_world.workflow) == before


def test_an_unknown_contract_has_no_edit_page(desk_world: World, signed_in: SignIn) -> None:
    desk = signed_in(ANNA)
    assert desk.get("/contracts/XX-1/edit").status_code == 404
    assert desk.submit("/contracts/XX-1/edit", FORM, page=EDIT).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(desk_world: World, desk: Desk) -> None:
    page = desk.get(EDIT)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fcontracts%2FRS-2019-ICT-01%2Fedit"
