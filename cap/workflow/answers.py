"""What a supplier sees and does through a link in an email, without an account.

A link opens the supplier's findings on the contract of the finding it was sent for (a link
for the supplier alone: on all of its contracts): those still open, and the link's own finding
whatever became of it. Of each, the supplier sees what it is, what is expected of them now and
by when, their plans and files, and the history that concerns them: what was asked of them,
the emails sent to them, their answers and the decisions told to them. Never internal notes,
other suppliers' findings, nor who on the buyer's side did what: the contract manager's name
and address are the only staff identity shown.

An answer is the action it is (:meth:`cap.workflow.findings.Findings.act`), with the link's
address as the actor, checked and recorded as any other, with its emails, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from cap.domain.inputs import PlanInput
from cap.domain.lifecycle import Action, ActionRequest, allowed_actions, current_deadline
from cap.domain.model import ACTIVE_STATES, Area, DeadlineKind, Language, Severity, State
from cap.errors import ActionRefused, CapError, NotFound
from cap.store.mapping import case_of
from cap.store.models import (
    Contract,
    Event,
    Finding,
    Supplier,
    SupplierContact,
    SupplierLink,
    User,
    address_key,
)
from cap.workflow.findings import Findings
from cap.workflow.links import Links
from cap.workflow.records import EvidenceFile
from cap.workflow.results import (
    ActionResult,
    EventView,
    EvidenceView,
    LinkView,
    PlanView,
)
from cap.workflow.views import finding_view

#: What a supplier may do through a link: answer what is asked of them, or ask for time.
SUPPLIER_ACTIONS: tuple[Action, ...] = (
    Action.SUBMIT_PLAN,
    Action.REPORT_REMEDIATION,
    Action.REQUEST_EXTENSION,
)
#: Answers through one link within :data:`ANSWER_WINDOW` before it must wait: far more than
#: a person answering needs, far fewer than a script trying.
ANSWER_LIMIT = 30
ANSWER_WINDOW = timedelta(hours=1)

#: The history a supplier sees: what was asked of them and what they answered. The reason of
#: these is told to the supplier in its email (a rejection's, an extension's, a sanction's).
_TOLD_REASON = frozenset({
    Action.REJECT_PLAN.value, Action.REJECT_REMEDIATION.value, Action.EXTEND.value,
    Action.WARN.value, Action.PENALISE.value, Action.WITHDRAW.value,
    Action.REQUEST_EXTENSION.value, Action.DECLINE_EXTENSION.value,
})  # fmt: skip
#: Events whose ``until`` is the date the supplier asked for.
_ASKED = frozenset({Action.REQUEST_EXTENSION.value, Action.DECLINE_EXTENSION.value})
_SHOWN = frozenset({
    Action.NOTIFY.value, Action.SUBMIT_PLAN.value, Action.ACCEPT_PLAN.value,
    Action.REPORT_REMEDIATION.value, Action.VERIFY.value, Action.APPROVE_TERMINATION.value,
    "evidence_added", *_TOLD_REASON,
})  # fmt: skip
#: Shown only when one of their emails went to the supplier.
_SENT = frozenset({"reminder", "escalation", "request_resent", Action.ESCALATE.value})


@dataclass(frozen=True)
class SupplierEntry:
    """An entry of a finding's history as its supplier sees it: ``by_supplier`` whether they
    did it (``actor`` is then their address; the buyer's people are not named)."""

    at: datetime
    kind: str
    by_supplier: bool
    actor: str | None
    reason: str | None
    deadlines: tuple[tuple[DeadlineKind, date], ...]
    files: tuple[str, ...]
    email: str | None  # the kind of email sent to the supplier, for reminders
    asked: date | None = None  # the date an extension request asked for


@dataclass(frozen=True)
class SupplierFinding:
    """A finding as its supplier sees it through a link."""

    ref: str
    title: str
    description: str
    area: Area
    severity: Severity
    site: str | None
    site_country: str | None
    found_on: date
    state: State
    expected: DeadlineKind | None  # what the deadline that binds now is for
    due: date | None
    overdue: bool
    actions: tuple[Action, ...]  # what the supplier may answer now
    plans: tuple[PlanView, ...]
    evidence: tuple[EvidenceView, ...]  # the files the supplier's side sent
    history: tuple[SupplierEntry, ...]
    version: int


@dataclass(frozen=True)
class SupplierPortal:
    """What a link opens: who it is for, their contact at the buyer, their findings."""

    link: LinkView
    supplier: str
    supplier_org_number: str
    language: Language
    contract: str | None  # None: a link for the supplier's findings on every contract
    manager_name: str | None
    manager_email: str | None
    findings: tuple[SupplierFinding, ...]

    def finding(self, ref: str) -> SupplierFinding:
        """One of the link's findings; NotFound, naming no other, if ``ref`` is not one."""
        for f in self.findings:
            if f.ref == ref.strip():
                return f
        raise NotFound(f"finding: {ref.strip()[:40]} is not one of the findings of this link")


class Answers(Findings, Links):
    def supplier_portal(self, token: str, *, now: datetime, record: bool = True) -> SupplierPortal:
        """What the link ``token`` opens at ``now`` (its use recorded, unless not ``record``);
        LinkNotValid if none."""
        link = self.open_link(token, now=now, record=record)
        with self.db.read() as session:
            return self._portal(session, link, now)

    def answer(
        self,
        token: str,
        ref: str,
        action: Action,
        *,
        now: datetime,
        reason: str | None = None,
        until: date | None = None,
        note: str | None = None,
        plan: PlanInput | None = None,
        evidence: Iterable[EvidenceFile] = (),
        expected_version: int | None = None,
    ) -> ActionResult:
        """The supplier's answer ``action`` on ``ref`` through the link ``token``, recorded
        as that action with the link's address as the actor."""
        if action not in SUPPLIER_ACTIONS:
            raise ActionRefused(f"{action.label}: is not an answer a supplier gives")
        link, found = self._answering(token, ref, now)
        possible = [a for a in allowed_actions(found.state) if a in SUPPLIER_ACTIONS]
        if action not in possible:
            raise ActionRefused(
                f"{action.label}: not possible while {found.ref} is {found.state.value}"
                + (f"; possible now: {', '.join(a.label for a in possible)}" if possible else "")
            )
        request = ActionRequest(action, link.address, now, reason=reason, note=note,
                                until=until)  # fmt: skip
        return self.act(found.ref, request, now=now, plan=plan, evidence=evidence,
                        expected_version=expected_version, view=False)  # fmt: skip

    def attach_as_supplier(
        self, token: str, ref: str, files: Sequence[EvidenceFile], *, now: datetime
    ) -> list[EvidenceView]:
        """Files the supplier sends through the link ``token`` for ``ref``."""
        link, found = self._answering(token, ref, now)
        if found.state not in (*ACTIVE_STATES, State.SANCTION_REVIEW):
            raise ActionRefused(f"file: {found.ref} is {found.state.value}; it takes no more files")
        return self.add_evidence(found.ref, files, actor=link.address, now=now)

    def supplier_evidence(
        self, token: str, ref: str, evidence_id: int, *, now: datetime
    ) -> tuple[EvidenceView, bytes]:
        """A file the supplier's side sent, back to them through the link ``token``."""
        portal = self.supplier_portal(token, now=now)
        found = portal.finding(ref)
        if not any(e.id == evidence_id for e in found.evidence):
            raise NotFound(f"file: {evidence_id} is not one of the files of {found.ref}")
        return self.evidence_content(found.ref, evidence_id)

    # -- reading -----------------------------------------------------------------------------

    def _answering(self, token: str, ref: str, now: datetime) -> tuple[LinkView, Finding]:
        """The link ``token`` (its use recorded) and its finding ``ref``, for an answer:
        refused once the link gave ANSWER_LIMIT answers within ANSWER_WINDOW."""
        link = self.open_link(token, now=now)
        with self.db.read() as session:
            scope, _ = _scope(session, link)
            found = session.execute(scope.where(col(Finding.ref) == ref.strip())).scalar()
            if found is None:
                raise NotFound(
                    f"finding: {ref.strip()[:40]} is not one of the findings of this link"
                )
            given = session.execute(
                select(func.count())
                .select_from(Event)
                .join(Finding, col(Finding.id) == col(Event.finding_id))
                .where(
                    col(Finding.supplier_id) == link.supplier_id,
                    col(Event.actor) == link.address,
                    col(Event.recorded_at) > now - ANSWER_WINDOW,
                )
            ).scalar_one()
        if given >= ANSWER_LIMIT:
            raise Throttled(
                f"too many answers through this link in the last hour ({given}); wait an hour, "
                "or write to your contact at the buyer"
            )
        return link, found

    def _portal(self, session: Session, link: LinkView, now: datetime) -> SupplierPortal:
        supplier = session.get(Supplier, link.supplier_id)
        assert supplier is not None
        scope, contract = _scope(session, link)
        addresses = _supplier_addresses(session, supplier, link)
        findings = tuple(
            self._supplier_finding(session, f, addresses, now)
            for f in session.execute(scope.order_by(col(Finding.id))).scalars()
        )
        manager_name = None
        if contract is not None:
            manager_name = session.execute(
                select(col(User.name)).where(col(User.email_key) == contract.manager_key)
            ).scalar_one_or_none()
        return SupplierPortal(
            link=link, supplier=supplier.name, supplier_org_number=supplier.org_number,
            language=_language_of(session, link, self.settings.default_language),
            contract=contract.reference if contract else None, manager_name=manager_name,
            manager_email=contract.manager_email if contract else None, findings=findings,
        )  # fmt: skip

    def _supplier_finding(
        self, session: Session, finding: Finding, addresses: set[str], now: datetime
    ) -> SupplierFinding:
        view = finding_view(session, finding, self.settings, now)
        case = case_of(finding)
        current = current_deadline(case)
        expected = current[0] if current else None
        possible = tuple(a for a in allowed_actions(case.state) if a in SUPPLIER_ACTIONS)
        # The buyer's own deadlines (its review, its check) are not the supplier's to meet.
        owed = expected in (DeadlineKind.PLAN, DeadlineKind.REMEDIATION)
        return SupplierFinding(
            ref=view.ref, title=view.title, description=view.description,
            area=view.area, severity=view.severity, site=view.site,
            site_country=view.site_country, found_on=view.found_on, state=view.state,
            expected=expected, due=view.due if owed else None,
            overdue=view.overdue and owed, actions=possible,
            plans=tuple(_unsigned(p) for p in view.plans),
            evidence=tuple(e for e in view.evidence if address_key(e.uploaded_by) in addresses),
            history=tuple(_history(view.events, addresses)), version=view.version,
        )  # fmt: skip


def _scope(session: Session, link: LinkView) -> tuple[Select[Finding], Contract | None]:
    """The findings ``link`` opens (those of its finding's contract, when it has one), and
    that contract: its supplier's findings told to it and still open, and its own finding
    whatever became of it."""
    scope = select(Finding).where(
        col(Finding.supplier_id) == link.supplier_id,
        col(Finding.state) != State.OPEN,  # not told to the supplier yet
        col(Finding.state).in_([*ACTIVE_STATES, State.SANCTION_REVIEW])
        | (col(Finding.ref) == link.finding_ref),
    )
    if link.finding_ref is None:
        return scope, None
    own = session.execute(select(Finding).where(col(Finding.ref) == link.finding_ref)).scalar_one()
    return scope.where(col(Finding.contract_id) == own.contract_id), session.get(
        Contract, own.contract_id
    )


class Throttled(CapError):
    """Too many attempts: the message says how long to wait."""

    exit_code = 7


def _supplier_addresses(session: Session, supplier: Supplier, link: LinkView) -> set[str]:
    """The supplier's side's addresses (its contacts, the link's, every link's): what they
    did is shown as theirs; anyone else is the buyer."""
    contacts = session.execute(
        select(col(SupplierContact.email)).where(col(SupplierContact.supplier_id) == supplier.id)
    ).scalars()
    linked = session.execute(
        select(col(SupplierLink.address_key)).where(col(SupplierLink.supplier_id) == supplier.id)
    ).scalars()
    return {address_key(a) for a in contacts} | set(linked) | {address_key(link.address)}


def _language_of(session: Session, link: LinkView, default: str) -> Language:
    """The language of the contact the link was sent to (their emails' language), else of
    the supplier's first contact, else the buyer's default."""
    contacts = session.execute(
        select(col(SupplierContact.email), col(SupplierContact.language))
        .where(col(SupplierContact.supplier_id) == link.supplier_id)
        .order_by(col(SupplierContact.id))
    ).all()
    key = address_key(link.address)
    chosen = next((lang for email, lang in contacts if address_key(email) == key), None)
    if chosen is None and contacts:
        chosen = contacts[0][1]
    try:
        return Language(chosen or default)
    except ValueError:
        return Language.SV


def _unsigned(plan: PlanView) -> PlanView:
    """A plan as its supplier sees it: not who at the buyer reviewed it, nor their note."""
    return PlanView(
        version=plan.version, root_cause=plan.root_cause, actions=plan.actions,
        submitted_at=plan.submitted_at, submitted_by=plan.submitted_by,
        review_outcome=plan.review_outcome,
        # A rejection's reason is told to the supplier; an acceptance's note is the buyer's.
        review_reason=plan.review_reason if plan.review_outcome == "rejected" else None,
        reviewed_by=None, reviewed_at=plan.reviewed_at,
    )  # fmt: skip


def _sent_to_supplier(data: Mapping[str, Any]) -> str | None:
    """The kind of the email an event queued for the supplier, if it queued one."""
    queued = data.get("notifications", {}).get("queued", [])
    return next((q.get("kind") for q in queued if q.get("role") == "supplier"), None)


def _history(events: Sequence[EventView], addresses: set[str]) -> list[SupplierEntry]:
    entries = []
    for e in events:
        email = _sent_to_supplier(e.data)
        if e.kind in _SENT and email is None:
            continue
        if e.kind not in _SHOWN and e.kind not in _SENT:
            continue
        mine = address_key(e.actor) in addresses
        if e.kind == "evidence_added" and not mine:
            continue  # the buyer's own files are its working papers
        reason = e.data.get("reason") if e.kind in _TOLD_REASON or mine else None
        asked = e.data.get("until") if e.kind in _ASKED else None
        # The supplier's own deadlines; the buyer's (its review, its check) are its business.
        deadlines = tuple(
            (DeadlineKind(d["deadline"]), date.fromisoformat(d["new"]))
            for d in e.data.get("deadlines", [])
            if d["deadline"] in (DeadlineKind.PLAN.value, DeadlineKind.REMEDIATION.value)
        )
        entries.append(
            SupplierEntry(
                at=e.at, kind=e.kind, by_supplier=mine, actor=e.actor if mine else None,
                reason=str(reason) if reason else None, deadlines=deadlines,
                files=tuple(str(f.get("file_name", "")) for f in e.data.get("evidence", [])),
                email=email, asked=date.fromisoformat(asked) if asked else None,
            )
        )  # fmt: skip
    return entries
