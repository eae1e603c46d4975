"""Tests for convlab.kernels: named kernels, the curve detector and the lecture's examples."""

import numpy as np
import pytest
from numpy.typing import NDArray

from convlab import kernels
from convlab.kernels import (
    KERNEL_NAMES,
    LECTURE_EXAMPLES,
    as_filter_bank,
    curve_detector,
    curve_receptive_fields,
    describe,
    gaussian,
    get_kernel,
)

SUM_TOLERANCE = 1e-12
CURVE_RESPONSE = 6600.0
SMALL_KERNELS = tuple(name for name in KERNEL_NAMES if name != "curve_detector")

# Correct outputs, worked by hand from the lecture's inputs (VALID, stride 1).
EXPECTED_OUTPUTS = {
    "first_output": [[-4, -3], [3, -8]],
    "padding": [[1, 2], [0, -1]],
    "sobel": [[0, 1], [-1, -1]],
}


def correlate_valid(image: NDArray[np.float64], kernel: NDArray[np.float64]) -> NDArray:
    """Test-only reference: VALID cross-correlation, stride 1, as tf.nn.conv2d computes it."""
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            out[y, x] = np.sum(image[y : y + kh, x : x + kw] * kernel)
    return out


def correlate_same(image: NDArray[np.float64], kernel: NDArray[np.float64]) -> NDArray:
    """Test-only reference: SAME (zero-padded, odd kernel) cross-correlation, stride 1."""
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh // 2, kh // 2), (kw // 2, kw // 2)))
    return correlate_valid(padded, kernel)


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_kernel_is_square_float64(name: str) -> None:
    """Is every named kernel a 2-D, odd-sized, square float64 array?"""
    kernel = get_kernel(name)
    assert kernel.dtype == np.float64
    assert kernel.ndim == 2
    assert kernel.shape[0] == kernel.shape[1]
    assert kernel.shape[0] % 2 == 1


