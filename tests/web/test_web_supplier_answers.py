"""The supplier's answers through the link (both databases): a plan whose actions are added
and removed on the page, files, the fix reported; each recorded as its action with the
supplier's address as the actor and its emails queued; a bad answer is refused with one line
naming the field and changes nothing; forms need their CSRF token; one link gives at most
ANSWER_LIMIT answers an hour."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlmodel import col

from cap.domain.inputs import PlanAction, PlanInput
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import State
from cap.store.models import OutboxMessage
from cap.workflow import EvidenceFile
from tests.conftest import ANNA, LI, NOW, World
from tests.web.desk_client import Desk
from tests.web.supplier_mail import emailed_path, notified

PDF = b"%PDF-1.7 overtime register, weeks 10-14"
DUE = (NOW + timedelta(days=60)).date().isoformat()


def page_of(world: World, ref: str) -> str:
    return f"{emailed_path(world)}/findings/{ref}"


def plan_form(desk: Desk, page: str, **fields: str) -> dict[str, str]:
    return {"csrftoken": desk.token(page), "version": "", **fields}


def outbox(world: World) -> list[tuple[str, str]]:
    with world.workflow.db.read() as session:
        rows = session.execute(select(OutboxMessage).order_by(col(OutboxMessage.id))).scalars()
        return [(r.kind, r.recipient) for r in rows]


def test_a_plan_is_written_with_actions_added_and_removed_then_sent(
    linked_world: World, supplier: Desk
) -> None:
    ref = notified(linked_world)
    page = page_of(linked_world, ref)
    first = supplier.get(page)
    assert first.text.count('<fieldset class="plan-action">') == 3
    rows = {
        "root_cause": "Orders accepted without staff",
        "rows": "3",
        "description_0": "Cap overtime at 60 hours",
        "owner_0": "Plant manager",
        "due_0": DUE,
        "description_1": "To be removed",
        "owner_1": "x",
        "due_1": DUE,
    }
    added = supplier.post(f"{page}/submit_plan", plan_form(supplier, page, **rows, change="add"))
    assert added.status_code == 200
    assert added.text.count('<fieldset class="plan-action">') == 4
    assert "Orders accepted without staff" in added.text  # nothing typed is lost
    removed = supplier.post(
        f"{page}/submit_plan",
        plan_form(supplier, page, **{**rows, "rows": "4"}, remove_1="1", change="remove"),
    )
    assert removed.text.count('<fieldset class="plan-action">') == 3
    assert "To be removed" not in removed.text and "Cap overtime at 60 hours" in removed.text
    assert linked_world.workflow.show_finding(ref, now=NOW).plans == ()  # nothing sent yet
    sent = supplier.post(
        f"{page}/submit_plan",
        plan_form(
            supplier,
            page,
            **{**rows, "description_1": "Hire for peak season", "owner_1": "HR"},
            change="send",
        ),
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{page}?done=submit_plan"
    assert "Recorded: Plan sent." in supplier.get(sent.headers["location"]).text
    shown = linked_world.workflow.show_finding(ref, now=NOW)
    assert shown.state is State.PLAN_REVIEW
    [plan] = shown.plans
    assert plan.submitted_by == LI
    assert [(a.description, a.owner) for a in plan.actions] == [
        ("Cap overtime at 60 hours", "Plant manager"),
        ("Hire for peak season", "HR"),
    ]
    assert shown.events[-1].actor == LI
    assert ("plan_received", ANNA) in outbox(linked_world)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"root_cause": ""}, "Root cause: "),
        ({"due_1": "31/12/2026"}, "Actions: action 2: due: "),
        (
            {
                "description_0": "",
                "owner_0": "",
                "due_0": "",
                "description_1": "",
                "owner_1": "",
                "due_1": "",
            },
            "Actions: give at least one action",
        ),
    ],
    ids=["no root cause", "a bad date", "no action"],
)
def test_a_bad_plan_is_refused_naming_its_field(
    linked_world: World, supplier: Desk, fields: dict[str, str], message: str
) -> None:
    ref = notified(linked_world)
    page = page_of(linked_world, ref)
    rows = {
        "root_cause": "Orders accepted without staff",
        "rows": "2",
        "description_0": "Cap overtime",
        "owner_0": "Plant manager",
        "due_0": DUE,
        "description_1": "Hire",
        "owner_1": "HR",
        "due_1": DUE,
    }
    refused = supplier.post(
        f"{page}/submit_plan", plan_form(supplier, page, **{**rows, **fields}, change="send")
    )
    assert refused.status_code == 400
    assert message in refused.text
    assert linked_world.workflow.show_finding(ref, now=NOW).plans == ()


def upload(
    desk: Desk, path: str, page: str, files: list[tuple[str, bytes]], **fields: str
) -> httpx.Response:
    data = {"csrftoken": desk.token(page), **fields}
    return desk.request(
        "POST",
        path,
        data=data,
        files=[("file", (n, c, "application/octet-stream")) for n, c in files],
    )


def test_files_are_sent_and_downloaded_back_only_as_attachments(
    linked_world: World, supplier: Desk
) -> None:
    workflow = linked_world.workflow
    ref = notified(linked_world)
    page = page_of(linked_world, ref)
    done = upload(supplier, f"{page}/files", page, [("register.pdf", PDF)])
    assert done.status_code == 303 and done.headers["location"] == f"{page}?done=evidence_added"
    [sent] = workflow.show_finding(ref, now=NOW).evidence
    assert sent.uploaded_by == LI and sent.sha256 == hashlib.sha256(PDF).hexdigest()
    back = supplier.get(f"{page}/files/{sent.id}")
    assert back.content == PDF
    assert back.headers["content-disposition"].startswith("attachment;")
    # The buyer's own working papers are not the supplier's to see.
    [staff] = workflow.add_evidence(
        ref, [EvidenceFile("audit-notes.pdf", b"%PDF internal")], actor=ANNA, now=NOW
    )
    assert "audit-notes.pdf" not in supplier.get(page).text
    assert supplier.get(f"{page}/files/{staff.id}").status_code == 404
    refused = upload(supplier, f"{page}/files", page, [("page.html", b"<script>")])
    assert refused.status_code == 400
    assert "Evidence files: page.html: .html files are not accepted" in refused.text
    assert len(workflow.show_finding(ref, now=NOW).evidence) == 2


def test_the_fix_is_reported_with_its_evidence(linked_world: World, supplier: Desk) -> None:
    workflow = linked_world.workflow
    ref = notified(linked_world)
    plan = PlanInput(
        root_cause="Peak season",
        actions=[PlanAction(description="Cap overtime", owner="HR", due=DUE)],
    )
    workflow.act(ref, ActionRequest(Action.SUBMIT_PLAN, LI, NOW), plan=plan, now=NOW)
    workflow.act(ref, ActionRequest(Action.ACCEPT_PLAN, ANNA, NOW), now=NOW)
    page = page_of(linked_world, ref)
    early = upload(supplier, f"{page}/report_remediation", page, [])
    assert early.status_code == 303  # a report without a file is a report still
    shown = workflow.show_finding(ref, now=NOW)
    assert shown.state is State.VERIFYING and shown.events[-1].actor == LI


def test_an_answer_the_state_does_not_allow_is_refused(linked_world: World, supplier: Desk) -> None:
    ref = notified(linked_world)
    page = page_of(linked_world, ref)
    refused = upload(supplier, f"{page}/report_remediation", page, [("fix.pdf", PDF)], note="Done")
    assert refused.status_code == 409
    assert "report-remediation: not possible while" in refused.text
    assert linked_world.workflow.show_finding(ref, now=NOW).evidence == ()


def test_a_form_without_its_token_is_refused(linked_world: World, supplier: Desk) -> None:
    ref = notified(linked_world)
    page = page_of(linked_world, ref)
    supplier.get(page)
    forged = supplier.post(
        f"{page}/submit_plan",
        {"root_cause": "x", "rows": "1", "description_0": "a", "owner_0": "b", "due_0": DUE},
    )
    assert forged.status_code == 403
    assert linked_world.workflow.show_finding(ref, now=NOW).plans == ()


def test_one_link_gives_a_limited_number_of_answers_an_hour(
    linked_world: World, supplier: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cap.workflow.answers.ANSWER_LIMIT", 2)
    ref = notified(linked_world)
    page = page_of(linked_world, ref)
    for name in ("a.pdf", "b.pdf"):
        assert upload(supplier, f"{page}/files", page, [(name, PDF)]).status_code == 303
    third = upload(supplier, f"{page}/files", page, [("c.pdf", PDF)])
    assert third.status_code == 429
    assert "too many answers through this link in the last hour (2)" in third.text
    assert len(linked_world.workflow.show_finding(ref, now=NOW).evidence) == 2


def test_more_time_is_asked_for_and_the_answer_shown(linked_world: World, supplier: Desk) -> None:
    workflow = linked_world.workflow
    ref = notified(linked_world)
    page = page_of(linked_world, ref)
    form = {"csrftoken": supplier.token(page), "until": "2026-04-01",
            "reason": "The auditor can only come in May"}  # fmt: skip
    early = supplier.post(f"{page}/request_extension", form)
    assert early.status_code == 400  # before the plan's deadline of 7 April
    assert "New deadline you ask for: " in early.text
    assert workflow.show_finding(ref, now=NOW).extension_request is None
    asked = supplier.post(f"{page}/request_extension", {**form, "until": "2026-05-15"})
    assert asked.status_code == 303
    pending = workflow.show_finding(ref, now=NOW).extension_request
    assert pending is not None and pending.until.isoformat() == "2026-05-15"
    assert pending.requested_by == LI
    assert ("extension_requested", ANNA) in outbox(linked_world)
    later = NOW + timedelta(hours=2)  # the page's clock is an hour after NOW
    workflow.act(
        ref,
        ActionRequest(Action.DECLINE_EXTENSION, ANNA, later, reason="Workers cannot wait"),
        now=later,
    )
    history = supplier.get(page).text.split("<h2>History</h2>")[1]
    assert "Extension asked for" in history and "Extension declined" in history
    assert "Date asked for: Fri 15 May 2026" in history
    assert "Workers cannot wait" in history and ANNA not in history


def test_hostile_text_is_shown_as_text_on_both_sides(
    linked_world: World, supplier: Desk, signed_in: Callable[[str], Desk]
) -> None:
    ref = notified(linked_world)
    page = page_of(linked_world, ref)
    hostile = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    rows = {"root_cause": hostile, "rows": "1", "description_0": hostile,
            "owner_0": hostile, "due_0": DUE}  # fmt: skip
    sent = supplier.post(f"{page}/submit_plan", plan_form(supplier, page, **rows, change="send"))
    assert sent.status_code == 303
    for text in (supplier.get(page).text, signed_in(ANNA).get(f"/findings/{ref}").text):
        assert "<script>alert(1)" not in text and "<img src=x" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_an_answer_is_one_use_of_the_link(linked_world: World, supplier: Desk) -> None:
    workflow = linked_world.workflow
    ref = notified(linked_world)
    page = page_of(linked_world, ref)
    token = supplier.token(page)  # a page seen: one use

    def uses() -> int:
        return sum(link.uses for link in workflow.links_of(ref))

    before = uses()
    sent = supplier.request("POST", f"{page}/files", data={"csrftoken": token},
                            files=[("file", ("a.pdf", PDF, "application/pdf"))])  # fmt: skip
    assert sent.status_code == 303 and uses() == before + 1
    exe = [("file", ("a.exe", b"MZ", "application/octet-stream"))]
    refused = supplier.request("POST", f"{page}/files", data={"csrftoken": token}, files=exe)
    assert refused.status_code == 400 and uses() == before + 2  # a refused answer is a use too
