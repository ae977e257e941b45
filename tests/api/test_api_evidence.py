"""Evidence over the API (both databases): files uploaded as the desk's form sends them
(``file`` parts, ``as``) are the finding's, as `cap finding show` lists them, and come back
byte for byte as attachments under a name that cannot end the header; a role that may not log
findings, a file too large, of a refused type or without a name changes nothing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from urllib.parse import unquote

import httpx
import pytest
import schemathesis
from schemathesis import checks
from schemathesis.core.failures import FailureGroup

from cap.config import Settings
from cap.domain.model import StaffRole
from cap.domain.permissions import Permission, allows
from cap.web.security import FILES_PER_FORM, FORM_MAX_BYTES
from cap.workflow import EvidenceView, to_json
from tests.api.conftest import Api
from tests.conftest import LI, NOW, World

CM, V = StaffRole.CONTRACT_MANAGER, StaffRole.VIEWER
PROBLEM = "application/problem+json"
#: CAP_EVIDENCE_MAX_BYTES of these tests: small, so that a file over it is cheap to send.
LIMIT = 4096
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 3
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\xff" * 100
#: Content-Disposition as the desk writes it: a quoted printable-ASCII name without a quote,
#: backslash or semicolon (RFC 6266), then the name itself percent-encoded (RFC 5987).
DISPOSITION = re.compile(
    r"attachment; filename=\"([ !#-:<-\[\]-~]+)\"; filename\*=UTF-8''([A-Za-z0-9%._~-]+)"
)


@pytest.fixture
def api_settings(api_settings: Settings) -> Settings:
    return api_settings.model_copy(update={"evidence_max_bytes": LIMIT})


def _upload(client: Api, ref: str, *files: tuple[str, bytes], **form: str) -> httpx.Response:
    parts = [("file", (name, content, "application/octet-stream")) for name, content in files]
    return client.request("POST", f"findings/{ref}/evidence", files=parts, data=form)


def _raw_upload(client: Api, ref: str, disposition: bytes, content: bytes = PDF) -> httpx.Response:
    """One part whose Content-Disposition is sent byte for byte, as no client library would."""
    head = b"--cap-test\r\nContent-Disposition: " + disposition
    body = head + b"\r\nContent-Type: application/pdf\r\n\r\n" + content + b"\r\n--cap-test--\r\n"
    multipart = {"content-type": "multipart/form-data; boundary=cap-test"}
    return client.request("POST", f"findings/{ref}/evidence", content=body, headers=multipart)


def _stored(world: World, ref: str) -> tuple[tuple[EvidenceView, ...], int]:
    """The finding's evidence and how many events its trail holds."""
    shown = world.workflow.show_finding(ref, now=NOW)
    return shown.evidence, len(shown.events)


def _saved_as(response: httpx.Response) -> str:
    """The name a download is saved under; fails unless its Content-Disposition is an
    attachment whose ASCII name agrees with its UTF-8 one."""
    found = DISPOSITION.fullmatch(response.headers["content-disposition"])
    assert found, response.headers["content-disposition"]
    ascii_name, name = found[1], unquote(found[2], errors="strict")
    assert len(ascii_name) == len(name)
    for a, n in zip(ascii_name, name, strict=True):
        assert a == n if 32 <= ord(n) < 127 and n not in '"\\;' else a == "_"
    return name


