"""Use cases of the rules over time: the sweep that applies reminders and escalations, the
schedule it reads, reapplying changed rules, simulating them, and who they fail to reach."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from cap.config import Settings
from cap.domain import engine
from cap.domain.lifecycle import (
    IN_FORCE,
    Action,
    ActionRequest,
    Change,
    DeadlineChange,
    allowed_actions,
    deadline_of,
    perform,
    set_deadline,
)
from cap.domain.model import Area, Case, Role, Severity, State
from cap.domain.rules import Rules
from cap.notify import outbox
from cap.store.db import insert_for
from cap.store.mapping import case_of, saved_params
from cap.store.models import Finding, Setting
from cap.workflow.base import UseCases
from cap.workflow.links import SupplierLinks
from cap.workflow.obligations import Obligations
from cap.workflow.records import (
    RESCHEDULE,
    RETRY_AFTER_ERROR,
    SYSTEM_ACTOR,
    SweepTally,
    SweepWrite,
    deadline_origins,
    due_query,
    event_row,
    parties_of,
    record_events,
    step_event,
    step_summary,
    write_plans,
)
from cap.workflow.results import (
    NoticeView,
    Reapplication,
    ReappliedDeadline,
    Simulation,
    SweepReport,
    UnaddressedRole,
    Unreached,
)
from cap.workflow.views import step_view

log = logging.getLogger("cap.workflow")

#: The setting that holds the digest of the rules the schedule was last computed under.
RULES_DIGEST = "rules_digest"


def automatic_escalation(
    case: Case, step: engine.DueStep, now: datetime, rules: Rules
) -> Change | None:
    """The sanction review an escalating step opens, or ``None`` if the state refuses it."""
    if Action.ESCALATE not in allowed_actions(case.state):
        return None
    request = ActionRequest(
        Action.ESCALATE,
        SYSTEM_ACTOR,
        now,
        reason=(
            f"rule {step.id}: {step.rule.offset} days after the {step.kind.value} deadline of "
            f"{step.deadline.isoformat()}"
        ),
    )
    return perform(case, request, now=now, calendar=rules.calendar, policy=rules)


def step_notifications(
    settings: Settings,
    step: engine.DueStep,
    parties: outbox.Parties,
    deadline_version: int,
    now: datetime,
    links: outbox.LinkFor,
) -> outbox.Prepared:
    """The emails of a ladder step sent at ``now`` (rendered, not written), suppliers'
    links from ``links``."""
    days = (step.deadline - settings.calendar.local_date(now)).days
    # A reminder is about the coming deadline; after it, the email's date is what is owed
    # next, which the templates word themselves ("immediately").
    before = step.rule.offset <= 0
    return outbox.prepare(
        settings,
        notices=[
            outbox.Notice(
                step.rule.template, tuple(step.rule.to), step.kind if before else None, step.id
            )
        ],
        parties=parties,
        key=step.key(parties.finding.ref, deadline_version),
        now=now,
        extra={
            "days_left": max(days, 0) if before else None,
            "days_overdue": None if before else max(-days, 0),
        },
        deadline=step.deadline if before else None,
        links=links,
    )


def unaddressed_roles(settings: Settings) -> list[UnaddressedRole]:
    """The buyer roles the rules in force send to that have no address: each of their
    emails would reach nobody (found before the first escalation, not after)."""
    rules = settings.rule_set
    configured = {
        Role.SUSTAINABILITY_MANAGER: settings.sustainability_manager_addresses,
        Role.DECISION_MAKERS: settings.decision_maker_addresses,
    }
    found = []
    for role, setting in outbox.ROLE_SETTINGS.items():
        if configured[role]:
            continue
        senders = tuple(
            [s.id for s in rules.steps if role in s.to]
            + [n.id for n in rules.notices if role in n.to]
        )
        if senders:
            found.append(UnaddressedRole(role, setting, senders))
    return found


class Sweeps(UseCases):
    def sweep(
        self,
        *,
        now: datetime,
        dry_run: bool = False,
        batch: int = 200,
        progress: Callable[[int], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> SweepReport:
        """Apply every ladder step due at ``now``, queueing its emails in the same transaction.

        Reads only findings whose ``next_check_at`` has come (an index range). Idempotent: a
        second sweep at the same moment finds nothing due. A finding whose processing raises
        is logged, pushed back an hour, and does not stop the others (a crash-loop guard).
        ``dry_run`` reports what would happen and writes nothing; ``stop`` is asked between
        batches.
        """
        started = time.perf_counter()
        tally = SweepTally()
        rules = self.settings.rule_set
        if dry_run:
            with self.db.read() as session:
                parties: dict[tuple[int, int], Any] = {}
                for finding in session.execute(due_query(now)).scalars():
                    self._sweep_finding(session, finding, rules, now, tally, cache=parties)
                    if progress:
                        progress(1)
            self._sweep_reports(tally, now=now, dry_run=True)
            return tally.report(dry_run=True, started=started)
        self.refresh_schedule(now)
        while not (stop and stop()):  # a worker shutting down finishes the batch in hand
            with self.db.write() as session:
                query = due_query(now).limit(batch)
                if self.db.dialect == "postgresql":
                    # Several workers share the work: each takes rows nobody else holds.
                    query = query.with_for_update(skip_locked=True)
                findings = list(session.execute(query).scalars())
                cache: dict[tuple[int, int], Any] = {}
                links = SupplierLinks(session, self.settings, now)
                links.known([f.id for f in findings if f.id is not None])
                plans: list[SweepWrite] = []
                for finding in findings:
                    try:
                        plans.append(
                            self._sweep_finding(
                                session, finding, rules, now, tally, links=links, cache=cache
                            )
                        )
                    except Exception as exc:  # the guard: one bad finding never stops the pass
                        self._push_back(session, finding, exc, now, tally)
                    if progress:
                        progress(1)
                links.settle(row for plan in plans for row in plan.outbox)
                self._write_sweep(session, plans, now, tally)
            if len(findings) < batch:
                break
        if not (stop and stop()):
            self._sweep_reports(tally, now=now, dry_run=False)
        return tally.report(dry_run=False, started=started)

    def _sweep_reports(self, tally: SweepTally, *, now: datetime, dry_run: bool) -> None:
        """The reporting obligations' ladders, after the findings': same rules, same report."""
        Obligations(self.db, self.settings).sweep_obligations(now=now, dry_run=dry_run, tally=tally)

    def _write_sweep(
        self, session: Session, plans: list[SweepWrite], now: datetime, tally: SweepTally
    ) -> None:
        """Write a batch's outbox rows, events and findings with one statement each; if that
        fails, write finding by finding so that only the one at fault is pushed back."""
        try:
            with session.begin_nested():
                write_plans(session, plans)
            return
        except Exception:
            log.exception("writing a sweep batch failed; writing finding by finding")
        for plan in plans:
            try:
                with session.begin_nested():
                    write_plans(session, [plan])
            except Exception as exc:
                self._push_back(session, plan.finding, exc, now, tally)

    def _push_back(
        self, session: Session, finding: Finding, exc: Exception, now: datetime, tally: SweepTally
    ) -> None:
        log.error("sweep of %s failed (%s: %s); retrying in an hour", finding.ref,
                  type(exc).__name__, exc, exc_info=exc)  # fmt: skip
        tally.errors.append(f"{finding.ref}: {type(exc).__name__}: {exc}")
        session.connection().execute(
            update(Finding)
            .where(col(Finding.id) == finding.id)
            .values(next_check_at=now + RETRY_AFTER_ERROR)
        )

    def count_due(self, *, now: datetime) -> int:
        """How many findings and reporting obligations a sweep at ``now`` would look at (an
        index range count each)."""
        with self.db.read() as session:
            query = select(func.count()).where(col(Finding.next_check_at) <= now)
            findings = int(session.execute(query).scalar_one())
        return findings + Obligations(self.db, self.settings).count_obligations_due(now=now)

    def _sweep_finding(
        self,
        session: Session,
        finding: Finding,
        rules: Rules,
        now: datetime,
        tally: SweepTally,
        *,
        links: SupplierLinks | None = None,
        cache: dict[tuple[int, int], Any] | None = None,
    ) -> SweepWrite:
        """Decide what a sweep does to ``finding`` (pure but for reading who is involved and
        ``links``, which issues the suppliers' links): the steps, their rendered emails, the
        events and the new state. Without ``links`` (a dry run) nothing is rendered; nothing
        else is written."""
        tally.examined += 1
        case = case_of(finding)
        evaluation = engine.evaluate(case, rules, now)
        new = replace(
            case,
            ladder=evaluation.ladder,
            escalation_level=max(case.escalation_level, evaluation.level),
        )
        events: list[dict[str, Any]] = []
        rows: list[dict[str, Any]] = []
        for step in evaluation.skipped:
            tally.skipped += 1
            events.append(step_event(finding, step, now, "step_skipped", case.state))
            tally.actions.append(step_summary(finding, step, "skipped"))
        for step in evaluation.due:
            tally.steps += 1
            event = step_event(
                finding, step, now, "reminder" if step.rule.offset < 0 else "escalation", case.state
            )
            events.append(event)
            escalated: dict[str, Any] | None = None
            if step.rule.action == "escalate":
                change = automatic_escalation(new, step, now, rules)
                if change is None:
                    event["data"]["action_refused"] = (
                        f"escalate is not allowed in {new.state.value}"
                    )
                else:
                    escalated = event_row(
                        finding,
                        Action.ESCALATE.value,
                        at=now,
                        now=now,
                        moved=(change.from_state, change.to_state),
                        data={**change.data, "rule": step.id},
                    )
                    new = change.case
                    tally.escalated += 1
            action = Action.ESCALATE.value if escalated is not None else None
            tally.actions.append(step_summary(finding, step, "applied", action))
            # The email describes the finding as the step leaves it: in sanction review after
            # an escalation, not in the state it is leaving.
            parties = parties_of(session, finding, new, cache)
            if links is not None:
                prepared = step_notifications(
                    self.settings, step, parties, case.deadline_version, now, links
                )
                rows += prepared.rows
                tally.queued += len(prepared.queued)
                event["data"]["notifications"] = prepared.trail
                missing = prepared.not_sent
            else:
                # Who would get it, without rendering: a dry run counts what it would queue.
                people, missing = outbox.recipients(step.rule.to, parties, self.settings)
                tally.queued += len(people)
            tally.unreached += [
                Unreached(finding.ref, step.id, step.rule.template, m["role"], m["why"])
                for m in missing
            ]
            if escalated is not None:
                events.append(escalated)
        if events:
            new.last_event_at = max(filter(None, [case.last_event_at, now]))
        # Unless an escalation moved the finding, the evaluation knows its next step already.
        next_check = (
            evaluation.next_check_at
            if new.state is case.state
            else engine.next_check_at(new, rules)
        )
        return SweepWrite(finding, events, rows, saved_params(finding, new, next_check))

    def refresh_schedule(self, now: datetime, batch: int = 2000) -> int:
        """After a rules change, recompute when each open finding is next due (once per change).

        Works in batches of short transactions, so writers are never held up for long; a
        finding an action changed meanwhile is skipped (the action scheduled it under these
        rules). Workers starting together may both do it: it is idempotent. Returns how many
        findings were rescheduled (0 when the rules did not change)."""
        rules = self.settings.rule_set
        with self.db.read() as session:
            stored = session.get(Setting, RULES_DIGEST)
            if stored is not None and stored.value == rules.digest:
                return 0
            first = stored is None
        count, last_id = 0, 0
        while True:
            with self.db.write() as session:
                findings = (
                    session.execute(
                        select(Finding)
                        .where(col(Finding.state).in_(list(IN_FORCE)), col(Finding.id) > last_id)
                        .order_by(col(Finding.id))
                        .limit(batch)
                    )
                    .scalars()
                    .all()
                )
                if not findings:
                    break
                params = []
                for finding in findings:
                    try:
                        next_check = engine.next_check_at(case_of(finding), rules)
                    except Exception:  # the sweep's guard will report it and push it back
                        log.exception("cannot schedule %s", finding.ref)
                        next_check = now
                    params.append(
                        {"finding": finding.id, "loaded": finding.version, "next": next_check}
                    )
                session.connection().execute(RESCHEDULE, params)
                count += len(findings)
                last_id = findings[-1].id or last_id
        reports = Obligations(self.db, self.settings).reschedule_obligations(now=now)
        with self.db.write() as session:
            statement = insert_for(session.get_bind().dialect.name, Setting).values(
                key=RULES_DIGEST, value=rules.digest, updated_at=now
            )
            session.execute(
                statement.on_conflict_do_update(
                    index_elements=["key"],
                    set_={"value": rules.digest, "updated_at": now},
                )
            )
        log.info(
            "%s (digest %s): scheduled %d open finding(s) and %d report(s)",
            "rules recorded" if first else "rules changed",
            rules.digest,
            count,
            reports,
        )
        return count

    def reapply_rules(self, *, now: datetime, dry_run: bool = False) -> Reapplication:
        """Recompute the deadlines the rules set on open findings under the current rules.

        A deadline a person chose (an extension, a revision date typed in) is kept. Each change
        is returned (and, unless ``dry_run``, written with an event) so it can be shown first.
        """
        rules = self.settings.rule_set
        changes: list[ReappliedDeadline] = []
        with self.db.read() if dry_run else self.db.write() as session:
            open_states = [*IN_FORCE, State.SANCTION_REVIEW]
            query = (
                select(Finding).where(col(Finding.state).in_(open_states)).order_by(col(Finding.id))
            )
            for finding in list(session.execute(query).scalars()):
                case = case_of(finding)
                new = replace(case)
                moved: list[DeadlineChange] = []
                state = case.return_state if case.state is State.SANCTION_REVIEW else case.state
                binding = IN_FORCE.get(state, ()) if state is not None else ()
                for kind, origin in deadline_origins(session, finding).items():
                    if kind not in binding:  # a deadline already met is history
                        continue
                    due = rules.calendar.due_date(
                        origin.at, rules.period(origin.limit, case.severity, case.area)
                    )
                    current = deadline_of(case, kind)
                    if current is not None and due != current:
                        moved.append(set_deadline(new, kind, due, now))
                changes += [
                    ReappliedDeadline(finding.ref, c.kind, c.old, c.new, c.requested) for c in moved
                ]
                if dry_run or not moved:
                    continue
                new.deadline_version += 1
                new.escalation_level = 0 if new.state is not State.SANCTION_REVIEW else 3
                new.last_event_at = max(filter(None, [case.last_event_at, now]))
                record_events(
                    session,
                    event_row(
                        finding,
                        "rules_reapplied",
                        at=now,
                        now=now,
                        data={"rules": rules.digest, "deadlines": [c.as_data() for c in moved]},
                    ),
                )
                self._save_case(session, finding, new)
        return Reapplication(dry_run=dry_run, changes=tuple(changes))

    def simulate(
        self, severity: Severity, area: Area, notified: datetime, rules: Rules | None = None
    ) -> Simulation:
        """The whole future of a finding of ``severity`` and ``area`` notified at ``notified``
        under ``rules`` (default: the rules in force): the notices notifying sends, then its
        deadlines, reminders and escalations with dates and recipients (nobody answers,
        nothing is extended), up to the first automatic escalation, which ends the ladders.
        Reads and writes nothing."""
        rules = rules or self.settings.rule_set
        rules.calendar.check_covered(notified, "notified")
        request = ActionRequest(Action.NOTIFY, "simulation", notified)
        case = perform(
            Case(state=State.OPEN, severity=severity, area=area),
            request,
            now=notified,
            calendar=rules.calendar,
            policy=rules,
        ).case
        notices = [
            NoticeView(
                at=notified,
                due=deadline_of(case, notice.deadline) if notice.deadline else None,
                kind="notice",
                deadline=None,
                rule=notice.id,
                template=notice.template,
                to=tuple(notice.to),
                level=0,
                action=None,
            )
            for notice in rules.notices_for(Action.NOTIFY, severity, area)
        ]
        steps = [step_view(entry) for entry in engine.timeline(case, rules)]
        return Simulation(notified=notified, timeline=(*notices, *steps))
