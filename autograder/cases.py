"""Seeded test cases for every graded function, in named suites, smallest first."""

from __future__ import annotations

import contextlib
import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Seed of the visible (self-check) suites; printed in every report so a student can reproduce it.
VISIBLE_SEED = 0
#: Largest spatial size in any case, so a naive four-loop implementation still finishes quickly.
MAX_SIZE = 16

Strides = int | list[int]


@dataclass(frozen=True, eq=False)
class Case:
    """One call of a student's function: `args` go in, the reference says what must come out.

    `label` is a readable id such as `N2-H7xW5-C3to4-K3x2-s[1,2,1,1]-SAME`; `size` orders cases so
    that the smallest failing one is reported.
    """

    checker: str
    suite: str
    seed: int
    index: int
    args: tuple[Any, ...]
    label: str
    size: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return f"{self.label} (suite {self.suite!r}, seed {self.seed}, case {self.index})"


def normalize_strides(strides: Strides) -> tuple[int, int]:
    """(stride_height, stride_width) from an int or a list of 1, 2 or 4 ints, as tf.nn.conv2d."""
    if isinstance(strides, (int, np.integer)):
        return int(strides), int(strides)
    s = [int(v) for v in strides]
    if len(s) == 1:
        return s[0], s[0]
    if len(s) == 2:
        return s[0], s[1]
    if len(s) == 4:
        return s[1], s[2]
    raise ValueError(f"strides must be an int or a list of 1, 2 or 4 ints, got {strides!r}")


def _stable_rng(seed: int, checker: str, suite: str) -> np.random.Generator:
    # crc32, not hash(): str hashes are salted per process; cases must be identical everywhere.
    return np.random.default_rng([seed, zlib.crc32(f"{checker}/{suite}".encode())])


def _strides_form(rng: np.random.Generator, sh: int, sw: int) -> Strides:
    """Strides written in one of the forms tf.nn.conv2d accepts, chosen at random."""
    forms: list[Strides] = [[sh, sw], [1, sh, sw, 1]]
    if sh == sw:
        forms += [sh, [sh]]
    return forms[int(rng.integers(len(forms)))]


def _padding_form(rng: np.random.Generator, padding: str) -> str:
    """The padding word in mixed letter case ("SAME", "same", "Same"): the contract accepts any."""
    forms = [padding.upper(), padding.lower(), padding.capitalize()]
    return forms[int(rng.integers(len(forms)))]


# ----------------------------------------------------------------------------------------------
# conv2d: (inputs NHWC, filters HWIO, strides, padding)


@dataclass(frozen=True)
class ConvShape:
    n: int
    h: int
    w: int
    cin: int
    cout: int
    kh: int
    kw: int
    sh: int
    sw: int
    padding: str


def _conv_label(s: ConvShape, strides: Strides, padding: str) -> str:
    return f"N{s.n}-H{s.h}xW{s.w}-C{s.cin}to{s.cout}-K{s.kh}x{s.kw}-s{strides}-{padding}".replace(
        " ", ""
    )


def _conv_case(
    rng: np.random.Generator, s: ConvShape, *, suite: str, seed: int, index: int = 0
) -> Case:
    strides = _strides_form(rng, s.sh, s.sw)
    padding = _padding_form(rng, s.padding)
    # Continuous values: no accidental ties, so a flipped or transposed kernel never passes by luck.
    inputs = rng.uniform(-1.0, 1.0, size=(s.n, s.h, s.w, s.cin))
    filters = rng.uniform(-1.0, 1.0, size=(s.kh, s.kw, s.cin, s.cout))
    return Case(
        checker="conv2d",
        suite=suite,
        seed=seed,
        index=index,
        args=(inputs, filters, strides, padding),
        label=_conv_label(s, strides, padding),
        size=s.n * s.h * s.w * s.cin * s.kh * s.kw * s.cout,
        params={"shape": s},
    )


