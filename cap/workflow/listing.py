"""The findings list of the desk: filters, search, sort, pages, and its CSV export.

Filtering, counting, sorting and paging happen in SQL, on the finding's own columns and
indexes (ix_finding_list_*: every filter and the default order read from an index, never the
table): a page chooses its ids (LIMIT/OFFSET, with a tie-break on the id) and reads what it
shows for those alone, however many findings there are; it is counted only when the list goes
on past it. The deadline that binds now is the stored ``Finding.due_order`` (NO_DEADLINE when
none), kept with every write as :func:`cap.domain.lifecycle.current_deadline` finds it; the
search reads the stored, lower-cased ``Finding.search_text``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, false, func, select
from sqlmodel import Session, col

from cap.domain.lifecycle import current_deadline
from cap.domain.model import Area, Case, Severity, State
from cap.errors import InvalidInput
from cap.store import search
from cap.store.models import NO_DEADLINE, Contract, Finding, Supplier
from cap.workflow.base import UseCases
from cap.workflow.results import FindingSummary

#: Findings on one page of the list.
PAGE_SIZE = 50
#: A search matching at most this many findings reads them through the search index; more
#: are read in the list's order, where the first page's come early.
FEW_MATCHES = 1_000
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
#: The latest date a deadline can have (NO_DEADLINE, the day after, means none).
LAST_DUE = NO_DEADLINE - timedelta(days=1)
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


#: What the list and its export show of a finding, read as columns (no entity, no ladder).
_SHOWN: tuple[Any, ...] = (
    col(Finding.id), col(Finding.ref), col(Finding.state), col(Finding.severity),
    col(Finding.area), col(Finding.title), col(Finding.site), col(Finding.found_on),
    col(Finding.plan_due), col(Finding.remediation_due), col(Finding.review_due),
    col(Finding.verification_due), col(Finding.escalation_level), col(Supplier.name),
    col(Supplier.org_number), col(Contract.reference),
)  # fmt: skip
_Where = list[ColumnElement[bool]]
#: A part of the list: what narrows it further, and its order. A list is one part, or two
#: read one after the other (the latest deadline first, then the findings without one).
_Part = tuple[_Where, list[Any]]


def _shown() -> Select[Any]:
    return (
        select(*_SHOWN)
        .join(Supplier, col(Supplier.id) == col(Finding.supplier_id))
        .join(Contract, col(Contract.id) == col(Finding.contract_id))
    )


def _rank(kind: type[StrEnum], column: Any) -> Any:
    """``column``'s values in the order the enum (and the form's list) gives them."""
    return case({member: i for i, member in enumerate(kind)}, value=column)


def _sort_key(sort: str) -> ColumnElement[Any]:
    keys: dict[str, Callable[[], Any]] = {
        # Refs are numbered in the order findings are logged; the id sorts NC-2026-10000 after
        # NC-2026-9999, where their text would not.
        "ref": lambda: col(Finding.id),
        "title": lambda: func.lower(col(Finding.title)),
        "supplier": lambda: func.lower(col(Supplier.name)),
        "contract": lambda: func.lower(col(Contract.reference)),
        "state": lambda: _rank(State, col(Finding.state)),
        "severity": lambda: _rank(Severity, col(Finding.severity)),
        "area": lambda: _rank(Area, col(Finding.area)),
        "due": lambda: col(Finding.due_order),
        "found_on": lambda: col(Finding.found_on),
    }
    key: ColumnElement[Any] = keys[sort]()  # built when asked for: a CASE is not free
    return key


def _parts(query: FindingQuery) -> list[_Part]:
    """The parts of the list ``query`` orders. The id keeps equal keys in the order findings
    were logged, either way, and so a stable order from one page to the next. By deadline,
    findings without one (``due_order`` NO_DEADLINE, the greatest date) come last either way:
    ascending, the index on (due_order, id) gives the order as it is; descending, the findings
    with a deadline are one part (that index read backwards) and those without one another."""
    key = _sort_key(query.sort)
    if query.sort == "due" and query.descending:
        due = col(Finding.due_order)
        return [([due < NO_DEADLINE], [due.desc(), col(Finding.id)]),
                ([due == NO_DEADLINE], [col(Finding.id)])]  # fmt: skip
    return [([], [key.desc() if query.descending else key.asc(), col(Finding.id)])]


def _ids(query: FindingQuery) -> Select[Any]:
    """The ids of findings, with the supplier or contract joined when they sort."""
    statement = select(col(Finding.id))
    if query.sort == "supplier":
        statement = statement.join(Supplier, col(Supplier.id) == col(Finding.supplier_id))
    if query.sort == "contract":
        statement = statement.join(Contract, col(Contract.id) == col(Finding.contract_id))
    return statement


def searched(q: str) -> ColumnElement[bool]:
    """The findings whose ref, title or site holds ``q``, in any case: ``search_text`` (the
    three, one a line, in lower case) holds it in lower case. contains(autoescape=True): a %
    or _ typed is matched as itself, on both databases. None of the three holds a line break,
    so a ``q`` with one matches nothing (rather than the end of one and the start of the next).
    """
    text = q.lower()
    if "\n" in text:
        return false()
    return col(Finding.search_text).contains(text, autoescape=True)


def _indexed_text(session: Session, query: FindingQuery) -> str | None:
    """What ``query`` searches for (lower-cased) when the search index reads it: the database
    has one (cap.store.search) and it is long enough for it; None to read it with LIKE."""
    if query.q is None:
        return None
    text = query.q.lower()
    if len(text) < search.SHORTEST or "\n" in text or not search.has_index(session):
        return None
    return text


def _count(session: Session, where: _Where) -> int:
    """How many findings pass ``where`` (conditions on the finding's own columns: no join)."""
    return int(
        session.execute(select(func.count()).select_from(Finding).where(*where)).scalar_one()
    )


class Listings(UseCases):
    def findings_page(self, query: FindingQuery, *, now: datetime) -> FindingsPage:
        """The page of findings ``query`` asks for, as they stand at ``now``."""
        with self.db.read() as session:
            where = self._listing_where(session, query, now)
            if isinstance(where, FindingsPage):
                return where
            offset = (query.page - 1) * PAGE_SIZE
            total: int | None = None
            searched = _indexed_text(session, query)
            if searched is not None:
                # Counted through the search index first (from it alone when nothing else
                # filters); a few matches are then read through it too, many in the list's
                # order from the list's own index, where the first of them come early.
                others, indexed = where[:-1], search.indexed(searched)
                total = (_count(session, [*others, indexed]) if others
                         else search.count(session, searched))  # fmt: skip
                if total <= FEW_MATCHES:
                    where = [*others, indexed]
            # One more than a page: fewer tell where the list ends, and then its length needs
            # no count (a search finding a few findings reads them once, not twice).
            rows = self._page_rows(session, query, where, offset, PAGE_SIZE + 1)
            if total is None:
                known = len(rows) <= PAGE_SIZE and (rows or not offset)
                total = offset + len(rows) if known else _count(session, where)
            overdue = self._overdue(now)
            return FindingsPage(
                query=query,
                findings=tuple(_listed(row, overdue) for row in rows[:PAGE_SIZE]),
                total=total,
                pages=max(1, -(-total // PAGE_SIZE)),
            )

    def _page_rows(
        self, session: Session, query: FindingQuery, where: _Where, offset: int, wanted: int
    ) -> list[Any]:
        """Up to ``wanted`` findings from ``offset`` on, read part by part (a part that ends
        before them is counted, to know where they start in the next one). The ids are chosen
        first, from an index where one serves: what is shown is read for those alone, not for
        the findings an offset skips."""
        found: list[Any] = []
        parts = _parts(query)
        for number, (narrower, order) in enumerate(parts):
            chosen = (
                _ids(query)
                .where(*where, *narrower)
                .order_by(*order)
                .limit(wanted - len(found))
                .offset(offset)
            )
            statement = _shown().where(col(Finding.id).in_(chosen)).order_by(*order)
            got = session.execute(statement).all()
            found += got
            if len(found) == wanted or number == len(parts) - 1:
                break
            # They start in the next part: at its start if this part ended among them.
            offset = 0 if got or not offset else offset - _count(session, [*where, *narrower])
        return found

    def export_findings(self, query: FindingQuery, *, now: datetime) -> Iterator[ListedFinding]:
        """Every finding ``query`` lets through (its page aside), in its order, read in
        batches in one transaction as the caller iterates."""
        with self.db.read() as session:
            where = self._listing_where(session, query, now)
            if isinstance(where, FindingsPage):
                return
            overdue = self._overdue(now)
            for narrower, order in _parts(query):
                statement = _shown().where(*where, *narrower).order_by(*order)
                rows = session.execute(statement.execution_options(yield_per=EXPORT_BATCH))
                for row in rows:
                    yield _listed(row, overdue)

    def _listing_where(
        self, session: Session, query: FindingQuery, now: datetime
    ) -> _Where | FindingsPage:
        """What a finding must be to be listed, on its own columns (the supplier and contract
        by their ids); or the empty page when ``query`` names a supplier or contract that does
        not exist."""
        where: _Where = []
        if query.supplier is not None:
            supplier = session.execute(
                select(col(Supplier.id)).where(col(Supplier.org_number) == query.supplier)
            ).scalar_one_or_none()
            if supplier is None:
                return FindingsPage(query, (), 0, 1, unknown_supplier=True)
            where.append(col(Finding.supplier_id) == supplier)
        if query.contract is not None:
            contract = session.execute(
                select(col(Contract.id)).where(col(Contract.reference) == query.contract)
            ).scalar_one_or_none()
            if contract is None:
                return FindingsPage(query, (), 0, 1, unknown_contract=True)
            where.append(col(Finding.contract_id) == contract)
        if query.states:
            where.append(col(Finding.state).in_(query.states))
        if query.area is not None:
            where.append(col(Finding.area) == query.area)
        if query.severity is not None:
            where.append(col(Finding.severity) == query.severity)
        due = col(Finding.due_order)
        if query.overdue:
            # Past the date of the deadline in force (NO_DEADLINE never is): overdue_clause.
            where.append(due < self.settings.calendar.local_date(now))
        if query.due_before is not None:
            where.append(due <= min(query.due_before, LAST_DUE))
        if query.q is not None:
            where.append(searched(query.q))  # last: _indexed_search stands in for it
        return where

    def _overdue(self, now: datetime) -> Callable[[date], bool]:
        """Whether a deadline due on a date has passed at ``now``, worked out once a date."""
        calendar, known = self.settings.calendar, dict[date, bool]()

        def overdue(due: date) -> bool:
            late = known.get(due)
            if late is None:
                late = known[due] = calendar.is_overdue(due, now)
            return late

        return overdue


def _listed(row: Any, overdue: Callable[[date], bool]) -> ListedFinding:
    """A row of :data:`_SHOWN` as the list shows it; its deadline is the lifecycle's."""
    (_, ref, state, severity, area, title, site, found_on, plan_due, remediation_due,
     review_due, verification_due, escalation_level, supplier, org, contract) = row  # fmt: skip
    case = Case(
        state=state,
        severity=severity,
        area=area,
        plan_due=plan_due,
        remediation_due=remediation_due,
        review_due=review_due,
        verification_due=verification_due,
    )
    current = current_deadline(case)
    return ListedFinding(
        ref=ref,
        state=state,
        severity=severity,
        area=area,
        title=title,
        supplier=supplier,
        supplier_org_number=org,
        contract=contract,
        plan_due=plan_due,
        remediation_due=remediation_due,
        current_deadline=current[0] if current else None,
        due=current[1] if current else None,
        overdue=current is not None and overdue(current[1]),
        escalation_level=escalation_level,
        site=site,
        found_on=found_on,
    )
