"""Suppliers and contracts: the directory findings are logged against. Listed and shown to
every role; added and changed by those who manage the directory (contract managers, admins),
through the input models of `cap supplier add` and `cap contract add` and the desk's forms.

A supplier's organisation number and a contract's reference are their keys: in the path, never
changed. A PATCH sends the fields to change as a JSON merge patch (RFC 7396): a field left out
keeps its value, null clears an optional one, ``contacts`` is replaced as a whole; what results
is checked as the desk's edit form is checked (the same update model), all or nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, create_model
from pydantic.fields import FieldInfo

from cap.api.common import Caller, Flow, MayManageDirectory, Now
from cap.api.problems import Problem, described
from cap.domain.inputs import (
    ContractInput,
    ContractUpdate,
    Reference,
    SupplierInput,
    SupplierUpdate,
    parse,
)
from cap.errors import AlreadyExists
from cap.workflow import ContractView, SupplierView, Workflow, to_json
from cap.workflow.directory import ContractDetails, SupplierDetails

router = APIRouter(tags=["directory"])

# A key is checked as the input models check it: what never was one (a NUL, which PostgreSQL
# cannot even compare, a "../") is a 422 naming it, not a search. A "/" may be in one.
OrgNumber = Annotated[
    Reference, Path(max_length=40, description="A supplier's organisation number, e.g. 556000-1234")
]
ContractRef = Annotated[
    Reference, Path(max_length=80, description="A contract's reference, e.g. RS-2019-ICT-01")
]

M = TypeVar("M", bound=BaseModel)


def _unset(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _changes(model: type[BaseModel], name: str, doc: str) -> type[BaseModel]:
    """``model``'s fields, each with its own checks, each optional: the body of a PATCH. No
    default is documented: a field left out is not null, it keeps its value."""
    fields: dict[str, Any] = {
        field: (info.annotation,
                FieldInfo.merge_field_infos(info, default=None, json_schema_extra=_unset))
        for field, info in model.model_fields.items()
    }  # fmt: skip
    return create_model(name, __config__=model.model_config, __doc__=doc, **fields)


if TYPE_CHECKING:  # made at run time from the update models; mypy knows them as models
    SupplierChanges = BaseModel
    ContractChanges = BaseModel
else:
    SupplierChanges = _changes(SupplierUpdate, "SupplierChanges", (
        "What to change about a supplier: the fields given (``contacts`` replaces them all, in "
        "the order given); its organisation number stays."))  # fmt: skip
    ContractChanges = _changes(ContractUpdate, "ContractChanges", (
        "What to change about a contract: the fields given (null clears ``start``, ``end`` or "
        "``value``); its reference and its supplier stay."))  # fmt: skip


def _merged(model: type[M], stored: object, changes: BaseModel) -> M:
    """``stored`` (a view of the same field names as ``model``) with ``changes`` laid over it,
    checked as ``model``: the first problem a 422 naming its field."""
    current = to_json(stored)
    data = {field: current[field] for field in type(changes).model_fields}
    data.update(changes.model_dump(include=changes.model_fields_set))
    return parse(model, data)


def _location(kind: str, key: str) -> str:
    # A "/" in a key stays in its one path segment; "." and ".." are not steps up.
    return f"{kind}/{quote(key, safe='')}"


# -- suppliers -------------------------------------------------------------------------------


@router.get("/suppliers", response_model=list[SupplierView], responses=described(401))
def list_suppliers(token: Caller, workflow: Flow) -> JSONResponse:
    """Every supplier by name, with its contacts, as `cap supplier list --json`."""
    return JSONResponse(to_json(workflow.list_suppliers()))


@router.post("/suppliers", response_model=SupplierView, status_code=201,
             responses=described(400, 401, 403, 409, 413, 422))  # fmt: skip
def add_supplier(
    token: MayManageDirectory, workflow: Flow, now: Now, body: SupplierInput
) -> JSONResponse:
    """Register a supplier with the one contact who receives its notices, as `cap supplier
    add`; 409 when its organisation number is taken."""
    try:
        view = workflow.add_supplier(body, now=now)
    except AlreadyExists as error:
        # The workflow names the field as the command line's option (org-number); a client
        # finds it in the body by its key.
        message = error.plain.partition(": ")[2]
        raise Problem(409, error.plain,
                      errors=[{"field": "org_number", "message": message}]) from None  # fmt: skip
    return JSONResponse(to_json(view), status_code=201,
                        headers={"Location": _location("suppliers", view.org_number)})  # fmt: skip


@router.get("/suppliers/{org_number:path}", response_model=SupplierDetails,
            responses=described(401, 404, 422))  # fmt: skip
def show_supplier(token: Caller, workflow: Flow, org_number: OrgNumber) -> JSONResponse:
    """A supplier with its contacts, its contracts and its findings counted by state."""
    return JSONResponse(to_json(workflow.show_supplier(org_number)))


@router.patch("/suppliers/{org_number:path}", response_model=SupplierView,
              responses=described(400, 401, 403, 404, 413, 422))  # fmt: skip
def update_supplier(
    token: MayManageDirectory, workflow: Flow, org_number: OrgNumber, body: SupplierChanges
) -> JSONResponse:
    """Change a supplier's name, country or contacts; the fields left out stay as they are."""
    stored = workflow.show_supplier(org_number).supplier
    data = _merged(SupplierUpdate, stored, body)
    return JSONResponse(to_json(workflow.update_supplier(stored.org_number, data)))


# -- contracts -------------------------------------------------------------------------------


@router.get("/contracts", response_model=list[ContractView], responses=described(401))
def list_contracts(token: Caller, workflow: Flow) -> JSONResponse:
    """Every contract by reference, as `cap contract list --json`."""
    return JSONResponse(to_json(workflow.list_contracts()))


@router.post("/contracts", response_model=ContractView, status_code=201,
             responses=described(400, 401, 403, 404, 409, 413, 422))  # fmt: skip
def add_contract(
    token: MayManageDirectory, workflow: Flow, now: Now, body: ContractInput
) -> JSONResponse:
    """Register a contract with a supplier already registered, as `cap contract add`; 404
    when no supplier has the organisation number, 409 when the reference is taken."""
    reference = workflow.add_contract(body, now=now).reference
    return JSONResponse(to_json(_stored(workflow, reference)), status_code=201,
                        headers={"Location": _location("contracts", reference)})  # fmt: skip


@router.get("/contracts/{reference:path}", response_model=ContractDetails,
            responses=described(401, 404, 422))  # fmt: skip
def show_contract(token: Caller, workflow: Flow, reference: ContractRef) -> JSONResponse:
    """A contract with its supplier and its findings counted by state."""
    return JSONResponse(to_json(workflow.show_contract(reference)))


@router.patch("/contracts/{reference:path}", response_model=ContractView,
              responses=described(400, 401, 403, 404, 413, 422))  # fmt: skip
def update_contract(
    token: MayManageDirectory,
    workflow: Flow,
    reference: ContractRef,
    body: ContractChanges,
    now: Now,
) -> JSONResponse:
    """Change a contract's category, contract manager, dates or value; the fields left out
    stay as they are."""
    stored = workflow.show_contract(reference).contract
    workflow.update_contract(stored.reference, _merged(ContractUpdate, stored, body), now=now)
    return JSONResponse(to_json(_stored(workflow, stored.reference)))


def _stored(workflow: Workflow, reference: str) -> ContractView:
    """The contract as stored: its value in the column's two decimals, not as it was sent
    (``1E+3`` is stored as 1000.00; the use cases answer with what they were given)."""
    return workflow.show_contract(reference).contract
