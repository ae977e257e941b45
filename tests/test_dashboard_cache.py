"""The dashboard's figures are kept per process, by what says whether the findings may have
changed: a change made by another process (another Workflow, its own connections) shows at
the next request, on both databases; on PostgreSQL also a change whose event id is older than
the newest one seen (its transaction was still running); the next local day computes them
again; what the kept figures do not hold (names, suppliers, who manages a contract) is read
on every request. The cache itself: bounded, aged, one computation for many requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from cap.domain.inputs import ContactInput, ContractUpdate, FindingInput, SupplierUpdate
from cap.domain.lifecycle import Action, ActionRequest
from cap.domain.model import Area, Severity, Source, StaffRole, State
from cap.store.db import Database
from cap.workflow import Workflow
from cap.workflow.dashboard import (
    CACHE_SIZE,
    RECENT_EVENTS,
    Dashboard,
    FigureCache,
    Light,
    Revision,
)
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.web.test_web_dashboard import act, another_supplier, counted_statements

#: Notified at NOW, a finding's plan is due on 7 April 2026; 10 April: 3 days overdue.
LATE = datetime(2026, 4, 10, 8, tzinfo=UTC)
OTHER_MANAGER = "olle.manager@region.example"


@pytest.fixture
def elsewhere(world: World) -> Iterator[Workflow]:
    """Another process's Workflow on the same database: its own engine, its own cache."""
    other = Workflow(Database(world.workflow.settings.database_url), world.workflow.settings)
    yield other
    other.db.engine.dispose()


def board(workflow: Workflow, now: datetime = LATE, email: str = BO,
          role: StaffRole = StaffRole.VIEWER) -> Dashboard:  # fmt: skip
    return workflow.dashboard(now=now, user_email=email, role=role)


def states(dashboard: Dashboard) -> dict[State, int]:
    return {s.state: s.count for s in dashboard.states if s.count}


def lights(dashboard: Dashboard) -> dict[Light, int]:
    return {c.light: c.count for c in dashboard.lights}


def test_a_change_by_another_process_shows_at_the_next_request(
    world: World, elsewhere: Workflow
) -> None:
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    before = board(world.workflow)
    assert before.overdue == 1 and lights(before)[Light.RED] == 1
    assert board(world.workflow) == before  # kept: read again, the same

    elsewhere.act(ref, act_request(Action.WITHDRAW, reason="logged twice"), now=NOW)
    after = board(world.workflow)
    assert states(after) == {State.WITHDRAWN: 1}
    assert after.overdue == 0 and after.overdue_items == ()
    assert lights(after) == {Light.RED: 0, Light.AMBER: 0, Light.GREEN: 0, Light.GREY: 1}

    second = elsewhere.log_finding(finding_input("Blocked fire exits"), actor=ANNA, now=NOW)
    again = board(world.workflow)
    assert states(again) == {State.OPEN: 1, State.WITHDRAWN: 1}
    assert [f.ref for f in again.oldest] == [second]


def test_kept_figures_are_the_figures_computed_afresh(world: World) -> None:
    refs = [world.finding(title=f"Finding {n}") for n in range(4)]
    for ref in refs[:3]:
        act(world, ref, Action.NOTIFY, NOW + timedelta(days=refs.index(ref) * 20))
    for role, email in ((StaffRole.VIEWER, BO), (StaffRole.CONTRACT_MANAGER, ANNA)):
        computed = board(world.workflow, email=email, role=role)  # nothing kept yet
        with counted_statements(world.workflow) as seen:
            kept = board(world.workflow, email=email, role=role)
        assert kept == computed
        assert board(Workflow(world.workflow.db, world.workflow.settings), email=email,
                     role=role) == kept  # fmt: skip
        if world.workflow.db.dialect == "sqlite":
            # Not counted again. On PostgreSQL a transaction in flight anywhere on the server
            # (another test process's) makes the figures be computed again, by design.
            assert not any("GROUP BY" in statement for statement in seen)
    assert computed.overdue == 1 and computed.due_soon == 1 and len(computed.oldest) == 4


def test_the_next_local_day_computes_them_again(world: World) -> None:
    act(world, world.finding(), Action.NOTIFY, NOW)  # plan due 7 April, Stockholm summer time
    end_of_day = datetime(2026, 4, 7, 22, tzinfo=UTC)
    assert board(world.workflow, now=end_of_day - timedelta(seconds=1)).overdue == 0
    assert board(world.workflow, now=end_of_day).overdue == 1  # nothing written in between


def test_names_suppliers_and_managers_are_read_on_every_request(world: World) -> None:
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    act(world, ref, Action.SUBMIT_PLAN, NOW + timedelta(hours=1), actor=LI)
    first = board(world.workflow, email=ANNA, role=StaffRole.CONTRACT_MANAGER)
    assert first.flagged[0].name == "Nordic IT Supply AB"
    assert first.queues[0].yours == 1 and first.queues[0].items[0].yours

    # None of these writes an event: the figures kept stay, what is read fresh changes.
    rename_supplier(world, "Nordisk IT AB")
    world.workflow.update_contract(
        world.contract,
        ContractUpdate(category="Personal computers", manager=OTHER_MANAGER),
        now=NOW,
    )
    another_supplier(world, "Tyst Import AB", "556100-0005")
    with counted_statements(world.workflow) as seen:
        second = board(world.workflow, email=ANNA, role=StaffRole.CONTRACT_MANAGER)
    if world.workflow.db.dialect == "sqlite":  # PostgreSQL: see the test above
        assert not any("GROUP BY" in statement for statement in seen)  # the figures kept
    assert second.flagged[0].name == "Nordisk IT AB"
    assert second.queues[0].yours == 0 and not second.queues[0].items[0].yours
    assert lights(first)[Light.GREY] == 0 and lights(second)[Light.GREY] == 1  # the new one


