"""The secret key: `cap init --secret-file` makes one, `cap serve` refuses to run without one,
and a key too short to be safe is refused by every command, never shown."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from tests.cli_runner import Cap, user_error


def test_init_writes_a_key_readable_by_its_owner_only_and_keeps_it(
    cap: Cap, tmp_path: Path
) -> None:
    secret = tmp_path / "cap.env"
    out = cap.ok("init", "--secret-file", str(secret))
    assert f"wrote a new CAP_SECRET_KEY to {secret}" in out
    assert f"set -a; . {secret}; set +a" in out
    text = secret.read_text()
    match = re.fullmatch(r"CAP_SECRET_KEY=([A-Za-z0-9_-]{64})\n", text)
    assert match, text
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    assert match.group(1) not in out

    again = cap.ok("init", "--secret-file", str(secret))
    assert "kept the secret key" in again
    assert secret.read_text() == text  # the key in use signs what is already out


def test_a_key_in_the_working_folder_is_sourced_with_a_path(cap: Cap) -> None:
    out = cap.ok("init", "--secret-file", "cap.env")  # the runner works in tmp_path
    assert "set -a; . ./cap.env; set +a" in out


def test_serve_needs_a_key_and_says_how_to_make_one(cap: Cap) -> None:
    line = user_error(cap.process("serve", "--port", "1"), code=2)
    assert line.startswith("error: CAP_SECRET_KEY: not set")
    assert "cap init --secret-file cap.env" in line


def test_a_short_key_is_refused_and_not_shown(cap: Cap) -> None:
    line = cap.fails("finding", "list", env={"CAP_SECRET_KEY": "s3cret-but-short"}, code=2)
    assert line.startswith("error: CAP_SECRET_KEY: is shorter than 32 characters")
    assert "s3cret" not in line
    # 32 characters is enough.
    cap.ok("finding", "list", env={"CAP_SECRET_KEY": "k" * 32})
