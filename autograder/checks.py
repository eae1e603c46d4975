"""Tiered checks of one returned value against the reference, naming the likely mistake in words."""

from __future__ import annotations

import contextlib
import contextvars
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ._compat import StrEnum
from .cases import Case
from .policy import Status

#: Allowance per multiply-add: a student may accumulate in float32 (64 ulps of float32 per term).
TOL_PER_TERM = 64 * float(np.finfo(np.float32).eps)
#: Floor of the absolute tolerance, so all-zero references still admit float32 round-off.
TOL_FLOOR = 1e-9
#: A known-wrong variant is named when the answer is this many tolerances from it.
VARIANT_TOL_FACTOR = 4

Explain = Callable[[tuple[int, ...]], tuple[str, str | None]]
Variants = Callable[[], dict[str, tuple[Any, str]]]

#: Is the case being checked drawn from the course secret (a hidden case, or a grade-of-record
#: case the student has never seen)? Then a message states only what the grader knows about the
#: case: shapes, counts, where, the likely mistake; never text, numbers or type names the
#: student's code chose, which could carry the case's inputs (or the expected answer) out.
_SECRET_CASE: contextvars.ContextVar[bool] = contextvars.ContextVar("secret_case", default=False)
#: A whole number returned for a drawn case is quoted only up to this size (sizes are small).
SHOWN_INT_LIMIT = 9999


@contextlib.contextmanager
def secret_case(secret: bool = True) -> Iterator[None]:
    """Check the cases inside this block as drawn from the course secret (see `_SECRET_CASE`)."""
    token = _SECRET_CASE.set(secret)
    try:
        yield
    finally:
        _SECRET_CASE.reset(token)


def is_secret_case() -> bool:
    return _SECRET_CASE.get()


def kind_of(value: Any) -> str:
    """A returned value's kind in the grader's words (the student's class names are not shown:
    a class made at run time can be named after the inputs)."""
    if value is None:
        return "None"
    for kinds, name in (
        (bool | np.bool_, "bool"),
        (int | np.integer, "int"),
        (float | np.floating, "float"),
        (complex | np.complexfloating, "complex"),
        (str, "str"),
        (bytes, "bytes"),
        (np.ndarray, "numpy array"),
        (tuple, "tuple"),
        (list, "list"),
        (set | frozenset, "set"),
        (dict, "dict"),
    ):
        if isinstance(value, kinds):
            return name
    return "object"


