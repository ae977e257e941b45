"""The API's reporting obligations (both databases): listed and shown to every role (a report's
ETag its version), added to a contract and received, extended or waived by those who record
reports, refused (403) to the others before their body is read; every refusal a problem that
names the field, and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from cap.domain.inputs import ContractInput, SupplierInput
from cap.domain.model import Language, ObligationKind, ObligationState, StaffRole
from cap.domain.obligations import DutyAction, DutyRequest
from cap.workflow import to_json
from cap.workflow.obligations import ObligationFilter
from tests.api.conftest import Api, refused
from tests.conftest import ANNA, BO, NOW, World

CM, SM = StaffRole.CONTRACT_MANAGER, StaffRole.SUSTAINABILITY_MANAGER
ADMIN, V = StaffRole.ADMIN, StaffRole.VIEWER
REF, ORG = "RS-2019-ICT-01", "556000-1234"
# A second supplier, with a contract that started this year (it owes its social-risk report).
OTHER_ORG, OTHER_REF = "CN-91440300", "SZ-2026-01"
Opener = Callable[[StaffRole | None], Api]


def reports(world: World) -> dict[str, int]:
    """Three reports besides the one the new contract owes: overdue, due later, waived."""
    flow = world.workflow
    flow.add_supplier(SupplierInput(name="Shenzhen Assembly Ltd", org_number=OTHER_ORG,
                                    country="CN", email="compliance@sz-assembly.example",
                                    language=Language.EN), now=NOW)  # fmt: skip
    flow.add_contract(ContractInput(reference=OTHER_REF, supplier=OTHER_ORG, category="Monitors",
                                    manager=ANNA, start=date(2026, 2, 2)), now=NOW)  # fmt: skip
    late = flow.add_obligation(REF, kind=ObligationKind.SELF_ASSESSMENT, due=date(2026, 2, 2),
                               actor=ANNA, now=NOW)  # fmt: skip
    later = flow.add_obligation(REF, kind=ObligationKind.MINERALS_REPORT, due=date(2026, 6, 30),
                                actor=ANNA, now=NOW)  # fmt: skip
    gone = flow.add_obligation(REF, kind=ObligationKind.OTHER, title="Audit plan",
                               due=date(2026, 5, 4), actor=ANNA, now=NOW)  # fmt: skip
    flow.act_on_obligation(gone.id, DutyRequest(DutyAction.WAIVE, ANNA, NOW, reason="Ended"),
                           now=NOW)  # fmt: skip
    [owed] = flow.list_obligations(now=NOW, where=ObligationFilter(contract=OTHER_REF))
    return {"late": late.id, "later": later.id, "waived": gone.id, "owed": owed.id}


def stored(world: World) -> list[Any]:
    """Every report with its trail, as the workflow reads them."""
    flow = world.workflow
    return [flow.show_obligation(o.id, now=NOW) for o in flow.list_obligations(now=NOW)]


def test_the_list_narrows_as_the_workflows_does(api_as: Opener, api_world: World) -> None:
    ids = reports(api_world)
    viewer = api_as(V)
    cases: list[tuple[dict[str, Any], ObligationFilter]] = [
        ({}, ObligationFilter()),
        ({"overdue": "true"}, ObligationFilter(overdue=True)),
        ({"state": "due"}, ObligationFilter(states=(ObligationState.DUE,))),
        ({"state": ["waived", "received"]},
         ObligationFilter(states=(ObligationState.WAIVED, ObligationState.RECEIVED))),
        ({"contract": REF}, ObligationFilter(contract=REF)),
        ({"supplier": OTHER_ORG}, ObligationFilter(supplier=OTHER_ORG)),
        ({"supplier": ORG, "state": "due"},
         ObligationFilter(supplier=ORG, states=(ObligationState.DUE,))),
        ({"contract": OTHER_REF, "overdue": "true"}, ObligationFilter(contract=OTHER_REF,
                                                                      overdue=True)),
    ]  # fmt: skip
    for params, where in cases:
        listed = viewer.get("obligations", params=params)
        assert listed.status_code == 200, listed.text
        expected = to_json(api_world.workflow.list_obligations(now=NOW, where=where))
        assert listed.json() == {"items": expected, "next": None}, params
    # The earliest due first; the filters each narrow it.
    everything = viewer.get("obligations").json()["items"]
    assert [o["id"] for o in everything] == [ids["late"], ids["waived"], ids["later"], ids["owed"]]
    overdue = viewer.get("obligations", params={"overdue": "true"}).json()["items"]
    assert [(o["id"], o["days_overdue"]) for o in overdue] == [(ids["late"], 29)]
    assert viewer.get("obligations", params={"contract": OTHER_REF}).json()["items"][0] == {
        **everything[-1], "contract": OTHER_REF, "supplier_org_number": OTHER_ORG,
        "kind": "social_risk_report", "due": "2026-08-03", "state": "due",
    }  # fmt: skip
    assert refused(viewer.get("obligations", params={"contract": "RS-NONE"}), 404, "contract") == (
        "contract: no contract RS-NONE"
    )
    assert refused(viewer.get("obligations", params={"supplier": "999999-0000"}), 404,
                   "supplier").startswith("supplier: no supplier")  # fmt: skip
    refused(viewer.get("obligations", params={"state": "lost"}), 422, "state.0")
    refused(viewer.get("obligations", params={"overdue": "perhaps"}), 422, "overdue")
    # What never was a key is refused as the directory refuses it (a NUL, on either database).
    refused(viewer.get("obligations", params={"contract": "\x00"}), 422, "contract")
    refused(viewer.get("obligations", params={"supplier": "../x"}), 422, "supplier")
    refused(viewer.get("obligations", params={"contract": "R" * 81}), 422, "contract")


def test_a_report_is_shown_with_its_version_as_etag(api_as: Opener, api_world: World) -> None:
    ids = reports(api_world)
    viewer = api_as(V)
    shown = viewer.get(f"obligations/{ids['late']}")
    assert shown.status_code == 200 and shown.headers["etag"] == '"v1"'
    assert shown.json() == to_json(api_world.workflow.show_obligation(ids["late"], now=NOW))
    body = shown.json()
    assert body["allowed"] == ["receive", "extend", "waive"]
    assert [e["kind"] for e in body["events"]] == ["recorded"]
    assert body["obligation"]["overdue"] and body["timeline"]
    waived = viewer.get(f"obligations/{ids['waived']}")
    assert waived.headers["etag"] == '"v2"' and waived.json()["allowed"] == []
    assert [e["kind"] for e in waived.json()["events"]] == ["recorded", "waive"]
    # Any id that names no report is a 404 (never a 500, never a 422 about its type).
    for unknown in ("999", "0", "-1", "99999999999", "2147483648", "abc", "1.0", "%C2%B9"):
        detail = refused(viewer.get(f"obligations/{unknown}"), 404, "report")
        assert detail.startswith("report: no reporting obligation"), unknown


@pytest.mark.parametrize("role", [CM, SM])
def test_a_report_is_added_by_those_who_record_reports(
    api_as: Opener, api_world: World, role: StaffRole
) -> None:
    client = api_as(role)
    made = client.post("obligations", json={"contract": REF, "kind": "self_assessment",
                                            "due": "2026-06-30"})  # fmt: skip
    assert made.status_code == 201, made.text
    view = made.json()
    assert made.headers["location"] == f"obligations/{view['id']}"
    assert made.headers["etag"] == '"v1"'
    assert (view["contract"], view["kind"], view["due"], view["state"]) == (
        REF, "self_assessment", "2026-06-30", "due")  # fmt: skip
    detail = api_world.workflow.show_obligation(view["id"], now=NOW)
    assert to_json(detail.obligation) == view
    assert [(e.kind, e.actor) for e in detail.events] == [("recorded", f"api: test {role.value}")]
    assert api_as(V).get(made.headers["location"]).json()["obligation"] == view
    # The default: the social-risk report, the rules' report period after the contract's start.
    default = client.post("obligations", json={"contract": REF})
    assert default.status_code == 201, default.text
    assert (default.json()["kind"], default.json()["due"]) == ("social_risk_report", "2019-11-01")
    # A contract's reference may hold a "/"; one without a start needs a due date.
    slashed = ContractInput(reference="RS/2026/07", supplier=ORG, category="Docks", manager=ANNA)
    api_world.workflow.add_contract(slashed, now=NOW)
    given = client.post("obligations", json={"contract": "RS/2026/07", "due": "2026-09-01"})
    assert given.status_code == 201 and given.json()["contract"] == "RS/2026/07"
    before = stored(api_world)
    again = client.post("obligations", json={"contract": REF, "kind": "self_assessment",
                                             "due": "2026-06-30"})  # fmt: skip
    assert refused(again, 409, "due") == (
        f"due: contract {REF} already owes a self_assessment report due on 2026-06-30"
    )
    unknown = client.post("obligations", json={"contract": "RS-NONE"})
    assert refused(unknown, 404, "contract") == "contract: no contract RS-NONE"
    assert refused(client.post("obligations", json={"contract": "RS/2026/07"}), 422, "due") == (
        "due: contract RS/2026/07 has no start date to count from; give the due date, or set "
        "the contract's start"
    )
    bad: list[tuple[dict[str, Any], str]] = [
        ({}, "contract"),
        ({"contract": "RS 2019"}, "contract"),
        ({"contract": "\x00"}, "contract"),
        ({"kind": "other"}, "title"),
        ({"kind": "other", "title": "Audit\nplan"}, "title"),
        ({"kind": "other", "title": "Audit\x00"}, "title"),
        ({"kind": "yearly"}, "kind"),
        ({"due": "2026-02-30"}, "due"),
        ({"due": 1782777600}, "due"),
        ({"due": "3001-01-01"}, "due"),
        ({"colour": "red"}, "colour"),
    ]
    for body, field in bad:
        sent = {"contract": REF, **body} if "contract" not in body and body else body
        refused(client.post("obligations", json=sent), 422, field)
    assert stored(api_world) == before


def test_receive_extend_and_waive_change_the_report_and_its_trail(
    api_as: Opener, api_world: World
) -> None:
    ids = reports(api_world)
    flow, manager = api_world.workflow, api_as(CM)
    received = manager.post(f"obligations/{ids['late']}/actions/receive",
                            json={"on": "2026-03-02", "reference": "SA-2026-17"},
                            headers={"if-match": '"v1"'})  # fmt: skip
    assert received.status_code == 200, received.text
    assert received.headers["etag"] == '"v2"'
    assert (received.json()["state"], received.json()["received_on"]) == ("received", "2026-03-02")
    late = flow.show_obligation(ids["late"], now=NOW)
    assert to_json(late.obligation) == received.json()
    assert (late.events[-1].kind, late.events[-1].actor, late.events[-1].at) == (
        "receive", "api: test contract_manager", NOW)  # fmt: skip
    assert late.events[-1].data == {"received_on": "2026-03-02", "late": True,
                                    "reference": "SA-2026-17"}  # fmt: skip
    extended = api_as(SM).post(f"obligations/{ids['later']}/actions/extend",
                               json={"until": "2026-09-30", "reason": "New CSR officer",
                                     "as": BO, "at": "2026-03-03T10:00:00+01:00"})  # fmt: skip
    assert extended.status_code == 200, extended.text
    assert (extended.json()["due"], extended.json()["first_due"]) == ("2026-09-30", "2026-06-30")
    later = flow.show_obligation(ids["later"], now=NOW)
    assert (later.obligation.state, later.events[-1].actor) == (ObligationState.DUE, BO)
    assert later.events[-1].at == NOW
    assert later.events[-1].data == {"reason": "New CSR officer", "old": "2026-06-30",
                                     "new": "2026-09-30"}  # fmt: skip
    waived = manager.post(f"obligations/{ids['owed']}/actions/waive",
                          json={"reason": "The contract ended early"})  # fmt: skip
    assert waived.status_code == 200 and waived.json()["state"] == "waived"
    assert flow.show_obligation(ids["owed"], now=NOW).events[-1].data == {
        "reason": "The contract ended early"
    }
    # A settled report refuses them all, and says what is possible: nothing.
    before = stored(api_world)
    for report, action, body in [
        ("late", "receive", {"on": "2026-03-02"}),
        ("waived", "extend", {"until": "2026-12-01", "reason": "x"}),
        ("owed", "waive", {"reason": "twice"}),
    ]:
        answer = manager.post(f"obligations/{ids[report]}/actions/{action}", json=body)
        assert refused(answer, 409).startswith(f"cannot {action}: the report is ")
        assert answer.json()["allowed"] == []
    assert stored(api_world) == before


def test_bad_input_is_a_problem_naming_the_field_and_nothing_changes(
    api_as: Opener, api_world: World
) -> None:
    ids = reports(api_world)
    manager = api_as(CM)
    before = stored(api_world)
    report = f"obligations/{ids['later']}/actions"
    for action, body, field, says in [
        ("receive", {"on": "2026-03-04"}, "on", "on: 2026-03-04 is in the future"),
        ("receive", {}, "on", "on: receive needs the day the report came in"),
        ("receive", {"on": 20260302}, "on", "on: 20260302 is not a date"),
        ("receive", {"on": "2026-03-02", "reference": "a\nb"}, "reference", "reference: must"),
        ("extend", {"until": "2026-09-30"}, "reason", "reason: extend needs a reason"),
        ("extend", {"reason": "Late"}, "until", "until: extend needs the new due date"),
        ("extend", {"until": "2026-06-30", "reason": "Late"}, "until",
         "until: 2026-06-30 must be after the current due date (2026-06-30)"),
        ("extend", {"until": "2040-01-02", "reason": "Late"}, "until", "until: 2040-01-02 is"),
        ("waive", {}, "reason", "reason: waive needs a reason"),
        ("waive", {"reason": "   "}, "reason", "reason: waive needs a reason"),
        ("waive", {"reason": "x", "at": "2026-03-04T09:00:00+00:00"}, "at", "at: 2026-03-04"),
        ("waive", {"reason": "x", "at": "2026-03-03T09:00:00"}, "at", "at: '2026-03-03T09:00:00"),
        ("waive", {"reason": "x", "at": 1772528400}, "at", "at: "),
        ("waive", {"reason": "x", "colour": "red"}, "colour", "colour: "),
        # What PostgreSQL cannot store (a NUL) is refused on either database, not a 500.
        ("waive", {"reason": "x\x00"}, "reason", "reason: must not contain control characters"),
        ("waive", {"reason": "x", "as": "a\x00b"}, "as", "as: must be one line"),
    ]:  # fmt: skip
        detail = refused(manager.post(f"{report}/{action}", json=body), 422, field)
        assert detail.startswith(says), (action, body, detail)
    # An action that is none, a report that is none: 404.
    for action in ("fly", "escalate", "Receive"):
        assert "is not an action on a report" in refused(
            manager.post(f"{report}/{action}", json={}), 404, "action")  # fmt: skip
    for unknown in ("999", "0", "-1", "99999999999", "abc"):
        answer = manager.post(f"obligations/{unknown}/actions/waive", json={"reason": "x"})
        assert refused(answer, 404, "report").startswith("report: no reporting obligation")
    # A stale or foreign If-Match: 412, with the version as it is now.
    stale = manager.post(f"{report}/waive", json={"reason": "x"}, headers={"if-match": '"v7"'})
    assert refused(stale, 412) == (
        f"report {ids['later']} changed since version 7 (now version 1); read it again"
    )
    assert stale.headers["etag"] == '"v1"'
    refused(manager.post(f"{report}/waive", json={"reason": "x"}, headers={"if-match": "v1"}), 412)
    assert stored(api_world) == before


@pytest.mark.parametrize("role", [V, ADMIN])
def test_a_role_that_may_not_record_reports_is_refused_before_its_body_is_read(
    api_as: Opener, api_world: World, role: StaffRole
) -> None:
    ids = reports(api_world)
    before = stored(api_world)
    client = api_as(role)
    for path, body in [
        ("obligations", {"contract": 5, "kind": "yearly", "due": 5}),
        ("obligations", {"contract": REF, "kind": "self_assessment", "due": "2026-12-01"}),
        (f"obligations/{ids['later']}/actions/receive", {"on": "yesterday", "colour": "red"}),
        (f"obligations/{ids['later']}/actions/waive", {"reason": "Not needed"}),
        ("obligations/abc/actions/fly", None),
    ]:
        answer = client.post(path, json=body)
        assert refused(answer, 403) == f"role: a {role.value} token may not do this", path
    # Reading is every role's.
    assert client.get("obligations").status_code == 200
    assert client.get(f"obligations/{ids['later']}").status_code == 200
    nobody = api_as(None)
    waive, unknown = f"obligations/{ids['later']}/actions/waive", {"authorization": "Bearer no"}
    for answer in (nobody.get("obligations"), nobody.get(f"obligations/{ids['later']}"),
                   nobody.post(waive, json={"reason": "x"}, headers=unknown)):  # fmt: skip
        assert refused(answer, 401)
    assert stored(api_world) == before
