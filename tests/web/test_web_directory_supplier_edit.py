"""Changing a supplier on the desk: its name, country and contacts (added, changed, removed);
its organisation number stays, and so do its findings; bad input changes nothing (both
databases)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cap.domain.model import Language
from cap.workflow import SupplierView, Workflow
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.web.conftest import ADA, SARA
from tests.web.desk_client import Desk

SignIn = Callable[[str], Desk]
EDIT = "/suppliers/556000-1234/edit"
#: The edit form as it comes, filled in: Li Wei kept, a second contact added.
FORM = {
    "name": "Nordic IT Supply Group AB",
    "country": "fi",
    "contacts.0.email": LI,
    "contacts.0.name": "Li Wei",
    "contacts.0.language": "en",
    "contacts.1.email": "orders@nordic-supply.example",
    "contacts.1.name": "",
    "contacts.1.language": "sv",
}


def nordic(workflow: Workflow) -> SupplierView:
    (supplier,) = [s for s in workflow.list_suppliers() if s.org_number == "556000-1234"]
    return supplier


@pytest.mark.parametrize("who", [ANNA, ADA])
def test_the_name_country_and_contacts_change_and_the_findings_stay(
    desk_world: World, signed_in: SignIn, who: str
) -> None:
    ref = desk_world.finding()
    desk = signed_in(who)
    form = desk.get(EDIT)
    assert form.status_code == 200 and 'value="Nordic IT Supply AB"' in form.text
    assert f'id="contacts.0.email" name="contacts.0.email" type="email" value="{LI}"' in form.text
    assert 'id="contacts.1.email" name="contacts.1.email" type="email" value=""' in form.text

    saved = desk.submit(EDIT, FORM, page=EDIT)
    assert saved.status_code == 303 and saved.headers["location"] == "/suppliers/556000-1234"
    supplier = nordic(desk_world.workflow)
    assert (supplier.name, supplier.country) == ("Nordic IT Supply Group AB", "FI")
    assert [(c.email, c.name, c.language) for c in supplier.contacts] == [
        (LI, "Li Wei", Language.EN),
        ("orders@nordic-supply.example", None, Language.SV),
    ]
    finding = desk_world.workflow.show_finding(ref, now=NOW)
    assert (finding.supplier, finding.supplier_org_number) == (
        "Nordic IT Supply Group AB",
        "556000-1234",
    )
    page = desk.get("/suppliers/556000-1234")
    assert '<p class="notice" role="status">The changes were saved.</p>' in page.text
    assert "<h1>Nordic IT Supply Group AB</h1>" in page.text


def test_a_contact_emptied_is_removed_and_one_must_stay(
    desk_world: World, signed_in: SignIn
) -> None:
    desk = signed_in(ANNA)
    assert desk.submit(EDIT, FORM, page=EDIT).status_code == 303
    # Li Wei emptied: the second contact is the only one left.
    form = {**FORM, "contacts.0.email": "", "contacts.0.name": "", "contacts.2.email": ""}
    assert desk.submit(EDIT, form, page=EDIT).status_code == 303
    contacts = nordic(desk_world.workflow).contacts
    assert [c.email for c in contacts] == ["orders@nordic-supply.example"]

    nobody = {"name": "Nordic", "country": "SE", "contacts.0.email": "", "contacts.1.email": ""}
    refused = desk.submit(EDIT, nobody, page=EDIT)
    assert refused.status_code == 400
    assert '<p class="error" id="contacts.0.email-error">give at least one contact' in refused.text
    assert [c.email for c in nordic(desk_world.workflow).contacts] == [
        "orders@nordic-supply.example"
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", " ", "is required"),
        ("country", "Sweden", "is not a two-letter country code"),
        ("contacts.0.email", "li.wei@", "is not an email address"),
        # The error is placed on the row typed, though the rows before it were left blank.
        ("contacts.1.language", "de", "is not one of"),
        ("contacts.1.name", "Ops\r\nBcc: x@evil.example", "must be one line"),
        ("contacts.1.email", LI.upper(), "is given twice"),
    ],
)
def test_bad_input_is_named_next_to_its_field_and_changes_nothing(
    desk_world: World, signed_in: SignIn, field: str, value: str, message: str
) -> None:
    before = nordic(desk_world.workflow)
    refused = signed_in(ANNA).submit(EDIT, {**FORM, field: value}, page=EDIT)
    assert refused.status_code == 400
    placed = field if field != "contacts.1.email" or "twice" not in message else "contacts.0.email"
    assert f'<p class="error" id="{placed}-error">' in refused.text
    error = refused.text.split(f'<p class="error" id="{placed}-error">')[1].split("</p>")[0]
    assert message in error
    assert f'<a href="#{placed}">' in refused.text
    assert nordic(desk_world.workflow) == before


def test_an_error_on_a_row_after_a_blank_one_names_that_row(
    desk_world: World, signed_in: SignIn
) -> None:
    form = {**FORM, "contacts.0.email": "", "contacts.0.name": "", "contacts.1.email": "nope"}
    refused = signed_in(ANNA).submit(EDIT, form, page=EDIT)
    assert refused.status_code == 400
    assert '<p class="error" id="contacts.1.email-error">' in refused.text
    assert "Email of contact 2: " in refused.text


@pytest.mark.parametrize("who", [BO, SARA])
def test_roles_that_may_not_edit_get_403_and_nothing_changes(
    desk_world: World, signed_in: SignIn, who: str
) -> None:
    before = nordic(desk_world.workflow)
    desk = signed_in(who)
    assert desk.get(EDIT).status_code == 403
    assert 'href="/suppliers/556000-1234/edit"' not in desk.get("/suppliers/556000-1234").text
    forged = desk.submit(EDIT, FORM, page="/suppliers")
    assert forged.status_code == 403
    assert nordic(desk_world.workflow) == before


def test_an_unknown_supplier_has_no_edit_page(desk_world: World, signed_in: SignIn) -> None:
    desk = signed_in(ANNA)
    assert desk.get("/suppliers/556999-0000/edit").status_code == 404
    posted = desk.submit("/suppliers/556999-0000/edit", FORM, page=EDIT)
    assert posted.status_code == 404
    assert [s.org_number for s in desk_world.workflow.list_suppliers()] == ["556000-1234"]


def test_anonymous_visitors_are_sent_to_sign_in(desk_world: World, desk: Desk) -> None:
    page = desk.get(EDIT)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fsuppliers%2F556000-1234%2Fedit"
