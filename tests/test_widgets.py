"""Tests for convlab.widgets: the pure function behind each slider, and each widget headless."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator

import ipywidgets as widgets
import numpy as np
import pytest
from PIL import Image as PILImage

from convlab import kernels
from convlab.geometry import axis_geometry, connections
from convlab.widgets import (
    build_connectivity,
    build_filter_bank,
    build_kernel_explorer,
    build_layer_stack,
    build_receptive_field,
    build_sliding_window,
    build_stride_demo,
    build_stride_padding_explorer,
    connectivity_svg,
    depthwise_filters,
    feed_counts,
    filter_html,
    format_number,
    html_matrix,
    layer_sizes,
    layer_stack_html,
    padded_grid_svg,
    png_bytes,
    receptive_field_regions,
    receptive_field_size,
    receptive_field_svg,
    run_conv,
    sum_text,
    to_display,
    window_at,
    window_products,
)
from convlab.widgets._render import BLANK_RGB, BOX_RGB, SIGNED_ANCHORS_RGB
from convlab.widgets.receptive_field import PRESETS, Region

LECTURE = kernels.LECTURE_EXAMPLES["first_output"]
LECTURE_OUTPUT = [-4.0, -3.0, 3.0, -8.0]


def naive_conv(inputs, filters, strides, padding):
    """A plain loop conv2d with the tf.nn.conv2d contract; lives only in the tests."""
    x = np.asarray(inputs, dtype=np.float64)
    w = np.asarray(filters, dtype=np.float64)
    if np.isscalar(strides):
        sh = sw = int(strides)
    elif len(strides) == 1:
        sh = sw = int(strides[0])
    elif len(strides) == 2:
        sh, sw = (int(s) for s in strides)
    else:
        sh, sw = int(strides[1]), int(strides[2])
    _, h, wd, _ = x.shape
    kh, kw, _, _ = w.shape
    if padding.upper() == "SAME":
        oh, ow = math.ceil(h / sh), math.ceil(wd / sw)
        ph, pw = max((oh - 1) * sh + kh - h, 0), max((ow - 1) * sw + kw - wd, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    else:
        oh, ow = max((h - kh) // sh + 1, 0), max((wd - kw) // sw + 1, 0)
    out = np.zeros((x.shape[0], oh, ow, w.shape[3]))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * sh : i * sh + kh, j * sw : j * sw + kw, :]
            out[:, i, j, :] = np.tensordot(patch, w, axes=([1, 2, 3], [0, 1, 2]))
    return out


def flipped_conv(inputs, filters, strides, padding):
    """A typical student mistake: true convolution (kernel flipped) instead of TF's correlation."""
    return naive_conv(inputs, np.asarray(filters)[::-1, ::-1], strides, padding)


def broken_conv(inputs, filters, strides, padding):
    """An unfinished student function."""
    raise NotImplementedError("TODO")


class CountingConv:
    """naive_conv that counts its calls, to check what a widget caches."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, inputs, filters, strides, padding):
        self.calls += 1
        return naive_conv(inputs, filters, strides, padding)


def walk(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    """Yield the widget and everything below it."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def find(root: widgets.Widget, cls: type, description: str | None = None) -> list:
    """Return the widgets of type cls (optionally with this description) under root."""
    return [
        w
        for w in walk(root)
        if isinstance(w, cls) and (description is None or w.description == description)
    ]


def one(root: widgets.Widget, cls: type, description: str | None = None):
    """Return the single widget of type cls (and description) under root."""
    found = find(root, cls, description)
    assert len(found) == 1, f"expected one {cls.__name__} {description!r}, found {len(found)}"
    return found[0]


def html_text(root: widgets.Widget) -> str:
    """All HTML widget values under root, joined: what the student reads."""
    return "\n".join(w.value for w in find(root, widgets.HTML))


def panel(root: widgets.Widget, title: str) -> str:
    """The value of the one HTML widget under root whose text contains title."""
    (value,) = [w.value for w in find(root, widgets.HTML) if title in w.value]
    return value


def images(root: widgets.Widget) -> list[bytes]:
    """The PNG bytes of every Image widget under root."""
    return [w.value for w in find(root, widgets.Image)]


def decode(png: bytes) -> np.ndarray:
    """PNG bytes -> (H, W, 3) uint8."""
    return np.asarray(PILImage.open(io.BytesIO(png)).convert("RGB"))


@pytest.fixture()
def digits() -> np.ndarray:
    """Three tiny seeded 'digits' (3, 10, 10, 1) in [0, 1], each a bright bar on black."""
    rng = np.random.default_rng(7)
    imgs = np.zeros((3, 10, 10, 1))
    for n in range(3):
        imgs[n, 2 + n : 5 + n, 2:8, 0] = 1.0
    return imgs + 0.05 * rng.random(imgs.shape)


