"""Named kernels, the lecture's curve detector and its worked examples, as float64 arrays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Every kernel here is indexed kernel[row, column] = kernel[y, x] and is meant for
# cross-correlation exactly as tf.nn.conv2d applies it: no flip. The tables below are the only
# copies; get_kernel() hands out fresh arrays so a student's in-place edit never leaks.

# The lecture's curve detector: 30s along a curve that runs from the top-right corner down the
# middle column; the receptive fields below are the lecture's "contains a similar curve" and
# "does not" examples.
CURVE_WEIGHT = 30.0
_CURVE = (
    (0, 0, 0, 0, 0, 1, 0),
    (0, 0, 0, 0, 1, 0, 0),
    (0, 0, 0, 1, 0, 0, 0),
    (0, 0, 0, 1, 0, 0, 0),
    (0, 0, 0, 1, 0, 0, 0),
    (0, 0, 0, 1, 0, 0, 0),
    (0, 0, 0, 0, 0, 0, 0),
)
_FIELD_WITH_CURVE = (
    (0, 0, 0, 0, 0, 0, 30),
    (0, 0, 0, 0, 50, 50, 50),
    (0, 0, 0, 20, 50, 0, 0),
    (0, 0, 0, 50, 50, 0, 0),
    (0, 0, 0, 50, 50, 0, 0),
    (0, 0, 0, 50, 50, 0, 0),
    (0, 0, 0, 50, 50, 0, 0),
)
_FIELD_WITHOUT_CURVE = (
    (0, 0, 0, 0, 0, 0, 0),
    (0, 40, 0, 0, 0, 0, 0),
    (40, 0, 40, 0, 0, 0, 0),
    (40, 20, 0, 0, 0, 0, 0),
    (0, 50, 0, 0, 0, 0, 0),
    (0, 0, 50, 0, 0, 0, 0),
    (25, 25, 0, 50, 0, 0, 0),
)

_HORIZONTAL_EDGE = ((1, 1, 1), (0, 0, 0), (-1, -1, -1))
_SOBEL_X = ((1, 0, -1), (2, 0, -2), (1, 0, -1))

# name -> (rows, scale, description); the kernel is scale * rows.
_KERNELS: Mapping[str, tuple[tuple[tuple[int, ...], ...], float, str]] = MappingProxyType(
    {
        "identity": (
            ((0, 0, 0), (0, 1, 0), (0, 0, 0)),
            1.0,
            "Identity: a single 1 in the centre, so every output pixel equals the input pixel "
            "under it and the image comes out unchanged.",
        ),
        "box_blur": (
            ((1, 1, 1), (1, 1, 1), (1, 1, 1)),
            1.0 / 9.0,
            "Box blur: every weight is 1/9, so each output pixel is the plain average of its "
            "3x3 neighbourhood; the weights sum to 1, so flat regions keep their brightness.",
        ),
        "gaussian_blur": (
            ((1, 2, 1), (2, 4, 2), (1, 2, 1)),
            1.0 / 16.0,
            "Gaussian blur: a weighted average that trusts the centre pixel most and the corners "
            "least, which smooths noise with fewer blocky artefacts than the box blur; the "
            "weights sum to 1.",
        ),
        "sharpen": (
            ((0, -1, 0), (-1, 5, -1), (0, -1, 0)),
            1.0,
            "Sharpen: the pixel plus (4 x pixel minus its 4 neighbours), so edges gain contrast "
            "while flat regions stay the same (the weights sum to 1). The lecture labels this "
            "kernel 'edge detection / outline' - a slip: it sharpens; see 'outline'.",
        ),
        "outline": (
            ((-1, -1, -1), (-1, 8, -1), (-1, -1, -1)),
            1.0,
            "Outline: 8 x pixel minus its 8 neighbours; the weights sum to 0, so flat regions "
            "go to 0 and only places where the brightness changes (edges) remain.",
        ),
        "sobel_x": (
            _SOBEL_X,
            1.0,
            "Sobel x (the lecture's Sobel): left column minus right column, centre row counted "
            "twice; it finds vertical edges and is positive where the image gets darker from "
            "left to right.",
        ),
        "sobel_y": (
            tuple(zip(*_SOBEL_X, strict=True)),
            1.0,
            "Sobel y (the transpose of sobel_x): top row minus bottom row, centre column counted "
            "twice; it finds horizontal edges and is positive where the image gets darker from "
            "top to bottom.",
        ),
        "shift": (
            ((0, 0, 0), (1, 0, 0), (0, 0, 0)),
            1.0,
            "Shift: the only 1 sits left of the centre, so each output pixel copies the input "
            "pixel one to its left, output(y, x) = input(y, x - 1): the picture moves one pixel "
            "to the RIGHT.",
        ),
        "horizontal_edge": (
            _HORIZONTAL_EDGE,
            1.0,
            "Horizontal edge (the lecture's worked-example kernel): the row above minus the row "
            "below; flat regions give 0 and a horizontal edge gives a large value, positive when "
            "the top is brighter.",
        ),
        "curve_detector": (
            _CURVE,
            CURVE_WEIGHT,
            "Curve detector (the lecture's 7x7 example): 30s along a curve and 0 elsewhere, so "
            "it responds strongly only to a receptive field containing a similar curve.",
        ),
    }
)

KERNEL_NAMES: tuple[str, ...] = tuple(_KERNELS)


def _lookup(name: str) -> tuple[tuple[tuple[int, ...], ...], float, str]:
    try:
        return _KERNELS[name]
    except KeyError:
        valid = ", ".join(KERNEL_NAMES)
        raise KeyError(f"unknown kernel {name!r}; valid names: {valid}") from None


def get_kernel(name: str) -> NDArray[np.float64]:
    """Return the named kernel as a fresh float64 array of shape (kh, kw), indexed [y, x].

    The kernel is meant for cross-correlation as ``tf.nn.conv2d`` applies it (no flip). Each call
    returns a new array, so editing it never changes what the next call returns.

    Raises:
        KeyError: the name is not in ``KERNEL_NAMES``; the message lists the valid names.
    """
    rows, scale, _ = _lookup(name)
    return np.array(rows, dtype=np.float64) * scale


def describe(name: str) -> str:
    """Return one or two sentences telling a student what the named kernel does and why.

    Raises:
        KeyError: the name is not in ``KERNEL_NAMES``.
    """
    return _lookup(name)[2]


def gaussian(size: int, sigma: float) -> NDArray[np.float64]:
    """Return a normalized (size, size) float64 Gaussian kernel that sums to 1.

    The weights are ``exp(-(dx**2 + dy**2) / (2 * sigma**2))`` with dx, dy measured from the
    kernel centre ``(size - 1) / 2``, so an even size is centred between pixels.

    Raises:
        ValueError: size < 1 or sigma <= 0.
    """
    if size < 1:
        raise ValueError(f"size must be a positive integer, got {size}")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    # The 2-D Gaussian is separable: the outer product of two 1-D ones.
    profile = np.exp(-(offsets**2) / (2.0 * sigma**2))
    kernel = np.outer(profile, profile)
    return kernel / kernel.sum()


def as_filter_bank(
    names: Sequence[str], in_channels: int = 1, *, average_channels: bool = True
) -> NDArray[np.float64]:
    """Stack named kernels into a filter bank of shape HWIO (kh, kw, in_channels, len(names)).

    Output channel k holds kernel ``names[k]``, ready for ``conv2d(inputs, filters, ...)`` with
    NHWC inputs. For ``in_channels > 1`` the same 2-D kernel is copied into every input channel;
    with ``average_channels=True`` (the default) each copy is divided by ``in_channels``, so the
    output is the kernel applied to the channel mean (a blur stays a blur of the grey image,
    with weights summing to 1); with ``False`` the channel responses simply add up.

    Raises:
        ValueError: ``names`` is empty, ``in_channels < 1`` or the kernels differ in size.
        KeyError: a name is not in ``KERNEL_NAMES``.
    """
    if isinstance(names, str):
        names = [names]
    if len(names) == 0:
        raise ValueError("names must list at least one kernel")
    if in_channels < 1:
        raise ValueError(f"in_channels must be at least 1, got {in_channels}")
    kernels = [get_kernel(name) for name in names]
    shapes = {kernel.shape for kernel in kernels}
    if len(shapes) > 1:
        sizes = ", ".join(f"{n}: {k.shape}" for n, k in zip(names, kernels, strict=True))
        raise ValueError(f"a filter bank needs kernels of one size, got {sizes}")
    bank = np.stack(kernels, axis=-1)[:, :, np.newaxis, :]
    bank = np.repeat(bank, in_channels, axis=2)
    if average_channels:
        bank /= in_channels
    return bank


def edge_angle(kernel: ArrayLike) -> float:
    """The direction, in degrees, from a kernel's negative weights to its positive ones.

    Measured like a compass on the image: 0° = positive on the right, 90° = positive on top
    (``horizontal_edge``, ``sobel_y``), 180° = on the left (``sobel_x``), 270° = below. It is
    the direction of the weights' first moment ``Σ K(m, n)·(m - centre, centre - n)`` (m the
    column, n the row); a kernel symmetric around its centre (a blur, ``outline``) has none and
    gives 0°. Used to sort learned filters by the edge they respond to.

    Raises:
        ValueError: ``kernel`` is not 2-D.
    """
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2:
        raise ValueError(f"kernel must be 2-D (kh, kw), got shape {k.shape}")
    rows, cols = np.indices(k.shape, dtype=np.float64)
    x = cols - (k.shape[1] - 1) / 2  # right is positive
    y = (k.shape[0] - 1) / 2 - rows  # up is positive
    mx, my = float((k * x).sum()), float((k * y).sum())
    if abs(mx) < 1e-12 and abs(my) < 1e-12:
        return 0.0
    return float(np.degrees(np.arctan2(my, mx))) % 360.0


def curve_detector() -> NDArray[np.float64]:
    """Return the lecture's 7x7 curve detector, float64 of shape (7, 7): 30s along a curve."""
    return get_kernel("curve_detector")


