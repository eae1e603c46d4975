"""Run one graded test (an item's suite) through any caller and turn the verdicts into a score."""

from __future__ import annotations

import builtins
import copy
import dataclasses
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import policy
from .cases import Case
from .checks import CaseResult, Tier, is_secret_case, secret_case
from .exercise import check_case, get_exercise, make_cases
from .policy import STOP_STATUSES, Status
from .reference import GraderError as _GraderError
from .reference import expected_or_errors as _expected_or_errors
from .registry import Item, Lab, Test
from .safe_text import printable
from .sandbox import CallResult as Returned  # the same record whether sandboxed or not

#: How many more failing cases to list after the smallest one.
LIST_MORE_FAILURES = 3
#: The longest message of a failing case a report quotes.
MAX_MESSAGE_CHARS = 4000


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
            f"{printable(listing)}",
            forbidden=tuple(forbidden), seconds=time.monotonic() - start,
        )  # fmt: skip
    expected = _expected_or_errors(cases)
    # Cases drawn from the course secret (hidden, or the grade of record's fresh visible ones):
    # what the student's code said or printed on them never reaches the report.
    secret = policy.drawn_for_student(test, seed)
    with secret_case(secret):
        whole = withholding(call, fname, lab) if secret else call
        prop = _graded_property(whole, item, test, fname, cases, expected)
    if prop is not None:
        ok, why = prop
        score = float(test.points) if ok else 0.0
        output = printable(f"{'✔' if ok else '✘'} {head}: {score:g}/{test.points:g} points — {why}")
        failures = [CaseResult(c, False, Tier.VALUES, why) for c in cases[-1:] if not ok]
        return TestResult(
            lab.id, fname, test.suite, test.hidden, seed, score, test.points, int(ok), 1, output,
            failures, seconds=time.monotonic() - start,
        )  # fmt: skip
    results: list[CaseResult] = []
    stopped: str | None = None
    used_forbidden: list[str] = []
    source = _source_of(call) if secret else None
    for case, exp in zip(cases, expected, strict=True):
        if stopped:
            break
        if isinstance(exp, _GraderError):
            results.append(grader_failure(case, "compute the expected answer", exp.error))
            continue
        returned = call(fname, *_copy_args(case.args))
        policy.explain_stub(returned, fname)  # the released stub, said the same on every path
        if secret:
            returned = withheld(returned, fname, lab, source)
        with secret_case(secret):
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


# ----------------------------------------------------------------------------------------------
# What a drawn case's report may say about the call
#
# On a case drawn from the course secret the student has never seen the inputs, and everything
# the worker sends back is the student's to choose (their code can raise any message, print
# anything, or write a whole reply on the protocol pipe itself). So the report is rebuilt from
# what the grader can check: the status, an exception type from a fixed list, a line of the
# submission (quoted from the grader's own copy), and the grader's own texts about limits.

