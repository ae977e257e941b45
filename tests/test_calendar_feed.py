"""The deadline calendar of a contract manager (cap.workflow.calendars), on both databases,
read back with icalendar's own parser: one all-day event per open finding's deadline in force,
UIDs that outlive a moved deadline, and hostile text kept as text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar, Event
from sqlalchemy import update
from sqlmodel import col

from cap.domain.inputs import ContractInput
from cap.domain.lifecycle import Action
from cap.errors import NotFound
from cap.store.models import Finding
from cap.workflow.calendars import DeadlineCalendar
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.test_workflow import act


def events(document: DeadlineCalendar) -> dict[str, Event]:
    """The VEVENTs of the document as icalendar parses them, by UID."""
    parsed = Calendar.from_ical(document.ical)
    walked = [e for e in parsed.walk("VEVENT") if isinstance(e, Event)]
    found = {str(e["uid"]): e for e in walked}
    assert len(found) == len(walked), "a UID twice"
    return found


def decoded(event: Event, name: str) -> Any:
    return event.decoded(name)


def test_it_gives_the_deadline_in_force_of_each_open_finding_as_an_all_day_event(
    world: World,
) -> None:
    notified = world.finding(title="Forced overtime at final assembly")
    act(world, notified, Action.NOTIFY, NOW)
    world.finding(title="Not told to the supplier yet")  # open: nothing owed by a date
    withdrawn = world.finding(title="Logged by mistake")
    act(world, withdrawn, Action.NOTIFY, NOW)
    act(world, withdrawn, Action.WITHDRAW, NOW, reason="duplicate")

    document = world.workflow.deadline_calendar(ANNA, now=NOW)

    uid = f"{notified}-plan@localhost"
    assert list(events(document)) == [uid]
    event = events(document)[uid]
    view = world.workflow.show_finding(notified, now=NOW)
    assert view.current_deadline == "plan" and view.due == date(2026, 4, 7)
    assert decoded(event, "dtstart") == date(2026, 4, 7)
    assert decoded(event, "dtend") == date(2026, 4, 8)
    assert b"DTSTART;VALUE=DATE:20260407\r\n" in document.ical
    assert decoded(event, "dtstamp") == NOW
    assert decoded(event, "sequence") == view.version
    assert (
        str(event["summary"])
        == f"{notified}: plan due \N{EN DASH} Forced overtime at final assembly"
    )
    assert str(event["description"]).splitlines() == [
        "Supplier: Nordic IT Supply AB",
        f"Contract: {world.contract}",
        f"http://localhost:8000/findings/{notified}",
    ]
    assert str(event["url"]) == f"http://localhost:8000/findings/{notified}"
    assert [(e.ref, e.deadline, e.due, e.overdue) for e in document.entries] == [
        (notified, "plan", date(2026, 4, 7), False)
    ]


def test_a_moved_deadline_keeps_its_uid_with_a_new_date_and_a_higher_sequence(
    world: World,
) -> None:
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    [before] = events(world.workflow.deadline_calendar(ANNA, now=NOW)).items()

    later = NOW + timedelta(days=1)
    act(world, ref, Action.EXTEND, later, reason="Peak season", until=date(2026, 5, 4))
    [after] = events(world.workflow.deadline_calendar(ANNA, now=later)).items()

    assert after[0] == before[0] == f"{ref}-plan@localhost"
    assert decoded(before[1], "dtstart") == date(2026, 4, 7)
    assert decoded(after[1], "dtstart") == date(2026, 5, 4)
    assert decoded(after[1], "dtend") == date(2026, 5, 5)
    assert decoded(after[1], "sequence") > decoded(before[1], "sequence")


def test_each_kind_of_deadline_has_an_event_of_its_own(world: World) -> None:
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    act(world, ref, Action.SUBMIT_PLAN, NOW + timedelta(days=3), actor=LI)

    document = world.workflow.deadline_calendar(ANNA, now=NOW + timedelta(days=3))

    [(uid, event)] = events(document).items()
    assert uid == f"{ref}-plan_review@localhost"
    assert str(event["summary"]).startswith(f"{ref}: plan review due \N{EN DASH} ")


def test_overdue_deadlines_are_in_it_and_say_so(world: World) -> None:
    late, closed = world.finding(title="Late one"), world.finding(title="Closed one")
    for ref in (late, closed):
        act(world, ref, Action.NOTIFY, NOW)
    act(world, closed, Action.SUBMIT_PLAN, NOW + timedelta(days=1), actor=LI)
    act(world, closed, Action.ACCEPT_PLAN, NOW + timedelta(days=2))
    act(world, closed, Action.REPORT_REMEDIATION, NOW + timedelta(days=3), actor=LI)
    act(world, closed, Action.VERIFY, NOW + timedelta(days=4), note="Payroll checked")

    # The plan was due on 2026-04-07: still due that evening, overdue from midnight local.
    on_the_day = datetime(2026, 4, 7, 21, 59, tzinfo=UTC)  # 23:59 in Stockholm (CEST)
    [due] = events(world.workflow.deadline_calendar(ANNA, now=on_the_day)).values()
    assert str(due["summary"]) == f"{late}: plan due \N{EN DASH} Late one"
    after = datetime(2026, 4, 7, 22, 0, tzinfo=UTC)
    document = world.workflow.deadline_calendar(ANNA, now=after)
    [overdue] = events(document).values()
    assert str(overdue["summary"]) == f"{late}: plan overdue \N{EN DASH} Late one"
    assert decoded(overdue, "dtstart") == date(2026, 4, 7)
    assert [e.overdue for e in document.entries] == [True]


def test_another_managers_findings_are_not_in_it(world: World) -> None:
    world.workflow.add_contract(
        ContractInput(reference="RS-2020-ICT-07", supplier=world.org_number,
                      category="Mobile phones", manager=BO),
        now=NOW,
    )  # fmt: skip
    anna = world.finding()
    bo = World(world.workflow, contract="RS-2020-ICT-07").finding()
    for ref in (anna, bo):
        act(world, ref, Action.NOTIFY, NOW)

    assert [e.ref for e in world.workflow.deadline_calendar(ANNA, now=NOW).entries] == [anna]
    # An address is matched in any case, as a user's is.
    theirs = world.workflow.deadline_calendar(f"  {BO.upper()} ", now=NOW)
    assert [e.ref for e in theirs.entries] == [bo]
    assert str(events(theirs)[f"{bo}-plan@localhost"]["description"]).splitlines()[1] == (
        "Contract: RS-2020-ICT-07"
    )


def test_a_manager_of_no_contract_is_not_found(world: World) -> None:
    with pytest.raises(NotFound, match=r"^manager: no contract is managed by nobody@x\.example"):
        world.workflow.deadline_calendar("nobody@x.example", now=NOW)


def test_a_manager_with_nothing_due_gets_an_empty_calendar(world: World) -> None:
    world.finding()  # not notified: nothing owed by a date
    document = world.workflow.deadline_calendar(ANNA, now=NOW)
    parsed = Calendar.from_ical(document.ical)
    assert document.entries == () and parsed.walk("VEVENT") == []
    assert str(parsed["prodid"]) == "-//cap//deadlines//EN" and str(parsed["version"]) == "2.0"


def test_hostile_text_stays_text(world: World) -> None:
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    # Titles are one line when typed; a row written otherwise (an old import, the database
    # edited by hand) must still not add properties or events to the feed.
    hostile = 'Wages, "fines"; \\ late\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\nSUMMARY:x'
    with world.workflow.db.write() as session:
        session.execute(update(Finding).where(col(Finding.ref) == ref).values(title=hostile))

    document = world.workflow.deadline_calendar(ANNA, now=NOW)

    parsed = Calendar.from_ical(document.ical)
    [event] = parsed.walk("VEVENT")
    assert str(event["uid"]) == f"{ref}-plan@localhost"
    # icalendar writes a line break as the escape \n (CR LF as one).
    assert str(event["summary"]) == f"{ref}: plan due \N{EN DASH} " + hostile.replace("\r\n", "\n")
    lines = document.ical.split(b"\r\n")
    assert b"UID:evil" not in lines and lines.count(b"BEGIN:VEVENT") == 1
    assert all(b"\r" not in line and b"\n" not in line for line in lines)


def test_without_a_base_url_there_is_no_link_and_the_uid_names_cap(world: World) -> None:
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    workflow = world.workflow
    bare = type(workflow)(workflow.db, workflow.settings.model_copy(update={"base_url": ""}))

    [(uid, event)] = events(bare.deadline_calendar(ANNA, now=NOW)).items()

    assert uid == f"{ref}-plan@cap"
    assert "url" not in event
    assert str(event["description"]).splitlines() == [
        "Supplier: Nordic IT Supply AB",
        f"Contract: {world.contract}",
    ]


def test_a_desk_on_its_own_host_names_it_in_the_uid(world: World) -> None:
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    workflow = world.workflow
    settings = workflow.settings.model_copy(update={"base_url": "https://cap.region.example/"})
    [(uid, event)] = events(
        type(workflow)(workflow.db, settings).deadline_calendar(ANNA, now=NOW)
    ).items()
    assert uid == f"{ref}-plan@cap.region.example"
    assert str(event["url"]) == f"https://cap.region.example/findings/{ref}"


def test_it_reads_in_one_transaction(world: World) -> None:
    """One read, no write: a feed is fetched often and must never take the write lock."""
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    calls: list[str] = []
    db = world.workflow.db
    original_read, original_write = db.read, db.write

    def read() -> Any:
        calls.append("read")
        return original_read()

    def write() -> Any:
        calls.append("write")
        return original_write()

    db.read, db.write = read, write  # type: ignore[method-assign]
    try:
        world.workflow.deadline_calendar(ANNA, now=NOW)
    finally:
        db.read, db.write = original_read, original_write  # type: ignore[method-assign]
    assert calls == ["read"]


def test_the_deadline_follows_the_lifecycle_to_remediation(world: World) -> None:
    ref = world.finding()
    act(world, ref, Action.NOTIFY, NOW)
    act(world, ref, Action.SUBMIT_PLAN, NOW + timedelta(days=1), actor=LI)
    act(world, ref, Action.ACCEPT_PLAN, NOW + timedelta(days=2))
    [entry] = world.workflow.deadline_calendar(ANNA, now=NOW + timedelta(days=2)).entries
    assert entry.deadline == "remediation" and entry.uid == f"{ref}-remediation@localhost"
    assert entry.due == world.workflow.show_finding(ref, now=NOW).remediation_due


def test_a_report_the_contract_owes_is_an_event_until_it_comes_in(world: World) -> None:
    from cap.domain.obligations import DutyAction, DutyRequest

    start = NOW.astimezone(UTC).date()
    world.workflow.add_contract(
        ContractInput(reference="LIC-REPORT", supplier=world.org_number, category="Laptops",
                      manager=ANNA, start=start),
        now=NOW,
    )  # fmt: skip
    [report] = world.workflow.list_obligations(now=NOW)
    document = world.workflow.deadline_calendar(ANNA, now=NOW)
    uid = f"report-{report.id}-report@localhost"
    event = events(document)[uid]
    assert decoded(event, "dtstart") == report.due
    assert str(event["summary"]) == "LIC-REPORT: report due \N{EN DASH} social-risk report"
    assert str(event["url"]) == f"http://localhost:8000/obligations/{report.id}"
    world.workflow.act_on_obligation(
        report.id, DutyRequest(DutyAction.RECEIVE, ANNA, NOW, received_on=start), now=NOW
    )
    assert uid not in events(world.workflow.deadline_calendar(ANNA, now=NOW))
