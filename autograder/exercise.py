"""One Exercise per graded function: cases, reference, checks, named mistakes, result codec."""

from __future__ import annotations

import importlib
import json
import pkgutil
import threading
import zlib
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from .cases import Case, CaseArgs
from .checks import CaseResult, Returned


@dataclass(frozen=True)
class Test:
    """One graded test of an exercise: a suite of cases worth `points`, visible or hidden.

    Declared by the exercise (`Exercise.suites`), and nowhere else: the registry's labs, the
    scores, and the locked test cell of the notebook (grade_id `test_<function>_<suite>`, written
    by autograder.nbgrader_release from `about`) all come from it.
    """

    suite: str
    points: float
    hidden: bool = False
    #: What the test checks, in one sentence: the locked cell's docstring (a hidden test's
    #: comment). `{function}` stands for the graded function's name.
    about: str = ""


def hidden_test(points: float, about: str = "") -> Test:
    """The hidden suite (cases drawn at grading time from a seed the student never sees)."""
    about = about or (
        "Hidden tests: {function} on cases drawn from a seed you never see. "
        "Make sure the visible tests pass first."
    )
    return Test("hidden", points, hidden=True, about=about)


class Exercise:
    """Everything about one graded function, registered once by its `function` (see `register`).

    A subclass sets `name` and `Args` (its typed case record), declares its `suites` (each a
    `Test`: suite name, points, visible or hidden, what it checks) and implements `cases` (the
    suite makers), `reference` (the oracle's answer) and `check` (the tiers, usually through the
    generic checks in autograder.checks); `mistakes` returns the known-wrong variants that name
    mistakes. Results of any shape (arrays, numbers, tuples of them) are stored by the generic
    codec below. A lab lists exercises by `function` (autograder/registry.py); nothing else
    about a graded function is written anywhere else.
    """

    #: The case family: cases, their random streams and the references are keyed by it.
    name: ClassVar[str]
    Args: ClassVar[type[CaseArgs]]
    #: The graded tests, in grading order (the order of results.json and grades.csv).
    suites: tuple[Test, ...]
    #: What the student's answer is compared with, in messages and pictures (e.g.
    #: "tf.nn.max_pool2d"); every exercise says it (`register` refuses one that does not).
    oracle: str
    #: Why a float result is expected, in the dtype verdict ("{function} returned dtype int64;
    #: <this>.").
    float_rule: ClassVar[str] = "float inputs give a float result"
    #: One line on what the student writes (reports, the README's points table).
    description: ClassVar[str] = ""
    #: Must the student write it without library convolutions (lab's forbidden modules)?
    by_hand: ClassVar[bool] = True
    #: A graded prediction: `function` names a `my_...` variable (its answer cell assigns it),
    #: graded as a value by a locked `check_value(my_..., "my_...")` cell.
    prediction: ClassVar[bool] = False

    #: The graded function's name, the registry key: `name` unless the exercise grades another
    #: function with the same cases (lab 05's conv2d_fast grades conv2d's).
    @property
    def function(self) -> str:
        return str(self.__dict__.get("_function", self.name))

    @property
    def suite_names(self) -> tuple[str, ...]:
        return tuple(t.suite for t in self.suites)

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.suites)

    def test(self, suite: str) -> Test:
        for t in self.suites:
            if t.suite == suite:
                return t
        names = ", ".join(self.suite_names)
        raise KeyError(f"{self.function} has no suite {suite!r}; it has: {names}")

    def cases(self, suite: str, seed: int) -> list[Case]:
        """The cases of one suite (one of `suites`) in generation order."""
        raise NotImplementedError

    def reference(self, args: Any) -> Any:
        """The right answer for one case's arguments."""
        raise NotImplementedError

    def check(self, case: Case, returned: Returned, expected: Any, function: str) -> CaseResult:
        """Every tier for one case; the first tier that fails gives the verdict."""
        raise NotImplementedError

    def mistakes(self, args: Any) -> dict[str, tuple[Any, str]]:
        """Known-wrong answers for these arguments: name -> (the wrong result, the mistake)."""
        return {}

    def answer_key(self, got: Any) -> str | None:
        """A short, canonical text of a wrong answer, for the class report to count (two students
        who gave the same answer get the same key); None where answers are not worth counting."""
        return None

    def plane(self, value: NDArray[Any], where: tuple[int, ...] | None) -> NDArray[Any] | None:
        """The 2-D slice of a result to picture (the one holding `where`), or None to skip."""
        return value if value.ndim == 2 else None

    def graded_property(
        self, suite: str, call: Any, function: str, cases: list[Case], expected: list[Any]
    ) -> tuple[bool, str] | None:
        """Grade `suite` as one property of the student's function instead of case by case.

        None (the default): `suite` is graded case by case, each case a share of the points.
        An exercise whose suite measures the function as a whole (conv2d's `vectorized`: its CPU
        time against a vectorized reference) returns (passed, why): all of the test's points or
        none, and the sentence that says why. `call(function, *args, measure_cpu=True)` runs the
        student's function, sandboxed or not, and its result's `cpu_seconds` is the CPU time
        the grader measured (the student's process never reports it); `cases` are the suite's
        cases and `expected` their answers (an exception where the reference failed). Raising
        here is a grader failure, never the student's.
        """
        return None

    # helpers for subclasses

    def rng(self, seed: int, suite: str) -> np.random.Generator:
        """The generator of one suite, identical in every process (crc32, not the salted hash)."""
        return np.random.default_rng([seed, zlib.crc32(f"{self.name}/{suite}".encode())])

    def case(self, suite: str, seed: int, args: CaseArgs, label: str, size: int) -> Case:
        return Case(self.name, suite, seed, 0, args, label, size)


