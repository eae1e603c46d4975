"""The lecture's main visual: a filter window sliding over an image, one output pixel per step."""

from __future__ import annotations

import html

import ipywidgets as widgets
import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._conv import ConvFn, resolve_conv_fn, run_conv
from ._render import auto_scale, error_html, format_number, html_matrix, png_bytes, title_html

# Images up to this many rows and columns are drawn as tables with their numbers (the lecture's
# 4x4 example); larger ones (a 28x28 digit) as pictures, where numbers would be unreadable.
MAX_TABLE_SIDE = 12
# Past this many terms the written-out sum keeps only the non-zero kernel weights.
MAX_SUM_TERMS = 25
# conv_fn may work in float32; its value and the float64 window sum agree to this tolerance,
# relative to the sum of |products| (the size of the accumulated rounding).
MATCH_RTOL = 1e-5
PLAY_INTERVAL_MS = 900


def _as_2d(array: ArrayLike, what: str) -> NDArray[np.float64]:
    a = np.asarray(array, dtype=np.float64)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim != 2:
        raise ValueError(f"{what} must be 2-D (H, W) or (H, W, 1), got shape {a.shape}")
    return a


def window_at(
    image_shape: tuple[int, ...], kernel_shape: tuple[int, ...], index: int
) -> tuple[int, int]:
    """Return the top-left corner (y, x) of the ``index``-th window, VALID, stride 1.

    Windows are numbered in raster order (left to right, then top to bottom), the order the
    lecture computes V(0,0), V(1,0), V(0,1), V(1,1); (y, x) is also the output pixel's position.

    Raises:
        ValueError: the kernel is larger than the image.
        IndexError: ``index`` is outside ``0 .. out_h * out_w - 1``.
    """
    out_h = image_shape[0] - kernel_shape[0] + 1
    out_w = image_shape[1] - kernel_shape[1] + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(f"kernel {kernel_shape[:2]} does not fit in image {image_shape[:2]}")
    if not 0 <= index < out_h * out_w:
        raise IndexError(f"window index {index} outside 0..{out_h * out_w - 1}")
    return divmod(int(index), out_w)


def window_products(
    image: ArrayLike, kernel: ArrayLike, y: int, x: int
) -> tuple[NDArray[np.float64], float]:
    """Return the elementwise products of one window with the kernel, and their sum.

    ``products[m, n] = image[y + m, x + n] * kernel[m, n]`` for the (kh, kw) window whose
    top-left corner is (y, x) (cross-correlation: no flip); the sum is the output pixel V at
    row y, column x. Only this one window is computed; it is not a convolution.
    """
    img = _as_2d(image, "image")
    ker = _as_2d(kernel, "kernel")
    kh, kw = ker.shape
    if y < 0 or x < 0 or y + kh > img.shape[0] or x + kw > img.shape[1]:
        raise IndexError(f"window at ({y}, {x}) of size {ker.shape} leaves image {img.shape}")
    products = img[y : y + kh, x : x + kw] * ker
    return products, float(products.sum())


def sum_text(window: ArrayLike, kernel: ArrayLike) -> str:
    """Write out the sum of products, e.g. ``"2·1 + 0·1 + ... + 5·(-1) = -4"``.

    ``window`` and ``kernel`` are equal-shape 2-D arrays, read in raster order. With more than
    ``MAX_SUM_TERMS`` terms, only the non-zero weights are written and the text says so.
    """
    w = np.asarray(window, dtype=np.float64).ravel()
    k = np.asarray(kernel, dtype=np.float64).ravel()
    keep = np.ones(w.shape, bool) if w.size <= MAX_SUM_TERMS else (k != 0)

    def wrap(v: float) -> str:
        return f"({format_number(v)})" if v < 0 else format_number(v)

    terms = [f"{wrap(a)}·{wrap(b)}" for a, b, kept in zip(w, k, keep, strict=True) if kept]
    note = "" if keep.all() else " (terms with weight 0 left out)"
    return " + ".join(terms or ["0"]) + f" = {format_number(float((w * k).sum()))}{note}"


