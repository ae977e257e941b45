"""The API against its own OpenAPI document, fuzzed by schemathesis (its pytest integration,
over the ASGI application, on SQLite): no request it generates gets a server error or an
answer that breaks the document (status, content type, body), with a working token, and the
desk's pages are not in the document."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from cap.api.app import create_api
from cap.config import Settings
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import ObligationKind, StaffRole
from cap.domain.obligations import DutyAction, DutyRequest
from cap.store.db import Database
from cap.web.app import create_app
from cap.workflow import Workflow
from tests.conftest import ANNA, NOW, database_for, make_world

pytestmark = pytest.mark.slow  # a few hundred generated requests

SECRET = "test-only-secret-key-of-forty-characters"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Any]:
    """The application over a database with a supplier, a contract, findings in a few states,
    reports due and received, and a contract manager's token."""
    import shutil

    path = tmp_path_factory.mktemp("api-schema") / "cap.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    configured = Settings(database_url=url, secret_key=SecretStr(SECRET),
                          mail_dir=path.parent / "mail")  # fmt: skip
    workflow = Workflow(db=database_for(url), settings=configured)
    world = make_world(workflow)
    for i in range(3):
        ref = world.finding(title=f"Finding {i}")
        if i:
            workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW), now=NOW)
    for kind in ObligationKind:
        due = workflow.add_obligation(world.contract, kind=kind, title="Audit plan",
                                      due=date(2026, 6, 1), actor=ANNA, now=NOW)  # fmt: skip
    workflow.act_on_obligation(due.id, DutyRequest(DutyAction.RECEIVE, ANNA, NOW,
                                                   received_on=NOW.date()), now=NOW)  # fmt: skip
    token = workflow.create_token("schemathesis", StaffRole.CONTRACT_MANAGER,
                                  expires_days=None, now=NOW).token  # fmt: skip
    app = create_app(configured, clock=lambda: NOW, database=workflow.db)
    yield app, token


def _document() -> dict[str, Any]:
    """The API's OpenAPI document, as the application serves it. Built at collection, with no
    database (making it reads none): schemathesis.pytest.from_fixture, which would take the
    application from a fixture, reads a pytest attribute that pytest 9 no longer has."""
    offline = Settings(database_url="sqlite://", secret_key=SecretStr(SECRET))
    return create_api(Workflow(db=Database("sqlite://"), settings=offline), lambda: NOW).openapi()


#: 413 is a rejection too: a body over the API's limit is refused before it is read. The
#: token is the test's own (every request sends it): the fuzzer neither makes one up nor
#: leaves it out as "bad data" (tests/api/test_api_findings.py tests the 401s).
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [
        400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]}},
     "generation": {"with-security-parameters": False}}
)  # fmt: skip
schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)


@schema.hook
def filter_query(ctx: Any, query: dict[str, Any] | None) -> bool:
    """Not a query whose "bad" value a query string cannot carry: null, an empty list or an
    object goes out as nothing at all, the same request as leaving the parameter out, which is
    valid (schemathesis then reports a bad request accepted that was never sent)."""
    return not query or not any(v is None or v == [] or isinstance(v, dict)
                                for v in query.values())  # fmt: skip


def _keeps_to_its_document(case: Any, served: tuple[Any, str]) -> None:
    app, token = served
    # The checks that send a request of their own (without the token, say) send it through
    # the schema's transport: the application, not a socket.
    case.operation.schema.app = app
    # Not "schema-valid data is accepted": a date in the future, a blank title or an unknown
    # contract are refused (422, 404) by what JSON Schema cannot say.
    case.call_and_validate(app=app, base_url="http://cap.example/api/v1",
                           headers={"Authorization": f"Bearer {token}"},
                           excluded_checks=[checks.positive_data_acceptance])  # fmt: skip


def _operations() -> list[tuple[str, str]]:
    return [(path, method) for path, methods in schema.raw_schema["paths"].items()
            for method in methods]  # fmt: skip


# A test function per operation, each with a name of its own: schemathesis names the tests
# of one function alike, and pytest-xdist, which schedules by name, ran one of them only.
for _path, _method in _operations():
    _name = "test_" + re.sub(r"[^a-z0-9]+", "_", f"{_method}_{_path}".lower()).strip("_")

    def _test(case: Any, served: tuple[Any, str]) -> None:
        _keeps_to_its_document(case, served)

    _test.__name__ = _test.__qualname__ = _name
    globals()[_name] = schema.include(path=_path, method=_method.upper()).parametrize()(
        settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))(_test)
    )


def test_every_operation_is_fuzzed() -> None:
    names = [n for n in globals() if n.startswith(("test_get_", "test_post_", "test_patch_"))]
    assert len(names) == len(_operations()) >= 20


def test_the_document_holds_the_api_and_no_page(served: tuple[Any, str]) -> None:
    app = served[0]
    loaded = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    paths = set(loaded.raw_schema["paths"])
    assert "/findings" in paths and "/findings/{ref}/actions/{action}" in paths
    assert {"/obligations", "/obligations/{id}", "/obligations/{id}/actions/{action}"} <= paths
    assert not any(p.startswith(("/desk", "/s/", "/login")) for p in paths)
