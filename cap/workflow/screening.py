"""Screening findings before they are logged, so that re-importing a report adds only what is new.

A row that carries the report's own reference (``external_id``) is recognised by it, per
contract: one already logged is skipped. A row without one is compared with the findings of its
contract by title, site and date, and refused as a probable duplicate unless duplicates are
allowed. Runs in the caller's transaction, after the contracts were locked (see
:func:`cap.workflow.records.contracts_by_ref`), so two imports cannot both pass it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlmodel import Session, col

from cap.domain.inputs import FindingInput
from cap.errors import InvalidInput
from cap.store.models import Contract, Finding
from cap.workflow.results import SkippedRow

#: A refusal lists this many bad rows at most; the rest are counted.
MAX_REPORTED = 50

#: What makes two findings without an external id probably the same.
ContentKey = tuple[int, str, str | None, date]


@dataclass
class Screened:
    new: list[int] = field(default_factory=list)  # indexes of the rows to log
    skipped: list[SkippedRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def refusal(self) -> InvalidInput:
        """One error naming every bad row (the first :data:`MAX_REPORTED` of them)."""
        if len(self.problems) == 1:
            return InvalidInput(self.problems[0])
        shown = self.problems[:MAX_REPORTED]
        more = len(self.problems) - len(shown)
        tail = [f"... and {more} more bad rows"] if more else []
        return InvalidInput(
            f"{len(self.problems)} bad row(s), nothing was imported:\n" + "\n".join(shown + tail)
        )


def screen(
    session: Session,
    rows: Sequence[FindingInput],
    contracts: dict[str, Contract],
    *,
    today: date,
    where: Callable[[int], str],
    allow_duplicates: bool,
) -> Screened:
    """Sort ``rows`` into new, skipped (external id already logged) and bad ones.

    ``where(i)`` names row ``i`` in problems; ``today`` is the found_on of a row without one.
    """
    by_external_id, by_content = _existing(
        session,
        [c.id for c in contracts.values() if c.id is not None],
        with_content=not allow_duplicates,
        with_external_id=any(r.external_id for r in rows),
    )
    result = Screened()
    first_with_id: dict[tuple[int, str], int] = {}
    first_with_content: dict[ContentKey, int] = {}
    for i, row in enumerate(rows):
        prefix = f"{where(i)}: " if where(i) else ""
        contract = contracts.get(row.contract)
        if contract is None or contract.id is None:
            result.problems.append(f"{prefix}contract: {row.contract} does not exist")
            continue
        if row.found_on and row.found_on > today:
            result.problems.append(
                f"{prefix}found_on: {row.found_on} is in the future (today is {today})"
            )
            continue
        content = (contract.id, _title_key(row.title), row.site, row.found_on or today)
        if row.external_id:
            key = (contract.id, row.external_id)
            first = first_with_id.setdefault(key, i)
            if first != i:
                result.problems.append(
                    f"{prefix}external_id: {row.external_id} is given twice for contract "
                    f"{row.contract} (first at {where(first)})"
                )
                continue
            if key in by_external_id:
                result.skipped.append(SkippedRow(i, row.external_id, by_external_id[key]))
                continue
        elif not allow_duplicates:
            earlier = by_content.get(content)
            if earlier is None and content in first_with_content:
                earlier = where(first_with_content[content])
            if earlier is not None:
                result.problems.append(
                    f"{prefix}probable duplicate of {earlier} (same contract, title, site and "
                    "found_on); add an external_id column, or --allow-duplicates to import it "
                    "anyway"
                )
                continue
        first_with_content.setdefault(content, i)
        result.new.append(i)
    return result


def _title_key(title: str) -> str:
    return title.strip().casefold()


def _existing(
    session: Session, contract_ids: list[int], *, with_content: bool, with_external_id: bool
) -> tuple[dict[tuple[int, str], str], dict[ContentKey, str]]:
    """The keys of the findings already logged on ``contract_ids``, each with its ref: one
    query for the lot (a 10,000-row import must not ask once a row)."""
    by_external_id: dict[tuple[int, str], str] = {}
    by_content: dict[ContentKey, str] = {}
    if not contract_ids or not (with_content or with_external_id):
        return by_external_id, by_content
    query = select(
        col(Finding.contract_id),
        col(Finding.external_id),
        col(Finding.title),
        col(Finding.site),
        col(Finding.found_on),
        col(Finding.ref),
    ).where(col(Finding.contract_id).in_(contract_ids))
    if not with_content:
        query = query.where(col(Finding.external_id).is_not(None))
    for contract_id, external_id, title, site, found_on, ref in session.execute(
        query.order_by(col(Finding.id))
    ):
        if external_id is not None:
            by_external_id[(contract_id, external_id)] = ref
        if with_content:
            # The oldest finding is the one to name.
            by_content.setdefault((contract_id, _title_key(title), site, found_on), ref)
    return by_external_id, by_content
