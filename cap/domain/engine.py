"""The rules engine: for one finding (or reporting obligation) at one moment, which ladder
steps are due.

Pure: ``evaluate(case, rules, now)`` reads no clock and no database. Each deadline in force
runs its own ladder (see :data:`cap.domain.lifecycle.IN_FORCE`); a step is due at the rules'
``send_at`` time on its day, which moves back off closed days for a reminder and forward for
a step after the deadline. A step applies once per deadline: the ladder's mark remembers the
last step processed, and a new deadline date starts a new ladder.

Catch-up: when several steps are due at once (downtime, a back-dated notification), only the
most advanced is applied, across all the finding's ladders: at most one message per recipient
and finding; the others are reported as skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal

from cap.domain.lifecycle import IN_FORCE, deadline_of
from cap.domain.model import Case, DeadlineKind, LadderMark
from cap.domain.obligations import DUTY_IN_FORCE, Duty
from cap.domain.rules import Rules, StepRule

#: What runs ladders: a finding's case, or a contract's reporting obligation.
Followed = Case | Duty


def _in_force(subject: Followed) -> tuple[DeadlineKind, ...]:
    if isinstance(subject, Duty):
        return DUTY_IN_FORCE.get(subject.state, ())
    return IN_FORCE.get(subject.state, ())


def _deadline(subject: Followed, kind: DeadlineKind) -> date | None:
    if isinstance(subject, Duty):
        return subject.due if kind is DeadlineKind.REPORT else None
    return deadline_of(subject, kind)


def _rules_for(subject: Followed, kind: DeadlineKind, rules: Rules) -> tuple[StepRule, ...]:
    if isinstance(subject, Duty):
        return rules.report_ladder()
    return rules.ladder(kind, subject.severity, subject.area)


@dataclass(frozen=True)
class DueStep:
    """A ladder step for one finding's deadline, with the instant it falls due."""

    rule: StepRule
    kind: DeadlineKind
    deadline: date
    due_at: datetime

    @property
    def id(self) -> str:
        return self.rule.id

    def key(self, ref: str, deadline_version: int) -> str:
        """Stable idempotency key: the finding, the rule, the deadline version."""
        return f"{ref}/{self.rule.id}/dv{deadline_version}"


@dataclass(frozen=True)
class Evaluation:
    due: tuple[DueStep, ...]  # to apply now: at most one
    skipped: tuple[DueStep, ...]  # passed over by catch-up
    ladder: dict[DeadlineKind, LadderMark]  # the marks once ``due`` and ``skipped`` are done
    next_check_at: datetime | None  # the next step still to come, if any

    @property
    def level(self) -> int:
        """The highest escalation level among the steps applied or passed over now."""
        return max((s.rule.level for s in (*self.due, *self.skipped)), default=0)


def step_due_at(step: StepRule, deadline: date, rules: Rules) -> datetime:
    """When ``step`` falls due for a deadline on ``deadline`` (cached: findings share dates)."""
    key = (step.id, deadline)
    due = rules.due_cache.get(key)
    if due is None:
        due = rules.due_cache[key] = _step_due_at(step, deadline, rules)
    return due


def _step_due_at(step: StepRule, deadline: date, rules: Rules) -> datetime:
    calendar = rules.calendar
    day = deadline + timedelta(days=step.offset)
    if step.offset < 0:
        day = calendar.roll_back(day)
    elif step.offset > 0:
        day = calendar.roll(day)
    return calendar.at(day, rules.calendar_rules.send_at)


def ladder_steps(case: Followed, kind: DeadlineKind, rules: Rules) -> list[DueStep]:
    """Every step of ``kind``'s ladder for the case's current deadline, earliest first,
    leaving out steps that fell due before the deadline was set."""
    deadline = _deadline(case, kind)
    if deadline is None:
        return []
    mark = case.ladder.get(kind)
    since = mark.since if mark is not None and mark.due == deadline else None
    steps = [
        DueStep(rule, kind, deadline, step_due_at(rule, deadline, rules))
        for rule in _rules_for(case, kind, rules)
    ]
    # Sorted by due instant: rolled days can reorder steps that sit close together.
    steps.sort(key=lambda s: (s.due_at, s.rule.offset))
    return [s for s in steps if since is None or s.due_at >= since]


