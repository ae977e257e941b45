"""``cap finding import``: CSV files as people export them, run through the real entry point.

All rows or none: every bad row is named by the physical line it starts on (the header is
line 1), and after a refused import ``cap finding list --json`` is still empty.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cap.config import Settings
from cap.store.db import Database
from cap.workflow import Workflow
from tests.cli_runner import run_in_process
from tests.conftest import BO, World, empty_pg, make_world

REF = re.compile(r"^NC-(\d{4})-(\d{4})$")
HEADER = "contract,severity,area,source,title,description,site,site_country,found_on"
CONTRACT = "RS-2019-ICT-01"


def today() -> date:
    return datetime.now(ZoneInfo("Europe/Stockholm")).date()


def cap(
    url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return run_in_process(args, {"CAP_DATABASE_URL": url, "CAP_ACTOR": BO, **(env or {})})


def ok(url: str, *args: str, **kwargs: Any) -> str:
    result = cap(url, *args, **kwargs)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result.stdout


def refused(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines of a refused import's message (the first starts with ``error:``)."""
    assert result.returncode != 0, (result.args, result.stdout)
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines, result.args
    assert lines[0].startswith("error: "), result.stderr
    return lines


def findings(url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ok(url, "finding", "list", "--json"))
    return rows


def write(path: Path, lines: Sequence[str], *, newline: str = "\n", bom: bool = False) -> Path:
    data = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return path


def row(title: str, severity: str = "major", contract: str = CONTRACT, **extra: str) -> str:
    fields = {
        "contract": contract,
        "severity": severity,
        "area": "working_hours",
        "source": "factory_audit",
        "title": title,
        "description": "",
        "site": "",
        "site_country": "",
        "found_on": "",
        **extra,
    }
    return ",".join(fields.values())


def add_world(url: str) -> World:
    """A supplier with contract RS-2019-ICT-01, set up in-process (not under test here)."""
    wf = Workflow(db=Database(url), settings=Settings(database_url=url))
    try:
        return make_world(wf)
    finally:
        wf.db.engine.dispose()


@pytest.fixture
def url(sqlite_url: str) -> str:
    assert add_world(sqlite_url).contract == CONTRACT
    return sqlite_url


# -- good files ------------------------------------------------------------------------------


def test_comma_file_and_excel_semicolon_file_with_bom_import(url: str, tmp_path: Path) -> None:
    comma = write(
        tmp_path / "audit.csv",
        [
            HEADER,
            row("Forced overtime", found_on="2026-01-20", site="Dongguan", site_country="cn"),
            row("Unpaid overtime", severity="critical", description='"Two\nlines, with comma"'),
            row("Blocked fire exit", severity="minor"),
        ],
    )
    # What Excel writes in Sweden ("CSV UTF-8"): a BOM, semicolons, CRLF, Swedish letters.
    semicolon = write(
        tmp_path / "revision.csv",
        [
            "contract;severity;area;source;title;description;site;site_country",
            f"{CONTRACT};major;wages;desktop_audit;Löner under minimilön i Växjö;"
            '"Rapport från Åsa;\r\nsida två";Fabrik Ödeshög;SE',
            f"{CONTRACT};minor;health_and_safety;other;Brandövning saknas;;;",
        ],
        newline="\r\n",
        bom=True,
    )
    result = json.loads(ok(url, "finding", "import", str(comma), "--json"))
    assert result["imported"] == 3
    assert all(REF.match(r) for r in result["refs"])
    out = ok(url, "finding", "import", str(semicolon))
    assert out.startswith("imported 2 findings: ")

    rows = findings(url)
    assert [r["ref"] for r in rows[:3]] == result["refs"]
    assert [(r["title"], r["severity"], r["area"], r["state"]) for r in rows] == [
        ("Forced overtime", "major", "working_hours", "open"),
        ("Unpaid overtime", "critical", "working_hours", "open"),
        ("Blocked fire exit", "minor", "working_hours", "open"),
        ("Löner under minimilön i Växjö", "major", "wages", "open"),
        ("Brandövning saknas", "minor", "health_and_safety", "open"),
    ]
    refs = [int(REF.match(r["ref"]).group(2)) for r in rows]  # type: ignore[union-attr]
    assert refs == list(range(refs[0], refs[0] + 5))
    assert f"{rows[3]['ref']} .. {rows[4]['ref']}" in out

    shown = json.loads(ok(url, "finding", "show", rows[3]["ref"], "--json"))
    assert shown["description"] == "Rapport från Åsa;\nsida två"
    assert (shown["site"], shown["site_country"]) == ("Fabrik Ödeshög", "SE")
    assert shown["events"][0]["actor"] == BO


# -- bad rows --------------------------------------------------------------------------------


