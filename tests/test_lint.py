"""Lint is part of the test run: ruff check and ruff format, configured in pyproject.toml."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("args", [["check"], ["format", "--check"]], ids=["check", "format"])
def test_ruff(args: list[str]) -> None:
    """Is the code base clean under ruff (lint rules and formatting)?"""
    ruff = shutil.which("ruff") or f"{sys.executable} -m ruff"
    result = subprocess.run(
        [*ruff.split(), *args, "."], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
