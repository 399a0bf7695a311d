"""The code stays clean: ruff (lint and format) and mypy run as part of the one test command; CI runs
the README's commands as they are written."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PATHS = [p for p in ("src", "tests", "bench", "examples") if (ROOT / p).exists()]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is in the test extra")
def test_ruff_lint() -> None:
    result = run("ruff", "check", "--output-format", "concise", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is in the test extra")
def test_ruff_format() -> None:
    result = run("ruff", "format", "--check", *PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_commands_as_written() -> None:
    """.ci/run takes the README's two opening commands from it (``--dry-run`` shows them), and both
    make a virtual environment, which a stock Debian or Ubuntu Python requires (PEP 668)."""
    readme = (ROOT / "README.md").read_text()
    serve, tests = (b.strip() for b in re.findall(r"^```sh\n(.*?)^```$", readme, re.M | re.S)[:2])
    assert "\n" not in serve and "\n" not in tests, "each is one command, to copy as it is"
    assert serve.startswith("python3 -m venv .venv && ") and serve.endswith(" && netplay serve")
    assert tests.startswith("python3 -m venv .venv && ") and tests.endswith(" -m pytest")
    result = subprocess.run(
        ["bash", str(ROOT / ".ci" / "run"), "--dry-run"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    apt, *commands = result.stdout.splitlines()
    assert commands == [serve, tests] and "python3-venv" in apt.split()
