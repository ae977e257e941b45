"""A contract's page: its supplier, category, manager, dates, value and findings by state,
for everyone signed in; an unknown reference is a 404 page (both databases)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from cap.domain.inputs import ContractInput
from tests.conftest import ANNA, BO, NOW, World
from tests.web.desk_client import Desk

SignIn = Callable[[str], Desk]


def test_the_page_shows_the_contract_and_its_findings(desk_world: World, signed_in: SignIn) -> None:
    desk_world.finding()
    desk_world.finding(title="Second")
    page = signed_in(BO).get("/contracts/RS-2019-ICT-01")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Contract RS-2019-ICT-01</h1>" in text
    assert '<a href="/suppliers/556000-1234">Nordic IT Supply AB</a> (556000-1234)' in text
    assert "<dt>Category</dt><dd>Personal computers</dd>" in text
    assert f"<dt>Contract manager</dt><dd>{ANNA}</dd>" in text
    assert "<dt>Start</dt><dd>1 May 2019</dd>" in text
    assert "<dt>End</dt><dd>not given</dd>" in text
    assert "<dt>Open findings</dt><dd>2</dd>" in text
    assert '<a href="/findings?contract=RS-2019-ICT-01&amp;state=open">open</a>' in text
    assert '<a href="/findings?contract=RS-2019-ICT-01">' in text
    assert "/edit" not in text  # a viewer is offered no form


def test_a_reference_with_slashes_has_its_page(desk_world: World, signed_in: SignIn) -> None:
    desk_world.workflow.add_contract(
        ContractInput(
            reference="RS/2024/7",
            supplier="556000-1234",
            category="Phones",
            manager=ANNA,
            start=date(2024, 1, 1),
            end=date(2025, 12, 31),
            value=Decimal("1234567.50"),
        ),
        now=NOW,
    )
    desk = signed_in(ANNA)
    assert '<a href="/contracts/RS/2024/7">RS/2024/7</a>' in desk.get("/contracts").text
    page = desk.get("/contracts/RS/2024/7")
    assert page.status_code == 200 and "<h1>Contract RS/2024/7</h1>" in page.text
    assert "<dt>Value</dt><dd>1,234,567.50</dd>" in page.text  # as the page's language writes it
    assert "No findings have been logged." in page.text
    assert 'href="/contracts/RS/2024/7/edit"' in page.text
    edit = desk.get("/contracts/RS/2024/7/edit")
    assert edit.status_code == 200 and 'value="Phones"' in edit.text
    desk.post("/language", {"csrftoken": desk.form_token(page), "language": "sv", "next": "/"})
    swedish = desk.get("/contracts/RS/2024/7").text
    assert "<dt>Värde</dt><dd>1\xa0234\xa0567,50</dd>" in swedish


def test_an_unknown_contract_is_a_404_page(desk_world: World, signed_in: SignIn) -> None:
    page = signed_in(BO).get("/contracts/XX-1")
    assert page.status_code == 404
    assert "<h1>Not found</h1>" in page.text and "no contract XX-1" in page.text


def test_anonymous_visitors_are_sent_to_sign_in(desk_world: World, desk: Desk) -> None:
    page = desk.get("/contracts/RS-2019-ICT-01")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fcontracts%2FRS-2019-ICT-01"
