"""Use cases: sharing audit and finding results between buyers (`cap export`, `cap import`).

The Swedish regions share their follow-up so that no supplier is audited twice: each exports
its audits and findings, with their outcome, as a ``cap-share`` document, and imports the
others'. An imported result is **shared**, not ours: it has no lifecycle here, no deadlines,
no emails. It is kept by where it comes from (the buyer and its id or ref there), so a file
imported again changes nothing and a newer export of the same finding updates it.

What leaves the buyer: suppliers' organisation numbers, names and countries (never their
contact people), the audits and findings with their outcome and the supplier-facing
description. Internal notes (a decision's rationale) and staff names or addresses stay,
unless the export is made with ``include_staff``. The format is described by
docs/share-format.schema.json.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, or_, select
from sqlmodel import Session, col

from cap.domain.inputs import Country, Day, Email, Line, Reference, Text, describe
from cap.domain.model import Area, DecisionOutcome, Severity, Source, State
from cap.domain.planning import AuditKind
from cap.errors import ActionRefused, InvalidInput
from cap.store.models import (
    Audit,
    Decision,
    Event,
    Finding,
    SharedAudit,
    SharedFinding,
    Supplier,
)
from cap.workflow.base import UseCases

FORMAT = "cap-share"
VERSION = 1
#: The states a finding ends in: its closing date is when it reached one.
FINISHED = (State.CLOSED, State.TERMINATED, State.WITHDRAWN)


# -- the format: one definition, written by the export and checked by the import -------------


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_max_length=20_000)


class AuditOrigin(_Record):
    buyer: Annotated[Line, Field(max_length=200)]
    id: Annotated[int, Field(ge=1)]


class FindingOrigin(_Record):
    buyer: Annotated[Line, Field(max_length=200)]
    ref: Annotated[Reference, Field(max_length=40)]


class SupplierRecord(_Record):
    org_number: Annotated[Reference, Field(max_length=40)]
    name: Annotated[Line, Field(max_length=200)]
    country: Country


class AuditRecord(_Record):
    origin: AuditOrigin
    supplier: Annotated[Reference, Field(max_length=40)]  # organisation number
    kind: AuditKind
    held_on: Day
    auditor: Annotated[Line, Field(max_length=200)]
    report: Annotated[Line, Field(max_length=200)]
    recorded_by: Email | None = None  # staff: only in an export that includes it


class DecisionRecord(_Record):
    """The sanction-review decision in force (a termination once approved)."""

    outcome: DecisionOutcome
    decided_on: Day
    rationale: Text | None = None  # an internal note: only in an export that includes staff
    decided_by: Email | None = None  # staff, as above


class FindingRecord(_Record):
    origin: FindingOrigin
    supplier: Annotated[Reference, Field(max_length=40)]
    area: Area
    severity: Severity
    source: Source
    title: Annotated[Line, Field(max_length=200)]
    description: Text = ""
    site: Annotated[Line, Field(max_length=200)] | None = None
    site_country: Country | None = None
    found_on: Day
    state: State
    notified_on: Day | None = None
    closed_on: Day | None = None
    audit: AuditOrigin | None = None  # the audit it comes from, at the same buyer
    escalation_level: Annotated[int, Field(ge=0, le=99)] = 0
    decision: DecisionRecord | None = None
    recorded_by: Email | None = None  # staff: only in an export that includes it


class ShareHeader(BaseModel):
    """The document's own fields; its lists are checked record by record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["cap-share"]
    version: Literal[1]
    buyer: Annotated[Line, Field(max_length=200)]
    exported_at: AwareDatetime
    since: Day | None = None
    suppliers: list[Any]
    audits: list[Any]
    findings: list[Any]


@dataclass(frozen=True)
class ShareDocument:
    """A ``cap-share`` file read and checked (:func:`read_share_file`)."""

    name: str  # the file, as errors name it
    buyer: str
    exported_at: datetime
    suppliers: tuple[SupplierRecord, ...]
    audits: tuple[AuditRecord, ...]
    findings: tuple[FindingRecord, ...]


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareExport:
    """An export: ``document`` is the file's content (JSON values), the rest what it holds."""

    document: dict[str, Any]
    suppliers: int
    audits: int
    findings: int
    include_staff: bool
    since: date | None


