"""Time the reference conv2d solutions (naive loops, vectorized) against tf.nn.conv2d on CPU."""

from __future__ import annotations

import argparse
import ctypes
import glob
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow loads: no C++ start-up logs

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FAST_NOTEBOOK = REPO / "solutions" / "05_fast_conv2d" / "05_fast_conv2d.ipynb"
NAIVE_NOTEBOOK = REPO / "solutions" / "03_filter_banks" / "03_filter_banks.ipynb"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")

#: How many times slower than tf.nn.conv2d the vectorized solution may be, per shape.
MNIST_TARGET_RATIO = 2.0
OTHER_TARGET_RATIO = 3.0
DEFAULT_REPEATS = 20
QUICK_REPEATS = 3
SEED = 0


@dataclass(frozen=True)
class Shape:
    """One benchmark case: NHWC inputs, HWIO filters, stride, padding, target ratio to TF."""

    name: str
    inputs: tuple[int, int, int, int]
    filters: tuple[int, int, int, int]
    stride: int
    padding: str
    target_ratio: float
    naive_images: int  # the naive loops run on this many images; their time is scaled per image

    @property
    def label(self) -> str:
        dims = ("x".join(map(str, self.inputs)), "x".join(map(str, self.filters)))
        return f"({dims[0]})*({dims[1]}) s{self.stride} {self.padding}"


SHAPES = (
    Shape("MNIST", (64, 28, 28, 1), (5, 5, 1, 16), 2, "SAME", MNIST_TARGET_RATIO, 4),
    Shape("CIFAR", (64, 32, 32, 3), (5, 5, 3, 16), 1, "SAME", OTHER_TARGET_RATIO, 2),
    Shape("deep", (16, 64, 64, 32), (3, 3, 32, 64), 1, "SAME", OTHER_TARGET_RATIO, 1),
)


@dataclass(frozen=True)
class Row:
    """Measured results for one shape; seconds are for the whole batch."""

    shape: Shape
    macs: int
    tf_seconds: float
    fast_seconds: float
    best_ratio: float  # fastest conv2d_fast call / fastest tf call: less sensitive to other load
    naive_seconds: float | None
    fast_error: float
    naive_error: float | None

    @property
    def ratio(self) -> float:
        return self.fast_seconds / self.tf_seconds

    @property
    def passed(self) -> bool:
        return self.ratio <= self.shape.target_ratio


def solution_function(notebook: Path, grade_id: str, name: str) -> Callable[..., Any]:
    """Exec the nbgrader solution cell `grade_id` of `notebook` (markers stripped); return `name`.

    The benchmark measures the reference solution itself, never a copy that could drift from it.
    """
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    if len(cells) != 1:
        raise SystemExit(
            f"{notebook}: expected one cell with grade_id {grade_id!r}, found {len(cells)}"
        )
    source = "\n".join(
        line for line in cells[0].source.splitlines() if line.strip() not in SOLUTION_MARKERS
    )
    namespace: dict[str, Any] = {"np": np, "__name__": f"solution_{grade_id}"}
    exec(compile(source, f"{notebook.name}:{grade_id}", "exec"), namespace)  # noqa: S102
    return namespace[name]


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """(median, fastest) wall time of fn() over `repeats` calls, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def openblas_threads() -> str:
    """numpy's OpenBLAS thread count, read from the library itself when possible."""
    libs = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for lib in glob.glob(str(libs / "*openblas*")):
        handle = ctypes.CDLL(lib)
        for symbol in (
            "scipy_openblas_get_num_threads64_",
            "openblas_get_num_threads64_",
            "openblas_get_num_threads",
        ):
            if hasattr(handle, symbol):
                return str(getattr(handle, symbol)())
    return f"unknown (OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')})"


def load_average() -> str:
    """The 1-minute load average and the core count, to judge how noisy the timings are."""
    try:
        return f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    except OSError:
        return "unavailable"


