"""A serving process settles before its first request: every page's template compiled and
what start-up left frozen out of the garbage collector's way (cap.web.app.settle_process).
Checked in a process of its own: a frozen heap in the test process would never be freed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import cap.web as web
from cap.config import Settings
from tests.web.conftest import SECRET

pytestmark = pytest.mark.slow  # Python processes of their own

PROBE = """
import gc, json, sys
from pathlib import Path
from fastapi.testclient import TestClient
from pydantic import SecretStr
from cap.config import Settings
from cap.web import app as web

settle = sys.argv[2] == "settle"
settings = Settings(database_url=sys.argv[1], secret_key=SecretStr(sys.argv[3]),
                    mail_dir=Path(sys.argv[4]))
compiled = []
real = web.settle_process
def counted(templates):
    real(templates)
    compiled.extend(templates.env.cache.keys() if templates.env.cache is not None else ())
web.settle_process = counted
with TestClient(web.create_app(settings, settle=settle)) as browser:
    status = browser.get("/login").status_code
    print(json.dumps({"frozen": gc.get_freeze_count(), "compiled": len(compiled),
                      "status": status}))
"""


def probe(url: str, settle: bool, tmp_path: Path) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, url, "settle" if settle else "no", SECRET,
         str(tmp_path / "mail")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict[str, int] = json.loads(done.stdout)
    return result


def test_a_serving_process_compiles_every_page_and_freezes_its_start(
    settings: Settings, tmp_path: Path
) -> None:
    settled = probe(settings.database_url, True, tmp_path)
    templates = sorted((Path(web.__file__).parent / "templates").glob("**/*.html"))
    assert settled["status"] == 200
    assert settled["compiled"] == len(templates) > 10
    assert settled["frozen"] > 10_000  # the modules, the application, the templates


def test_an_application_built_in_a_test_freezes_nothing(settings: Settings, tmp_path: Path) -> None:
    unsettled = probe(settings.database_url, False, tmp_path)
    assert unsettled == {"frozen": 0, "compiled": 0, "status": 200}
