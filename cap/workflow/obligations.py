"""Use cases of reporting obligations: recording them (a contract's default one with the
contract), listing the overdue, receiving, extending and waiving a report, and the sweep of
their reminder and escalation ladders (the findings' engine and rules)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from cap.config import Settings
from cap.domain import engine
from cap.domain.model import ObligationKind, ObligationState
from cap.domain.obligations import (
    Duty,
    DutyAction,
    DutyRequest,
    allowed_duty_actions,
    check_title,
    new_duty,
    perform_duty,
)
from cap.domain.rules import Rules
from cap.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from cap.notify import outbox
from cap.store.mapping import decode_ladder, encode_ladder
from cap.store.models import (
    Contract,
    Obligation,
    ObligationEvent,
    Supplier,
)
from cap.workflow.base import UseCases
from cap.workflow.records import (
    CONTACTS,
    PARTIES,
    RETRY_AFTER_ERROR,
    SYSTEM_ACTOR,
    SweepTally,
    contract_by_ref,
)
from cap.workflow.results import (
    ObligationDetail,
    ObligationEventView,
    ObligationView,
    SweepAction,
    Unreached,
)
from cap.workflow.views import step_view

log = logging.getLogger("cap.workflow")

#: The states in which the supplier still owes the report.
OWED: tuple[ObligationState, ...] = (ObligationState.DUE, ObligationState.ESCALATED)


#: The fields of a duty, each a column of the obligation of the same name (the ladder is
#: kept as JSON): a field added to Duty, with its column, is read and written with no list
#: to update, as a finding's case is (cap.store.mapping).
_DUTY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Duty) if f.name != "ladder")


def duty_of(row: Obligation) -> Duty:
    """The domain's view of an obligation's row."""
    values = {name: getattr(row, name) for name in _DUTY_FIELDS}
    return Duty(**values, ladder=decode_ladder(row.ladder))


def report_due(rules: Rules, start: date) -> date:
    """When a contract starting on ``start`` owes its report under ``rules``: the report
    period after the start, rolled off closed days as every deadline is."""
    calendar = rules.calendar
    # THE one function for deadlines counts from an instant: noon of the start, there.
    return calendar.due_date(calendar.at(start, time(12)), rules.report_period, field="due")


def record_default_obligation(
    session: Session, settings: Settings, contract: Contract, *, now: datetime
) -> Obligation | None:
    """The social-risk report a contract with a start date owes, recorded in the caller's
    transaction; none without a start, none when its due date has passed already (a contract
    recorded long after it started: whether the report came in is not cap's to guess), and
    none more once it has one."""
    if contract.start_date is None:
        return None
    exists = session.execute(
        select(col(Obligation.id)).where(
            col(Obligation.contract_id) == contract.id,
            col(Obligation.kind) == ObligationKind.SOCIAL_RISK_REPORT,
        )
    ).first()
    if exists is not None:
        return None
    due = report_due(settings.rule_set, contract.start_date)
    if due < settings.calendar.local_date(now):
        return None
    return _record(
        session, settings, contract, ObligationKind.SOCIAL_RISK_REPORT, None, due,
        actor=SYSTEM_ACTOR, now=now, data={"default": True},
    )  # fmt: skip


def _record(
    session: Session,
    settings: Settings,
    contract: Contract,
    kind: ObligationKind,
    title: str | None,
    due: date,
    *,
    actor: str,
    now: datetime,
    data: dict[str, Any],
) -> Obligation:
    assert contract.id is not None
    duty = new_duty(due, now)
    row = Obligation(
        contract_id=contract.id,
        supplier_id=contract.supplier_id,
        kind=kind,
        title=title,
        first_due=due,
        due=due,
        state=duty.state,
        ladder=encode_ladder(duty.ladder),
        next_check_at=engine.next_check_at(duty, settings.rule_set),
        last_event_at=now,
        created_at=now,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    session.add(
        ObligationEvent(
            obligation_id=row.id, at=now, recorded_at=now, actor=actor, kind="recorded",
            to_state=row.state, data={**data, "due": due.isoformat()},
        )
    )  # fmt: skip
    return row


@dataclass(frozen=True)
class ObligationFilter:
    """Which obligations a list shows: ``overdue`` ones only (still owed after the due day),
    of ``states``, of one contract or supplier (organisation number)."""

    overdue: bool = False
    states: tuple[ObligationState, ...] = ()
    contract: str | None = None
    supplier: str | None = None


class Obligations(UseCases):
    def add_obligation(
        self,
        contract: str,
        *,
        kind: ObligationKind = ObligationKind.SOCIAL_RISK_REPORT,
        due: date | None = None,
        title: str | None = None,
        actor: str,
        now: datetime,
    ) -> ObligationView:
        """Oblige ``contract``'s supplier to send a report by ``due`` (by default the report
        period after the contract's start; a closed day moves to the next open one)."""
        rules = self.settings.rule_set
        title = check_title(kind, title)
        if not actor.strip():
            raise InvalidInput("as: the actor is required (an email address)")
        with self.db.write() as session:
            row, _ = contract_by_ref(session, contract)
            if due is None:
                if row.start_date is None:
                    raise InvalidInput(
                        f"due: contract {contract} has no start date to count from; give the "
                        "due date, or set the contract's start"
                    )
                due = report_due(rules, row.start_date)
            else:
                # Every deadline obeys the same calendar rule, a date typed in too.
                due = rules.calendar.roll(due, field="due")
            if session.execute(
                select(col(Obligation.id)).where(
                    col(Obligation.contract_id) == row.id,
                    col(Obligation.kind) == kind,
                    col(Obligation.first_due) == due,
                )
            ).first():
                raise AlreadyExists(
                    f"due: contract {contract} already owes a {kind.value} report due on "
                    f"{due.isoformat()}"
                )
            obligation = _record(
                session, self.settings, row, kind, title, due, actor=actor, now=now, data={}
            )
            return self._view(session, obligation, now)

    def list_obligations(
        self, *, now: datetime, where: ObligationFilter | None = None
    ) -> list[ObligationView]:
        """The obligations ``where`` picks, the earliest due first."""
        where = where or ObligationFilter()
        today = self.settings.calendar.local_date(now)
        with self.db.read() as session:
            query = (
                select(Obligation, Contract, Supplier)
                .join(Contract, col(Contract.id) == col(Obligation.contract_id))
                .join(Supplier, col(Supplier.id) == col(Obligation.supplier_id))
                .order_by(col(Obligation.due), col(Obligation.id))
            )
            if where.overdue:
                query = query.where(col(Obligation.state).in_(OWED), col(Obligation.due) < today)
            if where.states:
                query = query.where(col(Obligation.state).in_(where.states))
            if where.contract is not None:
                query = query.where(col(Contract.reference) == where.contract)
            if where.supplier is not None:
                query = query.where(col(Supplier.org_number) == where.supplier)
            return [
                obligation_view(o, c, s, self.settings, now)
                for o, c, s in session.execute(query).all()
            ]

    def show_obligation(self, obligation_id: int, *, now: datetime) -> ObligationDetail:
        """One obligation with its trail and what its ladder still holds."""
        rules = self.settings.rule_set
        with self.db.read() as session:
            row = _obligation(session, obligation_id)
            view = self._view(session, row, now)
            events = session.execute(
                select(ObligationEvent)
                .where(col(ObligationEvent.obligation_id) == row.id)
                .order_by(col(ObligationEvent.id))
            ).scalars()
            return ObligationDetail(
                obligation=view,
                allowed=allowed_duty_actions(row.state),
                events=tuple(
                    ObligationEventView(
                        e.at, e.actor, e.kind, e.from_state, e.to_state, dict(e.data)
                    )
                    for e in events
                ),
                timeline=tuple(
                    step_view(entry) for entry in engine.timeline(duty_of(row), rules, now)
                ),
            )

    def act_on_obligation(
        self, obligation_id: int, request: DutyRequest, *, now: datetime,
        expected_version: int | None = None,
    ) -> ObligationView:  # fmt: skip
        """Receive, extend or waive a report (one transaction; refused with a message saying
        why when the state or a value does not allow it). ``expected_version``: refuse if
        someone changed it since the person saw it."""
        if request.action is DutyAction.ESCALATE:
            raise InvalidInput("action: escalation is the rules' step; extend or waive instead")
        rules = self.settings.rule_set
        with self.db.write() as session:
            row = _obligation(session, obligation_id)
            if expected_version is not None and row.version != expected_version:
                raise Conflict(
                    f"report {obligation_id} was changed by someone else meanwhile; reload it "
                    "and try again"
                )
            change = perform_duty(duty_of(row), request, now=now, calendar=rules.calendar)
            _save(session, row, change.duty, engine.next_check_at(change.duty, rules))
            session.add(
                ObligationEvent(
                    obligation_id=obligation_id, at=request.at, recorded_at=now,
                    actor=request.actor, kind=request.action.value,
                    from_state=change.from_state, to_state=change.to_state, data=change.data,
                )
            )  # fmt: skip
            session.flush()
            session.refresh(row)
            return self._view(session, row, now)

    def reschedule_obligations(self, *, now: datetime) -> int:
        """When each report still due is next looked at, under the rules in force (after a
        rules change; see Sweeps.refresh_schedule). Returns how many were rescheduled."""
        rules = self.settings.rule_set
        with self.db.write() as session:
            rows = list(
                session.execute(
                    select(Obligation).where(col(Obligation.state) == ObligationState.DUE)
                ).scalars()
            )
            for row in rows:
                session.connection().execute(
                    update(Obligation)
                    .where(col(Obligation.id) == row.id, col(Obligation.version) == row.version)
                    .values(next_check_at=engine.next_check_at(duty_of(row), rules))
                )
            return len(rows)

    def count_obligations_due(self, *, now: datetime) -> int:
        """How many obligations a sweep at ``now`` would look at."""
        with self.db.read() as session:
            query = select(func.count()).where(col(Obligation.next_check_at) <= now)
            return int(session.execute(query).scalar_one())

    def sweep_obligations(
        self,
        *,
        now: datetime,
        dry_run: bool = False,
        batch: int = 200,
        tally: SweepTally | None = None,
    ) -> SweepTally:
        """Apply every report ladder step due at ``now`` with its emails, one obligation per
        savepoint (one that fails is logged and looked at again in an hour), counted in
        ``tally`` (the findings' sweep passes its own). Idempotent, as the findings' sweep;
        on PostgreSQL workers share the rows (SKIP LOCKED)."""
        rules = self.settings.rule_set
        result = tally if tally is not None else SweepTally()
        if dry_run:
            with self.db.read() as session:
                query = _due(now)
                for row in session.execute(query).scalars():
                    self._sweep_one(session, row, rules, now, result, write=False)
            return result
        with self.db.read() as session:
            # Most sweeps find no report due: they take no write lock for it.
            if session.execute(_due(now).limit(1)).first() is None:
                return result
        while True:
            with self.db.write() as session:
                query = _due(now).limit(batch)
                if self.db.dialect == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                rows = list(session.execute(query).scalars())
                for row in rows:
                    try:
                        with session.begin_nested():
                            self._sweep_one(session, row, rules, now, result, write=True)
                    except Exception as exc:  # the guard: one bad obligation never stops it
                        log.error("sweep of report %s failed (%s: %s); retrying in an hour",
                                  row.id, type(exc).__name__, exc, exc_info=exc)  # fmt: skip
                        result.errors.append(f"report {row.id}: {type(exc).__name__}: {exc}")
                        session.connection().execute(
                            update(Obligation)
                            .where(col(Obligation.id) == row.id)
                            .values(next_check_at=now + RETRY_AFTER_ERROR)
                        )
            if len(rows) < batch:
                return result

    def _sweep_one(
        self,
        session: Session,
        row: Obligation,
        rules: Rules,
        now: datetime,
        result: SweepTally,
        *,
        write: bool,
    ) -> None:
        assert row.id is not None
        result.examined += 1
        duty = duty_of(row)
        evaluation = engine.evaluate(duty, rules, now)
        new = replace(
            duty,
            ladder=evaluation.ladder,
            escalation_level=max(duty.escalation_level, evaluation.level),
        )
        parties = _parties(session, row)
        label = f"report {row.id} ({parties.contract.reference})"
        events: list[ObligationEvent] = []
        rows: list[dict[str, Any]] = []
        for step in evaluation.skipped:
            result.skipped += 1
            events.append(_step_event(row, step, now, "step_skipped"))
            result.actions.append(_summary(label, step, "skipped"))
        for step in evaluation.due:
            result.steps += 1
            step_event = _step_event(
                row, step, now, "reminder" if step.rule.offset < 0 else "escalation"
            )
            events.append(step_event)
            escalated = step.rule.action == "escalate" and new.state is ObligationState.DUE
            if escalated:
                change = perform_duty(
                    new,
                    DutyRequest(
                        DutyAction.ESCALATE, SYSTEM_ACTOR, now,
                        reason=f"rule {step.id}: {step.rule.offset} days after the report "
                        f"deadline of {step.deadline.isoformat()}",
                    ),
                    now=now, calendar=rules.calendar,
                )  # fmt: skip
                new = change.duty
                result.escalated += 1
                events.append(
                    ObligationEvent(
                        obligation_id=row.id, at=now, recorded_at=now, actor=SYSTEM_ACTOR,
                        kind="escalate", from_state=change.from_state,
                        to_state=change.to_state, data={**change.data, "rule": step.id},
                    )
                )  # fmt: skip
            result.actions.append(
                _summary(label, step, "applied", "escalate" if escalated else None)
            )
            if write:
                prepared = self._step_emails(step, parties, row, new, now)
                rows += prepared.rows
                result.queued += len(prepared.queued)
                step_event.data = {**step_event.data, "notifications": prepared.trail}
                missing = prepared.not_sent
            else:
                people, missing = outbox.recipients(step.rule.to, parties, self.settings)
                result.queued += len(people)
            result.unreached += [
                Unreached(label, step.id, step.rule.template, m["role"], m["why"]) for m in missing
            ]
        if not write:
            return
        if events:
            new.last_event_at = max(filter(None, [duty.last_event_at, now]))
        next_check = (
            evaluation.next_check_at
            if new.state is duty.state
            else engine.next_check_at(new, rules)
        )
        outbox.insert_rows(session, rows)
        session.add_all(events)
        _save(session, row, new, next_check)

    def _step_emails(
        self,
        step: engine.DueStep,
        parties: outbox.ContractParties,
        row: Obligation,
        duty: Duty,
        now: datetime,
    ) -> outbox.Prepared:
        assert row.id is not None
        days = (step.deadline - self.settings.calendar.local_date(now)).days
        before = step.rule.offset <= 0
        context = {
            "id": row.id,
            "kind": row.kind,
            "title": row.title,
            "contract_ref": parties.contract.reference,
            "supplier_name": parties.supplier.name,
            "contract_start": parties.contract.start_date,
            "due": duty.due,
            "state": duty.state,
            "escalation_level": duty.escalation_level,
        }
        return outbox.prepare_report(
            self.settings,
            notice=outbox.Notice(step.rule.template, tuple(step.rule.to), None, step.id),
            parties=parties,
            obligation=context,
            obligation_id=row.id,
            key=f"obligation/{row.id}/{step.id}/dv{row.deadline_version}",
            now=now,
            extra={
                "deadline": step.deadline if before else None,
                "days_left": max(days, 0) if before else None,
                "days_overdue": None if before else max(-days, 0),
            },
        )

    def _view(self, session: Session, row: Obligation, now: datetime) -> ObligationView:
        supplier, contract = session.execute(
            PARTIES, {"supplier": row.supplier_id, "contract": row.contract_id}
        ).one()
        return obligation_view(row, contract, supplier, self.settings, now)


def _due(now: datetime) -> Any:
    return (
        select(Obligation)
        .where(col(Obligation.next_check_at) <= now)
        .order_by(col(Obligation.next_check_at), col(Obligation.id))
    )


def _save(session: Session, row: Obligation, duty: Duty, next_check: datetime | None) -> None:
    """Write ``duty`` over ``row`` if nobody changed it since it was loaded."""
    result = session.connection().execute(
        update(Obligation)
        .where(col(Obligation.id) == row.id, col(Obligation.version) == row.version)
        .values(
            {name: getattr(duty, name) for name in _DUTY_FIELDS}
            | {
                "ladder": encode_ladder(duty.ladder),
                "next_check_at": next_check,
                "version": row.version + 1,
            }
        )
    )
    if result.rowcount != 1:
        raise Conflict(
            f"report {row.id} was changed by someone else at the same time; nothing was "
            "recorded, reload it and try again"
        )


def _step_event(row: Obligation, step: engine.DueStep, now: datetime, kind: str) -> ObligationEvent:
    assert row.id is not None
    return ObligationEvent(
        obligation_id=row.id, at=now, recorded_at=now, actor=SYSTEM_ACTOR, kind=kind,
        from_state=row.state, to_state=row.state,
        data={
            "rule": step.id, "deadline": step.kind.value, "due": step.deadline.isoformat(),
            "step_due_at": step.due_at.isoformat(), "level": step.rule.level,
            "template": step.rule.template,
        },
    )  # fmt: skip


def _summary(
    label: str, step: engine.DueStep, outcome: str, action: str | None = None
) -> SweepAction:
    return SweepAction(
        ref=label, rule=step.id, deadline=step.kind, due=step.deadline,
        step_due_at=step.due_at, to=tuple(step.rule.to), template=step.rule.template,
        level=step.rule.level, outcome=outcome, action=action,
    )  # fmt: skip


def _parties(session: Session, row: Obligation) -> outbox.ContractParties:
    """Who a report concerns: its supplier, with the contacts its emails go to, and its
    contract (the statements that load a finding's parties)."""
    supplier, contract = session.execute(
        PARTIES, {"supplier": row.supplier_id, "contract": row.contract_id}
    ).one()
    contacts = session.connection().execute(CONTACTS, {"supplier": row.supplier_id})
    return outbox.ContractParties(
        supplier, contract, [(n, e, str(lang)) for n, e, lang in contacts]
    )


def _obligation(session: Session, obligation_id: int) -> Obligation:
    row = session.get(Obligation, obligation_id) if 0 < obligation_id < 2**31 else None
    if row is None:
        raise NotFound(f"report: no reporting obligation {obligation_id}",
                       see="cap obligation list")  # fmt: skip
    return row


def obligation_view(
    row: Obligation, contract: Contract, supplier: Supplier, settings: Settings, now: datetime
) -> ObligationView:
    assert row.id is not None
    today = settings.calendar.local_date(now)
    owed = row.state in OWED
    overdue = owed and row.due < today
    return ObligationView(
        id=row.id,
        kind=row.kind,
        title=row.title,
        contract=contract.reference,
        supplier=supplier.name,
        supplier_org_number=supplier.org_number,
        manager=contract.manager_email,
        contract_start=contract.start_date,
        due=row.due,
        first_due=row.first_due,
        state=row.state,
        overdue=overdue,
        days_overdue=(today - row.due).days if overdue else None,
        received_on=row.received_on,
        escalation_level=row.escalation_level,
        next_step_at=row.next_check_at,
        version=row.version,
    )


__all__ = [
    "ObligationFilter",
    "Obligations",
    "duty_of",
    "record_default_obligation",
    "report_due",
]
