"""Importing the same findings twice: external ids are skipped, look-alikes are refused.

In-process on both databases where the workflow decides; one CLI test for the messages and
exit codes people see.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from cap.domain.inputs import ContractInput, FindingInput
from cap.domain.model import Area, Severity, Source
from cap.errors import AlreadyExists, CapError, InvalidInput, NotFound
from cap.store.models import Finding
from cap.workflow import ImportResult, SkippedRow, Workflow
from tests.cli_runner import Cap, workflow_for
from tests.conftest import ANNA, NOW, World, make_world

CONTRACT = "RS-2019-ICT-01"
OTHER_CONTRACT = "RS-2020-ICT-02"
FOUND_ON = date(2026, 1, 20)
SITE = "Final assembly, Dongguan"


def finding(
    title: str,
    *,
    external_id: str | None = None,
    contract: str = CONTRACT,
    site: str | None = SITE,
    found_on: date | None = FOUND_ON,
) -> FindingInput:
    return FindingInput(
        contract=contract,
        severity=Severity.MAJOR,
        area=Area.WORKING_HOURS,
        source=Source.FACTORY_AUDIT,
        title=title,
        site=site,
        found_on=found_on,
        external_id=external_id,
    )


def log(wf: Workflow, *rows: FindingInput, allow_duplicates: bool = False) -> ImportResult:
    return wf.log_findings(
        list(rows),
        actor=ANNA,
        now=NOW,
        where=lambda i: f"audit.csv:{i + 2}",
        allow_duplicates=allow_duplicates,
    )


def stored(wf: Workflow) -> list[tuple[str, str | None, str]]:
    """(ref, external_id, title) of every finding, oldest first."""
    with wf.db.read() as session:
        rows = session.execute(
            select(col(Finding.ref), col(Finding.external_id), col(Finding.title)).order_by(
                col(Finding.id)
            )
        )
        return [(ref, external_id, title) for ref, external_id, title in rows]


def add_other_contract(wf: Workflow, world: World) -> None:
    wf.add_contract(
        ContractInput(
            reference=OTHER_CONTRACT, supplier=world.org_number, category="Servers", manager=ANNA
        ),
        now=NOW,
    )


# -- with external_id ------------------------------------------------------------------------


def test_a_reimport_skips_the_external_ids_already_logged(world: World) -> None:
    wf = world.workflow
    add_other_contract(wf, world)
    first = log(
        wf, finding("Overtime", external_id="EW-17#1"), finding("Exit", external_id="EW-17#2")
    )
    assert first.refs == ("NC-2026-0001", "NC-2026-0002") and first.skipped == ()

    again = log(
        wf,
        finding("Overtime", external_id="EW-17#1"),
        finding("Wages", external_id="EW-17#3"),
        finding("Exit", external_id="EW-17#2"),
        # The same report reference on another contract is another finding.
        finding("Overtime", external_id="EW-17#1", contract=OTHER_CONTRACT),
    )
    assert again.refs == ("NC-2026-0003", "NC-2026-0004")
    assert again.skipped == (
        SkippedRow(0, "EW-17#1", "NC-2026-0001"),
        SkippedRow(2, "EW-17#2", "NC-2026-0002"),
    )
    assert stored(wf) == [
        ("NC-2026-0001", "EW-17#1", "Overtime"),
        ("NC-2026-0002", "EW-17#2", "Exit"),
        ("NC-2026-0003", "EW-17#3", "Wages"),
        ("NC-2026-0004", "EW-17#1", "Overtime"),
    ]

    nothing_new = log(wf, finding("Wages", external_id="EW-17#3"))
    assert nothing_new.refs == () and nothing_new.skipped == (
        SkippedRow(0, "EW-17#3", "NC-2026-0003"),
    )
    assert len(stored(wf)) == 4


def test_one_external_id_twice_in_a_file_is_a_bad_row(world: World) -> None:
    wf = world.workflow
    with pytest.raises(InvalidInput) as refused:
        log(
            wf,
            finding("Overtime", external_id="EW-17#1"),
            finding("Exit", external_id="EW-17#2"),
            finding("Overtime again", external_id="EW-17#1"),
        )
    assert str(refused.value) == (
        "audit.csv:4: external_id: EW-17#1 is given twice for contract RS-2019-ICT-01 "
        "(first at audit.csv:2)"
    )
    assert stored(wf) == []


# -- without external_id ---------------------------------------------------------------------


def test_a_look_alike_is_refused_naming_its_line_and_the_finding_it_resembles(
    world: World,
) -> None:
    wf = world.workflow
    add_other_contract(wf, world)
    existing = world.finding(title="Forced overtime at final assembly", found_on=FOUND_ON)
    # Each differs from the existing finding in one of the four things compared.
    different = [
        finding("Forced overtime at the warehouse"),
        finding("Forced overtime at final assembly", site="Warehouse, Dongguan"),
        finding("Forced overtime at final assembly", site=None),
        finding("Forced overtime at final assembly", found_on=date(2026, 1, 21)),
        finding("Forced overtime at final assembly", contract=OTHER_CONTRACT),
    ]
    look_alike = finding("  forced OVERTIME at Final Assembly ")
    with pytest.raises(InvalidInput) as refused:
        log(wf, *different[:2], look_alike, *different[2:])
    assert str(refused.value) == (
        f"audit.csv:4: probable duplicate of {existing} (same contract, title, site and "
        "found_on); add an external_id column, or --allow-duplicates to import it anyway"
    )
    assert len(stored(wf)) == 1

    assert len(log(wf, *different).refs) == 5
    # A finding logged with an external id is one to resemble too.
    (helmets,) = log(wf, finding("No helmets", external_id="EW-17#9")).refs
    with pytest.raises(InvalidInput, match=rf"^audit.csv:2: probable duplicate of {helmets} "):
        log(wf, finding("no helmets"))
    assert len(stored(wf)) == 7


def test_allow_duplicates_imports_the_look_alikes(world: World) -> None:
    wf = world.workflow
    world.finding(title="Forced overtime at final assembly", found_on=FOUND_ON)
    twin = finding("Forced overtime at final assembly")
    result = log(wf, twin, twin, allow_duplicates=True)
    assert result.refs == ("NC-2026-0002", "NC-2026-0003")
    assert [title for _, _, title in stored(wf)] == ["Forced overtime at final assembly"] * 3


def test_look_alike_rows_of_one_file_are_bad_rows(world: World) -> None:
    wf = world.workflow
    today = wf.settings.calendar.local_date(NOW)
    with pytest.raises(InvalidInput) as refused:
        log(
            wf,
            finding("Overtime", external_id="EW-17#1"),
            finding("Exit"),
            finding("overtime"),  # like line 2, which has an external id
            finding("Exit", found_on=None),  # found today, unlike line 3
            finding("Exit", found_on=today),  # like line 5: a missing date is today
        )
    assert str(refused.value).splitlines() == [
        "2 bad row(s), nothing was imported:",
        "audit.csv:4: probable duplicate of audit.csv:2 (same contract, title, site and "
        "found_on); add an external_id column, or --allow-duplicates to import it anyway",
        "audit.csv:6: probable duplicate of audit.csv:5 (same contract, title, site and "
        "found_on); add an external_id column, or --allow-duplicates to import it anyway",
    ]
    assert stored(wf) == []


def test_two_imports_of_one_file_at_once_log_it_once(world: World) -> None:
    wf = world.workflow
    rows = [finding(f"Finding {i}") for i in range(300)]
    start = threading.Barrier(2)
    outcomes: list[ImportResult | CapError] = []

    def run() -> None:
        start.wait()
        try:
            outcomes.append(log(wf, *rows))
        except CapError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["ImportResult", "InvalidInput"]
    assert "probable duplicate of NC-2026-0001" in str(
        next(o for o in outcomes if isinstance(o, InvalidInput))
    )
    assert len(stored(wf)) == 300


# -- one finding at a time -------------------------------------------------------------------


def test_adding_one_finding_names_an_unknown_contract_and_a_taken_external_id(
    world: World,
) -> None:
    wf = world.workflow
    with pytest.raises(NotFound) as unknown:
        wf.log_finding(finding("Overtime", contract="NOPE"), actor=ANNA, now=NOW)
    assert str(unknown.value) == "contract: NOPE does not exist (see `cap contract list`)"

    ref = wf.log_finding(finding("Overtime", external_id="EW-17#1"), actor=ANNA, now=NOW)
    with pytest.raises(AlreadyExists) as taken:
        wf.log_finding(finding("Exit", external_id="EW-17#1"), actor=ANNA, now=NOW)
    assert str(taken.value) == (
        f"external-id: EW-17#1 is already finding {ref} of contract RS-2019-ICT-01"
    )
    # By hand, a look-alike without external id is the author's call.
    wf.log_finding(finding("Overtime"), actor=ANNA, now=NOW)
    assert [(r, e) for r, e, _ in stored(wf)] == [(ref, "EW-17#1"), ("NC-2026-0002", None)]
    assert wf.show_finding(ref, now=NOW).external_id == "EW-17#1"


def test_the_database_refuses_a_second_finding_with_one_external_id(world: World) -> None:
    wf = world.workflow
    ref = wf.log_finding(finding("Overtime", external_id="EW-17#1"), actor=ANNA, now=NOW)
    with pytest.raises(Exception, match=r"(?i)unique"), wf.db.write() as session:
        original = session.execute(select(Finding).where(col(Finding.ref) == ref)).scalar_one()
        session.add(Finding(**{**original.model_dump(exclude={"id"}), "ref": "NC-2026-9999"}))
        session.flush()
    with wf.db.read() as session:
        assert session.execute(select(func.count()).select_from(Finding)).scalar() == 1


# -- through the command line ----------------------------------------------------------------


HEADER = "contract,severity,area,source,title,site,found_on,external_id"


def csv(path: Path, *rows: str) -> str:
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return str(path)


def test_cli_messages_and_exit_codes(cap: Cap, tmp_path: Path) -> None:
    with workflow_for(cap.url) as wf:
        make_world(wf)
    row = f"{CONTRACT},major,wages,factory_audit,{{}},Dongguan,2026-01-20,{{}}"
    report = csv(
        tmp_path / "report.csv", row.format("Overtime", "EW-17#1"), row.format("Exit", "EW-17#2")
    )
    assert (
        cap.ok("finding", "import", report) == "imported 2 findings: NC-2026-0001 .. NC-2026-0002\n"
    )
    assert cap.ok("finding", "import", report) == (
        "nothing new to import; skipped 2 already imported (external_id)\n"
    )
    revised = csv(
        tmp_path / "revised.csv",
        row.format("Overtime", "EW-17#1"),
        row.format("Wages", "EW-17#3"),
        row.format("Exit", "EW-17#2"),
    )
    assert json.loads(cap.ok("finding", "import", revised, "--json")) == {
        "imported": 1,
        "refs": ["NC-2026-0003"],
        "skipped": [
            {"line": 2, "external_id": "EW-17#1", "ref": "NC-2026-0001"},
            {"line": 4, "external_id": "EW-17#2", "ref": "NC-2026-0002"},
        ],
    }
    more = csv(
        tmp_path / "more.csv", row.format("Overtime", "EW-17#1"), row.format("Fire", "EW-17#4")
    )
    assert cap.ok("finding", "import", more) == (
        "imported 1 findings: NC-2026-0004 .. NC-2026-0004; "
        "skipped 1 already imported (external_id)\n"
    )

    plain = csv(tmp_path / "plain.csv", row.format("Helmets", ""), row.format("overtime", ""))
    refused = cap.run("finding", "import", plain)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == (
        f"error: {plain}:3: probable duplicate of NC-2026-0001 (same contract, title, site and "
        "found_on); add an external_id column, or --allow-duplicates to import it anyway\n"
    )
    twice = csv(tmp_path / "twice.csv", row.format("A", "EW-18#1"), row.format("B", "EW-18#1"))
    refused = cap.run("finding", "import", twice)
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"error: {twice}: 1 bad row(s), nothing was imported:",
        f"{twice}:3: external_id: EW-18#1 is given twice for contract {CONTRACT} "
        f"(first at {twice}:2)",
    ]
    assert len(cap.json("finding", "list")) == 4
    assert cap.ok("finding", "import", plain, "--allow-duplicates").startswith(
        "imported 2 findings"
    )

    add = ["finding", "add", "--severity", "major", "--area", "wages", "--source", "other"]
    assert cap.fails(*add, "--contract", "NOPE", "--title", "X", code=4) == (
        "error: contract: NOPE does not exist (see `cap contract list`)"
    )
    assert (
        cap.fails(*add, "--contract", CONTRACT, "--title", "X", "--external-id", "EW-17#3", code=5)
        == f"error: external-id: EW-17#3 is already finding NC-2026-0003 of contract {CONTRACT}"
    )
    ref = cap.ok(*add, "--contract", CONTRACT, "--title", "X", "--external-id", "EW-19#1").strip()
    assert cap.show(ref)["external_id"] == "EW-19#1"
    assert re.search(r"^  external id +EW-19#1$", cap.ok("finding", "show", ref), re.M)
    assert "external id" not in cap.ok("finding", "show", "NC-2026-0005")