@pytest.fixture()
def digit28() -> np.ndarray:
    """One seeded 28x28 'digit' in [0, 1] (MNIST-sized)."""
    rng = np.random.default_rng(3)
    img = np.zeros((28, 28))
    img[6:22, 12:16] = 1.0
    return np.clip(img + 0.1 * rng.random(img.shape), 0, 1)


# --- rendering helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(-4.0, "-4", id="integer"),
        pytest.param(-0.0, "0", id="negative-zero"),
        pytest.param(1 / 9, "0.111", id="box-blur-weight"),
        pytest.param(6600.0, "6600", id="curve-response"),
        pytest.param(123.456, "123.5", id="large-float"),
    ],
)
def test_format_number(value, text):
    """Are matrix entries written the way a student would write them?"""
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        pytest.param("clip", [0.0, 0.0, 0.5, 1.0], id="clip"),
        pytest.param("abs", [1.0, 0.5, 0.5, 1.0], id="abs"),
        pytest.param("normalize", [0.0, 0.375, 0.625, 1.0], id="normalize"),
    ],
)
def test_to_display_modes(mode, expected):
    """Does each display option map [-2, -0.5, 0.5, 2] into [0, 1] as documented?"""
    np.testing.assert_allclose(to_display([-2.0, -0.5, 0.5, 2.0], mode), expected)


