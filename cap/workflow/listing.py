"""The findings list of the desk: filters, search, sort, pages, and its CSV export.

Filtering, counting, sorting and paging happen in SQL (COUNT, then LIMIT/OFFSET with a tie-break
on the id): a page loads its 50 findings, however many there are. The deadline that binds now
is :func:`current_due`, a SQL CASE that mirrors :func:`cap.domain.lifecycle.current_deadline`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlmodel import Session, col

from cap.domain.model import Area, Severity, State
from cap.errors import InvalidInput
from cap.store.models import Contract, Finding, Supplier
from cap.workflow.base import UseCases
from cap.workflow.results import FindingSummary
from cap.workflow.views import current_deadline_columns, overdue_clause, summary_view

#: Findings on one page of the list.
PAGE_SIZE = 50
#: The columns a list can be sorted by, as the ``sort`` parameter names them.
SORTS: tuple[str, ...] = (
    "ref", "title", "supplier", "contract", "state", "severity", "area", "due", "found_on",
)  # fmt: skip
#: Most urgent first: the earliest deadline in force at the top, findings without one last.
DEFAULT_SORT = "due"
#: The query parameters of the list (the export takes the same).
PARAMETERS: tuple[str, ...] = (
    "state", "supplier", "contract", "area", "severity", "overdue", "due_before", "q",
    "sort", "order", "page",
)  # fmt: skip
#: Beyond it, an offset no longer fits a database integer; nobody pages that far.
MAX_PAGE = 1_000_000
Q_MAX_LENGTH = 200
#: Findings read from the database at a time by the export.
EXPORT_BATCH = 500
#: A finding with its supplier's name and organisation number and its contract's reference.
_Rows = Select[Finding, str, str, str]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE = re.compile(r"[0-9]{1,9}")
_WHAT = {"state": "a state", "area": "an area", "severity": "a severity"}
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True)
class FindingQuery:
    """Which findings a list shows, in what order, which page: every finding unless
    narrowed. ``states``: any of them; ``due_before``: the deadline in force now is on or
    before that date; ``q``: ref, title or site contains it (any case)."""

    states: tuple[State, ...] = ()
    supplier: str | None = None  # organisation number
    contract: str | None = None  # reference
    area: Area | None = None
    severity: Severity | None = None
    overdue: bool = False
    due_before: date | None = None
    q: str | None = None
    sort: str = DEFAULT_SORT
    descending: bool = False
    page: int = 1

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set (sort and page are not filters)."""
        plain = replace(self, sort=DEFAULT_SORT, descending=False, page=1)
        return plain != FindingQuery()

    def params(self, *, page: bool = True) -> list[tuple[str, str]]:
        """The query parameters that give this list (defaults left out), for its links."""
        found: list[tuple[str, str]] = [("state", s.value) for s in self.states]
        for name, value in (
            ("supplier", self.supplier),
            ("contract", self.contract),
            ("area", self.area.value if self.area else None),
            ("severity", self.severity.value if self.severity else None),
            ("overdue", "1" if self.overdue else None),
            ("due_before", self.due_before.isoformat() if self.due_before else None),
            ("q", self.q),
            ("sort", self.sort if self.sort != DEFAULT_SORT else None),
            ("order", "desc" if self.descending else None),
            ("page", str(self.page) if page and self.page != 1 else None),
        ):
            if value is not None:
                found.append((name, value))
        return found


