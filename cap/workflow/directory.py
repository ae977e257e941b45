"""Use cases: the suppliers and contracts findings are logged against."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import col

from cap.domain.inputs import ContractInput, SupplierInput
from cap.errors import AlreadyExists
from cap.store.models import Contract, Supplier, SupplierContact
from cap.workflow.base import UseCases
from cap.workflow.records import supplier_by_org
from cap.workflow.results import ContactView, ContractView, SupplierView
from cap.workflow.views import contract_view, supplier_view


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
