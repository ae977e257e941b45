"""A request body over its limit is refused (413) before anything reads it into memory, and
changes nothing: forms have a small limit, evidence uploads one of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator

from cap.web.security import FILES_PER_FORM, FORM_MAX_BYTES
from tests.conftest import ANNA
from tests.web.conftest import PASSWORD
from tests.web.desk_client import Desk


def test_a_form_over_the_limit_is_refused(desk: Desk) -> None:
    form = {"csrftoken": desk.token(), "email": ANNA, "password": "x" * FORM_MAX_BYTES}
    refused = desk.post("/login", form)
    assert refused.status_code == 413
    assert refused.text.startswith("refused: the form exceed")
    assert f"{FORM_MAX_BYTES:,}" in refused.text
    assert "cap_session" not in refused.cookies


def test_a_form_under_the_limit_goes_through(desk: Desk) -> None:
    form = {"csrftoken": desk.token(), "email": ANNA, "password": PASSWORD}
    assert desk.post("/login", form).status_code == 303


def test_a_body_without_a_length_is_counted_as_it_comes(desk: Desk) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(FORM_MAX_BYTES // 1024 + 2):
            yield b"x" * 1024

    refused = desk.request(
        "POST", "/login", content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert refused.status_code == 413


def test_uploads_have_their_own_larger_limit(desk: Desk) -> None:
    limit = desk_upload_limit(desk)
    # Over the form limit, under the upload limit: not refused for its size (but for its token).
    fine = desk.request("POST", "/login", files={"file": ("a.pdf", b"x" * (FORM_MAX_BYTES * 2))})
    assert fine.status_code == 403
    big = desk.request("POST", "/login", files={"file": ("a.pdf", b"x" * (limit + 1))})
    assert big.status_code == 413
    assert "CAP_EVIDENCE_MAX_BYTES" in big.text


def desk_upload_limit(desk: Desk) -> int:
    return FILES_PER_FORM * desk.settings.evidence_max_bytes + FORM_MAX_BYTES
