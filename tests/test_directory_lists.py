"""The directory's lists: suppliers and contracts searched (ignoring case, % and _ as
themselves), paged by 50 in SQL, with their open findings counted (both databases)."""

from __future__ import annotations

import pytest

from cap.domain.inputs import ContractInput, SupplierInput
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action
from cap.errors import InvalidInput
from cap.workflow.directory import PER_PAGE
from tests.conftest import ANNA, NOW, World


def add_supplier(world: World, name: str, org_number: str) -> None:
    world.workflow.add_supplier(
        SupplierInput(name=name, org_number=org_number, country="SE", email="a@b.example"),
        now=NOW,
    )


def test_suppliers_are_paged_by_name_with_their_open_findings(world: World) -> None:
    world.finding()
    closed = world.finding(title="Second")
    world.workflow.act(closed, ActionRequest(Action.WITHDRAW, ANNA, NOW, reason="dup"), now=NOW)
    for n in range(PER_PAGE):
        add_supplier(world, f"supplier {n:02d}", f"556100-{n:04d}")

    first = world.workflow.supplier_page()
    assert (first.total, first.number, first.pages, len(first.rows)) == (51, 1, 2, 50)
    nordic = first.rows[0]
    assert (nordic.name, nordic.open_findings) == ("Nordic IT Supply AB", 1)
    assert [c.email for c in nordic.contacts] == ["li.wei@nordic-supply.example"]
    assert first.rows[1].open_findings == 0
    last = world.workflow.supplier_page(page=2)
    assert [r.org_number for r in last.rows] == ["556100-0049"]
    assert world.workflow.supplier_page(page=7).number == 2  # past the last: the last
    with pytest.raises(InvalidInput, match=r"^page: "):
        world.workflow.supplier_page(page=0)


def test_the_search_ignores_case_and_takes_wildcards_literally(world: World) -> None:
    add_supplier(world, "100% Fair AB", "556000-0001")
    add_supplier(world, "Fair_Trade AB", "556000-0002")

    def found(q: str) -> list[str]:
        return [r.org_number for r in world.workflow.supplier_page(q).rows]

    assert found("FAIR") == ["556000-0001", "556000-0002"]
    assert found("%") == ["556000-0001"]
    assert found("_") == ["556000-0002"]
    assert found("r_t") == ["556000-0002"]
    assert found("  1234 ") == ["556000-1234"]
    assert world.workflow.supplier_page("nothing").total == 0
    with pytest.raises(InvalidInput, match=r"^q: too long"):
        world.workflow.supplier_page("x" * 201)


def test_contracts_are_paged_by_reference_with_their_open_findings(world: World) -> None:
    world.finding()
    world.workflow.add_contract(
        ContractInput(
            reference="AB-1",
            supplier=world.org_number,
            category="100% phones",
            manager="eva@region.example",
        ),
        now=NOW,
    )
    page = world.workflow.contract_page()
    assert [(r.reference, r.open_findings) for r in page.rows] == [
        ("AB-1", 0),
        ("RS-2019-ICT-01", 1),
    ]
    assert page.rows[1].supplier == "Nordic IT Supply AB"
    assert [r.reference for r in world.workflow.contract_page("EVA@").rows] == ["AB-1"]
    assert [r.reference for r in world.workflow.contract_page("%").rows] == ["AB-1"]
    assert world.workflow.contract_page("nordic").total == 2


def test_search_ignores_the_case_of_every_letter(world: World) -> None:
    # SQLite's own lower() folds A-Z only; cap gives it Python's (cap/store/db.py).
    add_supplier(world, "Åbo Östra Elektronik AB", "556200-0001")
    for query in ("åbo", "ÅBO", "östra", "ÖSTRA ELEKTRONIK"):
        assert [r.name for r in world.workflow.supplier_page(query).rows] == [
            "Åbo Östra Elektronik AB"
        ], query
