"""Moments in the future on the command line, run as the real entry point.

A command that records what it does at a moment (``sweep``, ``mail digest``, an action's
``--at``, a finding's found-on date) refuses a moment beyond now plus the clock skew, with one
line and nothing written; one that only reports (``sweep --dry-run``, ``rules simulate``) may
look ahead, and so may a contract's dates. A database made for simulation (``cap demo``)
carries its own clock: every command reads time from it, and may look ahead.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cap.clock import SimulatedClock
from cap.domain.lifecycle import CLOCK_SKEW, Action, ActionRequest
from cap.store.db import Database
from cap.store.models import Event, OutboxMessage
from cap.store.simulation import record_simulation, simulation_of
from tests.cli_runner import CAP, Cap, user_error
from tests.conftest import ANNA, World

SWEEP_AHEAD = "a sweep records what it does at that moment, so only --dry-run may look ahead"
FINDING = ["--severity", "major", "--area", "working_hours", "--source", "factory_audit",
           "--title", "Forced overtime at final assembly"]  # fmt: skip


# -- helpers ---------------------------------------------------------------------------------


def real_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def to_the_second(moment: datetime) -> datetime:
    return datetime.fromisoformat(iso(moment))


def local_day(world: World, moment: datetime) -> date:
    return world.workflow.settings.calendar.local_date(moment)


def notified(world: World, at: datetime) -> str:
    """A major finding found and communicated at ``at`` (a real, past moment)."""
    ref = world.finding(found_on=local_day(world, at), now=at)
    world.workflow.act(ref, ActionRequest(Action.NOTIFY, ANNA, at), now=at)
    return ref


def written(url: str) -> dict[str, int]:
    """How many events and outbox messages the database holds."""
    db = Database(url)
    try:
        with db.read() as session:
            return {
                "events": session.scalar(select(func.count()).select_from(Event)) or 0,
                "outbox": session.scalar(select(func.count()).select_from(OutboxMessage)) or 0,
            }
    finally:
        db.engine.dispose()


def last_event_at(url: str) -> datetime | None:
    db = Database(url)
    try:
        with db.read() as session:
            return session.scalar(select(func.max(Event.at)))
    finally:
        db.engine.dispose()


def make_simulation(url: str, clock: SimulatedClock) -> None:
    db = Database(url)
    try:
        record_simulation(db, clock)
    finally:
        db.engine.dispose()


# -- a real database: what records may not look ahead ----------------------------------------


def test_a_sweep_in_the_future_is_refused_and_writes_nothing(cap: Cap, world: World) -> None:
    notified(world, real_now() - timedelta(days=2))
    before = written(cap.url)
    ahead = real_now() + timedelta(days=90)

    line = cap.fails("sweep", "--now", iso(ahead), code=2)
    assert line.startswith(f"error: now: {iso(ahead)} is in the future (it is now "), line
    assert line.endswith(f"Europe/Stockholm); {SWEEP_AHEAD}"), line
    assert written(cap.url) == before

    # Looking ahead without writing is what --dry-run is for.
    report = cap.json("sweep", "--now", iso(ahead), "--dry-run")
    assert report["dry_run"] is True and report["steps"] >= 1, report
    assert written(cap.url) == before


def test_a_sweep_within_the_clock_skew_is_now_and_beyond_it_the_future(
    cap: Cap, world: World
) -> None:
    notified(world, real_now() - timedelta(days=40))  # its plan is overdue: a sweep writes
    before = written(cap.url)

    beyond = real_now() + CLOCK_SKEW + timedelta(minutes=1)
    assert SWEEP_AHEAD in user_error(cap.run("sweep", "--now", iso(beyond)), 2)
    assert written(cap.url) == before

    within = real_now() + CLOCK_SKEW - timedelta(minutes=1)
    cap.ok("sweep", "--now", iso(within))
    assert written(cap.url)["events"] > before["events"]
    assert last_event_at(cap.url) == to_the_second(within)  # recorded at the moment asked


def test_a_digest_in_the_future_is_refused_and_today_s_goes_out(cap: Cap, world: World) -> None:
    notified(world, real_now() - timedelta(days=25))  # its plan is due within two weeks
    before = written(cap.url)
    ahead = real_now() + timedelta(days=3)

    line = cap.fails("mail", "digest", "--now", iso(ahead), code=2)
    assert line.startswith(f"error: now: {iso(ahead)} is in the future (it is now "), line
    assert "one queued ahead would take the place of that day's real digest" in line
    assert written(cap.url) == before

    queued = cap.json("mail", "digest")
    assert [d["to"] for d in queued] == [ANNA]
    assert written(cap.url)["outbox"] == before["outbox"] + 1


def test_an_action_within_the_clock_skew_is_recorded_and_beyond_it_refused(
    cap: Cap, world: World
) -> None:
    ref = world.finding(
        found_on=local_day(world, real_now() - timedelta(days=1)),
        now=real_now() - timedelta(hours=1),
    )
    beyond = real_now() + CLOCK_SKEW + timedelta(minutes=1)
    line = cap.fails("finding", "notify", ref, "--at", iso(beyond), code=2)
    assert line == f"error: at: {iso(beyond)} is in the future; record actions once they happened"
    assert cap.show(ref)["state"] == "open"

    within = real_now() + CLOCK_SKEW - timedelta(minutes=1)
    cap.ok("finding", "notify", ref, "--at", iso(within))
    event = cap.show(ref)["events"][-1]
    assert (event["kind"], datetime.fromisoformat(event["at"])) == ("notify", to_the_second(within))


def test_a_finding_found_today_is_logged_and_one_found_tomorrow_refused(
    cap: Cap, world: World
) -> None:
    today = local_day(world, real_now())
    add = ["finding", "add", "--contract", world.contract, *FINDING]
    tomorrow = (today + timedelta(days=1)).isoformat()
    line = cap.fails(*add, "--found-on", tomorrow, code=2)
    assert line.startswith(f"error: found_on: {tomorrow} is in the future"), line
    assert written(cap.url)["events"] == 0

    ref = cap.ok(*add, "--found-on", today.isoformat()).strip()
    assert cap.show(ref)["found_on"] == today.isoformat()


def test_an_import_found_today_is_logged_and_one_found_tomorrow_refused(
    cap: Cap, world: World, tmp_path: Path
) -> None:
    today = local_day(world, real_now())
    header = "contract,severity,area,source,title,found_on"

    def csv(found_on: date) -> Path:
        path = tmp_path / f"{found_on}.csv"
        row = f"{world.contract},major,working_hours,factory_audit,Forced overtime,{found_on}"
        path.write_text(f"{header}\n{row}\n", encoding="utf-8")
        return path

    tomorrow = today + timedelta(days=1)
    result = cap.run("finding", "import", str(csv(tomorrow)))
    assert result.returncode == 2, result.stderr
    assert f"found_on: {tomorrow} is in the future" in result.stderr
    assert written(cap.url)["events"] == 0

    imported = json.loads(cap.ok("finding", "import", str(csv(today)), "--json"))
    assert cap.show(imported["refs"][0])["found_on"] == today.isoformat()


def test_what_writes_nothing_or_plans_ahead_may_name_the_future(cap: Cap, world: World) -> None:
    before = written(cap.url)
    ahead = real_now() + timedelta(days=400)
    simulated = cap.json(
        "rules", "simulate", "--severity", "major", "--area", "wages", "--notified", iso(ahead)
    )
    assert simulated["notified"] == iso(ahead) and simulated["timeline"]
    assert written(cap.url) == before

    # A contract is signed for the years to come.
    start, end = local_day(world, ahead), local_day(world, ahead) + timedelta(days=4 * 365)
    cap.ok("contract", "add", "RS-2028-ICT-09", "--supplier", world.org_number,
           "--category", "Monitors", "--manager", ANNA, "--start", start.isoformat(),
           "--end", end.isoformat())  # fmt: skip
    (contract,) = [c for c in world.workflow.list_contracts() if c.reference == "RS-2028-ICT-09"]
    assert (contract.start, contract.end) == (start, end)


# -- a simulation database: its own clock ----------------------------------------------------


def test_the_simulated_clock_runs_days_per_second_from_its_start() -> None:
    started = datetime(2026, 11, 30, 14, 2, tzinfo=UTC)
    clock = SimulatedClock(started=started, days_per_second=2.0)
    assert clock.at(started) == started
    assert clock.at(started + timedelta(seconds=1)) == started + timedelta(days=2)
    assert clock.at(started + timedelta(milliseconds=500)) == started + timedelta(days=1)
    real_time = SimulatedClock(started=started, days_per_second=0)  # cap demo --speed 0
    assert real_time.at(started + timedelta(hours=3)) == started + timedelta(hours=3)


def test_a_database_is_real_until_it_records_a_simulation(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        assert simulation_of(db) is None
        clock = SimulatedClock(started=real_now(), days_per_second=1.5)
        record_simulation(db, clock)
        assert simulation_of(db) == clock
    finally:
        db.engine.dispose()


def test_a_simulation_database_runs_every_command_on_its_clock(cap: Cap, world: World) -> None:
    # Ten real seconds in at a day per second: the simulation is ten days ahead of real time.
    clock = SimulatedClock(started=real_now() - timedelta(seconds=10), days_per_second=1.0)
    make_simulation(cap.url, clock)

    found_on = local_day(world, real_now() + timedelta(days=5))  # past in the simulation
    before = real_now()
    ref = cap.ok("finding", "add", "--contract", world.contract, *FINDING,
                 "--found-on", found_on.isoformat()).strip()  # fmt: skip
    after = real_now()
    logged = datetime.fromisoformat(cap.show(ref)["events"][0]["at"])
    assert clock.at(before) <= logged <= clock.at(after)

    # Its events lie in the real future; the next actions follow them on the simulated clock.
    cap.ok("finding", "notify", ref)
    until = local_day(world, clock.at(real_now()) + timedelta(days=60))
    cap.ok("finding", "extend", ref, "--until", until.isoformat(), "--reason", "Peak season.")
    assert [e["kind"] for e in cap.show(ref)["events"]] == ["logged", "notify", "extend"]

    # Looking ahead is the point of a simulation: a sweep and a digest there are allowed.
    counts = written(cap.url)
    ahead = clock.at(real_now()) + timedelta(days=200)
    cap.ok("sweep", "--now", iso(ahead))
    assert last_event_at(cap.url) == to_the_second(ahead)
    assert written(cap.url)["events"] > counts["events"]
    cap.ok("mail", "digest", "--now", iso(ahead))


@pytest.mark.slow  # cap demo as a process
def test_cap_demo_makes_its_database_a_simulation(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAP_")}
    before = real_now()
    done = subprocess.run(
        [CAP, "demo", "--no-serve", "--db", "demo.db", "--speed", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    db = Database(url)
    try:
        clock = simulation_of(db)
    finally:
        db.engine.dispose()
    assert clock is not None and clock.days_per_second == 2.0
    assert before <= clock.started <= real_now()

    # Another terminal sees the demo's time: what it logs is dated by the simulated clock.
    demo = Cap(url, tmp_path, actor="anna.lind@region-stockholm.example")
    contract = demo.json("contract", "list")[0]["reference"]
    asked = real_now()
    ref = demo.ok("finding", "add", "--contract", contract, *FINDING).strip()
    logged = datetime.fromisoformat(demo.show(ref)["events"][0]["at"])
    assert clock.at(asked) <= logged <= clock.at(real_now())
