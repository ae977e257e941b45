"""Evidence is kept under the file's own name, whatever path a browser or script sends."""

from __future__ import annotations

import pytest

from cap.errors import InvalidInput
from cap.workflow import EvidenceFile
from tests.conftest import ANNA, NOW, World


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("C:\\Users\\li\\Desktop\\payroll.pdf", "payroll.pdf"),
        ("../../etc/payroll.pdf", "payroll.pdf"),
        ("rota 2026.xlsx", "rota 2026.xlsx"),
    ],
)
def test_a_path_is_kept_as_its_last_part(world: World, sent: str, kept: str) -> None:
    ref = world.finding()
    [added] = world.workflow.add_evidence(ref, [EvidenceFile(sent, b"x")], actor=ANNA, now=NOW)
    assert added.file_name == kept
    assert world.workflow.show_finding(ref, now=NOW).evidence[0].file_name == kept


@pytest.mark.parametrize("sent", ["", "C:\\", "../", "bad\nname.pdf", "x" * 256])
def test_a_name_that_cannot_be_kept_is_refused(world: World, sent: str) -> None:
    ref = world.finding()
    with pytest.raises(InvalidInput, match="not a usable file name"):
        world.workflow.add_evidence(ref, [EvidenceFile(sent, b"x")], actor=ANNA, now=NOW)
    assert world.workflow.show_finding(ref, now=NOW).evidence == ()