def parse_query(params: Sequence[tuple[str, str]]) -> FindingQuery:
    """The list ``params`` (a URL's query, in order) ask for. An empty value is a filter left
    blank; an unknown parameter, a repeated one (``state`` may repeat) or a bad value is an
    :class:`InvalidInput` naming the parameter and what it takes."""
    given: dict[str, list[str]] = {}
    for name, value in params:
        if name not in PARAMETERS:
            raise InvalidInput(
                f"{name}: not a parameter of the findings list; use {_joined(PARAMETERS)}"
            )
        given.setdefault(name, []).append(value.strip())

    def one(name: str) -> str | None:
        values = [v for v in given.get(name, []) if v]
        if len(values) > 1:
            raise InvalidInput(f"{name}: give it once")
        return values[0] if values else None

    states = tuple(dict.fromkeys(_member(State, "state", v) for v in given.get("state", []) if v))
    area, severity = one("area"), one("severity")
    overdue = one("overdue")
    if overdue not in (None, "1"):
        raise InvalidInput("overdue: use overdue=1 for overdue findings only, or leave it out")
    due_before = one("due_before")
    q = one("q")
    if q is not None and len(q) > Q_MAX_LENGTH:
        raise InvalidInput(f"q: at most {Q_MAX_LENGTH} characters")
    sort = one("sort") or DEFAULT_SORT
    if sort not in SORTS:
        raise InvalidInput(f"sort: choose one of {_joined(SORTS)}")
    order = one("order") or "asc"
    if order not in ("asc", "desc"):
        raise InvalidInput("order: choose asc or desc")
    return FindingQuery(
        states=states,
        supplier=one("supplier"),
        contract=one("contract"),
        area=_member(Area, "area", area) if area else None,
        severity=_member(Severity, "severity", severity) if severity else None,
        overdue=overdue == "1",
        due_before=_date("due_before", due_before) if due_before else None,
        q=q,
        sort=sort,
        descending=order == "desc",
        page=_page(one("page")),
    )


def _joined(names: Sequence[str]) -> str:
    return ", ".join(names)


