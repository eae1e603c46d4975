"""The oracle: any TensorFlow op on CPU in float64 (`tf_op`), imported lazily, results cached
per (suite, seed).

Or asked beforehand: `prepared` has a short-lived process compute every answer a submission's
grading needs, so the grader itself never imports TensorFlow (Gradescope, lab 04). Every op asked
through `tf_op` is recorded and replayed by its name and arguments; a reference that is not
float64 is refused (ReferenceDtypeError), never compared.

Layer: reference sits under runner and grade and beside exercise (it asks an exercise for its
answers); it imports nothing from runner, grade or sandbox.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import io
import json
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convlab import use_tf_environment
from convlab.geometry import normalize_strides

from .cases import Case
from .exercise import dumps_results, get_exercise, loads_results, make_cases

#: Bump when the meaning (or the file format) of a cached reference changes.
CACHE_VERSION = 2
_lock = threading.Lock()
_memory: dict[str, list[Any]] = {}
#: tf_op answers computed beforehand by `prepared` in a short-lived process, by call key.
_prepared: dict[str, Any] = {}
#: In that process, while it prepares: every tf_op answer (or error), by call key.
_recording: dict[str, Any] | None = None
#: Ops asked while answers were prepared but not among them (each said once on stderr).
_unprepared: set[str] = set()
#: How long the preparing process may take before grading goes on without it.
PREPARE_SECONDS = 300


@cache
def tensorflow() -> ModuleType:
    """TensorFlow, imported once, quietly and on the CPU only.

    The oneDNN lines TensorFlow prints on import go to stderr, and nbgrader gives a test cell that
    wrote to stderr zero points, so the log level is set before the import. oneDNN is switched
    off so the reference does not depend on the CPU model: its AVX-512 kernels abort the process
    on some malformed inputs and return garbage for a float32 VALID filter larger than the input.
    (It only takes effect when TensorFlow is not imported yet, as in the grader's own process.)
    """
    use_tf_environment()
    cwd = os.path.realpath(os.getcwd())
    # A student's `tensorflow.py` in the working directory must never shadow the oracle.
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.realpath(p) != cwd]
    try:
        import tensorflow as tf
    finally:
        sys.path[:] = saved
    tf.config.set_visible_devices([], "GPU")
    return tf


def tf_version() -> str:
    for dist in ("tensorflow-cpu", "tensorflow"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


class ReferenceDtypeError(TypeError):
    """The oracle answered in another dtype than float64: a reference is never compared then."""


def _tf_argument(value: Any) -> Any:
    """An op argument as TensorFlow gets it: arrays (and tensors) as float64 tensors, made
    deliberately (TensorFlow would pick a dtype of its own for some inputs), the rest as given."""
    if isinstance(value, np.ndarray | np.generic) or hasattr(value, "numpy"):
        return tensorflow().constant(np.asarray(value, dtype=np.float64), dtype="float64")
    return value


def _key_part(value: Any, arrays: list[NDArray[Any]]) -> Any:
    """`value` with every array replaced by its place, dtype and shape (the bytes go separately)."""
    if isinstance(value, np.ndarray):
        arrays.append(np.ascontiguousarray(value))
        return ("array", len(arrays) - 1, str(value.dtype), value.shape)
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(_key_part(v, arrays) for v in value))
    if isinstance(value, np.generic):
        return value.item()
    return value


def _call_key(op: str, args: Sequence[Any], kwargs: dict[str, Any]) -> str:
    """One tf_op call by content: the op's name, every argument (arrays by dtype, shape and
    bytes, everything else by repr), keyword arguments by name."""
    arrays: list[NDArray[Any]] = []
    shape = (op, _key_part(tuple(args), arrays), sorted(kwargs))
    shape += tuple(_key_part(kwargs[k], arrays) for k in sorted(kwargs))
    h = hashlib.sha256(repr(shape).encode())
    for a in arrays:
        h.update(a.tobytes())
    return h.hexdigest()


def _op_name(op: str) -> str:
    return op.removeprefix("tf.")


def tf_op(op: str, *args: Any, **kwargs: Any) -> NDArray[np.float64]:
    """TensorFlow's `op` ("nn.conv2d", "tf.nn.max_pool2d", any dotted name under `tf`) on the
    CPU, its array arguments as float64 tensors, its answer a float64 ndarray.

    Array arguments are cast to float64 here (never left to TensorFlow's own choice); an op that
    still answers in another dtype raises ReferenceDtypeError. Within `prepared`, the answer is
    replayed from the preparing process (by the op's name and arguments), and TensorFlow is not
    imported here; while preparing, every call is recorded.
    """
    name = _op_name(op)
    args = tuple(np.asarray(a, dtype=np.float64) if isinstance(a, np.ndarray) else a for a in args)
    key = _call_key(name, args, kwargs) if (_prepared or _recording is not None) else ""
    if key in _prepared:
        return _replay(_prepared[key])
    if _prepared and name not in _unprepared:
        _unprepared.add(name)
        print(
            f"note: tf.{name} was asked with arguments that were not prepared beforehand; "
            "computing it with TensorFlow in the grader",
            file=sys.stderr,
        )
    try:
        result = _compute(name, args, kwargs)
    except Exception as error:
        if _recording is not None:
            _recording[key] = _Raised(error)
        raise
    if _recording is not None:
        _recording[key] = result.copy()
    return result


def _compute(name: str, args: Sequence[Any], kwargs: dict[str, Any]) -> NDArray[np.float64]:
    tf = tensorflow()
    fn = functools.reduce(getattr, name.split("."), tf)
    with tf.device("/CPU:0"):
        out = fn(
            *(_tf_argument(a) for a in args), **{k: _tf_argument(v) for k, v in kwargs.items()}
        )
    result = np.asarray(out.numpy() if hasattr(out, "numpy") else out)
    if result.dtype != np.float64:
        raise ReferenceDtypeError(
            f"tf.{name} answered in {result.dtype} for float64 inputs; a reference must be "
            "float64 (cast the op's inputs, or compute the reference another way)"
        )
    return result


def tf_conv2d(
    inputs: NDArray[Any],
    filters: NDArray[Any],
    strides: int | list[int] | tuple[int, ...],
    padding: str | list[list[int]],
) -> NDArray[np.float64]:
    """tf.nn.conv2d in float64 on CPU: inputs NHWC, filters HWIO, cross-correlation.

    `padding` is "SAME"/"VALID" in any case, or explicit [[top, bottom], [left, right]].
    """
    sh, sw = normalize_strides(list(strides) if isinstance(strides, tuple) else strides)
    if isinstance(padding, str):
        pad: Any = padding.upper()
    else:
        (top, bottom), (left, right) = padding
        pad = [[0, 0], [int(top), int(bottom)], [int(left), int(right)], [0, 0]]
    x = np.asarray(inputs, dtype=np.float64)
    w = np.asarray(filters, dtype=np.float64)
    if x.shape[-1] != w.shape[2]:
        # tf.nn.conv2d would silently run a grouped convolution; the oracle never does.
        raise ValueError(f"input channels {x.shape[-1]} != filter in_channels {w.shape[2]}")
    return tf_op("nn.conv2d", x, w, [1, int(sh), int(sw), 1], pad)


def tf_conv2d_single(
    image: NDArray[Any],
    kernel: NDArray[Any],
    strides: int | list[int] | tuple[int, ...] = 1,
    padding: str | list[list[int]] = "VALID",
) -> NDArray[np.float64]:
    """tf.nn.conv2d of one single-channel 2-D image with one 2-D kernel; returns 2-D."""
    out = tf_conv2d(
        np.asarray(image, float)[None, :, :, None],
        np.asarray(kernel, float)[:, :, None, None],
        strides,
        padding,
    )
    return out[0, :, :, 0]


def tf_output_size(in_size: int, filter_size: int, stride: int, padding: str) -> int:
    """Output length along one axis, read off the shape tf.nn.conv2d returns."""
    out = tf_conv2d(np.zeros((1, in_size, 1, 1)), np.zeros((filter_size, 1, 1, 1)), stride, padding)
    return int(out.shape[1])


def tf_same_padding(in_size: int, filter_size: int, stride: int) -> tuple[int, int]:
    """(before, after) zeros TensorFlow adds for SAME, found by matching explicit paddings.

    The smallest total padding whose explicit-padding convolution equals SAME's output, on an input
    that tells every position apart; this asks TensorFlow rather than restating its rule.
    """
    rng = np.random.default_rng(in_size * 1000 + filter_size * 10 + stride)
    x = rng.uniform(1, 2, (1, in_size, 1, 1))
    w = rng.uniform(1, 2, (filter_size, 1, 1, 1))
    same = tf_conv2d(x, w, stride, "SAME")
    for total in range(2 * filter_size + 1):
        for before in range(total + 1):
            try:
                out = tf_conv2d(x, w, stride, [[before, total - before], [0, 0]])
            except Exception:  # explicit padding that leaves no valid window
                continue
            if out.shape == same.shape and np.allclose(out, same, rtol=0, atol=1e-12):
                return before, total - before
    raise AssertionError(f"no explicit padding reproduces SAME for {in_size, filter_size, stride}")


def tf_conv_matrix(kernel: NDArray[Any], in_h: int, in_w: int) -> NDArray[np.float64]:
    """The (out_h*out_w, in_h*in_w) matrix of a VALID stride-1 convolution: TF on basis images."""
    basis = np.eye(in_h * in_w).reshape(in_h * in_w, in_h, in_w, 1)
    out = tf_conv2d(basis, np.asarray(kernel, float)[:, :, None, None], 1, "VALID")
    return out.reshape(in_h * in_w, -1).T


def _expected(case: Case) -> Any:
    """The right answer for one case, from the case's exercise."""
    return get_exercise(case.exercise).reference(case.args)


def _case_digest(cases: list[Case]) -> str:
    h = hashlib.sha256(f"v{CACHE_VERSION}/tf{tf_version()}".encode())
    for case in cases:
        h.update(f"|{case.exercise}|{case.label}|".encode())
        for arg in case.args:
            h.update(
                np.asarray(arg).tobytes() if isinstance(arg, np.ndarray) else repr(arg).encode()
            )
    return h.hexdigest()[:32]


def cache_dir() -> Path:
    """Where references are cached: $CONVLAB_CACHE_DIR, else ~/.cache/convlab/reference."""
    env = os.environ.get("CONVLAB_CACHE_DIR")
    base = Path(env) if env else Path.home() / ".cache" / "convlab"
    return base / "reference"


def _load(path: Path, n: int) -> list[Any] | None:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = [npz[f"a{i}"] for i in range(int(npz["count"]))]
            values = loads_results(str(npz["spec"]), arrays)
    except Exception:  # a missing, corrupt or old-format entry is recomputed, never trusted
        return None
    return values if len(values) == n else None


def _save(path: Path, values: list[Any]) -> None:
    spec, arrays = dumps_results(values)
    buf = io.BytesIO()
    np.savez(
        buf, spec=np.array(spec), count=np.array(len(arrays)),
        **{f"a{i}": a for i, a in enumerate(arrays)},
    )  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)  # atomic: a reader sees the old entry or the new one, never half


def expected_outputs(cases: list[Case], *, use_disk: bool = True) -> list[Any]:
    """The oracle's answer for every case: from memory, else the disk cache, else TensorFlow."""
    if not cases:
        return []
    key = f"{cases[0].exercise}-{cases[0].suite}-{cases[0].seed}-{_case_digest(cases)}"
    with _lock:
        if key in _memory:
            return _memory[key]
        path = cache_dir() / f"{key}.npz"
        values = _load(path, len(cases)) if use_disk and path.exists() else None
        if values is None:
            values = [_expected(c) for c in cases]
            if use_disk:
                try:
                    _save(path, values)
                except (OSError, TypeError):
                    pass  # a read-only home (or an unstorable result) still grades, uncached
        _memory[key] = values
        return values


@dataclass(frozen=True)
class GraderError:
    """The reference could not be computed for one case."""

    error: BaseException


def expected_or_errors(cases: list[Case]) -> list[Any]:
    """The reference answers; a case whose reference raises gets a GraderError in its place."""
    try:
        return expected_outputs(cases)
    except Exception:
        pass
    out: list[Any] = []
    for case in cases:
        try:
            out.append(expected_outputs([case], use_disk=False)[0])
        except Exception as error:
            out.append(GraderError(error))
    return out


# ----------------------------------------------------------------------------------------------
# Prepared answers: TensorFlow asked beforehand, in a process that exits before student code runs
#
# Grading a submission asks TensorFlow only through tf_op (the cases of some suites, the
# references, the named-mistake variants), and always with arguments that depend on the suite's
# seed alone, never on what the student returns. So every answer can be computed before the
# first worker starts, by a trusted child that imports TensorFlow, computes and exits; the
# grader then replays them without importing TensorFlow itself. A lab whose workers import
# TensorFlow (lab 04) then holds one copy of it at a time instead of two. A call that was not
# prepared (an exercise that asks TensorFlow about the student's answer) still gets its answer,
# from TensorFlow imported here: slower and larger, never different.


class _Raised:
    """An error tf_op raised while preparing, raised again here without TensorFlow: the same
    class for Python's own exceptions, else a stand-in with the same name and message (a grader
    message quotes `type(error).__name__: error`)."""

    def __init__(self, error: BaseException) -> None:
        kind = type(error)
        self.module, self.name, self.text = kind.__module__, kind.__name__, str(error)
        simple = all(isinstance(a, str | int | float) for a in error.args)
        self.args = tuple(error.args) if simple else (self.text,)

    def error(self) -> Exception:
        import builtins

        kind = getattr(builtins, self.name, None) if self.module == "builtins" else None
        if isinstance(kind, type) and issubclass(kind, Exception):
            try:
                return kind(*self.args)
            except Exception:
                pass
        stand_in = type(self.name, (Exception,), {"__module__": self.module})
        return stand_in(self.text)


def _replay(value: Any) -> NDArray[np.float64]:
    if isinstance(value, _Raised):
        raise value.error()
    return np.array(value)  # a copy: callers may write into what tf_op returns


def prepare_here(requests: Sequence[tuple[str, str, int]]) -> dict[str, Any]:
    """What grading these (exercise, suite, seed) suites asks TensorFlow, computed in this
    process: every tf_op answer (making the cases, their references and, for each case, the
    exercise's named mistakes) and the references by `expected_outputs` key."""
    global _recording
    _recording = {}
    try:
        for exercise, suite, seed in requests:
            cases = make_cases(exercise, suite, seed)
            expected = expected_or_errors(cases)
            ex = get_exercise(exercise)
            for case, exp in zip(cases, expected, strict=True):
                if not isinstance(exp, GraderError):
                    with contextlib.suppress(Exception):  # checks contain it the same way
                        ex.mistakes(case.args)
        with _lock:
            return {"calls": _recording, "expected": dict(_memory)}
    finally:
        _recording = None


def _child() -> None:
    """The preparing process: requests as JSON on stdin, the answers pickled on stdout."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed while preparing goes to stderr, never into the answer
    request = json.loads(sys.stdin.buffer.read())
    data = prepare_here([(str(e), str(s), int(n)) for e, s, n in request])
    out.write(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    out.close()


def _prepare_in_child(requests: Sequence[tuple[str, str, int]]) -> dict[str, Any] | None:
    """prepare_here in a fresh process of this Python and this autograder; None if it fails."""
    root = str(Path(__file__).resolve().parents[1])
    code = (
        f"import sys; sys.path[0] = {root!r}; "  # this autograder, never the working directory's
        "from autograder.reference import _child; _child()"
    )
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            input=json.dumps([list(r) for r in requests]).encode(),
            stdout=subprocess.PIPE,
            timeout=PREPARE_SECONDS,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"it exited with status {proc.returncode}")
        # Trusted: our own child, over a pipe, and it exited before any student code started.
        data = pickle.loads(proc.stdout)
        if not (isinstance(data.get("calls"), dict) and isinstance(data.get("expected"), dict)):
            raise RuntimeError("it answered something else")
        return data
    except Exception as error:  # grading goes on, asking TensorFlow here
        print(
            f"note: the references could not be prepared beforehand ({type(error).__name__}: "
            f"{error}); computing them in the grader",
            file=sys.stderr,
        )
        return None


@contextlib.contextmanager
def prepared(requests: Sequence[tuple[str, str, int]]) -> Iterator[bool]:
    """Within: tf_op and expected_outputs answer these suites without importing TensorFlow.

    Everything grading the (exercise, suite, seed) `requests` asks TensorFlow is computed first
    by a short-lived process of its own (see prepare_here), which has exited when this yields:
    True when it worked, False when grading must ask TensorFlow here after all.
    """
    data = _prepare_in_child(list(dict.fromkeys(requests)))
    if data is None:
        yield False
        return
    with _lock:
        for key, values in data["expected"].items():
            _memory.setdefault(key, values)
    _prepared.update(data["calls"])
    try:
        yield True
    finally:
        for key in data["calls"]:
            _prepared.pop(key, None)
