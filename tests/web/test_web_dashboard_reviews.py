"""What waits for review on the dashboard, by role: a contract manager's plans and fixes (on
their own contracts first, marked "yours"), a sustainability manager's sanction reviews and the
terminations someone else proposed; viewers and admins see the counts (both databases)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from cap.domain.lifecycle import Action
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.web.conftest import ADA, SARA, SVEN
from tests.web.desk_client import Desk
from tests.web.test_web_dashboard import act, another_contract, refs_in, section

OTHER_MANAGER = "olle.manager@region.example"
YOURS = '<span class="badge">yours</span>'


def review_world(world: World) -> dict[str, str]:
    """Findings waiting for each kind of review, by name."""
    theirs = another_contract(world, "RS-2020-ICT-02", manager=OTHER_MANAGER)
    # Anna manages this one too, under her address in capitals: the same person.
    shouting = another_contract(world, "RS-2021-ICT-03", manager=ANNA.upper())
    t = NOW

    def plan_review(on: World) -> str:
        ref = on.finding()
        act(on, ref, Action.NOTIFY, t)
        act(on, ref, Action.SUBMIT_PLAN, t + timedelta(hours=1), actor=LI)
        return ref

    refs = {
        "theirs_plan": plan_review(theirs),  # logged first: yours come first all the same
        "my_plan": plan_review(world),
        "my_other_plan": plan_review(shouting),
        "theirs_fix": plan_review(theirs),
        "sanction": world.finding(),
        "termination": world.finding(),
    }
    act(theirs, refs["theirs_fix"], Action.ACCEPT_PLAN, t + timedelta(hours=2), actor=OTHER_MANAGER)
    act(theirs, refs["theirs_fix"], Action.REPORT_REMEDIATION, t + timedelta(hours=3), actor=LI)
    for name in ("sanction", "termination"):
        act(world, refs[name], Action.NOTIFY, t)
        act(world, refs[name], Action.ESCALATE, t + timedelta(hours=1), actor=SARA,
            reason="Child labour confirmed")  # fmt: skip
    act(world, refs["termination"], Action.TERMINATE, t + timedelta(hours=2), actor=SARA,
        reason="Clause 7")  # fmt: skip
    return refs


def heading3(page: str, title: str) -> str:
    """The part of ``page`` under the ``<h3>`` ``title``, up to the next heading."""
    start = page.index(f"<h3>{title}</h3>")
    ends = [i for i in (page.find("<h3>", start + 1), page.find("<h2>", start + 1)) if i != -1]
    return page[start : min(ends, default=len(page))]


def test_a_contract_manager_sees_plans_and_fixes_theirs_first(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    refs = review_world(desk_world)
    page = signed_in(ANNA).get("/desk").text
    waiting = section(page, "Waiting for my review")
    assert "Sanction reviews" not in waiting and "Terminations" not in waiting

    plans = heading3(waiting, "Plans to review")
    assert "3 in all, 2 on contracts you manage." in plans
    assert refs_in(plans) == [refs["my_plan"], refs["my_other_plan"], refs["theirs_plan"]]
    assert plans.count(YOURS) == 2
    assert f"{refs['theirs_plan']}</a>{YOURS}" not in plans
    assert '<a href="/findings?state=plan_review">All findings in plan review</a>' in plans

    fixes = heading3(waiting, "Fixes to verify")
    assert "1 in all, 0 on contracts you manage." in fixes
    assert refs_in(fixes) == [refs["theirs_fix"]] and YOURS not in fixes


def test_a_sustainability_manager_sees_sanctions_and_others_terminations(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    refs = review_world(desk_world)

    sara = section(signed_in(SARA).get("/desk").text, "Waiting for my review")
    assert "Plans to review" not in sara and "Fixes to verify" not in sara
    sanctions = heading3(sara, "Sanction reviews awaiting a decision")
    assert "Waiting: 1." in sanctions and refs_in(sanctions) == [refs["sanction"]]
    # Sara proposed the termination: a second person approves it, never she.
    assert "Nothing is waiting." in heading3(sara, "Terminations awaiting your approval")

    sven = section(signed_in(SVEN).get("/desk").text, "Waiting for my review")
    terminations = heading3(sven, "Terminations awaiting your approval")
    assert refs_in(terminations) == [refs["termination"]]
    assert f"<td>{SARA}</td>" in terminations  # proposed by


def test_viewers_and_admins_see_the_counts_for_everyone(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    review_world(desk_world)
    for email in (BO, ADA):
        page = signed_in(email).get("/desk").text
        assert "Waiting for my review" not in page
        waiting = section(page, "Waiting for review")
        assert "These are the counts for everyone." in waiting
        for state, count, title in (
            ("plan_review", 3, "Plans to review"),
            ("verifying", 1, "Fixes to verify"),
            ("sanction_review", 1, "Sanction reviews awaiting a decision"),
            ("sanction_review", 1, "Terminations awaiting approval"),
        ):
            assert (f'<a href="/findings?state={state}"><span class="figure">{count}</span> '
                    f"{title}</a>") in waiting, title  # fmt: skip
        assert refs_in(waiting) == []
