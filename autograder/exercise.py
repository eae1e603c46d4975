"""One Exercise per graded function: cases, reference, checks, named mistakes, result codec."""

from __future__ import annotations

import importlib
import json
import pkgutil
import threading
import zlib
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray

from .cases import Case, CaseArgs
from .checks import CaseResult, Returned


class Exercise:
    """Everything about one graded function, registered once by `name` (see `register`).

    A subclass sets `name` and `Args` (its typed case record) and implements `cases` (the suite
    makers), `reference` (the oracle's answer) and `check` (the tiers, usually through the generic
    checks in autograder.checks); `mistakes` returns the known-wrong variants that name mistakes.
    Results of any shape (arrays, numbers, tuples of them) are stored by the generic codec below.
    """

    name: ClassVar[str]
    Args: ClassVar[type[CaseArgs]]
    #: The suites `cases` can draw.
    suites: ClassVar[tuple[str, ...]]
    #: What the student's answer is compared with, in messages and pictures.
    oracle: ClassVar[str] = "tf.nn.conv2d"

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
    """Make `exercise` known by its name (a second exercise of the same name is refused)."""
    if EXERCISES.get(exercise.name, exercise) is not exercise:
        raise ValueError(f"an exercise named {exercise.name!r} is already registered")
    EXERCISES[exercise.name] = exercise
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
    """The exercise registered as `name`, or a KeyError listing the known ones."""
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
    if suite not in ex.suites:
        raise KeyError(f"exercise {exercise!r} has no suite {suite!r}; it has {ex.suites}")
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
