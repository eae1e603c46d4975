"""Load MNIST and CIFAR-10 as float32 NHWC arrays: the full sets when on disk, else a sample."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CIFAR10_CLASSES",
    "DataError",
    "DatasetInfo",
    "bundle_dir",
    "dataset_info",
    "load_cifar10",
    "load_mnist",
]

logger = logging.getLogger("convlab.data")

CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

SPLITS = ("train", "test")
# Environment variables: a folder with the full datasets in Keras's cache layout, and a folder
# replacing the bundled data/ (for installs where data/ does not sit next to the package).
ENV_DATA_DIR = "CONVLAB_DATA_DIR"
ENV_BUNDLE_DIR = "CONVLAB_BUNDLE_DIR"

_MNIST_FILE = "mnist.npz"
_MNIST_BUNDLE = "mnist_sample.npz"
_CIFAR_BUNDLE = "cifar10_sample.npz"
# Keras 2 / tf.keras extract to cifar-10-batches-py/; Keras 3 to cifar-10-batches-py-target/...
_CIFAR_DIRS = ("cifar-10-batches-py", "cifar-10-batches-py-target/cifar-10-batches-py")
_CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST_FILES = ("test_batch",)

_FULL_SIZE = {("mnist", "train"): 60000, ("mnist", "test"): 10000}
_FULL_SIZE |= {("cifar10", "train"): 50000, ("cifar10", "test"): 10000}
_TITLE = {"mnist": "MNIST", "cifar10": "CIFAR-10"}
_IMAGE_SHAPE = {"mnist": (28, 28), "cifar10": (32, 32, 3)}

_BUNDLE_FIX = (
    "restore it with `git checkout data/` or rebuild it with `python data/build_data.py` "
    "(data/README.md)"
)


class DataError(RuntimeError):
    """A dataset file is missing or damaged; the message names the file and the fix."""


@dataclass(frozen=True)
class DatasetInfo:
    """Where one split came from.

    source is one of "data_dir", "CONVLAB_DATA_DIR", "keras cache", "keras download",
    "bundled sample"; path is the file or folder read (None after a download); n_images is how
    many images were returned and n_full how many the full split has; note flags a substitution
    (CIFAR-10 train served from the bundled test images).
    """

    name: str
    split: str
    source: str
    path: Path | None
    n_images: int
    n_full: int
    note: str = ""

    @property
    def complete(self) -> bool:
        """Whether this is the whole split rather than a sample."""
        return self.n_images == self.n_full and not self.note

    def message(self) -> str:
        """One line for a student: dataset, split, source and how much of it."""
        head = f"convlab.data: {_TITLE[self.name]} {self.split} from {self.source}"
        where = f" {self.path}" if self.path is not None and self.source != "bundled sample" else ""
        if self.note:
            return f"{head}{where}: {self.note}"
        if self.complete:
            return f"{head}{where} ({self.n_images} images)"
        return (
            f"{head}{where} ({self.n_images} of {self.n_full} images; "
            "data/README.md says how to use the full set)"
        )


def bundle_dir() -> Path:
    """The folder holding the bundled samples: $CONVLAB_BUNDLE_DIR, else the repo's data/."""
    override = os.environ.get(ENV_BUNDLE_DIR)
    # parents[1] is the repo root under the editable install (`pip install -e .`).
    return Path(override) if override else Path(__file__).resolve().parents[1] / "data"