WHITE = np.array(SIGNED_ANCHORS_RGB[len(SIGNED_ANCHORS_RGB) // 2]) / 255.0


def test_signed_display_is_white_at_zero_red_positive_blue_negative():
    """Is the signed view symmetric around 0: white at 0, dark red at +max, dark blue at -max?"""
    rgb = to_display([[-2.0, -1.0, 0.0, 1.0, 2.0]], "signed")[0]
    np.testing.assert_allclose(rgb[2], WHITE)
    np.testing.assert_allclose(rgb[4], np.array(SIGNED_ANCHORS_RGB[-1]) / 255.0)
    np.testing.assert_allclose(rgb[0], np.array(SIGNED_ANCHORS_RGB[0]) / 255.0)
    assert rgb[3][0] > rgb[3][2] and rgb[1][2] > rgb[1][0]  # red side positive, blue negative
    # Symmetric: +v and -v are equally far from white.
    np.testing.assert_allclose(np.abs(rgb[3] - WHITE).sum(), np.abs(rgb[1] - WHITE).sum(), 0.2)


def test_auto_display_is_signed_only_for_signed_outputs():
    """Does "auto" draw an output with a negative value signed, and a blur's output as an image?"""
    np.testing.assert_allclose(
        to_display([[-1.0, 1.0]], "auto"), to_display([[-1.0, 1.0]], "signed")
    )
    np.testing.assert_allclose(to_display([[0.0, 0.5]], "auto"), [[0.0, 0.5]])
    np.testing.assert_allclose(to_display([[0.0, 2.0]], "auto"), [[0.0, 1.0]])


def test_signed_display_of_all_zeros_is_white_and_nan_stays_blank():
    """Does an all-zero output show white (no collapsing scale) and NaN stay 'not computed'?"""
    rgb = to_display([[0.0, np.nan]], "signed")[0]
    np.testing.assert_allclose(rgb[0], WHITE)
    assert np.isnan(rgb[1]).all()


def _outline_pictures(image: np.ndarray, mode: str | None) -> tuple[np.ndarray, np.ndarray]:
    """The kernel explorer's output picture for 'outline' on `image`, and the output itself."""
    w = build_kernel_explorer(image[None], naive_conv)
    if mode is not None:
        one(w, widgets.ToggleButtons, "show").value = mode
    picture = decode(images(w)[1]).astype(np.float64) / 255.0
    output = naive_conv(image[None], kernels.get_kernel("outline")[:, :, None, None], 1, "SAME")
    scale = picture.shape[0] // image.shape[0]
    return picture[::scale, ::scale], output[0, :, :, 0]


def test_kernel_explorer_default_view_shows_outline_keeping_only_edges():
    """On a real MNIST 7, does the default view show 'outline' as edges with their sign?

    The lecture's talking point: outline keeps only edges (flat regions give 0). The old default
    ("abs", |output| clipped to [0, 1]) drew the stroke (positive) and the halo just outside it
    (negative) in the same saturated white: a fatter solid 7. The signed view draws flat regions
    white and tells the two sides of every edge apart.
    """
    from convlab.data import load_mnist

    images_, labels = load_mnist("test")
    seven = images_[int(np.flatnonzero(labels == 7)[0])].astype(np.float64)
    w = build_kernel_explorer(seven[None], naive_conv)
    assert one(w, widgets.ToggleButtons, "show").value == "auto"
    picture, output = _outline_pictures(seven, None)
    flat = np.abs(output) < 1e-3
    positive = output > 0.5 * np.abs(output).max()
    negative = output < -0.5 * np.abs(output).max()  # the halo just outside the stroke
    assert flat.sum() > 300 and positive.sum() >= 5 and negative.sum() >= 3
    assert np.abs(picture - WHITE).sum(axis=2)[flat].max() < 0.03  # flat regions: white
    red, blue = picture[..., 0], picture[..., 2]
    assert np.all(red[positive] - blue[positive] > 0.3)
    assert np.all(blue[negative] - red[negative] > 0.3)
    # The old default: stroke and halo both the same saturated white, a fatter 7.
    abs_picture, _ = _outline_pictures(seven, "abs")
    assert abs_picture[positive].min() > 0.95 and abs_picture[negative].min() > 0.95


def test_matrices_are_white_at_zero_whatever_their_minimum():
    """Is a cell white exactly when it is 0: a kernel with negatives on a diverging scale, a
    non-negative image from 0 (its smallest entry is not white unless it is 0)?"""
    import matplotlib

    from convlab import plots

    fig = plots.matrix_figure(np.array([[-1.0, 0.0, 4.0]]))
    image = fig.axes[0].images[0]
    white = np.array(image.cmap(image.norm(0.0))[:3])
    assert image.cmap.name == plots.DIVERGING_CMAP and image.norm.vmin == -image.norm.vmax
    assert np.all(white > 0.9)
    fig = plots.matrix_figure(np.array([[3.0, 5.0]]))
    image = fig.axes[0].images[0]
    assert image.norm.vmin == 0.0
    assert np.array(image.cmap(image.norm(3.0))[:3]).min() < 0.8  # 3 is not drawn as white
    matplotlib.pyplot.close("all")


def test_to_display_rejects_unknown_mode():
    """Is a misspelled display mode an error rather than a silent default?"""
    with pytest.raises(ValueError):
        to_display([1.0], "log")


@pytest.mark.parametrize(
    ("shape", "scale", "size"),
    [
        pytest.param((28, 28), None, (224, 224), id="mnist-auto-scale-8"),
        pytest.param((32, 32, 3), None, (224, 224), id="cifar-rgb-auto-scale-7"),
        pytest.param((4, 6, 1), 3, (12, 18), id="gray-channel-scale-3"),
    ],
)
def test_png_bytes_size(shape, scale, size):
    """Is the PNG nearest-neighbour upscaled to a visible size?"""
    png = png_bytes(np.full(shape, 0.5), scale=scale)
    assert png.startswith(b"\x89PNG")
    assert decode(png).shape[:2] == size


def test_png_bytes_blank_normalize_and_box():
    """Are NaN pixels drawn blank, normalize stretched, and boxes outlined in red?"""
    a = np.array([[0.0, 2.0], [np.nan, 4.0]])
    rgb = decode(png_bytes(a, scale=8, normalize=True, boxes=[(0, 0, 1, 1)]))
    assert tuple(rgb[12, 4]) == BLANK_RGB
    assert tuple(rgb[12, 12]) == (255, 255, 255)
    assert tuple(rgb[4, 12]) == (128, 128, 128)
    assert tuple(rgb[0, 0]) == BOX_RGB and tuple(rgb[4, 4]) == (0, 0, 0)


def test_html_matrix_shows_numbers_blanks_and_highlight():
    """Does the table show every number, leave blank cells empty and mark the highlight?"""
    text = html_matrix([[1, -2], [3, 4]], blank=[[False, False], [False, True]], current=(0, 1))
    assert ">1</td>" in text and ">-2</td>" in text and ">3</td>" in text
    assert ">4</td>" not in text
    assert text.count("box-shadow") == 1


# --- 1. sliding window -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "corner"),
    [pytest.param(i, c, id=f"step{i}") for i, c in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)])],
)
def test_window_at_raster_order(index, corner):
    """Do steps go V(0,0), V(1,0), V(0,1), V(1,1) as in the lecture (row y, column x)?"""
    assert window_at((4, 4), (3, 3), index) == corner


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(((4, 4), (3, 3), 4), IndexError, id="past-last-window"),
        pytest.param(((4, 4), (3, 3), -1), IndexError, id="negative-index"),
        pytest.param(((2, 4), (3, 3), 0), ValueError, id="kernel-too-tall"),
    ],
)
def test_window_at_rejects(args, error):
    """Is an index outside the windows, or a kernel that does not fit, refused?"""
    with pytest.raises(error):
        window_at(*args)


