"""Ungraded "predict, then check" cells: a student's prediction against the measured answer."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

import numpy as np

#: Predictions that are numbers count as right within this (absolute) tolerance.
PREDICTION_ATOL = 1e-9


def _as_set(value: Any) -> set[Any]:
    # Names stay strings; pixel positions become int tuples, so (0, 1) matches np.int64 pairs.
    return {
        item if isinstance(item, str) else tuple(int(v) for v in np.atleast_1d(item))
        for item in value
    }


def prediction_is_right(guess: Any, answer: Any) -> bool:
    """Does ``guess`` equal ``answer``? Sets compare as sets (order free) of names or of int
    tuples; anything
    else as arrays of the same shape, numerically within ``PREDICTION_ATOL`` (so a tuple, a
    list or a NumPy shape all match ``(1, 14, 14, 16)``)."""
    if isinstance(answer, Set):
        if isinstance(guess, str):
            return False
        try:
            return _as_set(guess) == _as_set(answer)
        except (TypeError, ValueError):
            return False
    try:
        got = np.asarray(guess, dtype=np.float64)
        expected = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return got.shape == expected.shape and bool(
        np.allclose(got, expected, rtol=0.0, atol=PREDICTION_ATOL)
    )


def check_prediction(name: str, guess: Any, answer: Any) -> None:
    """Print whether the prediction stored in the variable ``name`` matches ``answer``.

    ``answer`` is measured by the calling cell (TensorFlow, a shape, a count), never typed in.
    While ``guess`` is None (the cell above not filled in) the answer is not revealed.
    Prints only, so a check cell shows no ``Out[]``; ``prediction_is_right`` is the verdict.
    """
    if guess is None:
        print(f"No prediction yet: set {name} in the cell above (replace None), run it, then this.")
        return
    if prediction_is_right(guess, answer):
        print(f"{name} = {guess!r}: right.")
    else:
        shown = sorted(answer) if isinstance(answer, Set) else answer
        print(f"{name} = {guess!r}: not quite. The measured answer is {shown!r}.")
