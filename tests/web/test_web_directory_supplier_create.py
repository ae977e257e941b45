"""Adding a supplier on the desk: contract managers and admins; checked as the command line
checks it, each bad field named next to it (400) and a taken organisation number (409), with
nothing written; a forged form from a role that may not is refused (both databases)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cap.domain.model import Language
from cap.workflow import Workflow
from tests.conftest import ANNA, BO, World
from tests.web.conftest import ADA, SARA
from tests.web.desk_client import Desk

SignIn = Callable[[str], Desk]
FORM = {
    "name": "Acme Screens Ltd",
    "org_number": "GB-1234",
    "country": "gb",
    "email": "sales@acme.example",
    "contact_name": "Jo Smith",
    "language": "en",
}


def org_numbers(workflow: Workflow) -> list[str]:
    return [s.org_number for s in workflow.list_suppliers()]


@pytest.mark.parametrize("who", [ANNA, ADA])
def test_a_supplier_is_added_and_shown_with_a_notice(
    desk_world: World, signed_in: SignIn, who: str
) -> None:
    desk = signed_in(who)
    assert desk.get("/suppliers/new").status_code == 200

    added = desk.submit("/suppliers/new", FORM, page="/suppliers/new")
    assert added.status_code == 303 and added.headers["location"] == "/suppliers/GB-1234"
    (acme,) = [s for s in desk_world.workflow.list_suppliers() if s.org_number == "GB-1234"]
    assert (acme.name, acme.country) == ("Acme Screens Ltd", "GB")
    assert [(c.name, c.email, c.language) for c in acme.contacts] == [
        ("Jo Smith", "sales@acme.example", Language.EN)
    ]
    page = desk.get("/suppliers/GB-1234")
    assert '<p class="notice" role="status">The supplier was added.</p>' in page.text
    assert "The supplier was added." not in desk.get("/suppliers/GB-1234").text  # shown once


def test_the_contact_name_is_optional_and_swedish_the_default(
    desk_world: World, signed_in: SignIn
) -> None:
    form = {**FORM, "contact_name": " "}
    del form["language"]
    desk = signed_in(ANNA)
    assert desk.submit("/suppliers/new", form, page="/suppliers/new").status_code == 303
    (acme,) = [s for s in desk_world.workflow.list_suppliers() if s.org_number == "GB-1234"]
    assert [(c.name, c.language) for c in acme.contacts] == [(None, Language.SV)]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "is required"),
        ("name", "Acme\nInjected: header", "must be one line without control characters"),
        ("name", "x" * 201, "is too long; at most 200 characters"),
        ("org_number", "", "is required"),
        ("org_number", "GB 1234", "may only contain letters, digits and"),
        ("country", "GBR", "is not a two-letter country code"),
        ("email", "not-an-address", "is not an email address"),
        ("email", "", "is required"),
        ("language", "fr", "is not one of"),
    ],
)
def test_each_bad_field_is_named_next_to_it_and_nothing_is_written(
    desk_world: World, signed_in: SignIn, field: str, value: str, message: str
) -> None:
    before = org_numbers(desk_world.workflow)
    refused = signed_in(ANNA).submit(
        "/suppliers/new", {**FORM, field: value}, page="/suppliers/new"
    )
    assert refused.status_code == 400
    assert f'<p class="error" id="{field}-error">' in refused.text
    error = refused.text.split(f'<p class="error" id="{field}-error">')[1].split("</p>")[0]
    assert message in error.replace("&#39;", "'")
    assert f'aria-describedby="{field}-hint {field}-error"' in refused.text or (
        f'aria-describedby="{field}-error"' in refused.text
    )
    assert f'<a href="#{field}">' in refused.text  # the summary links to the field
    assert "<title>Error: New supplier - cap</title>" in refused.text
    assert 'value="Acme Screens Ltd"' in refused.text or field == "name"  # the form kept
    assert org_numbers(desk_world.workflow) == before


def test_a_taken_organisation_number_is_a_409_next_to_it(
    desk_world: World, signed_in: SignIn
) -> None:
    refused = signed_in(ANNA).submit(
        "/suppliers/new", {**FORM, "org_number": "556000-1234"}, page="/suppliers/new"
    )
    assert refused.status_code == 409
    assert (
        '<p class="error" id="org_number-error">a supplier with organisation number '
        "556000-1234 already exists</p>" in refused.text
    )
    (nordic,) = desk_world.workflow.list_suppliers()
    assert nordic.name == "Nordic IT Supply AB"


@pytest.mark.parametrize("who", [BO, SARA])
def test_roles_that_may_not_add_suppliers_get_403_and_nothing_is_written(
    desk_world: World, signed_in: SignIn, who: str
) -> None:
    desk = signed_in(who)
    assert desk.get("/suppliers/new").status_code == 403
    forged = desk.submit("/suppliers/new", FORM, page="/suppliers")
    assert forged.status_code == 403 and "Your role does not allow this" in forged.text
    assert org_numbers(desk_world.workflow) == ["556000-1234"]


def test_anonymous_visitors_are_sent_to_sign_in(desk_world: World, desk: Desk) -> None:
    page = desk.get("/suppliers/new")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fsuppliers%2Fnew"
    posted = desk.submit("/suppliers/new", FORM, page="/login")
    assert posted.status_code == 401
    assert org_numbers(desk_world.workflow) == ["556000-1234"]


def test_a_hostile_name_is_escaped_on_its_page(desk_world: World, signed_in: SignIn) -> None:
    desk = signed_in(ANNA)
    form = {**FORM, "name": "<script>alert(1)</script>"}
    assert desk.submit("/suppliers/new", form, page="/suppliers/new").status_code == 303
    page = desk.get("/suppliers/GB-1234")
    assert "<script>alert(1)</script>" not in page.text
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in page.text
    refused = desk.submit("/suppliers/new", {**form, "country": "<b>"}, page="/suppliers/new")
    assert refused.status_code == 400 and "<b>" not in refused.text
