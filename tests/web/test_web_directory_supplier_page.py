"""A supplier's page: its details, contacts, contracts and findings by state, for everyone
signed in; an unknown organisation number is a 404 page (both databases)."""

from __future__ import annotations

from collections.abc import Callable

from cap.domain.inputs import ContractInput, SupplierInput
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, Area
from tests.conftest import ANNA, BO, NOW, World
from tests.web.conftest import SARA
from tests.web.desk_client import Desk

SignIn = Callable[[str], Desk]


def test_the_page_shows_contacts_contracts_and_findings_by_state(
    desk_world: World, signed_in: SignIn
) -> None:
    desk_world.finding()
    withdrawn = desk_world.finding(area=Area.WAGES, title="Unpaid overtime")
    desk_world.workflow.act(
        withdrawn, ActionRequest(Action.WITHDRAW, ANNA, NOW, reason="dup"), now=NOW
    )
    desk_world.workflow.add_contract(
        ContractInput(
            reference="RS-2024-ICT-07", supplier="556000-1234", category="Monitors", manager=ANNA
        ),
        now=NOW,
    )
    page = signed_in(BO).get("/suppliers/556000-1234")
    assert page.status_code == 200
    text = page.text
    assert "<title>Nordic IT Supply AB - Suppliers - cap</title>" in text
    assert "<dt>Organisation number</dt><dd>556000-1234</dd>" in text
    assert "<dt>Open findings</dt><dd>1</dd>" in text
    assert "<td>li.wei@nordic-supply.example</td><td>Li Wei</td>" in text
    assert '<a href="/contracts/RS-2019-ICT-01">RS-2019-ICT-01</a>' in text
    assert '<a href="/contracts/RS-2024-ICT-07">RS-2024-ICT-07</a>' in text
    assert text.index("RS-2019-ICT-01") < text.index("RS-2024-ICT-07")
    assert '<a href="/findings?supplier=556000-1234&amp;state=open">open</a>' in text
    assert '<a href="/findings?supplier=556000-1234&amp;state=withdrawn">withdrawn</a>' in text
    assert '<tfoot><tr><th scope="row">All</th><td class="number">2</td>' in text
    assert '<a href="/findings?supplier=556000-1234">' in text
    # A viewer reads, and is offered no form.
    assert "/edit" not in text and "/contracts/new" not in text


def test_a_supplier_without_contracts_or_findings_says_so(
    desk_world: World, signed_in: SignIn
) -> None:
    desk_world.workflow.add_supplier(
        SupplierInput(name="Acme", org_number="GB/2024/1", country="GB", email="a@acme.example"),
        now=NOW,
    )
    desk = signed_in(SARA)
    listed = desk.get("/suppliers", params={"q": "acme"})
    assert '<a href="/suppliers/GB/2024/1">Acme</a>' in listed.text  # slashes in the number
    page = desk.get("/suppliers/GB/2024/1")
    assert page.status_code == 200
    assert "No contracts with this supplier have been added." in page.text
    assert "No findings have been logged." in page.text


def test_the_editors_see_the_forms_links(desk_world: World, signed_in: SignIn) -> None:
    page = signed_in(ANNA).get("/suppliers/556000-1234")
    assert 'href="/suppliers/556000-1234/edit"' in page.text
    assert 'href="/contracts/new?supplier=556000-1234"' in page.text


def test_an_unknown_supplier_is_a_404_page(desk_world: World, signed_in: SignIn) -> None:
    page = signed_in(BO).get("/suppliers/556999-0000")
    assert page.status_code == 404
    assert "<h1>Not found</h1>" in page.text
    assert "no supplier with organisation number 556999-0000" in page.text


def test_anonymous_visitors_are_sent_to_sign_in(desk_world: World, desk: Desk) -> None:
    page = desk.get("/suppliers/556000-1234")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fsuppliers%2F556000-1234"
