"""Matplotlib figures for the labs and the autograder feedback; each function returns a Figure."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import ArrayLike, NDArray

# A highlight is (row, col, height, width) or (row, col, height, width, colour).
Highlight = tuple[int, int, int, int] | tuple[int, int, int, int, str]

HIGHLIGHT_COLOURS = ("tab:red", "tab:orange", "tab:green", "tab:purple", "tab:cyan")
HIGHLIGHT_LINEWIDTH = 3.0
# Cells whose colour is brighter than this (relative luminance, 0..1) get black text.
LIGHT_CELL_LUMINANCE = 0.5
FLOAT_FORMAT = ".2f"
INT_FORMAT = "d"
# Room around a matrix for its title and index ticks, in inches.
MATRIX_MARGIN_INCHES = 0.9
OP_SLOT_CELLS = 1.5
OP_FONT_SIZE = 22
DIVERGING_CMAP = "RdBu_r"
SEQUENTIAL_CMAP = "Blues"
ERROR_CMAP = "Reds"
ERROR_MARK_COLOUR = "tab:blue"
NONFINITE_COLOUR = "magenta"
GRAY_CHANNELS = 1
RGB_CHANNELS = (3, 4)


def _new_figure(figsize: tuple[float, float]) -> Figure:
    # Built through pyplot so Jupyter's inline formatter knows how to show the returned Figure,
    # then closed at once: pyplot keeps no reference (no global state, no "more than 20 figures"
    # warning, no second copy auto-shown at the end of the cell).
    fig = plt.figure(figsize=figsize)
    plt.close(fig)
    return fig


def _grid_shape(count: int, ncols: int) -> tuple[int, int]:
    if ncols < 1:
        raise ValueError(f"ncols must be at least 1, got {ncols}")
    cols = min(ncols, count)
    return math.ceil(count / cols), cols


def _panel_axes(fig: Figure, count: int, ncols: int) -> list[Axes]:
    # One axes per panel: the grid's unused trailing slots get no axes at all.
    nrows, cols = _grid_shape(count, ncols)
    return [fig.add_subplot(nrows, cols, k + 1) for k in range(count)]


def _hide_ticks(ax: Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _as_highlights(highlight: Highlight | Sequence[Highlight] | None) -> list[Highlight]:
    if highlight is None:
        return []
    if len(highlight) in (4, 5) and all(np.isscalar(v) for v in highlight):
        return [highlight]  # type: ignore[list-item]
    return list(highlight)  # type: ignore[arg-type]


def _format_cell(value: float, fmt: str | None, integral: bool) -> str:
    if fmt is not None:
        return format(value, fmt)
    if integral:
        # int() also turns -0.0 into a plain "0".
        return format(int(value), INT_FORMAT)
    text = format(value, FLOAT_FORMAT)
    # A tiny negative rounds to "-0.00", which reads like a sign error to a student.
    return text.lstrip("-") if float(text) == 0 else text


def _text_colour(rgba: Sequence[float]) -> str:
    red, green, blue = rgba[:3]
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "black" if luminance > LIGHT_CELL_LUMINANCE else "white"


def _draw_matrix(
    ax: Axes,
    matrix: NDArray[Any],
    *,
    title: str | None,
    highlight: Highlight | Sequence[Highlight] | None,
    cmap: str | None,
    fmt: str | None,
    vmin: float | None,
    vmax: float | None,
) -> None:
    height, width = matrix.shape
    cmap, vmin, vmax = _white_is_zero(matrix, cmap, vmin, vmax)
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    finite = matrix[np.isfinite(matrix)]
    integral = bool(np.all(finite == np.round(finite)))
    for row in range(height):
        for col in range(width):
            value = float(matrix[row, col])
            colour = _text_colour(image.cmap(image.norm(value))) if np.isfinite(value) else "black"
            ax.text(
                col,
                row,
                _format_cell(value, fmt, integral),
                ha="center",
                va="center",
                color=colour,
            )
    # Index ticks on top and left: the lecture names pixels by (x, y) from the top-left corner.
    ax.set_xticks(range(width))
    ax.set_yticks(range(height))
    ax.xaxis.tick_top()
    ax.tick_params(length=0, labelsize="small")
    left, right, bottom, top = -0.5, width - 0.5, height - 0.5, -0.5
    for k, spec in enumerate(_as_highlights(highlight)):
        row, col, box_h, box_w = (int(v) for v in spec[:4])
        colour = spec[4] if len(spec) == 5 else HIGHLIGHT_COLOURS[k % len(HIGHLIGHT_COLOURS)]
        ax.add_patch(
            Rectangle(
                (col - 0.5, row - 0.5),
                box_w,
                box_h,
                fill=False,
                edgecolor=colour,
                linewidth=HIGHLIGHT_LINEWIDTH,
                clip_on=False,
                zorder=3,
            )
        )
        # A window partly over the zero padding (SAME) must stay visible: widen the view.
        left, right = min(left, col - 0.5), max(right, col + box_w - 0.5)
        top, bottom = min(top, row - 0.5), max(bottom, row + box_h - 0.5)
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    if title is not None:
        ax.set_title(title)


def _white_is_zero(
    matrix: NDArray[Any], cmap: str | None, vmin: float | None, vmax: float | None
) -> tuple[str, float | None, float | None]:
    """The bundle's one colour convention for numbers in cells: white is 0.

    Without an explicit range, a matrix with a negative entry is drawn on ``DIVERGING_CMAP``
    symmetric around 0 (red positive, blue negative), and a non-negative one on ``cmap``
    (default "Blues") from 0 up, so a cell is white exactly when its value is 0 (not when it
    is the matrix's minimum).
    """
    values = np.asarray(matrix, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if vmin is not None or vmax is not None or finite.size == 0:
        return cmap or SEQUENTIAL_CMAP, vmin, vmax
    if finite.min() < 0:
        limit = signed_limit(finite)
        return cmap or DIVERGING_CMAP, -limit, limit
    return cmap or SEQUENTIAL_CMAP, 0.0, float(finite.max()) or 1.0


def _as_matrix(matrix: ArrayLike) -> NDArray[Any]:
    array = np.asarray(matrix)
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D matrix, got shape {array.shape}")
    return array


def matrix_figure(
    matrix: ArrayLike,
    *,
    title: str | None = None,
    highlight: Highlight | Sequence[Highlight] | None = None,
    cmap: str | None = None,
    fmt: str | None = None,
    ax: Axes | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cell_size: float = 0.6,
) -> Figure:
    """Draw a small 2-D matrix (H, W), indexed [row, col] = [y, x], with each number in its cell.

    Numbers use ``fmt`` (a format spec such as ``".1f"``); by default integers, and floats that
    are all whole numbers, show without decimals and other floats with 2 decimals. Text is black
    on light cells and white on dark ones. Colours follow the bundle's convention, white is 0:
    a matrix with negative entries uses a diverging scale symmetric around 0 (red positive, blue
    negative), a non-negative one ``cmap`` (default "Blues") from 0; pass ``vmin``/``vmax`` to
    choose the range yourself.

    Args:
        highlight: ``(row, col, height, width)`` draws a thick rectangle around that window (the
            filter window over the image); append a colour as a fifth item, or pass a list of
            such tuples for several windows (default colours cycle through
            ``HIGHLIGHT_COLOURS``). A window may extend past the border, as over SAME padding.
        ax: draw into this axes and return its figure instead of making a new one.
        cell_size: inches per cell when a new figure is made.

    Raises:
        ValueError: ``matrix`` is not 2-D.
    """
    array = _as_matrix(matrix)
    if ax is None:
        height, width = array.shape
        fig = _new_figure(
            (width * cell_size + MATRIX_MARGIN_INCHES, height * cell_size + MATRIX_MARGIN_INCHES)
        )
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    _draw_matrix(
        ax, array, title=title, highlight=highlight, cmap=cmap, fmt=fmt, vmin=vmin, vmax=vmax
    )
    return fig


def matrices_row(
    matrices: Sequence[ArrayLike],
    titles: Sequence[str],
    *,
    highlights: Sequence[Highlight | Sequence[Highlight] | None] | None = None,
    ops: Sequence[str] | None = None,
    cmap: str | None = None,
    cell_size: float = 0.6,
) -> Figure:
    """Draw 2-D matrices side by side with operator symbols between them, one axes per matrix.

    The lecture's picture ``image ⊗ kernel = output``: ``matrices_row([image, kernel, out],
    ["image", "kernel", "output"], highlights=[(0, 0, 3, 3), None, (0, 0, 1, 1)])``. Cells have
    the same size in every panel, so a 3x3 kernel looks smaller than a 4x4 image.

    Args:
        highlights: one entry per matrix, each as ``matrix_figure``'s ``highlight`` (or None).
        ops: ``len(matrices) - 1`` symbols; by default "⊗" between all but the last pair, "=".

    Raises:
        ValueError: the lengths of ``titles``, ``highlights`` or ``ops`` do not match.
    """
    arrays = [_as_matrix(m) for m in matrices]
    count = len(arrays)
    if count == 0:
        raise ValueError("matrices must hold at least one matrix")
    if len(titles) != count:
        raise ValueError(f"got {count} matrices but {len(titles)} titles")
    if highlights is None:
        highlights = [None] * count
    if len(highlights) != count:
        raise ValueError(f"got {count} matrices but {len(highlights)} highlights")
    if ops is None:
        ops = ["⊗"] * (count - 2) + ["="] if count > 1 else []
    if len(ops) != count - 1:
        raise ValueError(f"{count} matrices need {count - 1} ops, got {len(ops)}")

    ratios: list[float] = []
    for k, array in enumerate(arrays):
        if k:
            ratios.append(OP_SLOT_CELLS)
        ratios.append(float(array.shape[1]))
    tallest = max(array.shape[0] for array in arrays)
    fig = _new_figure(
        (sum(ratios) * cell_size + MATRIX_MARGIN_INCHES, tallest * cell_size + MATRIX_MARGIN_INCHES)
    )
    # Fixed margins rather than a layout engine: the operator symbols are placed at the
    # gridspec's slot positions, which a layout engine would move after the fact.
    grid = fig.add_gridspec(1, len(ratios), width_ratios=ratios, wspace=0.0, top=0.78, bottom=0.05)
    for k, (array, title, highlight) in enumerate(zip(arrays, titles, highlights, strict=True)):
        ax = fig.add_subplot(grid[0, 2 * k])
        _draw_matrix(
            ax, array, title=title, highlight=highlight, cmap=cmap, fmt=None, vmin=None, vmax=None
        )
    for k, symbol in enumerate(ops):
        slot = grid[0, 2 * k + 1].get_position(fig)
        fig.text(
            (slot.x0 + slot.x1) / 2,
            (slot.y0 + slot.y1) / 2,
            symbol,
            ha="center",
            va="center",
            fontsize=OP_FONT_SIZE,
        )
    return fig


def image_grid(
    images: ArrayLike,
    labels: ArrayLike | None = None,
    *,
    class_names: Sequence[str] | None = None,
    ncols: int = 8,
    cmap: str | None = None,
    title: str | None = None,
    size: float = 1.5,
) -> Figure:
    """Show a batch of images in a grid, one axes per image.

    Args:
        images: NHWC ``(N, H, W, C)`` with C = 1 (grey), 3 (RGB) or 4 (RGBA), or NHW
            ``(N, H, W)`` (grey). RGB floats are clipped to [0, 1]; uint8 shows as is. Pass a
            single image as ``image[None]``.
        labels: ``(N,)`` labels shown as panel titles; with ``class_names`` the title is
            ``class_names[label]``.
        cmap: colormap for grey images (default "gray"); ignored for RGB.
        size: inches per panel.

    Raises:
        ValueError: the batch is empty, the shape is not NHW/NHWC with C in (1, 3, 4), or the
            number of labels differs from N.
    """
    batch = np.asarray(images)
    if batch.ndim == 4 and batch.shape[-1] == GRAY_CHANNELS:
        batch = batch[..., 0]
    if batch.ndim not in (3, 4) or (batch.ndim == 4 and batch.shape[-1] not in RGB_CHANNELS):
        raise ValueError(
            f"images must be NHW or NHWC with 1, 3 or 4 channels, got shape {np.shape(images)}"
        )
    count = batch.shape[0]
    if count == 0:
        raise ValueError("images is empty")
    label_list = None if labels is None else list(np.asarray(labels).reshape(-1))
    if label_list is not None and len(label_list) != count:
        raise ValueError(f"got {count} images but {len(label_list)} labels")
    if batch.ndim == 4 and np.issubdtype(batch.dtype, np.floating):
        # imshow clips RGB floats to [0, 1] anyway, but warns once per image.
        batch = np.clip(batch, 0.0, 1.0)

    nrows, cols = _grid_shape(count, ncols)
    fig = _new_figure((cols * size, nrows * size + (0.4 if title else 0.0)))
    for k, ax in enumerate(_panel_axes(fig, count, ncols)):
        if batch.ndim == 3:
            ax.imshow(batch[k], cmap=cmap or "gray", interpolation="nearest")
        else:
            ax.imshow(batch[k], interpolation="nearest")
        _hide_ticks(ax)
        if label_list is not None:
            label = label_list[k]
            ax.set_title(
                str(class_names[int(label)]) if class_names is not None else str(label),
                fontsize="small",
            )
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def signed_limit(*arrays: ArrayLike) -> float:
    """The half-width ``v`` of a colour scale symmetric around zero that fits every array.

    ``v`` is the largest absolute finite value over all of ``arrays``; an all-zero (or empty)
    input gives 1.0, so the scale never collapses. Draw with ``vmin=-v, vmax=v`` and a diverging
    colormap: 0 lands on the colormap's neutral middle colour.
    """
    largest = 0.0
    for array in arrays:
        values = np.asarray(array, dtype=np.float64)
        finite = values[np.isfinite(values)]
        if finite.size:
            largest = max(largest, float(np.abs(finite).max()))
    return largest or 1.0


def feature_maps(
    maps: ArrayLike,
    *,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    cmap: str | None = None,
    size: float = 1.5,
    title: str | None = None,
    shared_scale: bool | None = None,
    signed: bool = False,
) -> Figure:
    """Show each channel of a feature map (the output of a filter bank) as its own panel.

    Args:
        maps: ``(H, W, C)`` or one-image NHWC ``(1, H, W, C)``; one panel per channel.
        titles: one per channel; default "channel k".
        cmap: default "viridis", or ``DIVERGING_CMAP`` when ``signed``.
        shared_scale: one colour scale for all panels, so brightness compares across channels;
            otherwise each panel is scaled on its own, which shows the pattern of every channel
            even when their magnitudes differ a lot. Default: shared when ``signed``, else not.
        signed: for outputs with both signs (edge filters, sharpen, random or learned filters):
            a diverging colormap on a scale symmetric around zero, ``vmin = -v, vmax = v`` with
            ``v = signed_limit(...)`` over all panels (shared) or over each panel, so 0 is the
            neutral middle colour (white for "RdBu_r") and a flat region of an outline is
            visibly zero; a colorbar labelled "value" goes with a shared scale.

    Raises:
        ValueError: the shape is not (H, W, C) or (1, H, W, C), or ``titles`` has the wrong length.
    """
    array = np.asarray(maps, dtype=np.float64)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3:
        raise ValueError(f"maps must be (H, W, C) or (1, H, W, C), got shape {np.shape(maps)}")
    channels = array.shape[-1]
    if titles is not None and len(titles) != channels:
        raise ValueError(f"got {channels} channels but {len(titles)} titles")
    shared = signed if shared_scale is None else shared_scale
    colours = cmap or (DIVERGING_CMAP if signed else "viridis")

    def limits(panel: NDArray[np.float64]) -> tuple[float | None, float | None]:
        if signed:
            v = signed_limit(array if shared else panel)
            return -v, v
        if shared:
            return float(np.nanmin(array)), float(np.nanmax(array))
        return None, None

    nrows, cols = _grid_shape(channels, ncols)
    fig = _new_figure(
        (cols * size + (0.6 if signed and shared else 0.0), nrows * size + (0.4 if title else 0.0))
    )
    axes = _panel_axes(fig, channels, ncols)
    image = None
    for k, ax in enumerate(axes):
        vmin, vmax = limits(array[:, :, k])
        image = ax.imshow(
            array[:, :, k], cmap=colours, vmin=vmin, vmax=vmax, interpolation="nearest"
        )
        _hide_ticks(ax)
        ax.set_title(titles[k] if titles is not None else f"channel {k}", fontsize="small")
    if title is not None:
        fig.suptitle(title)
    fig.tight_layout()
    if signed and shared and image is not None:
        fig.colorbar(
            image,
            ax=axes,
            shrink=0.8,
            label="value (0 = white)" if colours == DIVERGING_CMAP else "value",
        )
    return fig


def _min_max(array: NDArray[np.float64]) -> NDArray[np.float64]:
    low, high = float(array.min()), float(array.max())
    if high == low:
        # A constant filter has no contrast to stretch: show it as mid-grey.
        return np.full_like(array, 0.5)
    return (array - low) / (high - low)


def filters_figure(
    filters: ArrayLike,
    *,
    ncols: int = 8,
    titles: Sequence[str] | None = None,
    size: float = 1.5,
    shared_scale: bool = False,
) -> Figure:
    """Show each output filter of an HWIO bank ``(kh, kw, in_channels, out_channels)``.

    With 1 input channel each filter is drawn with a diverging colormap centred at 0 (red
    positive, blue negative, white 0), scaled to that filter's largest absolute weight, or with
    ``shared_scale`` to the largest absolute weight of the whole bank (so the filters' strengths
    compare; a colorbar is added). With 3
    input channels each filter is drawn as an RGB image after min-max normalization of that
    filter, as learned first-layer CIFAR filters are usually shown.

    Raises:
        ValueError: ``filters`` is not 4-D, ``in_channels`` is not 1 or 3 (show one input
            channel at a time, e.g. ``filters[:, :, i:i + 1, :]``), or ``titles`` has the wrong
            length.
    """
    bank = np.asarray(filters, dtype=np.float64)
    if bank.ndim != 4:
        raise ValueError(
            f"filters must be HWIO (kh, kw, in_channels, out_channels), got shape {bank.shape}"
        )
    in_channels, out_channels = bank.shape[2], bank.shape[3]
    if in_channels not in (GRAY_CHANNELS, RGB_CHANNELS[0]):
        raise ValueError(
            f"filters_figure shows 1 or 3 input channels, got {in_channels}; "
            "pass one input channel at a time, e.g. filters[:, :, i:i + 1, :]"
        )
    if titles is not None and len(titles) != out_channels:
        raise ValueError(f"got {out_channels} filters but {len(titles)} titles")

    nrows, cols = _grid_shape(out_channels, ncols)
    shared = shared_scale and in_channels == GRAY_CHANNELS
    fig = _new_figure((cols * size + (0.6 if shared else 0.0), nrows * size))
    axes = _panel_axes(fig, out_channels, ncols)
    image = None
    for k, ax in enumerate(axes):
        weights = bank[:, :, :, k]
        if in_channels == GRAY_CHANNELS:
            limit = signed_limit(bank if shared else weights)
            image = ax.imshow(
                weights[:, :, 0],
                cmap=DIVERGING_CMAP,
                vmin=-limit,
                vmax=limit,
                interpolation="nearest",
            )
        else:
            ax.imshow(_min_max(weights), interpolation="nearest")
        _hide_ticks(ax)
        ax.set_title(titles[k] if titles is not None else f"filter {k}", fontsize="small")
    fig.tight_layout()
    if shared and image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="weight (0 = white)")
    return fig


def _as_error_matrix(array: ArrayLike, what: str) -> NDArray[np.float64]:
    matrix = np.asarray(array, dtype=np.float64)
    # The autograder holds NHWC arrays; a single-image, single-channel one is unambiguous.
    if matrix.ndim == 4 and matrix.shape[0] == 1 and matrix.shape[3] == 1:
        matrix = matrix[0, :, :, 0]
    if matrix.ndim != 2:
        raise ValueError(
            f"{what} must be 2-D (H, W) or NHWC (1, H, W, 1), got shape {np.shape(array)}; "
            "pass one channel, e.g. array[0, :, :, c]"
        )
    return matrix


def error_heatmap(
    got: ArrayLike,
    expected: ArrayLike,
    *,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Show ``|got - expected|`` cell by cell and mark the cell with the largest error.

    ``got`` and ``expected`` are (H, W) (or NHWC (1, H, W, 1)), indexed [row, col]. The worst
    cell gets a rectangle and the x label states its (row, col) and error. A NaN or infinity in
    ``got`` counts as the worst error and shows in magenta. The figure has two axes: the map
    and its colorbar.

    Raises:
        ValueError: the shapes differ or are not 2-D.
    """
    got_2d = _as_error_matrix(got, "got")
    expected_2d = _as_error_matrix(expected, "expected")
    if got_2d.shape != expected_2d.shape:
        raise ValueError(f"shapes differ: got {got_2d.shape}, expected {expected_2d.shape}")
    with np.errstate(invalid="ignore"):
        error = np.abs(got_2d - expected_2d)
    nonfinite = ~np.isfinite(error)
    if nonfinite.any():
        worst = np.unravel_index(int(np.argmax(nonfinite)), error.shape)
        worst_text = "not finite"
    else:
        worst = np.unravel_index(int(np.argmax(error)), error.shape)
        worst_text = f"{error[worst]:.3g}"
    row, col = int(worst[0]), int(worst[1])

    if ax is None:
        height, width = error.shape
        fig = _new_figure((max(3.0, width * 0.4 + 1.5), max(2.5, height * 0.4 + 1.2)))
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    shown = np.where(nonfinite, np.nan, error)
    cmap = plt.get_cmap(ERROR_CMAP).with_extremes(bad=NONFINITE_COLOUR)
    finite_max = float(np.nanmax(shown)) if np.isfinite(shown).any() else 0.0
    # vmax > 0 keeps an all-zero map (a correct answer) white instead of a degenerate scale.
    image = ax.imshow(shown, cmap=cmap, vmin=0.0, vmax=finite_max or 1.0, interpolation="nearest")
    fig.colorbar(image, ax=ax, label="|got - expected|")
    ax.add_patch(
        Rectangle(
            (col - 0.5, row - 0.5),
            1,
            1,
            fill=False,
            edgecolor=ERROR_MARK_COLOUR,
            linewidth=HIGHLIGHT_LINEWIDTH,
            zorder=3,
        )
    )
    ax.set_xlabel(f"largest error {worst_text} at (row {row}, col {col})")
    ax.set_title(title if title is not None else "absolute error")
    return fig


