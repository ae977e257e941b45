"""Saving an evidence file never overwrites an existing file unless asked to."""

from __future__ import annotations

from pathlib import Path

from cap.workflow import EvidenceFile
from tests.cli_runner import Cap
from tests.conftest import ANNA, NOW, World


def _attached(world: World) -> tuple[str, str]:
    ref = world.finding()
    [added] = world.workflow.add_evidence(
        ref, [EvidenceFile("rota.pdf", b"%PDF-1.7 new rota")], actor=ANNA, now=NOW
    )
    return ref, str(added.id)


def test_an_existing_file_is_kept_without_force(cap: Cap, world: World, tmp_path: Path) -> None:
    ref, evidence = _attached(world)
    out = tmp_path / "rota.pdf"
    out.write_bytes(b"my own notes")
    line = cap.fails("finding", "evidence", ref, evidence, "--out", str(out), code=2)
    assert line == f"error: out: {out} exists; add --force to overwrite it"
    assert out.read_bytes() == b"my own notes"


def test_force_overwrites_and_a_new_file_needs_no_force(
    cap: Cap, world: World, tmp_path: Path
) -> None:
    ref, evidence = _attached(world)
    fresh = tmp_path / "fresh.pdf"
    assert cap.ok("finding", "evidence", ref, evidence, "--out", str(fresh)).startswith(
        "wrote rota.pdf"
    )
    assert fresh.read_bytes() == b"%PDF-1.7 new rota"
    fresh.write_bytes(b"changed")
    cap.ok("finding", "evidence", ref, evidence, "--out", str(fresh), "--force")
    assert fresh.read_bytes() == b"%PDF-1.7 new rota"
