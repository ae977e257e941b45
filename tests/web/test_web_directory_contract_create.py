"""Adding a contract on the desk: contract managers and admins; checked as the command line
checks it (dates as YYYY-MM-DD, the end not before the start, a known supplier), each bad
field named next to it (400), a taken reference a 409, nothing written; a forged form from a
role that may not is refused (both databases)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from cap.workflow import Workflow
from tests.conftest import ANNA, BO, World
from tests.web.conftest import ADA, SARA
from tests.web.desk_client import Desk

SignIn = Callable[[str], Desk]
NEW = "/contracts/new"
FORM = {
    "reference": "RS-2026-ICT-02",
    "supplier": "556000-1234",
    "category": "Monitors",
    "manager": "eva.ek@region.example",
    "start": "2026-04-01",
    "end": "2030-03-31",
    "value": "12500000",
}


def references(workflow: Workflow) -> list[str]:
    return [c.reference for c in workflow.list_contracts()]


@pytest.mark.parametrize("who", [ANNA, ADA])
def test_a_contract_is_added_and_shown_with_a_notice(
    desk_world: World, signed_in: SignIn, who: str
) -> None:
    desk = signed_in(who)
    form = desk.get(NEW)
    assert form.status_code == 200
    assert '<option value="556000-1234">Nordic IT Supply AB</option>' in form.text  # few: listed

    added = desk.submit(NEW, FORM, page=NEW)
    assert added.status_code == 303 and added.headers["location"] == "/contracts/RS-2026-ICT-02"
    (contract,) = [
        c for c in desk_world.workflow.list_contracts() if c.reference == FORM["reference"]
    ]
    assert (contract.supplier_org_number, contract.category, contract.manager) == (
        "556000-1234",
        "Monitors",
        "eva.ek@region.example",
    )
    assert (contract.start, contract.end) == (date(2026, 4, 1), date(2030, 3, 31))
    assert contract.value == Decimal("12500000")
    page = desk.get("/contracts/RS-2026-ICT-02")
    assert '<p class="notice" role="status">The contract was added.</p>' in page.text


def test_the_dates_and_value_are_optional(desk_world: World, signed_in: SignIn) -> None:
    form = {**FORM, "start": "", "end": " ", "value": ""}
    assert signed_in(ANNA).submit(NEW, form, page=NEW).status_code == 303
    (contract,) = [
        c for c in desk_world.workflow.list_contracts() if c.reference == FORM["reference"]
    ]
    assert (contract.start, contract.end, contract.value) == (None, None, None)


def test_the_supplier_page_fills_in_the_supplier(desk_world: World, signed_in: SignIn) -> None:
    page = signed_in(ANNA).get(NEW, params={"supplier": '556000-1234"><script>'})
    assert 'value="556000-1234&#34;&gt;&lt;script&gt;"' in page.text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reference", "", "is required"),
        ("reference", "RS 2026", "may only contain letters, digits and"),
        ("supplier", "", "is required"),
        ("supplier", "556999-0000", "no supplier has this organisation number"),
        ("category", "", "is required"),
        ("manager", "eva.ek", "is not an email address"),
        ("start", "2026-13-45", "'2026-13-45' is not a date; write it as YYYY-MM-DD"),
        ("start", "1 April 2026", "is not a date; write it as YYYY-MM-DD"),
        ("end", "2026-02-30", "'2026-02-30' is not a date; write it as YYYY-MM-DD"),
        ("end", "2026-03-31", "2026-03-31 is before the start 2026-04-01"),
        ("value", "a lot", "is not a number"),
        ("value", "-1", "is too small"),
    ],
)
def test_each_bad_field_is_named_next_to_it_and_nothing_is_written(
    desk_world: World, signed_in: SignIn, field: str, value: str, message: str
) -> None:
    refused = signed_in(ANNA).submit(NEW, {**FORM, field: value}, page=NEW)
    assert refused.status_code == 400
    error = refused.text.split(f'<p class="error" id="{field}-error">')[1].split("</p>")[0]
    assert message in error.replace("&#39;", "'")
    assert f'<a href="#{field}">' in refused.text
    assert "<title>Error: New contract - cap</title>" in refused.text
    assert references(desk_world.workflow) == ["RS-2019-ICT-01"]


def test_the_end_may_be_the_start(desk_world: World, signed_in: SignIn) -> None:
    form = {**FORM, "end": FORM["start"]}
    assert signed_in(ANNA).submit(NEW, form, page=NEW).status_code == 303


def test_a_taken_reference_is_a_409_next_to_it(desk_world: World, signed_in: SignIn) -> None:
    refused = signed_in(ANNA).submit(NEW, {**FORM, "reference": "RS-2019-ICT-01"}, page=NEW)
    assert refused.status_code == 409
    assert (
        '<p class="error" id="reference-error">contract RS-2019-ICT-01 already exists</p>'
        in refused.text
    )
    (contract,) = desk_world.workflow.list_contracts()
    assert contract.category == "Personal computers"


@pytest.mark.parametrize("who", [BO, SARA])
def test_roles_that_may_not_add_contracts_get_403_and_nothing_is_written(
    desk_world: World, signed_in: SignIn, who: str
) -> None:
    desk = signed_in(who)
    assert desk.get(NEW).status_code == 403
    assert desk.submit(NEW, FORM, page="/contracts").status_code == 403
    assert references(desk_world.workflow) == ["RS-2019-ICT-01"]


def test_anonymous_visitors_are_sent_to_sign_in(desk_world: World, desk: Desk) -> None:
    page = desk.get(NEW)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fcontracts%2Fnew"
    assert desk.submit(NEW, FORM, page="/login").status_code == 401
    assert references(desk_world.workflow) == ["RS-2019-ICT-01"]
