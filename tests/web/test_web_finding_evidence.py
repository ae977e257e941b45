"""Evidence on the desk: attached to a finding (alone, or with the supplier's report of a fix)
within the limits of count, size and type; downloaded as an attachment under a safe name,
never shown as a page (both databases)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import httpx
import pytest

from cap.config import Settings
from cap.domain.inputs import PlanAction, PlanInput
from cap.domain.lifecycle import ActionRequest
from cap.domain.model import Action, State
from cap.web.forms import attachment
from cap.web.security import FILES_PER_FORM
from cap.workflow import EvidenceFile, EvidenceView
from tests.conftest import ANNA, BO, LI, NOW, World
from tests.web.conftest import PASSWORD, SARA, Clock
from tests.web.desk_client import Desk

PDF = b"%PDF-1.7 payroll records week 12"
Files = list[tuple[str, tuple[str, bytes, str]]]


def upload(desk: Desk, path: str, files: Files, page: str, **fields: str) -> httpx.Response:
    """POST ``files`` as the multipart form on ``page`` sends them (its token first)."""
    data = {"csrftoken": desk.token(page), **fields}
    return desk.request("POST", path, data=data, files=files)


def evidence(world: World, ref: str) -> tuple[EvidenceView, ...]:
    return world.workflow.show_finding(ref, now=NOW).evidence


@pytest.fixture
def small(web_settings: Settings, clock: Clock) -> Iterator[Desk]:
    """Anna on a desk whose evidence files may have 1,000 bytes at most."""
    desk = Desk(web_settings.model_copy(update={"evidence_max_bytes": 1000}), clock=clock)
    assert desk.sign_in(ANNA, PASSWORD).status_code == 303
    yield desk
    desk.close()


def test_files_are_attached_and_downloaded_as_attachments(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    files = [
        ("file", ("payroll.pdf", PDF, "application/pdf")),
        ("file", ("C:\\Users\\anna\\rota.csv", b"week;hours\n12;61\n", "text/csv")),
    ]
    done = upload(anna, f"{page}/evidence", files, page)
    assert done.status_code == 303 and done.headers["location"] == f"{page}?done=evidence"
    assert "Evidence attached." in anna.get(done.headers["location"]).text
    pdf, csv = evidence(desk_world, ref)
    assert (pdf.file_name, pdf.size, pdf.uploaded_by) == ("payroll.pdf", len(PDF), ANNA)
    assert (csv.file_name, csv.content_type) == ("rota.csv", "text/csv")
    assert desk_world.workflow.show_finding(ref, now=NOW).state is State.OPEN  # no action

    got = signed_in(BO).get(f"{page}/evidence/{pdf.id}")  # everyone signed in may read
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"payroll.pdf\"; filename*=UTF-8''payroll.pdf"
    )
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["cache-control"] == "no-store"
    table = anna.get(f"{page}/evidence/{csv.id}")
    assert table.headers["content-type"] == "application/octet-stream"  # not shown inline


def test_a_name_with_letters_outside_ascii_is_sent_in_both_forms(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    name = "Årsrapport slutlig; x=1.pdf"
    assert upload(anna, f"{page}/evidence", [("file", (name, PDF, "application/pdf"))],
                  page).status_code == 303  # fmt: skip
    [kept] = evidence(desk_world, ref)
    assert kept.file_name == name
    got = anna.get(f"{page}/evidence/{kept.id}")
    assert got.headers["content-disposition"] == (
        'attachment; filename="_rsrapport slutlig_ x=1.pdf"; '
        "filename*=UTF-8''%C3%85rsrapport%20slutlig%3B%20x%3D1.pdf"
    )


def test_no_name_can_break_the_header() -> None:
    header = attachment('a"b\\c;\r\nSet-Cookie: x=1\u2028.pdf')
    assert "\r" not in header and "\n" not in header and "\u2028" not in header
    assert header.count('"') == 2
    assert header.startswith('attachment; filename="a_b_c___Set-Cookie: x=1_.pdf"; filename*=')
    assert attachment("åäö") == "attachment; filename=\"___\"; filename*=UTF-8''%C3%A5%C3%A4%C3%B6"


def test_more_files_than_a_form_takes_are_refused(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    files: Files = [("file", (f"p{i}.pdf", PDF, "application/pdf")) for i in range(6)]
    refused = upload(anna, f"{page}/evidence", files, page)
    assert refused.status_code == 400
    assert (
        f'<p class="error" id="evidence-file-error">send at most {FILES_PER_FORM} files at a '
        "time (6 were sent)</p>"
    ) in refused.text
    assert evidence(desk_world, ref) == ()
    assert upload(anna, f"{page}/evidence", files[:5], page).status_code == 303
    assert len(evidence(desk_world, ref)) == FILES_PER_FORM


def test_a_file_over_the_limit_is_refused_and_one_at_it_accepted(
    desk_world: World, small: Desk
) -> None:
    ref = desk_world.finding()
    page = f"/findings/{ref}"
    big = [("file", ("scan.pdf", b"x" * 1001, "application/pdf"))]
    refused = upload(small, f"{page}/evidence", big, page)
    assert refused.status_code == 400
    assert (
        '<p class="error" id="evidence-file-error">scan.pdf is 1,001 bytes; the limit is 1,000 '
        "(CAP_EVIDENCE_MAX_BYTES)</p>"
    ) in refused.text
    assert "At most 5 files of at most 1,000 bytes each" in refused.text
    assert evidence(desk_world, ref) == ()
    fits = [("file", ("scan.pdf", b"x" * 1000, "application/pdf"))]
    assert upload(small, f"{page}/evidence", fits, page).status_code == 303
    assert [e.size for e in evidence(desk_world, ref)] == [1000]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("setup.exe", "setup.exe: .exe files are not accepted; send one of pdf, png, jpg"),
        ("page.HTML", "page.HTML: .html files are not accepted"),
        ("README", "README: files without an extension are not accepted"),
    ],
)
def test_a_type_outside_the_list_is_refused(
    desk_world: World, signed_in: Callable[[str], Desk], name: str, message: str
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    files = [("file", ("ok.pdf", PDF, "application/pdf")), ("file", (name, b"MZ", "text/html"))]
    refused = upload(anna, f"{page}/evidence", files, page)
    assert refused.status_code == 400
    assert f'<p class="error" id="evidence-file-error">{message}' in refused.text
    assert evidence(desk_world, ref) == ()  # not even the good one


def test_an_upload_without_a_file_says_so(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    # What a browser sends when no file was chosen: a part with an empty name.
    refused = upload(
        anna, f"{page}/evidence", [("file", ("", b"", "application/octet-stream"))], page
    )
    assert refused.status_code == 400
    assert '<p class="error" id="evidence-file-error">give at least one file</p>' in refused.text


def test_the_fix_is_reported_with_its_evidence(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    wf = desk_world.workflow
    plan = PlanInput(
        root_cause="Peak orders",
        actions=[PlanAction(description="Hire", owner="HR", due=date(2026, 6, 1))],
    )
    wf.act(ref, ActionRequest(Action.NOTIFY, ANNA, NOW - timedelta(days=2)), now=NOW)
    wf.act(ref, ActionRequest(Action.SUBMIT_PLAN, LI, NOW - timedelta(days=1)), now=NOW, plan=plan)
    wf.act(ref, ActionRequest(Action.ACCEPT_PLAN, ANNA, NOW), now=NOW)
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    action = f"{page}/actions/report_remediation"
    wrong = [("file", ("photos.svg", b"<svg/>", "image/svg+xml"))]
    refused = upload(anna, action, wrong, page, note="Photos of the new rota")
    assert refused.status_code == 400
    assert (
        '<p class="error" id="report_remediation-file-error">photos.svg: .svg files' in refused.text
    )
    assert "Photos of the new rota</textarea>" in refused.text
    assert wf.show_finding(ref, now=NOW).state is State.REMEDIATING

    files = [("file", ("rota.pdf", PDF, "application/pdf"))]
    done = upload(anna, action, files, page, note="New rota", version="4")
    assert done.status_code == 303
    view = wf.show_finding(ref, now=NOW)
    assert view.state is State.VERIFYING
    assert [(e.file_name, e.uploaded_by) for e in view.evidence] == [("rota.pdf", ANNA)]


def test_files_sent_with_an_action_that_takes_none_are_not_kept(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    ref = desk_world.finding()
    anna = signed_in(ANNA)
    page = f"/findings/{ref}"
    files = [("file", ("payroll.pdf", PDF, "application/pdf"))]
    assert upload(anna, f"{page}/actions/notify", files, page).status_code == 303
    assert evidence(desk_world, ref) == ()


@pytest.mark.parametrize("who", [BO, SARA])
def test_only_contract_managers_attach_evidence(
    desk_world: World, signed_in: Callable[[str], Desk], who: str
) -> None:
    ref = desk_world.finding()
    other = signed_in(who)
    page = f"/findings/{ref}"
    files = [("file", ("payroll.pdf", PDF, "application/pdf"))]
    assert upload(other, f"{page}/evidence", files, page).status_code == 403
    assert evidence(desk_world, ref) == ()


def test_evidence_of_another_finding_is_not_found(
    desk_world: World, signed_in: Callable[[str], Desk]
) -> None:
    mine = desk_world.finding(title="Mine")
    theirs = desk_world.finding(title="Theirs")
    [kept] = desk_world.workflow.add_evidence(
        theirs, [EvidenceFile("payroll.pdf", PDF)], actor=ANNA, now=NOW
    )
    bo = signed_in(BO)
    assert bo.get(f"/findings/{theirs}/evidence/{kept.id}").status_code == 200
    other = bo.get(f"/findings/{mine}/evidence/{kept.id}")
    assert (
        other.status_code == 404 and f"evidence {kept.id} does not belong to {mine}" in other.text
    )
    assert bo.get(f"/findings/{mine}/evidence/abc").status_code == 404
    assert bo.get(f"/findings/{mine}/evidence/{'9' * 40}").status_code == 404
    # Past PostgreSQL's integer: not a query the database refuses (a 500), an unknown file.
    assert bo.get(f"/findings/{mine}/evidence/{'9' * 18}").status_code == 404
    assert bo.get(f"/findings/{mine}/evidence/{2**31}").status_code == 404
    assert bo.get("/findings/NC-2026-9999/evidence/1").status_code == 404