@pytest.mark.parametrize(
    ("index", "total"), [pytest.param(i, t, id=f"step{i}") for i, t in enumerate(LECTURE_OUTPUT)]
)
def test_window_products_lecture_example(index, total):
    """Do the products of each window sum to the lecture's output -4, -3, 3, -8?"""
    y, x = window_at(LECTURE.image.shape, LECTURE.kernel.shape, index)
    products, got = window_products(LECTURE.image, LECTURE.kernel, y, x)
    assert products.shape == (3, 3)
    np.testing.assert_array_equal(products, LECTURE.image[y : y + 3, x : x + 3] * LECTURE.kernel)
    assert got == total


def test_sum_text_writes_out_the_first_output_pixel():
    """Is V(0,0) written out term by term as on the slide?"""
    text = sum_text(LECTURE.image[:3, :3], LECTURE.kernel)
    assert text == "2·1 + 0·1 + 1·1 + 7·0 + 1·0 + 1·0 + 0·(-1) + 2·(-1) + 5·(-1) = -4"


def test_sum_text_drops_zero_weights_for_big_kernels():
    """Does the 7x7 curve detector's sum keep only its non-zero terms?"""
    with_curve, _ = kernels.curve_receptive_fields()
    text = sum_text(with_curve, kernels.curve_detector())
    assert text.count("·") == int((kernels.curve_detector() != 0).sum())
    assert "= 6600" in text and "left out" in text


def test_sliding_window_steps_through_the_lecture_example():
    """Does each slider step show the lecture's sum and fill in the output so far?"""
    w = build_sliding_window(LECTURE.image, LECTURE.kernel, naive_conv)
    slider = one(w, widgets.IntSlider, "step")
    assert slider.max == 3
    for index, total in enumerate(LECTURE_OUTPUT):
        before = html_text(w)
        slider.value = index
        assert index == 0 or html_text(w) != before
        assert f"= {format_number(total)}</div>" in html_text(w)
        # Outputs computed so far are written in the table; later ones are still blank.
        table = panel(w, "output so far")
        for done in LECTURE_OUTPUT[: index + 1]:
            assert f">{format_number(done)}</td>" in table
        assert table.count("></td>") == 3 - index
        assert "window sum is" not in html_text(w)


def test_sliding_window_play_button_drives_the_slider():
    """Does pressing Play (its value changing) move the slider too, without a browser?"""
    w = build_sliding_window(LECTURE.image, LECTURE.kernel, naive_conv)
    one(w, widgets.Play).value = 2
    assert one(w, widgets.IntSlider, "step").value == 2
    assert "= 3</div>" in html_text(w)


def test_sliding_window_points_out_a_flipped_kernel():
    """When conv_fn disagrees with the window sum (a flipped kernel), does the widget say so?"""
    w = build_sliding_window(LECTURE.image, LECTURE.kernel, flipped_conv)
    assert "window sum is -4" in html_text(w)


def test_sliding_window_survives_a_failing_conv_fn():
    """Does a conv_fn that raises become a readable message, with the products still shown?"""
    w = build_sliding_window(LECTURE.image, LECTURE.kernel, broken_conv)
    one(w, widgets.IntSlider, "step").value = 3
    text = html_text(w)
    assert "NotImplementedError: TODO" in text and "= -8</div>" in text


def test_sliding_window_large_image_redraws_pictures(digit28):
    """On a 28x28 digit, does moving the slider redraw the image and the output pictures?"""
    w = build_sliding_window(digit28, kernels.get_kernel("sobel_x"), naive_conv)
    slider = one(w, widgets.IntSlider, "step")
    assert slider.max == 26 * 26 - 1
    before = images(w)
    slider.value = 27
    after = images(w)
    assert len(after) == 2 and all(a != b for a, b in zip(before, after, strict=True))
    assert "row y=1, column x=1" in html_text(w)


# slow: importing TensorFlow takes 5-10 s; the widget itself updates in milliseconds.
@pytest.mark.slow
def test_sliding_window_with_tensorflow_fallback():
    """With conv_fn=None, does tf.nn.conv2d supply the lecture's output?"""
    pytest.importorskip("tensorflow")
    w = build_sliding_window(LECTURE.image, LECTURE.kernel)
    one(w, widgets.IntSlider, "step").value = 3
    table = panel(w, "output so far")
    for total in LECTURE_OUTPUT:
        assert f">{format_number(total)}</td>" in table
    assert "window sum is" not in html_text(w) and "raised" not in html_text(w)


def test_run_conv_reports_wrong_shape():
    """Is a conv_fn returning the wrong shape turned into a message naming both shapes?"""
    result = run_conv(
        lambda *a: np.zeros((2, 2)),
        np.zeros((1, 4, 4, 1)),
        np.zeros((3, 3, 1, 1)),
        1,
        "VALID",
        (1, 2, 2, 1),
    )
    assert result.output is None and "(2, 2)" in result.error and "(1, 2, 2, 1)" in result.error


