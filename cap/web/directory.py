"""Suppliers and contracts: their lists (searched, 50 a page), their pages, and the forms that
add and change them (contract managers and admins).

The forms are validated as the command line validates them (the same input models); an error
is shown next to the field it names and nothing is written. The organisation number of a
supplier and the reference of a contract are their keys: shown, never changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from cap.domain.inputs import ContractInput, ContractUpdate, SupplierInput, SupplierUpdate, parse
from cap.domain.model import Language
from cap.domain.permissions import Permission
from cap.errors import CapError, InvalidInput, NotFound
from cap.web.labels import N_
from cap.web.site import Site, field_errors, see_other
from cap.workflow.directory import PER_PAGE
from cap.workflow.obligations import ObligationFilter

#: The fields of the forms, in the order they are shown (and checked).
SUPPLIER_FIELDS = ("name", "org_number", "country", "email", "contact_name", "language")
CONTRACT_FIELDS = ("reference", "supplier", "category", "manager", "start", "end", "value")
#: The parts of a supplier's contact on its edit form (``contacts.0.email``...).
CONTACT_PARTS = ("email", "name", "language")
#: At most this many contacts on a supplier's edit form.
MAX_CONTACTS = 20
#: Names the workflow's messages give to fields, as the forms name them.
_ALIASES = {"org-number": "org_number"}
#: At most this many pages are linked around the current one, beside the first and last.
_AROUND = 2
#: The session key of the notice a form leaves for the page it sends the user to.
_NOTICE = "directory_notice"


async def _form(request: Request) -> FormData:
    """The posted form (read here, so that the route itself can run in the thread pool)."""
    return await request.form()


Form = Annotated[FormData, Depends(_form)]


def page_number(text: str) -> int:
    """The ``page`` query parameter: 1 when absent."""
    text = text.strip()
    if not text:
        return 1
    digits = text.lstrip("0")
    if not (text.isascii() and text.isdigit()) or not digits:
        raise InvalidInput(f"page: {text[:20]!r} is not a page number; pages count from 1")
    # A page past the last shows the last: ten digits are past any list's last.
    return int(digits) if len(digits) < 10 else 10**9


def date_field(value: str, field: str) -> date | None:
    """A date field as the command line reads one (YYYY-MM-DD; blank: none)."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"{field}: {value[:40]!r} is not a date; write it as YYYY-MM-DD"
        ) from None


def page_links(number: int, pages: int) -> list[int | None]:
    """The pages to link to from page ``number``: the first, the last and those around it;
    None where some are left out."""
    shown = sorted({1, pages, *range(max(1, number - _AROUND), min(pages, number + _AROUND) + 1)})
    links: list[int | None] = []
    for before, n in zip([0, *shown], shown, strict=False):
        if before and n - before > 1:
            links.append(None)
        links.append(n)
    return links


