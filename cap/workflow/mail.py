"""Use cases of email: the outbox and retrying in it, previewing a finding's email, the daily
digests."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from cap.domain import engine
from cap.domain.lifecycle import (
    IN_FORCE,
    Action,
    ActionRequest,
    allowed_actions,
    current_deadline,
    perform,
)
from cap.domain.model import ACTIVE_STATES, Role, State
from cap.errors import ActionRefused, CapError, InvalidInput, NotFound
from cap.notify import links as outbox_links
from cap.notify import outbox
from cap.notify.message import message_id_for
from cap.store.mapping import case_of
from cap.store.models import Contract, Decision, Event, Finding, OutboxMessage, OutboxStatus
from cap.workflow.base import UseCases
from cap.workflow.links import SupplierLinks
from cap.workflow.records import (
    SYSTEM_ACTOR,
    action_context,
    event_row,
    finding_by_ref,
    parties_of,
    record_events,
)
from cap.workflow.results import EmailPreview, OutboxMessageView, QueuedDigest
from cap.workflow.sweeps import automatic_escalation, step_notifications
from cap.workflow.views import outbox_view

#: How many messages one page of the outbox shows.
OUTBOX_PAGE_SIZE = 50

#: The outbox's order of concern: what failed needs a person, what waits may need one soon,
#: what was sent is history.
_CONCERN = case(
    (col(OutboxMessage.status) == OutboxStatus.FAILED, 0),
    (col(OutboxMessage.status).in_([OutboxStatus.QUEUED, OutboxStatus.SENDING]), 1),
    else_=2,
)


@dataclass(frozen=True)
class OutboxPage:
    """One page of the outbox, failed messages first, then those waiting, then those sent
    (newest first within each), and how many messages there are of each status in all."""

    entries: tuple[OutboxMessageView, ...]
    counts: dict[OutboxStatus, int]  # every status, over the whole outbox
    status: OutboxStatus | None  # the filter, if any
    page: int  # from 1
    pages: int  # at least 1, even when there is nothing to show
    total: int  # messages matching the filter
    page_size: int


def _latest_context(session: Session, finding: Finding) -> dict[str, Any]:
    """The reason, note and decision an action's email would carry if sent now: the finding's
    latest ones, or none."""
    events = session.execute(
        select(Event).where(col(Event.finding_id) == finding.id).order_by(col(Event.id).desc())
    ).scalars()
    reason: str | None = None
    note: str | None = None
    for event in events:
        reason = reason or event.data.get("reason")
        note = note or event.data.get("note")
        if reason and note:
            break
    decision = (
        session.execute(
            select(Decision)
            .where(col(Decision.finding_id) == finding.id)
            .order_by(col(Decision.id).desc())
        )
        .scalars()
        .first()
    )
    return action_context(reason, note, decision)


class Mail(UseCases):
    def list_outbox(
        self, status: OutboxStatus | None = None, limit: int = 200
    ) -> list[OutboxMessageView]:
        """The newest ``limit`` messages of the outbox (of ``status`` only, if given)."""
        with self.db.read() as session:
            query = (
                select(OutboxMessage, col(Finding.ref))
                .outerjoin(Finding, col(Finding.id) == col(OutboxMessage.finding_id))
                .order_by(col(OutboxMessage.id).desc())
                .limit(limit)
            )
            if status is not None:
                query = query.where(col(OutboxMessage.status) == status)
            return [outbox_view(m, ref) for m, ref in session.execute(query).all()]

    def outbox_page(
        self, status: OutboxStatus | None = None, page: int = 1, page_size: int = OUTBOX_PAGE_SIZE
    ) -> OutboxPage:
        """Page ``page`` (from 1) of the outbox, of ``status`` only if given: failed messages
        first, then queued and sending, then sent, newest first within each; counted and cut
        in SQL. A page past the last is empty; one before the first raises InvalidInput."""
        if page < 1:
            raise InvalidInput(f"page: {page} is not a page number; pages start at 1")
        with self.db.read() as session:
            counted = session.execute(
                select(col(OutboxMessage.status), func.count()).group_by(col(OutboxMessage.status))
            ).all()
            counts = {s: 0 for s in OutboxStatus}
            counts.update({OutboxStatus(s): int(n) for s, n in counted})
            total = counts[status] if status is not None else sum(counts.values())
            pages = max(1, -(-total // page_size))
            if page > pages:  # nothing there (and no OFFSET of a typed-in trillion)
                return OutboxPage((), counts, status, page, pages, total, page_size)
            query = (
                select(OutboxMessage, col(Finding.ref))
                .outerjoin(Finding, col(Finding.id) == col(OutboxMessage.finding_id))
                .order_by(
                    _CONCERN, col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc()
                )
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
            if status is not None:
                query = query.where(col(OutboxMessage.status) == status)
            entries = tuple(outbox_view(m, ref) for m, ref in session.execute(query).all())
        return OutboxPage(entries, counts, status, page, pages, total, page_size)

    def retry_message(self, message_id: int, *, now: datetime) -> OutboxMessageView:
        """Put a failed message back in the queue, due now, with a fresh retry horizon."""
        with self.db.write() as session:
            message = session.get(OutboxMessage, message_id)
            if message is None:
                raise NotFound(f"message {message_id} does not exist", see="cap outbox list")
            if message.status is not OutboxStatus.FAILED:
                raise ActionRefused(
                    f"message {message_id} is {message.status.value}; only failed messages "
                    "can be retried"
                )
            message.status = OutboxStatus.QUEUED
            message.next_attempt_at = now
            message.queued_at = now
            session.flush()
            finding = session.get(Finding, message.finding_id) if message.finding_id else None
            return outbox_view(message, finding.ref if finding else None)

    def preview_email(self, kind: str, language: str, ref: str, *, now: datetime) -> EmailPreview:
        """``kind`` for a real finding as its reader gets it: the latest such email queued for
        the finding (in ``language`` if one was), else the one the rules would send, rendered
        as sending renders it, for the first person it reaches."""
        with self.db.read() as session:
            finding = finding_by_ref(session, ref)
            stored = (
                session.execute(
                    select(OutboxMessage)
                    .where(
                        col(OutboxMessage.finding_id) == finding.id,
                        col(OutboxMessage.kind) == kind,
                    )
                    # The latest cause first, and of its recipients the first, as below.
                    .order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id))
                )
                .scalars()
                .all()
            )
            if stored:
                m = next((m for m in stored if m.language == language), stored[0])
                return EmailPreview(
                    m.subject, m.text_body, m.html_body, m.language, m.recipient_role,
                    m.recipient, m.created_at,
                )  # fmt: skip
            from jinja2 import UndefinedError  # loaded with the templates, by rendering

            try:
                rows = self._unsent_email(session, finding, kind, now)
            except UndefinedError:
                raise ActionRefused(
                    f"finding: {ref} ({finding.state.value}) lacks what a {kind} email says "
                    "(a date, a reason or a decision); preview it without --finding for sample "
                    "data"
                ) from None
            row = next((r for r in rows if r["language"] == language), rows[0])
            return EmailPreview(
                row["subject"], row["text_body"], row["html_body"], row["language"],
                row["recipient_role"], row["recipient"], None,
            )  # fmt: skip

    def resend_request(self, ref: str, *, now: datetime) -> list[dict[str, str]]:
        """Queue again, to the supplier, the latest email that asked them for something about
        ``ref`` (a request, a rejection, an acceptance...; not a reminder), as sending it now
        words it, with a fresh link; what was queued (kind, to, role)."""
        rules = self.settings.rule_set
        asking = {n.template for n in rules.notices if Role.SUPPLIER in n.to}
        with self.db.write() as session:
            finding = finding_by_ref(session, ref)
            not_yet = ActionRefused(
                f"finding: nothing was asked of the supplier about {finding.ref} yet; "
                f"notify it first (cap finding notify {finding.ref})"
            )
            if finding.state is State.OPEN:
                raise not_yet
            if finding.state not in (*ACTIVE_STATES, State.SANCTION_REVIEW):
                raise ActionRefused(
                    f"finding: {finding.ref} is {finding.state.value}; nothing is asked of the "
                    "supplier any more"
                )
            kind = session.execute(
                select(col(OutboxMessage.kind))
                .where(
                    col(OutboxMessage.finding_id) == finding.id,
                    col(OutboxMessage.recipient_role) == Role.SUPPLIER.value,
                    col(OutboxMessage.kind).in_(sorted(asking)),
                )
                .order_by(col(OutboxMessage.id).desc())
            ).scalar()
            if kind is None:
                raise not_yet
            links = SupplierLinks(session, self.settings, now, fresh=True)
            rows = [
                r
                for r in self._unsent_email(session, finding, kind, now, links=links)
                if r["recipient_role"] == Role.SUPPLIER.value
            ]
            if not rows:
                raise ActionRefused(f"finding: the supplier of {finding.ref} has no contact")
            links.settle(rows)
            for row in rows:
                row["key"] = f"{finding.ref}/resent/{now.isoformat()}/{row['recipient'].casefold()}"
                row["message_id"] = message_id_for(row["key"], self.settings.mail_from)
                row["next_attempt_at"] = row["queued_at"] = row["created_at"] = now
            outbox.insert_rows(session, rows)
            queued = [
                {"kind": r["kind"], "to": r["recipient"], "role": r["recipient_role"]} for r in rows
            ]
            record_events(
                session,
                event_row(finding, "request_resent", at=now, now=now,
                          data={"notifications": {"queued": queued, "not_sent": []}}),
            )  # fmt: skip
            return queued

    def _unsent_email(
        self,
        session: Session,
        finding: Finding,
        kind: str,
        now: datetime,
        links: SupplierLinks | None = None,
    ) -> list[dict[str, Any]]:
        """The outbox rows the first rule sending ``kind`` that reaches someone would write
        for ``finding``: a ladder step in force (as the sweep would send it, when it falls
        due), else a notice (as the action would send it, now)."""
        rules = self.settings.rule_set
        case = case_of(finding)
        if case.state is State.OPEN:
            # Every email names deadlines that notifying sets: show the finding notified now.
            request = ActionRequest(Action.NOTIFY, SYSTEM_ACTOR, now)
            case = perform(case, request, now=now, calendar=rules.calendar, policy=rules).case
        marks = case.ladder
        if links is None:
            # A preview writes nothing: the link a supplier has, or where sending puts a new one.
            links = SupplierLinks(session, self.settings, now, write=False)
        steps = sorted(
            (
                step
                for deadline in IN_FORCE.get(case.state, ())
                for step in engine.ladder_steps(case, deadline, rules)
                if step.rule.template == kind
            ),
            # Steps still to come first: one already taken either sent its email or had
            # nobody to send it to.
            key=lambda s: (
                (mark := marks.get(s.kind)) is not None
                and mark.due == s.deadline
                and mark.done_until is not None
                and s.due_at <= mark.done_until,
                s.due_at,
            ),
        )
        notices = sorted(
            (
                n
                for n in rules.notices
                if n.template == kind and n.matches(case.severity, case.area)
            ),
            key=lambda n: n.on not in allowed_actions(case.state),
        )
        missing: list[str] = []
        for step in steps:
            at = max(now, step.due_at)
            stepped = replace(case, escalation_level=max(case.escalation_level, step.rule.level))
            if step.rule.action == "escalate":
                change = automatic_escalation(stepped, step, at, rules)
                stepped = change.case if change is not None else stepped
            parties = parties_of(session, finding, stepped)
            prepared = step_notifications(
                self.settings, step, parties, case.deadline_version, at, links
            )
            if prepared.rows:
                return prepared.rows
            missing += [m["why"] for m in prepared.not_sent]
        extra = _latest_context(session, finding) if notices else {}
        for notice in notices:
            acted = case
            if notice.on in allowed_actions(case.state):
                request = ActionRequest(
                    notice.on, SYSTEM_ACTOR, now, reason=extra["reason"], note=extra["note"]
                )
                # An action that needs what nobody gave yet (a date) leaves the finding as is.
                with contextlib.suppress(CapError):
                    acted = perform(
                        case, request, now=now, calendar=rules.calendar, policy=rules
                    ).case
            prepared = outbox.prepare(
                self.settings,
                notices=[outbox.Notice(kind, tuple(notice.to), notice.deadline, notice.id)],
                parties=parties_of(session, finding, acted),
                key=f"{finding.ref}/v{finding.version + 1}",
                now=now,
                extra=extra,
                links=links,
            )
            if prepared.rows:
                return prepared.rows
            missing += [m["why"] for m in prepared.not_sent]
        if missing:
            raise ActionRefused(
                f"finding: a {kind} email for {finding.ref} would reach nobody: "
                f"{'; '.join(dict.fromkeys(missing))}"
            )
        raise ActionRefused(
            f"finding: no rule sends {kind} for {finding.ref} ({case.state.value}, "
            f"{case.severity.value}, {case.area.value}) and none was queued; preview it without "
            "--finding for sample data"
        )

    def queue_digests(self, *, now: datetime, horizon_days: int = 14) -> list[QueuedDigest]:
        """Queue today's digest for each contract manager with findings overdue or due within
        ``horizon_days``; at most one per manager and local day, however often it runs."""
        calendar = self.settings.calendar
        today = calendar.local_date(now)
        horizon = today + timedelta(days=horizon_days)
        per_manager: dict[str, list[dict[str, Any]]] = {}
        with self.db.write() as session:
            rows = session.execute(
                select(Finding, col(Contract.manager_email))
                .join(Contract, col(Contract.id) == col(Finding.contract_id))
                .where(col(Finding.state).in_(list(IN_FORCE)))
                .order_by(col(Finding.id))
            ).all()
            for finding, manager in rows:
                current = current_deadline(case_of(finding))
                if current is None or current[1] > horizon:
                    continue
                per_manager.setdefault(manager, []).append(
                    {
                        "ref": finding.ref,
                        "title": finding.title,
                        "state": finding.state,
                        "due": current[1],
                        "overdue": calendar.is_overdue(current[1], now),
                        "link": outbox_links.finding_link(self.settings, finding.ref),
                    }
                )
            queued = []
            for manager, findings in sorted(per_manager.items()):
                if outbox.queue_digest(
                    session,
                    self.settings,
                    recipient=manager,
                    findings=findings,
                    today=today,
                    now=now,
                ):
                    queued.append(QueuedDigest(to=manager, findings=len(findings)))
            return queued
