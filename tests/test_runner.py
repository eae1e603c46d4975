"""Tests for autograder.runner (seeds, scores, stops, in-process calls) and its notebook face."""

from __future__ import annotations

import copy
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograder import notebook, policy, runner
from autograder.exercise import make_cases
from autograder.policy import DEV_SECRET, course_secret, hidden_seed
from autograder.reference import tf_conv2d
from autograder.registry import get_lab
from autograder.runner import (
    Returned,
    describe_args,
    in_process_caller,
    run_test,
)

LAB = get_lab("03_filter_banks")
CONV2D = LAB.item("conv2d")
#: hidden_seed("03_filter_banks", "alice") under the secret "s3cret". If this changes, every
#: student's hidden cases change between two gradings of the same course: that must be deliberate.
ALICE_SEED = 2996739336


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CONVLAB_COURSE_SECRET", "s3cret")
    monkeypatch.delenv("CONVLAB_COURSE_SECRET_FILE", raising=False)
    return "s3cret"


def test_hidden_seed_is_stable(secret: str) -> None:
    """Is a student's hidden seed the same on every call and in every release (golden value)?"""
    assert hidden_seed("03_filter_banks", "alice") == hidden_seed("03_filter_banks", "alice")
    assert hidden_seed("03_filter_banks", "alice") == ALICE_SEED


