"""The one registry of graded items: the functions each lab grades, their suites and points."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Modules whose convolutions would do a by-hand exercise for the student.
LIBRARY_CONVOLUTION_MODULES: tuple[str, ...] = (
    "tensorflow",
    "keras",
    "tf_keras",
    "scipy",
    "torch",
    "jax",
    "jaxlib",
    "cv2",
    "skimage",
    "PIL",
    "numpy.fft",
)
#: Our own packages hold helpers (and, in autograder, a reference) that graded code must not use.
BUNDLE_MODULES: tuple[str, ...] = ("convlab", "autograder")


@dataclass(frozen=True)
class Test:
    """One graded test: a suite of cases for an item, worth `points`.

    In a notebook it is one locked test cell with grade_id `test_<function>_<suite>`.
    """

    suite: str
    points: float
    hidden: bool = False


@dataclass(frozen=True)
class Item:
    """A function students write; `exercise` names the Exercise that grades it (see exercises/)."""

    function: str
    exercise: str
    tests: tuple[Test, ...]
    description: str
    by_hand: bool = True
    #: A graded prediction: `function` names a `my_...` variable (its answer cell assigns it),
    #: graded as a value by a locked `check_value(my_..., "my_...")` cell.
    prediction: bool = False

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests)

    def test(self, suite: str) -> Test:
        for t in self.tests:
            if t.suite == suite:
                return t
        names = ", ".join(t.suite for t in self.tests)
        raise KeyError(f"{self.function} has no suite {suite!r}; it has: {names}")

    def hidden_tests(self) -> tuple[Test, ...]:
        return tuple(t for t in self.tests if t.hidden)


@dataclass(frozen=True)
class Lab:
    """A lab notebook: `labs/<id>/<id>.ipynb`, generated from `solutions/<id>/<id>.ipynb`."""

    id: str
    title: str
    items: tuple[Item, ...]
    #: Trusted code run before the student's cells when grading outside the notebook.
    preamble: str = "import numpy as np\n"
    #: Modules the student's graded code may not import (checked statically and at run time).
    forbidden_modules: tuple[str, ...] = field(default=LIBRARY_CONVOLUTION_MODULES + BUNDLE_MODULES)
    forbid_numpy_convolve: bool = True

    @property
    def max_score(self) -> float:
        return sum(i.max_score for i in self.items)

    def item(self, function: str) -> Item:
        for i in self.items:
            if i.function == function:
                return i
        names = ", ".join(i.function for i in self.items)
        raise KeyError(f"lab {self.id} grades no function {function!r}; it grades: {names}")

    @property
    def solution_cells(self) -> tuple[str, ...]:
        """grade_ids of the autograded answer cells, in notebook order (one per item)."""
        return tuple(i.function for i in self.items)


CONV2D_TESTS = (
    Test("valid_stride1", 2),
    Test("valid_strided", 2),
    Test("same_odd", 2),
    Test("same_asymmetric", 2),
    Test("multichannel", 2),
    Test("filter_bank", 2),
    Test("batch", 2),
    Test("edges", 2),
    #: The accepted forms other than TF's canonical one (int/[s]/[sh, sw] strides, any case).
    Test("argument_forms", 2),
    Test("hidden", 2, hidden=True),
)

#: Lab 05: conv2d's suites at 1 point each, and half of the item for being vectorized (the
#: Python lines it runs must not grow with the output size; see autograder/vectorized.py).
CONV2D_FAST_TESTS = (
    *(Test(t.suite, 1, t.hidden) for t in CONV2D_TESTS if not t.hidden),
    Test("vectorized", 10),
    *(Test(t.suite, 1, t.hidden) for t in CONV2D_TESTS if t.hidden),
)

LABS: dict[str, Lab] = {
    lab.id: lab
    for lab in (
        Lab(
            id="01_convolution_by_hand",
            title="Convolution by hand",
            items=(
                Item(
                    function="my_pixels_v10",
                    exercise="my_pixels_v10",
                    by_hand=False,
                    prediction=True,
                    description="prediction: which pixels V(1, 0) of a 3x3 kernel reads",
                    tests=(Test("prediction", 1),),
                ),
                Item(
                    function="apply_kernel",
                    exercise="apply_kernel",
                    description="one output pixel V(x, y) = sum_m sum_n I(x+m, y+n) K(m, n)",
                    tests=(Test("apply_kernel", 2), Test("hidden", 1, hidden=True)),
                ),
                Item(
                    function="my_mnist_size",
                    exercise="my_mnist_size",
                    by_hand=False,
                    prediction=True,
                    description="prediction: VALID output size of a 5x5 kernel on a 28x28 digit",
                    tests=(Test("prediction", 1),),
                ),
                Item(
                    function="convolve2d",
                    exercise="convolve2d",
                    description="a whole single-channel image, VALID, stride 1",
                    tests=(Test("convolve2d", 3), Test("hidden", 2, hidden=True)),
                ),
            ),
        ),
        Lab(
            id="02_stride_padding",
            title="Stride and padding",
            items=(
                Item(
                    function="my_p2_width",
                    exercise="my_p2_width",
                    by_hand=False,
                    prediction=True,
                    description="prediction: output width of the lecture's p = 2 padding slide",
                    tests=(Test("prediction", 1),),
                ),
                Item(
                    function="output_size",
                    exercise="output_size",
                    description="output length along one axis for VALID, SAME or an int padding p",
                    tests=(
                        Test("output_size", 2),
                        #: padding in lower or mixed case (every other suite: upper case)
                        Test("letter_case", 0.5),
                        Test("hidden", 1, hidden=True),
                        Test("explicit_padding", 2),
                    ),
                ),
                Item(
                    function="same_padding",
                    exercise="same_padding",
                    description="TensorFlow's SAME padding (before, after) along one axis",
                    tests=(Test("same_padding", 2), Test("hidden", 1, hidden=True)),
                ),
                Item(
                    function="zero_pad",
                    exercise="zero_pad",
                    description="surround a 2-D image with zeros",
                    tests=(Test("zero_pad", 1), Test("hidden", 1, hidden=True)),
                ),
                Item(
                    function="convolve2d_strided",
                    exercise="convolve2d_strided",
                    description="single-channel convolution with stride and VALID/SAME padding",
                    tests=(
                        Test("strided_valid", 2),
                        Test("strided_same", 2),
                        Test("letter_case", 1),
                        Test("hidden", 2, hidden=True),
                    ),
                ),
                Item(
                    function="my_sobel_same",
                    exercise="my_sobel_same",
                    by_hand=False,
                    prediction=True,
                    description="prediction: the lecture's Sobel homework with SAME padding",
                    tests=(Test("prediction", 2),),
                ),
                Item(
                    function="receptive_field",
                    exercise="receptive_field",
                    description="input pixels per side one output pixel of a conv stack sees",
                    tests=(Test("receptive_field", 2), Test("hidden", 1, hidden=True)),
                ),
            ),
        ),
        Lab(
            id="03_filter_banks",
            title="Filter banks and channels",
            items=(
                Item(
                    function="conv2d",
                    exercise="conv2d",
                    description="conv2d(inputs, filters, strides, padding) exactly as tf.nn.conv2d",
                    tests=CONV2D_TESTS,
                ),
                Item(
                    function="conv_matrix",
                    exercise="conv_matrix",
                    description="the dense matrix of a VALID stride-1 single-channel convolution",
                    tests=(Test("conv_matrix", 2), Test("hidden", 1, hidden=True)),
                ),
                Item(
                    function="my_dense_weights",
                    exercise="my_dense_weights",
                    by_hand=False,
                    prediction=True,
                    description="prediction: weights of a fully connected 28x28 -> 24x24 layer",
                    tests=(Test("prediction", 1),),
                ),
                Item(
                    function="my_conv_weights",
                    exercise="my_conv_weights",
                    by_hand=False,
                    prediction=True,
                    description="prediction: distinct weights of the 5x5 convolution (shared)",
                    tests=(Test("prediction", 1),),
                ),
            ),
        ),
        Lab(
            id="04_tf_conv2d",
            title="tf.nn.conv2d on MNIST and CIFAR-10",
            preamble="import numpy as np\nimport tensorflow as tf\n",
            forbidden_modules=("torch", "jax", "jaxlib", "cv2", "skimage") + BUNDLE_MODULES,
            forbid_numpy_convolve=False,
            items=(
                Item(
                    function="my_mnist_shape",
                    exercise="my_mnist_shape",
                    by_hand=False,
                    prediction=True,
                    description="prediction: output shape of the lecture's MNIST call",
                    tests=(Test("prediction", 1),),
                ),
                Item(
                    function="mnist_conv",
                    exercise="mnist_conv",
                    by_hand=False,
                    description="the lecture's MNIST call: 16 5x5 filters, stride 2, SAME",
                    tests=(Test("mnist_conv", 2), Test("hidden", 1, hidden=True)),
                ),
                Item(
                    function="my_cifar_shape",
                    exercise="my_cifar_shape",
                    by_hand=False,
                    prediction=True,
                    description="prediction: output shape of the lecture's CIFAR-10 call",
                    tests=(Test("prediction", 1),),
                ),
                Item(
                    function="cifar_filter_shape",
                    exercise="cifar_filter_shape",
                    by_hand=False,
                    description="the filter shape for 16 5x5 filters over RGB images",
                    tests=(Test("cifar_filter_shape", 1),),
                ),
                Item(
                    function="cifar_conv",
                    exercise="cifar_conv",
                    by_hand=False,
                    description="the lecture's CIFAR-10 call: 16 5x5x3 filters, stride 2, SAME",
                    tests=(Test("cifar_conv", 2), Test("hidden", 1, hidden=True)),
                ),
                Item(
                    function="learn_kernel",
                    exercise="learn_kernel",
                    by_hand=False,
                    description="recover a kernel from (image, output) pairs by gradient descent",
                    tests=(Test("learn_kernel", 3), Test("hidden", 2, hidden=True)),
                ),
            ),
        ),
        Lab(
            id="05_fast_conv2d",
            title="Making conv2d fast",
            items=(
                Item(
                    function="conv2d_fast",
                    exercise="conv2d",
                    description="a vectorized conv2d with exactly tf.nn.conv2d's semantics",
                    tests=CONV2D_FAST_TESTS,
                ),
                Item(
                    function="my_im2col_shape",
                    exercise="my_im2col_shape",
                    by_hand=False,
                    prediction=True,
                    description="prediction: the im2col matrix's shape for the MNIST call",
                    tests=(Test("prediction", 1),),
                ),
                Item(
                    function="my_cifar_macs",
                    exercise="my_cifar_macs",
                    by_hand=False,
                    prediction=True,
                    description="prediction: multiply-adds of the CIFAR-10 call at stride 1",
                    tests=(Test("prediction", 1),),
                ),
            ),
        ),
    )
}


def get_lab(lab_id: str) -> Lab:
    """The lab with this id (a folder name under labs/), or a KeyError listing the valid ids."""
    try:
        return LABS[lab_id]
    except KeyError:
        raise KeyError(f"no lab {lab_id!r}; labs are: {', '.join(LABS)}") from None


def find_item(function: str, lab_id: str | None = None) -> tuple[Lab, Item]:
    """The (lab, item) grading `function`; `lab_id` disambiguates when several labs grade it."""
    labs = [get_lab(lab_id)] if lab_id else list(LABS.values())
    for lab in labs:
        for item in lab.items:
            if item.function == function:
                return lab, item
    raise KeyError(f"no graded function {function!r}")