def _rand_conv_shape(
    rng: np.random.Generator,
    *,
    n: tuple[int, int] = (1, 1),
    hw: tuple[int, int] = (3, 10),
    cin: tuple[int, int] = (1, 1),
    cout: tuple[int, int] = (1, 1),
    k: tuple[int, int] = (1, 4),
    s: tuple[int, int] = (1, 1),
    padding: str = "VALID",
    odd_kernel: bool = False,
    even_kernel: bool = False,
) -> ConvShape:
    def pick(lo_hi: tuple[int, int]) -> int:
        return int(rng.integers(lo_hi[0], lo_hi[1] + 1))

    h, w = pick(hw), pick(hw)
    kh, kw = pick(k), pick(k)
    if padding == "VALID":
        kh, kw = min(kh, h), min(kw, w)
    if odd_kernel:
        kh, kw = kh | 1, kw | 1
    if even_kernel:
        kh, kw = max(2, kh - kh % 2), max(2, kw - kw % 2)
    return ConvShape(pick(n), h, w, pick(cin), pick(cout), kh, kw, pick(s), pick(s), padding)


def _edge_shapes() -> list[ConvShape]:
    return [
        ConvShape(1, 5, 6, 2, 3, 1, 1, 1, 1, "VALID"),  # 1x1 kernel: a per-pixel channel mix
        ConvShape(1, 4, 5, 1, 2, 4, 5, 1, 1, "VALID"),  # kernel = input size: output is 1x1
        ConvShape(1, 3, 4, 1, 1, 5, 6, 1, 1, "SAME"),  # SAME with a kernel larger than the input
        ConvShape(1, 8, 9, 1, 1, 2, 2, 3, 3, "VALID"),  # stride larger than the kernel
        ConvShape(2, 1, 7, 2, 1, 1, 3, 1, 2, "SAME"),  # H = 1
        ConvShape(1, 6, 1, 1, 2, 3, 1, 2, 1, "VALID"),  # W = 1
        ConvShape(2, 5, 9, 3, 2, 2, 4, 1, 3, "SAME"),  # non-square everything
    ]


def _conv2d_suite(suite: str, seed: int) -> list[Case]:
    rng = _stable_rng(seed, "conv2d", suite)
    shapes: list[ConvShape]
    if suite == "valid_stride1":
        shapes = [_rand_conv_shape(rng) for _ in range(6)]
    elif suite == "valid_strided":
        shapes = [_rand_conv_shape(rng, hw=(5, 12), s=(2, 3)) for _ in range(6)]
    elif suite == "same_odd":
        shapes = [
            _rand_conv_shape(rng, hw=(4, 10), k=(1, 5), s=(1, 2), padding="SAME", odd_kernel=True)
            for _ in range(6)
        ]
    elif suite == "same_asymmetric":
        shapes = [
            _rand_conv_shape(rng, hw=(5, 11), k=(2, 4), s=(1, 3), padding="SAME", even_kernel=True)
            for _ in range(4)
        ]
        # stride > 1 with an input not divisible by the stride and an odd kernel: odd total padding
        shapes += [
            ConvShape(1, 8, 9, 1, 1, 3, 3, 2, 2, "SAME"),
            ConvShape(1, 8, 5, 1, 1, 3, 1, 3, 2, "SAME"),
        ]
    elif suite == "multichannel":
        shapes = [
            _rand_conv_shape(rng, cin=(2, 4), padding=p, s=(1, 2))
            for p in ("VALID", "SAME", "VALID", "SAME", "SAME")
        ]
    elif suite == "filter_bank":
        shapes = [
            _rand_conv_shape(rng, cin=(1, 3), cout=(2, 4), padding=p, s=(1, 2))
            for p in ("VALID", "SAME", "VALID", "SAME", "SAME")
        ]
    elif suite == "batch":
        shapes = [
            _rand_conv_shape(rng, n=(2, 4), cin=(1, 3), cout=(1, 3), padding=p, s=(1, 2))
            for p in ("VALID", "SAME", "VALID", "SAME")
        ]
    elif suite == "edges":
        shapes = _edge_shapes()
    elif suite == "hidden":
        shapes = []
        for i in range(12):
            padding = "SAME" if i % 2 else "VALID"
            shapes.append(
                _rand_conv_shape(
                    rng,
                    n=(1, 3),
                    hw=(2, 12),
                    cin=(1, 3),
                    cout=(1, 3),
                    k=(1, 5),
                    s=(1, 3),
                    padding=padding,
                )
            )
    else:
        raise KeyError(suite)
    return [_conv_case(rng, s, suite=suite, seed=seed) for s in shapes]


