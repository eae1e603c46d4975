"""The graded items as pytest tests: `pytest --pyargs autograder.suite --submission FILE`."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import runner
from .registry import LABS, Lab, get_lab


def _lab(config: pytest.Config) -> Lab | None:
    from .__main__ import _guess_lab

    path: Path | None = config.getoption("--submission")
    lab_id = config.getoption("--lab") or (_guess_lab(path) if path else None)
    return get_lab(lab_id) if lab_id else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per graded (item, suite) of the submission's lab, named like results.json."""
    if "graded" not in metafunc.fixturenames:
        return
    lab = _lab(metafunc.config)
    labs = [lab] if lab else list(LABS.values())
    params = [
        pytest.param((lab.id, item.function, test.suite), id=f"{item.function}: {test.suite}")
        for lab in labs
        for item in lab.items
        for test in item.tests
    ]
    metafunc.parametrize("graded", params)


@pytest.fixture(scope="session")
def convlab_report(pytestconfig: pytest.Config):
    """The whole submission graded once, in the sandbox, exactly as `python -m autograder grade`."""
    from .grade import grade_submission

    path: Path | None = pytestconfig.getoption("--submission")
    if path is None:
        pytest.skip("no --submission given")
    lab = _lab(pytestconfig)
    if lab is None:
        pytest.fail(f"cannot tell the lab of {path}; pass --lab (one of {', '.join(LABS)})")
    report = grade_submission(path, lab, student=pytestconfig.getoption("--student"))
    pytestconfig._convlab_report = report  # type: ignore[attr-defined]
    if report.grader_error:  # an error of every test (not a failure): the grader, not the code
        raise RuntimeError("the grader itself failed: " + "; ".join(report.grader_errors))
    return report


def test_graded(convlab_report, graded: tuple[str, str, str], record_property) -> None:
    """Does the submission earn every point of this graded test?"""
    _, function, suite = graded
    result: runner.TestResult = next(
        t for t in convlab_report.tests if t.function == function and t.suite == suite
    )
    record_property("score", result.score)
    record_property("max_score", result.max_score)
    assert result.score >= result.max_score, result.output