def build_sliding_window(
    image: ArrayLike, kernel: ArrayLike, conv_fn: ConvFn | None = None
) -> widgets.VBox:
    """Build the sliding-window widget: one step per output pixel, in raster order.

    Shows the image with the current (kh, kw) window outlined, the numbers under it, the kernel,
    their elementwise products with the sum written out, and the output filled in up to the
    current step (later positions blank). The whole output comes from ``conv_fn`` called once
    as ``conv_fn(image[None, :, :, None], kernel[:, :, None, None], 1, "VALID")`` (NHWC input,
    HWIO filter, cross-correlation like ``tf.nn.conv2d``); the per-window products are computed
    here, and a mismatch between the two is pointed out.

    Args:
        image: (H, W) or (H, W, 1) numbers.
        kernel: (kh, kw) with kh <= H and kw <= W.
        conv_fn: the conv2d to visualise; None uses ``tf.nn.conv2d``.

    Returns:
        The widget (not displayed); ``.children`` holds the controls and panels.
    """
    img = _as_2d(image, "image")
    ker = _as_2d(kernel, "kernel")
    out_h, out_w = img.shape[0] - ker.shape[0] + 1, img.shape[1] - ker.shape[1] + 1
    if out_h < 1 or out_w < 1:
        raise ValueError(f"kernel {ker.shape} does not fit in image {img.shape}")
    steps = out_h * out_w
    result = run_conv(
        resolve_conv_fn(conv_fn),
        img[None, :, :, None],
        ker[:, :, None, None],
        1,
        "VALID",
        (1, out_h, out_w, 1),
    )
    output = None if result.output is None else result.output[0, :, :, 0]
    small_image = max(img.shape) <= MAX_TABLE_SIDE
    small_output = max(out_h, out_w) <= MAX_TABLE_SIDE
    # Shade the window's cells on the whole image's scale, so they look like the image does.
    img_range = (float(img.min()), float(img.max()))
    out_range = (float(output.min()), float(output.max())) if output is not None else (0.0, 1.0)

    slider = widgets.IntSlider(
        value=0, min=0, max=steps - 1, description="step", continuous_update=True
    )
    play = widgets.Play(value=0, min=0, max=steps - 1, interval=PLAY_INTERVAL_MS)
    # A kernel-side link (not jslink) so the Play button also drives the slider when the widget
    # is exercised headless or in Voila.
    widgets.link((play, "value"), (slider, "value"))
    caption = widgets.HTML()
    image_html = widgets.HTML()
    image_png = widgets.Image(format="png")
    window_html = widgets.HTML()
    sum_html = widgets.HTML()
    output_html = widgets.HTML()
    output_png = widgets.Image(format="png")
    check_html = widgets.HTML()

    def render(index: int) -> None:
        y, x = window_at(img.shape, ker.shape, index)
        kh, kw = ker.shape
        products, total = window_products(img, ker, y, x)
        caption.value = (
            f"<b>step {index + 1} of {steps}</b>: output pixel V at row y={y}, column x={x} "
            f"= sum of (image values under the red window) × (kernel)"
        )
        if small_image:
            mask = np.zeros(img.shape, bool)
            mask[y : y + kh, x : x + kw] = True
            image_html.value = html_matrix(img, highlight=mask, title="image", vrange=img_range)
        else:
            image_png.value = png_bytes(img, boxes=[(y, x, kh, kw)])
        window_html.value = (
            html_matrix(img[y : y + kh, x : x + kw], title="under the window", vrange=img_range)
            + '<span style="font-size:20px;vertical-align:middle"> × </span>'
            + html_matrix(ker, shade="sign", title="kernel")
            + '<span style="font-size:20px;vertical-align:middle"> = </span>'
            + html_matrix(products, shade="sign", title="products")
        )
        sum_html.value = (
            '<div style="font:13px monospace;white-space:pre-wrap">'
            f"V(x={x}, y={y}) = {html.escape(sum_text(img[y : y + kh, x : x + kw], ker))}</div>"
        )
        if output is None:
            output_html.value = error_html(result.error)
            return
        done = np.arange(steps).reshape(out_h, out_w) <= index
        if small_output:
            output_html.value = html_matrix(
                output, blank=~done, current=(y, x), title="output so far", vrange=out_range
            )
        else:
            shown = np.where(done, output, np.nan)
            lo, hi = out_range
            scaled = (shown - lo) / (hi - lo) if hi > lo else np.where(done, 0.5, np.nan)
            output_png.value = png_bytes(scaled, scale=auto_scale(img.shape), boxes=[(y, x, 1, 1)])
        tol = MATCH_RTOL * (float(np.abs(products).sum()) + 1.0)
        if abs(output[y, x] - total) > tol:
            check_html.value = error_html(
                f"conv_fn gave {output[y, x]:.6g} at row {y}, column {x}, but the window sum "
                f"is {total:.6g}: is the kernel flipped or the window shifted?"
            )
        else:
            check_html.value = ""

    slider.observe(lambda change: render(change["new"]), names="value")
    render(0)

    image_panel = image_html if small_image else _captioned(image_png, "image")
    output_panel = (
        output_html
        if small_output or output is None
        else widgets.VBox([widgets.HTML("<b>output so far</b>"), output_png])
    )
    return widgets.VBox(
        [
            widgets.HTML(
                title_html(
                    "Sliding window",
                    "Each output pixel: multiply the kernel with the pixels under it, then add.",
                )
            ),
            widgets.HBox([play, slider]),
            caption,
            widgets.HBox([image_panel, output_panel]),
            window_html,
            sum_html,
            check_html,
        ]
    )


def _captioned(image: widgets.Image, caption: str) -> widgets.VBox:
    return widgets.VBox([widgets.HTML(f"<b>{html.escape(caption)}</b>"), image])
