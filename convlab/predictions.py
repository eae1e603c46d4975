"""Ungraded "predict, then check" cells: a student's prediction against the measured answer."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

import numpy as np

#: Predictions that are numbers count as right within this (absolute) tolerance.
PREDICTION_ATOL = 1e-9


def _as_items(value: Any) -> list[Any]:
    # Names stay strings; pixel positions become int tuples, so (0, 1) matches np.int64 pairs.
    return [
        item if isinstance(item, str) else tuple(int(v) for v in np.atleast_1d(item))
        for item in value
    ]


def prediction_is_right(guess: Any, answer: Any) -> bool:
    """Does ``guess`` equal ``answer``? Sets compare as sets (order free) of names or of int
    tuples, and a list of the items counts as the set when no item is in it twice (as the
    grader has it); anything else as arrays of the same shape, numerically within
    ``PREDICTION_ATOL`` (so a tuple, a list or a NumPy shape all match ``(1, 14, 14, 16)``)."""
    if isinstance(answer, Set):
        if isinstance(guess, str):
            return False
        try:
            items = _as_items(guess)
            return len(set(items)) == len(items) and set(items) == set(_as_items(answer))
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


def check_prediction(name: str, guess: Any, answer: Any, *, graded: bool = False) -> None:
    """Print whether the prediction stored in the variable ``name`` matches ``answer``.

    ``answer`` is measured by the calling cell (TensorFlow, a shape, a count), never typed in.
    While ``guess`` is None (the cell above not filled in) the answer is not revealed; after a
    wrong guess it is shown, for graded predictions too (``graded=True``: a locked cell grades
    ``name``): the lab measures it in plain sight, which is the point of predicting first. For
    those the message says so plainly: what is graded is the value ``name``'s answer cell holds
    when the notebook is submitted.
    Prints only, so a check cell shows no ``Out[]``; ``prediction_is_right`` is the verdict.
    """
    if guess is None:
        print(f"No prediction yet: set {name} in its cell above (replace None), run it, then this.")
        if graded:
            print(f"  ({name} is graded: make your prediction before you run this cell.)")
        return
    if prediction_is_right(guess, answer):
        print(f"{name} = {guess!r}: right.")
        return
    shown = sorted(answer) if isinstance(answer, Set) else answer
    print(f"{name} = {guess!r}: not quite. The measured answer is {shown!r}.")
    if graded:
        print(
            f"  (Graded: what counts is the value {name} holds in its answer cell when you "
            "submit. The answer is shown so you can find where your reasoning went wrong.)"
        )
