"""The notebook face of the grader: short calls for locked test cells (self-check and nbgrader)."""

from __future__ import annotations

import contextlib
import io
import linecache
import warnings
from collections.abc import Callable
from typing import Any

from . import policy
from .forbidden import scan
from .policy import VISIBLE_SEED
from .registry import Item, Lab, find_item
from .runner import TestResult, in_process_caller, run_test


def _cell_source(fn: Callable[..., Any]) -> str:
    """The whole cell (or file) that defined `fn`: IPython registers each cell with linecache."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return ""
    return "".join(linecache.getlines(code.co_filename))


def _forbidden_findings(lab: Lab, item: Item, fn: Callable[..., Any]) -> list[str]:
    """Findings in the cell that defined `fn`, which is the item's own answer cell."""
    if not item.by_hand:
        return []  # nothing to void: spare the scan
    findings = scan(_cell_source(fn), forbidden_modules=lab.forbidden_modules)
    return policy.findings_for(lab, item, [(item.function, f.message) for f in findings])


def _run(fn: Callable[..., Any], function: str, suite: str, seed: int, lab: str | None) -> float:
    lab_obj, item = find_item(function, lab)
    test = item.test(suite)
    if not callable(fn):
        print(f"✘ {function} — {suite}: {function} is a {type(fn).__name__}, not a function.")
        return 0.0
    # nbgrader gives a cell that wrote to stderr zero points: keep warnings and stray prints of
    # the student's code or the data loader on stdout, where the student still sees them.
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(out):
        warnings.simplefilter("always")
        result: TestResult = run_test(
            in_process_caller(fn),
            lab_obj,
            item,
            test,
            seed,
            forbidden=_forbidden_findings(lab_obj, item, fn),
        )
    print(result.output)
    noise = out.getvalue().strip()
    if noise:
        print(f"  (your code wrote to stderr: {noise[:300]})")
    messages = sorted({str(w.message) for w in caught})
    if messages:
        print(f"  (warnings while running your code: {'; '.join(messages)[:300]})")
    return result.score


def check(fn: Callable[..., Any], function: str, suite: str, *, lab: str | None = None) -> float:
    """Run a visible suite on `fn`; print a readable report and return the points earned.

    The returned number is the test cell's value, which nbgrader takes as partial credit.
    """
    return _run(fn, function, suite, VISIBLE_SEED, lab)


def check_hidden(fn: Callable[..., Any], function: str, *, lab: str | None = None) -> float:
    """Run the hidden suite with the seed of the student being graded (course secret + id)."""
    lab_obj, item = find_item(function, lab)
    seed = policy.seed_for(lab_obj.id, item.test("hidden"), policy.student_id())
    return _run(fn, function, "hidden", seed, lab)


def check_value(value: Any, name: str, *, lab: str | None = None) -> float:
    """Grade a prediction: `value` of the variable `name` (a `my_...` item), suite "prediction"."""
    return _run(lambda: value, name, "prediction", VISIBLE_SEED, lab)
