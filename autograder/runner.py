"""Run one graded test (an item's suite) through any caller and turn the verdicts into a score."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import policy
from .cases import Case
from .checks import CaseResult, Tier
from .exercise import check_case, get_exercise, make_cases
from .policy import STOP_STATUSES, Status
from .reference import GraderError as _GraderError
from .reference import expected_or_errors as _expected_or_errors
from .registry import Item, Lab, Test
from .sandbox import CallResult as Returned  # the same record whether sandboxed or not

#: How many more failing cases to list after the smallest one.
LIST_MORE_FAILURES = 3


Caller = Callable[..., Any]  # caller(function_name, *args) -> Returned-like


@dataclass
class TestResult:
    """One graded test's verdict: a row of Gradescope's results.json `tests` list."""

    lab: str
    function: str
    suite: str
    hidden: bool
    seed: int
    score: float
    max_score: float
    passed: int
    total: int
    output: str
    failures: list[CaseResult] = field(default_factory=list)
    forbidden: tuple[str, ...] = ()
    seconds: float = 0.0
    #: The status that stopped the remaining cases early ("timeout", "memory", ...), if any.
    stopped: str | None = None

    @property
    def name(self) -> str:
        return f"{self.function}: {self.suite}"

    @property
    def status(self) -> str:
        return "passed" if self.score >= self.max_score else "failed"

    def gradescope(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "score": self.score,
            "max_score": self.max_score,
            "status": self.status,
            "output": self.output,
            "visibility": "after_published" if self.hidden else "visible",
        }


def describe_args(case: Case) -> str:
    """The case's arguments in words: shapes for arrays, values otherwise."""
    return case.args.describe()


def _copy_args(args: Sequence[Any]) -> tuple[Any, ...]:
    # Every call gets fresh copies: a function that writes into its inputs must not change the
    # cases (or the reference) seen by the next call.
    return tuple(copy.deepcopy(a) for a in args)


def run_test(
    call: Caller,
    lab: Lab,
    item: Item,
    test: Test,
    seed: int,
    *,
    function: str | None = None,
    forbidden: Sequence[str] = (),
) -> TestResult:
    """Grade one test: call the student's function on every case, check, score, explain.

    `forbidden` lists static findings (library convolutions in a by-hand item): they void the test.
    """
    start = time.monotonic()
    fname = function or item.function
    cases = make_cases(item.exercise, test.suite, seed)
    head = f"{fname} — {test.suite}{' (hidden)' if test.hidden else ''}"
    if policy.voids(item, forbidden):
        listing = "\n".join(f"  - {f}" for f in forbidden)
        return TestResult(
            lab.id, fname, test.suite, test.hidden, seed, 0.0, test.points, 0, len(cases),
            f"✘ {head}: no credit — this exercise must be done by hand, and your code uses:\n"
            f"{listing}",
            forbidden=tuple(forbidden), seconds=time.monotonic() - start,
        )  # fmt: skip
    expected = _expected_or_errors(cases)
    prop = _graded_property(call, item, test, fname, cases, expected)
    if prop is not None:
        ok, why = prop
        score = float(test.points) if ok else 0.0
        output = f"{'✔' if ok else '✘'} {head}: {score:g}/{test.points:g} points — {why}"
        failures = [CaseResult(c, False, Tier.VALUES, why) for c in cases[-1:] if not ok]
        return TestResult(
            lab.id, fname, test.suite, test.hidden, seed, score, test.points, int(ok), 1, output,
            failures, seconds=time.monotonic() - start,
        )  # fmt: skip
    results: list[CaseResult] = []
    stopped: str | None = None
    used_forbidden: list[str] = []
    for case, exp in zip(cases, expected, strict=True):
        if stopped:
            break
        if isinstance(exp, _GraderError):
            results.append(grader_failure(case, "compute the expected answer", exp.error))
            continue
        returned = call(fname, *_copy_args(case.args))
        policy.explain_stub(returned, fname)  # the released stub, said the same on every path
        results.append(_checked(case, returned, exp, fname))
        if returned.status in STOP_STATUSES:
            stopped = returned.status
            if returned.status == Status.FORBIDDEN:
                used_forbidden.append(returned.message)
    passed = sum(r.passed for r in results)
    if used_forbidden:
        passed = 0
    score = round(test.points * passed / len(cases), 2)
    output = _report(head, cases, results, passed, seed, test, score, stopped)
    return TestResult(
        lab.id, fname, test.suite, test.hidden, seed, score, test.points, passed, len(cases),
        output, [r for r in results if not r.passed], tuple(used_forbidden),
        time.monotonic() - start, stopped,
    )  # fmt: skip


