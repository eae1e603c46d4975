"""Tests for convlab.plots: every function returns a Figure with the expected artists."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from convlab import plots  # noqa: E402
from convlab.kernels import LECTURE_EXAMPLES, as_filter_bank, get_kernel  # noqa: E402

SEED = 0


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure after each test so none accumulates across tests."""
    yield
    plt.close("all")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


def _rectangles(ax) -> list[Rectangle]:
    return [patch for patch in ax.patches if isinstance(patch, Rectangle)]


def _has_box(ax, row: int, col: int, height: int, width: int) -> bool:
    return any(
        rect.get_xy() == (col - 0.5, row - 0.5)
        and rect.get_width() == width
        and rect.get_height() == height
        for rect in _rectangles(ax)
    )


def test_plots_leave_no_figure_open_in_pyplot() -> None:
    """Does a plot function leave pyplot's figure list empty (no global state)?"""
    before = plt.get_fignums()
    fig = plots.matrix_figure(np.eye(3))
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == before


def test_matrix_figure_writes_every_number() -> None:
    """Does matrix_figure write each entry as a text artist, integers without decimals?"""
    image = LECTURE_EXAMPLES["first_output"].image
    fig = plots.matrix_figure(image, title="image")
    (ax,) = fig.axes
    texts = [text.get_text() for text in ax.texts]
    assert texts == [str(int(v)) for v in np.asarray(image).ravel()]
    assert ax.get_title() == "image"


def test_matrix_figure_floats_use_two_decimals() -> None:
    """Are non-integral floats written with 2 decimals, and a negative zero without its sign?"""
    fig = plots.matrix_figure(np.array([[0.5, -0.001], [1.0 / 3.0, 2.0]]))
    assert [t.get_text() for t in fig.axes[0].texts] == ["0.50", "0.00", "0.33", "2.00"]
    fig = plots.matrix_figure(np.array([[1.0, -0.0]]))
    assert [t.get_text() for t in fig.axes[0].texts] == ["1", "0"]


def test_matrix_figure_custom_format() -> None:
    """Does fmt override the default number format?"""
    fig = plots.matrix_figure(get_kernel("box_blur"), fmt=".3f")
    assert {t.get_text() for t in fig.axes[0].texts} == {"0.111"}


def test_matrix_figure_text_is_readable_on_dark_and_light_cells() -> None:
    """Is text black on the lightest cell and white on the darkest?"""
    fig = plots.matrix_figure(np.array([[0, 10]]), cmap="Blues")
    light, dark = fig.axes[0].texts
    assert light.get_color() == "black"
    assert dark.get_color() == "white"


def test_matrix_figure_draws_the_highlight() -> None:
    """Does highlight=(row, col, h, w) draw a rectangle around that window?"""
    fig = plots.matrix_figure(np.zeros((4, 4)), highlight=(1, 0, 3, 3))
    assert _has_box(fig.axes[0], 1, 0, 3, 3)


def test_matrix_figure_draws_several_coloured_highlights() -> None:
    """Does a list of highlights draw one rectangle each, honouring a given colour?"""
    fig = plots.matrix_figure(np.zeros((4, 4)), highlight=[(0, 0, 3, 3), (1, 1, 3, 3, "lime")])
    ax = fig.axes[0]
    assert _has_box(ax, 0, 0, 3, 3)
    assert _has_box(ax, 1, 1, 3, 3)
    colours = [matplotlib.colors.to_hex(r.get_edgecolor()) for r in _rectangles(ax)]
    assert matplotlib.colors.to_hex("lime") in colours
    assert len(set(colours)) == 2


def test_matrix_figure_widens_view_for_a_window_over_padding() -> None:
    """Does a window hanging over the border (SAME padding) stay inside the view?"""
    fig = plots.matrix_figure(np.zeros((4, 4)), highlight=(-1, -1, 3, 3))
    ax = fig.axes[0]
    assert min(ax.get_xlim()) <= -1.5
    assert min(ax.get_ylim()) <= -1.5


def test_matrix_figure_draws_into_a_given_axes() -> None:
    """With ax given, does matrix_figure draw there and return that axes' figure?"""
    fig = Figure()
    ax = fig.add_subplot()
    assert plots.matrix_figure(np.eye(2), ax=ax) is fig
    assert len(ax.texts) == 4


def test_matrix_figure_rejects_non_2d() -> None:
    """Is a 3-D array rejected with ValueError?"""
    with pytest.raises(ValueError, match="2-D"):
        plots.matrix_figure(np.zeros((2, 2, 2)))


