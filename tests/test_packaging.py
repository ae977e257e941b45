"""A non-editable install works from any folder: templates (and rules) ship inside the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # builds a wheel and installs it in a new environment

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import cap, cap.notify.render as r, cap.notify.samples as s
print(cap.__file__)
print(r.default_template_dir())
print(r.Renderer().render("cap_requested", "sv", s.sample_context("cap_requested", "sv")).subject)
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with cap installed from a freshly built wheel."""
    base = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(base / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = (base / "dist").glob("*.whl")
    env_dir = base / "venv"
    venv.create(env_dir, system_site_packages=False, with_pip=False)
    python = env_dir / "bin" / "python"
    # The dependencies come from the interpreter running the tests, which may itself be a
    # virtual environment (system_site_packages would reach past it to the base interpreter).
    # Plain path lines: that folder's own .pth files (the editable install of this checkout)
    # are not processed, so `cap` can only come from the wheel.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    parents = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "_test_dependencies.pth").write_text("\n".join(sorted(parents)) + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return env_dir


def test_the_wheel_carries_templates_and_runs_from_elsewhere(
    installed: Path, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAP_")}
    probe = subprocess.run(
        [
            str(installed / "bin" / "python"),
            "-c",
            PROBE,
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    module, templates, subject = probe.stdout.splitlines()
    assert module.startswith(str(installed)), "cap was imported from the checkout, not the wheel"
    assert templates.startswith(str(installed)) and templates.endswith("_data/email_templates")
    assert "NC-2026-0042" in subject
    init = subprocess.run(
        [str(installed / "bin" / "cap"), "init"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert init.returncode == 0, init.stderr
    assert "created the database sqlite:///cap.db" in init.stdout
    assert (tmp_path / "cap.db").exists()
    # The files pages load: the desk's, and those of the API's documentation page.
    package = Path(module).parent
    for served in ("web/static/cap.css", "web/static/htmx.min.js", "api/static/docs.js",
                   "api/static/docs.css"):  # fmt: skip
        assert (package / served).is_file(), served
