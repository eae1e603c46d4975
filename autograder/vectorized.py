"""Is conv2d_fast vectorized? Its CPU time on a large image against a vectorized reference's.

A Python loop over output pixels costs about a microsecond per pixel whatever it does inside
(a numpy call, `map`, `np.apply_along_axis`, `np.vectorize`, a comprehension of floats, code
compiled under another file name); vectorized code costs a few nanoseconds. So, once both seeded
cases are right, conv2d_fast is called on a MEASURED × MEASURED image of fresh random values
(one channel in and out, a 3×3 filter, SAME, stride 1) and its CPU time is compared with that of
`yardstick`, the lab's own im2col (`sliding_window_view`, one copy into a matrix) with numpy's
einsum in place of the BLAS product so that it runs on one thread, timed by the grader just
before on the same machine. CPU time, not wall time, and the least of several runs on each side:
other programs on the machine hardly change the ratio, nor does a faster or slower machine.

Measured on this lab's 2-core machine (load average 7 to 17 from other jobs, and with two more
busy loops), CPU time / the yardstick's, in all three isolation modes: honest variants 1.4-3.8
(the solution's im2col and BLAS product, np.einsum or np.tensordot over the windows, a loop over
the 9 kernel positions of whole-image products); loops over output pixels 15-21 (a comprehension
of Python floats with the products written out, the cheapest we know), 17-45 (one numpy call
per pixel through for, map, np.vectorize, np.apply_along_axis, exec, a helper module, a thread)
and 60-140 (a generic comprehension of floats, four loops with np.sum per value). LIMIT = 8 sits
between them. A loop over output rows (one whole row per iteration) measures about 3: it passes.

Where the numbers come from. The student's CPU time: in the sandbox, the grader reads the CPU
time of the worker's whole process tree from /proc before sending the call and after its reply
(`Sandbox.call(..., measure_cpu=True)`): every thread and child counts, and nothing the student's
code runs, writes on the pipe or returns can change it. The yardstick's: the grader's own thread
(`time.thread_time`), in the grader's process, run through the call's `baseline` while every
process of the worker is stopped (SIGSTOP), so that no thread the student's code left running can
slow it down. In a notebook (the self-check) both are timed in the notebook's thread. The values
are fresh each time (not from the seed): no answer can be computed before the call.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from .cases import Case
from .checks import CaseResult
from .policy import Status

#: The suite name of the vectorization test (lab 05's conv2d_fast).
VECTORIZED = "vectorized"
#: Input sizes (height = width) of the two seeded cases that must be right first.
SMALL, LARGE = 8, 16
#: Height and width of the measured image (one channel in, one out, 3×3 filter, SAME).
MEASURED = 256
#: The most CPU time conv2d_fast may use, in multiples of the yardstick's, and still be
#: vectorized: vectorized code measures 1-4, a loop over output pixels 15 and more.
LIMIT = 8.0
#: At most this many measured calls (each on fresh values); another is made only while the
#: least ratio so far is above LIMIT but below CLEARLY times LIMIT (a disturbed run, maybe).
ATTEMPTS = 3
CLEARLY = 3.0
#: The yardstick's time is the least of this many runs before each measured call.
YARDSTICK_RUNS = 5
#: How far the measured answer may be from the yardstick's (float64 on both sides; a float32
#: answer is right to about 1e-6 of these sums of 9 products of values in [-1, 1]).
TOLERANCE = 1e-4

Call = Callable[..., Any]
Check = Callable[[Case, Any, Any, str], CaseResult]


def vectorized_cases(seed: int, args_type: Callable[..., Any]) -> list[Case]:
    """The two seeded cases that must be right first: a 3×3 filter bank (2 in, 3 out channels),
    SAME, stride 1, on SMALL×SMALL and LARGE×LARGE inputs (`args_type` builds a case's args)."""
    rng = np.random.default_rng([seed, 0x7EC])
    filters = rng.uniform(-1.0, 1.0, size=(3, 3, 2, 3))
    cases = []
    for index, size in enumerate((SMALL, LARGE)):
        inputs = rng.uniform(-1.0, 1.0, size=(1, size, size, 2))
        args = args_type(inputs, filters, [1, 1, 1, 1], "SAME")
        label = f"N1-H{size}xW{size}-C2to3-K3x3-s[1,1,1,1]-SAME"
        cases.append(Case("conv2d", VECTORIZED, seed, index, args, label, size * size))
    return cases


def yardstick(inputs: NDArray[np.float64], filters: NDArray[np.float64]) -> NDArray[np.float64]:
    """A vectorized conv2d (SAME, stride 1, odd kernel) on one thread: im2col and einsum."""
    batch, height, width, channels = inputs.shape
    fh, fw, _, out_c = filters.shape
    padded = np.zeros((batch, height + fh - 1, width + fw - 1, channels))
    padded[:, fh // 2 : fh // 2 + height, fw // 2 : fw // 2 + width] = inputs
    windows = sliding_window_view(padded, (fh, fw), axis=(1, 2))  # (N, H, W, C, fh, fw)
    cols = windows.transpose(0, 1, 2, 4, 5, 3).reshape(batch * height * width, -1)
    out = np.einsum("pk,ko->po", cols, filters.reshape(-1, out_c))  # no BLAS: one thread
    return out.reshape(batch, height, width, out_c)


def timed_yardstick(
    inputs: NDArray[np.float64], filters: NDArray[np.float64]
) -> tuple[NDArray[np.float64], float]:
    """(the yardstick's answer, its least CPU time of YARDSTICK_RUNS runs on this thread)."""
    best, answer = float("inf"), None
    for _ in range(YARDSTICK_RUNS):
        start = time.thread_time()
        answer = yardstick(inputs, filters)
        best = min(best, time.thread_time() - start)
    assert answer is not None
    return answer, max(best, 1e-6)


def _yardstick_into(
    into: list[Any], inputs: NDArray[np.float64], filters: NDArray[np.float64]
) -> Callable[[], None]:
    """The baseline run by the caller right before the measured call: appends (answer, CPU)."""
    return lambda: into.append(timed_yardstick(inputs, filters))


def _fresh_input(rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    inputs = rng.uniform(-1.0, 1.0, size=(1, MEASURED, MEASURED, 1))
    filters = rng.uniform(-1.0, 1.0, size=(3, 3, 1, 1))
    return inputs, filters


_WHAT = (
    f"a {MEASURED}×{MEASURED} image ({MEASURED * MEASURED:,} output pixels, 1 channel in and out, "
    "3×3 filter, SAME)"
)
_YARDSTICK = (
    "a vectorized convolution (im2col with numpy) that the grader timed just before on the same "
    "machine"
)


def _wrong_answer(got: Any, expected: NDArray[np.float64]) -> str | None:
    """Why `got` is not the measured image's answer, or None when it is."""
    try:
        value = np.asarray(got, dtype=np.float64)
    except Exception:
        return f"it returned a {type(got).__name__}, not an array of numbers"
    if value.shape != expected.shape:
        return f"it returned shape {value.shape}; expected {expected.shape}"
    if not np.allclose(value, expected, rtol=TOLERANCE, atol=TOLERANCE):
        return "its values differ from the right answer (tf.nn.conv2d's)"
    return None


def measure(
    call: Call,
    function: str,
    cases: list[Case],
    expected: list[Any],
    check: Check,
    rng: np.random.Generator | None = None,
) -> tuple[bool, str]:
    """(vectorized?, the sentence saying why): both seeded cases right, then the measured calls.

    A grader failure (no reference, no CPU time) raises; the student's failures are verdicts.
    """
    for case, exp in zip(cases, expected, strict=True):
        if isinstance(exp, BaseException):
            raise RuntimeError(f"the grader could not compute the expected answers ({exp})")
        returned = call(function, *case.args)
        if returned.status != Status.OK:
            return False, f"{function} did not return on {case.label}: {returned.message}"
        result = check(case, returned, exp, function)
        if not result.passed:
            return False, (
                f"{function} must first be right on {case.label} (see the other tests): "
                f"{result.message}"
            )
    rng = rng or np.random.default_rng(secrets.randbits(128))
    best_cpu, best_yard = float("inf"), float("inf")
    for _ in range(ATTEMPTS):
        inputs, filters = _fresh_input(rng)
        timed: list[tuple[NDArray[np.float64], float]] = []
        returned = call(
            function, inputs, filters, [1, 1, 1, 1], "SAME",
            measure_cpu=True, baseline=_yardstick_into(timed, inputs, filters),
        )  # fmt: skip
        if len(timed) != 1:
            raise RuntimeError("the vectorized reference did not run")
        answer, yard = timed[0]
        best_yard = min(best_yard, yard)
        if returned.status != Status.OK:
            return False, f"{function} did not return on {_WHAT}: {returned.message}"
        wrong = _wrong_answer(returned.value, answer)
        if wrong is not None:
            return False, (
                f"{function} must first be right on {_WHAT}, the image its speed is measured on "
                f"(the two small cases were right): {wrong}"
            )
        cpu = getattr(returned, "cpu_seconds", None)
        if not isinstance(cpu, float):
            raise RuntimeError("the CPU time of the call could not be read")
        best_cpu = min(best_cpu, cpu)
        ratio = best_cpu / best_yard
        if ratio <= LIMIT or ratio > CLEARLY * LIMIT:
            break
    if best_cpu <= LIMIT * best_yard:
        return True, (
            f"on {_WHAT} your {function} used less than {LIMIT:g}× the CPU time of {_YARDSTICK}: "
            "numpy does the per-pixel work."
        )
    return False, (
        f"on {_WHAT} your {function} used more than {LIMIT:g}× the CPU time of {_YARDSTICK} "
        "(a loop over output pixels takes 15× to over 100×): a Python loop still runs once per "
        "output pixel, however it is written (for, map, np.vectorize, np.apply_along_axis, a "
        "comprehension). Replace it with numpy operations on whole arrays (slicing that takes "
        "every window at once, np.einsum or np.tensordot, "
        "numpy.lib.stride_tricks.sliding_window_view); a loop over the kernel's few positions "
        "is fine."
    )
