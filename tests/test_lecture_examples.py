"""The lecture's worked examples, and a few it leaves to students, reproduced by the solutions."""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from autograder.classroom import solution_answers

EDGE = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]
SOBEL = [[1, 0, -1], [2, 0, -2], [1, 0, -1]]
FIRST = [[2, 0, 1, 3], [7, 1, 1, 0], [0, 2, 5, 0], [0, 5, 1, 4]]
PADDING = [[2, 0, 1, 3], [0, 1, 1, 0], [0, 0, 2, 0], [0, 1, 1, 1]]
SOBEL_IMAGE = [[2, 0, 3, 1], [1, 1, 0, 0], [1, 0, 2, 0], [1, 0, 1, 2]]
# The stride slide's 5x5 image and the padding slide's 2x2 one.
STRIDE_IMAGE = [[2, 0, 3, 1, 0], [2, 4, 5, 2, 3], [0, 0, 3, 3, 1], [2, 9, 9, 7, 8], [3, 4, 7, 2, 1]]
PAD2_IMAGE = [[2, 3], [9, 2]]
SOBEL_SAME = [[-1, -1, -1, 6], [-2, 0, 1, 5], [-1, -1, -1, 5], [0, -1, -4, 4]]
ROOT = Path(__file__).resolve().parents[1]


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
        SOBEL_SAME,
    ),
    # The stride slide's own matrix, windows at rows/columns 0 and 2; by hand, e.g. the top-left
    # window: (2 + 0 + 3) - (0 + 0 + 3) = 2.
    "stride-slide-5x5-stride2": (STRIDE_IMAGE, EDGE, [1, 2, 2, 1], "VALID", [[2, -3], [-11, -3]]),
    "stride-slide-is-stride1-subsampled": (
        STRIDE_IMAGE,
        EDGE,
        1,
        "VALID",
        [[2, -2, -3], [-9, -14, -14], [-11, -7, -3]],  # [::2, ::2] is the stride-2 output
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


def test_padding_slide_p2_gives_4x4(conv2d):
    """Does the 2x2 image padded by p = 2 with a 3x3 filter give (2 - 3 + 4)/1 + 1 = 4 per side?"""
    out = conv2d(np.pad(PAD2_IMAGE, 2), np.ones((3, 3)))
    assert out.shape == (4, 4)
    # The corner window sees only the image's top-left pixel; the centre one all four.
    assert out[0, 0] == 2 and out[1, 1] == 2 + 3 + 9 + 2


def test_lab02_mnist_sizes_from_the_lecture():
    """The lecture's MNIST call (28, f = 5, s = 2): SAME 14, VALID 12."""
    ns = _namespace("02_stride_padding")
    assert ns["output_size"](28, 5, 2, "SAME") == 14
    assert ns["output_size"](28, 5, 2, "VALID") == 12


@pytest.mark.parametrize(
    "lab, name", [("03_filter_banks", "conv2d"), ("05_fast_conv2d", "conv2d_fast")]
)
def test_the_lecture_cifar_call_gives_16x16(lab, name):
    """The lecture's CIFAR call, [5, 5, 3, 16] at strides [1, 2, 2, 1], SAME: (N, 16, 16, 16)."""
    fn = _namespace(lab)[name]
    out = np.asarray(fn(np.zeros((2, 32, 32, 3)), np.zeros((5, 5, 3, 16)), [1, 2, 2, 1], "SAME"))
    assert out.shape == (2, 16, 16, 16)


def test_lab02_output_size_with_the_lectures_padding_p():
    """(w - f + 2p)/s + 1: the p = 2 slide gives 4; w = 4, f = 3: p = 0 gives 2, p = 1 gives 4."""
    output_size = _namespace("02_stride_padding")["output_size"]
    assert output_size(2, 3, 1, 2) == 4
    assert output_size(4, 3, 1, 0) == 2
    assert output_size(4, 3, 1, 1) == 4 == output_size(4, 3, 1, "SAME")
    assert output_size(28, 5, 2, 2) == 14 == output_size(28, 5, 2, "SAME")


def test_lab02_receptive_fields_of_the_lecture_stacks():
    """Two 3x3 layers see 5, three 7; at stride 2 two see 7; lab 04's CNN (5, pool 2, 5) 14."""
    receptive_field = _namespace("02_stride_padding")["receptive_field"]
    assert receptive_field([3], [1]) == 3
    assert receptive_field([3, 3], [1, 1]) == 5
    assert receptive_field([3, 3, 3], [1, 1, 1]) == 7
    assert receptive_field([3, 3], [2, 2]) == 7
    assert receptive_field([5, 2, 5], [1, 2, 1]) == 14


def _lab04() -> dict:
    import tensorflow as tf

    namespace: dict = {"np": np, "tf": tf}
    for source in solution_answers("04_tf_conv2d").values():
        exec(compile(source, "<solutions/04_tf_conv2d>", "exec"), namespace)
    return namespace


def test_lab04_cifar_conv_is_the_lectures_call():
    """cifar_conv: [5, 5, 3, 16], strides [1, 2, 2, 1], SAME: (N, 32, 32, 3) -> (N, 16, 16, 16)."""
    ns = _lab04()
    assert list(ns["cifar_filter_shape"]()) == [5, 5, 3, 16]
    out = ns["cifar_conv"](
        np.zeros((2, 32, 32, 3), np.float32), np.zeros((5, 5, 3, 16), np.float32)
    )
    assert tuple(out.shape) == (2, 16, 16, 16)


def test_lab04_learn_kernel_recovers_the_lecture_edge_kernel():
    """From 4 digits and their VALID outputs, does the solution learn the lecture edge kernel?"""
    import tensorflow as tf

    from convlab.data import load_mnist

    digits = load_mnist("test")[0][:4]
    edge = np.array(EDGE, np.float32)
    targets = tf.nn.conv2d(digits, edge[:, :, None, None], 1, "VALID").numpy()
    history: list = []
    learned = _lab04()["learn_kernel"](digits, targets, (3, 3), history=history)
    assert learned.shape == (3, 3) and np.abs(learned - edge).max() <= 0.05
    assert history[-1][0] < history[0][0] / 1000  # the loss fell by orders of magnitude


def test_graded_predictions_are_the_lectures_answers():
    """Is every graded my_... item's measured answer the lecture's one (in PREDICTIONS below)?"""
    from autograder.exercise import make_cases
    from autograder.reference import expected_outputs
    from autograder.registry import LABS

    graded = [(lab, item.function) for lab in LABS for item in LABS[lab].items if item.prediction]
    assert len(graded) >= 4
    for lab, name in graded:
        expected = expected_outputs(make_cases(name, "prediction", 0), use_disk=False)[0]
        assert np.array_equal(np.asarray(expected), np.asarray(PREDICTIONS[lab][name])), name


def test_lab03_conv_matrix_counts_from_the_lecture():
    """Lecture kernel: 9 pixels connected, 6 non-zeros per row; MNIST: 451,584 vs 25 weights."""
    conv_matrix = _namespace("03_filter_banks")["conv_matrix"]
    small = conv_matrix(np.array(EDGE, float), 4, 4)
    assert small.shape == (4, 16)
    assert list(np.count_nonzero(small, axis=1)) == [6] * 4
    assert list(np.count_nonzero(conv_matrix(np.ones((3, 3)), 4, 4), axis=1)) == [9] * 4
    kernel = np.arange(1.0, 26.0).reshape(5, 5)
    big = conv_matrix(kernel, 28, 28)
    assert big.size == 784 * 576 == 451_584
    assert len(np.unique(big[big != 0])) == 25


# The lecture's answers to every "predict, then check" cell, by lab. A new prediction cell must be
# added here (the test fails on a my_* variable it does not know).
PREDICTIONS = {
    "01_convolution_by_hand": {
        "my_pixels_v10": {(y, x) for y in (0, 1, 2) for x in (1, 2, 3)},
        "my_mnist_size": 24,
        "my_flat_to_zero": {"outline", "sobel_x", "sobel_y"},
    },
    "02_stride_padding": {
        "my_corners": {(0, 0), (0, 2), (2, 0), (2, 2)},
        "my_p2_width": 4,
        "my_mnist_same": 14,
        "my_mnist_valid": 12,
        "my_sobel_same": SOBEL_SAME,
    },
    "03_filter_banks": {
        "my_bank_shape": (1, 28, 28, 6),
        "my_connected_per_row": 9,
        "my_nonzeros_per_row": 6,
        "my_dense_weights": 451_584,
        "my_conv_weights": 25,
    },
    "04_tf_conv2d": {
        "my_mnist_shape": (64, 14, 14, 16),
        "my_cifar_shape": (20, 16, 16, 16),
        "my_equivariant": True,
    },
    "05_fast_conv2d": {
        "my_im2col_shape": (64 * 14 * 14, 5 * 5 * 1),
        "my_cifar_macs": 20 * 32 * 32 * 5 * 5 * 3 * 16,
    },
}
PREDICTION_LINE = re.compile(r"^(my_\w+) = None\b.*$", re.M)


def test_every_lab_asks_for_at_least_two_predictions():
    """Does every lab have two or more prediction cells, all of them known here?"""
    for lab, answers in PREDICTIONS.items():
        nb = nbformat.read(ROOT / "solutions" / lab / f"{lab}.ipynb", as_version=4)
        names = {m.group(1) for c in nb.cells if c.cell_type == "code"
                 for m in PREDICTION_LINE.finditer(c.source)}  # fmt: skip
        assert names == set(answers), lab
        assert len(names) >= 2, lab


@pytest.mark.slow
@pytest.mark.parametrize("lab", sorted(PREDICTIONS))
def test_the_lecture_answers_are_judged_right(lab, tmp_path):
    """With the lecture's answers filled in, does every check cell of the solution say "right"?"""
    nb = nbformat.read(ROOT / "solutions" / lab / f"{lab}.ipynb", as_version=4)
    answers = PREDICTIONS[lab]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = PREDICTION_LINE.sub(
                lambda m: f"{m.group(1)} = {answers[m.group(1)]!r}", cell.source
            )
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    verdicts = [
        line
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.output_type == "stream"
        for line in out.text.splitlines()
        if re.match(r"(my_\w+ = .*: (right|not quite)|No prediction yet)", line)
    ]
    judged = {line.split(" = ", 1)[0] for line in verdicts if line.startswith("my_")}
    assert judged == set(answers), verdicts
    assert all(line.endswith(": right.") for line in verdicts), verdicts