# ----------------------------------------------------------------------------------------------
# Single-channel 2-D functions of labs 01 and 02


def _image_case(
    checker: str, suite: str, seed: int, args: tuple[Any, ...], label: str, size: int, **params: Any
) -> Case:
    return Case(checker, suite, seed, 0, args, label, size, params)


_LECTURE_IMAGE = np.array([[2, 0, 1, 3], [7, 1, 1, 0], [0, 2, 5, 0], [0, 5, 1, 4]], dtype=float)
_LECTURE_KERNEL = np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=float)
_PADDING_IMAGE = np.array([[2, 0, 1, 3], [0, 1, 1, 0], [0, 0, 2, 0], [0, 1, 1, 1]], dtype=float)
_SOBEL_IMAGE = np.array([[2, 0, 3, 1], [1, 1, 0, 0], [1, 0, 2, 0], [1, 0, 1, 2]], dtype=float)
_SOBEL_X = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]], dtype=float)


def _apply_kernel_suite(suite: str, seed: int) -> list[Case]:
    rng = _stable_rng(seed, "apply_kernel", suite)
    cases = []
    if suite == "apply_kernel":
        for x, y in [(0, 0), (1, 0), (0, 1), (1, 1)]:
            cases.append(
                _image_case(
                    "apply_kernel",
                    suite,
                    seed,
                    (_LECTURE_IMAGE, _LECTURE_KERNEL, x, y),
                    f"lecture-4x4-V({x},{y})",
                    16,
                )
            )
    for _ in range(4 if suite == "apply_kernel" else 8):
        h, w = int(rng.integers(3, 9)), int(rng.integers(3, 9))
        kh, kw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
        if kh == kw and kh > 1:  # non-square, so swapping x and y shows
            kw -= 1
        x, y = int(rng.integers(0, w - kw + 1)), int(rng.integers(0, h - kh + 1))
        image, kernel = rng.uniform(-1, 1, (h, w)), rng.uniform(-1, 1, (kh, kw))
        cases.append(
            _image_case(
                "apply_kernel",
                suite,
                seed,
                (image, kernel, x, y),
                f"H{h}xW{w}-K{kh}x{kw}-V({x},{y})",
                h * w * kh * kw,
            )
        )
    return cases


def _convolve2d_suite(suite: str, seed: int) -> list[Case]:
    rng = _stable_rng(seed, "convolve2d", suite)
    cases = []
    if suite == "convolve2d":
        for name, image, kernel in [
            ("lecture-4x4", _LECTURE_IMAGE, _LECTURE_KERNEL),
            ("lecture-padding-example", _PADDING_IMAGE, _LECTURE_KERNEL),
            ("lecture-sobel", _SOBEL_IMAGE, _SOBEL_X),
        ]:
            cases.append(_image_case("convolve2d", suite, seed, (image, kernel), name, 16 * 9))
    shapes = [(5, 7, 1, 1), (6, 4, 6, 4)] if suite == "convolve2d" else []
    while len(shapes) < (8 if suite == "convolve2d" else 10):
        h, w = int(rng.integers(2, 13)), int(rng.integers(2, 13))
        shapes.append((h, w, int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))))
    for h, w, kh, kw in shapes:
        image, kernel = rng.uniform(-1, 1, (h, w)), rng.uniform(-1, 1, (kh, kw))
        cases.append(
            _image_case(
                "convolve2d", suite, seed, (image, kernel), f"H{h}xW{w}-K{kh}x{kw}", h * w * kh * kw
            )
        )
    return cases