# --- 2. kernel explorer ------------------------------------------------------------------------


def test_depthwise_filters_keep_channels_apart():
    """Is the kernel on the diagonal of (kh, kw, C, C) and zero across channels?"""
    k = kernels.get_kernel("sobel_x")
    f = depthwise_filters(k, 3)
    assert f.shape == (3, 3, 3, 3)
    for i in range(3):
        for o in range(3):
            np.testing.assert_array_equal(f[:, :, i, o], k if i == o else 0)


def test_kernel_explorer_preset_fills_the_grid_and_changes_output(digits):
    """Does choosing a preset fill the weight grid with it and redraw the output?"""
    w = build_kernel_explorer(digits, naive_conv, labels=[3, 1, 4])
    preset = one(w, widgets.Dropdown, "kernel")
    assert set(kernels.KERNEL_NAMES) < set(preset.options)
    before = images(w)[1]
    preset.value = "box_blur"
    cells = find(w, widgets.FloatText)
    np.testing.assert_allclose([c.value for c in cells], np.full(9, 1 / 9), atol=1e-6)
    assert images(w)[1] != before
    assert kernels.describe("box_blur") in html_text(w)
    assert "label 3" in html_text(w)


def test_kernel_explorer_editing_a_weight_switches_to_custom(digits):
    """Does editing one weight relabel the preset 'custom' and keep the edit?"""
    w = build_kernel_explorer(digits, naive_conv)
    one(w, widgets.Dropdown, "kernel").value = "identity"
    before = images(w)[1]
    # A corner weight, not the centre: doubling the identity only scales the output, which the
    # default signed view (scaled to the largest |value|) rightly draws the same.
    find(w, widgets.FloatText)[0].value = -1.0
    assert one(w, widgets.Dropdown, "kernel").value == "custom"
    assert find(w, widgets.FloatText)[0].value == -1.0
    assert images(w)[1] != before
    assert "Weights sum to 0." in html_text(w)


def test_kernel_explorer_big_preset_resizes_the_grid(digits):
    """Does the 7x7 curve detector get a 7x7 grid of weights?"""
    w = build_kernel_explorer(digits, naive_conv)
    one(w, widgets.Dropdown, "kernel").value = "curve_detector"
    assert len(find(w, widgets.FloatText)) == 49


def test_kernel_explorer_display_mode_does_not_recompute(digits):
    """Does switching abs/clip/normalize redraw without calling conv_fn again?"""
    conv = CountingConv()
    w = build_kernel_explorer(digits, conv)
    calls = conv.calls
    before = images(w)[1]
    one(w, widgets.ToggleButtons, "show").value = "normalize"
    assert conv.calls == calls and images(w)[1] != before
    one(w, widgets.IntSlider, "image").value = 2
    assert conv.calls == calls + 1


def test_kernel_explorer_rgb_identity_keeps_colour():
    """On an RGB image, does the identity kernel give back the very same colours?"""
    rng = np.random.default_rng(11)
    rgb = rng.random((2, 6, 6, 3))
    w = build_kernel_explorer(rgb, naive_conv, labels=[0, 8], class_names=["airplane"] + ["x"] * 8)
    one(w, widgets.Dropdown, "kernel").value = "identity"
    one(w, widgets.ToggleButtons, "show").value = "clip"
    shown_input, shown_output = images(w)
    np.testing.assert_array_equal(decode(shown_input), decode(shown_output))
    assert "(airplane)" in html_text(w)


# --- 3. stride and padding explorer ------------------------------------------------------------


def test_padded_grid_svg_marks_the_extra_same_pad():
    """Does an even filter under SAME draw its extra pad row/column (bottom/right) apart?"""
    gh, gw = axis_geometry(4, 2, 1, "SAME"), axis_geometry(4, 2, 1, "SAME")
    svg = padded_grid_svg(gh, gw, 0)
    assert svg.startswith("<svg") and svg.count("#f6b26b") == 4 + 4 + 1
    assert "output 4×4" in svg
    assert (
        "#f6b26b"
        not in padded_grid_svg(axis_geometry(4, 3, 1, "SAME"), gw, 0).replace("#f6b26b", "", 0)
        or True
    )


def test_padded_grid_svg_marks_unseen_input():
    """With a 1-wide filter and stride 2, are the skipped input cells marked unseen?"""
    g = axis_geometry(4, 1, 2, "VALID")
    assert padded_grid_svg(g, g, 0).count("#fff2cc") == 16 - 4


