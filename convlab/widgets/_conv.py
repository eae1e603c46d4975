"""How widgets call the conv2d they show: the caller's function or a tf.nn.conv2d wrapper."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from convlab import use_tf_environment

# conv_fn(inputs NHWC, filters HWIO, strides int | list, padding "SAME"/"VALID") -> NHWC array,
# the tf.nn.conv2d contract. convlab holds no conv2d of its own (DESIGN.md): the widgets show
# whatever function they are given.
ConvFn = Callable[[NDArray[np.float64], NDArray[np.float64], int | Sequence[int], str], ArrayLike]


def _tf_conv2d(
    inputs: ArrayLike, filters: ArrayLike, strides: int | Sequence[int], padding: str
) -> NDArray[np.float64]:
    """Call ``tf.nn.conv2d`` in float64 on CPU and return a numpy NHWC array.

    Used only when a widget gets no conv_fn. TensorFlow is imported here, not at module import,
    so the widgets that never need it (geometry, connectivity) stay fast to load.
    """
    use_tf_environment()  # quiet, and the grader's numbers on every CPU (see convlab/__init__.py)
    import tensorflow as tf

    # Slider values arrive as numpy ints and TF wants plain ints and upper-case padding.
    stride_arg: int | list[int] = (
        int(strides) if np.isscalar(strides) else [int(s) for s in strides]  # type: ignore[union-attr]
    )
    result = tf.nn.conv2d(
        tf.constant(np.asarray(inputs, dtype=np.float64)),
        tf.constant(np.asarray(filters, dtype=np.float64)),
        stride_arg,
        padding.upper(),
    )
    return result.numpy()


def resolve_conv_fn(conv_fn: ConvFn | None) -> ConvFn:
    """Return ``conv_fn``, or the tf.nn.conv2d wrapper when it is None."""
    return _tf_conv2d if conv_fn is None else conv_fn


@dataclass(frozen=True)
class ConvResult:
    """What a widget got back from conv_fn.

    Attributes:
        output: float64 NHWC array, or None when conv_fn failed or returned the wrong shape.
        error: a message for the student when output is None, else "".
    """

    output: NDArray[np.float64] | None
    error: str = ""


def run_conv(
    conv_fn: ConvFn,
    inputs: NDArray[np.float64],
    filters: NDArray[np.float64],
    strides: int | Sequence[int],
    padding: str,
    expected_shape: tuple[int, ...] | None = None,
) -> ConvResult:
    """Call ``conv_fn`` and turn any failure into a message instead of an exception.

    A widget is often driven by a student's unfinished conv2d; the widget should say what went
    wrong (and keep working) rather than die inside a slider callback where the traceback is
    hidden.
    """
    call = f"conv_fn(inputs {inputs.shape}, filters {filters.shape}, {strides}, {padding!r})"
    try:
        output = np.asarray(conv_fn(inputs.copy(), filters.copy(), strides, padding))
    except Exception as exc:  # noqa: BLE001 - any student error becomes a message
        return ConvResult(None, f"{call} raised {type(exc).__name__}: {exc}")
    if expected_shape is not None and output.shape != tuple(expected_shape):
        return ConvResult(
            None, f"{call} returned shape {output.shape}, expected {tuple(expected_shape)}"
        )
    try:
        output = output.astype(np.float64)
    except (TypeError, ValueError) as exc:
        return ConvResult(None, f"{call} returned values that are not numbers: {exc}")
    return ConvResult(output)
