"""Tests for autograder.forbidden: the static scan of student code."""

from __future__ import annotations

import pytest

from autograder.forbidden import Finding, scan

FORBIDDEN = ("tensorflow", "keras", "scipy", "torch", "jax", "cv2", "skimage", "convlab")

OWN_CONV2D = """\
import numpy as np

def conv2d(inputs, filters, strides, padding):
    return inputs

def convolve(a, b):
    return a

out = conv2d(1, 2, 1, "SAME")
"""

SLIDING_WINDOW = """\
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

def conv2d(inputs, filters, strides, padding):
    padded = np.pad(inputs, ((0, 0), (1, 1), (1, 1), (0, 0)))
    windows = sliding_window_view(padded, filters.shape[:2], axis=(1, 2))
    out = np.einsum("nhwcij,ijco->nhwo", windows, filters)
    return np.tensordot(out, np.eye(out.shape[-1]), axes=1) @ np.eye(out.shape[-1])
"""

FLAGGED = [
    ("import numpy as np\ny = np.convolve(a, b)\n", 2, "np.convolve"),
    ("from scipy.signal import correlate2d\n", 1, "import scipy.signal"),
    ("from scipy import signal\ny = signal.correlate2d(a, b)\n", 1, "import scipy"),
    ("from scipy import signal\ny = signal.correlate2d(a, b)\n", 2, "signal.correlate2d"),
    ("import tensorflow as tf\n", 1, "import tensorflow"),
    ("import tensorflow as tf\ny = tf.nn.conv2d(x, k, 1, 'SAME')\n", 2, "tf.nn.conv2d"),
    ("import numpy as np\nf = getattr(np, 'con' + 'volve')\n", 2, "getattr with a computed name"),
    ("import numpy as np\nf = getattr(np, 'convolve')\n", 2, "getattr(..., 'convolve')"),
    ("tf = __import__('tensor' + 'flow')\n", 1, "__import__"),
    ("import importlib\nm = importlib.import_module('scipy')\n", 1, "import importlib"),
    ("y = eval('1 + 1')\n", 1, "eval"),
    ("exec('import scipy')\n", 1, "exec"),
    ("import sys\nnp = sys.modules['numpy']\n", 2, "sys.modules"),
    ("x = ().__class__.__base__.__subclasses__()\n", 1, "().__class__.__base__.__subclasses__"),
    ("import base64\ncode = base64.b64decode('aW1wb3J0')\n", 2, "base64.b64decode"),
    ("import numpy as np\ny = np.fft.fft2(x)\n", 2, "np.fft.fft2"),
    ("import cv2\ny = cv2.filter2D(img, -1, k)\n", 2, "cv2.filter2D"),
    ("from convlab import kernels\n", 1, "import convlab"),
    ("import ctypes\n", 1, "import ctypes"),
]


@pytest.mark.parametrize(
    ("code", "line", "what"),
    FLAGGED,
    ids=[
        "np-convolve",
        "from-scipy-signal",
        "scipy-import",
        "scipy-signal-call",
        "import-tf",
        "tf-nn-conv2d",
        "getattr-computed",
        "getattr-constant",
        "dunder-import",
        "importlib",
        "eval",
        "exec",
        "sys-modules",
        "subclasses",
        "base64-decode",
        "np-fft2",
        "cv2-filter2d",
        "convlab",
        "ctypes",
    ],
)
def test_flagged(code: str, line: int, what: str):
    """Is each library convolution, forbidden import or obfuscation flagged on its line?"""
    findings = scan(code, forbidden_modules=FORBIDDEN)
    assert any(f.line == line and f.what == what for f in findings), findings
    found = next(f for f in findings if f.what == what)
    assert found.message.startswith(f"line {line}: {what}")


@pytest.mark.parametrize(
    "code",
    [OWN_CONV2D, SLIDING_WINDOW, "import numpy as np\nx = np.zeros(3)\n", "def broken(:\n"],
    ids=["own-conv2d", "sliding-window-einsum", "plain-numpy", "syntax-error"],
)
def test_not_flagged(code: str):
    """Are the student's own names, allowed numpy tools and unparsable code left alone?"""
    assert scan(code, forbidden_modules=FORBIDDEN) == []


def test_message_is_for_a_student():
    """Does the message say what was found and what the exercise expects instead?"""
    (finding,) = scan("import numpy as np\n\n\ny = np.convolve(a, b)\n", forbidden_modules=())
    assert finding == Finding(
        4,
        "np.convolve",
        "line 4: np.convolve is a library convolution; this exercise asks you to write the "
        "sliding window yourself",
    )


def test_forbidden_modules_come_from_the_policy():
    """Is an import flagged only when the lab's policy forbids that module?"""
    assert scan("import tensorflow as tf\n", forbidden_modules=()) == []
    assert scan("import tensorflow.nn\n", forbidden_modules=("tensorflow",))