def test_files_uploaded_are_the_findings_and_come_back_byte_for_byte(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    before = api_world.workflow.show_finding(ref, now=NOW)
    made = _upload(api_as(CM), ref, ("audit.pdf", PDF), ("site.png", PNG), ("notes.txt", b"x"),
                   **{"as": LI})  # fmt: skip
    assert made.status_code == 201, made.text
    after = api_world.workflow.show_finding(ref, now=NOW)
    # What the API answered is what the finding now lists, by whom `as` named; nothing else
    # about the finding changed, and the trail says who attached what.
    assert made.json() == to_json(list(after.evidence))
    assert [(e.file_name, e.size, e.uploaded_by) for e in after.evidence] == [
        ("audit.pdf", len(PDF), LI), ("site.png", len(PNG), LI), ("notes.txt", 1, LI)]  # fmt: skip
    assert (after.state, after.version) == (before.state, before.version)
    assert (after.events[-1].kind, after.events[-1].actor) == ("evidence_added", LI)
    assert [f["id"] for f in after.events[-1].data["evidence"]] == [e.id for e in after.evidence]
    # Any staff role downloads them: the same bytes, its type only when a browser may be told
    # it, its SHA-256 as ETag, saved under its name, never sniffed nor kept.
    viewer = api_as(V)
    for meta, content, kind in zip(after.evidence, (PDF, PNG, b"x"),
                                   ("application/pdf", "image/png", "application/octet-stream"),
                                   strict=True):  # fmt: skip
        got = viewer.get(f"findings/{ref}/evidence/{meta.id}")
        assert got.status_code == 200
        assert got.content == content
        assert got.headers["content-type"] == kind
        assert (
            got.headers["etag"] == f'"{hashlib.sha256(content).hexdigest()}"' == f'"{meta.sha256}"'
        )
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["cache-control"] == "no-store"
        assert _saved_as(got) == meta.file_name
    # Without `as`, the token's name is who attached it.
    again = _upload(api_as(CM), ref, ("more.pdf", PDF))
    assert (
        again.status_code == 201 and again.json()[0]["uploaded_by"] == "api: test contract_manager"
    )


def test_an_upload_and_its_downloads_keep_to_the_document(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    """What the fuzzer seldom reaches (it names no finding, nor a file of an accepted type):
    a 201 and the downloads, of a type told and of one not, against the API's own document."""
    ref = api_world.finding()
    manager = api_as(CM)
    document = schemathesis.openapi.from_dict(manager.get("openapi.json").json())
    made = _upload(manager, ref, ("audit.pdf", PDF), ("notes.txt", b"x"))
    assert made.status_code == 201
    made.request.read()  # schemathesis reads the request it validates the answer of
    # Sent with the client's token, not one schemathesis made (the tests above check tokens).
    own_token = [checks.ignored_auth]
    upload = document["/findings/{ref}/evidence"]["POST"]
    sent = upload.Case(path_parameters={"ref": ref}, media_type="multipart/form-data")
    sent.validate_response(made, excluded_checks=own_token)
    download = document["/findings/{ref}/evidence/{evidence_id}"]["GET"]
    for stored in made.json():
        got = manager.get(f"findings/{ref}/evidence/{stored['id']}")
        assert got.status_code == 200
        case = download.Case(path_parameters={"ref": ref, "evidence_id": stored["id"]})
        case.validate_response(got, excluded_checks=own_token)
    # A page where a file belongs would break it.
    page = httpx.Response(200, html="<p>x</p>", request=got.request)
    page.read()
    page.elapsed = got.elapsed
    with pytest.raises(FailureGroup, match="Undocumented Content-Type"):
        case.validate_response(page, excluded_checks=own_token)


def test_only_a_role_that_logs_findings_uploads(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    untouched = _stored(api_world, ref)
    refused = [role for role in StaffRole if not allows(role, Permission.LOG_FINDINGS)]
    assert refused and CM not in refused
    for role in refused:
        sent = _upload(api_as(role), ref, ("audit.pdf", PDF))
        assert sent.status_code == 403 and sent.headers["content-type"] == PROBLEM
        assert sent.json()["detail"] == f"role: a {role.value} token may not do this"
    nobody = _upload(api_as(None), ref, ("audit.pdf", PDF))
    assert nobody.status_code == 401 and nobody.headers["content-type"] == PROBLEM
    assert _stored(api_world, ref) == untouched
    assert _upload(api_as(CM), ref, ("audit.pdf", PDF)).status_code == 201
    assert len(_stored(api_world, ref)[0]) == 1


def test_a_file_too_large_is_refused_and_nothing_stored(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    untouched = _stored(api_world, ref)
    manager = api_as(CM)
    # One byte over CAP_EVIDENCE_MAX_BYTES, beside a file within it: neither is kept.
    over = _upload(manager, ref, ("ok.pdf", PDF), ("big.pdf", b"x" * (LIMIT + 1)))
    assert over.status_code == 422 and over.headers["content-type"] == PROBLEM
    assert over.json()["detail"] == (f"file: big.pdf is {LIMIT + 1:,} bytes; the limit is "
                                     f"{LIMIT:,} (CAP_EVIDENCE_MAX_BYTES)")  # fmt: skip
    assert over.json()["errors"][0]["field"] == "file"
    # More than the request may carry at all: refused before it is read.
    huge = _upload(manager, ref, ("huge.pdf", b"x" * (FILES_PER_FORM * LIMIT + FORM_MAX_BYTES)))
    assert huge.status_code == 413 and huge.headers["content-type"] == PROBLEM
    assert "CAP_EVIDENCE_MAX_BYTES" in huge.json()["detail"]
    many = _upload(manager, ref, *[(f"{i}.pdf", PDF) for i in range(FILES_PER_FORM + 1)])
    assert many.status_code == 422 and many.json()["errors"][0]["field"] == "file"
    assert many.json()["detail"].startswith(f"file: send at most {FILES_PER_FORM} files")
    assert _stored(api_world, ref) == untouched
    # At the limit, and as many files as a form may carry: kept.
    at = _upload(manager, ref, *[(f"{i}.pdf", b"x" * LIMIT) for i in range(FILES_PER_FORM)])
    assert at.status_code == 201, at.text
    assert [e.size for e in _stored(api_world, ref)[0]] == [LIMIT] * FILES_PER_FORM


@pytest.mark.parametrize("name", ["page.html", "setup.exe", "Invoice.PDF.EXE", "README"])
def test_a_file_of_a_refused_type_is_refused_and_nothing_stored(
    api_as: Callable[[StaffRole | None], Api], api_world: World, name: str
) -> None:
    ref = api_world.finding()
    untouched = _stored(api_world, ref)
    sent = _upload(api_as(CM), ref, ("ok.pdf", PDF), (name, b"<script>alert(1)</script>"))
    assert sent.status_code == 422 and sent.headers["content-type"] == PROBLEM
    assert sent.json()["errors"][0]["field"] == "file"
    assert sent.json()["detail"].startswith(f"file: {name}: ")
    assert "are not accepted" in sent.json()["detail"]
    assert _stored(api_world, ref) == untouched


def test_an_upload_without_a_file_names_the_field(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    untouched = _stored(api_world, ref)
    manager = api_as(CM)
    for sent in (
        manager.request("POST", f"findings/{ref}/evidence", data={"as": LI}),
        manager.request("POST", f"findings/{ref}/evidence", json={"file": "audit.pdf"}),
        manager.request("POST", f"findings/{ref}/evidence"),
        _raw_upload(manager, ref, b'form-data; name="file"; filename=""'),  # a form left empty
        _raw_upload(manager, ref, b'form-data; name="file"'),  # text, not a file
    ):
        assert sent.status_code == 422 and sent.headers["content-type"] == PROBLEM, sent.text
        assert sent.json()["detail"].startswith("file")
        assert sent.json()["errors"][0]["field"].startswith("file")
        assert "UploadFile" not in sent.text  # no Python class names in what a user reads
    text = _raw_upload(manager, ref, b'form-data; name="file"')
    assert "is not a file; send it as a part with a filename" in text.json()["detail"]
    assert _stored(api_world, ref) == untouched


def test_hostile_file_names_are_kept_as_names_and_served_safely(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    ref = api_world.finding()
    manager, viewer = api_as(CM), api_as(V)
    sent = {
        "../../etc/passwd.pdf": "passwd.pdf",  # a path: its last part only
        "C:\\Users\\li\\audit.pdf": "audit.pdf",
        # A client encodes a line break and a quote (HTML's form encoding): kept as sent.
        "a\r\nSet-Cookie: x=1.pdf": "a%0D%0ASet-Cookie: x=1.pdf",
        'say "hi".pdf': "say %22hi%22.pdf",
        "Åtgärdsplan; v2.pdf": "Åtgärdsplan; v2.pdf",
    }
    for name, kept in sent.items():
        made = _upload(manager, ref, (name, PDF))
        assert made.status_code == 201, made.text
        assert made.json()[0]["file_name"] == kept
    # A quote and a backslash escaped in the part's header: a name with a real quote in it.
    quoted = _raw_upload(manager, ref, b'form-data; name="file"; filename="say \\"hi\\".pdf"')
    assert quoted.status_code == 201 and quoted.json()[0]["file_name"] == 'say "hi".pdf'
    stored = _stored(api_world, ref)[0]
    assert [e.file_name for e in stored] == [*sent.values(), 'say "hi".pdf']
    for meta in stored:
        got = viewer.get(f"findings/{ref}/evidence/{meta.id}")
        assert got.status_code == 200 and got.content == PDF
        assert _saved_as(got) == meta.file_name
        assert "set-cookie" not in got.headers
    [last] = [e for e in stored if e.file_name == 'say "hi".pdf']
    last_got = viewer.get(f"findings/{ref}/evidence/{last.id}")
    assert last_got.headers["content-disposition"] == (
        "attachment; filename=\"say _hi_.pdf\"; filename*=UTF-8''say%20%22hi%22.pdf")  # fmt: skip
    # A line break or a control character in the name itself: refused, nothing kept.
    for disposition in (b'form-data; name="file"; filename="a\r\nX-Evil: 1\r\n.pdf"',
                        b'form-data; name="file"; filename="a\nb.pdf"',
                        b'form-data; name="file"; filename="a\x00b.pdf"'):  # fmt: skip
        refused = _raw_upload(manager, ref, disposition)
        assert refused.status_code in (400, 422), refused.text
        assert refused.headers["content-type"] == PROBLEM
    assert _stored(api_world, ref)[0] == stored


def test_a_file_is_found_only_under_its_own_finding(
    api_as: Callable[[StaffRole | None], Api], api_world: World
) -> None:
    mine, other = api_world.finding(), api_world.finding(title="Another finding")
    [made] = _upload(api_as(CM), mine, ("audit.pdf", PDF)).json()
    viewer = api_as(V)
    assert viewer.get(f"findings/{mine}/evidence/{made['id']}").status_code == 200
    elsewhere = viewer.get(f"findings/{other}/evidence/{made['id']}")
    assert elsewhere.status_code == 404 and elsewhere.headers["content-type"] == PROBLEM
    assert elsewhere.json()["detail"] == f"evidence {made['id']} does not belong to {other}"
    for unknown in (made["id"] + 1, 2**31 - 1):
        assert viewer.get(f"findings/{mine}/evidence/{unknown}").status_code == 404
    for invalid in ("0", "-1", "x", str(2**31)):
        bad = viewer.get(f"findings/{mine}/evidence/{invalid}")
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "evidence_id"
    gone = viewer.get(f"findings/NC-2026-9999/evidence/{made['id']}")
    assert (
        gone.status_code == 404 and gone.json()["detail"] == "finding NC-2026-9999 does not exist"
    )
    assert api_as(None).get(f"findings/{mine}/evidence/{made['id']}").status_code == 401
    # An upload to a finding that does not exist is 404 and lands nowhere.
    lost = _upload(api_as(CM), "NC-2026-9999", ("audit.pdf", PDF))
    assert lost.status_code == 404 and lost.headers["content-type"] == PROBLEM
    assert [len(_stored(api_world, ref)[0]) for ref in (mine, other)] == [1, 0]
