"""The demo data set: every state, deadlines near and passed, a clean history, on any day."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from cap.config import Settings
from cap.demo import DECISION_MAKERS, DemoSummary, add_users, seed
from cap.domain.model import Action, StaffRole, State
from cap.errors import AlreadyExists, InvalidInput
from cap.store.db import Database
from cap.workflow import FindingFilter, FindingView, Workflow
from tests.conftest import empty_pg

#: A Sunday before Advent; and a day in March, so that histories cross New Year.
NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
NOWS = [
    NOW,
    datetime(2027, 3, 15, 12, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 30, tzinfo=UTC),  # already New Year's Day in Stockholm
    datetime(2027, 3, 29, 7, 0, tzinfo=UTC),  # Easter Monday, the day after the DST change
]


def _workflow(url: str, tmp_path: Path) -> Workflow:
    return Workflow(Database(url), Settings(database_url=url, mail_dir=tmp_path / "mail"))


@pytest.fixture
def workflow(sqlite_url: str, tmp_path: Path) -> Iterator[Workflow]:
    wf = _workflow(sqlite_url, tmp_path)
    yield wf
    wf.db.engine.dispose()


def _findings(workflow: Workflow, now: datetime) -> list[FindingView]:
    return [
        workflow.show_finding(f.ref, now=now)
        for f in workflow.list_findings(FindingFilter(), now=now)
    ]


def check_data_set(workflow: Workflow, summary: DemoSummary, now: datetime) -> None:
    """What every seed must give, whatever ``now`` is."""
    assert summary.suppliers == len(workflow.list_suppliers()) == 5
    assert summary.contracts == len(workflow.list_contracts()) == 6
    findings = _findings(workflow, now)
    assert sorted(f.ref for f in findings) == sorted(summary.refs)
    assert 12 <= len(findings) <= 16

    by_state = {state.value: 0 for state in State}
    for f in findings:
        by_state[f.state] += 1
    assert summary.findings == by_state
    assert all(count >= 1 for count in by_state.values()), by_state

    overdue = workflow.list_findings(FindingFilter(overdue=True), now=now)
    assert overdue and all(f.overdue for f in overdue)

    today = workflow.settings.calendar.local_date(now)
    for f in findings:
        instants = [e.at for e in f.events]
        assert instants == sorted(instants), f.ref
        assert all(at.tzinfo is not None and at <= now for at in instants), f.ref
        first_day = workflow.settings.calendar.local_date(instants[0])
        assert f.found_on <= first_day <= today, f.ref
        assert f.events[0].kind == "logged"
    json.dumps(summary.as_dict())  # JSON-ready

    # Reports owed: one soon, one overdue, one that came in late; nothing dated after now.
    reports = workflow.list_obligations(now=now)
    assert [(r.state.value, r.overdue) for r in reports] == [
        ("received", False), ("due", True), ("due", False),
    ]  # fmt: skip
    late = reports[0]
    assert late.received_on is not None and late.due < late.received_on <= today
    for r in reports:
        detail = workflow.show_obligation(r.id, now=now)
        assert all(e.at <= now for e in detail.events), r.id


@pytest.mark.parametrize("now", NOWS, ids=lambda n: n.strftime("%Y-%m-%dT%H%M"))
def test_seed_gives_every_state_on_any_day(workflow: Workflow, now: datetime) -> None:
    summary = seed(workflow, now=now)
    check_data_set(workflow, summary, now)
    # The rules' engine accepts the data: a sweep at `now` catches up without an error.
    assert workflow.sweep(now=now).errors == ()


def test_the_data_set_tells_the_stories_it_promises(workflow: Workflow) -> None:
    seed(workflow, now=NOW)
    findings = _findings(workflow, NOW)
    in_state = {s: [f for f in findings if f.state == s.value] for s in State}

    awaiting = in_state[State.AWAITING_PLAN]
    assert any(f.severity == "critical" for f in awaiting)
    assert any(f.overdue and f.current_deadline == "plan" for f in awaiting)
    rejected = [f for f in awaiting if f.plans]
    assert rejected and rejected[0].plans[-1].review_outcome == "rejected"
    assert all(1 <= len(p.actions) <= 4 for f in findings for p in f.plans)
    # A request for more time waits on the desk; an earlier one was declined, one granted.
    assert any(f.extension_request and f.overdue for f in awaiting)

    assert any(f.extensions == 1 and f.remediation_due for f in in_state[State.REMEDIATING])
    soon = [(f.due - NOW.date()).days for f in in_state[State.REMEDIATING] if f.due is not None]
    assert len(soon) == len(in_state[State.REMEDIATING]) and min(soon) <= 21

    (verifying,) = in_state[State.VERIFYING]
    assert verifying.evidence, "a fix reported with evidence"
    meta, content = workflow.evidence_content(verifying.ref, verifying.evidence[0].id)
    assert meta.file_name.endswith(".csv") and content.startswith(b"employee_id;")

    (review,) = in_state[State.SANCTION_REVIEW]
    assert review.termination_proposed_by == DECISION_MAKERS[0]
    assert review.decisions[-1].approved_by is None

    (terminated,) = in_state[State.TERMINATED]
    decision = terminated.decisions[-1]
    assert decision.outcome == "termination"
    assert {decision.proposed_by, decision.approved_by} == set(DECISION_MAKERS)

    (withdrawn,) = in_state[State.WITHDRAWN]
    assert terminated.ref in withdrawn.events[-1].data["reason"]

    kinds = {e.kind for f in findings for e in f.events}
    assert {a.value for a in Action} - kinds <= {"resume", "penalise"}

    sources = {f.source for f in findings}
    assert sources >= {
        "desktop_audit",
        "factory_audit",
        "monitoring_report",
        "worker_complaint",
        "supplier_report",
    }
    assert {f.site_country for f in findings} >= {"CN", "MY", "VN", "TH", "MX", "CZ"}
    suppliers = workflow.list_suppliers()
    assert len({s.org_number for s in suppliers}) == len(suppliers)
    for s in suppliers:
        (contact,) = s.contacts
        assert contact.email.endswith(".example") and contact.language in ("sv", "en")
    managers = {c.manager for c in workflow.list_contracts()}
    assert len(managers) >= 2 and all(m.endswith("@region-stockholm.example") for m in managers)


def test_seed_is_deterministic(sqlite_template: Path, tmp_path: Path) -> None:
    views = []
    for name in ("one", "two"):
        path = tmp_path / name / "cap.db"
        path.parent.mkdir()
        shutil.copy(sqlite_template, path)
        wf = _workflow(f"sqlite:///{path}", tmp_path / name)
        try:
            seed(wf, now=NOW)
            views.append(_findings(wf, NOW))
        finally:
            wf.db.engine.dispose()
    assert views[0] == views[1]


def test_seeding_twice_fails_cleanly(workflow: Workflow) -> None:
    summary = seed(workflow, now=NOW)
    later = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with pytest.raises(AlreadyExists, match="org-number"):
        seed(workflow, now=later)
    assert len(workflow.list_suppliers()) == summary.suppliers
    assert len(workflow.list_contracts()) == summary.contracts
    assert len(workflow.list_findings(FindingFilter(), now=later)) == len(summary.refs)


def test_seed_needs_an_aware_now(workflow: Workflow) -> None:
    with pytest.raises(InvalidInput, match="now"):
        seed(workflow, now=datetime(2026, 11, 29, 10, 0))
    assert workflow.list_suppliers() == []


def test_seed_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    empty_pg(pg_url)
    wf = _workflow(pg_url, tmp_path)
    try:
        summary = seed(wf, now=NOW)
        check_data_set(wf, summary, NOW)
        with pytest.raises(AlreadyExists):
            seed(wf, now=NOW)
    finally:
        wf.db.engine.dispose()
        empty_pg(pg_url)


def test_the_desk_has_a_user_for_each_role_who_can_sign_in(workflow: Workflow) -> None:
    # Cheap argon2 parameters: the stored hash carries them, and verification uses the hash's.
    workflow.password_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    seed(workflow, now=NOW)
    logins = add_users(workflow, now=NOW)

    users = {u.email: u for u in workflow.list_users()}
    assert sorted(users) == sorted(login.email for login in logins)
    roles = Counter(login.role for login in logins)
    assert roles == {StaffRole.ADMIN: 1, StaffRole.CONTRACT_MANAGER: 1,
                     StaffRole.SUSTAINABILITY_MANAGER: 2, StaffRole.VIEWER: 1}  # fmt: skip
    for login in logins:
        assert users[login.email].role == login.role
        assert users[login.email].name == login.name and login.name
        assert login.email.endswith("@region-stockholm.example")
        assert len(login.password) >= 12
        signed_in = workflow.authenticate(login.email, login.password, "203.0.113.9", NOW)
        assert signed_in.user is not None and signed_in.user.role == login.role, login.email
        wrong = workflow.authenticate(login.email, login.password[:-1], "203.0.113.9", NOW)
        assert wrong.user is None
    assert len({login.password for login in logins}) == len(logins)

    # The contract manager manages seeded contracts, one with a finding waiting for them.
    (manager,) = [login for login in logins if login.role is StaffRole.CONTRACT_MANAGER]
    theirs = {c.reference for c in workflow.list_contracts() if c.manager == manager.email}
    waiting = [
        f
        for f in _findings(workflow, NOW)
        if f.contract in theirs and f.state in (State.PLAN_REVIEW, State.VERIFYING)
    ]
    assert theirs and waiting
    # The termination proposed in the seeded sanction review can be approved by the other.
    deciders = {login.email for login in logins if login.role is StaffRole.SUSTAINABILITY_MANAGER}
    (review,) = workflow.list_findings(FindingFilter(state=State.SANCTION_REVIEW), now=NOW)
    proposer = workflow.show_finding(review.ref, now=NOW).termination_proposed_by
    assert proposer in deciders and deciders - {proposer}


def test_demo_users_get_new_passwords_each_time(sqlite_template: Path, tmp_path: Path) -> None:
    passwords = []
    for name in ("one", "two"):
        path = tmp_path / name / "cap.db"
        path.parent.mkdir()
        shutil.copy(sqlite_template, path)
        wf = _workflow(f"sqlite:///{path}", tmp_path / name)
        wf.password_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        try:
            passwords.append({login.email: login.password for login in add_users(wf, now=NOW)})
            with pytest.raises(AlreadyExists, match="email"):  # for a fresh database only
                add_users(wf, now=NOW)
        finally:
            wf.db.engine.dispose()
    assert passwords[0].keys() == passwords[1].keys()
    assert not set(passwords[0].values()) & set(passwords[1].values())


@pytest.mark.slow  # cap demo as a process
def test_cap_demo_fills_a_fresh_database_through_the_entry_point(tmp_path: Path) -> None:
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("CAP_")}
    # An earlier demo's email is removed with its database; other files in the folder stay.
    (tmp_path / "demo-mail").mkdir()
    (tmp_path / "demo-mail" / "old-demo.eml").write_text("Subject: from the last demo\n")
    (tmp_path / "demo-mail" / "notes.txt").write_text("mine")
    for _ in range(2):  # a second run replaces the database instead of failing on it
        done = subprocess.run(
            ["cap", "demo", "--no-serve", "--db", "demo.db"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "5 suppliers, 6 contracts" in done.stdout
    listed = subprocess.run(
        ["cap", "finding", "list", "--json"],
        cwd=tmp_path, env={**env, "CAP_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert len({f["state"] for f in json.loads(listed.stdout)}) == len(State)
    assert not (tmp_path / "demo-mail" / "old-demo.eml").exists()
    assert (tmp_path / "demo-mail" / "notes.txt").read_text() == "mine"