def curve_receptive_fields() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the lecture's two 7x7 float64 receptive fields ``(with_curve, without_curve)``.

    Multiplying each with ``curve_detector()`` element-wise and summing gives a large number
    (6600) for the field containing a similar curve and 0 for the other: nothing in it lies
    under the detector's 30s.
    """
    return (
        np.array(_FIELD_WITH_CURVE, dtype=np.float64),
        np.array(_FIELD_WITHOUT_CURVE, dtype=np.float64),
    )


def _frozen(values: ArrayLike) -> NDArray[np.float64]:
    array = np.array(values, dtype=np.float64)
    # The examples are shared module constants; read-only arrays stop one notebook cell from
    # silently changing them for the next.
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class WorkedExample:
    """A worked example from the lecture: 2-D inputs and the output the slide shows.

    Attributes:
        name: short id, the key in ``LECTURE_EXAMPLES``.
        image: (H, W) float64, indexed [y, x]; read-only.
        kernel: (kh, kw) float64, applied by cross-correlation (no flip); read-only.
        lecture_output: (H', W') float64, the output as the lecture slide shows it; read-only.
        note: what the example shows, including any slip on the slides.
        padding: ``"VALID"`` or ``"SAME"``, as in ``tf.nn.conv2d``.
        stride: the stride along both height and width.
        slip_output: a wrong version of the output shown on another slide, or None.
    """

    name: str
    image: NDArray[np.float64]
    kernel: NDArray[np.float64]
    lecture_output: NDArray[np.float64]
    note: str
    padding: str = "VALID"
    stride: int = 1
    slip_output: NDArray[np.float64] | None = None

    def as_tf_inputs(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Return writable copies ``(inputs, filters)``: NHWC (1, H, W, 1) and HWIO (kh, kw, 1, 1).

        These are what ``conv2d(inputs, filters, self.stride, self.padding)`` expects; the
        result's ``[0, :, :, 0]`` compares with ``lecture_output``.
        """
        inputs = np.array(self.image, dtype=np.float64)[np.newaxis, :, :, np.newaxis]
        filters = np.array(self.kernel, dtype=np.float64)[:, :, np.newaxis, np.newaxis]
        return inputs, filters