def test_matrices_row_draws_panels_and_operators() -> None:
    """Does matrices_row draw image ⊗ kernel = output with one axes per matrix?"""
    example = LECTURE_EXAMPLES["first_output"]
    fig = plots.matrices_row(
        [example.image, example.kernel, example.lecture_output],
        ["image", "kernel", "output"],
        highlights=[(0, 0, 3, 3), None, (0, 0, 1, 1)],
    )
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["image", "kernel", "output"]
    assert [t.get_text() for t in fig.texts] == ["⊗", "="]
    assert _has_box(fig.axes[0], 0, 0, 3, 3)
    assert _has_box(fig.axes[2], 0, 0, 1, 1)
    assert len(fig.axes[1].texts) == 9


def test_matrices_row_custom_ops_and_length_checks() -> None:
    """Are custom ops used, and mismatched titles or ops rejected?"""
    fig = plots.matrices_row([np.eye(2), np.eye(2)], ["a", "b"], ops=["→"])
    assert [t.get_text() for t in fig.texts] == ["→"]
    with pytest.raises(ValueError, match="titles"):
        plots.matrices_row([np.eye(2), np.eye(2)], ["a"])
    with pytest.raises(ValueError, match="ops"):
        plots.matrices_row([np.eye(2), np.eye(2)], ["a", "b"], ops=["+", "="])


@pytest.mark.parametrize(
    "shape",
    [(5, 28, 28), (5, 28, 28, 1), (5, 32, 32, 3), (12, 8, 8, 3)],
    ids=["NHW", "NHWC-gray", "NHWC-rgb", "NHWC-rgb-2rows"],
)
def test_image_grid_axes_per_image(shape: tuple, rng: np.random.Generator) -> None:
    """Does image_grid draw one axes per image for NHW, gray NHWC and RGB NHWC?"""
    fig = plots.image_grid(rng.random(shape, dtype=np.float32), ncols=8)
    assert len(fig.axes) == shape[0]
    first = fig.axes[0].images[0].get_array()
    if len(shape) == 4 and shape[-1] == 3:
        assert first.shape == shape[1:]
    else:
        assert first.shape == shape[1:3]
        assert fig.axes[0].images[0].get_cmap().name == "gray"


def test_image_grid_titles_from_labels_and_class_names(rng: np.random.Generator) -> None:
    """Are labels shown as titles, mapped through class_names when given?"""
    images = rng.random((3, 4, 4, 3))
    fig = plots.image_grid(images, np.array([2, 0, 1]))
    assert [ax.get_title() for ax in fig.axes] == ["2", "0", "1"]
    fig = plots.image_grid(images, [2, 0, 1], class_names=["cat", "dog", "ship"], title="CIFAR")
    assert [ax.get_title() for ax in fig.axes] == ["ship", "cat", "dog"]
    assert fig.get_suptitle() == "CIFAR"


@pytest.mark.parametrize(
    "shape", [(4, 4), (2, 4, 4, 2), (0, 4, 4, 3)], ids=["2-D", "2-channels", "empty"]
)
def test_image_grid_rejects_bad_shapes(shape: tuple) -> None:
    """Are shapes that are not a non-empty NHW/NHWC (C in 1, 3, 4) batch rejected?"""
    with pytest.raises(ValueError):
        plots.image_grid(np.zeros(shape))


@pytest.mark.parametrize("shape", [(6, 6, 5), (1, 6, 6, 5)], ids=["HWC", "NHWC-batch1"])
def test_feature_maps_one_panel_per_channel(shape: tuple, rng: np.random.Generator) -> None:
    """Does feature_maps draw one axes per channel for (H, W, C) and (1, H, W, C)?"""
    fig = plots.feature_maps(rng.random(shape), ncols=3)
    assert len(fig.axes) == 5
    assert fig.axes[4].get_title() == "channel 4"


def test_feature_maps_shared_scale(rng: np.random.Generator) -> None:
    """With shared_scale, do all panels use the global min and max?"""
    maps = rng.random((4, 4, 3)) * np.array([1.0, 10.0, 100.0])
    fig = plots.feature_maps(maps, shared_scale=True, titles=["a", "b", "c"])
    limits = {ax.images[0].get_clim() for ax in fig.axes}
    assert limits == {(maps.min(), maps.max())}
    fig = plots.feature_maps(maps)
    assert len({ax.images[0].get_clim() for ax in fig.axes}) == 3


def _panels(fig: Figure) -> list:
    """The axes that show a picture (a colorbar's axes holds none)."""
    return [ax for ax in fig.axes if ax.images]


