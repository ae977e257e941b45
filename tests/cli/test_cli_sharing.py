"""`cap export` and `cap import`: the file, the summary and its JSON, one error line (naming
the file, record and field) and its exit code for what is refused, nothing written."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.cli_runner import Cap
from tests.conftest import World

UPPSALA = {"CAP_BUYER_NAME": "Region Uppsala"}


@pytest.fixture
def uppsala(sqlite_template: Path, tmp_path: Path) -> Cap:
    """Region Uppsala's cap: a database of its own."""
    target = tmp_path / "uppsala.db"
    shutil.copy(sqlite_template, target)
    return Cap(f"sqlite:///{target}", tmp_path, actor="ulla@uppsala.example")


@pytest.fixture
def exported(cap: Cap, world: World, tmp_path: Path) -> Path:
    """Stockholm's export: one audit, one finding from it, one supplier."""
    cap.ok("audit", "add", world.org_number, "--kind", "site", "--date", "2026-01-15",
           "--auditor", "Amfori", "--report", "AM-1")  # fmt: skip
    cap.ok("finding", "add", "--contract", world.contract, "--severity", "major", "--area",
           "wages", "--source", "factory_audit", "--title", "Wages below the minimum",
           "--found-on", "2026-01-15", "--audit", "1")  # fmt: skip
    out = tmp_path / "stockholm.json"
    assert cap.ok("export", "--output", str(out)) == (
        f"exported 1 finding, 1 audit and 1 supplier to {out} (without staff data)\n"
    )
    return out


def test_an_export_is_imported_then_reported_unchanged(exported: Path, uppsala: Cap) -> None:
    document = json.loads(exported.read_text("utf-8"))
    assert (document["format"], document["buyer"], len(document["findings"])) == (
        "cap-share", "Region Stockholm", 1
    )  # fmt: skip
    assert "anna.manager@region.example" not in exported.read_text("utf-8")

    assert uppsala.ok("import", str(exported), "--dry-run", env=UPPSALA).endswith(
        "2 imported, 0 updated, 0 unchanged, 0 conflicts; 1 supplier added "
        "(dry run, nothing written)\n"
    )
    out = uppsala.ok("import", str(exported), env=UPPSALA)
    assert out.startswith("Region Stockholm's results of ")
    assert out.endswith(": 2 imported, 0 updated, 0 unchanged, 0 conflicts; 1 supplier added\n")
    again = uppsala.json("import", str(exported), env=UPPSALA)
    assert {k: again[k] for k in ("buyer", "imported", "updated", "unchanged", "conflicts")} == {
        "buyer": "Region Stockholm", "imported": 0, "updated": 0, "unchanged": 2, "conflicts": [],
    }  # fmt: skip
    assert again["findings"] == {"imported": 0, "updated": 0, "unchanged": 1, "older": 0}


def test_export_with_staff_and_as_json(cap: Cap, exported: Path, tmp_path: Path) -> None:
    out = tmp_path / "full.json"
    summary = cap.json("export", "--output", str(out), "--include-staff", "--since", "2020-01-01")
    assert summary == {"file": str(out), "suppliers": 1, "audits": 1, "findings": 1,
                       "include_staff": True, "since": "2020-01-01"}  # fmt: skip
    finding = json.loads(out.read_text("utf-8"))["findings"][0]
    assert finding["recorded_by"] == "anna.manager@region.example"


def test_a_conflicting_supplier_is_warned_about_and_kept(exported: Path, uppsala: Cap) -> None:
    uppsala.ok("supplier", "add", "Nordic Supply", "--org-number", "556000-1234",
               "--country", "SE", "--email", "info@nordic.example")  # fmt: skip
    result = uppsala.run("import", str(exported), env=UPPSALA)
    assert result.returncode == 0
    assert result.stderr == (
        "warning: supplier 556000-1234: name is 'Nordic Supply' here, 'Nordic IT Supply AB' "
        f"in {exported}; ours kept\n"
    )
    assert result.stdout.endswith(": 2 imported, 0 updated, 0 unchanged, 1 conflict\n")
    assert "Nordic Supply " in uppsala.ok("supplier", "list")


def test_our_own_export_is_refused(cap: Cap, exported: Path) -> None:
    assert cap.fails("import", str(exported), code=6) == (
        f"error: {exported}: buyer: this is an export of Region Stockholm, this buyer "
        "(CAP_BUYER_NAME), whose results are here as its own; nothing was imported"
    )


def test_a_bad_record_names_the_file_record_and_field(exported: Path, uppsala: Cap) -> None:
    document = json.loads(exported.read_text("utf-8"))
    document["findings"][0]["state"] = "lost"
    bad = exported.with_name("bad.json")
    bad.write_text(json.dumps(document), "utf-8")
    error = uppsala.fails("import", str(bad), code=2, env=UPPSALA)
    assert error.startswith(f"error: {bad}: findings[0]: state: 'lost' is not one of 'open', ")
    assert "(none)" in uppsala.ok("supplier", "list")  # nothing written, the supplier neither


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{ not json", r"1:3: not JSON \(Expecting property name enclosed in double quotes\)"),
        ('{"format": "cap-share", "version": 7}', r"version: 7 is not supported"),
        ("[1, 2]", r"not a cap-share document \(a JSON object is expected\)"),
    ],
)
def test_a_file_that_is_not_a_share_document_is_refused(
    uppsala: Cap, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "other.json"
    path.write_text(content, "utf-8")
    error = uppsala.fails("import", str(path), code=2, env=UPPSALA)
    assert error.startswith(f"error: {path}"), error
    assert re.search(message, error), error


def test_a_missing_file_and_a_bad_since_are_one_line_each(cap: Cap, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.json"
    assert cap.fails("import", str(missing), code=2) == (
        f"error: {missing}: cannot read the file (No such file or directory)"
    )
    assert cap.fails("export", "--output", "x.json", "--since", "last week", code=2) == (
        "error: since: 'last week' is not a date; write it as YYYY-MM-DD"
    )
    assert cap.fails("export", "--output", str(tmp_path / "no" / "x.json"), code=2).startswith(
        f"error: output: cannot write {tmp_path / 'no' / 'x.json'}"
    )
    assert not (tmp_path / "x.json").exists()