LECTURE_EXAMPLES: Mapping[str, WorkedExample] = MappingProxyType(
    {
        "first_output": WorkedExample(
            name="first_output",
            image=_frozen([[2, 0, 1, 3], [7, 1, 1, 0], [0, 2, 5, 0], [0, 5, 1, 4]]),
            kernel=_frozen(_HORIZONTAL_EDGE),
            lecture_output=_frozen([[-4, -3], [3, -8]]),
            note=(
                "The lecture builds this output one pixel at a time: V(0,0), V(1,0), V(0,1), "
                "V(1,1). A later slide shows it as [[-4, -3], [2, -9]]: a slip, the correct "
                "bottom row is [3, -8]."
            ),
            slip_output=_frozen([[-4, -3], [2, -9]]),
        ),
        "padding": WorkedExample(
            name="padding",
            image=_frozen([[2, 0, 1, 3], [0, 1, 1, 0], [0, 0, 2, 0], [0, 1, 1, 1]]),
            kernel=_frozen(_HORIZONTAL_EDGE),
            lecture_output=_frozen([[1, 2], [0, -1]]),
            note=(
                "The padding section's VALID example: without padding a 4x4 image and a 3x3 "
                "filter give a 2x2 output; the filter 'eats at the border'."
            ),
        ),
        "sobel": WorkedExample(
            name="sobel",
            image=_frozen([[2, 0, 3, 1], [1, 1, 0, 0], [1, 0, 2, 0], [1, 0, 1, 2]]),
            kernel=_frozen(_SOBEL_X),
            lecture_output=_frozen([[0, 1], [-1, -1]]),
            note=(
                "The lecture's Sobel example, VALID with stride 1; the SAME version (a 4x4 "
                "output) is left to students as homework."
            ),
        ),
    }
)