EXERCISES: dict[str, Exercise] = {}
_loaded = False
_load_lock = threading.RLock()


def register(exercise: Exercise) -> Exercise:
    """Make `exercise` known by its function's name (a second one of that name is refused), once
    its declaration is complete: an oracle, suites with unique names, one of them per hidden test
    named "hidden"."""
    key = exercise.function
    if EXERCISES.get(key, exercise) is not exercise:
        raise ValueError(f"an exercise grading {key!r} is already registered")
    if not getattr(exercise, "oracle", ""):
        raise ValueError(f"exercise {key!r} does not say what its oracle is (set `oracle`)")
    names = exercise.suite_names
    if not names or len(set(names)) != len(names):
        raise ValueError(f"exercise {key!r} declares no suites or one twice: {names}")
    for t in exercise.suites:
        if t.hidden != (t.suite == "hidden") or not t.about or t.points < 0:
            raise ValueError(
                f"exercise {key!r}, suite {t.suite!r}: a hidden test is the suite 'hidden' (and "
                "only it), and every test says what it checks (`about`) and is worth >= 0 points"
            )
    EXERCISES[key] = exercise
    return exercise


def _load_builtin() -> None:
    """Import every module of autograder/exercises/ (each registers its exercises), once.

    Under a lock: grade_class grades in threads, and none may look an exercise up while another
    is still registering them.
    """
    global _loaded
    with _load_lock:
        if _loaded:
            return
        from . import exercises

        for module in pkgutil.iter_modules(exercises.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"{exercises.__name__}.{module.name}")
        _loaded = True


def get_exercise(name: str) -> Exercise:
    """The exercise grading the function `name` (for a case: its `exercise`, the case family,
    which is the function that family was written for), or a KeyError listing the known ones."""
    _load_builtin()
    try:
        return EXERCISES[name]
    except KeyError:
        raise KeyError(f"no exercise {name!r}; exercises are: {', '.join(EXERCISES)}") from None


def all_exercises() -> dict[str, Exercise]:
    _load_builtin()
    return dict(EXERCISES)


def check_case(case: Case, returned: Returned, expected: Any, function: str) -> CaseResult:
    """Run every tier for one case (its exercise decides which); the first failing one gives
    the verdict."""
    return get_exercise(case.exercise).check(case, returned, expected, function)


def make_cases(exercise: str, suite: str, seed: int) -> list[Case]:
    """The cases of one suite, deterministic in (exercise, suite, seed), smallest first."""
    ex = get_exercise(exercise)
    if suite not in ex.suite_names:
        raise KeyError(f"exercise {exercise!r} has no suite {suite!r}; it has {ex.suite_names}")
    cases = ex.cases(suite, seed)
    ordered = sorted(cases, key=lambda c: c.size)  # stable: equal sizes keep generation order
    return [replace(c, index=i) for i, c in enumerate(ordered)]


# ----------------------------------------------------------------------------------------------
# The result codec: any result as JSON plus plain arrays (for the on-disk reference cache)


def encode_result(value: Any, arrays: list[NDArray[Any]]) -> Any:
    """`value` as JSON, its arrays appended to `arrays` (ints, floats, bools, strings, None,
    arrays and numpy scalars, and tuples/lists of them, nested; sets of hashable items, such as
    (row, col) pairs or names, come back as frozensets)."""
    if value is None or isinstance(value, bool | int | float | str):
        return {"t": type(value).__name__, "v": value}
    if isinstance(value, np.generic):
        return encode_result(value.item(), arrays)
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("object arrays cannot be stored")
        arrays.append(value)
        return {"t": "nd", "i": len(arrays) - 1}
    if isinstance(value, tuple | list):
        return {"t": type(value).__name__, "v": [encode_result(v, arrays) for v in value]}
    if isinstance(value, set | frozenset):
        # Stored in a fixed order (by the items' JSON) so equal sets give equal files.
        items = [encode_result(v, arrays) for v in value]
        return {"t": "frozenset", "v": sorted(items, key=lambda i: json.dumps(i, sort_keys=True))}
    raise TypeError(f"cannot store a {type(value).__name__}")


_SCALARS = {"NoneType": lambda v: None, "bool": bool, "int": int, "float": float, "str": str}


def decode_result(spec: Any, arrays: list[NDArray[Any]]) -> Any:
    """The inverse of `encode_result`; anything malformed raises (the caller recomputes)."""
    kind = spec["t"]
    if kind == "nd":
        return arrays[spec["i"]]
    if kind in ("tuple", "list", "frozenset"):
        items = [decode_result(v, arrays) for v in spec["v"]]
        if kind == "frozenset":
            return frozenset(items)
        return tuple(items) if kind == "tuple" else items
    return _SCALARS[kind](spec["v"])


def dumps_results(values: list[Any]) -> tuple[str, list[NDArray[Any]]]:
    arrays: list[NDArray[Any]] = []
    return json.dumps([encode_result(v, arrays) for v in values]), arrays


def loads_results(text: str, arrays: list[NDArray[Any]]) -> list[Any]:
    return [decode_result(s, arrays) for s in json.loads(text)]
