"""A supplier's and a contract's details: contacts, contracts, findings counted by state in
SQL; unknown keys are named (both databases)."""

from __future__ import annotations

import pytest

from cap.domain.inputs import ContractInput
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, State
from cap.errors import NotFound
from cap.workflow.directory import StateCount
from tests.conftest import ANNA, NOW, World


def test_a_supplier_comes_with_its_contracts_and_findings_by_state(world: World) -> None:
    world.finding()
    world.finding(title="Second")
    gone = world.finding(title="Third")
    world.workflow.act(gone, ActionRequest(Action.WITHDRAW, ANNA, NOW, reason="dup"), now=NOW)
    world.workflow.add_contract(
        ContractInput(reference="AA-1", supplier=world.org_number, category="Phones", manager=ANNA),
        now=NOW,
    )

    details = world.workflow.show_supplier(world.org_number)
    assert details.supplier.name == "Nordic IT Supply AB"
    assert [c.email for c in details.supplier.contacts] == ["li.wei@nordic-supply.example"]
    assert [(c.reference, c.open_findings) for c in details.contracts] == [
        ("AA-1", 0),
        ("RS-2019-ICT-01", 2),
    ]
    assert details.findings.by_state == (
        StateCount(State.OPEN, 2),
        StateCount(State.WITHDRAWN, 1),
    )
    assert (details.findings.open, details.findings.total) == (2, 3)
    assert details.created_at == NOW


def test_a_contract_comes_with_its_findings_by_state(world: World) -> None:
    world.finding()
    details = world.workflow.show_contract(world.contract)
    assert details.contract.supplier_org_number == world.org_number
    assert details.findings.by_state == (StateCount(State.OPEN, 1),)
    assert (details.findings.open, details.findings.total) == (1, 1)


def test_unknown_keys_are_named(world: World) -> None:
    with pytest.raises(NotFound, match=r"^supplier: no supplier with organisation number X-1"):
        world.workflow.show_supplier("X-1")
    with pytest.raises(NotFound, match=r"^contract: no contract X-1"):
        world.workflow.show_contract("X-1")
