"""What a finding's page shows beside the finding itself: its emails and their delivery, the
deadlines in force and the steps the rules will take next, read together in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from cap.domain import engine
from cap.domain.lifecycle import available_actions, deadlines_in_force
from cap.domain.model import Action, DeadlineKind
from cap.store.mapping import case_of
from cap.store.models import Finding, OutboxMessage
from cap.workflow.base import UseCases
from cap.workflow.records import finding_by_ref
from cap.workflow.results import FindingView, OutboxMessageView, UpcomingStep
from cap.workflow.views import finding_view, outbox_view, upcoming_step


@dataclass(frozen=True)
class DeadlineInForce:
    """A deadline that binds someone now: due at the end of ``due`` (``ends_at``, in the
    buyer's time zone), ``overdue`` once that day has passed."""

    kind: DeadlineKind
    due: date
    ends_at: datetime
    overdue: bool


@dataclass(frozen=True)
class CaseFile:
    """Everything a finding's page shows, as it stands at one moment: the finding (with its
    plans, evidence, decisions and history), its deadlines in force, the steps the rules will
    take (each with its status at that moment), the actions its state allows now, and its
    emails, newest first."""

    finding: FindingView
    deadlines: tuple[DeadlineInForce, ...]
    upcoming: tuple[UpcomingStep, ...]
    actions: tuple[Action, ...]
    emails: tuple[OutboxMessageView, ...]


def _emails(session: Session, finding: Finding) -> tuple[OutboxMessageView, ...]:
    rows = session.execute(
        select(OutboxMessage)
        .where(col(OutboxMessage.finding_id) == finding.id)
        .order_by(col(OutboxMessage.queued_at).desc(), col(OutboxMessage.id).desc())
    ).scalars()
    return tuple(outbox_view(m, finding.ref) for m in rows)


class CaseFiles(UseCases):
    def case_file(self, ref: str, *, now: datetime) -> CaseFile:
        """One finding's whole page at ``now``, read in one transaction (so that its version,
        its actions and its history agree)."""
        rules = self.settings.rule_set
        calendar = rules.calendar
        with self.db.read() as session:
            finding = finding_by_ref(session, ref)
            case = case_of(finding)
            return CaseFile(
                finding=finding_view(session, finding, self.settings, now),
                deadlines=tuple(
                    DeadlineInForce(
                        kind, due, calendar.end_of_day(due), calendar.is_overdue(due, now)
                    )
                    for kind, due in deadlines_in_force(case)
                ),
                upcoming=tuple(
                    upcoming_step(entry)
                    for entry in engine.timeline(case, rules, now)
                    if not entry.done
                ),
                actions=available_actions(case),
                emails=_emails(session, finding),
            )

    def finding_emails(self, ref: str) -> list[OutboxMessageView]:
        """The emails queued about a finding, newest first, with their delivery status."""
        with self.db.read() as session:
            return list(_emails(session, finding_by_ref(session, ref)))