#: Exception types a report may name: Python's own and numpy's. A class the student defines
#: could be made at run time with the inputs in its name.
KNOWN_EXCEPTIONS = frozenset(
    {
        name
        for name, value in vars(builtins).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    }
    | {"LinAlgError", "AxisError", "Forbidden", "TooHardError", "DTypePromotionError"}
)
_EXCEPTION_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::|$)")
_FRAME = re.compile(r"^\s+(?:cell '(?P<cell>[^'\n]*)', )?line (?P<line>\d{1,7}), in ", re.M)
#: The sandbox's own messages about a call that did not return (numbers and names only).
_GRADER_TEXTS = tuple(
    re.compile(pattern)
    for pattern in (
        r"your code ran out of memory \(limit [0-9.e+]+ GiB\)(?: \(the process was killed\))?",
        r"[A-Za-z_][A-Za-z0-9_]{0,80} did not finish within [0-9.e+]+ s",
        r"the time limit of [0-9.e+]+ s for your whole submission was used up; this test was "
        r"not run",
        r"your code used more than [0-9]+ s of CPU time",
        r"the process running your code died with SIG[A-Z0-9]{1,10}"
        r"(?: \(this also happens when memory runs out\))?",
        r"your code ended the process with exit code -?[0-9]{1,3}",
        r"your code broke the connection to the grader",
        r"your code called exit\((?:-?[0-9]{1,3}|None|True|False)\)",
        r"[A-Za-z_][A-Za-z0-9_]{0,80} returned [0-9.]+ MiB of numbers; the limit is [0-9.]+ MiB",
    )
)
#: The worker's "returned a <type>" for a value it cannot send: the type named only when it is
#: one of Python's own (a class the student defines could be named after the inputs).
_RETURNED_TYPE = re.compile(
    r"(?P<function>[A-Za-z_][A-Za-z0-9_]{0,80}) returned a (?P<type>[A-Za-z_][A-Za-z0-9_]{0,40}); "
    r"expected a numpy array"
)
KNOWN_TYPES = frozenset(
    {name for name, value in vars(builtins).items() if isinstance(value, type)}
    | {"function", "generator", "module", "method", "builtin_function_or_method", "NoneType"}
    | {"coroutine", "ellipsis", "NotImplementedType", "cell", "code", "frame"}
)
#: A line number quoted without the grader's copy of the submission to check it against.
MAX_LINE_SHOWN = 99_999
INVALID_REPLY = "the process running your code sent an invalid reply"
WITHHELD_NOTE = (
    "(On cases drawn for you, what your code says or prints is not shown; the self-check "
    "cases, seed 0, show it in full.)"
)
_GENERIC = {
    Status.TIMEOUT: "{function} did not finish in time on this case",
    Status.MEMORY: "your code ran out of memory on this case",
    Status.CRASHED: "the process running your code stopped on this case",
    Status.BAD_RETURN: "{function} returned a value that cannot be graded as numbers "
    "(e.g. an object, a dict, or a list of text)",
    Status.FORBIDDEN: "your code used something not allowed in this lab",
}


@dataclass(frozen=True)
class _Source:
    """The grader's copy of the submission, to check and quote a line a message points at."""

    lines: tuple[str, ...]
    cells: tuple[tuple[int, str], ...]  # (first line, grade_id) of each cell, in order


def _source_of(call: Caller) -> _Source | None:
    """The submission a sandbox's `call` runs, when `call` is a Sandbox's (else None)."""
    box = getattr(call, "__self__", None)
    code = getattr(box, "code", None)
    if not isinstance(code, str):
        return None
    starts = tuple(getattr(box, "cell_starts", ()) or ())
    names = tuple(getattr(box, "cell_names", ()) or ())
    cells = tuple(zip(starts, names, strict=True)) if len(starts) == len(names) else ()
    return _Source(tuple(code.splitlines()), cells)


def _line_of(message: str, source: _Source | None) -> str:
    """ ", at <line> of your code: <the line>" for the innermost frame a message names, when
    the grader's copy of the submission has that line; "" otherwise."""
    frames = list(_FRAME.finditer(message))
    if not frames:
        return ""
    frame = frames[-1]
    cell, line = frame.group("cell"), int(frame.group("line"))
    if source is None:  # in-process: the line number alone
        return f" at line {line}" if cell is None and line <= MAX_LINE_SHOWN else ""
    if cell is None:
        number, where = line, f"line {line}"
    else:
        starts = [start for start, name in source.cells if name == cell]
        if len(starts) != 1:
            return ""
        number, where = starts[0] + line - 1, f"cell {cell!r}, line {line}"
    if not 0 < number <= len(source.lines):
        return ""
    text = source.lines[number - 1].strip()
    return f" at {where}: {text[:200]}" if text else f" at {where}"