def _convolve2d_strided_suite(suite: str, seed: int) -> list[Case]:
    rng = _stable_rng(seed, "convolve2d_strided", suite)
    cases = []
    paddings = {"strided_valid": ["VALID"], "strided_same": ["SAME"], "hidden": ["VALID", "SAME"]}[
        suite
    ]
    count = 10 if suite == "hidden" else 7
    for i in range(count):
        padding = paddings[i % len(paddings)]
        h, w = int(rng.integers(3, 13)), int(rng.integers(3, 13))
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        if padding == "VALID":
            kh, kw = min(kh, h), min(kw, w)
        sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        stride: int | tuple[int, int] = sh if (sh == sw and i % 2) else (sh, sw)
        pad = _padding_form(rng, padding)
        image, kernel = rng.uniform(-1, 1, (h, w)), rng.uniform(-1, 1, (kh, kw))
        cases.append(
            _image_case(
                "convolve2d_strided",
                suite,
                seed,
                (image, kernel, stride, pad),
                f"H{h}xW{w}-K{kh}x{kw}-s{stride}-{pad}".replace(" ", ""),
                h * w * kh * kw,
            )
        )
    return cases


def _output_size_suite(suite: str, seed: int) -> list[Case]:
    rng = _stable_rng(seed, "output_size", suite)
    triples = [(4, 3, 1, "VALID"), (4, 3, 1, "SAME"), (5, 3, 2, "VALID"), (28, 5, 2, "SAME")]
    if suite == "hidden":
        triples = []
    while len(triples) < 12:
        n, f, s = int(rng.integers(1, 40)), int(rng.integers(1, 8)), int(rng.integers(1, 5))
        padding = "SAME" if rng.integers(2) else "VALID"
        if padding == "VALID" and f > n:
            continue
        triples.append((n, f, s, padding))
    cases = []
    for n, f, s, padding in triples:
        pad = _padding_form(rng, padding)
        cases.append(
            _image_case("output_size", suite, seed, (n, f, s, pad), f"in{n}-f{f}-s{s}-{pad}", n)
        )
    return cases


def _same_padding_suite(suite: str, seed: int) -> list[Case]:
    rng = _stable_rng(seed, "same_padding", suite)
    triples = [(4, 3, 1), (5, 2, 1), (7, 3, 2), (6, 1, 3), (3, 5, 1)] if suite != "hidden" else []
    while len(triples) < 10:
        triples.append((int(rng.integers(1, 30)), int(rng.integers(1, 8)), int(rng.integers(1, 5))))
    return [
        _image_case("same_padding", suite, seed, t, f"in{t[0]}-f{t[1]}-s{t[2]}", t[0])
        for t in triples
    ]


def _zero_pad_suite(suite: str, seed: int) -> list[Case]:
    rng = _stable_rng(seed, "zero_pad", suite)
    cases = []
    fixed = (
        [(3, 4, 1, 1, 1, 1), (2, 5, 0, 1, 0, 1), (4, 3, 0, 0, 0, 0)] if suite != "hidden" else []
    )
    while len(fixed) < 6:
        fixed.append(tuple(int(v) for v in rng.integers([1, 1, 0, 0, 0, 0], [8, 8, 4, 4, 4, 4])))
    for h, w, t, b, l, r in fixed:
        image = rng.uniform(-1, 1, (h, w))
        cases.append(
            _image_case(
                "zero_pad",
                suite,
                seed,
                (image, t, b, l, r),
                f"H{h}xW{w}-pad(t{t},b{b},l{l},r{r})",
                h * w,
            )
        )
    return cases


