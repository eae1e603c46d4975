"""pytest options for the grader's pytest face: --submission, --lab, --student, --results-json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("convlab", "convlab autograder (pytest --pyargs autograder.suite)")
    group.addoption("--submission", type=Path, help="the .ipynb or .py submission to grade")
    group.addoption("--lab", help="lab id (default: guessed from the submission's path)")
    group.addoption("--student", help="student id for the hidden seed (default: from the path)")
    group.addoption("--results-json", type=Path, help="also write Gradescope's results.json here")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    report = getattr(config, "_convlab_report", None)
    if report is None:
        return
    terminalreporter.write_sep("=", f"convlab score: {report.score:g} / {report.max_score:g}")
    path = config.getoption("--results-json")
    if path:
        path.write_text(json.dumps(report.results_json(), indent=2, ensure_ascii=False))
        terminalreporter.write_line(f"results.json written to {path}")
