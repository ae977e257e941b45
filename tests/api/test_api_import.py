"""POST /findings:import (both databases): CSV or a JSON array, all rows or none, every bad
row in ``errors`` with its position; a report sent again adds only what is new, and with its
Idempotency-Key is answered as the first time."""

from __future__ import annotations

import json
from collections.abc import Callable

from cap.domain.model import StaffRole
from cap.workflow import FindingFilter
from tests.api.conftest import Api
from tests.conftest import NOW, World

CM, V = StaffRole.CONTRACT_MANAGER, StaffRole.VIEWER
CSV = {"content-type": "text/csv; charset=utf-8"}
HEADER = "contract,severity,area,source,title,found_on,external_id\n"
ROW = "RS-2019-ICT-01,major,working_hours,factory_audit,{title},2026-01-{day:02d},{ext}\n"
ITEM = {
    "contract": "RS-2019-ICT-01",
    "severity": "major",
    "area": "working_hours",
    "source": "factory_audit",
    "title": "Forced overtime",
    "found_on": "2026-01-20",
}


def _titles(world: World) -> list[str]:
    found = world.workflow.list_findings(FindingFilter(), now=NOW)
    return [world.workflow.show_finding(f.ref, now=NOW).title for f in found]


def _csv(*rows: tuple[str, int, str]) -> bytes:
    body = HEADER + "".join(ROW.format(title=t, day=d, ext=e) for t, d, e in rows)
    return body.encode()


def test_a_csv_report_is_imported_and_again_adds_only_what_is_new(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    client = api_as(CM)
    first = client.post(
        "./findings:import",
        content=_csv(("Overtime", 3, "EW-1"), ("No union", 4, "EW-2")),
        headers=CSV,
    )
    assert first.status_code == 200, first.text
    assert first.json()["imported"] == 2 and first.json()["skipped"] == []
    assert _titles(api_world) == ["Overtime", "No union"]
    again = client.post(
        "./findings:import", content=_csv(("Overtime", 3, "EW-1"), ("Fees", 5, "EW-3")), headers=CSV
    )
    body = again.json()
    assert (body["imported"], len(body["refs"])) == (1, 1)
    assert body["skipped"] == [{"row": 2, "external_id": "EW-1", "ref": first.json()["refs"][0]}]
    assert _titles(api_world) == ["Overtime", "No union", "Fees"]
    trail = api_world.workflow.timeline(body["refs"][0], now=NOW)
    assert trail.events[0].actor == "api: test contract_manager"


def test_a_json_array_is_imported(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    items = [ITEM, {**ITEM, "title": "Blocked union", "external_id": "EW-9"}]
    done = api_as(CM).post("./findings:import", json=items, params={"as": "anna@region.example"})
    assert done.status_code == 200 and done.json()["imported"] == 2
    assert _titles(api_world) == ["Forced overtime", "Blocked union"]
    trail = api_world.workflow.timeline(done.json()["refs"][0], now=NOW)
    assert trail.events[0].actor == "anna@region.example"


def test_bad_rows_are_each_reported_with_their_position_and_nothing_is_imported(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    client = api_as(CM)
    body = (
        HEADER
        + ROW.format(title="Fine", day=3, ext="A")
        + "RS-2019-ICT-01,huge,working_hours,factory_audit,Bad severity,2026-01-04,B\n"
        + ROW.format(title="Fine too", day=5, ext="C")
        + "RS-1999-NONE,major,working_hours,factory_audit,Unknown contract,2026-01-06,D\n"
    )
    refused = client.post("./findings:import", content=body.encode(), headers=CSV)
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["detail"].startswith(
        "CSV: 2 bad row(s), nothing was imported; the first: line 3"
    )
    assert [(e["row"], e["field"]) for e in problem["errors"]] == [(3, "severity"), (5, "contract")]
    items = [ITEM, {**ITEM, "found_on": "2099-01-01"}, {**ITEM, "title": ""}, "not an object"]
    refused = client.post("./findings:import", json=items)
    assert refused.status_code == 422
    # The shape of each item first; what needs the database (the future, the contract) after.
    rows = [(e["row"], e["field"]) for e in refused.json()["errors"]]
    assert rows == [(3, "title"), (4, "input")]
    # Each item well formed, but one found in the future: the workflow's check, with its item.
    future = client.post("./findings:import", json=[ITEM, {**ITEM, "found_on": "2099-01-01"}])
    assert future.status_code == 422
    assert future.json()["errors"] == [
        {"field": "found_on", "row": 2, "message": future.json()["errors"][0]["message"]}
    ]
    assert "in the future" in future.json()["detail"]
    assert _titles(api_world) == []


def test_what_is_not_an_import_is_refused_with_its_reason(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    client = api_as(CM)
    cases = {
        ("text/plain", b"x"): (415, "Content-Type: 'text/plain' is not one this takes"),
        ("application/json", b"{"): (422, "body: is not JSON (line 1, column 2)"),
        ("application/json", b"{}"): (422, "body: send a JSON array of findings"),
        ("application/json", b"[]"): (422, "body: the array is empty"),
        ("text/csv", b""): (422, "CSV: the file is empty"),
        ("text/csv", b"\xff\xfe,,"): (422, "CSV:1: byte 0 is not UTF-8"),
        ("text/csv", HEADER.encode()): (422, "CSV: no rows after the header"),
    }
    for (media, body), (status, start) in cases.items():
        refused = client.post("./findings:import", content=body, headers={"content-type": media})
        assert refused.status_code == status, (media, body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"].startswith(start), refused.json()["detail"]
    assert _titles(api_world) == []


def test_a_probable_duplicate_is_refused_unless_allowed(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    client = api_as(CM)
    assert client.post("./findings:import", json=[ITEM]).status_code == 200
    twice = client.post("./findings:import", json=[ITEM])
    assert twice.status_code == 422
    assert "allow_duplicates=true" in twice.json()["detail"]
    assert twice.json()["errors"][0]["row"] == 1
    allowed = client.post("./findings:import", json=[ITEM], params={"allow_duplicates": "true"})
    assert allowed.status_code == 200 and len(_titles(api_world)) == 2


def test_an_import_sent_again_with_its_key_is_answered_as_the_first_time(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    client = api_as(CM)
    key = {"Idempotency-Key": "import-1"}
    first = client.post("./findings:import", json=[ITEM], headers=key)
    again = client.post("./findings:import", json=[ITEM], headers=key)
    assert again.status_code == 200 and again.json() == first.json()
    other = client.post(
        "./findings:import",
        content=json.dumps([ITEM, ITEM]).encode(),
        headers={**key, "content-type": "application/json"},
    )
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(_titles(api_world)) == 1


def test_only_a_role_that_logs_findings_imports(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    refused = api_as(V).post("./findings:import", json=[ITEM])
    assert refused.status_code == 403 and refused.json()["detail"].startswith("role: a viewer")
    assert api_as(None).post("./findings:import", json=[ITEM]).status_code == 401
    assert _titles(api_world) == []


def test_an_import_over_the_size_limit_is_refused_before_it_is_read(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    from cap.web.security import IMPORT_MAX_BYTES

    huge = HEADER.encode() + b"x" * IMPORT_MAX_BYTES
    refused = api_as(CM).post("./findings:import", content=huge, headers=CSV)
    assert refused.status_code == 413
    assert refused.json()["detail"].startswith("refused: the import exceeds")
    # A JSON body elsewhere keeps the smaller limit of a form.
    big = api_as(CM).post("findings", json={**ITEM, "description": "x" * 300_000})
    assert big.status_code == 413