def _forbidden_names(found: tuple[str, ...], lab: Lab) -> list[str]:
    """The forbidden uses a report may name: the lab's forbidden libraries (by their top-level
    name) and the grader's fixed names; anything else in general words."""
    roots = {m.split(".")[0] for m in lab.forbidden_modules}
    fixed = {"starting a process", "sys.settrace", "ctypes", "multiprocessing", "socket",
             "os.system", "os.fork", "os.exec*", "os.spawn*", "os.posix_spawn", "subprocess",
             "os.kill", "starting a thread", "numpy.convolve", "numpy.correlate",
             "numpy.correlate2", "replacing a function's __code__"}  # fmt: skip
    names = []
    for event in found:
        name = re.sub(r" \((?:cell '[^']*', )?line \d+\)$", "", str(event))
        if name in fixed:
            names.append(name)
        elif (m := re.fullmatch(r"(import|importing) ([\w.]+)", name)) and (
            m.group(2).split(".")[0] in roots
        ):
            names.append(f"{m.group(1)} {m.group(2).split('.')[0]}")
        elif name.split(".")[0] in roots:
            names.append(name.split(".")[0])
        elif re.fullmatch(r"numpy\.fft\.[a-z0-9_]{1,12}", name):
            names.append("numpy.fft")
        elif name.startswith(("reading ", "writing ")):
            names.append(f"{name.split()[0]} a file outside the sandbox folder")
        else:
            names.append("something the grader does not allow")
    return list(dict.fromkeys(names))


def withheld(returned: Returned, function: str, lab: Lab, source: _Source | None) -> Returned:
    """`returned` as a report of a drawn case may show it: no text from the student's process.

    An exception is named by its type (Python's or numpy's, else "an exception") and the line
    of the submission it came from; a value's type name is the grader's; a call that did not
    return keeps the sandbox's own message about limits, else a general one.
    """
    status = returned.status
    if status == Status.OK:
        return dataclasses.replace(returned, type_name="", message="")
    message = returned.message or ""
    if status == Status.ERROR:
        if message == policy.not_implemented(function):
            return returned  # the grader's own words for the released stub
        if message.startswith("your code could not be loaded"):
            text = f"your code could not be loaded, so {function} was not run"
        else:
            match = _EXCEPTION_NAME.match(message)
            name = match.group(1) if match and match.group(1) in KNOWN_EXCEPTIONS else ""
            if not name and message.startswith(f"{function} raised "):  # in-process
                rest = message[len(function) + 8 :]
                match = _EXCEPTION_NAME.match(rest)
                name = match.group(1) if match and match.group(1) in KNOWN_EXCEPTIONS else ""
            what = name or "an exception"
            text = f"{function} raised {what}{_line_of(message, source)}"
    else:
        first = message.split("\n", 1)[0]
        if any(p.fullmatch(first) for p in _GRADER_TEXTS):
            text = first
        elif first.startswith(INVALID_REPLY):  # the reason in brackets could quote the reply
            text = INVALID_REPLY
        elif (
            status == Status.BAD_RETURN
            and (match := _RETURNED_TYPE.fullmatch(first))
            and match.group("type") in KNOWN_TYPES
        ):
            text = f"{function} returned a {match.group('type')}; expected a numpy array"
        elif status == Status.FORBIDDEN:
            names = _forbidden_names(tuple(returned.forbidden or ()), lab)
            text = (
                "not allowed in this lab: "
                + (", ".join(names) or "something")
                + (_line_of(message, source))
            )
        else:
            text = _GENERIC.get(status, "your code did not return ({status})").format(
                function=function, status=status
            )
    return dataclasses.replace(
        returned, message=f"{text}. {WITHHELD_NOTE}", type_name="", value=None
    )


def withholding(call: Caller, function: str, lab: Lab) -> Caller:
    """`call`, its results passed through `withheld` (a drawn case's report)."""
    source = _source_of(call)

    def wrapped(name: str, *args: Any, **kwargs: Any) -> Returned:
        return withheld(call(name, *args, **kwargs), function, lab, source)

    return wrapped


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
    # On a drawn case the error's text could quote what the student's code returned.
    text = type(error).__name__ if is_secret_case() else f"{type(error).__name__}: {error}"[:300]
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
        message = smallest.message
        if len(message) > MAX_MESSAGE_CHARS:  # the sandbox clips too; in-process nothing does
            message = message[:MAX_MESSAGE_CHARS] + " [...]"
        lines.extend(f"    {line}" for line in message.splitlines())
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
    # Terminals, markdown and notebooks show this text: no control character gets through.
    return printable("\n".join(lines))


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