def histogram(
    values: ArrayLike,
    *,
    bins: int | Sequence[float] | str | None = None,
    title: str | None = None,
    xlabel: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Histogram of a 1-D set of values (e.g. the class's scores) with the median marked.

    NaNs are dropped. ``bins`` is passed to ``Axes.hist``; None means "auto".
    """
    data = np.asarray(values, dtype=np.float64).reshape(-1)
    data = data[~np.isnan(data)]
    if ax is None:
        fig = _new_figure((5.0, 3.0))
        ax = fig.add_subplot()
    else:
        fig = ax.figure  # type: ignore[assignment]
    ax.hist(data, bins="auto" if bins is None else bins, edgecolor="white")
    if data.size:
        median = float(np.median(data))
        ax.axvline(median, color="black", linestyle="--", label=f"median {median:.3g}")
        ax.legend(fontsize="small")
    ax.set_ylabel("count")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    ax.set_title(title if title is not None else f"n = {data.size}")
    return fig


#: The padding's "imaginary pixels" in ``windows_figure``: hatched grey over the zeros.
PADDING_HATCH = "////"
PADDING_COLOUR = "0.55"


def windows_figure(
    image: ArrayLike,
    filter_size: int,
    stride: int = 1,
    padding: str | int = "VALID",
    *,
    windows: Sequence[int] | None = None,
    title: str | None = None,
    cell_size: float = 0.6,
) -> Figure:
    """The lecture's window slides: an image with its numbers, padded, and the filter windows.

    ``padding`` is ``"VALID"``, ``"SAME"`` (TensorFlow's rule, the odd extra zero bottom/right)
    or an int p (p zeros on every side: the lecture's formula). The padding zeros ("imaginary
    pixels") are drawn hatched grey; each window is outlined in its own colour (window k in
    raster order gets ``HIGHLIGHT_COLOURS[k]``). The title says the sizes, e.g. "5×5 input, 3×3
    filter, stride 2, VALID → 2×2 output" (on two lines).

    Args:
        image: (H, W) numbers, indexed [row, col].
        filter_size: the square filter's side f.
        windows: which windows to outline (raster order); default all of them, up to five.

    Raises:
        ValueError: ``image`` is not 2-D, or a size, stride or padding is invalid.
    """
    from .geometry import axis_geometry, explicit_axis_geometry, window_starts

    array = _as_matrix(image).astype(np.float64)
    h, w = array.shape
    if isinstance(padding, str):
        gh, gw = (axis_geometry(n, filter_size, stride, padding) for n in (h, w))
        name = gh.padding
    else:
        gh, gw = (explicit_axis_geometry(n, filter_size, stride, padding) for n in (h, w))
        name = f"p = {padding}"
    padded = np.pad(array, ((gh.pad_before, gh.pad_after), (gw.pad_before, gw.pad_after)))
    starts = [(y, x) for y in window_starts(gh) for x in window_starts(gw)]
    chosen = list(range(min(len(starts), len(HIGHLIGHT_COLOURS)))) if windows is None else windows
    highlights = [
        (*starts[k], filter_size, filter_size, HIGHLIGHT_COLOURS[n % len(HIGHLIGHT_COLOURS)])
        for n, k in enumerate(chosen)
    ]
    if title is None:
        title = (
            f"{h}×{w} input, {filter_size}×{filter_size} filter,\nstride {stride}, {name} "
            f"→ {gh.out_size}×{gw.out_size} output"
        )
    fig = matrix_figure(padded, highlight=highlights or None, cell_size=cell_size, title=title)
    ax = fig.axes[0]
    for r in range(padded.shape[0]):
        for c in range(padded.shape[1]):
            inside = (
                gh.pad_before <= r < gh.pad_before + h and gw.pad_before <= c < gw.pad_before + w
            )
            if not inside:
                ax.add_patch(
                    Rectangle(
                        (c - 0.5, r - 0.5), 1, 1, fill=False, hatch=PADDING_HATCH,
                        edgecolor=PADDING_COLOUR, linewidth=0, zorder=2,
                    )
                )  # fmt: skip
    return fig