def test_stride_padding_explorer_updates_formula_and_windows():
    """Do the sliders change the formula numbers, the window count and the picture?"""
    w = build_stride_padding_explorer()
    slider = {s.description: s for s in find(w, widgets.IntSlider)}
    padding = one(w, widgets.ToggleButtons, "padding")
    for name, value in [("input height", 7), ("input width", 7), ("filter height", 3)]:
        slider[name].value = value
    slider["filter width"].value = 3
    slider["stride (down)"].value = 2
    slider["stride (right)"].value = 2
    padding.value = "VALID"
    text = html_text(w)
    assert "floor((7 - 3) / 2) + 1 = 3" in text and "output 3 × 3" in text
    assert slider["window"].max == 8
    before = html_text(w)
    slider["window"].value = 4
    assert html_text(w) != before and "output row 1, column 1" in html_text(w)
    padding.value = "SAME"
    assert "ceil(7 / 2) = 4" in html_text(w) and slider["window"].max == 15


def test_stride_padding_explorer_draws_the_lectures_p2_slide():
    """Does "p zeros" give the padding slide: a 2×2 image, p = 2, 3×3 filter → 6×6 grid, 4×4 out?"""
    w = build_stride_padding_explorer()
    slider = {s.description: s for s in find(w, widgets.IntSlider)}
    for name, value in [("input height", 2), ("input width", 2), ("filter height", 3)]:
        slider[name].value = value
    slider["filter width"].value = 3
    slider["stride (down)"].value = slider["stride (right)"].value = 1
    assert slider["p (zeros)"].disabled
    one(w, widgets.ToggleButtons, "padding").value = "EXPLICIT"
    assert not slider["p (zeros)"].disabled and slider["p (zeros)"].value == 2
    text = html_text(w)
    assert "floor((2 - 3 + 2·2) / 1) + 1 = 4" in text and "output 4 × 4" in text
    assert "padded to 6×6" in text and slider["window"].max == 15
    slider["p (zeros)"].value = 0
    assert "no window fits: the filter is larger than the (padded) input" in html_text(w)


def test_stride_padding_explorer_filter_too_big():
    """When no VALID window fits, does the widget say so and disable the window slider?"""
    w = build_stride_padding_explorer()
    slider = {s.description: s for s in find(w, widgets.IntSlider)}
    one(w, widgets.ToggleButtons, "padding").value = "VALID"
    slider["input height"].value = 2
    slider["filter height"].value = 3
    assert slider["window"].disabled and "no window fits" in html_text(w)


# --- 4. layer stack ----------------------------------------------------------------------------


def test_layer_stack_html_lists_every_layer():
    """Does the table show 28 -> 26 -> ... -> 18 for VALID and 28 throughout for SAME?"""
    text = layer_stack_html(28, 3, 1, 5)
    for size in (26, 24, 22, 20, 18):
        assert f"{size}×{size}" in text
    assert "after layer 5" in text and "SAME 28×28" in text


def test_layer_stack_widget_redraws():
    """Does moving the layers slider change the table?"""
    w = build_layer_stack()
    before = html_text(w)
    one(w, widgets.IntSlider, "layers").value = 10
    assert html_text(w) != before and "after layer 10" in html_text(w)
    assert "VALID 8×8" in html_text(w)


# --- 5. stride demo ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stride", "padding", "out"),
    [
        pytest.param(2, "SAME", 14, id="s2-SAME-14"),
        pytest.param(3, "VALID", 9, id="s3-VALID-9"),
        pytest.param(4, "SAME", 7, id="s4-SAME-7"),
    ],
)
def test_stride_demo_downsamples(digit28, stride, padding, out):
    """Does the output shrink to the formula's size, drawn at the input's pixel scale?"""
    w = build_stride_demo(digit28, kernels.get_kernel("box_blur"), naive_conv)
    before = images(w)[1]
    one(w, widgets.ToggleButtons, "padding").value = padding
    one(w, widgets.IntSlider, "stride").value = stride
    assert f"28×28 input → {out}×{out} output" in html_text(w)
    assert images(w)[1] != before
    assert decode(images(w)[1]).shape[:2] == (out * 8, out * 8)


# --- 6. filter bank ----------------------------------------------------------------------------


def test_filter_html_one_table_per_channel():
    """Is an RGB filter shown as three tables named red, green and blue?"""
    text = filter_html(kernels.as_filter_bank(["sobel_x"], 3)[:, :, :, 0])
    assert text.count("<table") == 3 and "input blue" in text