def _neutral(cmap_name: str) -> np.ndarray:
    return np.asarray(plt.get_cmap(cmap_name)(0.5))


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "per-panel"])
def test_feature_maps_signed_centres_zero_on_the_neutral_colour(shared: bool) -> None:
    """Signed maps: diverging colormap, limits ±v, and a flat zero region neutral in every panel?"""
    digit = np.zeros((9, 9))
    digit[3:6, 2:7] = 1.0
    outline = get_kernel("outline")
    # Valid 3x3 correlations written out, so the test needs no conv2d: outline, sharpen, blur.
    windows = np.lib.stride_tricks.sliding_window_view(digit, (3, 3))
    maps = np.stack(
        [
            np.einsum("ijnm,nm->ij", windows, outline),
            np.einsum("ijnm,nm->ij", windows, get_kernel("sharpen")),
            np.einsum("ijnm,nm->ij", windows, get_kernel("box_blur")),
        ],
        axis=-1,
    )
    fig = plots.feature_maps(maps, signed=True, shared_scale=shared)
    panels = _panels(fig)
    assert len(panels) == 3
    for k, ax in enumerate(panels):
        image = ax.images[0]
        v = np.abs(maps).max() if shared else np.abs(maps[:, :, k]).max()
        assert image.get_cmap().name == plots.DIVERGING_CMAP
        assert image.get_clim() == (-v, v)
        np.testing.assert_allclose(image.cmap(image.norm(0.0)), _neutral(plots.DIVERGING_CMAP))
    # The outline's flat corner (exactly 0) is drawn in the neutral colour, as the text says.
    assert maps[0, 0, 0] == 0
    outline_image = panels[0].images[0]
    np.testing.assert_allclose(
        outline_image.cmap(outline_image.norm(maps[0, 0, 0])), _neutral(plots.DIVERGING_CMAP)
    )
    # A shared scale gets one colorbar; per-panel scales get none.
    assert len(fig.axes) - len(panels) == (1 if shared else 0)


def test_feature_maps_signed_is_shared_by_default_and_survives_all_zeros() -> None:
    """Is signed=True one shared scale by default, and an all-zero map drawn as ±1?"""
    maps = np.zeros((4, 4, 2))
    maps[1, 1, 1] = -3.0
    fig = plots.feature_maps(maps, signed=True)
    assert {ax.images[0].get_clim() for ax in _panels(fig)} == {(-3.0, 3.0)}
    fig = plots.feature_maps(np.zeros((4, 4, 2)), signed=True)
    assert {ax.images[0].get_clim() for ax in _panels(fig)} == {(-1.0, 1.0)}


def test_signed_limit_takes_the_largest_absolute_value_over_all_arrays() -> None:
    """Does signed_limit return max |x| over every array, ignoring NaN?"""
    assert plots.signed_limit([1.0, -4.0], np.array([[2.0, np.nan]])) == 4.0
    assert plots.signed_limit(np.zeros(3)) == 1.0


def test_filters_figure_shared_scale_is_one_symmetric_scale() -> None:
    """With shared_scale, do all 1-channel filters share ±max|w| of the bank, 0 neutral?"""
    bank = as_filter_bank(["sobel_x", "sharpen", "box_blur"])
    fig = plots.filters_figure(bank, shared_scale=True)
    panels = _panels(fig)
    assert len(panels) == 3 and len(fig.axes) == 4  # a colorbar
    for ax in panels:
        image = ax.images[0]
        assert image.get_clim() == (-np.abs(bank).max(), np.abs(bank).max())
        assert image.get_cmap().name == plots.DIVERGING_CMAP
        np.testing.assert_allclose(image.cmap(image.norm(0.0)), _neutral(plots.DIVERGING_CMAP))


def test_feature_maps_rejects_a_batch() -> None:
    """Is a batch of more than one feature map rejected?"""
    with pytest.raises(ValueError):
        plots.feature_maps(np.zeros((2, 4, 4, 3)))


def test_filters_figure_gray_is_diverging_and_centred() -> None:
    """Are 1-channel filters drawn with a diverging colormap symmetric around 0?"""
    bank = as_filter_bank(["sobel_x", "sharpen", "box_blur"])
    fig = plots.filters_figure(bank, titles=["sobel x", "sharpen", "blur"])
    assert len(fig.axes) == 3
    for ax, kernel in zip(fig.axes, ["sobel_x", "sharpen", "box_blur"], strict=True):
        low, high = ax.images[0].get_clim()
        assert low == -high == -np.abs(get_kernel(kernel)).max()
        assert ax.images[0].get_cmap().name == plots.DIVERGING_CMAP
    assert fig.axes[1].get_title() == "sharpen"


def test_filters_figure_rgb_is_min_max_normalized(rng: np.random.Generator) -> None:
    """Are 3-channel filters drawn as RGB images scaled into [0, 1]?"""
    bank = rng.normal(scale=0.1, size=(5, 5, 3, 4))
    fig = plots.filters_figure(bank, ncols=2)
    assert len(fig.axes) == 4
    shown = np.asarray(fig.axes[0].images[0].get_array())
    assert shown.shape == (5, 5, 3)
    assert shown.min() == 0.0
    assert shown.max() == 1.0


