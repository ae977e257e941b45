"""Use cases: the suppliers and contracts findings are logged against; the desk's lists of
them (searched and paged in SQL, with their open findings counted there) and their pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, true
from sqlmodel import Session, col

from cap.domain.inputs import ContractInput, ContractUpdate, SupplierInput, SupplierUpdate
from cap.domain.model import State
from cap.errors import AlreadyExists, InvalidInput
from cap.store.models import Contract, Finding, Supplier, SupplierContact, address_key
from cap.workflow.base import UseCases
from cap.workflow.obligations import record_default_obligation
from cap.workflow.records import contract_by_ref, supplier_by_org
from cap.workflow.results import ContactView, ContractView, SupplierView
from cap.workflow.views import contract_view, supplier_view

#: Rows on one page of the desk's lists of suppliers and contracts.
PER_PAGE = 50
#: Longer than any name, organisation number or reference a search could match.
QUERY_MAX_LENGTH = 200
#: A finding in none of these states is open: someone still owes something on it.
ENDED_STATES: tuple[State, ...] = (State.CLOSED, State.TERMINATED, State.WITHDRAWN)


@dataclass(frozen=True)
class SupplierRow:
    """A supplier as its list shows it."""

    name: str
    org_number: str
    country: str
    contacts: tuple[ContactView, ...]
    open_findings: int


@dataclass(frozen=True)
class ContractRow:
    """A contract as a list shows it."""

    reference: str
    supplier: str  # the supplier's name
    supplier_org_number: str
    category: str
    manager: str
    start: date | None
    end: date | None
    open_findings: int


@dataclass(frozen=True)
class SupplierPage:
    """One page of the suppliers matching ``query`` ("": all), by name; ``number`` counts
    from 1 and ``pages`` is at least 1."""

    rows: tuple[SupplierRow, ...]
    query: str
    total: int
    number: int
    pages: int


@dataclass(frozen=True)
class ContractPage:
    """One page of the contracts matching ``query`` ("": all), by reference."""

    rows: tuple[ContractRow, ...]
    query: str
    total: int
    number: int
    pages: int


@dataclass(frozen=True)
class StateCount:
    state: State
    findings: int


@dataclass(frozen=True)
class FindingCounts:
    """How many findings there are in each state (states with none left out), in the
    lifecycle's order."""

    by_state: tuple[StateCount, ...]

    @property
    def total(self) -> int:
        return sum(c.findings for c in self.by_state)

    @property
    def open(self) -> int:
        return sum(c.findings for c in self.by_state if c.state not in ENDED_STATES)


@dataclass(frozen=True)
class SupplierDetails:
    """A supplier's page: the supplier with its contacts, its contracts, its findings."""

    supplier: SupplierView
    created_at: datetime
    contracts: tuple[ContractRow, ...]
    findings: FindingCounts


@dataclass(frozen=True)
class ContractDetails:
    """A contract's page: the contract and its findings."""

    contract: ContractView
    created_at: datetime
    findings: FindingCounts


def page_number(page: int) -> int:
    if page < 1:
        raise InvalidInput(f"page: {page} is not a page; pages count from 1")
    return page


def search_text(query: str) -> str:
    query = query.strip()
    if len(query) > QUERY_MAX_LENGTH:
        raise InvalidInput(f"q: too long; search with at most {QUERY_MAX_LENGTH} characters")
    return query


def _matching(query: str, *columns: Any) -> Any:
    """Rows where one of ``columns`` contains ``query``, ignoring case; ``%`` and ``_`` in it
    are the characters themselves, not wildcards."""
    if not query:
        return true()
    needle = query.lower()
    return or_(*(func.lower(c).contains(needle, autoescape=True) for c in columns))