def shown(value: Any) -> str:
    """`value` quoted for a message: its repr (at most 80 characters), but for a case drawn from
    the secret only a small whole number; anything else is named by its kind."""
    if not is_secret_case():
        return _short_repr(value)
    if (
        isinstance(value, int | np.integer)
        and not isinstance(value, bool | np.bool_)
        and abs(int(value)) <= SHOWN_INT_LIMIT
    ):
        return str(int(value))
    kind = kind_of(value)
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def shown_ints(values: tuple[int, ...]) -> str:
    """Whole numbers a student returned, as a message quotes them (see `shown`)."""
    if not is_secret_case():
        return str(values)
    return "(" + ", ".join(shown(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def shown_type(value: Any, type_name: str) -> str:
    """The type a message names: the worker's name for it, or the grader's on a drawn case."""
    if is_secret_case():
        return kind_of(value)
    return type_name or type(value).__name__


class Tier(StrEnum):
    """Where a check stopped, in the order they run; `OK` when every tier passed."""

    CALL = "call"
    TYPE = "type"
    RANK = "rank"
    SHAPE = "shape"
    DTYPE = "dtype"
    FINITE = "finite"
    VALUES = "values"
    #: The grader itself failed on this case (an exception in a check or the reference).
    GRADER = "grader"
    OK = "ok"


class Returned(Protocol):
    """What a call gave back: sandbox.CallResult, or the in-process equivalent."""

    status: str
    value: Any
    type_name: str
    message: str


@dataclass
class CaseResult:
    """The verdict on one case; `tier` is where it stopped."""

    case: Case
    passed: bool
    tier: Tier
    message: str = ""
    mistake: str | None = None
    max_abs_error: float | None = None
    where: tuple[int, ...] | None = None
    got: Any = None
    expected: Any = None


class CheckFailure(Exception):
    """Raised inside a check to stop at a tier with a message for the student."""

    def __init__(
        self,
        tier: Tier,
        message: str,
        mistake: str | None = None,
        *,
        max_abs_error: float | None = None,
        where: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__(message)
        self.tier, self.message, self.mistake = tier, message, mistake
        self.max_abs_error, self.where = max_abs_error, where

    def result(self, case: Case, got: Any, expected: Any) -> CaseResult:
        return CaseResult(
            case, False, self.tier, self.message, self.mistake, self.max_abs_error, self.where,
            got, expected,
        )  # fmt: skip


def passed(case: Case, got: Any, expected: Any, max_abs_error: float | None = None) -> CaseResult:
    return CaseResult(case, True, Tier.OK, max_abs_error=max_abs_error, got=got, expected=expected)


def values_failure(message: str, guess: str | None) -> CheckFailure:
    """A wrong value, with the likely mistake appended when one was recognised."""
    return CheckFailure(
        Tier.VALUES, message + (f" Likely mistake: {guess}." if guess else ""), guess
    )


def require_ok(returned: Returned, function: str) -> None:
    """Tier 1: the call returned."""
    if returned.status != Status.OK:
        raise CheckFailure(
            Tier.CALL, returned.message or f"{function} did not return ({returned.status})."
        )


def scale(*arrays: NDArray[Any]) -> float:
    """The product of the inputs' largest magnitudes: how large a sum of products can get."""
    return math.prod(float(np.abs(a).max()) if np.size(a) else 1.0 for a in arrays)


def tolerance(terms: int, scale: float) -> float:
    """The absolute tolerance for sums of `terms` products of magnitude up to `scale`."""
    return max(TOL_PER_TERM * terms * max(scale, 1e-12), TOL_FLOOR)


# ----------------------------------------------------------------------------------------------
# Arrays


def as_array(value: Any, type_name: str, function: str, expected: NDArray[Any]) -> NDArray[Any]:
    """Tier 2: what came back is (or converts to) a numeric array."""
    if value is None:
        raise CheckFailure(
            Tier.TYPE, f"{function} returned None: did you forget the `return` statement?"
        )
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()  # a TF tensor, when called in-process
    if np.isscalar(value) and expected.ndim > 0:
        raise CheckFailure(
            Tier.TYPE,
            f"{function} returned a single {shown_type(value, type(value).__name__)}"
            f"{'' if is_secret_case() else f' ({value!r})'}; "
            f"expected an array of shape {expected.shape}.",
        )
    try:
        arr = np.asarray(value)
    except Exception:
        arr = np.asarray(None)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise CheckFailure(
            Tier.TYPE,
            f"{function} returned a {shown_type(value, type_name)} that is not a "
            f"numeric array; expected a numpy array of shape {expected.shape}.",
        )
    return arr


def check_rank_shape_dtype(
    arr: NDArray[Any],
    expected: NDArray[Any],
    function: str,
    layout: str,
    explain: Explain,
    *,
    float_rule: str,
) -> None:
    """Tiers 3-6: rank, shape (with the rule the student broke), float dtype, finite values."""
    if arr.ndim != expected.ndim:
        hint = ""
        if arr.shape == expected.shape[1:]:
            hint = " It has the shape of one image: keep the batch axis even when batch = 1."
        elif arr.ndim == expected.ndim + 1 and 1 in arr.shape:
            hint = (
                " An extra axis of length 1: drop it (np.squeeze on that axis) or index [..., 0]."
            )
        raise CheckFailure(
            Tier.RANK,
            f"{function} returned a {arr.ndim}-D array of shape {arr.shape}; expected "
            f"{expected.ndim}-D {layout} of shape {expected.shape}.{hint}",
            "batch axis dropped" if arr.shape == expected.shape[1:] else None,
        )
    if arr.shape != expected.shape:
        why, guess = explain(arr.shape)
        msg = f"{function} returned shape {arr.shape}; expected {expected.shape} ({layout}). {why}"
        if guess:
            msg += f" Likely mistake: {guess}."
        raise CheckFailure(Tier.SHAPE, msg.strip(), guess)
    if not np.issubdtype(arr.dtype, np.floating):
        kind = "complex" if np.issubdtype(arr.dtype, np.complexfloating) else str(arr.dtype)
        raise CheckFailure(
            Tier.DTYPE,
            f"{function} returned dtype {kind}; {float_rule}. "
            "Create the output with np.zeros(shape) (float64 by default), not dtype=int or "
            "np.zeros_like of an integer array, and don't round.",
            "integer output" if kind != "complex" else "complex output",
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CheckFailure(
            Tier.FINITE,
            f"{function} returned {int(bad.sum())} NaN/inf values (first at index {first}); "
            "check for uninitialised memory (np.empty) or a division.",
        )


def _matching_mistakes(got: Sequence[NDArray[Any]], variants: Variants, tol: float) -> str | None:
    """Every known-wrong variant the answer equals (within tolerance), joined; None if none."""
    try:
        # Two mistakes can give the same numbers on a case (e.g. stride-1 padding that equals
        # the swapped split): name every one that matches.
        matches = []
        for variant, explanation in variants().values():
            parts = variant if isinstance(variant, tuple) else (variant,)
            if len(parts) == len(got) and all(
                p.shape == g.shape and np.allclose(g, p, rtol=0, atol=tol * VARIANT_TOL_FACTOR)
                for g, p in zip(got, parts, strict=True)
            ):
                matches.append(explanation)
    except Exception:  # naming a mistake is a courtesy; it must never break grading
        matches = []
    return " Or: ".join(matches) or None


def compare_values(
    arr: NDArray[Any],
    expected: NDArray[Any],
    *,
    terms: int,
    scale: float,
    variants: Variants,
    oracle: str,
    whole: Sequence[NDArray[Any]] | None = None,
) -> float:
    """Tier 7: the largest error when within a tolerance scaled to the accumulation length;
    otherwise raises a CheckFailure naming the mistake. `whole` is the several-array answer
    `arr` is part of: the variants are matched against all of it."""
    tol = tolerance(terms, scale)
    err = np.abs(arr.astype(np.float64) - expected)
    if err.size == 0 or float(err.max()) <= tol:
        return float(err.max()) if err.size else 0.0
    where = tuple(int(i) for i in np.unravel_index(int(err.argmax()), err.shape))
    rel = float(err.max()) / max(float(np.abs(expected).max()), 1e-12)
    n_bad = int((err > tol).sum())
    if is_secret_case():
        # Your values and the expected ones are the case's secret: a wrong answer chosen on
        # purpose would read the expected output back one value per round.
        msg = (
            f"{n_bad} of {err.size} values differ from {oracle} by more than the tolerance "
            f"({tol:.2g}); the largest error is at index {where}."
        )
    else:
        msg = (
            f"{n_bad} of {err.size} values differ from {oracle}; the largest error is "
            f"{float(err.max()):.3g} (relative {rel:.2g}, tolerance {tol:.2g}) at index "
            f"{where}: yours {float(arr[where]):.6g}, expected {float(expected[where]):.6g}."
        )
    mistake = _matching_mistakes(whole if whole is not None else [arr], variants, tol)
    if mistake:
        msg += f" Likely mistake: {mistake}"
    raise CheckFailure(Tier.VALUES, msg, mistake, max_abs_error=float(err.max()), where=where)


def check_array(
    case: Case,
    returned: Returned,
    expected: NDArray[Any],
    *,
    function: str,
    layout: str,
    explain: Explain,
    terms: int,
    scale: float,
    variants: Variants,
    oracle: str,
    float_rule: str,
) -> CaseResult:
    """Every tier for an answer that is one float array."""
    got: NDArray[Any] | None = None
    try:
        require_ok(returned, function)
        got = as_array(returned.value, returned.type_name, function, expected)
        check_rank_shape_dtype(got, expected, function, layout, explain, float_rule=float_rule)
        err = compare_values(
            got, expected, terms=terms, scale=scale, variants=variants, oracle=oracle
        )
    except CheckFailure as failure:
        return failure.result(case, got, expected)
    return passed(case, got, expected, err)


def check_arrays(
    case: Case,
    returned: Returned,
    expected: tuple[NDArray[Any], ...],
    *,
    function: str,
    layouts: Sequence[str],
    terms: int,
    scale: float,
    variants: Variants,
    oracle: str,
    float_rule: str,
) -> CaseResult:
    """Every tier for an answer that is a tuple of float arrays: tiers 1-6 for each array, then
    their values; a failure says which output (`where` starts with its index)."""
    n = len(expected)
    got: list[NDArray[Any]] = []
    try:
        require_ok(returned, function)
        value = returned.value
        if not isinstance(value, tuple | list) or len(value) != n:
            raise CheckFailure(
                Tier.TYPE,
                f"{function} returned a {shown_type(value, returned.type_name)}; "
                f"expected a tuple of {n} arrays.",
            )
        for k, (v, e, layout) in enumerate(zip(value, expected, layouts, strict=True)):
            with _output(k, n):
                arr = as_array(v, type(v).__name__, function, e)
                check_rank_shape_dtype(arr, e, function, layout, _no_why, float_rule=float_rule)
            got.append(arr)
        errors = []
        for k, (arr, e) in enumerate(zip(got, expected, strict=True)):
            with _output(k, n):
                errors.append(
                    compare_values(
                        arr,
                        e,
                        terms=terms,
                        scale=scale,
                        variants=variants,
                        oracle=oracle,
                        whole=got,
                    )  # fmt: skip
                )
    except CheckFailure as failure:
        return failure.result(case, tuple(got) if len(got) == n else None, expected)
    return passed(case, tuple(got), expected, max(errors, default=0.0))


@contextlib.contextmanager
def _output(k: int, n: int) -> Iterator[None]:
    """Say which output of a several-array answer a failure is about."""
    try:
        yield
    except CheckFailure as failure:
        failure.message = f"Output {k} of {n}: {failure.message}"
        failure.where = (k, *failure.where) if failure.where is not None else None
        raise


def _no_why(got: tuple[int, ...]) -> tuple[str, str | None]:
    return "", None


# ----------------------------------------------------------------------------------------------
# Numbers


def as_ints(returned: Returned, function: str, count: int) -> tuple[int, ...]:
    """Tiers 1-2 for an answer of `count` whole numbers (an int, or a tuple/list of ints).

    Anything else is a graded answer with a message, never a crash: None, strings, NaN, inf,
    2.5, numpy floats that are not whole, nested or ragged sequences."""
    if returned.status != Status.OK:
        raise CheckFailure(Tier.CALL, returned.message or f"{function} did not return.")
    value = returned.value
    what = "an int" if count == 1 else f"{count} ints"
    quoted = shown(value)
    if value is None:
        raise CheckFailure(
            Tier.TYPE, f"{function} returned None; expected {what}. Missing `return`?"
        )
    try:
        seq = list(np.asarray(value, dtype=object).ravel()) if not np.isscalar(value) else [value]
    except Exception:
        seq = []
    if len(seq) != count:
        raise CheckFailure(Tier.TYPE, f"{function} returned {quoted}; expected {what}.")
    out = []
    for v in seq:
        if isinstance(v, bool | np.bool_) or not isinstance(
            v, int | float | np.integer | np.floating
        ):
            raise CheckFailure(Tier.TYPE, f"{function} returned {quoted}; expected {what}.")
        if not math.isfinite(float(v)):
            raise CheckFailure(
                Tier.TYPE,
                f"{function} returned {quoted}, not a whole number: sizes and paddings are "
                "finite integers (look for a division by zero or float('inf')).",
            )
        if float(v) != int(v):
            raise CheckFailure(
                Tier.TYPE,
                f"{function} returned {quoted}, not a whole number: sizes and paddings are "
                "integers (use // or math.ceil).",
            )
        out.append(int(v))
    return tuple(out)


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"a {type(value).__name__}"
    return text if len(text) <= 80 else text[:77] + "..."


def check_ints(
    case: Case,
    returned: Returned,
    expected: int | tuple[int, ...],
    *,
    function: str,
    explain: Callable[[tuple[int, ...]], tuple[str, str | None]],
) -> CaseResult:
    """Every tier for an answer of whole numbers; `explain(got)` gives (message, likely mistake)."""
    want = tuple(expected) if isinstance(expected, tuple | list) else (expected,)
    try:
        got = as_ints(returned, function, len(want))
        if got == want:
            return passed(case, got if len(want) > 1 else got[0], expected)
        raise values_failure(*explain(got))
    except CheckFailure as failure:
        return failure.result(case, None, expected)