def test_every_bad_row_is_named_by_its_line_and_nothing_is_imported(
    url: str, tmp_path: Path
) -> None:
    future = (today() + timedelta(days=30)).isoformat()
    bad = write(
        tmp_path / "bad.csv",
        [
            HEADER,  # 1
            row("Good row"),  # 2
            row("Unknown severity", severity="catastrophic"),  # 3
            row("Spans two lines", description='"first line\nsecond line"'),  # 4-5
            row(""),  # 6: empty title
            "",  # 7: a blank line
            row("Unknown contract", contract="RS-0000-NOPE"),  # 8
            row("Malformed date", found_on="2026-13-45"),  # 9
            row("Found in the future", found_on=future),  # 10
            row("Bell\x07 in the title"),  # 11
            row("Too many values") + ",surplus",  # 12
            row("Another good row"),  # 13
            "RS-2019-ICT-01,major,wages",  # 14: too few values
            row("Last good row"),  # 15
        ],
    )
    # Only the last of 500 rows is bad (in an Excel file: BOM, semicolons, CRLF): still
    # nothing is imported.
    rows = [HEADER, *(row(f"Finding {i}") for i in range(499)), row("Bad", severity="huge")]
    last_bad = write(
        tmp_path / "last.csv", [r.replace(",", ";") for r in rows], newline="\r\n", bom=True
    )
    result, result_last = (
        cap(url, "finding", "import", str(bad)),
        cap(url, "finding", "import", str(last_bad)),
    )
    lines = refused(result)
    assert lines[0] == f"error: {bad}: 8 bad row(s), nothing was imported:"
    expected = {
        3: ["severity", "'catastrophic'", "minor"],
        6: ["title", "must not be empty"],
        8: ["contract", "RS-0000-NOPE", "does not exist"],
        9: ["found_on", "date"],
        10: ["found_on", future, "in the future"],
        11: ["title", "control characters"],
        12: ["more values than columns"],
        14: ["fewer values than columns"],
    }
    reported = {
        int(m.group(1)): line for line in lines[1:] if (m := re.match(rf"{bad}:(\d+): ", line))
    }
    assert len(reported) == len(lines) - 1, lines
    assert sorted(reported) == sorted(expected), lines
    for number, words in expected.items():
        for word in words:
            assert word in reported[number], (number, reported[number])

    lines = refused(result_last)
    assert lines[0] == f"error: {last_bad}: 1 bad row(s), nothing was imported:"
    assert lines[1].startswith(f"{last_bad}:501: severity: 'huge' is not one of")
    assert len(lines) == 2
    assert findings(url) == []


def test_file_level_problems_give_a_clear_message(url: str, tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes((HEADER + "\n" + row("Övertid i Växjö") + "\n").encode("latin-1"))
    # (file, words its one-line message must contain); CAP_IMPORT_MAX_ROWS is 3 for all.
    cases: list[tuple[Path, list[str]]] = [
        (
            write(tmp_path / "columns.csv", ["contract,severity,area,title,priority", "x,y,z,t,p"]),
            ["columns.csv:1", "missing column(s) source", "unknown column(s) 'priority'"],
        ),
        (write(tmp_path / "empty.csv", [""]), ["empty.csv", "empty"]),
        (write(tmp_path / "header.csv", [HEADER, ""]), ["header.csv", "no rows"]),
        (tmp_path / "no-such-file.csv", ["no-such-file.csv", "cannot read"]),
        (write(tmp_path / "quote.csv", [HEADER, row("Good"), row('"Over"time')]), ["quote.csv:3"]),
        (
            write(tmp_path / "many.csv", [HEADER, *(row(f"F{i}") for i in range(4))]),
            ["more than 3 rows", "CAP_IMPORT_MAX_ROWS"],
        ),
        (latin1, ["latin1.csv:2", "not UTF-8"]),
    ]
    env = {"CAP_IMPORT_MAX_ROWS": "3"}
    results = [cap(url, "finding", "import", str(path), env=env) for path, _ in cases]
    for (path, words), result in zip(cases, results, strict=True):
        lines = refused(result)
        assert len(lines) == 1, (path, lines)
        for word in words:
            assert word in lines[0], (path, lines[0])
    assert findings(url) == []


# -- volume and PostgreSQL -------------------------------------------------------------------


def test_five_thousand_rows_import_in_one_go(url: str, tmp_path: Path) -> None:
    big = write(
        tmp_path / "big.csv",
        [HEADER, *(row(f"Finding {i}", description=f"Row {i}") for i in range(5000))],
    )
    started = time.monotonic()
    result = json.loads(ok(url, "finding", "import", str(big), "--json"))
    elapsed = time.monotonic() - started
    assert result["imported"] == 5000
    numbers = [int(REF.match(r).group(2)) for r in result["refs"]]  # type: ignore[union-attr]
    assert numbers == list(range(numbers[0], numbers[0] + 5000))
    assert len({REF.match(r).group(1) for r in result["refs"]}) == 1  # type: ignore[union-attr]
    assert elapsed < 10, f"5,000 rows took {elapsed:.1f} s"


def test_import_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    empty_pg(pg_url)
    add_world(pg_url)
    data = write(
        tmp_path / "pg.csv",
        [HEADER, row("Övertid", found_on="2026-01-20"), row("Lön", severity="critical")],
    )
    result = json.loads(ok(pg_url, "finding", "import", str(data), "--json"))
    assert result["imported"] == 2
    rows = findings(pg_url)
    assert [(r["ref"], r["title"], r["severity"]) for r in rows] == [
        (result["refs"][0], "Övertid", "major"),
        (result["refs"][1], "Lön", "critical"),
    ]
