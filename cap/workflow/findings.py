"""Use cases: logging findings (one, or a report's worth), acting on them, their evidence."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import PurePath

from sqlmodel import Session

from cap.domain.inputs import FindingInput, PlanInput
from cap.domain.lifecycle import Action, ActionRequest, Change, perform
from cap.domain.model import Case, Role, State
from cap.domain.rules import NoticeRule, Rules
from cap.errors import ActionRefused, AlreadyExists, Conflict, InvalidInput, NotFound
from cap.notify import outbox
from cap.store.mapping import case_of
from cap.store.models import Audit, Contract, Decision, Evidence, Finding, Supplier
from cap.workflow.base import UseCases
from cap.workflow.idempotency import Once, earlier, first_wins, remember
from cap.workflow.links import SupplierLinks
from cap.workflow.records import (
    EvidenceFile,
    action_context,
    add_plan,
    contracts_by_ref,
    event_row,
    evidence_entry,
    finding_by_ref,
    parties_of,
    record_decision,
    record_events,
    reserve_refs,
    review_plan,
    store_evidence,
)
from cap.workflow.results import (
    ActionResult,
    EventView,
    EvidenceView,
    ImportResult,
    SkippedRow,
    to_json,
)
from cap.workflow.screening import screen
from cap.workflow.views import evidence_view, finding_view

#: The kinds of evidence files accepted, by extension: documents, spreadsheets, images, text,
#: emails and archives of them. Nothing a browser or a desktop would run or render as a page
#: (.html, .svg, .exe, .js...): evidence is downloaded by staff from the desk.
EVIDENCE_TYPES = (
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "txt", "csv",
    "doc", "docx", "xls", "xlsx", "odt", "ods", "zip", "eml", "msg",
)  # fmt: skip


class Findings(UseCases):
    def log_finding(
        self,
        data: FindingInput,
        *,
        actor: str,
        now: datetime,
        once: Once | None = None,
        audit: int | None = None,
    ) -> str:
        """Record a new finding in state ``open``; returns its ref (NC-YYYY-NNNN).

        Logged by hand, one at a time, it is not held against similar findings (its author sees
        what they log); its external id, though, must be new on the contract. ``audit``: the
        audit it comes from (NotFound if unknown), one of the contract's supplier
        (InvalidInput if not). Sent ``once`` again, it logs nothing and returns the ref it gave
        the first time.
        """
        return first_wins(once, lambda: self._log_finding(data, actor, now, once, audit))

    def _log_finding(
        self, data: FindingInput, actor: str, now: datetime, once: Once | None, audit: int | None
    ) -> str:
        with self.db.write() as session:
            if (given := earlier(session, once, now)) is not None:
                return str(given["ref"])
            contracts = contracts_by_ref(session, {data.contract})
            if not contracts:
                raise NotFound(f"contract: {data.contract} does not exist", see="cap contract list")
            if audit is not None:
                _check_audit(session, audit, contracts[data.contract])
            result = self._log_findings(
                session,
                [data],
                contracts,
                actor=actor,
                now=now,
                where=lambda i: "",
                allow_duplicates=True,
                audit_id=audit,
            )
            if result.skipped:
                taken = result.skipped[0]
                raise AlreadyExists(
                    f"external-id: {taken.external_id} is already finding {taken.ref} "
                    f"of contract {data.contract}"
                )
            remember(session, once, {"ref": result.refs[0]}, now)
            return result.refs[0]

    def log_findings(
        self,
        rows: Sequence[FindingInput],
        *,
        actor: str,
        now: datetime,
        where: Callable[[int], str] = lambda i: f"finding {i + 1}",
        progress: Callable[[int], None] | None = None,
        allow_duplicates: bool = False,
        once: Once | None = None,
    ) -> ImportResult:
        """Record many findings at once: all of them or, on the first bad row, none.

        ``where(i)`` names row ``i`` in error messages (a CSV line number, say). A row whose
        external id is already a finding of its contract is skipped (see ``skipped``), so a
        report imported again adds only what is new; a row without one, like a finding of its
        contract (or an earlier row) in title, site and found_on, is a bad row unless
        ``allow_duplicates``. Sent ``once`` again, it logs nothing and returns what it gave the
        first time.
        """

        def log() -> ImportResult:
            with self.db.write() as session:
                if (given := earlier(session, once, now)) is not None:
                    return ImportResult(
                        refs=tuple(given["refs"]),
                        skipped=tuple(SkippedRow(**s) for s in given["skipped"]),
                    )
                contracts = contracts_by_ref(session, {r.contract for r in rows})
                result = self._log_findings(
                    session,
                    rows,
                    contracts,
                    actor=actor,
                    now=now,
                    where=where,
                    progress=progress,
                    allow_duplicates=allow_duplicates,
                )
                remember(session, once, to_json(result), now)
                return result

        return first_wins(once, log)

    def _log_findings(
        self,
        session: Session,
        rows: Sequence[FindingInput],
        contracts: dict[str, Contract],
        *,
        actor: str,
        now: datetime,
        where: Callable[[int], str],
        allow_duplicates: bool,
        progress: Callable[[int], None] | None = None,
        audit_id: int | None = None,
    ) -> ImportResult:
        today = self.settings.calendar.local_date(now)
        screened = screen(
            session,
            rows,
            contracts,
            today=today,
            where=where,
            allow_duplicates=allow_duplicates,
        )
        if screened.problems:
            raise screened.refusal()
        if progress and screened.skipped:
            progress(len(screened.skipped))
        skipped = tuple(screened.skipped)
        if not screened.new:
            return ImportResult(refs=(), skipped=skipped)
        year = today.year
        first = reserve_refs(session, year, len(screened.new))
        created: list[Finding] = []
        for number, i in enumerate(screened.new, start=first):
            row = rows[i]
            contract = contracts[row.contract]
            finding = Finding(
                ref=f"NC-{year}-{number:04d}",
                supplier_id=contract.supplier_id,
                contract_id=contract.id or 0,
                external_id=row.external_id,
                site=row.site,
                site_country=row.site_country,
                source=row.source,
                area=row.area,
                severity=row.severity,
                title=row.title,
                description=row.description,
                found_on=row.found_on or today,
                state=State.OPEN,
                created_at=now,
                created_by=actor,
                audit_id=audit_id,
            )
            session.add(finding)
            created.append(finding)
            if progress:
                progress(1)
        session.flush()
        record_events(
            session,
            *(event_row(f, "logged", actor=actor, at=now, now=now, moved=(None, State.OPEN))
              for f in created),
        )  # fmt: skip
        return ImportResult(refs=tuple(f.ref for f in created), skipped=skipped)

    def act(
        self,
        ref: str,
        request: ActionRequest,
        *,
        now: datetime,
        plan: PlanInput | None = None,
        evidence: Iterable[EvidenceFile] = (),
        expected_version: int | None = None,
        view: bool = True,
    ) -> ActionResult:
        """Apply one action to a finding and record it; returns what it did, and with ``view``
        the finding as shown after it (read in the same transaction).

        ``expected_version`` is the version the person saw: if the finding changed since,
        :class:`Conflict` is raised and nothing is written.
        """
        files = list(evidence)
        self._check_evidence(files)
        if request.action is Action.SUBMIT_PLAN and plan is None:
            raise InvalidInput("plan: submit-plan needs the plan (root_cause and actions)")
        with self.db.write() as session:
            finding = finding_by_ref(session, ref)
            if expected_version is not None and finding.version != expected_version:
                raise Conflict(
                    f"{ref} changed since version {expected_version} (now version "
                    f"{finding.version}); reload it and try again"
                )
            rules = self.settings.rule_set
            case = case_of(finding)
            if request.action in (Action.EXTEND, Action.DECLINE_EXTENSION):
                self._check_extension(case, request, rules)
            change = perform(case, request, now=now, calendar=rules.calendar, policy=rules)
            assert finding.id is not None
            data = dict(change.data)
            if plan is not None and request.action is Action.SUBMIT_PLAN:
                data["plan_version"] = add_plan(session, finding.id, plan, request)
            elif request.action in (Action.ACCEPT_PLAN, Action.REJECT_PLAN):
                data["plan_version"] = review_plan(session, finding.id, request)
            if files:
                stored = [store_evidence(session, finding.id, f, request) for f in files]
                data["evidence"] = [evidence_entry(row) for row in stored]
            decision = None
            if change.decision is not None:
                decision = record_decision(session, finding.id, change, request)
            notices = rules.notices_for(request.action, case.severity, case.area)
            if notices:
                data["notifications"] = self._queue_for_action(
                    session, finding, change, request, decision, notices, now
                )
            event = EventView(
                at=request.at,
                recorded_at=now,
                actor=request.actor,
                kind=request.action.value,
                from_state=change.from_state,
                to_state=change.to_state,
                data=data,
            )
            record_events(
                session,
                event_row(finding, event.kind, actor=event.actor, at=event.at, now=now,
                          moved=(change.from_state, change.to_state), data=data),
            )  # fmt: skip
            self._save_case(session, finding, change.case)
            result = ActionResult(finding.ref, change.to_state, finding.version + 1, event)
            if not view:
                return result
            # Read back what was written as it is stored (the finding by a Core UPDATE; new
            # rows hold the instants as given, in the actor's offset, not UTC as stored).
            session.expire_all()
            return replace(result, finding=finding_view(session, finding, self.settings, now))

    def add_evidence(
        self, ref: str, files: Sequence[EvidenceFile], *, actor: str, now: datetime
    ) -> list[EvidenceView]:
        """Attach files to a finding without changing its state (recorded in the trail)."""
        self._check_evidence(list(files))
        if not files:
            raise InvalidInput("file: give at least one file")
        with self.db.write() as session:
            finding = finding_by_ref(session, ref)
            assert finding.id is not None
            request = ActionRequest(Action.REPORT_REMEDIATION, actor, now)
            added = [store_evidence(session, finding.id, f, request) for f in files]
            record_events(
                session,
                event_row(finding, "evidence_added", actor=actor, at=now, now=now,
                          data={"evidence": [evidence_entry(row) for row in added]}),
            )  # fmt: skip
            return [evidence_view(row) for row in added]

    def evidence_content(self, ref: str, evidence_id: int) -> tuple[EvidenceView, bytes]:
        """An evidence file of a finding: what is known of it, and its bytes."""
        with self.db.read() as session:
            finding = finding_by_ref(session, ref)
            row = session.get(Evidence, evidence_id)
            if row is None or row.finding_id != finding.id:
                raise NotFound(f"evidence {evidence_id} does not belong to {ref}")
            return evidence_view(row), row.content

    # -- checks and emails -------------------------------------------------------------------

    def _check_evidence(self, files: list[EvidenceFile]) -> None:
        limit = self.settings.evidence_max_bytes
        for f in files:
            if len(f.content) > limit:
                raise InvalidInput(
                    f"file: {f.file_name} is {len(f.content):,} bytes; the limit is {limit:,} "
                    "(CAP_EVIDENCE_MAX_BYTES)"
                )
            name = f.stored_name
            # ".." from "../", "C:" from a bare drive: what is left of a path without a file.
            pathless = name in {".", ".."} or name.endswith(":")
            if not name or pathless or any(ord(ch) < 32 for ch in name) or len(name) > 255:
                raise InvalidInput(f"file: {f.file_name!r} is not a usable file name")
            suffix = PurePath(name).suffix.lower().lstrip(".")
            if suffix not in EVIDENCE_TYPES:
                kind = f".{suffix} files" if suffix else "files without an extension"
                raise InvalidInput(
                    f"file: {name}: {kind} are not accepted; send one of "
                    f"{', '.join(EVIDENCE_TYPES)}"
                )

    def _check_extension(self, case: Case, request: ActionRequest, rules: Rules) -> None:
        """The rules may cap extensions and say whose decision an extension is: granting one
        and declining one alike."""
        limits = rules.extensions
        label = request.action.label
        capped = limits.max is not None and case.extensions >= limits.max
        if request.action is Action.EXTEND and capped:
            raise ActionRefused(
                f"cannot extend: the finding had {case.extensions} extension(s), the rules allow "
                f"{limits.max}; escalate to a sanction review instead"
            )
        if limits.approvers:
            allowed = {a.casefold() for role in limits.approvers for a in self._addresses(role)}
            if request.actor.casefold() not in allowed:
                names = ", ".join(r.value for r in limits.approvers)
                raise ActionRefused(
                    f"cannot {label}: extensions are decided by {names}; {request.actor} is not "
                    "one of them (see CAP_DECISION_MAKERS, CAP_SUSTAINABILITY_MANAGER)"
                )

    def _addresses(self, role: Role) -> list[str]:
        if role is Role.DECISION_MAKERS:
            return self.settings.decision_maker_addresses
        if role is Role.SUSTAINABILITY_MANAGER:
            return self.settings.sustainability_manager_addresses
        return []

    def _queue_for_action(
        self,
        session: Session,
        finding: Finding,
        change: Change,
        request: ActionRequest,
        decision: Decision | None,
        notices: Sequence[NoticeRule],
        now: datetime,
    ) -> dict[str, list[dict[str, str]]]:
        parties = parties_of(session, finding, change.case)
        # An extension's email is about the date it set, a request's (and its refusal's) about
        # the date asked for; the others name their deadline.
        deadline: date | None = None
        if request.action is Action.EXTEND and change.deadline_changes:
            deadline = change.deadline_changes[-1].new
        elif request.action in (Action.REQUEST_EXTENSION, Action.DECLINE_EXTENSION):
            deadline = date.fromisoformat(change.data["until"])
        return outbox.queue(
            session,
            self.settings,
            notices=[outbox.Notice(n.template, tuple(n.to), n.deadline, n.id) for n in notices],
            parties=parties,
            # The finding's version after this action names the action uniquely.
            key=f"{finding.ref}/v{finding.version + 1}",
            now=now,
            extra=action_context(request.reason, request.note, decision),
            deadline=deadline,
            links=SupplierLinks(session, self.settings, now),
        )


def _check_audit(session: Session, audit_id: int, contract: Contract) -> None:
    """NotFound for an unknown audit, InvalidInput for an audit of another supplier than the
    contract's: a finding comes from an audit of its own supplier."""
    audit = session.get(Audit, audit_id)
    if audit is None:
        raise NotFound(f"audit: there is no audit {audit_id}", see="cap audit list")
    if audit.supplier_id != contract.supplier_id:
        theirs, ours = (
            session.get(Supplier, audit.supplier_id),
            session.get(Supplier, contract.supplier_id),
        )
        assert theirs is not None and ours is not None  # foreign keys
        raise InvalidInput(
            f"audit: audit {audit_id} is of {theirs.name} ({theirs.org_number}), not of "
            f"{ours.name} ({ours.org_number}), the supplier of contract {contract.reference}"
        )
