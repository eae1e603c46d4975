"""Tests for convlab.predictions: the verdict and what a check cell prints."""

import numpy as np
import pytest

from convlab.predictions import check_prediction, prediction_is_right


@pytest.mark.parametrize(
    ("guess", "answer", "right"),
    [
        (24, 24, True),
        (24.0, np.int64(24), True),
        (23, 24, False),
        ((64, 14, 14, 16), (64, 14, 14, 16), True),
        ([64, 14, 14, 16], np.array([64, 14, 14, 16]), True),
        ((64, 14, 14), (64, 14, 14, 16), False),
        ({(0, 1), (1, 1)}, {(np.int64(1), np.int64(1)), (0, 1)}, True),
        ([(1, 1), (0, 1)], {(0, 1), (1, 1)}, True),
        ({(0, 1)}, {(0, 1), (1, 1)}, False),
        ([(0, 1), (1, 1), (0, 1)], {(0, 1), (1, 1)}, False),  # a pixel twice: as the grader
        ({(0, 1), (1, 1), (2, 1)}, {(0, 1), (1, 1)}, False),
        (np.array([[1, 1], [0, 1]]), frozenset({(0, 1), (1, 1)}), True),
        (["sobel_x", "outline"], {"sobel_x", "outline"}, True),
        ({"outline", "sobel_x"}, {"sobel_x", "outline"}, True),
        ("outline", {"outline"}, False),
        ([[1, 2], [3, 4]], np.array([[1.0, 2.0], [3.0, 4.0]]), True),
        ("fourteen", 14, False),
        (True, True, True),
        (False, True, False),
    ],
    ids=lambda v: repr(v)[:20],
)
def test_prediction_is_right(guess, answer, right):
    """Do numbers, shapes, arrays and sets compare as a student would expect?"""
    assert prediction_is_right(guess, answer) is right


def test_check_prediction_hides_the_answer_until_there_is_a_guess(capsys):
    """Is the answer kept back while the prediction is None, and shown after a wrong guess?"""
    check_prediction("my_size", None, 4)
    assert capsys.readouterr().out == (
        "No prediction yet: set my_size in its cell above (replace None), run it, then this.\n"
    )
    check_prediction("my_size", 3, 4)
    assert capsys.readouterr().out == "my_size = 3: not quite. The measured answer is 4.\n"
    check_prediction("my_size", 4, 4)
    assert capsys.readouterr().out == "my_size = 4: right.\n"


def test_a_graded_prediction_is_told_what_counts(capsys):
    """For a graded name, does the check say the submitted value counts, and still show the
    measured answer after a wrong guess (no pretended secrecy)?"""
    check_prediction("my_size", None, 4, graded=True)
    out = capsys.readouterr().out
    assert "4" not in out and "graded" in out and out.startswith("No prediction yet")
    check_prediction("my_size", 3, 4, graded=True)
    assert capsys.readouterr().out == (
        "my_size = 3: not quite. The measured answer is 4.\n"
        "  (Graded: what counts is the value my_size holds in its answer cell when you submit. "
        "The answer is shown so you can find where your reasoning went wrong.)\n"
    )
    check_prediction("my_size", 4, 4, graded=True)
    assert capsys.readouterr().out == "my_size = 4: right.\n"
