"""Is conv2d_fast vectorized? Count the Python lines it runs on two sizes, never the time.

The same kernel, channels and padding on an input of SMALL×SMALL and then of LARGE×LARGE pixels
(four times the output pixels). A vectorized conv2d_fast runs about as many Python lines on both:
numpy does the per-pixel work. One that loops over output pixels (or rows) runs several times
more on the larger input. The count is of 'line' events in the student's own code (the sandbox
counts them in the worker with `call(..., count_lines=True)`; in a notebook, `in_process_caller`
counts them with sys.settrace), so it is the same on every machine and under any load.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .cases import Case
from .exercise import check_case
from .policy import Status

#: The suite name of the vectorization test (lab 05's conv2d_fast).
VECTORIZED = "vectorized"
#: Input sizes (height = width) of the two measured calls: 64 and 256 output pixels (SAME, s 1).
SMALL, LARGE = 8, 16
#: Largest ratio of line counts (large / small) still called vectorized: a loop over output
#: pixels gives about 4, over rows about 2, vectorized code about 1.
MAX_RATIO = 1.5
#: Lines that may be added on the larger call whatever the ratio (a branch taken only there).
SLACK_LINES = 8


def vectorized_cases(seed: int) -> list[Case]:
    """The two measured calls: a 3×3 filter bank (2 in, 3 out channels), SAME, stride 1."""
    from .exercises.conv2d import Conv2dArgs

    rng = np.random.default_rng([seed, 0x7EC])
    filters = rng.uniform(-1.0, 1.0, size=(3, 3, 2, 3))
    cases = []
    for index, size in enumerate((SMALL, LARGE)):
        inputs = rng.uniform(-1.0, 1.0, size=(1, size, size, 2))
        args = Conv2dArgs(inputs, filters, [1, 1, 1, 1], "SAME")
        label = f"N1-H{size}xW{size}-C2to3-K3x3-s[1,1,1,1]-SAME"
        cases.append(Case("conv2d", VECTORIZED, seed, index, args, label, size * size))
    return cases


def verdict(lines: tuple[int, int], function: str) -> tuple[bool, str]:
    """(vectorized?, the sentence saying why) from the line counts on the two sizes."""
    small, large = lines
    pixels = (
        f"{small} Python lines for {SMALL * SMALL} output pixels and {large} for {LARGE * LARGE}"
    )
    if large <= MAX_RATIO * small + SLACK_LINES:
        return True, f"your {function} runs {pixels}: the work does not grow with the output size."
    return False, (
        f"your {function} runs {pixels}: the work still grows with the output size (×"
        f"{large / max(small, 1):.1f} for 4× the pixels); replace the loops over output pixels "
        "with numpy operations (slicing that takes every window at once, np.einsum or "
        "np.tensordot, numpy.lib.stride_tricks.sliding_window_view)."
    )


def measure(
    call: Callable[..., Any], fname: str, cases: list[Case], expected: list[Any]
) -> tuple[tuple[int, int] | None, str]:
    """Call `fname` on both cases counting lines: (the two counts, "") when both answers are
    right, else (None, why not)."""
    counts = []
    for case, exp in zip(cases, expected, strict=True):
        returned = call(fname, *case.args, count_lines=True)
        if returned.status != Status.OK:
            return None, f"{fname} did not return on {case.label}: {returned.message}"
        result = check_case(case, returned, exp, fname)
        if not result.passed:
            return None, (
                f"{fname} must first be right on {case.label} (see the other tests): "
                f"{result.message}"
            )
        lines = getattr(returned, "line_events", None)
        if not isinstance(lines, int):
            return None, "the grader could not count the lines your code runs; tell the staff."
        counts.append(lines)
    return (counts[0], counts[1]), ""


# ----------------------------------------------------------------------------------------------
# Counting lines in this process (the notebook self-check)


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {paths.get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    dirs |= {
        str(Path(__file__).resolve().parent),
        str(Path(__file__).resolve().parents[1] / "convlab"),
    }
    return tuple(sorted(os.path.join(d, "") for d in dirs if d))


def count_lines(fn: Callable[..., Any], *args: Any) -> tuple[Any, int]:
    """Call fn(*args), counting 'line' events in frames of code outside the standard library,
    installed packages and the grader (the student's cells or file); returns (value, count)."""
    libraries = _library_dirs()
    seen: dict[str, bool] = {}
    count = 0

    def is_student(filename: str) -> bool:
        known = seen.get(filename)
        if known is None:
            known = seen[filename] = not os.path.abspath(filename).startswith(libraries)
        return known

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        return local if event == "call" and is_student(frame.f_code.co_filename) else None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        value = fn(*args)
    finally:
        sys.settrace(previous)
    return value, count