def test_a_change_committed_after_a_newer_one_shows_on_postgresql(
    world: World, elsewhere: Workflow
) -> None:
    """Another process takes an event id, then waits before committing while more than
    RECENT_EVENTS newer events commit: the newest id is the same before and after it
    commits, the transactions running are not."""
    if world.workflow.db.dialect != "postgresql":
        pytest.skip("SQLite writes one transaction at a time: ids commit in order")
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    holding, release = threading.Event(), threading.Event()

    def hold(connection: Any) -> None:
        holding.set()
        assert release.wait(30)

    event.listen(elsewhere.db.engine, "commit", hold)
    withdraw = threading.Thread(
        target=elsewhere.act, args=(ref, act_request(Action.WITHDRAW, reason="logged twice")),
        kwargs={"now": NOW, "view": False},
    )  # fmt: skip
    withdraw.start()
    try:
        assert holding.wait(30)
        rows = [finding_input(f"Finding {n}") for n in range(RECENT_EVENTS + 6)]
        world.workflow.log_findings(rows, actor=ANNA, now=NOW, allow_duplicates=True)
        assert states(board(world.workflow)) == {State.AWAITING_PLAN: 1, State.OPEN: 70}
    finally:
        release.set()
        withdraw.join(30)
        event.remove(elsewhere.db.engine, "commit", hold)
    assert states(board(world.workflow)) == {State.WITHDRAWN: 1, State.OPEN: 70}


def act_request(action: Action, **kw: Any) -> ActionRequest:
    return ActionRequest(action=action, actor=ANNA, at=NOW, **kw)


def finding_input(title: str) -> FindingInput:
    return FindingInput(
        contract="RS-2019-ICT-01", severity=Severity.MAJOR, area=Area.HEALTH_AND_SAFETY,
        source=Source.MONITORING_REPORT, title=title, found_on=date(2026, 1, 20),
    )  # fmt: skip


def rename_supplier(world: World, name: str) -> None:
    contacts = world.workflow.show_supplier(world.org_number).supplier.contacts
    world.workflow.update_supplier(
        world.org_number,
        SupplierUpdate(
            name=name,
            country="SE",
            contacts=[ContactInput(email=c.email, name=c.name, language=c.language)
                      for c in contacts],
        ),
    )  # fmt: skip


# -- the cache itself --------------------------------------------------------------------------


def revision(last_event: int, running: frozenset[int] | None = None,
             today: date = date(2026, 4, 10)) -> Revision:  # fmt: skip
    return Revision(today, last_event, min(last_event, RECENT_EVENTS), running)


class Counting:
    """A computation of figures that counts how often it ran (any object stands for them)."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.calls = 0
        self.seconds = seconds
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        with self._lock:
            self.calls += 1
            n = self.calls
        time.sleep(self.seconds)
        return ("figures", n)


def test_one_computation_serves_requests_that_arrive_together() -> None:
    cache, compute = FigureCache[Any](), Counting(seconds=0.2)
    start = threading.Barrier(8)
    got: list[Any] = []

    def request() -> None:
        start.wait()
        got.append(cache.figures(revision(5), compute))

    threads = [threading.Thread(target=request) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert compute.calls == 1 and got == [("figures", 1)] * 8


def test_the_cache_is_bounded_and_keeps_the_newest() -> None:
    cache, compute = FigureCache[Any](), Counting()
    for n in range(CACHE_SIZE + 5):
        cache.figures(revision(n), compute)
    assert len(cache) == CACHE_SIZE
    newest = revision(CACHE_SIZE + 4)
    assert cache.figures(newest, compute) == ("figures", CACHE_SIZE + 5)  # kept
    assert cache.figures(revision(0), compute) == ("figures", CACHE_SIZE + 6)  # gone
    assert cache.figures(revision(0, today=date(2026, 4, 11)), compute)[1] == CACHE_SIZE + 7


def test_figures_are_computed_again_once_old() -> None:
    now = [0.0]
    cache = FigureCache[Any](max_age=timedelta(seconds=60), clock=lambda: now[0])
    compute = Counting()
    cache.figures(revision(1), compute)
    now[0] = 60.0
    assert cache.figures(revision(1), compute) == ("figures", 1)
    now[0] = 60.5
    assert cache.figures(revision(1), compute) == ("figures", 2)


def test_figures_hold_while_the_transactions_running_then_still_run() -> None:
    cache, compute = FigureCache[Any](), Counting()
    cache.figures(revision(9, running=frozenset({100, 101})), compute)
    # 102 began since: it could only write ids above 9.
    assert cache.figures(revision(9, running=frozenset({100, 101, 102})), compute)[1] == 1
    # 100 ended: it may have written an event below 9.
    assert cache.figures(revision(9, running=frozenset({101, 102})), compute)[1] == 2
    assert cache.figures(revision(9, running=frozenset({101, 102})), compute)[1] == 2