def test_hidden_seed_depends_on_student_lab_and_secret(
    secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Does changing the student, the lab or the course secret change the seed?"""
    seeds = {
        hidden_seed("03_filter_banks", "alice"),
        hidden_seed("03_filter_banks", "bob"),
        hidden_seed("01_convolution_by_hand", "alice"),
    }
    monkeypatch.setenv("CONVLAB_COURSE_SECRET", "another course")
    seeds.add(hidden_seed("03_filter_banks", "alice"))
    assert len(seeds) == 4
    assert all(0 <= s < 2**32 for s in seeds)


def test_secret_file_is_read_when_no_secret_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Is $CONVLAB_COURSE_SECRET_FILE read (newline stripped) when the variable is unset?"""
    path = tmp_path / "secret.txt"
    path.write_text("s3cret\n")
    monkeypatch.delenv("CONVLAB_COURSE_SECRET", raising=False)
    monkeypatch.setenv("CONVLAB_COURSE_SECRET_FILE", str(path))
    assert course_secret() == "s3cret"
    assert hidden_seed("03_filter_banks", "alice") == ALICE_SEED


def test_development_secret_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without any secret configured, is the development secret used?"""
    monkeypatch.delenv("CONVLAB_COURSE_SECRET", raising=False)
    monkeypatch.delenv("CONVLAB_COURSE_SECRET_FILE", raising=False)
    assert course_secret() == DEV_SECRET


# ----------------------------------------------------------------------------------------------
# Scoring, with scripted callers


def scripted(*plan: str) -> tuple[Callable[..., Any], list[tuple[Any, ...]]]:
    """A caller answering the i-th call by plan[i]: "right", "none", or a status like "timeout"."""
    calls: list[tuple[Any, ...]] = []

    def call(name: str, *args: Any) -> Returned:
        step = plan[min(len(calls), len(plan) - 1)]
        calls.append(args)
        if step == "right":
            return Returned("ok", tf_conv2d(*args), "ndarray")
        if step == "none":
            return Returned("ok", None, "NoneType")
        return Returned(step, message=f"{name}: {step} in call {len(calls)}")

    return call, calls


@pytest.mark.parametrize(
    "suite, right, score, status",
    [
        ("valid_stride1", 6, 2.0, "passed"),
        ("valid_stride1", 4, 1.33, "failed"),
        ("valid_stride1", 0, 0.0, "failed"),
        ("edges", 5, 1.43, "failed"),
        ("hidden", 1, 0.17, "failed"),
        ("hidden", 11, 1.83, "failed"),
    ],
    ids=["6of6", "4of6", "0of6", "edges-5of7", "hidden-1of12", "hidden-11of12"],
)
def test_score_is_proportional_to_cases_passed(
    suite: str, right: int, score: float, status: str
) -> None:
    """Is the score points · passed / total, rounded to 2 decimals?"""
    call, _ = scripted(*["right"] * right, "none")
    result = run_test(call, LAB, CONV2D, CONV2D.test(suite), 0)
    assert (result.passed, result.score, result.status) == (right, score, status)
    assert result.max_score == CONV2D.test(suite).points


def test_report_shows_the_smallest_failure_then_a_few_more() -> None:
    """Does the report detail the smallest failing case, list 3 more and count the rest?"""
    call, _ = scripted("none")
    result = run_test(call, LAB, CONV2D, CONV2D.test("hidden"), 5)
    lines = result.output.splitlines()
    assert lines[0].startswith("✘ conv2d — hidden (hidden): 0/12 cases right")
    assert "a seed drawn for you at grading time" in lines[0]  # the hidden seed is not shown
    assert lines[1].startswith("  Smallest failing case: ") and "case 0)" in lines[1]
    assert sum(line.startswith("  Also failing: ") for line in lines) == 3
    assert lines[-1] == "  ... and 8 more failing cases"


def test_visible_report_prints_the_seed() -> None:
    """Does a visible test's report print its seed, so the student can reproduce the case?"""
    call, _ = scripted("right")
    result = run_test(call, LAB, CONV2D, CONV2D.test("batch"), 0)
    assert result.output == "✔ conv2d — batch: 4/4 cases right (seed 0) — 2/2 points"


def test_forbidden_findings_void_a_by_hand_test() -> None:
    """Does a static finding give zero without calling the function, listing what was found?"""
    call, calls = scripted("right")
    findings = ["line 4: np.convolve is a library convolution"]
    result = run_test(call, LAB, CONV2D, CONV2D.test("batch"), 0, forbidden=findings)
    assert (result.score, result.passed, result.forbidden) == (0.0, 0, tuple(findings))
    assert "this exercise must be done by hand" in result.output
    assert "  - line 4: np.convolve is a library convolution" in result.output
    assert calls == []


def test_forbidden_findings_do_not_touch_library_items() -> None:
    """Is an item that is meant to call a library (lab 04) graded despite static findings?"""
    lab = get_lab("04_tf_conv2d")
    item = lab.item("cifar_filter_shape")

    def call(name: str, *args: Any) -> Returned:
        return Returned("ok", [5, 5, 3, 16], "list")

    result = run_test(
        call, lab, item, item.test("cifar_filter_shape"), 0, forbidden=["tf.nn.conv2d"]
    )
    assert result.score == result.max_score


def test_forbidden_use_at_run_time_voids_the_test() -> None:
    """Does a call graded "forbidden" zero the test, stop it and record what was used?"""
    call, calls = scripted("right", "right", "forbidden")
    result = run_test(call, LAB, CONV2D, CONV2D.test("valid_stride1"), 0)
    assert (result.score, result.passed, len(calls)) == (0.0, 0, 3)
    assert result.forbidden == ("conv2d: forbidden in call 3",)
    assert "Stopped after a forbidden" in result.output


@pytest.mark.parametrize("status", ["timeout", "memory"])
def test_timeout_or_memory_stops_the_remaining_cases(status: str) -> None:
    """After a timeout (or memory) result, are the remaining cases skipped and counted as failed?"""
    call, calls = scripted("right", "right", status)
    result = run_test(call, LAB, CONV2D, CONV2D.test("valid_stride1"), 0)
    assert len(calls) == 3
    assert (result.passed, result.total, result.score) == (2, 6, 0.67)
    assert (
        f"Stopped after a {status}: the remaining 3 cases were not run and count as failed."
        in result.output
    )


def test_an_error_does_not_stop_the_test() -> None:
    """Does an ordinary error in one case still let the other cases run?"""
    call, calls = scripted("error", "right")
    result = run_test(call, LAB, CONV2D, CONV2D.test("valid_stride1"), 0)
    assert len(calls) == 6 and result.passed == 5


def test_every_call_gets_its_own_copy_of_the_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Can a function that writes into its arguments change neither the cases nor the verdicts?"""
    cases = make_cases("conv2d", "valid_stride1", 0)
    snapshot = copy.deepcopy([c.args for c in cases])
    monkeypatch.setattr(runner, "make_cases", lambda checker, suite, seed: cases)

    def vandal(inputs: Any, filters: Any, strides: Any, padding: str) -> np.ndarray:
        out = tf_conv2d(inputs, filters, strides, padding)
        inputs[...] = 0.0
        filters[...] = np.nan
        if isinstance(strides, list):
            strides.append(99)
        return out

    result = run_test(in_process_caller(vandal), LAB, CONV2D, CONV2D.test("valid_stride1"), 0)
    assert result.score == result.max_score, result.output
    for case, before in zip(cases, snapshot, strict=True):
        for arg, original in zip(case.args, before, strict=True):
            np.testing.assert_array_equal(np.asarray(arg), np.asarray(original))


def test_describe_args_gives_shapes_and_values() -> None:
    """Are array arguments described by shape and the others by value, with their names?"""
    case = make_cases("conv2d", "valid_stride1", 0)[0]
    assert describe_args(case) == (
        "inputs (1, 3, 3, 1), filters (3, 1, 1, 1), strides=[1, 1, 1, 1], padding='VALID'"
    )


def test_gradescope_row_hides_hidden_tests_until_published() -> None:
    """Is a hidden test's row shown only after publication, and named function: suite?"""
    call, _ = scripted("right")
    row = run_test(call, LAB, CONV2D, CONV2D.test("hidden"), 3).gradescope()
    assert row["name"] == "conv2d: hidden" and row["visibility"] == "after_published"
    assert (row["score"], row["max_score"], row["status"]) == (2.0, 2, "passed")


# ----------------------------------------------------------------------------------------------
# The in-process caller


def not_done(inputs: Any, filters: Any, strides: Any, padding: str) -> Any:
    raise NotImplementedError


def broken(inputs: Any, filters: Any, strides: Any, padding: str) -> Any:
    size = inputs.shape[1] - filters.shape[0]
    raise ValueError(f"negative dimensions are not allowed ({size})")


def endless(inputs: Any, filters: Any, strides: Any, padding: str) -> Any:
    return endless(inputs, filters, strides, padding)


def test_in_process_caller_explains_not_implemented() -> None:
    """Is NotImplementedError reported as "not implemented yet" rather than a traceback?"""
    returned = in_process_caller(not_done)(
        "conv2d", np.ones((1, 3, 3, 1)), np.ones((2, 2, 1, 1)), 1, "SAME"
    )
    assert returned.status == "error"
    assert returned.message == "conv2d is not implemented yet (it raises NotImplementedError)."


def test_in_process_caller_reports_the_students_line() -> None:
    """Does an exception name its type, message and the student's line of code?"""
    returned = in_process_caller(broken)(
        "conv2d", np.ones((1, 3, 3, 1)), np.ones((4, 4, 1, 1)), 1, "SAME"
    )
    assert returned.status == "error"
    assert returned.message.startswith("conv2d raised ValueError: negative dimensions")
    assert "in broken: raise ValueError(" in returned.message


def test_in_process_caller_survives_endless_recursion() -> None:
    """Is a RecursionError caught and reported as an error?"""
    returned = in_process_caller(endless)("conv2d", 1, 2, 3, "SAME")
    assert returned.status == "error" and "RecursionError" in returned.message


def test_in_process_caller_converts_tensors() -> None:
    """Is a returned tensor (anything with .numpy()) converted, keeping its type name?"""

    class EagerTensor:
        def numpy(self) -> np.ndarray:
            return np.arange(3.0)

    returned = in_process_caller(lambda: EagerTensor())("conv2d")
    assert (returned.status, returned.type_name) == ("ok", "EagerTensor")
    np.testing.assert_array_equal(returned.value, np.arange(3.0))


# ----------------------------------------------------------------------------------------------
# The notebook face: autograder.notebook

NOISY_STUDENT = """\
import sys
import warnings

import numpy as np


def conv2d(inputs, filters, strides, padding):
    warnings.warn("slow loops ahead")
    print("careful: debugging output", file=sys.stderr)
    n, h, w, _ = inputs.shape
    kh, kw, _, c_out = filters.shape
    s = strides if isinstance(strides, int) else strides[-2] if len(strides) == 4 else strides[0]
    oh, ow = (h - kh) // s + 1, (w - kw) // s + 1
    out = np.zeros((n, oh, ow, c_out))
    for i in range(oh):
        for j in range(ow):
            window = inputs[:, i * s : i * s + kh, j * s : j * s + kw, :]
            out[:, i, j, :] = np.tensordot(window, filters, axes=3)
    return out
"""

LIBRARY_STUDENT = """\
import numpy as np


def conv2d(inputs, filters, strides, padding):
    return np.convolve(inputs.ravel(), filters.ravel())
"""


def student_function(tmp_path: Path, source: str, name: str = "conv2d") -> Any:
    """Import student code from its own file, as a notebook cell is registered with linecache."""
    path = tmp_path / "student_cell.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"student_cell_{id(path)}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def test_check_prints_the_report_and_returns_the_score(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Does check() print the report, return the points, and keep stderr empty despite noise?"""
    fn = student_function(tmp_path, NOISY_STUDENT)
    score = notebook.check(fn, "conv2d", "valid_stride1", lab="03_filter_banks")
    captured = capsys.readouterr()
    assert score == 2.0
    assert captured.err == ""
    assert "✔ conv2d — valid_stride1: 6/6 cases right (seed 0) — 2/2 points" in captured.out
    assert "(your code wrote to stderr: careful: debugging output" in captured.out
    assert "(warnings while running your code: slow loops ahead)" in captured.out


def test_check_gives_partial_credit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Does a function right on some cases of a suite get a fraction of the points?"""
    fn = student_function(tmp_path, NOISY_STUDENT)  # VALID only: SAME cases fail
    score = notebook.check(fn, "conv2d", "multichannel", lab="03_filter_banks")
    out = capsys.readouterr().out
    assert 0 < score < 2
    assert out.startswith("✘ conv2d — multichannel:")


def test_check_refuses_library_convolutions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Does check() give zero to a by-hand exercise answered with np.convolve?"""
    fn = student_function(tmp_path, LIBRARY_STUDENT)
    score = notebook.check(fn, "conv2d", "valid_stride1", lab="03_filter_banks")
    assert score == 0.0
    assert "must be done by hand" in capsys.readouterr().out


def test_check_of_something_not_callable(capsys: pytest.CaptureFixture[str]) -> None:
    """Is a name that is not a function (e.g. conv2d = 3) reported, for zero points?"""
    assert notebook.check(3, "conv2d", "valid_stride1") == 0.0
    assert "conv2d is a int, not a function" in capsys.readouterr().out


def test_check_hidden_uses_the_students_seed(
    tmp_path: Path,
    secret: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Does check_hidden() grade with hidden_seed(lab, student), not announcing the seed?"""
    monkeypatch.setenv("CONVLAB_STUDENT_ID", "alice")
    fn = student_function(tmp_path, NOISY_STUDENT)
    score = notebook.check_hidden(fn, "conv2d", lab="03_filter_banks")
    out = capsys.readouterr().out
    with pytest.warns(UserWarning, match="slow loops ahead"):  # outside check(): not caught
        expected = run_test(in_process_caller(fn), LAB, CONV2D, CONV2D.test("hidden"), ALICE_SEED)
    assert score == expected.score
    assert "a seed drawn for you at grading time" in out.splitlines()[0]


def test_hidden_report_never_prints_the_seed() -> None:
    """Does a failing hidden test's report keep the seed secret (it regenerates every case)?"""
    call, _ = scripted("none")
    result = run_test(call, LAB, CONV2D, CONV2D.test("hidden"), ALICE_SEED)
    assert str(ALICE_SEED) not in result.output


@pytest.mark.parametrize(
    "parts, student",
    [
        (("autograded", "alice", "03_filter_banks"), "alice"),
        (("course", "autograded", "bob", "01_convolution_by_hand"), "bob"),
        (("submitted", "carol", "03_filter_banks"), policy.LOCAL_STUDENT),
        (("labs", "03_filter_banks"), policy.LOCAL_STUDENT),
    ],
    ids=["autograded", "nested-autograded", "submitted", "release"],
)
def test_notebook_student_id_reads_the_autograded_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: tuple[str, ...], student: str
) -> None:
    """Is the student read off nbgrader's autograded/<student>/<lab>/ working folder?"""
    monkeypatch.delenv("CONVLAB_STUDENT_ID", raising=False)
    cwd = tmp_path.joinpath(*parts)
    cwd.mkdir(parents=True)
    assert policy.notebook_student_id(cwd) == student
    monkeypatch.chdir(cwd)
    assert policy.notebook_student_id() == student


def test_student_id_variable_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does $CONVLAB_STUDENT_ID override the folder?"""
    monkeypatch.setenv("CONVLAB_STUDENT_ID", "dave")
    cwd = tmp_path / "autograded" / "alice" / "03_filter_banks"
    cwd.mkdir(parents=True)
    assert policy.notebook_student_id(cwd) == "dave"