def load_mnist(
    split: str = "train", *, download: bool = False, data_dir: str | os.PathLike[str] | None = None
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """MNIST digits in the original file order.

    Returns images float32 (N, 28, 28, 1) NHWC scaled to [0, 1] and labels int64 (N,) in 0..9.
    Source order: data_dir (must hold mnist.npz), $CONVLAB_DATA_DIR, the Keras cache
    (~/.keras/datasets/mnist.npz), a Keras download when download=True, else the bundled sample
    (first 5000 train / 2000 test digits). The arrays are fresh copies, safe to modify.
    """
    x, y, _ = _load("mnist", split, download, data_dir)
    return (x.astype(np.float32) / np.float32(255))[..., np.newaxis], y.astype(np.int64)


def load_cifar10(
    split: str = "train", *, download: bool = False, data_dir: str | os.PathLike[str] | None = None
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """CIFAR-10 images in the original file order; class names are CIFAR10_CLASSES[label].

    Returns images float32 (N, 32, 32, 3) NHWC RGB scaled to [0, 1] and labels int64 (N,).
    Source order as load_mnist (Keras layout: cifar-10-batches-py/ with data_batch_1..5 and
    test_batch). The bundled sample holds only the first 20 TEST images: split="train" without
    the full set returns those 20 test images with a warning, so a demo notebook still runs.
    """
    x, y, _ = _load("cifar10", split, download, data_dir)
    return x.astype(np.float32) / np.float32(255), y.astype(np.int64)


def dataset_info(
    name: str,
    split: str = "train",
    *,
    download: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
) -> DatasetInfo:
    """Which source load_mnist / load_cifar10 would use (name "mnist" or "cifar10"), and sizes."""
    if name not in _TITLE:
        raise ValueError(f"name must be one of {sorted(_TITLE)}, got {name!r}")
    return _load(name, split, download, data_dir)[2]


# --- source resolution -------------------------------------------------------------------------


def _load(
    name: str, split: str, download: bool, data_dir: str | os.PathLike[str] | None
) -> tuple[NDArray[np.uint8], NDArray[np.integer], DatasetInfo]:
    """Resolve the source, read (cached, read-only) uint8 images and labels, announce once."""
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    found = _from_disk(name, split, data_dir)
    if found is None and download:
        found = _from_keras_download(name, split)
    if found is None:
        found = _from_bundle(name, split)
    x, y, source, path, note = found
    info = DatasetInfo(name, split, source, path, len(y), _FULL_SIZE[name, split], note)
    _announce(info)
    return x, y, info


_Found = tuple[NDArray[np.uint8], NDArray[np.integer], str, Path | None, str]


def _keras_home() -> Path:
    """Keras's cache root, as Keras computes it: $KERAS_HOME or ~/.keras."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def _from_disk(name: str, split: str, data_dir: str | os.PathLike[str] | None) -> _Found | None:
    """The full split from data_dir (required there), $CONVLAB_DATA_DIR or the Keras cache."""
    roots: list[tuple[str, Path, bool]] = []
    if data_dir is not None:
        roots.append(("data_dir", Path(data_dir), True))
    if os.environ.get(ENV_DATA_DIR):
        roots.append((ENV_DATA_DIR, Path(os.environ[ENV_DATA_DIR]), False))
    roots.append(("keras cache", _keras_home() / "datasets", False))
    for source, root, required in roots:
        if name == "mnist":
            path = root / _MNIST_FILE
            if path.is_file():
                x, y = _read_mnist_npz(path, _stamp(path), split, bundled=False)
                return x, y, source, path, ""
            layout = "mnist.npz with x_train, y_train, x_test, y_test"
        else:
            files = _CIFAR_TRAIN_FILES if split == "train" else _CIFAR_TEST_FILES
            for sub in _CIFAR_DIRS:
                folder = root / sub
                if all((folder / f).is_file() for f in files):
                    stamps = tuple(_stamp(folder / f) for f in files)
                    x, y = _read_cifar_batches(folder, files, stamps)
                    return x, y, source, folder, ""
            layout = "cifar-10-batches-py/ with data_batch_1..5 and test_batch"
        if required:
            raise DataError(f"{root} has no {_TITLE[name]} {split} data; expected {layout}")
        logger.debug("%s: no %s %s data in %s", source, name, split, root)
    return None


_downloaded: dict[str, tuple[NDArray[Any], ...]] = {}


def _from_keras_download(name: str, split: str) -> _Found:
    """Download through Keras (imported only here: it pulls in TensorFlow and the network)."""
    if name not in _downloaded:
        try:
            import keras
        except ImportError as e:
            raise DataError(
                "download=True needs Keras (`pip install tensorflow-cpu`); without it, put the "
                f"files in ~/.keras/datasets or ${ENV_DATA_DIR} (data/README.md)"
            ) from e
        loader: Callable[[], Any] = getattr(keras.datasets, name).load_data
        try:
            (x_train, y_train), (x_test, y_test) = loader()
        except Exception as e:
            raise DataError(
                f"downloading {_TITLE[name]} through Keras failed ({e}); check the internet "
                "connection, or use the bundled sample with download=False"
            ) from e
        _downloaded[name] = (x_train, y_train, x_test, y_test)
    x_train, y_train, x_test, y_test = _downloaded[name]
    x, y = (x_train, y_train) if split == "train" else (x_test, y_test)
    x = np.asarray(x)
    if name == "cifar10" and x.ndim == 4 and x.shape[1] == 3:
        x = x.transpose(0, 2, 3, 1)  # Keras honours image_data_format="channels_first"
    x, y = _validated(name, x, np.asarray(y).reshape(-1), "the Keras download", "")
    return x, y, "keras download", None, ""


def _from_bundle(name: str, split: str) -> _Found:
    """The committed sample; CIFAR-10 has only test images, served for train with a warning."""
    path = bundle_dir() / (_MNIST_BUNDLE if name == "mnist" else _CIFAR_BUNDLE)
    if not path.is_file():
        raise DataError(f"bundled sample {path} is missing; {_BUNDLE_FIX}")
    if name == "mnist":
        x, y = _read_mnist_npz(path, _stamp(path), split, bundled=True)
        return x, y, "bundled sample", path, ""
    x, y = _read_cifar_bundle(path, _stamp(path))
    note = ""
    if split == "train":
        note = (
            f"no training images are bundled, so these are the {len(y)} TEST images "
            "(fine for demos, not for training; data/README.md says how to get the full set)"
        )
    return x, y, "bundled sample", path, note


_announced: set[tuple[str, str, str, str]] = set()


def _announce(info: DatasetInfo) -> None:
    """Log every load; say it once per dataset, split and source in this process.

    On stdout: it is a note, not an error (JupyterLab draws stderr as a pink error box).
    """
    logger.info(info.message())
    key = (info.name, info.split, info.source, str(info.path))
    if key in _announced:
        return
    _announced.add(key)
    print(info.message())
    if info.note:
        warnings.warn(info.message(), UserWarning, stacklevel=4)


# --- cached readers: return read-only uint8 arrays; the stamp invalidates on file change -------


def _stamp(path: Path) -> tuple[str, int, int]:
    """(resolved path, mtime_ns, size): the cache key, so an edited file is read again."""
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _readonly(*arrays: NDArray[Any]) -> tuple[NDArray[Any], ...]:
    """Freeze cached arrays so no caller can change what the next caller gets."""
    for a in arrays:
        a.flags.writeable = False
    return arrays


def _validated(
    name: str, x: NDArray[Any], y: NDArray[Any], where: str, fix: str
) -> tuple[NDArray[np.uint8], NDArray[np.integer]]:
    """Check dtype, image shape, label count and range; DataError naming where and the fix."""
    shape = _IMAGE_SHAPE[name]
    problem = ""
    if x.dtype != np.uint8 or x.shape[1:] != shape:
        dims = ", ".join(map(str, shape))
        problem = f"images are {x.dtype} {x.shape}, expected uint8 (N, {dims})"
    elif y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
        problem = f"labels are {y.dtype} {y.shape}, expected {len(x)} integers"
    elif len(y) and (y.min() < 0 or y.max() > 9):
        problem = f"labels span {y.min()}..{y.max()}, expected 0..9"
    if problem:
        raise DataError(f"{where}: {problem}" + (f"; {fix}" if fix else ""))
    return x, y


def _expected_sha(path: Path) -> str | None:
    """The file's sum from SHA256SUMS beside it, None when that file does not list it."""
    sums = path.parent / "SHA256SUMS"
    if not sums.is_file():
        return None
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == path.name:
            return parts[0]
    return None


def _open_npz(path: Path, bundled: bool, keys: tuple[str, ...]) -> dict[str, NDArray[Any]]:
    """Read the named arrays; sha check for bundled files; any decode failure is a DataError."""
    fix = _BUNDLE_FIX if bundled else "delete it and load with download=True, or replace it"
    if bundled:
        want = _expected_sha(path)
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if want is not None and got != want:
            raise DataError(f"{path}: SHA-256 {got[:12]}... does not match SHA256SUMS; {fix}")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in keys if k not in f.files]
            if missing:
                raise DataError(f"{path}: no {', '.join(missing)} in the file; {fix}")
            return {k: f[k] for k in keys}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DataError(f"{path}: cannot read it ({type(e).__name__}: {e}); {fix}") from e


@functools.lru_cache(maxsize=8)
def _read_mnist_npz(
    path: Path, stamp: tuple[str, int, int], split: str, bundled: bool
) -> tuple[NDArray[np.uint8], NDArray[np.integer]]:
    """One split of a Keras-layout mnist.npz: uint8 (N, 28, 28), integer labels (N,)."""
    key = "train" if split == "train" else "test"
    arrays = _open_npz(path, bundled, (f"x_{key}", f"y_{key}"))
    fix = _BUNDLE_FIX if bundled else "delete or replace it"
    x, y = _validated("mnist", arrays[f"x_{key}"], arrays[f"y_{key}"], str(path), fix)
    return _readonly(x, y)  # type: ignore[return-value]


@functools.lru_cache(maxsize=2)
def _read_cifar_bundle(
    path: Path, stamp: tuple[str, int, int]
) -> tuple[NDArray[np.uint8], NDArray[np.integer]]:
    """The bundled CIFAR-10 test images: uint8 (20, 32, 32, 3), integer labels (20,)."""
    arrays = _open_npz(path, True, ("x_test", "y_test"))
    x, y = _validated("cifar10", arrays["x_test"], arrays["y_test"], str(path), _BUNDLE_FIX)
    return _readonly(x, y)  # type: ignore[return-value]


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays only: a batch file must not run code."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


@functools.lru_cache(maxsize=2)
def _read_cifar_batches(
    folder: Path, files: tuple[str, ...], stamps: tuple[tuple[str, int, int], ...]
) -> tuple[NDArray[np.uint8], NDArray[np.integer]]:
    """Concatenate CIFAR python batches (rows of 3072 = 3 planes of 32x32) into NHWC uint8."""
    xs, ys = [], []
    fix = "delete the folder and load with download=True, or replace the file"
    for fname in files:
        path = folder / fname
        try:
            with path.open("rb") as f:
                # The batches were pickled by Python 2: byte-string keys.
                batch = _ArrayUnpickler(f, encoding="bytes").load()
            data = np.asarray(batch[b"data"])
            labels = np.asarray(batch[b"labels"])
        except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError) as e:
            raise DataError(f"{path}: cannot read it ({type(e).__name__}: {e}); {fix}") from e
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
            raise DataError(f"{path}: data is {data.dtype} {data.shape}, expected uint8 (N, 3072)")
        # Rows are channel-planar (R plane, G plane, B plane); NHWC wants channels last.
        xs.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(labels)
    x = np.ascontiguousarray(np.concatenate(xs))
    y = np.concatenate(ys)
    x, y = _validated("cifar10", x, y, str(folder), fix)
    return _readonly(x, y)  # type: ignore[return-value]
