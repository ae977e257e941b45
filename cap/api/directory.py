"""Suppliers and contracts: the directory findings are logged against."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from cap.api.common import Caller, Flow
from cap.api.problems import described
from cap.workflow import ContractView, SupplierView, to_json

router = APIRouter(tags=["directory"])


@router.get("/suppliers", response_model=list[SupplierView], responses=described(401))
def list_suppliers(token: Caller, workflow: Flow) -> JSONResponse:
    """Every supplier with its contacts."""
    return JSONResponse(to_json(workflow.list_suppliers()))


@router.get("/contracts", response_model=list[ContractView], responses=described(401))
def list_contracts(token: Caller, workflow: Flow) -> JSONResponse:
    """Every contract."""
    return JSONResponse(to_json(workflow.list_contracts()))
