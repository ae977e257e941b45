"""The API's suppliers and contracts (both databases): listed and shown to every role, added
(201 and a Location) and changed (PATCH: the fields given) by contract managers and admins
alone, with the input models of the command line and the desk; every refusal a problem that
names the field, and nothing written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cap.domain.model import StaffRole
from tests.api.conftest import Api, refused
from tests.conftest import ANNA, LI, NOW, World

CM, ADMIN = StaffRole.CONTRACT_MANAGER, StaffRole.ADMIN
SM, V = StaffRole.SUSTAINABILITY_MANAGER, StaffRole.VIEWER
ORG, REF = "556000-1234", "RS-2019-ICT-01"
SUPPLIER = {"name": "Shenzhen Assembly Ltd", "org_number": "CN-91440300", "country": "cn",
            "email": "compliance@sz-assembly.example", "contact_name": "Zhang Min",
            "language": "en"}  # fmt: skip
CONTRACT = {"reference": "RS-2026-MON-02", "supplier": ORG, "category": "Monitors",
            "manager": ANNA, "start": "2026-01-01", "end": "2029-12-31",
            "value": "12500000.5"}  # fmt: skip
Opener = Callable[[StaffRole | None], Api]


def patch(client: Api, path: str, body: Any) -> Any:
    return client.request("PATCH", path, json=body)


def directory(world: World) -> tuple[Any, ...]:
    """All that the directory holds, as the workflow reads it."""
    flow = world.workflow
    return (flow.list_suppliers(), flow.list_contracts(), flow.show_supplier(ORG),
            flow.show_contract(REF))  # fmt: skip


def test_without_a_working_token_nothing_is_read_or_written(
    api_as: Opener, api_world: World
) -> None:
    before = directory(api_world)
    revoked = api_as(V)
    [token] = api_world.workflow.list_tokens()
    api_world.workflow.revoke_token(token.id, now=NOW)
    nobody = api_as(None)
    for method, path, body in [
        ("GET", "suppliers", None), ("GET", f"suppliers/{ORG}", None),
        ("POST", "suppliers", SUPPLIER), ("PATCH", f"suppliers/{ORG}", {"name": "X"}),
        ("GET", "contracts", None), ("GET", f"contracts/{REF}", None),
        ("POST", "contracts", CONTRACT), ("PATCH", f"contracts/{REF}", {"category": "X"}),
    ]:  # fmt: skip
        answer = revoked.request(method, path, json=body)
        assert "does not work" in refused(answer, 401), (method, path)
        assert answer.headers["www-authenticate"] == 'Bearer realm="cap"'
        unsent = nobody.request(method, path, json=body)
        assert refused(unsent, 401).startswith("Authorization: send"), (method, path)
    assert directory(api_world) == before


@pytest.mark.parametrize("role", list(StaffRole))
def test_every_role_reads_the_suppliers_and_contracts(
    api_as: Opener, api_world: World, role: StaffRole
) -> None:
    api_world.finding()
    client = api_as(role)
    suppliers = client.get("suppliers")
    assert suppliers.status_code == 200
    assert [(s["org_number"], s["name"], s["country"]) for s in suppliers.json()] == [
        (ORG, "Nordic IT Supply AB", "SE")
    ]
    assert suppliers.json()[0]["contacts"] == [{"name": "Li Wei", "email": LI, "language": "en"}]
    supplier = client.get(f"suppliers/{ORG}").json()
    assert supplier["supplier"] == suppliers.json()[0]
    assert supplier["created_at"] == NOW.isoformat()
    assert [c["reference"] for c in supplier["contracts"]] == [REF]
    assert supplier["contracts"][0]["open_findings"] == 1
    assert supplier["findings"] == {"by_state": [{"state": "open", "findings": 1}]}
    contracts = client.get("contracts")
    assert contracts.status_code == 200
    assert contracts.json() == [{
        "reference": REF, "supplier": "Nordic IT Supply AB", "supplier_org_number": ORG,
        "category": "Personal computers", "manager": ANNA, "start": "2019-05-01", "end": None,
        "value": None,
    }]  # fmt: skip
    contract = client.get(f"contracts/{REF}").json()
    assert contract["contract"] == contracts.json()[0]
    assert contract["findings"] == {"by_state": [{"state": "open", "findings": 1}]}


def test_unknown_keys_are_404_and_overlong_ones_422(api_as: Opener, api_world: World) -> None:
    manager = api_as(CM)
    assert refused(manager.get("suppliers/999999-0000"), 404, "supplier") == (
        "supplier: no supplier with organisation number 999999-0000"
    )
    assert refused(manager.get("contracts/RS-NONE"), 404, "contract") == (
        "contract: no contract RS-NONE"
    )
    refused(patch(manager, "suppliers/999999-0000", {"name": "X"}), 404, "supplier")
    refused(patch(manager, "contracts/RS-NONE", {"category": "X"}), 404, "contract")
    refused(manager.get("suppliers/" + "1" * 41), 422, "org_number")
    refused(manager.get("contracts/" + "R" * 81), 422, "reference")
    # What never was a key is refused as the input models refuse it, on either database.
    for hostile, detail in [
        ("%00", "must be one line without control characters"),
        ("..%2F..%2Fetc", "'../../etc' may only contain letters, digits and . _ / -"),
        ("%27%3B--", "\"';--\" may only contain"),
        ("%E2%80%AEx", "contains the invisible direction control U+202E"),
    ]:  # fmt: skip
        assert refused(manager.get(f"suppliers/{hostile}"), 422, "org_number").startswith(
            f"org_number: {detail}")  # fmt: skip
        assert refused(patch(manager, f"contracts/{hostile}", {}), 422, "reference").startswith(
            f"reference: {detail}")  # fmt: skip


@pytest.mark.parametrize("role", [CM, ADMIN])
def test_a_supplier_is_added_by_those_who_manage_the_directory(
    api_as: Opener, api_world: World, role: StaffRole
) -> None:
    made = api_as(role).post("suppliers", json=SUPPLIER)
    assert made.status_code == 201, made.text
    assert made.headers["location"] == "suppliers/CN-91440300"
    expected = {"name": "Shenzhen Assembly Ltd", "org_number": "CN-91440300", "country": "CN",
                "contacts": [{"name": "Zhang Min", "email": "compliance@sz-assembly.example",
                              "language": "en"}]}  # fmt: skip
    assert made.json() == expected
    shown = api_as(V).get(made.headers["location"])
    assert shown.status_code == 200 and shown.json()["supplier"] == expected
    stored = api_world.workflow.show_supplier("CN-91440300")
    assert (stored.supplier.country, stored.created_at, stored.contracts) == ("CN", NOW, ())
    # The command line's defaults: the contact's language is Swedish, the name optional.
    lean = api_as(role).post(
        "suppliers",
        json={
            "name": "Göta Kablar AB",
            "org_number": "1-2",
            "country": "SE",
            "email": "info@gk.example",
        },
    )
    assert lean.status_code == 201
    assert lean.json()["contacts"] == [{"name": None, "email": "info@gk.example", "language": "sv"}]


@pytest.mark.parametrize("role", [CM, ADMIN])
def test_a_contract_is_added_with_its_value_as_stored(
    api_as: Opener, api_world: World, role: StaffRole
) -> None:
    made = api_as(role).post("contracts", json=CONTRACT)
    assert made.status_code == 201, made.text
    assert made.headers["location"] == "contracts/RS-2026-MON-02"
    assert made.json() == {
        "reference": "RS-2026-MON-02", "supplier": "Nordic IT Supply AB",
        "supplier_org_number": ORG, "category": "Monitors", "manager": ANNA,
        "start": "2026-01-01", "end": "2029-12-31", "value": "12500000.50",
    }  # fmt: skip
    assert api_as(V).get(made.headers["location"]).json()["contract"] == made.json()
    stored = api_world.workflow.show_contract("RS-2026-MON-02").contract
    assert (stored.supplier_org_number, str(stored.value)) == (ORG, "12500000.50")
    # An amount as a JSON number or in any decimal spelling: answered as it is stored.
    for reference, value in (("RS-A", 12500000), ("RS-B", "1E+3"), ("RS-C", "-0"), ("RS-D", 0.1)):
        answer = api_as(role).post("contracts", json={**CONTRACT, "reference": reference,
                                                      "value": value})  # fmt: skip
        assert answer.status_code == 201, answer.text
        assert answer.json()["value"] == api_as(V).get(f"contracts/{reference}").json()[
            "contract"]["value"]  # fmt: skip
        assert (
            answer.json()["value"]
            == {"RS-A": "12500000.00", "RS-B": "1000.00", "RS-C": "0.00", "RS-D": "0.10"}[reference]
        )
    # A key with a "/" (a reference may have one) is one segment of its Location.
    slashed = api_as(role).post("contracts", json={**CONTRACT, "reference": "RS/2026/../07"})
    assert slashed.headers["location"] == "contracts/RS%2F2026%2F..%2F07"
    assert api_as(V).get(slashed.headers["location"]).json()["contract"]["reference"] == (
        "RS/2026/../07"
    )


@pytest.mark.parametrize("role", [SM, V])
def test_other_roles_get_403_and_nothing_is_written(
    api_as: Opener, api_world: World, role: StaffRole
) -> None:
    before = directory(api_world)
    client = api_as(role)
    for answer in (
        client.post("suppliers", json=SUPPLIER),
        client.post("contracts", json=CONTRACT),
        patch(client, f"suppliers/{ORG}", {"name": "Taken Over AB"}),
        patch(client, f"contracts/{REF}", {"value": "1"}),
        # Refused for the role before the body is read: its faults are not told.
        client.post("suppliers", json={"colour": "red"}),
        patch(client, "contracts/RS-NONE", {"value": "x"}),
    ):
        assert refused(answer, 403) == f"role: a {role.value} token may not do this"
    assert directory(api_world) == before


def test_a_duplicate_is_409_and_changes_nothing(api_as: Opener, api_world: World) -> None:
    manager = api_as(CM)
    before = directory(api_world)
    same_org = manager.post("suppliers", json={**SUPPLIER, "org_number": ORG})
    assert refused(same_org, 409, "org_number") == (
        f"org-number: a supplier with organisation number {ORG} already exists"
    )
    same_ref = manager.post("contracts", json={**CONTRACT, "reference": REF})
    assert refused(same_ref, 409, "reference") == f"reference: contract {REF} already exists"
    assert directory(api_world) == before


@pytest.mark.parametrize(
    ("path", "change", "field", "detail"),
    [
        ("suppliers", {"country": "Sweden"}, "country",
         "'SWEDEN' is not a two-letter country code (ISO 3166, e.g. SE, CN)"),
        ("suppliers", {"email": "compliance at sz"}, "email", "'compliance at sz' is not"),
        ("suppliers", {"language": "de"}, "language", "'de' is not one of 'sv' or 'en'"),
        ("suppliers", {"name": " "}, "name", "must not be empty"),
        ("suppliers", {"name": "Line\r\nBcc: x@evil.example"}, "name", "must be one line"),
        ("suppliers", {"org_number": "../x"}, "org_number", "'../x' may only contain"),
        ("suppliers", {"colour": "red"}, "colour", "is not a known field"),
        ("suppliers", {"name": None}, "name", "null is not text"),
        ("contracts", {"start": "2026-02-30"}, "start", "'2026-02-30' is not a date"),
        ("contracts", {"end": "2025-12-31"}, "end", "2025-12-31 is before the start 2026-01-01"),
        ("contracts", {"value": -1}, "value", "-1 is too small; give 0 or more"),
        ("contracts", {"value": "12.345"}, "value", "'12.345' has too many decimals; at most 2"),
        ("contracts", {"value": "1e20"}, "value", "'1e20' has too many digits; at most 16"),
        ("contracts", {"value": "12 MSEK"}, "value", "'12 MSEK' is not a number"),
        ("contracts", {"manager": "anna"}, "manager", "'anna' is not an email address"),
        ("contracts", {"supplier": None}, "supplier", "null is not text"),
    ],
)  # fmt: skip
def test_bad_input_is_422_naming_the_field_and_nothing_is_added(
    api_as: Opener, api_world: World, path: str, change: dict[str, Any], field: str, detail: str
) -> None:
    before = directory(api_world)
    body = {**(SUPPLIER if path == "suppliers" else CONTRACT), **change}
    answer = api_as(CM).post(path, json=body)
    assert refused(answer, 422, field).startswith(f"{field}: {detail}")
    assert directory(api_world) == before


def test_an_unknown_supplier_of_a_new_contract_is_404(api_as: Opener, api_world: World) -> None:
    before = directory(api_world)
    answer = api_as(CM).post("contracts", json={**CONTRACT, "supplier": "999999-0000"})
    assert refused(answer, 404, "supplier") == (
        "supplier: no supplier with organisation number 999999-0000"
    )
    assert directory(api_world) == before


def test_hostile_text_comes_back_as_the_same_text(api_as: Opener, api_world: World) -> None:
    name = "<script>alert('x')</script> & \"Ltd\""
    made = api_as(CM).post("suppliers", json={**SUPPLIER, "name": name})
    assert made.status_code == 201 and made.headers["content-type"] == "application/json"
    assert made.json()["name"] == name
    assert api_as(V).get("suppliers/CN-91440300").json()["supplier"]["name"] == name
    assert api_world.workflow.show_supplier("CN-91440300").supplier.name == name
    category = "<img src=x onerror=alert(1)>"
    changed = patch(api_as(CM), f"contracts/{REF}", {"category": category})
    assert changed.json()["category"] == category
    # Invisible marks that reorder text are refused, as on the command line.
    trojan = api_as(CM).post("suppliers", json={**SUPPLIER, "name": "Evil\u202eCorp"})
    assert "invisible direction control U+202E" in refused(trojan, 422, "name")


def test_patching_a_supplier_changes_the_fields_given_alone(
    api_as: Opener, api_world: World
) -> None:
    manager = api_as(CM)
    before = api_world.workflow.show_supplier(ORG).supplier
    renamed = patch(manager, f"suppliers/{ORG}", {"name": "Nordic IT Supply Group AB"})
    assert renamed.status_code == 200, renamed.text
    after = api_world.workflow.show_supplier(ORG).supplier
    assert after.name == "Nordic IT Supply Group AB"
    assert (after.org_number, after.country, after.contacts) == (ORG, "SE", before.contacts)
    assert renamed.json() == api_as(V).get(f"suppliers/{ORG}").json()["supplier"]
    # The contacts are replaced as a whole, in the order given.
    contacts = [{"email": "ops@nordic-supply.example", "language": "sv"},
                {"email": LI, "name": "Li Wei", "language": "en"}]  # fmt: skip
    moved = patch(manager, f"suppliers/{ORG}", {"contacts": contacts, "country": "no"})
    assert moved.status_code == 200, moved.text
    after = api_world.workflow.show_supplier(ORG).supplier
    assert (after.name, after.country) == ("Nordic IT Supply Group AB", "NO")
    assert [(c.email, c.name, c.language.value) for c in after.contacts] == [
        ("ops@nordic-supply.example", None, "sv"), (LI, "Li Wei", "en")]  # fmt: skip
    assert patch(manager, f"suppliers/{ORG}", {}).json() == moved.json()


@pytest.mark.parametrize(
    ("change", "field", "detail"),
    [
        ({"contacts": []}, "contacts", "give at least one contact"),
        ({"contacts": [{"email": LI}, {"email": LI.upper()}]}, "contacts",
         f"{LI.upper()} is given twice"),
        ({"contacts": [{"email": LI, "language": "fi"}]}, "contacts.0.language", "'fi' is not"),
        ({"org_number": "556000-9999"}, "org_number", "is not a known field"),
        ({"name": None}, "name", "null is not text"),
        ({"country": "S"}, "country", "'S' is not a two-letter country code"),
    ],
)  # fmt: skip
def test_a_bad_patch_of_a_supplier_is_422_and_changes_nothing(
    api_as: Opener, api_world: World, change: dict[str, Any], field: str, detail: str
) -> None:
    before = directory(api_world)
    answer = patch(api_as(ADMIN), f"suppliers/{ORG}", {"name": "Renamed AB", **change})
    assert refused(answer, 422, field).startswith(f"{field}: {detail}")
    assert directory(api_world) == before


def test_patching_a_contract_changes_the_fields_given_alone(
    api_as: Opener, api_world: World
) -> None:
    manager = api_as(CM)
    before = api_world.workflow.show_contract(REF).contract
    valued = patch(manager, f"contracts/{REF}", {"value": 4200000})
    assert valued.status_code == 200, valued.text
    assert valued.json() == {**api_as(V).get(f"contracts/{REF}").json()["contract"],
                             "value": "4200000.00"}  # fmt: skip
    after = api_world.workflow.show_contract(REF).contract
    assert str(after.value) == "4200000.00"
    assert (after.category, after.manager, after.start, after.end, after.supplier) == (
        before.category, before.manager, before.start, before.end, before.supplier)  # fmt: skip
    # null clears an optional field; a field left out stays.
    cleared = patch(manager, f"contracts/{REF}", {"start": None, "end": "2030-06-30"})
    assert cleared.status_code == 200, cleared.text
    after = api_world.workflow.show_contract(REF).contract
    assert (after.start, str(after.end), str(after.value)) == (None, "2030-06-30", "4200000.00")
    assert after.category == "Personal computers"


@pytest.mark.parametrize(
    ("change", "field", "detail"),
    [
        # The end checked against the start stored.
        ({"end": "2019-04-30"}, "end", "2019-04-30 is before the start 2019-05-01"),
        ({"value": "-0.01"}, "value", "'-0.01' is too small; give 0 or more"),
        ({"start": "01/05/2019"}, "start", "'01/05/2019' is not a date"),
        ({"category": None}, "category", "null is not text"),
        ({"reference": "RS-OTHER"}, "reference", "is not a known field"),
        ({"supplier": "556000-9999"}, "supplier", "is not a known field"),
    ],
)  # fmt: skip
def test_a_bad_patch_of_a_contract_is_422_and_changes_nothing(
    api_as: Opener, api_world: World, change: dict[str, Any], field: str, detail: str
) -> None:
    before = directory(api_world)
    answer = patch(api_as(CM), f"contracts/{REF}", {"manager": "per@region.example", **change})
    assert refused(answer, 422, field).startswith(f"{field}: {detail}")
    assert directory(api_world) == before


def test_the_document_describes_the_directory(api_as: Opener, api_world: World) -> None:
    document = api_as(None).get("openapi.json").json()
    paths = document["paths"]
    assert set(paths["/suppliers"]) == set(paths["/contracts"]) == {"get", "post"}
    assert set(paths["/suppliers/{org_number}"]) == {"get", "patch"}
    assert set(paths["/contracts/{reference}"]) == {"get", "patch"}
    changes = document["components"]["schemas"]["SupplierChanges"]
    assert changes["additionalProperties"] is False and "required" not in changes
    assert changes["properties"]["name"] == {"type": "string", "maxLength": 200, "title": "Name"}
    body = paths["/suppliers"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/SupplierInput"}
