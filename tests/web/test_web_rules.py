"""The rules page: the rules in force in words (a changed rules file changes the page), and the
lifecycle diagram with its table (both databases)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cap.config import Settings, default_rules_path
from cap.workflow import Workflow
from tests.conftest import BO
from tests.web.conftest import PASSWORD
from tests.web.desk_client import Desk
from tests.web.test_web_headers import INLINE
from tests.web.test_web_rules_diagram import SVG, drawn, expected

SignedIn = Callable[[str], Desk]


def cells(page: str, row_id: str) -> list[str]:
    """The text of each cell of the row ``row_id``."""
    row = page.split(f'<tr id="{row_id}">')[1].split("</tr>")[0]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>",
                                                                  row, re.S)]  # fmt: skip


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    """The shipped rules with the plan due in 2 months, and 10 days for child labour's fix."""
    changed = (
        default_rules_path().read_text().replace('period = "1 month"', 'period = "2 months"', 1)
    )
    changed += (
        '\n[[deadline]]\nid = "D-remediation-child-labour"\nkind = "remediation"\n'
        'area = ["child_labour"]\nperiod = "10 days"\n'
    )
    path = tmp_path / "rules.toml"
    path.write_text(changed)
    return path


@pytest.fixture
def desk_on(web_settings: Settings, everyone: Workflow) -> Iterator[Callable[..., Desk]]:
    """``desk_on(rules=path, language=...)``: a viewer's browser on an application started
    with those rules."""
    opened: list[Desk] = []

    def open_with(rules: Path | None = None, language: str = "en") -> Desk:
        desk = Desk(web_settings.model_copy(update={"rules": rules}), accept_language=language)
        opened.append(desk)
        assert desk.sign_in(BO, PASSWORD).status_code == 303
        return desk

    yield open_with
    for desk in opened:
        desk.close()


def test_the_page_shows_the_rules_in_force(signed_in: SignedIn) -> None:
    page = signed_in(BO).get("/rules")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Rules</h1>" in text
    assert "<dt>Time zone</dt><dd>Europe/Stockholm</dd>" in text
    assert "the public holidays of Sweden" in text
    assert cells(text, "limit-plan") == [
        "Corrective action plan", "the supplier", "the supplier is notified",
        "1 month", "1 month", "7 days",
    ]  # fmt: skip
    assert cells(text, "limit-remediation")[3:] == ["6 months", "6 months", "3 months"]
    assert cells(text, "limit-plan_revision")[3:] == ["14 days"] * 3
    assert cells(text, "limit-verification")[1] == "the buyer"
    # The ladders: when, for whom, what, to whom, how far it escalates.
    assert re.search(r"<th scope=\"row\">7 days before</th>\s*<td>severity: minor, major</td>"
                     r"\s*<td>reminder: plan due</td>\s*<td>supplier</td>", text)  # fmt: skip
    assert re.search(r"<th scope=\"row\">30 days after</th>\s*<td>severity: minor, major</td>"
                     r"\s*<td>sanction review opened</td>\s*<td>decision makers</td>\s*"
                     r"<td>level 3: the finding goes to sanction review</td>", text)  # fmt: skip
    assert '<th scope="row">1 day after</th>' in text and "<code>E-plan-1d</code>" in text
    assert '<h3 id="ladder-verification">Verification deadline</h3>' in text
    # The notices, the extensions.
    assert re.search(r"<th scope=\"row\">Notify the supplier</th>\s*<td>every finding</td>\s*"
                     r"<td>corrective action plan requested</td>", text)  # fmt: skip
    assert "<dt>Extensions per finding</dt><dd>at most 3</dd>" in text
    # A contract's reporting obligation: its period whatever the severity, and its ladder.
    assert cells(text, "limit-report") == [
        "Supplier report (a contract&#39;s reporting obligation)", "the supplier",
        "the contract starts", "6 months", "6 months", "6 months",
    ]  # fmt: skip
    assert '<h3 id="ladder-report">Supplier report deadline</h3>' in text
    assert re.search(r"<th scope=\"row\">30 days after</th>\s*<td>every supplier report</td>"
                     r"\s*<td>missing report escalated</td>\s*<td>decision makers, "
                     r"sustainability manager</td>\s*"
                     r"<td>level 3: the report goes to the decision makers</td>", text)  # fmt: skip
    # CAP_DECISION_MAKERS is not set in the tests: its emails would reach nobody.
    assert "decision makers: CAP_<wbr>DECISION_<wbr>MAKERS is not set, so rules" in text
    assert INLINE.search(text) is None


def test_a_changed_rules_file_changes_the_page(
    desk_on: Callable[..., Desk], rules_file: Path
) -> None:
    before = desk_on().get("/rules").text
    after = desk_on(rules=rules_file).get("/rules").text
    assert cells(before, "limit-plan")[3:] == ["1 month", "1 month", "7 days"]
    assert cells(after, "limit-plan")[3:] == ["2 months", "2 months", "7 days"]
    assert cells(after, "limit-remediation")[3:] == [
        "6 months (10 days for child labour)", "6 months (10 days for child labour)",
        "3 months (10 days for child labour)",
    ]  # fmt: skip
    assert "(10 days for" not in before


def test_the_diagram_draws_every_state_and_transition(signed_in: SignedIn) -> None:
    page = signed_in(BO).get("/rules").text
    svg = page[page.index("<svg") : page.index("</svg>") + len("</svg>")]
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert "".join(root.find(f"{SVG}title").itertext()) == "The lifecycle of a finding"  # type: ignore[union-attr]
    assert drawn(svg) == expected()
    labels = {"".join(t.itertext()) for t in root.iter(f"{SVG}text")}
    assert {"open", "awaiting plan", "sanction review", "terminated", "withdrawn"} <= labels
    # The table beside it: one row per transition.
    table = page.split('<table id="transitions">')[1].split("</table>")[0]
    assert table.count("<tr><td>") == len(expected())
    assert ("<tr><td>sanction review</td><td>Decide a warning</td>"
            "<td>verifying, if escalated from there</td></tr>") in table  # fmt: skip
    assert ("<tr><td>awaiting plan</td><td>Extend a deadline</td>"
            "<td>awaiting plan (stays)</td></tr>") in table  # fmt: skip
    assert '<caption id="transitions-caption">Every transition of the lifecycle' in table


def test_the_rules_in_swedish(desk_on: Callable[..., Desk]) -> None:
    page = desk_on(language="sv").get("/rules").text
    assert "<h1>Regler</h1>" in page
    assert cells(page, "limit-plan")[3:] == ["1 månad", "1 månad", "7 dagar"]
    assert "7 dagar före" in page and "1 dag efter" in page
    assert "helgdagar i Sverige" in page
    assert ">sanktionsprövning</tspan>" in page
    assert "Avvikelsens livscykel" in page


def test_anonymous_visitors_sign_in_first(web_settings: Settings, everyone: Workflow) -> None:
    desk = Desk(web_settings)
    try:
        assert desk.get("/rules").headers["location"] == "/login?next=%2Frules"
    finally:
        desk.close()
