"""The supplier's page (both databases): the link in the email opens the supplier's findings
on the contract, each with what is expected now and by when, the history that concerns the
supplier, in the language of the contact it was sent to (switchable); never internal notes,
nor who at the buyer did what beyond the contract manager's name and address."""

from __future__ import annotations

from datetime import timedelta

from cap.domain.inputs import ContractInput, PlanAction, PlanInput, SupplierInput
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import Language
from cap.workflow import Workflow
from tests.conftest import ANNA, LI, NOW, World
from tests.web.conftest import SARA, Clock
from tests.web.desk_client import Desk
from tests.web.supplier_mail import emailed_path, notified

PLAN = PlanInput(
    root_cause="Peak-season orders were accepted without adding staff.",
    actions=[
        PlanAction(
            description="Cap overtime at 60 hours",
            owner="Plant manager",
            due=NOW.date() + timedelta(days=60),
        )
    ],
)


def another_supplier(workflow: Workflow, name: str, email: str, language: Language) -> World:
    """A supplier of its own, its contact ``email`` reading ``language``, with a contract."""
    org, contract = "556000-9999", "RS-OTHER"
    workflow.add_supplier(
        SupplierInput(name=name, org_number=org, country="SE", email=email, language=language),
        now=NOW,
    )
    workflow.add_contract(
        ContractInput(reference=contract, supplier=org, category="Phones", manager=ANNA,
                      start=NOW.date() - timedelta(days=400)),
        now=NOW,
    )  # fmt: skip
    return World(workflow, contract=contract, org_number=org)


def test_the_link_opens_the_suppliers_findings_with_what_is_expected(
    linked_world: World, supplier: Desk
) -> None:
    ref = notified(linked_world)
    other = notified(linked_world, title="No freedom of association")
    linked_world.finding(title="Not told to the supplier yet")  # open: not shown
    page = supplier.get(emailed_path(linked_world))
    assert page.status_code == 200
    text = page.text
    assert "Findings for Nordic IT Supply AB" in text
    assert ref in text and other in text and "Not told to the supplier yet" not in text
    assert "Send a corrective action plan by Tue 7 Apr 2026." in text
    assert "Anna Berg" in text and f"mailto:{ANNA}" in text  # the contact, and only her
    assert page.headers["cache-control"] == "no-store"
    assert "noindex" in page.headers["x-robots-tag"]
    assert page.headers["referrer-policy"] == "same-origin"


def test_the_history_shows_what_concerns_the_supplier_and_no_internal_note(
    linked_world: World, supplier: Desk
) -> None:
    workflow = linked_world.workflow
    ref = notified(linked_world)
    at = NOW + timedelta(minutes=10)
    workflow.act(ref, ActionRequest(Action.SUBMIT_PLAN, LI, at), plan=PLAN, now=at)
    workflow.act(
        ref,
        ActionRequest(Action.REJECT_PLAN, SARA, at, reason="Name who checks the hours."),
        now=at,
    )
    workflow.act(ref, ActionRequest(Action.SUBMIT_PLAN, LI, at), plan=PLAN, now=at)
    workflow.act(
        ref,
        ActionRequest(Action.ACCEPT_PLAN, SARA, at, note="Internal: supplier seems evasive"),
        now=at,
    )
    text = supplier.get(f"{emailed_path(linked_world)}/findings/{ref}").text
    assert "Carry out the plan and report the fix, with evidence, by" in text
    for entry in (
        "The buyer asked for a corrective action plan",
        "Plan sent",
        "Plan not accepted",
        "Name who checks the hours.",
        "Plan accepted",
    ):
        assert entry in text, entry
    assert "seems evasive" not in text  # the buyer's note stays internal
    assert SARA not in text  # nor who decided
    assert LI in text  # the supplier's own answers are theirs
    assert "Peak-season orders" in text and "Cap overtime at 60 hours" in text


def test_a_finding_of_another_supplier_is_never_reached(
    linked_world: World, supplier: Desk
) -> None:
    workflow = linked_world.workflow
    ours = notified(linked_world)
    theirs = another_supplier(
        workflow, "Other Supplier AB", "x@other.example", Language.EN
    ).finding(title="Secret of the other supplier")
    workflow.act(theirs, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    path = emailed_path(linked_world)
    assert ours in supplier.get(path).text and theirs not in supplier.get(path).text
    for sub in (f"/findings/{theirs}", f"/findings/{theirs}/files/1"):
        refused = supplier.get(path + sub)
        assert refused.status_code == 404, sub
        assert "Secret of the other supplier" not in refused.text
        assert "All findings for Nordic IT Supply AB" in refused.text  # the supplier's own page
    form = {
        "csrftoken": supplier.token(path),
        "root_cause": "x",
        "rows": "1",
        "description_0": "a",
        "owner_0": "b",
        "due_0": "2026-06-01",
    }
    assert supplier.post(f"{path}/findings/{theirs}/submit_plan", form).status_code == 404
    assert workflow.show_finding(theirs, now=NOW).plans == ()


def test_the_page_is_in_the_contacts_language_and_can_be_switched(
    linked_world: World, supplier: Desk
) -> None:
    workflow = linked_world.workflow
    ref = notified(
        another_supplier(workflow, "Svensk Leverantör AB", "eva@leverantor.example", Language.SV)
    )
    path = emailed_path(linked_world, to="eva@leverantor.example")
    swedish = supplier.get(f"{path}/findings/{ref}").text
    assert '<html lang="sv">' in swedish and "Skicka en åtgärdsplan senast" in swedish
    switched = supplier.post(
        "/language", {"csrftoken": supplier.token(path), "language": "en", "next": path}
    )
    assert switched.status_code == 303 and switched.headers["location"] == path
    english = supplier.get(path).text
    assert '<html lang="en">' in english and "Findings for Svensk Leverantör AB" in english


def test_the_buyers_own_late_review_is_not_the_suppliers_overdue(
    linked_world: World, supplier: Desk, clock: Clock
) -> None:
    workflow = linked_world.workflow
    ref = notified(linked_world)
    workflow.act(ref, ActionRequest(Action.SUBMIT_PLAN, LI, NOW), plan=PLAN, now=NOW)
    clock.now = NOW + timedelta(days=30)  # the buyer's 14 days of review are long past
    assert workflow.show_finding(ref, now=clock.now).overdue
    text = supplier.get(emailed_path(linked_world)).text
    assert "The buyer is reviewing your plan. Nothing is needed from you now." in text
    assert "Overdue" not in text