def evaluate(case: Followed, rules: Rules, now: datetime) -> Evaluation:
    """The step due at ``now`` for ``case``, what catch-up skips, and the next check."""
    ready: list[DueStep] = []
    later: list[DueStep] = []
    marks = dict(case.ladder)
    for kind in _in_force(case):
        steps = ladder_steps(case, kind, rules)
        if not steps:
            continue
        mark = case.ladder.get(kind)
        done_until = mark.done_until if mark is not None and mark.due == steps[0].deadline else None
        for step in steps:
            if done_until is None or step.due_at > done_until:
                (ready if step.due_at <= now else later).append(step)
    if not ready:
        return Evaluation((), (), marks, min((s.due_at for s in later), default=None))
    # One message per finding: the most advanced step. An escalation ends the ladders, so
    # steps that would have come after it in other ladders never happened: not even skipped.
    escalations = [s for s in ready if s.rule.action is not None]
    if escalations:
        chosen = min(escalations, key=lambda s: s.due_at)
        later += [s for s in ready if s.due_at > chosen.due_at]
        ready = [s for s in ready if s.due_at <= chosen.due_at]
    else:
        chosen = max(ready, key=lambda s: (s.rule.level, s.due_at))
    for kind in {s.kind for s in ready}:
        deadline = next(s.deadline for s in ready if s.kind is kind)
        base = case.ladder.get(kind)
        mark = base if base is not None and base.due == deadline else LadderMark(due=deadline)
        last = max(s.due_at for s in ready if s.kind is kind)
        marks[kind] = replace(mark, done_until=last)
    skipped = sorted((s for s in ready if s is not chosen), key=lambda s: s.due_at)
    return Evaluation(
        due=(chosen,),
        skipped=tuple(skipped),
        ladder=marks,
        next_check_at=min((s.due_at for s in later), default=None),
    )


def next_check_at(case: Followed, rules: Rules) -> datetime | None:
    """When the sweep must look at the case next: its earliest step not yet processed
    (possibly already past, for a back-dated action), or ``None``."""
    earliest: list[datetime] = []
    for kind in _in_force(case):
        mark = case.ladder.get(kind)
        for step in ladder_steps(case, kind, rules):
            done = (
                mark is not None
                and mark.due == step.deadline
                and mark.done_until is not None
                and step.due_at <= mark.done_until
            )
            if not done:
                earliest.append(step.due_at)
                break
    return min(earliest, default=None)


#: Where a timeline entry stands at the moment the timeline is drawn: a step already taken
#: ("done"), the step the next sweep applies ("due"), one catch-up passes over
#: ("catch_up_skip"), a deadline already passed ("passed"), or anything still ahead.
TimelineStatus = Literal["done", "due", "catch_up_skip", "passed", "upcoming"]


@dataclass(frozen=True)
class TimelineEntry:
    """One dated item of a finding's future (or past) under the rules: ``at`` is the instant
    it happens (for a deadline, the end of its day), ``due`` the date of the deadline it
    belongs to."""

    at: datetime
    due: date
    kind: str  # "deadline", "reminder" or "escalation"
    deadline: DeadlineKind
    rule: str | None
    template: str | None
    to: tuple[str, ...]
    level: int
    action: str | None
    done: bool
    status: TimelineStatus | None = None  # only for a timeline drawn at a moment


def timeline(case: Followed, rules: Rules, now: datetime | None = None) -> list[TimelineEntry]:
    """Every deadline in force and every step of its ladder, in time order; ``done`` marks the
    steps already processed.

    The first automatic escalation still to come ends the list: the finding is then in
    sanction review, where no deadline binds, so nothing after that instant would happen.
    With ``now``, each entry gets its :data:`TimelineStatus` as a sweep at ``now`` sees it
    (:func:`evaluate`): of the steps already due, the one it applies and the ones catch-up
    passes over.
    """
    entries: list[TimelineEntry] = []
    for kind in _in_force(case):
        deadline = _deadline(case, kind)
        if deadline is None:
            continue
        entries.append(
            TimelineEntry(
                at=rules.calendar.end_of_day(deadline),
                due=deadline,
                kind="deadline",
                deadline=kind,
                rule=None,
                template=None,
                to=(),
                level=0,
                action=None,
                done=False,
            )
        )
        mark = case.ladder.get(kind)
        done_until = mark.done_until if mark is not None and mark.due == deadline else None
        for step in ladder_steps(case, kind, rules):
            entries.append(
                TimelineEntry(
                    at=step.due_at,
                    due=deadline,
                    kind="reminder" if step.rule.offset < 0 else "escalation",
                    deadline=kind,
                    rule=step.id,
                    template=step.rule.template,
                    to=tuple(r.value for r in step.rule.to),
                    level=step.rule.level,
                    action=step.rule.action,
                    done=done_until is not None and step.due_at <= done_until,
                )
            )
    entries.sort(key=lambda e: (e.at, e.kind != "deadline"))
    escalation = next((e.at for e in entries if e.action == "escalate" and not e.done), None)
    if escalation is not None:
        entries = [e for e in entries if e.at <= escalation]
    if now is None:
        return entries
    evaluation = evaluate(case, rules, now)
    due = {(s.kind, s.id) for s in evaluation.due}
    skipped = {(s.kind, s.id) for s in evaluation.skipped}
    return [replace(e, status=_status(e, due, skipped, now)) for e in entries]


def _status(
    entry: TimelineEntry,
    due: set[tuple[DeadlineKind, str]],
    skipped: set[tuple[DeadlineKind, str]],
    now: datetime,
) -> TimelineStatus:
    if entry.done:
        return "done"
    if entry.rule is None:
        return "passed" if entry.at <= now else "upcoming"
    if (entry.deadline, entry.rule) in due:
        return "due"
    if (entry.deadline, entry.rule) in skipped:
        return "catch_up_skip"
    return "upcoming"