def _text(form: FormData, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def _given(values: Mapping[str, str]) -> dict[str, str]:
    """The fields filled in: a blank one is not given (required: "is required"; optional: its
    default)."""
    return {name: value for name, value in values.items() if value.strip()}


def _placed(error: CapError, fields: Iterable[str]) -> dict[str, str]:
    """``error`` next to the field it names, by the name the form gives it."""
    field, sep, rest = error.plain.partition(": ")
    if sep and field in _ALIASES:
        return {_ALIASES[field]: rest}
    return field_errors(error, fields)


def _contract_errors(
    error: CapError, fields: Iterable[str], _: Callable[[str], str]
) -> dict[str, str]:
    if isinstance(error, NotFound) and error.plain.startswith("supplier: "):
        # The workflow's message points to the command line's list; this one to the page's.
        return {"supplier": _("no supplier has this organisation number; see Suppliers")}
    return _placed(error, fields)


def _status(error: CapError) -> int:
    """400 for a value to correct (an unknown supplier too: it is a field of the form), 409
    when it clashes with what is stored."""
    if isinstance(error, InvalidInput | NotFound):
        return 400
    return 409


def _path(kind: str, key: str, *rest: str) -> str:
    return "/".join((f"/{kind}", quote(key), *rest))


def _contacts_typed(form: FormData) -> list[dict[str, str]]:
    """The contact rows of a supplier's edit form as typed, blank ones included."""
    rows = []
    for i in range(MAX_CONTACTS):
        if f"contacts.{i}.email" not in form:
            break
        rows.append({part: _text(form, f"contacts.{i}.{part}").strip() for part in CONTACT_PARTS})
    return rows


def _contact_errors(error: CapError, filled: list[int], rows: int) -> dict[str, str]:
    """``error`` of the n-th contact given placed on the form's row it came from (blank rows
    are not given); one about the contacts as a whole goes to the first row's email."""
    fields = [f"contacts.{i}.{part}" for i in range(rows) for part in CONTACT_PARTS]
    field, sep, rest = error.plain.partition(": ")
    parts = field.split(".")
    if sep and len(parts) == 3 and parts[0] == "contacts" and parts[1].isdigit():
        position = int(parts[1])
        if position < len(filled):
            return {f"contacts.{filled[position]}.{parts[2]}": rest}
    if sep and field == "contacts":
        return {"contacts.0.email": rest}
    return field_errors(error, ["name", "country", *fields])


def routes(site: Site, router: APIRouter) -> None:
    workflow = site.workflow

    def notice_of(request: Request) -> str | None:
        """The notice a form left for the page it sent the user to (shown once)."""
        notice = request.session.pop(_NOTICE, None)
        return notice if isinstance(notice, str) else None

    def leave_notice(request: Request, message: str) -> None:
        request.session[_NOTICE] = message

    # -- suppliers -------------------------------------------------------------------------

    @router.get("/suppliers", response_class=HTMLResponse)
    def suppliers(request: Request, q: str = "", page: str = "") -> Response:
        site.user(request)
        listing = workflow.supplier_page(q, page_number(page))
        return site.render(request, "suppliers.html", {
            "listing": listing, "links": page_links(listing.number, listing.pages),
            "per_page": PER_PAGE,
        })  # fmt: skip

    def supplier_form(
        request: Request,
        values: Mapping[str, Any],
        *,
        org_number: str | None = None,
        errors: Mapping[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        return site.render(request, "supplier_form.html", {
            "values": values, "org_number": org_number, "errors": errors or {},
        }, status_code=status_code)  # fmt: skip

    @router.get("/suppliers/new", response_class=HTMLResponse)
    def new_supplier(request: Request) -> Response:
        site.user(request, Permission.MANAGE_DIRECTORY)
        return supplier_form(request, {"language": Language.SV.value})

    @router.post("/suppliers/new", response_class=HTMLResponse)
    def add_supplier(request: Request, form: Form) -> Response:
        site.user(request, Permission.MANAGE_DIRECTORY)
        values = {name: _text(form, name) for name in SUPPLIER_FIELDS}
        try:
            data = parse(SupplierInput, _given(values))
            view = workflow.add_supplier(data, now=site.now())
        except CapError as error:
            return supplier_form(request, values, errors=_placed(error, SUPPLIER_FIELDS),
                                 status_code=_status(error))  # fmt: skip
        leave_notice(request, N_("The supplier was added."))
        return see_other(_path("suppliers", view.org_number))

    @router.get("/suppliers/{org_number:path}/edit", response_class=HTMLResponse)
    def edit_supplier(request: Request, org_number: str) -> Response:
        site.user(request, Permission.MANAGE_DIRECTORY)
        supplier = workflow.show_supplier(org_number).supplier
        contacts = [
            {"email": c.email, "name": c.name or "", "language": c.language.value}
            for c in supplier.contacts
        ]
        if len(contacts) < MAX_CONTACTS:
            contacts.append({"email": "", "name": "", "language": Language.SV.value})
        values = {"name": supplier.name, "country": supplier.country, "contacts": contacts}
        return supplier_form(request, values, org_number=supplier.org_number)

    @router.post("/suppliers/{org_number:path}/edit", response_class=HTMLResponse)
    def update_supplier(request: Request, org_number: str, form: Form) -> Response:
        site.user(request, Permission.MANAGE_DIRECTORY)
        supplier = workflow.show_supplier(org_number).supplier  # unknown: 404, as on GET
        rows = _contacts_typed(form) or [{"email": "", "name": "", "language": "sv"}]
        filled = [i for i, row in enumerate(rows) if row["email"] or row["name"]]
        values: dict[str, Any] = {
            "name": _text(form, "name"), "country": _text(form, "country"), "contacts": rows,
        }  # fmt: skip
        try:
            data = parse(SupplierUpdate, {
                **_given({"name": values["name"], "country": values["country"]}),
                "contacts": [_given(rows[i]) for i in filled],
            })  # fmt: skip
            workflow.update_supplier(supplier.org_number, data)
        except CapError as error:
            return supplier_form(request, values, org_number=supplier.org_number,
                                 errors=_contact_errors(error, filled, len(rows)),
                                 status_code=_status(error))  # fmt: skip
        leave_notice(request, N_("The changes were saved."))
        return see_other(_path("suppliers", supplier.org_number))

    @router.get("/suppliers/{org_number:path}", response_class=HTMLResponse)
    def supplier(request: Request, org_number: str) -> Response:
        site.user(request)
        details = workflow.show_supplier(org_number)
        reports = workflow.list_obligations(
            now=site.now(), where=ObligationFilter(supplier=details.supplier.org_number)
        )
        return site.render(request, "supplier.html", {
            "details": details, "reports": reports, "notice": notice_of(request),
        })  # fmt: skip

    # -- contracts -------------------------------------------------------------------------

    @router.get("/contracts", response_class=HTMLResponse)
    def contracts(request: Request, q: str = "", page: str = "") -> Response:
        site.user(request)
        listing = workflow.contract_page(q, page_number(page))
        return site.render(request, "contracts.html", {
            "listing": listing, "links": page_links(listing.number, listing.pages),
            "per_page": PER_PAGE,
        })  # fmt: skip

    def contract_form(
        request: Request,
        values: Mapping[str, str],
        *,
        reference: str | None = None,
        supplier_name: str | None = None,
        errors: Mapping[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        # A list to choose from while there are few suppliers; beyond, the number is typed.
        few = workflow.supplier_page() if reference is None else None
        choices = few.rows if few is not None and few.pages == 1 else ()
        return site.render(request, "contract_form.html", {
            "values": values, "reference": reference, "supplier_name": supplier_name,
            "errors": errors or {}, "choices": choices,
        }, status_code=status_code)  # fmt: skip

    def contract_data(values: Mapping[str, str]) -> dict[str, Any]:
        """The contract's fields as the input models take them: dates read as the command
        line reads them."""
        data: dict[str, Any] = _given(values)
        for field in ("start", "end"):
            if field in data:
                data[field] = date_field(values[field], field)
        return data

    @router.get("/contracts/new", response_class=HTMLResponse)
    def new_contract(request: Request, supplier: str = "") -> Response:
        site.user(request, Permission.MANAGE_DIRECTORY)
        return contract_form(request, {"supplier": supplier.strip()[:40]})

    @router.post("/contracts/new", response_class=HTMLResponse)
    def add_contract(request: Request, form: Form) -> Response:
        site.user(request, Permission.MANAGE_DIRECTORY)
        values = {name: _text(form, name) for name in CONTRACT_FIELDS}
        try:
            data = parse(ContractInput, contract_data(values))
            view = workflow.add_contract(data, now=site.now())
        except CapError as error:
            errors = _contract_errors(error, CONTRACT_FIELDS, site.gettext(request))
            return contract_form(request, values, errors=errors, status_code=_status(error))
        leave_notice(request, N_("The contract was added."))
        return see_other(_path("contracts", view.reference))

    @router.get("/contracts/{reference:path}/edit", response_class=HTMLResponse)
    def edit_contract(request: Request, reference: str) -> Response:
        site.user(request, Permission.MANAGE_DIRECTORY)
        contract = workflow.show_contract(reference).contract
        values = {
            "category": contract.category,
            "manager": contract.manager,
            "start": contract.start.isoformat() if contract.start else "",
            "end": contract.end.isoformat() if contract.end else "",
            "value": str(contract.value) if contract.value is not None else "",
        }
        return contract_form(request, values, reference=contract.reference,
                             supplier_name=contract.supplier)  # fmt: skip

    @router.post("/contracts/{reference:path}/edit", response_class=HTMLResponse)
    def update_contract(request: Request, reference: str, form: Form) -> Response:
        site.user(request, Permission.MANAGE_DIRECTORY)
        contract = workflow.show_contract(reference).contract  # unknown: 404, as on GET
        fields = CONTRACT_FIELDS[2:]
        values = {name: _text(form, name) for name in fields}
        try:
            data = parse(ContractUpdate, contract_data(values))
            workflow.update_contract(contract.reference, data, now=site.now())
        except CapError as error:
            return contract_form(request, values, reference=contract.reference,
                                 supplier_name=contract.supplier,
                                 errors=_placed(error, fields),
                                 status_code=_status(error))  # fmt: skip
        leave_notice(request, N_("The changes were saved."))
        return see_other(_path("contracts", contract.reference))

    @router.get("/contracts/{reference:path}", response_class=HTMLResponse)
    def contract(request: Request, reference: str) -> Response:
        site.user(request)
        details = workflow.show_contract(reference)
        reports = workflow.list_obligations(
            now=site.now(), where=ObligationFilter(contract=details.contract.reference)
        )
        return site.render(request, "contract.html", {
            "details": details, "reports": reports, "notice": notice_of(request),
        })  # fmt: skip
