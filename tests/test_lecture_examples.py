"""The lecture's worked examples, and a few it leaves to students, reproduced by the solutions."""

import numpy as np
import pytest

from autograder.classroom import solution_answers

EDGE = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]
SOBEL = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
FIRST = [[2, 0, 1, 3], [7, 1, 1, 0], [0, 2, 5, 0], [0, 5, 1, 4]]
PADDING = [[2, 0, 1, 3], [0, 1, 1, 0], [0, 0, 2, 0], [0, 1, 1, 1]]
SOBEL_IMAGE = [[2, 0, 3, 1], [1, 1, 0, 0], [1, 0, 2, 0], [1, 0, 1, 2]]


def _namespace(lab: str) -> dict:
    """The lab's solution cells run in one namespace, as a student's notebook would run them."""
    namespace: dict = {"np": np}
    for source in solution_answers(lab).values():
        exec(compile(source, f"<solutions/{lab}>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module", params=["03_filter_banks:conv2d", "05_fast_conv2d:conv2d_fast"])
def conv2d(request):
    lab, name = request.param.split(":")
    fn = _namespace(lab)[name]

    def on_2d(image, kernel, strides=1, padding="VALID"):
        x = np.asarray(image, float)[None, :, :, None]
        w = np.asarray(kernel, float)[:, :, None, None]
        return np.asarray(fn(x, w, strides, padding))[0, :, :, 0]

    return on_2d


# (image, kernel, strides, padding, expected): the first three are on the lecture's slides; the
# rest are ones it leaves to students (checked by hand, e.g. SAME's corner: 2·0 + 1·0 + 1·(-1)).
EXAMPLES = {
    "first-output": (FIRST, EDGE, 1, "VALID", [[-4, -3], [3, -8]]),
    "padding-valid": (PADDING, EDGE, 1, "VALID", [[1, 2], [0, -1]]),
    "sobel-valid": (SOBEL_IMAGE, SOBEL, 1, "VALID", [[0, 1], [-1, -1]]),
    "sobel-same-homework": (
        SOBEL_IMAGE,
        SOBEL,
        1,
        "SAME",
        [[-1, -1, -1, 6], [-2, 0, 1, 5], [-1, -1, -1, 5], [0, -1, -4, 4]],
    ),
    "stride2-5x5-gives-2x2": (
        np.arange(25).reshape(5, 5),
        EDGE,
        [1, 2, 2, 1],
        "valid",
        [[-30, -30], [-30, -30]],  # each window: top row minus bottom row = 3 · (-10)
    ),
}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_solution_reproduces_worked_example(conv2d, name):
    """Does the reference conv2d give the lecture's numbers (and the homework's)?"""
    image, kernel, strides, padding, expected = EXAMPLES[name]
    np.testing.assert_allclose(conv2d(image, kernel, strides, padding), expected)


def test_the_slide_slip_is_not_reproduced(conv2d):
    """Is the later slide's [[-4, -3], [2, -9]] indeed wrong, as the labs say?"""
    assert not np.allclose(conv2d(FIRST, EDGE), [[-4, -3], [2, -9]])


def test_lab01_functions_build_the_output_pixel_by_pixel():
    """Do lab 01's apply_kernel (one pixel, x = column) and convolve2d give the lecture's V?"""
    ns = _namespace("01_convolution_by_hand")
    image, kernel = np.array(FIRST, float), np.array(EDGE, float)
    pixels = {(x, y): ns["apply_kernel"](image, kernel, x, y) for x in (0, 1) for y in (0, 1)}
    assert pixels == {(0, 0): -4, (1, 0): -3, (0, 1): 3, (1, 1): -8}
    np.testing.assert_allclose(ns["convolve2d"](image, kernel), [[-4, -3], [3, -8]])


def test_lab02_output_sizes_from_the_lecture():
    """w = 4, f = 3, s = 1 gives 2 (VALID) and 4 (SAME); 5x5 at stride 2 gives 2, like 4x4 at 1."""
    ns = _namespace("02_stride_padding")
    assert ns["output_size"](4, 3, 1, "VALID") == 2
    assert ns["output_size"](4, 3, 1, "same") == 4
    assert ns["output_size"](5, 3, 2, "VALID") == ns["output_size"](4, 3, 1, "VALID") == 2
