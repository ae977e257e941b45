"""The list of suppliers: everyone signed in reads it; searched by name or organisation number
(ignoring case, % and _ as themselves), 50 a page, with each supplier's open findings (both
databases)."""

from __future__ import annotations

import re
from collections.abc import Callable

from cap.domain.inputs import SupplierInput
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, Area
from cap.web.directory import page_links
from cap.workflow import Workflow
from tests.conftest import ANNA, BO, NOW, World
from tests.web.conftest import ADA, SARA
from tests.web.desk_client import Desk

SignIn = Callable[[str], Desk]
ROW = re.compile(r'<th scope="row"><a href="/suppliers/([^"]+)">')


def add(workflow: Workflow, name: str, org_number: str) -> None:
    workflow.add_supplier(
        SupplierInput(name=name, org_number=org_number, country="SE", email="x@y.example"),
        now=NOW,
    )


def listed(page: str) -> list[str]:
    return ROW.findall(page)


def test_the_list_shows_each_supplier_with_its_open_findings(
    desk_world: World, signed_in: SignIn
) -> None:
    desk_world.finding()
    withdrawn = desk_world.finding(area=Area.WAGES, title="Unpaid overtime")
    request = ActionRequest(Action.WITHDRAW, ANNA, NOW, reason="duplicate")
    desk_world.workflow.act(withdrawn, request, now=NOW)
    add(desk_world.workflow, "Acme Screens Ltd", "GB-1234")

    page = signed_in(BO).get("/suppliers")
    assert page.status_code == 200
    assert listed(page.text) == ["GB-1234", "556000-1234"]  # by name
    assert "<td>Li Wei, li.wei@nordic-supply.example</td>" in page.text
    # One open finding: the withdrawn one is not counted.
    assert '<a href="/findings?supplier=556000-1234">1</a>' in page.text
    assert '<a href="/findings?supplier=GB-1234">0</a>' in page.text
    assert "2 suppliers" in page.text
    assert 'href="/suppliers/new"' not in page.text  # a viewer may not add one


def test_those_who_may_add_suppliers_see_the_link(desk_world: World, signed_in: SignIn) -> None:
    assert 'href="/suppliers/new"' in signed_in(ANNA).get("/suppliers").text
    assert 'href="/suppliers/new"' in signed_in(ADA).get("/suppliers").text
    assert 'href="/suppliers/new"' not in signed_in(SARA).get("/suppliers").text


def test_the_search_matches_name_or_number_ignoring_case(
    desk_world: World, signed_in: SignIn
) -> None:
    add(desk_world.workflow, "Acme Screens Ltd", "GB-1234")
    add(desk_world.workflow, "100% Recycled AB", "556000-9999")
    add(desk_world.workflow, "Cables_R_Us", "556000-5555")
    desk = signed_in(BO)

    assert listed(desk.get("/suppliers", params={"q": "NORDIC"}).text) == ["556000-1234"]
    assert listed(desk.get("/suppliers", params={"q": "gb-12"}).text) == ["GB-1234"]
    assert listed(desk.get("/suppliers", params={"q": "1234"}).text) == ["GB-1234", "556000-1234"]
    # % and _ are the characters themselves, not wildcards.
    assert listed(desk.get("/suppliers", params={"q": "100%"}).text) == ["556000-9999"]
    assert listed(desk.get("/suppliers", params={"q": "%"}).text) == ["556000-9999"]
    assert listed(desk.get("/suppliers", params={"q": "s_r"}).text) == ["556000-5555"]
    assert listed(desk.get("/suppliers", params={"q": "_"}).text) == ["556000-5555"]
    none = desk.get("/suppliers", params={"q": "zzz"})
    assert listed(none.text) == [] and "No supplier matches the search." in none.text
    assert 'value="zzz"' in none.text and 'href="/suppliers">Clear filters' in none.text


def test_51_suppliers_are_two_pages(desk_world: World, signed_in: SignIn) -> None:
    for n in range(50):
        add(desk_world.workflow, f"Supplier {n:02d}", f"556100-{n:04d}")
    desk = signed_in(BO)

    first = desk.get("/suppliers")
    assert len(listed(first.text)) == 50 and "51 suppliers; page 1 of 2" in first.text
    assert listed(first.text)[0] == "556000-1234"  # Nordic IT Supply AB before Supplier 00
    assert '<a href="/suppliers?page=2" rel="next">Next</a>' in first.text
    assert '<a href="/suppliers?page=1" aria-current="page">Page 1</a>' in first.text
    assert 'rel="prev"' not in first.text
    second = desk.get("/suppliers?page=2")
    assert listed(second.text) == ["556100-0049"]
    assert '<a href="/suppliers?page=1" rel="prev">Previous</a>' in second.text
    assert '<a href="/suppliers?page=2" aria-current="page">Page 2</a>' in second.text
    assert 'rel="next"' not in second.text
    assert listed(desk.get("/suppliers?page=9").text) == ["556100-0049"]  # past the last

    # The pages of a search keep the search.
    searched = desk.get("/suppliers", params={"q": "55", "page": "2"})
    assert listed(searched.text) == ["556100-0049"]
    assert '<a href="/suppliers?q=55&amp;page=1" rel="prev">' in searched.text
    narrower = desk.get("/suppliers", params={"q": "supplier 0"})
    assert len(listed(narrower.text)) == 10 and 'class="pagination"' not in narrower.text


def test_a_malformed_page_is_a_400_naming_it(desk_world: World, signed_in: SignIn) -> None:
    desk = signed_in(BO)
    for bad in ("abc", "0", "-1", "1.5"):
        page = desk.get("/suppliers", params={"page": bad})
        assert page.status_code == 400, bad
        assert '<p class="error" role="alert">page: ' in page.text
    huge = desk.get("/suppliers", params={"page": "9" * 5000})  # past the last: the last
    assert huge.status_code == 200 and listed(huge.text) == ["556000-1234"]
    long = desk.get("/suppliers", params={"q": "x" * 201})
    assert long.status_code == 400 and "q: too long" in long.text


def test_hostile_names_are_escaped(desk_world: World, signed_in: SignIn) -> None:
    add(desk_world.workflow, "<script>alert(1)</script>", "556000-6666")
    page = signed_in(BO).get("/suppliers", params={"q": "<script>"})
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_anonymous_visitors_are_sent_to_sign_in(desk_world: World, desk: Desk) -> None:
    page = desk.get("/suppliers?q=a")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fsuppliers%3Fq%3Da"


def test_long_lists_link_the_first_last_and_nearby_pages() -> None:
    assert page_links(1, 1) == [1]
    assert page_links(1, 3) == [1, 2, 3]
    assert page_links(1, 100) == [1, 2, 3, None, 100]
    assert page_links(50, 100) == [1, None, 48, 49, 50, 51, 52, None, 100]
    assert page_links(4, 100) == [1, 2, 3, 4, 5, 6, None, 100]
    assert page_links(100, 100) == [1, None, 98, 99, 100]
