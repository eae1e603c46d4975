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
    ("from scipy.signal import correlate2d\ny = correlate2d(a, b)\n", 2, "correlate2d"),
    ("from scipy import signal\ny = signal.correlate2d(a, b)\n", 2, "signal.correlate2d"),
    ("import tensorflow as tf\nshape = tf.zeros((2, 2)).shape\n", 2, "tf.zeros"),
    ("import tensorflow as tf\ny = tf.nn.conv2d(x, k, 1, 'SAME')\n", 2, "tf.nn.conv2d"),
    ("import scipy.ndimage\nf = scipy.ndimage\n", 2, "scipy.ndimage"),
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
    ("from convlab import kernels\nk = kernels.sobel_x\n", 2, "kernels.sobel_x"),
    ("import sys\nsys.meta_path.clear()\n", 2, "sys.meta_path"),
    ("def f():\n    return f.__closure__\n", 2, "f.__closure__"),
    ("import ctypes\n", 1, "import ctypes"),
]


@pytest.mark.parametrize(
    ("code", "line", "what"),
    FLAGGED,
    ids=[
        "np-convolve",
        "from-scipy-signal-call",
        "scipy-signal-call",
        "tf-other-use",
        "tf-nn-conv2d",
        "scipy-module-as-value",
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
        "meta-path",
        "closure",
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
    assert scan("import tensorflow.nn\nx = tensorflow.nn.relu\n", forbidden_modules=("tensorflow",))


UNUSED_IMPORTS = """\
import numpy as np
import tensorflow as tf
import scipy.signal
from scipy.ndimage import convolve
from convlab import kernels

def conv2d(inputs, filters, strides, padding):
    return np.zeros((1, 1, 1, 1))
"""


def test_unused_import_of_a_forbidden_library_is_not_a_finding():
    """Does importing TensorFlow, SciPy or convlab without using them cost nothing?"""
    assert scan(UNUSED_IMPORTS, forbidden_modules=FORBIDDEN) == []


def test_use_names_the_line_and_the_library():
    """Is a use of an imported forbidden library flagged on its own line, naming the library?"""
    code = "import tensorflow as tf\n\n\ndef conv2d(x, w, s, p):\n"
    code += "    return tf.nn.conv2d(x, w, s, p)\n"
    (finding,) = scan(code, forbidden_modules=FORBIDDEN)
    assert finding.line == 5 and finding.what == "tf.nn.conv2d"
    assert finding.message.startswith("line 5: tf.nn.conv2d uses tensorflow, which is not allowed")