@dataclass(frozen=True)
class ShareCounts:
    imported: int = 0  # new here
    updated: int = 0  # known, and the file says something newer
    unchanged: int = 0  # known, and the same
    older: int = 0  # known from a newer export than this file: left as it is


@dataclass(frozen=True)
class SupplierConflict:
    """A supplier known here under the same organisation number whose name or country the
    file gives otherwise: reported, ours kept."""

    org_number: str
    field: str
    ours: str
    theirs: str


@dataclass(frozen=True)
class ShareImport:
    file: str
    buyer: str  # whose results they are
    exported_at: datetime
    dry_run: bool
    imported: int
    updated: int
    unchanged: int
    older: int
    suppliers_created: int
    audits: ShareCounts
    findings: ShareCounts
    conflicts: tuple[SupplierConflict, ...] = field(default=())


class _DryRun(Exception):
    """Raised inside the import's transaction so that it rolls back, carrying the result."""

    def __init__(self, result: ShareImport) -> None:
        super().__init__("dry run")
        self.result = result


# -- reading a file --------------------------------------------------------------------------


def read_share_file(path: Path) -> ShareDocument:
    """Read and check a ``cap-share`` file: one :class:`InvalidInput` naming the file, the
    record (``findings[3]``, counted from 0 as in the file's lists) and the field of the
    first problem; nothing is read in part."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{name}: cannot read the file ({exc.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{name}: byte {exc.start} is not UTF-8; not a cap-share file") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{name}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg}); not a cap-share file"
        ) from None
    return parse_share_document(data, name=name)


def parse_share_document(data: object, *, name: str) -> ShareDocument:
    """``data`` (a JSON document) checked as a ``cap-share`` document; see
    :func:`read_share_file`."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{name}: not a cap-share document (a JSON object is expected)")
    # The format and version first: a file of another kind is told as such, not field by field.
    if data.get("format") != FORMAT:
        raise InvalidInput(
            f"{name}: format: {data.get('format')!r} is not {FORMAT!r}; not a cap-share file"
        )
    if data.get("version") != VERSION:
        raise InvalidInput(
            f"{name}: version: {data.get('version')!r} is not supported; this cap reads "
            f"version {VERSION}"
        )
    try:
        header = ShareHeader.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe(exc, name, model=ShareHeader)) from None
    suppliers = _records(SupplierRecord, header.suppliers, f"{name}: suppliers")
    audits = _records(AuditRecord, header.audits, f"{name}: audits")
    findings = _records(FindingRecord, header.findings, f"{name}: findings")
    known: dict[str, int] = {}
    for i, s in enumerate(suppliers):
        first = known.setdefault(s.org_number, i)
        if first != i:
            raise InvalidInput(f"{name}: suppliers[{i}]: org_number: {s.org_number} is given "
                               f"twice (first at suppliers[{first}])")  # fmt: skip
    _check_records(name, "audits", audits, header.buyer, known, lambda a: a.origin.id)
    _check_records(name, "findings", findings, header.buyer, known, lambda f: f.origin.ref)
    for i, f in enumerate(findings):
        if f.audit is not None and f.audit.buyer != header.buyer:
            raise InvalidInput(f"{name}: findings[{i}]: audit.buyer: {f.audit.buyer!r} is not "
                               f"the file's buyer {header.buyer!r}")  # fmt: skip
    return ShareDocument(
        name=name,
        buyer=header.buyer,
        exported_at=header.exported_at,
        suppliers=suppliers,
        audits=audits,
        findings=findings,
    )


R = TypeVar("R", bound=_Record)


def _records(model: type[R], values: Sequence[Any], where: str) -> tuple[R, ...]:
    records = []
    for i, value in enumerate(values):
        try:
            records.append(model.model_validate(value))
        except ValidationError as exc:
            raise InvalidInput(describe(exc, f"{where}[{i}]", model=model)) from None
    return tuple(records)


