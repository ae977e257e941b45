"""Changing a supplier (name, country, contacts) and a contract (category, manager, dates,
value) in one transaction each; keys, suppliers and findings stay; bad input is refused by
the input models with the field named (both databases)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cap.domain.inputs import ContactInput, ContractUpdate, SupplierUpdate, parse
from cap.domain.model import Language
from cap.errors import InvalidInput, NotFound
from tests.conftest import LI, NOW, World


def test_a_supplier_changes_and_its_findings_follow(world: World) -> None:
    ref = world.finding()
    data = SupplierUpdate.model_validate(
        {
            "name": "Nordic IT Group",
            "country": "fi",
            "contacts": [
                {"email": "ops@nordic.example", "language": "sv"},
                {"email": LI, "name": "Li Wei", "language": "en"},
            ],
        }
    )
    view = world.workflow.update_supplier(world.org_number, data)
    assert (view.name, view.country, view.org_number) == ("Nordic IT Group", "FI", "556000-1234")
    stored = world.workflow.show_supplier(world.org_number).supplier
    assert stored == view
    assert [(c.email, c.name, c.language) for c in stored.contacts] == [
        ("ops@nordic.example", None, Language.SV),
        (LI, "Li Wei", Language.EN),
    ]
    assert world.workflow.show_finding(ref, now=NOW).supplier == "Nordic IT Group"

    fewer = data.model_copy(update={"contacts": data.contacts[1:]})
    world.workflow.update_supplier(world.org_number, fewer)
    assert [c.email for c in world.workflow.show_supplier(world.org_number).supplier.contacts] == [
        LI
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "N", "country": "SE", "contacts": []}, "^contacts: give at least one contact"),
        (
            {"name": "N", "country": "SE", "contacts": [{"email": LI}, {"email": LI.upper()}]},
            "^contacts: .* is given twice",
        ),
        (
            {"name": "N", "country": "SE", "contacts": [{"email": "x"}]},
            "^contacts.0.email: 'x' is not an email address",
        ),
        (
            {"name": "N", "country": "SE", "org_number": "1", "contacts": [{"email": LI}]},
            "^org_number: is not a known field",
        ),
    ],
)
def test_a_supplier_update_is_checked(data: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse(SupplierUpdate, data)


def test_a_contract_changes_and_keeps_its_reference_and_supplier(world: World) -> None:
    ref = world.finding()
    data = ContractUpdate(
        category="Monitors",
        manager="eva@region.example",
        start=date(2020, 1, 1),
        end=date(2020, 1, 1),
        value=Decimal("10.5"),
    )
    view = world.workflow.update_contract(world.contract, data, now=NOW)
    assert (view.reference, view.supplier_org_number) == (world.contract, world.org_number)
    stored = world.workflow.show_contract(world.contract).contract
    assert stored == view
    assert (stored.category, stored.manager, stored.value) == (
        "Monitors",
        "eva@region.example",
        Decimal("10.50"),
    )
    assert world.workflow.show_finding(ref, now=NOW).contract_manager == "eva@region.example"


def test_a_contract_update_is_checked_and_unknown_keys_named(world: World) -> None:
    with pytest.raises(InvalidInput, match=r"^end: 2020-01-01 is before the start 2020-01-02"):
        parse(
            ContractUpdate,
            {
                "category": "C",
                "manager": "a@b.example",
                "start": date(2020, 1, 2),
                "end": date(2020, 1, 1),
            },
        )
    data = ContractUpdate(category="C", manager="a@b.example")
    with pytest.raises(NotFound, match=r"^contract: no contract X-1"):
        world.workflow.update_contract("X-1", data, now=NOW)
    with pytest.raises(NotFound, match=r"^supplier: no supplier"):
        world.workflow.update_supplier(
            "X-1", SupplierUpdate(name="N", country="SE", contacts=[ContactInput(email=LI)])
        )
