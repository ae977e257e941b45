"""The directory's pages in Swedish: the words of the lists, pages and forms (both
databases)."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import ANNA, World
from tests.web.desk_client import Desk

SignIn = Callable[[str], Desk]


def swedish(signed_in: SignIn) -> Desk:
    desk = signed_in(ANNA)
    assert desk.submit("/language", {"language": "sv"}, page="/desk").status_code == 303
    return desk


def test_the_lists_are_in_swedish(desk_world: World, signed_in: SignIn) -> None:
    desk_world.finding()
    desk = swedish(signed_in)
    suppliers = desk.get("/suppliers").text
    assert "<h1>Leverantörer</h1>" in suppliers
    assert "1 leverantör</p>" in suppliers and "Öppna avvikelser" in suppliers
    assert ">Ny leverantör</a>" in suppliers and "Namn eller organisationsnummer" in suppliers
    searched = desk.get("/suppliers", params={"q": "nordic"}).text
    assert "1 leverantör matchar ”nordic”" in searched
    contracts = desk.get("/contracts").text
    assert "<h1>Avtal</h1>" in contracts and "1 avtal</p>" in contracts
    assert "<td>1 maj 2019</td>" in contracts


def test_the_pages_and_forms_are_in_swedish(desk_world: World, signed_in: SignIn) -> None:
    desk_world.finding()
    desk = swedish(signed_in)
    supplier = desk.get("/suppliers/556000-1234").text
    assert "<dt>Organisationsnummer</dt>" in supplier and "Kontaktpersoner" in supplier
    assert ">öppen</a>" in supplier and "Avvikelser per status" in supplier
    contract = desk.get("/contracts/RS-2019-ICT-01").text
    assert "<h1>Avtal RS-2019-ICT-01</h1>" in contract and "<dd>inte angivet</dd>" in contract
    assert "Ändra leverantör 556000-1234" in desk.get("/suppliers/556000-1234/edit").text
    assert "Kontaktperson 2" in desk.get("/suppliers/556000-1234/edit").text
    form = desk.get("/contracts/new").text
    assert "<h1>Nytt avtal</h1>" in form and "Leverantörens organisationsnummer" in form

    refused = desk.submit(
        "/contracts/new",
        {"reference": "X-1", "supplier": "556999-0000", "category": "Skärmar", "manager": ANNA},
        page="/contracts/new",
    )
    assert refused.status_code == 400
    assert "Något behöver rättas" in refused.text
    assert "ingen leverantör har det här organisationsnumret" in refused.text
    saved = desk.submit(
        "/contracts/new",
        {"reference": "X-1", "supplier": "556000-1234", "category": "Skärmar", "manager": ANNA},
        page="/contracts/new",
    )
    assert saved.status_code == 303
    assert "Avtalet har lagts till." in desk.get("/contracts/X-1").text