def _check_records(
    name: str,
    kind: str,
    records: Sequence[AuditRecord | FindingRecord],
    buyer: str,
    suppliers: Mapping[str, int],
    key: Callable[[Any], object],
) -> None:
    """Each record of the file's buyer, of a supplier the file lists, given once."""
    seen: dict[object, int] = {}
    for i, record in enumerate(records):
        where = f"{name}: {kind}[{i}]"
        if record.origin.buyer != buyer:
            raise InvalidInput(
                f"{where}: origin.buyer: {record.origin.buyer!r} is not the file's buyer "
                f"{buyer!r}; a file shares one buyer's results"
            )
        if record.supplier not in suppliers:
            raise InvalidInput(
                f"{where}: supplier: {record.supplier} is not among the file's suppliers"
            )
        first = seen.setdefault(key(record), i)
        if first != i:
            raise InvalidInput(f"{where}: origin: {key(record)} is given twice (first at "
                               f"{kind}[{first}])")  # fmt: skip


# -- the use cases ---------------------------------------------------------------------------


class Sharing(UseCases):
    def export_results(
        self, *, now: datetime, since: date | None = None, include_staff: bool = False
    ) -> ShareExport:
        """This buyer's audits and findings, with their outcome, as a ``cap-share`` document
        (changed on or after ``since``, a day in the buyer's time zone, if given), with the
        suppliers they concern. Staff names, addresses and internal notes only with
        ``include_staff``."""
        calendar = self.settings.calendar
        buyer = self.settings.buyer_name
        local = calendar.local_date
        from_at = None if since is None else datetime.combine(since, time(), tzinfo=calendar.tz)
        with self.db.read() as session:
            audits = _audits_since(session, from_at)
            findings = _findings_since(session, from_at)
            ids = [f.id for f, _ in findings if f.id is not None]
            closed = _closed_at(session, ids)
            decisions = _decisions_in_force(session, ids)
            orgs = {org for _, org in audits} | {org for _, org in findings}
            suppliers = session.execute(
                select(Supplier)
                .where(col(Supplier.org_number).in_(sorted(orgs)))
                .order_by(col(Supplier.org_number))
            ).scalars()
            supplier_records = [
                SupplierRecord(org_number=s.org_number, name=s.name, country=s.country)
                for s in suppliers
            ]
        audit_records = [
            AuditRecord(
                origin=AuditOrigin(buyer=buyer, id=a.id or 0), supplier=org,
                kind=AuditKind(a.kind), held_on=a.held_on, auditor=a.auditor, report=a.report,
                **({"recorded_by": a.created_by} if include_staff else {}),
            )
            for a, org in audits
        ]  # fmt: skip
        finding_records = []
        for f, org in findings:
            decision = decisions.get(f.id or 0)
            staff: dict[str, Any] = {"recorded_by": f.created_by} if include_staff else {}
            finding_records.append(
                FindingRecord(
                    origin=FindingOrigin(buyer=buyer, ref=f.ref),
                    supplier=org,
                    area=f.area,
                    severity=f.severity,
                    source=f.source,
                    title=f.title,
                    description=f.description,
                    site=f.site,
                    site_country=f.site_country,
                    found_on=f.found_on,
                    state=f.state,
                    notified_on=local(f.notified_at) if f.notified_at else None,
                    closed_on=local(closed[f.id]) if f.id in closed else None,
                    audit=AuditOrigin(buyer=buyer, id=f.audit_id) if f.audit_id else None,
                    escalation_level=f.escalation_level,
                    decision=_decision_record(decision, local, include_staff),
                    **staff,
                )
            )
        document = {
            "format": FORMAT,
            "version": VERSION,
            "buyer": buyer,
            "exported_at": now.isoformat(),
            "since": since.isoformat() if since else None,
            "suppliers": [_dumped(r) for r in supplier_records],
            "audits": [_dumped(r) for r in audit_records],
            "findings": [_dumped(r) for r in finding_records],
        }
        return ShareExport(
            document=document,
            suppliers=len(supplier_records),
            audits=len(audit_records),
            findings=len(finding_records),
            include_staff=include_staff,
            since=since,
        )

    def import_results(
        self, document: ShareDocument, *, now: datetime, dry_run: bool = False
    ) -> ShareImport:
        """Keep another buyer's results (:func:`read_share_file`) as shared ones, all of them
        or (on any error) none. Suppliers are matched by organisation number; an unknown one
        is added from the file, a known one whose name or country differs is a conflict,
        reported and left as it is. Our own buyer's export is refused (ActionRefused).
        ``dry_run``: say what it would do, write nothing."""
        if document.buyer.strip().casefold() == self.settings.buyer_name.strip().casefold():
            raise ActionRefused(
                f"{document.name}: buyer: this is an export of {document.buyer}, this buyer "
                "(CAP_BUYER_NAME), whose results are here as its own; nothing was imported"
            )
        try:
            with self.db.write() as session:
                result = self._import(session, document, now=now, dry_run=dry_run)
                if dry_run:
                    raise _DryRun(result)
        except _DryRun as done:
            return done.result
        return result

    def _import(
        self, session: Session, document: ShareDocument, *, now: datetime, dry_run: bool
    ) -> ShareImport:
        suppliers, created, conflicts = _match_suppliers(session, document.suppliers, now)
        stamp = {"exported_at": document.exported_at, "imported_at": now}
        audits = _merge(
            session,
            SharedAudit,
            {r.origin.id: _audit_values(r, document.buyer, suppliers) for r in document.audits},
            existing=session.execute(
                select(SharedAudit).where(col(SharedAudit.origin_buyer) == document.buyer)
            ).scalars(),
            key=lambda row: row.origin_id,
            stamp=stamp,
        )
        findings = _merge(
            session,
            SharedFinding,
            {
                r.origin.ref: _finding_values(r, document.buyer, suppliers)
                for r in document.findings
            },
            existing=session.execute(
                select(SharedFinding).where(col(SharedFinding.origin_buyer) == document.buyer)
            ).scalars(),
            key=lambda row: row.origin_ref,
            stamp=stamp,
        )
        return ShareImport(
            file=document.name,
            buyer=document.buyer,
            exported_at=document.exported_at,
            dry_run=dry_run,
            imported=audits.imported + findings.imported,
            updated=audits.updated + findings.updated,
            unchanged=audits.unchanged + findings.unchanged,
            older=audits.older + findings.older,
            suppliers_created=created,
            audits=audits,
            findings=findings,
            conflicts=conflicts,
        )