def _member(kind: type[E], name: str, value: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(
            f"{name}: {value} is not {_WHAT[name]}; choose one of "
            f"{_joined([m.value for m in kind])}"
        ) from None


def _date(name: str, value: str) -> date:
    try:
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InvalidInput(f"{name}: {value} is not a date (YYYY-MM-DD)")


def _page(value: str | None) -> int:
    if value is None:
        return 1
    if not _WHOLE.fullmatch(value) or not 1 <= int(value) <= MAX_PAGE:
        raise InvalidInput(f"page: must be a whole number from 1 to {MAX_PAGE}")
    return int(value)


@dataclass(frozen=True)
class ListedFinding(FindingSummary):
    """A finding as the list and its export show it: its summary, site and finding date."""

    site: str | None
    found_on: date


@dataclass(frozen=True)
class FindingsPage:
    """One page of the list: ``total`` findings match ``query`` over ``pages`` pages (at
    least 1); a page past the last has no findings. ``unknown_supplier``/``unknown_contract``:
    no supplier has that organisation number, no contract that reference (nothing matches)."""

    query: FindingQuery
    findings: tuple[ListedFinding, ...]
    total: int
    pages: int
    unknown_supplier: bool = False
    unknown_contract: bool = False

    @property
    def first(self) -> int:
        """The position of the page's first finding in the whole list (1-based)."""
        return (self.query.page - 1) * PAGE_SIZE + 1

    @property
    def last(self) -> int:
        return self.first + len(self.findings) - 1


# -- SQL ------------------------------------------------------------------------------------


def current_due() -> Any:
    """The date of the deadline that binds each finding now, as SQL (NULL when none)."""
    return current_deadline_columns()[1]


def _rank(kind: type[StrEnum], column: Any) -> Any:
    """``column``'s values in the order the enum (and the form's list) gives them."""
    return case({member: i for i, member in enumerate(kind)}, value=column)


def _sort_key(sort: str) -> ColumnElement[Any]:
    keys: dict[str, Any] = {
        # Refs are numbered in the order findings are logged; the id sorts NC-2026-10000 after
        # NC-2026-9999, where their text would not.
        "ref": col(Finding.id),
        "title": func.lower(col(Finding.title)),
        "supplier": func.lower(col(Supplier.name)),
        "contract": func.lower(col(Contract.reference)),
        "state": _rank(State, col(Finding.state)),
        "severity": _rank(Severity, col(Finding.severity)),
        "area": _rank(Area, col(Finding.area)),
        "due": current_due(),
        "found_on": col(Finding.found_on),
    }
    key: ColumnElement[Any] = keys[sort]
    return key


def _listing_ordered(statement: _Rows, query: FindingQuery) -> _Rows:
    key = _sort_key(query.sort)
    # The id keeps equal keys in a stable order from one page to the next.
    order = [key.desc() if query.descending else key.asc(), col(Finding.id)]
    if query.sort == "due":
        # Findings without a deadline in force go last either way (PostgreSQL puts NULL
        # last when ascending, SQLite first: neither decides here).
        order.insert(0, case((key.is_(None), 1), else_=0))
    return statement.order_by(*order)


class Listings(UseCases):
    def findings_page(self, query: FindingQuery, *, now: datetime) -> FindingsPage:
        """The page of findings ``query`` asks for, as they stand at ``now``."""
        with self.db.read() as session:
            narrowed = self._listing_filtered(session, query, now)
            if isinstance(narrowed, FindingsPage):
                return narrowed
            counted = narrowed.with_only_columns(func.count(col(Finding.id))).order_by(None)
            total = int(session.execute(counted).scalar_one())
            rows = session.execute(
                _listing_ordered(narrowed, query)
                .limit(PAGE_SIZE)
                .offset((query.page - 1) * PAGE_SIZE)
            ).all()
            return FindingsPage(
                query=query,
                findings=tuple(self._listing_row(*row, now=now) for row in rows),
                total=total,
                pages=max(1, -(-total // PAGE_SIZE)),
            )

    def export_findings(self, query: FindingQuery, *, now: datetime) -> Iterator[ListedFinding]:
        """Every finding ``query`` lets through (its page aside), in its order, read in
        batches in one transaction as the caller iterates."""
        with self.db.read() as session:
            narrowed = self._listing_filtered(session, query, now)
            if isinstance(narrowed, FindingsPage):
                return
            ordered = _listing_ordered(narrowed, query)
            ordered = ordered.execution_options(yield_per=EXPORT_BATCH)
            for row in session.execute(ordered):
                yield self._listing_row(*row, now=now)

    def _listing_filtered(
        self, session: Session, query: FindingQuery, now: datetime
    ) -> _Rows | FindingsPage:
        """The findings ``query`` lets through, with their supplier and contract, unordered;
        or the empty page when it names a supplier or contract that does not exist."""
        statement = (
            select(Finding, col(Supplier.name), col(Supplier.org_number), col(Contract.reference))
            .join(Supplier, col(Supplier.id) == col(Finding.supplier_id))
            .join(Contract, col(Contract.id) == col(Finding.contract_id))
        )
        if query.supplier is not None:
            supplier = session.execute(
                select(col(Supplier.id)).where(col(Supplier.org_number) == query.supplier)
            ).scalar_one_or_none()
            if supplier is None:
                return FindingsPage(query, (), 0, 1, unknown_supplier=True)
            statement = statement.where(col(Finding.supplier_id) == supplier)
        if query.contract is not None:
            contract = session.execute(
                select(col(Contract.id)).where(col(Contract.reference) == query.contract)
            ).scalar_one_or_none()
            if contract is None:
                return FindingsPage(query, (), 0, 1, unknown_contract=True)
            statement = statement.where(col(Finding.contract_id) == contract)
        if query.states:
            statement = statement.where(col(Finding.state).in_(query.states))
        if query.area is not None:
            statement = statement.where(col(Finding.area) == query.area)
        if query.severity is not None:
            statement = statement.where(col(Finding.severity) == query.severity)
        if query.overdue:
            statement = statement.where(overdue_clause(self.settings.calendar.local_date(now)))
        if query.due_before is not None:
            statement = statement.where(current_due() <= query.due_before)
        if query.q is not None:
            # contains(autoescape=True): a % or _ typed is matched as itself, on both databases.
            text = query.q.lower()
            statement = statement.where(
                or_(
                    *(
                        func.lower(column).contains(text, autoescape=True)
                        for column in (col(Finding.ref), col(Finding.title), col(Finding.site))
                    )
                )
            )
        return statement

    def _listing_row(
        self, finding: Finding, supplier: str, org: str, contract: str, *, now: datetime
    ) -> ListedFinding:
        summary = summary_view(finding, supplier, org, contract, self.settings, now)
        return ListedFinding(
            **{f.name: getattr(summary, f.name) for f in fields(FindingSummary)},
            site=finding.site,
            found_on=finding.found_on,
        )
