"""Try the named kernels (or your own weights) on real images, input and output side by side."""

from __future__ import annotations

import html
from collections.abc import Sequence

import ipywidgets as widgets
import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import kernels as kernel_lib
from ._conv import ConvFn, resolve_conv_fn, run_conv
from ._render import (
    DISPLAY_MODES,
    SIGNED_HELP,
    error_html,
    format_number,
    png_bytes,
    title_html,
    to_display,
)

CUSTOM = "custom"
DEFAULT_PRESET = "outline"
CELL_WIDTH = "72px"
#: Narrower cells for kernels wider than 5 (the 7×7 curve detector fits a zoomed page).
WIDE_KERNEL_CELL_WIDTH = "58px"
DEFAULT_MODE = "auto"
MODE_HELP = {
    "auto": "signed when the output has negative values, else the image as it is",
    "signed": SIGNED_HELP + " (colour images: the channels averaged)",
    "abs": "|output| clipped to [0, 1]: strong responses of either sign are bright",
    "clip": "output clipped to [0, 1]: negative values black, values above 1 white",
    "normalize": "output stretched from its min (black) to its max (white)",
}


def as_nhwc(images: ArrayLike) -> NDArray[np.float64]:
    """Return images as float64 NHWC: (N, H, W, C) stays, (N, H, W) gets C = 1."""
    a = np.asarray(images, dtype=np.float64)
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim != 4:
        raise ValueError(f"images must be (N, H, W) or (N, H, W, C), got shape {a.shape}")
    return a