def _audits_since(session: Session, from_at: datetime | None) -> list[tuple[Audit, str]]:
    query = (
        select(Audit, col(Supplier.org_number))
        .join(Supplier, col(Supplier.id) == col(Audit.supplier_id))
        .order_by(col(Audit.id))
    )
    if from_at is not None:
        query = query.where(col(Audit.created_at) >= from_at)
    return [(a, org) for a, org in session.execute(query)]


def _findings_since(session: Session, from_at: datetime | None) -> list[tuple[Finding, str]]:
    """The findings logged, or with an event recorded, at or after ``from_at`` (all: None)."""
    query = (
        select(Finding, col(Supplier.org_number))
        .join(Supplier, col(Supplier.id) == col(Finding.supplier_id))
        .order_by(col(Finding.id))
    )
    if from_at is not None:
        changed = select(col(Event.finding_id)).where(col(Event.recorded_at) >= from_at)
        query = query.where(or_(col(Finding.created_at) >= from_at, col(Finding.id).in_(changed)))
    return [(f, org) for f, org in session.execute(query)]


def _closed_at(session: Session, ids: Sequence[int]) -> dict[int, datetime]:
    """When each finished finding of ``ids`` reached its finished state (the last move into
    one)."""
    if not ids:
        return {}
    rows = session.execute(
        select(col(Event.finding_id), func.max(col(Event.at)))
        .join(Finding, col(Finding.id) == col(Event.finding_id))
        .where(col(Event.to_state).in_(FINISHED), col(Finding.state).in_(FINISHED))
        .group_by(col(Event.finding_id))
    )
    wanted = set(ids)
    return {fid: at for fid, at in rows if fid in wanted}


def _decisions_in_force(session: Session, ids: Sequence[int]) -> dict[int, Decision]:
    """Each finding's latest decision in force: a termination counts once approved."""
    if not ids:
        return {}
    latest: dict[int, Decision] = {}
    wanted = set(ids)
    for decision in session.execute(
        select(Decision)
        .where(col(Decision.approved_at).is_not(None))
        .order_by(col(Decision.approved_at), col(Decision.id))
    ).scalars():
        if decision.finding_id in wanted:
            latest[decision.finding_id] = decision
    return latest