def _conv_matrix_suite(suite: str, seed: int) -> list[Case]:
    rng = _stable_rng(seed, "conv_matrix", suite)
    shapes = [(3, 3, 2, 2), (4, 4, 3, 3), (3, 5, 2, 3)] if suite != "hidden" else []
    while len(shapes) < 6:
        h, w = int(rng.integers(2, 8)), int(rng.integers(2, 8))
        shapes.append((h, w, int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))))
    cases = []
    for h, w, kh, kw in shapes:
        kernel = rng.uniform(-1, 1, (kh, kw))
        cases.append(
            _image_case(
                "conv_matrix", suite, seed, (kernel, h, w), f"H{h}xW{w}-K{kh}x{kw}", h * w * kh * kw
            )
        )
    return cases


# ----------------------------------------------------------------------------------------------
# Lab 04: tf.nn.conv2d calls on real-shaped batches


def _real_batch(name: str, count: int, start: int = 0) -> np.ndarray:
    """A few real images when the bundled data are there; shaped noise otherwise."""
    try:
        from convlab.data import load_cifar10, load_mnist

        # The loader's one-time "which source" note must not land in a graded cell's stderr.
        with contextlib.redirect_stderr(io.StringIO()):
            images, _ = (load_mnist if name == "mnist" else load_cifar10)("test")
        return np.asarray(images[start : start + count], dtype=np.float32)
    except Exception:  # the grader must not depend on the sample data to grade
        shape = (count, 28, 28, 1) if name == "mnist" else (count, 32, 32, 3)
        return np.random.default_rng(1).uniform(0, 1, shape).astype(np.float32)


def _tf_suite(checker: str, suite: str, seed: int) -> list[Case]:
    rng = _stable_rng(seed, checker, suite)
    if checker == "cifar_filter_shape":
        return [_image_case(checker, suite, seed, (), "no-arguments", 1)]
    name, cin = ("mnist", 1) if checker == "mnist_conv" else ("cifar", 3)
    cases = []
    # Hidden cases use other images (and other filters, from the hidden seed).
    start = 8 if suite == "hidden" else 0
    for count in (1, 3):
        images = _real_batch(name, count, start)
        filters = (rng.normal(0, 0.1, (5, 5, cin, 16))).astype(np.float32)
        label = f"{name}-N{count}-H{images.shape[1]}xW{images.shape[2]}-C{cin}to16-K5x5"
        cases.append(_image_case(checker, suite, seed, (images, filters), label, images.size))
    return cases


SuiteFn = Callable[[str, int], list[Case]]

_SUITE_MAKERS: dict[str, SuiteFn] = {
    "conv2d": _conv2d_suite,
    "apply_kernel": _apply_kernel_suite,
    "convolve2d": _convolve2d_suite,
    "convolve2d_strided": _convolve2d_strided_suite,
    "output_size": _output_size_suite,
    "same_padding": _same_padding_suite,
    "zero_pad": _zero_pad_suite,
    "conv_matrix": _conv_matrix_suite,
    "mnist_conv": lambda suite, seed: _tf_suite("mnist_conv", suite, seed),
    "cifar_conv": lambda suite, seed: _tf_suite("cifar_conv", suite, seed),
    "cifar_filter_shape": lambda suite, seed: _tf_suite("cifar_filter_shape", suite, seed),
}


def make_cases(checker: str, suite: str, seed: int) -> list[Case]:
    """The cases of one suite, deterministic in (checker, suite, seed), smallest first."""
    if checker not in _SUITE_MAKERS:
        raise KeyError(f"no cases for checker {checker!r}")
    try:
        cases = _SUITE_MAKERS[checker](suite, seed)
    except KeyError:
        raise KeyError(f"checker {checker!r} has no suite {suite!r}") from None
    ordered = sorted(cases, key=lambda c: c.size)  # stable: equal sizes keep generation order
    return [
        Case(c.checker, c.suite, c.seed, i, c.args, c.label, c.size, c.params)
        for i, c in enumerate(ordered)
    ]