def _graded_property(
    call: Caller, item: Item, test: Test, fname: str, cases: list[Case], expected: list[Any]
) -> tuple[bool, str] | None:
    """The exercise's verdict on a suite it grades as a whole (`Exercise.graded_property`), or
    None for a suite graded case by case; a failure of the grader is said as such."""
    answers = [e.error if isinstance(e, _GraderError) else e for e in expected]
    try:
        return get_exercise(item.exercise).graded_property(test.suite, call, fname, cases, answers)
    except Exception as error:
        text = f"{type(error).__name__}: {error}"[:300]
        return False, f"the grader could not measure it ({text}); tell the course staff."


def grader_failure(case: Case, doing: str, error: BaseException) -> CaseResult:
    """A case the grader itself could not judge: failed, with the reason (never a crash)."""
    text = f"{type(error).__name__}: {error}"[:300]
    return CaseResult(
        case, False, Tier.GRADER,
        f"The grader could not {doing} for this case ({text}). This case counts as failed; "
        "if your answer looks right, tell the course staff.",
    )  # fmt: skip


def _checked(case: Case, returned: Returned, expected: Any, function: str) -> CaseResult:
    """check_case, with any exception inside a check (tiers, variants, explanations) contained
    to this case."""
    try:
        return check_case(case, returned, expected, function)
    except Exception as error:
        return grader_failure(case, f"check what {function} returned", error)


def _report(
    head: str,
    cases: list[Case],
    results: list[CaseResult],
    passed: int,
    seed: int,
    test: Test,
    score: float,
    stopped: str | None,
) -> str:
    secret = policy.drawn_for_student(test, seed)
    seed_text = "a seed drawn for you at grading time" if secret else f"seed {seed}"
    mark = "✔" if passed == len(cases) else "✘"
    lines = [
        f"{mark} {head}: {passed}/{len(cases)} cases right ({seed_text}) — "
        f"{score:g}/{test.points:g} points"
    ]
    failures = [r for r in results if not r.passed]
    if failures:
        smallest = min(failures, key=lambda r: r.case.size)
        # A case drawn from the course secret is named without its seed: the seed would
        # regenerate the student's other cases.
        if test.hidden:
            where = f"{smallest.case.label} (hidden suite, case {smallest.case.index})"
        elif secret:
            where = (
                f"{smallest.case.label} (suite {test.suite!r}, drawn for you at grading time, "
                f"case {smallest.case.index})"
            )
        else:
            where = smallest.case.description
        lines.append(f"  Smallest failing case: {where}")
        lines.append(f"    {describe_args(smallest.case)}")
        lines.extend(f"    {line}" for line in smallest.message.splitlines())
        others = [r for r in failures if r is not smallest]
        for r in others[:LIST_MORE_FAILURES]:
            lines.append(f"  Also failing: {r.case.label} ({r.tier})")
        if len(others) > LIST_MORE_FAILURES:
            lines.append(f"  ... and {len(others) - LIST_MORE_FAILURES} more failing cases")
    if stopped:
        lines.append(
            f"  Stopped after a {stopped}: the remaining {len(cases) - len(results)} cases were "
            "not run and count as failed."
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# Calling a function in this process (the notebook path)


def in_process_caller(fn: Callable[..., Any]) -> Caller:
    """A caller that runs `fn` right here (notebook self-checks and nbgrader's autograde)."""

    def call(
        name: str,
        *args: Any,
        measure_cpu: bool = False,
        baseline: Callable[[], object] | None = None,
    ) -> Returned:
        if baseline is not None:
            baseline()  # the grader's own measurement, right before the call (as the sandbox)
        start = time.monotonic()
        cpu_start = time.thread_time()
        try:
            value = fn(*args)
        except NotImplementedError:
            return Returned(Status.ERROR, message=policy.not_implemented(name))
        except Exception as exc:  # RecursionError included
            msg = f"{name} raised {policy.student_traceback(exc)}"
            return Returned(Status.ERROR, message=msg, seconds=time.monotonic() - start)
        type_name = type(value).__name__
        if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
            try:
                value = value.numpy()
            except Exception:
                pass
        if measure_cpu and not isinstance(value, np.ndarray):
            try:  # inside the timing: any work hidden in a lazy result happens here
                value = np.asarray(value)
            except Exception:
                pass
        cpu = time.thread_time() - cpu_start
        returned = Returned(Status.OK, value, type_name, "", time.monotonic() - start)
        if measure_cpu:  # this thread's: a kernel's BLAS threads make a notebook lenient
            returned.cpu_seconds = cpu
        return returned

    return call