def _decision_record(
    decision: Decision | None, local: Callable[[datetime], date], include_staff: bool
) -> DecisionRecord | None:
    if decision is None or decision.approved_at is None:
        return None
    staff: dict[str, Any] = (
        {"rationale": decision.rationale, "decided_by": decision.approved_by}
        if include_staff
        else {}
    )
    return DecisionRecord(outcome=decision.outcome, decided_on=local(decision.approved_at), **staff)


def _dumped(record: _Record) -> dict[str, Any]:
    # Fields given (even as null) are written; staff fields not given are left out.
    dumped: dict[str, Any] = record.model_dump(mode="json", exclude_unset=True)
    return dumped


def _match_suppliers(
    session: Session, records: Iterable[SupplierRecord], now: datetime
) -> tuple[dict[str, int], int, tuple[SupplierConflict, ...]]:
    """Each organisation number of the file -> our supplier's id (added when unknown), how
    many were added, and where ours differ from the file's."""
    wanted = {r.org_number: r for r in records}
    known = {
        s.org_number: s
        for s in session.execute(
            select(Supplier).where(col(Supplier.org_number).in_(sorted(wanted)))
        ).scalars()
    }
    conflicts = []
    created = 0
    for org, record in wanted.items():
        ours = known.get(org)
        if ours is None:
            ours = Supplier(name=record.name, org_number=org, country=record.country,
                            created_at=now)  # fmt: skip
            session.add(ours)
            known[org] = ours
            created += 1
            continue
        for name in ("name", "country"):
            if getattr(ours, name) != getattr(record, name):
                conflicts.append(
                    SupplierConflict(org, name, getattr(ours, name), getattr(record, name))
                )
    session.flush()
    return {org: s.id or 0 for org, s in known.items()}, created, tuple(conflicts)


def _audit_values(r: AuditRecord, buyer: str, suppliers: Mapping[str, int]) -> dict[str, Any]:
    return {
        "origin_buyer": buyer,
        "origin_id": r.origin.id,
        "supplier_id": suppliers[r.supplier],
        "kind": r.kind,
        "held_on": r.held_on,
        "auditor": r.auditor,
        "report": r.report,
        "recorded_by": r.recorded_by,
    }


def _finding_values(r: FindingRecord, buyer: str, suppliers: Mapping[str, int]) -> dict[str, Any]:
    decision = r.decision
    return {
        "origin_buyer": buyer,
        "origin_ref": r.origin.ref,
        "supplier_id": suppliers[r.supplier],
        "area": r.area,
        "severity": r.severity,
        "source": r.source,
        "title": r.title,
        "description": r.description,
        "site": r.site,
        "site_country": r.site_country,
        "found_on": r.found_on,
        "state": r.state,
        "notified_on": r.notified_on,
        "closed_on": r.closed_on,
        "audit_origin_id": r.audit.id if r.audit else None,
        "escalation_level": r.escalation_level,
        "decision": decision.outcome if decision else None,
        "decided_on": decision.decided_on if decision else None,
        "recorded_by": r.recorded_by,
        "decision_rationale": decision.rationale if decision else None,
    }


Row = TypeVar("Row", SharedAudit, SharedFinding)


def _merge(
    session: Session,
    model: type[Row],
    incoming: Mapping[Any, dict[str, Any]],
    *,
    existing: Iterable[Row],
    key: Callable[[Row], Any],
    stamp: Mapping[str, datetime],
) -> ShareCounts:
    """Insert the records not kept yet, update those the file says otherwise (unless it is
    older than the export they came from), and count each."""
    rows = {key(row): row for row in existing}
    imported = updated = unchanged = older = 0
    for origin, values in incoming.items():
        row = rows.get(origin)
        if row is None:
            session.add(model(**{**values, **stamp}))
            imported += 1
        elif all(getattr(row, name) == value for name, value in values.items()):
            unchanged += 1
        elif row.exported_at > stamp["exported_at"]:
            older += 1
        else:
            for name, value in {**values, **stamp}.items():
                setattr(row, name, value)
            session.add(row)
            updated += 1
    session.flush()
    return ShareCounts(imported, updated, unchanged, older)