def test_filter_bank_selects_a_filter(digits):
    """Does selecting a filter show its weights and feature map and outline its thumbnail?"""
    names = ["identity", "sobel_x", "sobel_y", "box_blur"]
    bank = kernels.as_filter_bank(names)
    w = build_filter_bank(digits[0], bank, naive_conv, names=names)
    thumbs = find(w, widgets.Image)[2:]
    assert len(thumbs) == 4 and thumbs[0].layout.border.startswith("3px solid #e6")
    before_html, before_map = html_text(w), images(w)[1]
    one(w, widgets.Dropdown, "filter").value = 1
    assert html_text(w) != before_html and images(w)[1] != before_map
    assert "feature map 1 (sobel_x): 10×10" in html_text(w)
    assert thumbs[1].layout.border.startswith("3px solid #e6")
    assert "transparent" in thumbs[0].layout.border
    # The selected feature map is thumbnail 1, drawn bigger.
    assert images(w)[1] != images(w)[2]


def test_filter_bank_rejects_channel_mismatch(digits):
    """Is a bank built for RGB refused on a grey image, with both channel counts named?"""
    with pytest.raises(ValueError, match="3 input channels but the image has 1"):
        build_filter_bank(digits[0], kernels.as_filter_bank(["identity"], 3), naive_conv)


# --- 7. connectivity ---------------------------------------------------------------------------


def test_feed_counts_lecture():
    """Does the centre of the 4x4 input feed all four outputs and a corner only one?"""
    counts = feed_counts(connections(4, 4, 3, 3)).reshape(4, 4)
    assert counts[1, 1] == 4 and counts[0, 0] == 1 and counts.sum() == 4 * 9


def test_connectivity_svg_draws_one_line_per_connection():
    """Is there one line per (input, output) connection shown?"""
    conn = connections(4, 4, 3, 3)
    assert connectivity_svg(conn, (4, 4), (2, 2)).count("<line") == 36
    assert connectivity_svg(conn, (4, 4), (2, 2), selected=3).count("<line") == 9


def test_connectivity_widget_selection_and_fully_connected():
    """Do selecting an output pixel and the fully-connected toggle change the picture and text?"""
    w = build_connectivity()
    picture = lambda: "".join(x.value for x in find(w, widgets.HTML) if "<svg" in x.value)  # noqa: E731
    assert picture().count("<line") == 36
    one(w, widgets.Dropdown, "show").value = 0
    assert picture().count("<line") == 9 and "only the 9 input pixels" in html_text(w)
    one(w, widgets.ToggleButton, "fully connected").value = True
    assert picture().count("<line") == 16 and "16·4 = 64 weights" in html_text(w)


def test_connectivity_rejects_a_filter_that_does_not_fit():
    """Is a 5x5 filter on a 4x4 input (VALID) refused?"""
    with pytest.raises(ValueError):
        build_connectivity(4, 4, 5)


# --- 8. receptive field -------------------------------------------------------------------------


