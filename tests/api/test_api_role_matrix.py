"""Every operation of the API's document, called with a token of each role (both databases):
a role without the permission gets 403 and changes nothing, whatever it sent; a role with it
gets past the check. An operation missing from the table fails the test: a new route must say
who may call it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cap.domain.model import StaffRole
from cap.domain.permissions import Permission, allows
from cap.workflow import EvidenceFile, FindingFilter
from tests.api.conftest import Api
from tests.conftest import ANNA, NOW, World

READ, LOG, DIRECTORY, RETRY = (Permission.READ, Permission.LOG_FINDINGS,
                               Permission.MANAGE_DIRECTORY, Permission.RETRY_MAIL)  # fmt: skip
REPORTS = Permission.RECORD_REPORTS
#: (method, path in the document): the permission it needs.
NEEDS: dict[tuple[str, str], Permission] = {
    ("get", "/findings"): READ,
    ("get", "/findings/{ref}"): READ,
    ("get", "/findings/{ref}/timeline"): READ,
    ("get", "/findings/{ref}/evidence/{evidence_id}"): READ,
    ("get", "/suppliers"): READ,
    ("get", "/suppliers/{org_number}"): READ,
    ("get", "/contracts"): READ,
    ("get", "/contracts/{reference}"): READ,
    ("get", "/outbox"): READ,
    ("get", "/rules"): READ,
    ("post", "/simulate"): READ,
    ("post", "/findings"): LOG,
    ("post", "/findings:import"): LOG,
    ("post", "/findings/{ref}/evidence"): LOG,
    ("post", "/suppliers"): DIRECTORY,
    ("patch", "/suppliers/{org_number}"): DIRECTORY,
    ("post", "/contracts"): DIRECTORY,
    ("patch", "/contracts/{reference}"): DIRECTORY,
    ("post", "/outbox/{id}/retry"): RETRY,
    ("get", "/obligations"): READ,
    ("get", "/obligations/{id}"): READ,
    ("post", "/obligations"): REPORTS,
    ("post", "/obligations/{id}/actions/{action}"): REPORTS,
}
#: Decided by the finding's state and the action: tests/api/test_api_findings.py.
BY_STATE = {("post", "/findings/{ref}/actions/{action}")}


@pytest.mark.parametrize("role", list(StaffRole), ids=lambda r: r.value)
def test_each_role_reaches_what_it_may_and_nothing_else(
    role: StaffRole, api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    workflow = api_world.workflow
    ref = api_world.finding()
    # Report 1: receiving it with nothing said is a 422 and writes nothing.
    workflow.add_obligation(api_world.contract, actor=ANNA, now=NOW)
    [kept] = workflow.add_evidence(ref, [EvidenceFile("audit.pdf", b"%PDF-1.4")], actor=ANNA,
                                   now=NOW)  # fmt: skip
    client = api_as(role)
    document = client.get("openapi.json").json()
    operations = {(m, p) for p, methods in document["paths"].items() for m in methods}
    assert operations == set(NEEDS) | BY_STATE
    values = {"ref": ref, "evidence_id": str(kept.id), "org_number": "556000-1234",
              "reference": "RS-2019-ICT-01", "id": "1", "action": "receive"}  # fmt: skip
    before = (workflow.list_findings(FindingFilter(), now=NOW), workflow.list_suppliers(),
              workflow.list_contracts(), workflow.list_outbox(None, limit=50),
              workflow.show_obligation(1, now=NOW), workflow.list_obligations(now=NOW))  # fmt: skip
    for (method, path), permission in NEEDS.items():
        url = path.lstrip("/").format(**values)
        # Nothing in the body: a role that may not is refused before the body is read.
        sent = client.request(method.upper(), f"./{url}", json={} if method != "get" else None)
        if allows(role, permission):
            assert sent.status_code not in (401, 403), (method, path, sent.text)
        else:
            assert sent.status_code == 403, (method, path, sent.text)
            assert sent.json()["detail"] == f"role: a {role.value} token may not do this"
    after = (workflow.list_findings(FindingFilter(), now=NOW), workflow.list_suppliers(),
             workflow.list_contracts(), workflow.list_outbox(None, limit=50),
             workflow.show_obligation(1, now=NOW), workflow.list_obligations(now=NOW))  # fmt: skip
    assert after == before