def depthwise_filters(kernel: ArrayLike, channels: int) -> NDArray[np.float64]:
    """Return an HWIO filter (kh, kw, C, C) that applies ``kernel`` to each channel separately.

    ``filters[:, :, c, c] = kernel`` and every other entry is 0, so output channel c sees only
    input channel c: red stays red, green stays green (a "depthwise" filter written as an
    ordinary conv2d filter bank).
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2:
        raise ValueError(f"kernel must be 2-D (kh, kw), got shape {k.shape}")
    filters = np.zeros((*k.shape, channels, channels))
    for c in range(channels):
        filters[:, :, c, c] = k
    return filters


def kernel_summary(name: str, kernel: ArrayLike) -> str:
    """Return the text shown under the preset: its description and the sum of its weights."""
    k = np.asarray(kernel, dtype=np.float64)
    text = (
        kernel_lib.describe(name)
        if name in kernel_lib.KERNEL_NAMES
        else "Custom: your own weights, applied exactly like the presets."
    )
    return f"{text} Weights sum to {format_number(float(k.sum()))}."


def build_kernel_explorer(
    images: ArrayLike,
    conv_fn: ConvFn | None = None,
    *,
    labels: Sequence[int] | NDArray[np.int64] | None = None,
    class_names: Sequence[str] | None = None,
) -> widgets.VBox:
    """Build the kernel explorer: a preset or hand-edited kernel applied to one image at a time.

    The output is ``conv_fn(images[i:i+1], filters, 1, "SAME")`` (NHWC input, HWIO filter,
    cross-correlation like ``tf.nn.conv2d``), so it has the input's height and width. For a
    C-channel image (RGB CIFAR-10) the filter is ``depthwise_filters(kernel, C)``, shape
    (kh, kw, C, C) with the kernel on the diagonal, so each colour channel is filtered on its
    own and the colour survives. Outputs may leave [0, 1] (edge filters go negative); the display
    option maps them with ``to_display``: "auto" by default, which is "signed" (white 0, red
    positive, blue negative: what an edge filter keeps is coloured, flat regions are white) for
    any output with a negative value and the plain image otherwise; or signed, abs, clip,
    normalize.

    Args:
        images: (N, H, W, C) or (N, H, W) in [0, 1], e.g. from ``load_mnist`` / ``load_cifar10``.
        conv_fn: the conv2d to visualise; None uses ``tf.nn.conv2d``.
        labels: optional (N,) class labels shown in the caption.
        class_names: optional names for the labels (CIFAR-10's "cat", "ship", ...).

    Returns:
        The widget (not displayed).
    """
    imgs = as_nhwc(images)
    channels = imgs.shape[3]
    call = resolve_conv_fn(conv_fn)
    preset_names = list(kernel_lib.KERNEL_NAMES)
    preset = widgets.Dropdown(
        options=[*preset_names, CUSTOM],
        value=DEFAULT_PRESET if DEFAULT_PRESET in preset_names else preset_names[0],
        description="kernel",
    )
    about = widgets.HTML()
    grid = widgets.GridBox(layout=widgets.Layout(grid_gap="2px"))
    index = widgets.IntSlider(
        value=0, min=0, max=imgs.shape[0] - 1, description="image", continuous_update=False
    )
    mode = widgets.ToggleButtons(
        options=list(DISPLAY_MODES), value=DEFAULT_MODE, description="show"
    )
    mode.style.button_width = "auto"  # a fixed width cut "normalize" to "normal…"
    caption = widgets.HTML()
    input_image = widgets.Image(format="png")
    output_image = widgets.Image(format="png")
    info = widgets.HTML()
    # Closure state: the FloatText cells, a guard so filling the grid from a preset does not count
    # as a user edit, and the last conv output so changing only the display mode is free.
    cells: list[widgets.FloatText] = []
    state: dict[str, object] = {"filling": False, "key": None, "output": None, "error": ""}

    def current_kernel() -> NDArray[np.float64]:
        rows, cols = state["shape"]  # type: ignore[misc]
        return np.array([c.value for c in cells], dtype=np.float64).reshape(rows, cols)

    def fill_grid(kernel: NDArray[np.float64]) -> None:
        state["filling"] = True
        try:
            if state.get("shape") != kernel.shape:
                cells.clear()
                width = CELL_WIDTH if kernel.shape[1] <= 5 else WIDE_KERNEL_CELL_WIDTH
                for _ in range(kernel.size):
                    # No margin: the grid's columns are exactly CELL_WIDTH wide, and a widget's
                    # default 2px margin made it scroll sideways.
                    cell = widgets.FloatText(layout=widgets.Layout(width=width, margin="0"))
                    cell.observe(on_cell, names="value")
                    cells.append(cell)
                grid.children = tuple(cells)
                grid.layout.grid_template_columns = f"repeat({kernel.shape[1]}, {width})"
                state["shape"] = kernel.shape
            for cell, value in zip(cells, kernel.ravel(), strict=True):
                cell.value = round(float(value), 6)
        finally:
            state["filling"] = False

    def render() -> None:
        kernel = current_kernel()
        i = index.value
        key = (i, kernel.tobytes())
        if state["key"] != key:
            result = run_conv(
                call,
                imgs[i : i + 1],
                depthwise_filters(kernel, channels),
                1,
                "SAME",
                imgs[i : i + 1].shape,
            )
            state.update(key=key, output=result.output, error=result.error)
        label = ""
        if labels is not None:
            lab = int(labels[i])
            name = f" ({class_names[lab]})" if class_names is not None else ""
            label = f", label {lab}{html.escape(name)}"
        caption.value = f"image {i} of {imgs.shape[0]}{label}, {imgs.shape[1]}×{imgs.shape[2]}"
        if state.get("shown") != i:  # re-sending an unchanged input picture costs browser time
            input_image.value = png_bytes(imgs[i])
            state["shown"] = i
        output = state["output"]
        if output is None:
            info.value = error_html(str(state["error"]))
            return
        out = output[0]  # type: ignore[index]
        output_image.value = png_bytes(to_display(out, mode.value))
        info.value = (
            f"output min {format_number(out.min())}, max {format_number(out.max())}; "
            f"shown: {MODE_HELP[mode.value]}"
        )

    def on_preset(change: dict) -> None:
        if change["new"] != CUSTOM:
            fill_grid(kernel_lib.get_kernel(change["new"]))
        about.value = f"<i>{html.escape(kernel_summary(change['new'], current_kernel()))}</i>"
        render()

    def on_cell(change: dict) -> None:
        if state["filling"]:
            return
        if preset.value != CUSTOM:
            # Switching the label to "custom" must not refill the grid the user just edited.
            preset.value = CUSTOM
        else:
            about.value = f"<i>{html.escape(kernel_summary(CUSTOM, current_kernel()))}</i>"
            render()

    fill_grid(kernel_lib.get_kernel(preset.value))
    about.value = f"<i>{html.escape(kernel_summary(preset.value, current_kernel()))}</i>"
    preset.observe(on_preset, names="value")
    index.observe(lambda _: render(), names="value")
    mode.observe(lambda _: render(), names="value")
    render()

    def column(title: str, image: widgets.Image) -> widgets.VBox:
        return widgets.VBox(
            [widgets.HTML(f"<b>{title}</b>"), image], layout=widgets.Layout(margin="0 0 0 12px")
        )

    return widgets.VBox(
        [
            widgets.HTML(
                title_html(
                    "Kernel explorer",
                    "Pick a kernel or type your own weights; each output pixel is the weighted "
                    "sum of the 3×3 (or k×k) neighbourhood under the kernel.",
                )
            ),
            widgets.HBox([preset, index]),
            about,
            widgets.HBox(
                [
                    widgets.VBox(
                        [widgets.HTML("<b>weights</b>"), grid],
                        layout=widgets.Layout(flex="0 0 auto"),  # the grid keeps its width
                    ),
                    column("input", input_image),
                    column("output (SAME padding)", output_image),
                ],
                # Wraps the pictures below a wide grid (7×7) on a narrow or zoomed page
                # instead of cutting them off.
                layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap"),
            ),
            caption,
            mode,
            info,
        ]
    )