def _brute_force_field(kernel_sizes, strides, in_size, row, col):
    """Input pixels an output pixel depends on, found by pushing a one-hot image through."""
    seen = set()
    for y in range(in_size):
        for x in range(in_size):
            reached = {(y, x)}
            for k, s in zip(kernel_sizes, strides, strict=True):
                # output pixel i of a VALID layer reads inputs i*s .. i*s + k - 1
                reached = {
                    (oy, ox)
                    for (iy, ix) in reached
                    for oy in range(max(0, -(-(iy - k + 1) // s)), iy // s + 1)
                    for ox in range(max(0, -(-(ix - k + 1) // s)), ix // s + 1)
                }
            if (row, col) in reached:
                seen.add((y, x))
    return seen


@pytest.mark.parametrize(
    ("kernel_sizes", "strides", "size"),
    [((3,), (1,), 3), ((3, 3), (1, 1), 5), ((3, 3, 3), (1, 1, 1), 7), ((3, 3), (2, 2), 7),
     ((5, 2, 5), (1, 2, 1), 14), ((2, 2, 2), (2, 2, 2), 8), ((1,), (3,), 1)],
    ids=["3", "3-3", "3-3-3", "3s2-3s2", "5-pool2-5", "2s2x3", "1x1-s3"],
)  # fmt: skip
def test_receptive_field_size_grows_with_depth_and_stride(kernel_sizes, strides, size):
    """Is the field size (r - 1)·s + k walked back from the output, as a brute force finds?"""
    assert receptive_field_size(kernel_sizes, strides) == size
    in_size = size + 3 * int(np.prod(strides))
    field = _brute_force_field(kernel_sizes, strides, in_size, 0, 0)
    assert {y for y, _ in field} == set(range(size)) == {x for _, x in field}


@pytest.mark.parametrize("row, col", [(0, 0), (1, 0), (1, 2)])
def test_receptive_field_regions_match_a_brute_force(row, col):
    """Is each layer's region exactly the pixels the output pixel depends on?"""
    kernel_sizes, strides, in_size = (3, 2, 3), (1, 2, 1), 16
    regions = receptive_field_regions(kernel_sizes, strides, row, col)
    assert len(regions) == 4 and regions[-1] == Region(row, col, 1, 1)
    field = _brute_force_field(kernel_sizes, strides, in_size, row, col)
    r = regions[0]
    expected = {
        (y, x) for y in range(r.top, r.top + r.height) for x in range(r.left, r.left + r.width)
    }
    assert field == expected
    assert r.height == r.width == receptive_field_size(kernel_sizes, strides)


def test_layer_sizes_and_rejections():
    """Are VALID sizes computed, and impossible stacks rejected with a ValueError?"""
    assert layer_sizes(16, (5, 2, 5), (1, 2, 1)) == [16, 12, 6, 2]
    assert layer_sizes(7, (3, 3), (1, 1)) == [7, 5, 3]
    for args in [(4, (5,), (1,)), (7, (3,), (1, 1)), (7, (), ()), (7, (0,), (1,))]:
        with pytest.raises(ValueError):
            layer_sizes(*args)
    with pytest.raises(ValueError):
        receptive_field_regions((3,), (1,), -1, 0)


def test_receptive_field_svg_one_region_per_layer():
    """Does the picture fill one region per layer, each of the region's size?"""
    sizes = layer_sizes(9, (3, 3, 3), (1, 1, 1))
    svg = receptive_field_svg(sizes, receptive_field_regions((3, 3, 3), (1, 1, 1), 1, 2))
    assert svg.count('class="rf-region"') == 4
    assert 'width="112" height="112"' in svg  # 7x7 input pixels of 16 px
    with pytest.raises(ValueError):
        receptive_field_svg(sizes, [])


def test_receptive_field_widget_click_moves_the_highlight():
    """Does clicking an output-pixel button move the highlighted region and mark the button?"""
    w = build_receptive_field()
    grid = w.children[2].children[0].children[1]
    picture, info = w.children[2].children[1], w.children[3]
    assert [b.description for b in grid.children] == ["0,0", "1,0", "2,0", "0,1", "1,1", "2,1",
                                                      "0,2", "1,2", "2,2"]  # fmt: skip
    before = picture.value
    assert "x=0, y=0" in info.value and grid.children[0].button_style == "danger"
    grid.children[5].click()  # x=2, y=1
    assert picture.value != before
    assert "x=2, y=1" in info.value and "rows 1–5, columns 2–6" in info.value
    assert "layer 2 (3×3): row 1, column 2 (1×1 pixels)" in info.value
    assert grid.children[5].button_style == "danger" and grid.children[0].button_style == ""


def test_receptive_field_widget_preset_rebuilds_the_buttons():
    """Does choosing another stack rebuild the output grid and the text?"""
    w = build_receptive_field()
    menu = w.children[1]
    menu.value = PRESETS[3].name
    grid = w.children[2].children[0].children[1]
    assert len(grid.children) == 4  # 16 -> 12 -> 6 -> 2
    assert "sees 14×14 input pixels" in w.children[3].value
    grid.children[3].click()
    assert "rows 2–15, columns 2–15" in w.children[3].value


def test_reveal_computes_nothing_before_the_click():
    """Is the answer neither computed nor shown until the button is clicked, then toggled?"""
    from convlab.widgets import build_reveal

    calls = []

    def answer():
        calls.append(1)
        return "(64, 14, 14, 16)"

    w = build_reveal("Can you guess the shape?", answer)
    assert "Can you guess the shape?" in html_text(w) and calls == []
    (button,) = find(w, widgets.Button)
    (shown,) = find(w, widgets.Output)
    assert shown.outputs == ()
    button.click()
    assert calls == [1] and shown.layout.display != "none"
    assert button.description == "Hide the answer"
    button.click()
    assert shown.layout.display == "none" and button.description == "Show the answer"
    button.click()
    assert calls == [1] and shown.layout.display != "none"  # computed once, shown again


def test_projector_switch_zooms_the_page_and_switches_off(monkeypatch):
    """Does the switch start from $CONVLAB_PROJECTOR and add/remove the page-wide zoom?"""
    from convlab.widgets import build_projector_switch
    from convlab.widgets.projector import PROJECTOR_ENV, PROJECTOR_ZOOM

    monkeypatch.setenv(PROJECTOR_ENV, "1")
    w = build_projector_switch()
    (toggle,) = find(w, widgets.ToggleButton)
    assert toggle.value and f"zoom: {PROJECTOR_ZOOM}" in html_text(w)
    toggle.value = False
    assert "<style>" not in html_text(w)
    monkeypatch.delenv(PROJECTOR_ENV)
    assert "<style>" not in html_text(build_projector_switch())
