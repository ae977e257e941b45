"""How long a `cap` command takes to start, beside the imports it cannot avoid.

A person waits for every command: `cap --help` and `cap --version` should cost little more
than starting Python with Typer, and `cap finding list` on a region's few hundred findings
little more than importing SQLModel (which any command that reads the database needs).

Targets, as ratios of medians measured in this run (machines differ; ratios less so):
- `cap --help`, `cap --version`: at most 3x `python -c "import typer"`;
- `cap finding list` (300 findings, SQLite): at most 1.5x `python -c "import sqlmodel"`, the
  issue's target, printed beside a second peer: the imports no command that reads findings
  can avoid (Typer, SQLModel, pydantic-settings and cap's table definitions). That floor alone
  is about 1.4x `import sqlmodel`, so the first target cannot be met on these libraries; the
  second (at most 1.5x the floor) says what cap itself adds.

Run: python bench/cli.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from common import format_table, progress, run_report, verdict

FINDINGS = 300


def _seed(url: str) -> None:
    from cap.config import Settings
    from cap.domain.inputs import ContractInput, FindingInput, SupplierInput
    from cap.domain.model import Area, Severity, Source
    from cap.store.db import Database
    from cap.workflow import Workflow

    settings = Settings(database_url=url)
    db = Database(url)
    db.upgrade()
    workflow = Workflow(db=db, settings=settings)
    now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    workflow.add_supplier(
        SupplierInput(name="Nordic IT Supply AB", org_number="556000-1234", country="SE",
                      email="li.wei@nordic-supply.example"),
        now=now,
    )  # fmt: skip
    workflow.add_contract(
        ContractInput(reference="RS-2019-ICT-01", supplier="556000-1234",
                      category="Personal computers", manager="anna.manager@region.example"),
        now=now,
    )  # fmt: skip
    rows = [
        FindingInput(contract="RS-2019-ICT-01", severity=Severity.MAJOR, area=Area.WAGES,
                     source=Source.FACTORY_AUDIT, title=f"Finding {i}", found_on=date(2026, 10, 1),
                     external_id=f"A-{i}")
        for i in range(FINDINGS)
    ]  # fmt: skip
    workflow.log_findings(rows, actor="anna.manager@region.example", now=now)
    db.engine.dispose()


def _median_seconds(command: list[str], env: dict[str, str], runs: int, cwd: Path) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, check=False)
        timings.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.decode()[-300:]}")
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (median)")
    args = parser.parse_args()
    cap = shutil.which("cap")
    if cap is None:
        print("the `cap` command is not on PATH: pip install -e . first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        where = Path(folder)
        url = f"sqlite:///{where / 'cap.db'}"
        progress(f"seeding {FINDINGS} findings")
        _seed(url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAP_")}
        env["CAP_DATABASE_URL"] = url
        python = sys.executable
        commands = {
            "import typer": [python, "-c", "import typer"],
            "import sqlmodel": [python, "-c", "import sqlmodel"],
            "unavoidable imports": [
                python,
                "-c",
                "import typer, sqlmodel, pydantic_settings, cap.store.models",
            ],
            "cap --help": [cap, "--help"],
            "cap --version": [cap, "--version"],
            "cap finding list": [cap, "finding", "list"],
        }
        # Interleaved rounds: a burst of load elsewhere on the machine hits every command alike.
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for round_ in range(args.runs):
            progress(f"round {round_ + 1} of {args.runs}")
            for name, command in commands.items():
                samples[name].append(_median_seconds(command, env, 1, where))
    median = {name: statistics.median(values) for name, values in samples.items()}
    checks = [
        ("cap --help", "import typer", 3.0),
        ("cap --version", "import typer", 3.0),
        ("cap finding list", "import sqlmodel", 1.5),
        ("cap finding list", "unavoidable imports", 1.5),
        ("unavoidable imports", "import sqlmodel", None),  # the floor, for the record
    ]
    rows = []
    for figure, peer, limit in checks:
        ratio = median[figure] / median[peer]
        rows.append(
            (
                figure,
                f"{median[figure] * 1000:.0f} ms",
                peer,
                f"{median[peer] * 1000:.0f} ms",
                f"{ratio:.2f}x",
                f"<= {limit:g}x" if limit is not None else "-",
                verdict(ratio <= limit) if limit is not None else "floor",
            )
        )
    print(f"median of {args.runs} runs each, {FINDINGS} findings on SQLite")
    print(
        format_table(
            ("command", "time", "peer", "peer time", "ratio", "target", "verdict"),
            rows,
            numeric_columns={1, 3, 4},
        )
    )
    return 0


if __name__ == "__main__":
    run_report(main)
