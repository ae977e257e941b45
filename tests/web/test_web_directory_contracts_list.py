"""The list of contracts: everyone signed in reads it; searched by reference, supplier,
category or contract manager (ignoring case, % and _ as themselves), 50 a page, with each
contract's open findings (both databases)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from cap.domain.inputs import ContractInput, SupplierInput
from cap.workflow import Workflow
from tests.conftest import ANNA, BO, NOW, World
from tests.web.conftest import ADA, SARA
from tests.web.desk_client import Desk

SignIn = Callable[[str], Desk]
ROW = re.compile(r'<th scope="row"><a href="/contracts/([^"]+)">')


def add(workflow: Workflow, reference: str, category: str = "Monitors", **more: object) -> None:
    data = {"supplier": "556000-1234", "manager": ANNA, **more}
    workflow.add_contract(
        ContractInput.model_validate({"reference": reference, "category": category, **data}),
        now=NOW,
    )


def listed(page: str) -> list[str]:
    return ROW.findall(page)


def test_the_list_shows_each_contract_with_its_open_findings(
    desk_world: World, signed_in: SignIn
) -> None:
    desk_world.finding()
    add(desk_world.workflow, "AB-2025-1", start=date(2025, 1, 1), end=date(2027, 12, 31))

    page = signed_in(BO).get("/contracts")
    assert page.status_code == 200
    assert listed(page.text) == ["AB-2025-1", "RS-2019-ICT-01"]  # by reference
    assert '<td><a href="/suppliers/556000-1234">Nordic IT Supply AB</a></td>' in page.text
    assert "<td>1 Jan 2025</td>\n      <td>31 Dec 2027</td>" in page.text
    assert '<a href="/findings?contract=RS-2019-ICT-01">1</a>' in page.text
    assert '<a href="/findings?contract=AB-2025-1">0</a>' in page.text
    assert "2 contracts" in page.text
    assert 'href="/contracts/new"' not in page.text


def test_those_who_may_add_contracts_see_the_link(desk_world: World, signed_in: SignIn) -> None:
    assert 'href="/contracts/new"' in signed_in(ANNA).get("/contracts").text
    assert 'href="/contracts/new"' in signed_in(ADA).get("/contracts").text
    assert 'href="/contracts/new"' not in signed_in(SARA).get("/contracts").text


def test_the_search_matches_reference_supplier_category_or_manager(
    desk_world: World, signed_in: SignIn
) -> None:
    desk_world.workflow.add_supplier(
        SupplierInput(name="Acme Screens", org_number="GB-1", country="GB", email="a@acme.example"),
        now=NOW,
    )
    add(desk_world.workflow, "AB-100", "Monitors 100% recycled", supplier="GB-1")
    add(desk_world.workflow, "AB_200", "Docking stations", manager="eva.ek@region.example")
    desk = signed_in(BO)

    def found(q: str) -> list[str]:
        return listed(desk.get("/contracts", params={"q": q}).text)

    assert found("rs-2019") == ["RS-2019-ICT-01"]
    assert found("ACME") == ["AB-100"]
    assert found("gb-1") == ["AB-100"]
    assert found("nordic") == ["AB_200", "RS-2019-ICT-01"]
    assert found("DOCKING") == ["AB_200"]
    assert found("eva.ek") == ["AB_200"]
    assert found("100%") == ["AB-100"]
    assert found("%") == ["AB-100"]
    assert found("AB_") == ["AB_200"]
    assert found("zzz") == []


def test_51_contracts_are_two_pages(desk_world: World, signed_in: SignIn) -> None:
    for n in range(50):
        add(desk_world.workflow, f"X-{n:02d}")
    desk = signed_in(BO)

    first = desk.get("/contracts")
    assert len(listed(first.text)) == 50 and "51 contracts; page 1 of 2" in first.text
    assert '<a href="/contracts?page=2" rel="next">Next</a>' in first.text
    second = desk.get("/contracts", params={"page": "2"})
    assert listed(second.text) == ["X-49"]
    assert '<a href="/contracts?page=2" aria-current="page">Page 2</a>' in second.text
    searched = desk.get("/contracts", params={"q": "x-", "page": "2"})
    assert listed(searched.text) == [f"X-{n:02d}" for n in range(50)]  # 50: one page
    assert desk.get("/contracts", params={"page": "two"}).status_code == 400


def test_hostile_text_is_escaped(desk_world: World, signed_in: SignIn) -> None:
    add(desk_world.workflow, "AB-1", "<script>alert(1)</script>")
    page = signed_in(BO).get("/contracts")
    assert "<script>alert(1)</script>" not in page.text
    assert "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>" in page.text


def test_anonymous_visitors_are_sent_to_sign_in(desk_world: World, desk: Desk) -> None:
    page = desk.get("/contracts")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fcontracts"
