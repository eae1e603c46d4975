"""Show a student's single-channel function in widgets that call tf.nn.conv2d's signature."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..geometry import normalize_strides, same_pads
from ._conv import ConvFn

#: Tiny inputs used to ask a function whether it is implemented yet.
_PROBE_IMAGE = np.zeros((2, 2))
_PROBE_KERNEL = np.zeros((1, 1))


def implemented(fn: Callable[..., Any], *probe_args: Any) -> bool:
    """False while `fn(*probe_args)` raises NotImplementedError (the released stub), else True."""
    try:
        fn(*probe_args)
    except NotImplementedError:
        return False
    except Exception:
        return True  # implemented, if not yet right: the widget will show what it returns
    return True


def student_or_none(conv_fn: ConvFn) -> ConvFn | None:
    """`conv_fn` (tf.nn.conv2d's signature) once implemented; None (= tf.nn.conv2d) before."""
    probe = (np.zeros((1, 3, 3, 1)), np.zeros((2, 2, 1, 1)), 1, "VALID")
    return conv_fn if implemented(conv_fn, *probe) else None


def from_single_channel(
    fn: Callable[..., Any], *, with_stride_padding: bool = False
) -> ConvFn | None:
    """A conv_fn in tf.nn.conv2d's convention built from a 2-D, single-channel function.

    `fn(image, kernel)` (VALID, stride 1: lab 01), or with `with_stride_padding=True`
    `fn(image, kernel, stride, padding)` with stride an int or (sh, sw) (lab 02). Inputs NHWC,
    filters HWIO: output channel o is the sum over input channels i of
    fn(inputs[b, :, :, i], filters[:, :, i, o]) — each filter spans all input channels. Without
    stride/padding support, SAME is done by zero padding first (TF's rule at stride 1: f - 1
    zeros, the odd one after) and strides other than 1 are refused.

    Returns None while `fn` is the unimplemented stub, so widgets fall back to tf.nn.conv2d.
    """
    probe = (
        (_PROBE_IMAGE, _PROBE_KERNEL, 1, "VALID")
        if with_stride_padding
        else (_PROBE_IMAGE, _PROBE_KERNEL)
    )
    if not implemented(fn, *probe):
        return None

    def conv_fn(
        inputs: NDArray[Any], filters: NDArray[Any], strides: int | Sequence[int], padding: str
    ) -> NDArray[np.float64]:
        stride = normalize_strides(strides)
        kh, kw, n_in, n_out = np.shape(filters)
        if with_stride_padding:

            def one(img: NDArray[Any], k: NDArray[Any]) -> NDArray[Any]:
                return np.asarray(fn(img, k, stride, padding), dtype=float)
        else:
            if stride != (1, 1):
                raise ValueError("this function only does stride 1")
            if padding.upper() == "SAME":
                # TF's rule at stride 1: f - 1 zeros in total, the odd one after
                pads = [(0, 0), same_pads(kh, kh, 1), same_pads(kw, kw, 1), (0, 0)]
                inputs = np.pad(inputs, pads)

            def one(img: NDArray[Any], k: NDArray[Any]) -> NDArray[Any]:
                return np.asarray(fn(img, k), dtype=float)

        return np.stack(
            [
                np.stack(
                    [sum(one(img[:, :, i], filters[:, :, i, o]) for i in range(n_in))
                     for o in range(n_out)],
                    axis=-1,
                )
                for img in np.asarray(inputs, dtype=float)
            ]
        )  # fmt: skip

    return conv_fn