def _pages(total: int) -> int:
    return max(1, -(-total // PER_PAGE))


def _open_by(column: Any) -> Any:
    """Open findings counted per ``column`` of Finding (its supplier, its contract)."""
    return (
        select(column.label("owner"), func.count().label("open"))
        .where(col(Finding.state).not_in(ENDED_STATES))
        .group_by(column)
        .subquery()
    )


def _counts(session: Session, where: Any) -> FindingCounts:
    rows = session.execute(
        select(col(Finding.state), func.count()).where(where).group_by(col(Finding.state))
    ).all()
    found = {State(state): n for state, n in rows}
    return FindingCounts(tuple(StateCount(s, found[s]) for s in State if found.get(s, 0) > 0))


def _contract_rows(session: Session, query: Any) -> list[ContractRow]:
    """``query`` (of contracts joined to their suppliers) with their open findings."""
    counts = _open_by(col(Finding.contract_id))
    rows = session.execute(
        query.add_columns(func.coalesce(counts.c.open, 0)).outerjoin(
            counts, counts.c.owner == col(Contract.id)
        )
    ).all()
    return [
        ContractRow(
            reference=c.reference,
            supplier=s.name,
            supplier_org_number=s.org_number,
            category=c.category,
            manager=c.manager_email,
            start=c.start_date,
            end=c.end_date,
            open_findings=n,
        )
        for c, s, n in rows
    ]


def _contacts_of(session: Session, supplier_ids: Sequence[int]) -> dict[int, list[ContactView]]:
    contacts: dict[int, list[ContactView]] = {}
    for c in session.execute(
        select(SupplierContact)
        .where(col(SupplierContact.supplier_id).in_(supplier_ids))
        .order_by(col(SupplierContact.id))
    ).scalars():
        contacts.setdefault(c.supplier_id, []).append(ContactView(c.name, c.email, c.language))
    return contacts


class Directory(UseCases):
    def add_supplier(self, data: SupplierInput, *, now: datetime) -> SupplierView:
        """Register a supplier with the one contact who receives its notices."""
        with self.db.write() as session:
            if session.execute(
                select(col(Supplier.id)).where(col(Supplier.org_number) == data.org_number)
            ).first():
                raise AlreadyExists(
                    f"org-number: a supplier with organisation number {data.org_number} "
                    "already exists"
                )
            supplier = Supplier(
                name=data.name, org_number=data.org_number, country=data.country, created_at=now
            )
            session.add(supplier)
            session.flush()
            assert supplier.id is not None
            session.add(
                SupplierContact(
                    supplier_id=supplier.id,
                    name=data.contact_name,
                    email=data.email,
                    language=data.language,
                )
            )
            contact = ContactView(data.contact_name, data.email, data.language)
            return supplier_view(supplier, [contact])

    def list_suppliers(self) -> list[SupplierView]:
        """Every supplier by name, with its contacts."""
        with self.db.read() as session:
            suppliers = (
                session.execute(select(Supplier).order_by(col(Supplier.name))).scalars().all()
            )
            contacts: dict[int, list[ContactView]] = {}
            for c in session.execute(
                select(SupplierContact).order_by(col(SupplierContact.id))
            ).scalars():
                contacts.setdefault(c.supplier_id, []).append(
                    ContactView(c.name, c.email, c.language)
                )
            return [supplier_view(s, contacts.get(s.id or 0, [])) for s in suppliers]

    def add_contract(self, data: ContractInput, *, now: datetime) -> ContractView:
        """Register a contract with a supplier already registered."""
        with self.db.write() as session:
            supplier = supplier_by_org(session, data.supplier)
            if session.execute(
                select(col(Contract.id)).where(col(Contract.reference) == data.reference)
            ).first():
                raise AlreadyExists(f"reference: contract {data.reference} already exists")
            assert supplier.id is not None
            contract = Contract(
                reference=data.reference,
                supplier_id=supplier.id,
                category=data.category,
                manager_email=data.manager,
                start_date=data.start,
                end_date=data.end,
                value=data.value,
                created_at=now,
            )
            session.add(contract)
            session.flush()
            # The report the case study asks of every contract, owed from its start.
            record_default_obligation(session, self.settings, contract, now=now)
            return contract_view(contract, supplier)

    def list_contracts(self) -> list[ContractView]:
        """Every contract by reference, with its supplier."""
        with self.db.read() as session:
            rows = session.execute(
                select(Contract, Supplier)
                .join(Supplier, col(Supplier.id) == col(Contract.supplier_id))
                .order_by(Contract.reference)
            ).all()
            return [contract_view(c, s) for c, s in rows]

    def supplier_page(self, query: str = "", page: int = 1) -> SupplierPage:
        """Page ``page`` of the suppliers whose name or organisation number contains
        ``query`` (ignoring case), by name, with their contacts and open findings; a page
        past the last is the last."""
        query, page = search_text(query), page_number(page)
        with self.db.read() as session:
            where = _matching(query, col(Supplier.name), col(Supplier.org_number))
            total = session.execute(
                select(func.count()).select_from(Supplier).where(where)
            ).scalar_one()
            pages = _pages(total)
            page = min(page, pages)
            counts = _open_by(col(Finding.supplier_id))
            rows = session.execute(
                select(Supplier, func.coalesce(counts.c.open, 0))
                .outerjoin(counts, counts.c.owner == col(Supplier.id))
                .where(where)
                # Not by name alone: SQLite and PostgreSQL order capitals differently.
                .order_by(func.lower(col(Supplier.name)), col(Supplier.org_number))
                .offset((page - 1) * PER_PAGE)
                .limit(PER_PAGE)
            ).all()
            contacts = _contacts_of(session, [s.id for s, _ in rows if s.id is not None])
            return SupplierPage(
                rows=tuple(
                    SupplierRow(
                        s.name, s.org_number, s.country, tuple(contacts.get(s.id or 0, [])), n
                    )
                    for s, n in rows
                ),
                query=query,
                total=total,
                number=page,
                pages=pages,
            )

    def contract_page(self, query: str = "", page: int = 1) -> ContractPage:
        """Page ``page`` of the contracts whose reference, category, contract manager or
        supplier (name or organisation number) contains ``query`` (ignoring case), by
        reference, with their open findings; a page past the last is the last."""
        query, page = search_text(query), page_number(page)
        with self.db.read() as session:
            where = _matching(
                query,
                col(Contract.reference),
                col(Contract.category),
                col(Contract.manager_email),
                col(Supplier.name),
                col(Supplier.org_number),
            )
            joined = select(Contract, Supplier).join(
                Supplier, col(Supplier.id) == col(Contract.supplier_id)
            )
            total = session.execute(
                select(func.count()).select_from(joined.where(where).subquery())
            ).scalar_one()
            pages = _pages(total)
            page = min(page, pages)
            rows = _contract_rows(
                session,
                joined.where(where)
                .order_by(col(Contract.reference))
                .offset((page - 1) * PER_PAGE)
                .limit(PER_PAGE),
            )
            return ContractPage(tuple(rows), query, total, page, pages)

    def show_supplier(self, org_number: str) -> SupplierDetails:
        """A supplier with its contacts, its contracts (by reference) and its findings."""
        with self.db.read() as session:
            supplier = supplier_by_org(session, org_number)
            assert supplier.id is not None
            contracts = _contract_rows(
                session,
                select(Contract, Supplier)
                .join(Supplier, col(Supplier.id) == col(Contract.supplier_id))
                .where(col(Contract.supplier_id) == supplier.id)
                .order_by(col(Contract.reference)),
            )
            contacts = _contacts_of(session, [supplier.id])
            return SupplierDetails(
                supplier=supplier_view(supplier, contacts.get(supplier.id, [])),
                created_at=supplier.created_at,
                contracts=tuple(contracts),
                findings=_counts(session, col(Finding.supplier_id) == supplier.id),
            )

    def update_supplier(self, org_number: str, data: SupplierUpdate) -> SupplierView:
        """Change a supplier's name, country and contacts (in the order given); its
        organisation number, contracts and findings stay as they are."""
        with self.db.write() as session:
            supplier = supplier_by_org(session, org_number)
            assert supplier.id is not None
            supplier.name, supplier.country = data.name, data.country
            session.add(supplier)
            stored = list(
                session.execute(
                    select(SupplierContact)
                    .where(col(SupplierContact.supplier_id) == supplier.id)
                    .order_by(col(SupplierContact.id))
                ).scalars()
            )
            # Rows kept in place where there are as many: a contact's id stays its position.
            for row, given in zip(stored, data.contacts, strict=False):
                row.name, row.email, row.language = given.name, given.email, given.language
                session.add(row)
            for given in data.contacts[len(stored) :]:
                session.add(
                    SupplierContact(
                        supplier_id=supplier.id,
                        name=given.name,
                        email=given.email,
                        language=given.language,
                    )
                )
            extra = [row.id for row in stored[len(data.contacts) :]]
            if extra:
                session.execute(delete(SupplierContact).where(col(SupplierContact.id).in_(extra)))
            return supplier_view(
                supplier, [ContactView(c.name, c.email, c.language) for c in data.contacts]
            )

    def show_contract(self, reference: str) -> ContractDetails:
        """A contract with its supplier and its findings."""
        with self.db.read() as session:
            contract, supplier = contract_by_ref(session, reference)
            return ContractDetails(
                contract=contract_view(contract, supplier),
                created_at=contract.created_at,
                findings=_counts(session, col(Finding.contract_id) == contract.id),
            )

    def update_contract(
        self, reference: str, data: ContractUpdate, *, now: datetime
    ) -> ContractView:
        """Change a contract's category, contract manager, dates and value; its reference,
        supplier and findings stay as they are. A contract given its first start date owes
        its report from then (one whose report is recorded keeps that one's date: move it
        with ``cap obligation extend``)."""
        with self.db.write() as session:
            contract, supplier = contract_by_ref(session, reference)
            contract.category = data.category
            contract.manager_email = data.manager
            contract.manager_key = address_key(data.manager)
            contract.start_date, contract.end_date = data.start, data.end
            contract.value = data.value
            session.add(contract)
            session.flush()
            record_default_obligation(session, self.settings, contract, now=now)
            return contract_view(contract, supplier)
