"""``python -m paramcheck`` is the ``paramcheck`` console script under another name."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tomllib

import paramcheck.__main__ as dunder_main

ROOT = Path(__file__).resolve().parents[1]


def test_it_calls_the_main_that_the_console_script_calls() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, attribute = scripts["paramcheck"].partition(":")
    assert f"{dunder_main.main.__module__}:{dunder_main.main.__name__}" == f"{module}:{attribute}"


def test_python_dash_m_runs_the_command(tmp_path: Path) -> None:
    """A usage error exits 2 with the command's one-line message; --version exits 0."""
    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "paramcheck", *argv],
            cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
        )

    failed = run("verify", "no_such_module_xyz:Thing")
    assert failed.returncode == 2, failed.stderr
    assert failed.stdout == ""
    [line] = failed.stderr.splitlines()
    assert line.startswith("paramcheck verify: error: cannot import 'no_such_module_xyz'")

    version = run("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("paramcheck ")
