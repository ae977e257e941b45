"""Use cases against real SQLite and PostgreSQL: what each action writes, and what it never does."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from cap.config import Settings, default_rules_path
from cap.domain.inputs import ContractInput, PlanAction, PlanInput, SupplierInput
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import Language, Severity, State
from cap.errors import ActionRefused, AlreadyExists, Conflict, InvalidInput, NotFound
from cap.store.db import Database
from cap.store.models import Decision, Event, Evidence, Finding, Plan
from cap.workflow import EvidenceFile, FindingFilter, FindingView, PlanActionView, Workflow
from tests.conftest import ANNA, CECILIA, DAVID, LI, NOW, World, make_world

PLAN = PlanInput(
    root_cause="Peak-season orders accepted beyond line capacity.",
    actions=[
        PlanAction(
            description="Cap overtime at 60 h/week", owner="Plant manager", due=date(2026, 5, 1)
        ),
        PlanAction(description="Hire 40 seasonal workers", owner="HR", due=date(2026, 6, 1)),
    ],
)


def act(
    world: World, ref: str, action: Action, at: datetime, actor: str = ANNA, **kw: object
) -> FindingView:
    request = ActionRequest(action=action, actor=actor, at=at, **kw)  # type: ignore[arg-type]
    plan = PLAN if action is Action.SUBMIT_PLAN else None
    view = world.workflow.act(ref, request, now=at, plan=plan).finding
    assert view is not None
    return view


def count(workflow: Workflow, model: type, **where: object) -> int:
    with workflow.db.read() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return int(session.execute(query).scalar_one())


def finding_row(workflow: Workflow, ref: str) -> Finding:
    with workflow.db.read() as session:
        return session.scalars(select(Finding).where(col(Finding.ref) == ref)).one()


def test_it_records_the_whole_life_of_a_finding(world: World) -> None:
    ref = world.finding()
    t = NOW
    act(world, ref, Action.NOTIFY, t)
    act(world, ref, Action.SUBMIT_PLAN, t + timedelta(days=20), actor=LI)
    act(world, ref, Action.REJECT_PLAN, t + timedelta(days=22), reason="No worker consultation")
    act(world, ref, Action.SUBMIT_PLAN, t + timedelta(days=30), actor=LI)
    act(world, ref, Action.ACCEPT_PLAN, t + timedelta(days=31), note="Good")
    act(world, ref, Action.REPORT_REMEDIATION, t + timedelta(days=120), actor=LI)
    view = act(world, ref, Action.VERIFY, t + timedelta(days=130), note="Payroll records checked")

    assert view.state == "closed"
    kinds = [e.kind for e in view.events]
    assert kinds == [
        "logged",
        "notify",
        "submit_plan",
        "reject_plan",
        "submit_plan",
        "accept_plan",
        "report_remediation",
        "verify",
    ]
    assert [e.actor for e in view.events][2] == LI
    plans = view.plans
    assert [(p.version, p.review_outcome) for p in plans] == [
        (1, "rejected"),
        (2, "accepted"),
    ]
    assert plans[0].review_reason == "No worker consultation"
    assert plans[1].actions[0] == PlanActionView(
        description="Cap overtime at 60 h/week", owner="Plant manager", due=date(2026, 5, 1)
    )
    row = finding_row(world.workflow, ref)
    assert row.version == 8  # created at 1, one increment per action
    assert row.next_check_at is None  # closed: nothing left to check
    assert count(world.workflow, Event, finding_id=row.id) == 8


def test_a_refused_action_writes_nothing(world: World) -> None:
    ref = world.finding()
    before = finding_row(world.workflow, ref)
    with pytest.raises(ActionRefused, match="allowed now: notify, withdraw"):
        act(world, ref, Action.ACCEPT_PLAN, NOW)
    with pytest.raises(InvalidInput, match=r"^reason:"):
        act(world, ref, Action.WITHDRAW, NOW)
    after = finding_row(world.workflow, ref)
    assert (after.version, after.state) == (before.version, before.state)
    assert count(world.workflow, Event) == 1


def test_an_unknown_finding_is_named(world: World) -> None:
    with pytest.raises(NotFound, match="finding NC-2026-9999 does not exist"):
        act(world, "NC-2026-9999", Action.NOTIFY, NOW)


def test_a_stale_version_is_a_conflict_and_changes_nothing(world: World) -> None:
    ref = world.finding()
    seen = world.workflow.show_finding(ref, now=NOW).version
    act(world, ref, Action.NOTIFY, NOW)  # someone else acts first
    request = ActionRequest(Action.WITHDRAW, ANNA, NOW, reason="duplicate")
    with pytest.raises(Conflict, match="changed since version 1"):
        world.workflow.act(ref, request, now=NOW, expected_version=seen)
    assert finding_row(world.workflow, ref).state.value == "awaiting_plan"


def test_people_acting_at_once_never_lose_an_update(world: World) -> None:
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    at = NOW + timedelta(days=1)
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def extend(i: int) -> None:
        request = ActionRequest(
            Action.EXTEND,
            ANNA,
            at,
            reason=f"request {i}",
            until=date(2026, 5, 4) + timedelta(weeks=i),
        )
        barrier.wait()
        try:
            world.workflow.act(ref, request, now=at)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        except InvalidInput:
            outcomes.append("refused")  # a later date already won
        except ActionRefused:
            outcomes.append("refused")  # the extensions the rules allow are used up

    threads = [threading.Thread(target=extend, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    row = finding_row(world.workflow, ref)
    assert len(outcomes) == 6 and outcomes.count("ok") >= 1  # each thread told what happened
    assert row.extensions == outcomes.count("ok")
    assert count(world.workflow, Event, finding_id=row.id, kind="extend") == outcomes.count("ok")
    assert count(world.workflow, Decision, finding_id=row.id) == outcomes.count("ok")
    assert row.version == 2 + outcomes.count("ok")


def test_instants_come_back_utc_aware_and_equal(world: World) -> None:
    ref = world.finding()
    stockholm_morning = datetime(2026, 3, 2, 8, 15, 30, 123456, tzinfo=timezone(timedelta(hours=1)))
    act(world, ref, Action.NOTIFY, stockholm_morning)
    row = finding_row(world.workflow, ref)
    assert row.notified_at == stockholm_morning
    assert row.notified_at is not None and row.notified_at.utcoffset() == timedelta(0)
    # Plan due 2 April; the first reminder goes out 7 days before at 09:00 Stockholm (CET).
    assert row.plan_due == date(2026, 4, 2)
    assert row.next_check_at == datetime(2026, 3, 26, 8, 0, tzinfo=UTC)


def test_refs_are_numbered_per_year(world: World) -> None:
    assert world.finding() == "NC-2026-0001"
    assert world.finding() == "NC-2026-0002"
    new_year = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already 2027 in Stockholm
    assert world.finding(now=new_year) == "NC-2027-0001"


def test_a_finding_cannot_be_found_in_the_future_or_on_an_unknown_contract(world: World) -> None:
    with pytest.raises(InvalidInput, match="found_on: 2026-03-04 is in the future"):
        world.finding(found_on=date(2026, 3, 4))
    unknown = World(world.workflow, contract="RS-NOPE")
    with pytest.raises(NotFound, match="contract: RS-NOPE does not exist"):
        unknown.finding()
    assert count(world.workflow, Finding) == 0


def test_evidence_is_stored_with_its_hash_and_oversized_files_are_refused(world: World) -> None:
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    act(world, ref, Action.SUBMIT_PLAN, NOW + timedelta(days=1), actor=LI)
    act(world, ref, Action.ACCEPT_PLAN, NOW + timedelta(days=2))
    payroll = b"%PDF-1.7 payroll records week 12\n" * 100
    request = ActionRequest(Action.REPORT_REMEDIATION, LI, NOW + timedelta(days=3))
    view = world.workflow.act(
        ref,
        request,
        now=NOW + timedelta(days=3),
        evidence=[EvidenceFile("../../payroll.pdf", payroll)],
    ).finding
    assert view is not None
    [evidence] = view.evidence
    assert evidence.file_name == "payroll.pdf"  # no path from the uploader survives
    assert evidence.sha256 == hashlib.sha256(payroll).hexdigest()
    meta, content = world.workflow.evidence_content(ref, evidence.id)
    assert content == payroll and meta.size == len(payroll)

    big = EvidenceFile("video.mp4", b"x" * (world.workflow.settings.evidence_max_bytes + 1))
    with pytest.raises(InvalidInput, match=r"video.mp4 is .* bytes; the limit is"):
        world.workflow.add_evidence(ref, [big], actor=LI, now=NOW + timedelta(days=4))
    assert count(world.workflow, Evidence) == 1


def test_termination_is_recorded_as_one_decision_with_two_people(world: World) -> None:
    ref = world.finding(severity=Severity.CRITICAL)
    act(world, ref, Action.NOTIFY, NOW)
    act(world, ref, Action.ESCALATE, NOW + timedelta(days=1), reason="Child labour confirmed")
    act(world, ref, Action.TERMINATE, NOW + timedelta(days=2), actor=CECILIA, reason="Clause 7")
    with pytest.raises(ActionRefused):
        act(world, ref, Action.APPROVE_TERMINATION, NOW + timedelta(days=3), actor=CECILIA)
    view = act(world, ref, Action.APPROVE_TERMINATION, NOW + timedelta(days=3), actor=DAVID)
    assert view.state == "terminated"
    [decision] = view.decisions
    assert decision.outcome == "termination"
    assert (decision.proposed_by, decision.approved_by) == (CECILIA, DAVID)


def test_it_lists_findings_by_state_supplier_and_overdue(world: World) -> None:
    late = world.finding(title="Union blocked")
    fresh = world.finding(title="No minerals policy")
    act(world, late, Action.NOTIFY, NOW)  # plan due 7 April 2026
    act(world, fresh, Action.NOTIFY, NOW + timedelta(days=30))
    wf = world.workflow
    end_of_due_day = datetime(2026, 4, 7, 22, 0, tzinfo=UTC)
    just_before = wf.list_findings(
        FindingFilter(overdue=True), now=end_of_due_day - timedelta(microseconds=1)
    )
    assert just_before == []
    overdue = wf.list_findings(FindingFilter(overdue=True), now=end_of_due_day)
    assert [f.ref for f in overdue] == [late]
    assert overdue[0].overdue is True and overdue[0].due == date(2026, 4, 7)
    awaiting = wf.list_findings(FindingFilter(state=None, supplier=world.org_number), now=NOW)
    assert len(awaiting) == 2
    with pytest.raises(NotFound, match="organisation number 000"):
        wf.list_findings(FindingFilter(supplier="000"), now=NOW)


def test_unique_keys_are_refused_with_the_field_named(world: World) -> None:
    with pytest.raises(AlreadyExists, match=r"^org-number:"):
        world.workflow.add_supplier(
            SupplierInput(
                name="Other",
                org_number=world.org_number,
                country="SE",
                email=LI,
                language=Language.SV,
            ),
            now=NOW,
        )
    with pytest.raises(AlreadyExists, match=r"^reference:"):
        world.workflow.add_contract(
            ContractInput(
                reference=world.contract, supplier=world.org_number, category="c", manager=ANNA
            ),
            now=NOW,
        )


def test_a_plan_is_required_to_submit_one(world: World) -> None:
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    request = ActionRequest(Action.SUBMIT_PLAN, LI, NOW)
    with pytest.raises(InvalidInput, match=r"^plan:"):
        world.workflow.act(ref, request, now=NOW)
    assert count(world.workflow, Plan) == 0


def test_the_rules_cap_extensions_and_can_name_who_grants_them(
    settings: Settings, tmp_path: Path
) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text(
        default_rules_path()
        .read_text()
        .replace("max = 3 ", "max = 1 ")
        .replace("approvers = []", 'approvers = ["decision_makers"]')
    )
    configured = settings.model_copy(update={"rules": rules, "decision_makers": CECILIA})
    world = make_world(Workflow(Database(configured.database_url), configured))
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    later = NOW + timedelta(days=1)
    with pytest.raises(ActionRefused, match="extensions are decided by decision_makers"):
        act(world, ref, Action.EXTEND, later, reason="r", until=date(2026, 5, 4))
    view = act(world, ref, Action.EXTEND, later, actor=CECILIA, reason="r", until=date(2026, 5, 4))
    change = view.events[-1].data["deadlines"][0]
    assert (change["old"], change["new"]) == ("2026-04-07", "2026-05-04")
    assert view.events[-1].actor == CECILIA and view.events[-1].data["reason"] == "r"
    with pytest.raises(ActionRefused, match="the rules allow 1"):
        act(world, ref, Action.EXTEND, later, actor=CECILIA, reason="r", until=date(2026, 6, 1))


def test_an_action_returns_what_it_recorded_and_the_finding_only_when_asked(world: World) -> None:
    ref = world.finding()
    notified = world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW, view=False)
    assert (notified.ref, notified.state, notified.version) == (ref, State.AWAITING_PLAN, 2)
    assert notified.finding is None
    assert notified.event == world.workflow.show_finding(ref, now=NOW).events[-1]
    assert notified.unreached == []  # the supplier has a contact

    request = ActionRequest(Action.ESCALATE, ANNA, NOW, reason="No answer")
    escalated = world.workflow.act(ref, request, now=NOW)
    assert escalated.finding is not None and escalated.finding.state is escalated.state
    assert escalated.finding.events[-1] == escalated.event
    # Nobody is configured for the buyer's roles: the action says whom its emails missed.
    assert {(u.ref, u.role) for u in escalated.unreached} == {
        (ref, "decision_makers"),
        (ref, "sustainability_manager"),
    }