def measure(
    shape: Shape,
    tf: Any,
    fast: Callable[..., NDArray[Any]],
    naive: Callable[..., NDArray[Any]] | None,
    repeats: int,
    rng: np.random.Generator,
) -> Row:
    x = rng.random(shape.inputs, dtype=np.float32)
    f = (rng.standard_normal(shape.filters) * 0.1).astype(np.float32)
    x_tf, f_tf = tf.constant(x), tf.constant(f)

    def run_tf() -> NDArray[Any]:
        return tf.nn.conv2d(x_tf, f_tf, shape.stride, shape.padding).numpy()

    reference = run_tf()
    n, oh, ow, cout = reference.shape
    fh, fw, cin, _ = shape.filters
    macs = n * oh * ow * fh * fw * cin * cout

    tf_seconds, tf_best = timed(run_tf, repeats)
    fast_seconds, fast_best = timed(lambda: fast(x, f, shape.stride, shape.padding), repeats)
    fast_error = float(np.abs(fast(x, f, shape.stride, shape.padding) - reference).max())

    naive_seconds = naive_error = None
    if naive is not None:
        k = shape.naive_images
        sub = x[:k]
        naive_repeats = 1 if repeats <= QUICK_REPEATS else 3
        per_image = timed(lambda: naive(sub, f, shape.stride, shape.padding), naive_repeats)[0] / k
        naive_seconds = per_image * shape.inputs[0]
        naive_error = float(
            np.abs(naive(sub, f, shape.stride, shape.padding) - reference[:k]).max()
        )
    return Row(
        shape,
        macs,
        tf_seconds,
        fast_seconds,
        fast_best / tf_best,
        naive_seconds,
        fast_error,
        naive_error,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"timed calls per measurement, median reported (default {DEFAULT_REPEATS}, "
        f"{QUICK_REPEATS} with --quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats and the naive loops on one image per shape",
    )
    parser.add_argument("--no-naive", action="store_true", help="skip the naive loop version")
    args = parser.parse_args(argv)
    repeats = args.repeats or (QUICK_REPEATS if args.quick else DEFAULT_REPEATS)
    if repeats < 1:
        parser.error("--repeats must be at least 1")

    fast = solution_function(FAST_NOTEBOOK, "conv2d_fast", "conv2d_fast")
    naive = None if args.no_naive else solution_function(NAIVE_NOTEBOOK, "conv2d", "conv2d")

    import tensorflow as tf

    shapes = SHAPES
    if args.quick:
        shapes = tuple(
            Shape(s.name, s.inputs, s.filters, s.stride, s.padding, s.target_ratio, 1)
            for s in SHAPES
        )

    print("conv2d benchmark: float32, CPU, batch shapes NHWC x filters HWIO")
    print(f"  vectorized: conv2d_fast from {FAST_NOTEBOOK.relative_to(REPO)} (solution cell)")
    print(
        f"  naive:      conv2d from {NAIVE_NOTEBOOK.relative_to(REPO)} (solution cell; loops, "
        "computes in float64)"
        if naive
        else "  naive:      skipped (--no-naive)"
    )
    print(
        f"  python {platform.python_version()}, numpy {np.__version__}, "
        f"tensorflow {tf.__version__}, "
        f"{os.cpu_count()} CPU cores, {platform.machine()}"
    )
    intra = tf.config.threading.get_intra_op_parallelism_threads()
    inter = tf.config.threading.get_inter_op_parallelism_threads()
    print(
        f"  threads: TensorFlow intra-op {intra or f'auto (= {os.cpu_count()})'}, inter-op "
        f"{inter or 'auto'}; numpy OpenBLAS {openblas_threads()} "
        f"(both run multi-threaded as configured; nothing is pinned to one thread)"
    )
    print(f"  each time is the median of {repeats} calls after one warm-up call; seed {SEED}")
    print(
        f"  load average before: {load_average()} (other processes on the cores inflate every time)"
    )
    print()

    rng = np.random.default_rng(SEED)
    rows = [measure(s, tf, fast, naive, repeats, rng) for s in shapes]

    header = (
        f"{'shape':38s} {'MMACs':>7s} {'tf ms':>8s} {'fast ms':>8s} {'fast/tf':>7s} "
        f"{'naive ms':>10s} {'naive/tf':>9s} {'err fast':>9s} {'err naive':>9s}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        naive_ms = (
            f"{r.naive_seconds * 1e3:10.0f}" if r.naive_seconds is not None else f"{'-':>10s}"
        )
        naive_ratio = (
            f"{r.naive_seconds / r.tf_seconds:9.0f}"
            if r.naive_seconds is not None
            else f"{'-':>9s}"
        )
        naive_err = f"{r.naive_error:9.1e}" if r.naive_error is not None else f"{'-':>9s}"
        print(
            f"{r.shape.name + ' ' + r.shape.label:38s} {r.macs / 1e6:7.1f} "
            f"{r.tf_seconds * 1e3:8.2f} "
            f"{r.fast_seconds * 1e3:8.2f} {r.ratio:7.2f} {naive_ms} {naive_ratio} "
            f"{r.fast_error:9.1e} {naive_err}"
        )
    if naive is not None:
        subs = ", ".join(f"{s.name} {s.naive_images}" for s in shapes)
        print(
            f"naive: timed on a sub-batch of images ({subs}) and scaled per image to the full batch"
        )
    print("err: max |result - tf.nn.conv2d| on the same float32 inputs")
    print()
    for r in rows:
        verdict = "PASS" if r.passed else "MISS"
        print(
            f"{verdict} {r.shape.name}: conv2d_fast is {r.ratio:.2f}x tf.nn.conv2d "
            f"(target <= {r.shape.target_ratio:g}x; fastest-call ratio {r.best_ratio:.2f}x)"
        )
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
