"""Tests of convlab.data loaders, the bundled samples and data/build_data.py."""

from __future__ import annotations

import os
import pickle
import shutil
import socket
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from convlab import data

REPO = Path(__file__).resolve().parents[1]
BUNDLE = REPO / "data"
# Sum of the 784 pixel values of the first training digit (a 5) in train-images-idx3-ubyte,
# computed from the original IDX file, so the test does not trust the npz alone.
FIRST_TRAIN_DIGIT_SUM = 27525


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every test sees an empty HOME/Keras cache, no env overrides and fresh announcements."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for var in ("KERAS_HOME", data.ENV_DATA_DIR, data.ENV_BUNDLE_DIR):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(data, "_announced", set())
    monkeypatch.setattr(data, "_downloaded", {})
    return home


def fake_mnist(path: Path, n_train: int = 3, n_test: int = 2) -> None:
    """A tiny mnist.npz in Keras's layout, labels 9, 8, 7, ... so it differs from the sample."""
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        x_train=np.full((n_train, 28, 28), 255, np.uint8),
        y_train=np.arange(9, 9 - n_train, -1, dtype=np.uint8),
        x_test=np.zeros((n_test, 28, 28), np.uint8),
        y_test=np.arange(n_test, dtype=np.uint8),
    )


def fake_cifar(folder: Path, per_batch: int = 2) -> None:
    """Tiny python-pickled CIFAR batches (channel-planar rows of 3072) as Keras extracts them."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for b, name in enumerate(names):
        rows = np.zeros((per_batch, 3, 32, 32), np.uint8)
        rows[:, 0] = 10 * b  # red plane only, to check the planar -> NHWC transpose
        batch = {b"data": rows.reshape(per_batch, 3072), b"labels": [b] * per_batch}
        with (folder / name).open("wb") as f:
            pickle.dump(batch, f)


def test_mnist_shapes_dtypes_ranges() -> None:
    """Does load_mnist return float32 NHWC images in [0, 1] and int64 labels for both splits?"""
    for split, n in (("train", 5000), ("test", 2000)):
        x, y = data.load_mnist(split)
        assert x.shape == (n, 28, 28, 1) and x.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64
        assert x.min() == 0.0 and x.max() == 1.0
        assert set(np.unique(y)) == set(range(10))


def test_cifar_shapes_dtypes_ranges() -> None:
    """Does load_cifar10("test") return 20 float32 (32, 32, 3) images in [0, 1], int64 labels?"""
    x, y = data.load_cifar10("test")
    assert x.shape == (20, 32, 32, 3) and x.dtype == np.float32
    assert y.shape == (20,) and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.1


def test_mnist_canonical_first_labels() -> None:
    """Does load_mnist return the canonical first five labels (train 5 0 4 1 9, test 7 2 1 0 4)?"""
    assert data.load_mnist("train")[1][:5].tolist() == [5, 0, 4, 1, 9]
    assert data.load_mnist("test")[1][:5].tolist() == [7, 2, 1, 0, 4]


def test_cifar_canonical_first_labels() -> None:
    """Does load_cifar10 return the canonical first test labels 3 8 8 0 6 (cat ship ship ...)?"""
    y = data.load_cifar10("test")[1]
    assert y[:5].tolist() == [3, 8, 8, 0, 6]
    assert [data.CIFAR10_CLASSES[i] for i in y[:3]] == ["cat", "ship", "ship"]


def test_first_digit_pixels_match_idx() -> None:
    """Do the first digit's pixels equal the raw npz bytes and the IDX file's known sum?"""
    x, _ = data.load_mnist("train")
    with np.load(BUNDLE / "mnist_sample.npz") as f:
        raw = f["x_train"][0]
    assert int(raw.astype(np.int64).sum()) == FIRST_TRAIN_DIGIT_SUM
    np.testing.assert_array_equal(x[0, :, :, 0], raw.astype(np.float32) / 255)


def test_cifar_bundle_class_names() -> None:
    """Does the CIFAR-10 bundle carry the ten class names in label order?"""
    with np.load(BUNDLE / "cifar10_sample.npz") as f:
        assert tuple(f["class_names"].tolist()) == data.CIFAR10_CLASSES


@pytest.mark.parametrize("loader", [data.load_mnist, data.load_cifar10])
@pytest.mark.parametrize("split", ["val", "Train", "", None])
def test_invalid_split(loader, split) -> None:
    """Does an unknown split raise ValueError naming the choices 'train' and 'test'?"""
    with pytest.raises(ValueError, match="'train' or 'test'"):
        loader(split)


def test_returned_arrays_are_private_copies() -> None:
    """Can a caller modify the returned arrays without changing what the next call returns?"""
    x, y = data.load_mnist("test")
    x[:] = 0.5
    y[:] = -1
    x2, y2 = data.load_mnist("test")
    assert x2.max() == 1.0 and y2[:5].tolist() == [7, 2, 1, 0, 4]


def test_cifar_train_from_bundle_warns() -> None:
    """Does CIFAR-10 train without the full set warn that it returns the bundled test images?"""
    with pytest.warns(UserWarning, match="TEST images"):
        x, y = data.load_cifar10("train")
    assert x.shape == (20, 32, 32, 3) and y[:5].tolist() == [3, 8, 8, 0, 6]
    info = data.dataset_info("cifar10", "train")
    assert info.source == "bundled sample" and not info.complete and "TEST" in info.note


def test_source_announced_once(capsys: pytest.CaptureFixture[str]) -> None:
    """Is the source printed once per dataset and split, on stdout (a note, not an error)?"""
    data.load_mnist("train")
    data.load_mnist("train")
    captured = capsys.readouterr()
    assert "convlab.data" not in captured.err
    err = captured.out
    assert err.count("convlab.data: MNIST train from bundled sample (5000 of 60000") == 1
    assert "data/README.md" in err


def bundle_copy(tmp_path: Path, name: str, with_sums: bool = True) -> Path:
    """A copy of the bundled data/ files in tmp_path, for damaging without touching the repo."""
    folder = tmp_path / "bundle"
    folder.mkdir(exist_ok=True)
    shutil.copy(BUNDLE / name, folder / name)
    if with_sums:
        shutil.copy(BUNDLE / "SHA256SUMS", folder / "SHA256SUMS")
    return folder / name


@pytest.mark.parametrize("with_sums", [True, False])
def test_truncated_bundle_says_how_to_fix(tmp_path, monkeypatch, with_sums) -> None:
    """Does a truncated sample give a DataError naming the file, build_data.py and git checkout?"""
    path = bundle_copy(tmp_path, "mnist_sample.npz", with_sums)
    path.write_bytes(path.read_bytes()[:5000])
    monkeypatch.setenv(data.ENV_BUNDLE_DIR, str(path.parent))
    with pytest.raises(data.DataError) as err:
        data.load_mnist("train")
    msg = str(err.value)
    assert str(path) in msg and "python data/build_data.py" in msg and "git checkout data/" in msg
    assert ("SHA-256" in msg) == with_sums


def test_wrong_shape_bundle(tmp_path, monkeypatch) -> None:
    """Does a sample with wrongly shaped images give a DataError rather than bad arrays?"""
    folder = tmp_path / "bundle"
    folder.mkdir()
    np.savez(folder / "cifar10_sample.npz", x_test=np.zeros((20, 3, 32, 32), np.uint8), y_test=[0])
    monkeypatch.setenv(data.ENV_BUNDLE_DIR, str(folder))
    with pytest.raises(data.DataError, match="expected uint8 .N, 32, 32, 3.*build_data.py"):
        data.load_cifar10("test")


def test_missing_bundle(tmp_path, monkeypatch) -> None:
    """Does a missing sample give a DataError that says how to restore it?"""
    monkeypatch.setenv(data.ENV_BUNDLE_DIR, str(tmp_path))
    with pytest.raises(data.DataError, match="missing; restore it with `git checkout data/`"):
        data.load_mnist("test")


def test_keras_cache_is_preferred(isolated: Path) -> None:
    """Does load_mnist prefer ~/.keras/datasets/mnist.npz over the bundled sample?"""
    fake_mnist(isolated / ".keras" / "datasets" / "mnist.npz")
    x, y = data.load_mnist("train")
    assert x.shape == (3, 28, 28, 1) and y.tolist() == [9, 8, 7] and x.min() == 1.0
    info = data.dataset_info("mnist", "test")
    assert info.source == "keras cache" and info.n_images == 2


@pytest.mark.parametrize(
    "sub", ["cifar-10-batches-py", "cifar-10-batches-py-target/cifar-10-batches-py"]
)
def test_keras_cifar_cache_is_preferred(isolated: Path, sub: str) -> None:
    """Are Keras 2 and Keras 3 CIFAR-10 extractions read, batches in order and NHWC?"""
    fake_cifar(isolated / ".keras" / "datasets" / sub)
    x, y = data.load_cifar10("train")
    assert x.shape == (10, 32, 32, 3) and y.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert np.allclose(x[2, :, :, 0], 10 / 255) and x[2, :, :, 1:].max() == 0
    xt, yt = data.load_cifar10("test")
    assert xt.shape == (2, 32, 32, 3) and yt.tolist() == [5, 5]


def test_env_data_dir_beats_keras_cache(isolated: Path, tmp_path: Path, monkeypatch) -> None:
    """Does $CONVLAB_DATA_DIR win over the Keras cache, and data_dir over both?"""
    fake_mnist(isolated / ".keras" / "datasets" / "mnist.npz", n_train=1)
    fake_mnist(tmp_path / "env" / "mnist.npz", n_train=2)
    fake_mnist(tmp_path / "arg" / "mnist.npz", n_train=4)
    monkeypatch.setenv(data.ENV_DATA_DIR, str(tmp_path / "env"))
    assert len(data.load_mnist("train")[1]) == 2
    assert len(data.load_mnist("train", data_dir=tmp_path / "arg")[1]) == 4


def test_data_dir_without_files_is_an_error(tmp_path: Path) -> None:
    """Does an explicit data_dir without the files raise, instead of silently using the sample?"""
    with pytest.raises(data.DataError, match="cifar-10-batches-py"):
        data.load_cifar10("test", data_dir=tmp_path)


def test_bad_pickle_in_cache(isolated: Path) -> None:
    """Does a damaged or code-running CIFAR batch give a DataError instead of being executed?"""
    folder = isolated / ".keras" / "datasets" / "cifar-10-batches-py"
    fake_cifar(folder)
    (folder / "test_batch").write_bytes(pickle.dumps(types.SimpleNamespace(a=1)))
    with pytest.raises(data.DataError, match="test_batch.*refusing"):
        data.load_cifar10("test")
    (folder / "test_batch").write_bytes(b"\x80\x04garbage")
    with pytest.raises(data.DataError, match="test_batch: cannot read it"):
        data.load_cifar10("test")


def test_no_network_without_download(monkeypatch) -> None:
    """Does download=False load without importing Keras or opening a socket?"""

    def no_socket(*args, **kwargs):
        raise AssertionError("network used")

    monkeypatch.setitem(sys.modules, "keras", None)  # `import keras` now raises ImportError
    monkeypatch.setattr(socket, "socket", no_socket)
    monkeypatch.setattr(socket, "create_connection", no_socket)
    assert data.load_mnist("test")[0].shape == (2000, 28, 28, 1)
    assert data.load_cifar10("test")[0].shape == (20, 32, 32, 3)


def test_download_goes_through_keras(monkeypatch) -> None:
    """Does download=True with nothing on disk call keras.datasets.<name>.load_data()?"""
    calls = []

    def load_data():
        calls.append(1)
        x = np.zeros((4, 3, 32, 32), np.uint8)  # channels_first, to check the transpose
        return (x, np.array([[1], [2], [3], [4]], np.uint8)), (x[:1], np.array([[5]], np.uint8))

    fake = types.ModuleType("keras")
    fake.datasets = types.SimpleNamespace(cifar10=types.SimpleNamespace(load_data=load_data))
    monkeypatch.setitem(sys.modules, "keras", fake)
    x, y = data.load_cifar10("train", download=True)
    assert x.shape == (4, 32, 32, 3) and y.tolist() == [1, 2, 3, 4]
    assert data.load_cifar10("test", download=True)[1].tolist() == [5]
    assert len(calls) == 1
    assert data.dataset_info("cifar10", "test", download=True).source == "keras download"


def test_download_without_keras_says_what_to_do(monkeypatch) -> None:
    """Does download=True without Keras installed explain how to get the data?"""
    monkeypatch.setitem(sys.modules, "keras", None)
    with pytest.raises(data.DataError, match="tensorflow-cpu"):
        data.load_mnist("train", download=True)


def test_build_data_check_passes() -> None:
    """Does `python data/build_data.py --check` verify the committed files (exit 0)?"""
    run = subprocess.run(
        [sys.executable, str(BUNDLE / "build_data.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok mnist_sample.npz" in run.stdout and "ok cifar10_sample.npz" in run.stdout


def test_data_dir_is_small() -> None:
    """Does data/ stay under 5 MB?"""
    assert sum(p.stat().st_size for p in BUNDLE.rglob("*") if p.is_file()) < 5_000_000


@pytest.mark.skipif(
    not os.environ.get("CONVLAB_SOURCES_DIR"),
    reason="set CONVLAB_SOURCES_DIR to a folder with the two source packages",
)
def test_rebuild_is_byte_identical(tmp_path: Path) -> None:
    """Does rebuilding from the source packages reproduce the committed files byte for byte?"""
    run = subprocess.run(
        [sys.executable, str(BUNDLE / "build_data.py")]
        + ["--sources", os.environ["CONVLAB_SOURCES_DIR"], "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for name in ("mnist_sample.npz", "cifar10_sample.npz"):
        assert (tmp_path / name).read_bytes() == (BUNDLE / name).read_bytes()
