"""The one mapping between a finding's row (:class:`Finding`) and the lifecycle's view of it
(:class:`Case`).

Every field of ``Case`` is the column of ``Finding`` with the same name; only the ladder changes
form (marks in memory, JSON in the row). Reading a case, writing one back under the optimistic
lock and the emails' view of a finding all go through here, derived from ``fields(Case)``: a
field added to ``Case`` (with its column and migration) is read and written with no list to
update.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import col

from cap.domain.lifecycle import current_deadline
from cap.domain.model import Case, DeadlineKind, LadderMark
from cap.store.models import NO_DEADLINE, Finding

#: The fields of a case, each a column of the finding of the same name.
CASE_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Case))
#: The fields stored as they are (the ladder is encoded).
_AS_IS: tuple[str, ...] = tuple(name for name in CASE_FIELDS if name != "ladder")


def case_of(finding: Finding) -> Case:
    """The lifecycle's view of ``finding`` as it was loaded."""
    values = {name: getattr(finding, name) for name in _AS_IS}
    return Case(**values, ladder=decode_ladder(finding.ladder))


def encode_ladder(ladder: dict[DeadlineKind, LadderMark]) -> dict[str, Any]:
    return {
        kind.value: {
            "due": mark.due.isoformat(),
            "since": _iso(mark.since),
            "done_until": _iso(mark.done_until),
        }
        for kind, mark in ladder.items()
    }


def decode_ladder(data: dict[str, Any] | None) -> dict[DeadlineKind, LadderMark]:
    def instant(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return {
        DeadlineKind(kind): LadderMark(
            due=date.fromisoformat(mark["due"]),
            since=instant(mark.get("since")),
            done_until=instant(mark.get("done_until")),
        )
        for kind, mark in (data or {}).items()
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


#: What writing a case changes: the case, when the sweep looks at it next, the date of its
#: current deadline (the lists' order) and the version.
SAVED_COLUMNS: tuple[str, ...] = (*CASE_FIELDS, "next_check_at", "due_order", "version")
_SAVED_KEYS = {name: f"new_{name}" for name in SAVED_COLUMNS}

#: A case written over its finding if nobody changed the finding since it was loaded (a
#: rowcount of 0 says someone did). Built once: it runs on every action and swept finding.
SAVE_FINDING = (
    update(Finding)
    .where(col(Finding.id) == bindparam("finding"), col(Finding.version) == bindparam("loaded"))
    .values({name: bindparam(key) for name, key in _SAVED_KEYS.items()})
)


def saved_params(finding: Finding, case: Case, next_check: datetime | None) -> dict[str, Any]:
    """The parameters of :data:`SAVE_FINDING` writing ``case`` over ``finding``."""
    params: dict[str, Any] = {"finding": finding.id, "loaded": finding.version}
    for name in _AS_IS:
        params[_SAVED_KEYS[name]] = getattr(case, name)
    params[_SAVED_KEYS["ladder"]] = encode_ladder(case.ladder)
    params[_SAVED_KEYS["next_check_at"]] = next_check
    params[_SAVED_KEYS["due_order"]] = due_order(case)
    params[_SAVED_KEYS["version"]] = finding.version + 1
    return params


def due_order(case: Case) -> date:
    """``Finding.due_order`` of ``case``: its current deadline's date, else NO_DEADLINE."""
    current = current_deadline(case)
    return current[1] if current is not None else NO_DEADLINE