@pytest.mark.parametrize("name", SMALL_KERNELS)
def test_small_kernels_are_3x3(name: str) -> None:
    """Are all kernels except the curve detector 3x3?"""
    assert get_kernel(name).shape == (3, 3)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("sharpen", [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
        ("outline", [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
        ("sobel_x", [[1, 0, -1], [2, 0, -2], [1, 0, -1]]),
        ("sobel_y", [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]),
        ("shift", [[0, 0, 0], [1, 0, 0], [0, 0, 0]]),
        ("horizontal_edge", [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]),
        ("gaussian_blur", np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16),
        ("box_blur", np.full((3, 3), 1 / 9)),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_kernel_values(name: str, expected: list[list[float]]) -> None:
    """Does each named kernel hold the lecture's values, unflipped?"""
    np.testing.assert_allclose(get_kernel(name), expected, rtol=0, atol=SUM_TOLERANCE)


def test_sobel_y_is_transpose_of_sobel_x() -> None:
    """Is sobel_y exactly the transpose of sobel_x?"""
    np.testing.assert_array_equal(get_kernel("sobel_y"), get_kernel("sobel_x").T)


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_get_kernel_returns_independent_copies(name: str) -> None:
    """Does mutating a returned kernel leave the next get_kernel() unchanged?"""
    first = get_kernel(name)
    original = first.copy()
    first += 100.0
    np.testing.assert_array_equal(get_kernel(name), original)


def test_unknown_kernel_lists_valid_names() -> None:
    """Does an unknown name raise KeyError naming the valid kernels?"""
    with pytest.raises(KeyError, match="sobel_x"):
        get_kernel("emboss")
    with pytest.raises(KeyError, match="identity"):
        describe("emboss")


@pytest.mark.parametrize("name", KERNEL_NAMES)
def test_every_kernel_has_a_description(name: str) -> None:
    """Does every kernel have a readable description?"""
    text = describe(name)
    assert isinstance(text, str)
    assert len(text) > 40


def test_sharpen_description_flags_the_lecture_slip() -> None:
    """Does the sharpen description tell students the lecture mislabels it?"""
    text = describe("sharpen").lower()
    assert "slip" in text
    assert "outline" in text


@pytest.mark.parametrize("name", ["box_blur", "gaussian_blur"])
def test_blur_sums_to_one(name: str) -> None:
    """Does each blur kernel sum to 1, keeping flat regions' brightness?"""
    assert abs(get_kernel(name).sum() - 1.0) < SUM_TOLERANCE


@pytest.mark.parametrize(("size", "sigma"), [(1, 1.0), (3, 0.8), (5, 1.0), (4, 2.0)])
def test_gaussian_is_normalized_and_symmetric(size: int, sigma: float) -> None:
    """Is gaussian(size, sigma) a symmetric (size, size) kernel summing to 1?"""
    kernel = gaussian(size, sigma)
    assert kernel.shape == (size, size)
    assert kernel.dtype == np.float64
    assert abs(kernel.sum() - 1.0) < SUM_TOLERANCE
    np.testing.assert_allclose(kernel, kernel.T)
    np.testing.assert_allclose(kernel, kernel[::-1, ::-1])


def test_gaussian_peaks_in_the_centre() -> None:
    """Does an odd-sized Gaussian have its largest weight in the centre?"""
    kernel = gaussian(5, 1.0)
    assert np.unravel_index(np.argmax(kernel), kernel.shape) == (2, 2)


@pytest.mark.parametrize(("size", "sigma"), [(0, 1.0), (3, 0.0), (3, -1.0)])
def test_gaussian_rejects_bad_arguments(size: int, sigma: float) -> None:
    """Are a non-positive size or sigma rejected?"""
    with pytest.raises(ValueError):
        gaussian(size, sigma)


def test_identity_leaves_the_image_unchanged() -> None:
    """Does the identity kernel reproduce the image under SAME correlation?"""
    image = np.arange(20, dtype=np.float64).reshape(4, 5)
    np.testing.assert_array_equal(correlate_same(image, get_kernel("identity")), image)


def test_shift_moves_the_picture_right() -> None:
    """Does the shift kernel give output(y, x) = input(y, x - 1), i.e. move content right?"""
    image = np.zeros((5, 5))
    image[2, 2] = 1.0
    out = correlate_same(image, get_kernel("shift"))
    expected = np.zeros((5, 5))
    expected[2, 3] = 1.0
    np.testing.assert_array_equal(out, expected)
    assert "RIGHT" in describe("shift")


def test_outline_zeroes_flat_regions() -> None:
    """Does the outline kernel give 0 on a constant image (weights sum to 0)?"""
    np.testing.assert_allclose(correlate_valid(np.full((4, 4), 7.0), get_kernel("outline")), 0)


def test_sobel_x_is_positive_where_the_image_darkens_to_the_right() -> None:
    """Is sobel_x positive on a bright-left / dark-right edge (cross-correlation sign)?"""
    image = np.array([[1.0, 1.0, 0.0, 0.0]] * 3)
    assert np.all(correlate_valid(image, get_kernel("sobel_x")) > 0)


@pytest.mark.parametrize("name", sorted(EXPECTED_OUTPUTS))
def test_worked_example_matches_hand_computation(name: str) -> None:
    """Does each lecture example's image and kernel give the correct output and slide output?"""
    example = LECTURE_EXAMPLES[name]
    got = correlate_valid(np.asarray(example.image), np.asarray(example.kernel))
    np.testing.assert_array_equal(got, EXPECTED_OUTPUTS[name])
    np.testing.assert_array_equal(example.lecture_output, EXPECTED_OUTPUTS[name])
    assert example.name == name
    assert example.padding == "VALID"
    assert example.stride == 1


def test_first_example_records_the_slide_slip() -> None:
    """Does the first example keep the later slide's wrong output apart from the correct one?"""
    example = LECTURE_EXAMPLES["first_output"]
    assert example.slip_output is not None
    np.testing.assert_array_equal(example.slip_output, [[-4, -3], [2, -9]])
    assert not np.array_equal(example.slip_output, example.lecture_output)
    assert "slip" in example.note


@pytest.mark.parametrize("name", sorted(EXPECTED_OUTPUTS))
def test_worked_examples_are_read_only(name: str) -> None:
    """Are the shared example arrays protected from in-place edits?"""
    example = LECTURE_EXAMPLES[name]
    with pytest.raises(ValueError):
        example.image[0, 0] = 99.0
    with pytest.raises(TypeError):
        LECTURE_EXAMPLES[name] = example  # type: ignore[index]


def test_as_tf_inputs_shapes_and_independence() -> None:
    """Does as_tf_inputs give writable NHWC and HWIO copies of the example?"""
    example = LECTURE_EXAMPLES["sobel"]
    inputs, filters = example.as_tf_inputs()
    assert inputs.shape == (1, 4, 4, 1)
    assert filters.shape == (3, 3, 1, 1)
    inputs[0, 0, 0, 0] = 99.0
    assert example.image[0, 0] == 2.0
    np.testing.assert_array_equal(filters[:, :, 0, 0], get_kernel("sobel_x"))


def test_sobel_example_uses_the_named_kernel() -> None:
    """Is the Sobel example's kernel the same as get_kernel('sobel_x')?"""
    np.testing.assert_array_equal(LECTURE_EXAMPLES["sobel"].kernel, get_kernel("sobel_x"))


def test_curve_detector_shape_and_weights() -> None:
    """Is the curve detector 7x7 with 30s on the curve and 0 elsewhere?"""
    detector = curve_detector()
    assert detector.shape == (7, 7)
    assert set(np.unique(detector)) == {0.0, kernels.CURVE_WEIGHT}


def test_curve_detector_responses() -> None:
    """Does the detector respond strongly to the curved field and with 0 to the other?"""
    with_curve, without_curve = curve_receptive_fields()
    detector = curve_detector()
    assert with_curve.shape == without_curve.shape == (7, 7)
    assert correlate_valid(with_curve, detector)[0, 0] == CURVE_RESPONSE
    assert correlate_valid(without_curve, detector)[0, 0] == 0.0


@pytest.mark.parametrize(
    ("names", "in_channels", "shape"),
    [
        (["identity"], 1, (3, 3, 1, 1)),
        (["sobel_x", "sobel_y", "box_blur"], 1, (3, 3, 1, 3)),
        (["outline", "sharpen"], 3, (3, 3, 3, 2)),
        (["curve_detector"], 2, (7, 7, 2, 1)),
    ],
    ids=["1-kernel-1ch", "3-kernels-1ch", "2-kernels-3ch", "curve-2ch"],
)
def test_as_filter_bank_shape(names: list[str], in_channels: int, shape: tuple) -> None:
    """Is the filter bank HWIO (kh, kw, in_channels, len(names)) with kernel k in channel k?"""
    bank = as_filter_bank(names, in_channels)
    assert bank.shape == shape
    assert bank.dtype == np.float64
    for k, name in enumerate(names):
        np.testing.assert_allclose(bank[:, :, :, k].sum(axis=2), get_kernel(name))


def test_as_filter_bank_can_skip_channel_averaging() -> None:
    """With average_channels=False, is each input channel a full copy of the kernel?"""
    bank = as_filter_bank(["box_blur"], 3, average_channels=False)
    for channel in range(3):
        np.testing.assert_array_equal(bank[:, :, channel, 0], get_kernel("box_blur"))


def test_averaged_rgb_blur_still_sums_to_one() -> None:
    """Does a 3-channel blur bank keep total weight 1, blurring the channel mean?"""
    assert abs(as_filter_bank(["gaussian_blur"], 3).sum() - 1.0) < SUM_TOLERANCE


@pytest.mark.parametrize(
    ("names", "in_channels"),
    [([], 1), (["identity", "curve_detector"], 1), (["identity"], 0)],
    ids=["empty", "mixed-sizes", "zero-channels"],
)
def test_as_filter_bank_rejects_bad_input(names: list[str], in_channels: int) -> None:
    """Are an empty list, mixed kernel sizes and in_channels < 1 rejected?"""
    with pytest.raises(ValueError):
        as_filter_bank(names, in_channels)


@pytest.mark.parametrize(
    ("name", "sign", "angle"),
    [
        pytest.param("sobel_x", 1, 180.0, id="sobel_x-positive-left"),
        pytest.param("sobel_x", -1, 0.0, id="negated-sobel_x-positive-right"),
        pytest.param("horizontal_edge", 1, 90.0, id="horizontal_edge-positive-on-top"),
        pytest.param("sobel_y", -1, 270.0, id="negated-sobel_y-positive-below"),
        pytest.param("box_blur", 1, 0.0, id="blur-has-no-direction"),
        pytest.param("outline", 1, 0.0, id="outline-has-no-direction"),
    ],
)
def test_edge_angle_points_from_negative_to_positive_weights(name, sign, angle):
    """Is the angle the compass direction from the negative weights to the positive ones?"""
    from convlab.kernels import edge_angle

    assert edge_angle(sign * kernels.get_kernel(name)) == pytest.approx(angle)


def test_edge_angle_of_a_diagonal_5x5_edge():
    """Does a 5×5 edge positive above the anti-diagonal point up-left (135°)?"""
    from convlab.kernels import edge_angle

    rows, cols = np.indices((5, 5))
    diagonal = np.sign(4 - rows - cols).astype(float)  # +1 above-left of the anti-diagonal
    assert edge_angle(diagonal) == pytest.approx(135.0)