@pytest.mark.parametrize("shape", [(3, 3, 2, 4), (3, 3, 4)], ids=["2-in-channels", "3-D"])
def test_filters_figure_rejects_bad_shapes(shape: tuple) -> None:
    """Are non-HWIO arrays and in_channels other than 1 or 3 rejected?"""
    with pytest.raises(ValueError):
        plots.filters_figure(np.zeros(shape))


def test_error_heatmap_marks_the_argmax_cell() -> None:
    """Does error_heatmap box the cell with the largest |got - expected| and name it?"""
    expected = np.zeros((4, 5))
    got = expected.copy()
    got[2, 3] = 0.5
    got[0, 1] = -0.1
    fig = plots.error_heatmap(got, expected, title="conv2d")
    assert len(fig.axes) == 2  # the map and its colorbar
    ax = fig.axes[0]
    assert _has_box(ax, 2, 3, 1, 1)
    assert "row 2, col 3" in ax.get_xlabel()
    assert ax.get_title() == "conv2d"
    np.testing.assert_allclose(ax.images[0].get_array(), np.abs(got - expected))


def test_error_heatmap_flags_nan_as_worst() -> None:
    """Is a NaN in the answer marked as the worst cell even beside large finite errors?"""
    got = np.array([[100.0, 0.0], [0.0, np.nan]])
    fig = plots.error_heatmap(got, np.zeros((2, 2)))
    assert _has_box(fig.axes[0], 1, 1, 1, 1)
    assert "not finite" in fig.axes[0].get_xlabel()


def test_error_heatmap_accepts_single_nhwc_and_rejects_mismatch() -> None:
    """Is an NHWC (1, H, W, 1) pair accepted and a shape mismatch rejected?"""
    fig = plots.error_heatmap(np.ones((1, 3, 3, 1)), np.zeros((3, 3)))
    assert _has_box(fig.axes[0], 0, 0, 1, 1)
    with pytest.raises(ValueError, match="shapes differ"):
        plots.error_heatmap(np.zeros((2, 3)), np.zeros((3, 2)))


def test_histogram_counts_every_value(rng: np.random.Generator) -> None:
    """Does histogram draw bars whose heights add up to the number of non-NaN values?"""
    scores = np.append(rng.integers(0, 11, size=40).astype(float), np.nan)
    fig = plots.histogram(scores, bins=11, title="scores", xlabel="points")
    (ax,) = fig.axes
    heights = [patch.get_height() for patch in ax.patches]
    assert len(heights) == 11
    assert sum(heights) == 40
    assert ax.get_title() == "scores"
    assert ax.get_xlabel() == "points"


@pytest.mark.parametrize(
    ("image", "f", "s", "padding", "grid", "title"),
    [
        pytest.param(
            [[2, 0, 3, 1, 0], [2, 4, 5, 2, 3], [0, 0, 3, 3, 1], [2, 9, 9, 7, 8], [3, 4, 7, 2, 1]],
            3, 2, "VALID", (5, 5), "stride 2, VALID → 2×2 output", id="stride-slide-5x5-s2",
        ),
        pytest.param(
            [[2, 3], [9, 2]], 3, 1, 2, (6, 6), "stride 1, p = 2 → 4×4 output", id="padding-slide-p2"
        ),
        pytest.param(
            [[2, 0, 1, 3], [1, 1, 2, 3], [4, 3, 2, 1], [8, 3, 1, 3]],
            3, 1, "SAME", (6, 6), "stride 1, SAME → 4×4 output", id="same-slide-4x4",
        ),
    ],
)  # fmt: skip
def test_windows_figure_draws_the_lectures_slides(image, f, s, padding, grid, title):
    """Does windows_figure show the padded grid, the windows and hatched imaginary pixels?"""
    fig = plots.windows_figure(np.array(image), f, s, padding)
    ax = fig.axes[0]
    assert ax.images[0].get_array().shape == grid
    assert title in ax.get_title()
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == grid[0] * grid[1] - np.array(image).size
    windows = [p for p in ax.patches if not p.get_hatch()]
    out = int(title.split("→ ")[1].split("×")[0])
    assert len(windows) == min(out * out, len(plots.HIGHLIGHT_COLOURS))


def test_windows_figure_outlines_the_windows_asked_for():
    """With windows=[0, 3], are exactly the first and fourth windows outlined, where they start?"""
    image = np.arange(25).reshape(5, 5)
    fig = plots.windows_figure(image, 3, 2, windows=[0, 3])
    boxes = [p for p in fig.axes[0].patches if not p.get_hatch()]
    assert [(b.get_x() + 0.5, b.get_y() + 0.5) for b in boxes] == [(0, 0), (2, 2)]
