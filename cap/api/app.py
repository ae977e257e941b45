"""The API application, mounted at ``/api/v1`` beside the desk: its own OpenAPI document
(``/api/v1/openapi.json``), the desk's roles through tokens, JSON bodies named as the command
line's options and ``--json`` keys (the same result types: the CLI, the desk and the API never
disagree).

A finding's ``ETag`` is its version; an action sent with ``If-Match`` acts only on that version
(412 otherwise), as ``--if-version`` does. Cookies play no part: a request is who its token is,
so no form of another site can act through a browser's session.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from cap import __version__
from cap.api import casefile, directory, docs, findings, intake, obligations, outbox, rules
from cap.api.problems import install
from cap.workflow import Workflow


def create_api(workflow: Workflow, clock: Callable[[], datetime]) -> FastAPI:
    """The API over ``workflow``, its now from ``clock``."""
    api = FastAPI(
        title="cap API",
        version=__version__,
        summary="Corrective-action tracking for labour-rights and anti-corruption clauses.",
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        # operationId is the function's name (list_findings, accept...): what a generated
        # client calls its methods, rather than FastAPI's name, method and path run together.
        generate_unique_id_function=lambda route: route.name,
    )
    install(api)
    docs.install(api)
    api.state.workflow, api.state.clock = workflow, clock
    for part in (intake, findings, casefile, directory, obligations, outbox, rules):
        api.include_router(part.router)
    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            _absent_not_null(build())
        return api.openapi_schema or {}

    # FastAPI's way to amend its document (docs: "Extending OpenAPI").
    api.openapi = openapi  # type: ignore[method-assign]
    return api


def _absent_not_null(document: dict[str, Any]) -> None:
    """An optional query or header parameter is absent or a value: a query string has no null.
    Pydantic writes ``X | None`` as ``anyOf: [X, null]``; keep X alone, so that a client (and a
    fuzzer) is not told that a null it cannot send is an answer apart."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                kept = [s for s in schema.get("anyOf", []) if s != {"type": "null"}]
                if not parameter.get("required") and len(kept) == 1:
                    del schema["anyOf"]
                    schema.update(kept[0])


__all__ = ["create_api"]
