"""The one registry of labs: the graded functions (exercises) each lab lists, in notebook order.

A graded function's suites, points and visibility are declared by its Exercise (see
autograder/exercise.py), once; this module only says which lab grades which functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from .exercise import Exercise, Test, get_exercise

__all__ = ["LABS", "Item", "Lab", "Test", "find_item", "get_lab"]

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
class Item:
    """A function students write, as its Exercise declares it (see autograder/exercises/)."""

    exercise_obj: Exercise = field(repr=False)

    @property
    def function(self) -> str:
        return self.exercise_obj.function

    @property
    def exercise(self) -> str:
        """The key of the Exercise that grades it (get_exercise, make_cases)."""
        return self.exercise_obj.function

    @property
    def tests(self) -> tuple[Test, ...]:
        return self.exercise_obj.suites

    @property
    def description(self) -> str:
        return self.exercise_obj.description

    @property
    def by_hand(self) -> bool:
        return self.exercise_obj.by_hand

    @property
    def prediction(self) -> bool:
        """A graded prediction: `function` names a `my_...` variable (its answer cell assigns
        it), graded as a value by a locked `check_value(my_..., "my_...")` cell."""
        return self.exercise_obj.prediction

    @property
    def max_score(self) -> float:
        return self.exercise_obj.max_score

    def test(self, suite: str) -> Test:
        return self.exercise_obj.test(suite)

    def hidden_tests(self) -> tuple[Test, ...]:
        return tuple(t for t in self.tests if t.hidden)


@dataclass(frozen=True)
class Lab:
    """A lab notebook: `labs/<id>/<id>.ipynb`, generated from `solutions/<id>/<id>.ipynb`.

    `exercises` names the graded functions in notebook order; each one's suites, points and
    visibility are its Exercise's declaration (autograder/exercises/), never restated here.
    """

    id: str
    title: str
    exercises: tuple[str, ...]
    #: Trusted code run before the student's cells when grading outside the notebook.
    preamble: str = "import numpy as np\n"
    #: Modules the student's graded code may not import (checked statically and at run time).
    forbidden_modules: tuple[str, ...] = field(default=LIBRARY_CONVOLUTION_MODULES + BUNDLE_MODULES)
    forbid_numpy_convolve: bool = True

    @cached_property
    def items(self) -> tuple[Item, ...]:
        return tuple(Item(get_exercise(name)) for name in self.exercises)

    @property
    def max_score(self) -> float:
        return sum(i.max_score for i in self.items)

    def item(self, function: str) -> Item:
        for i in self.items:
            if i.function == function:
                return i
        names = ", ".join(i.function for i in self.items)
        raise KeyError(f"lab {self.id} grades no function {function!r}; it grades: {names}")

    def points_summary(self) -> str:
        """The README's "Graded functions (points)" cell, made from the declarations.

        Items in notebook order: "`f` (total: suite points, ..., hidden h)", with many
        equal visible suites counted ("9 visible suites of 2"); a prediction as
        "prediction `my_x` (p)". tests/test_readme.py compares it with the README.
        """
        parts = []
        for item in self.items:
            if item.prediction:
                parts.append(f"prediction `{item.function}` ({item.max_score:g})")
                continue
            visible = [t for t in item.tests if not t.hidden]
            hidden = sum(t.points for t in item.tests if t.hidden)
            points = [t.points for t in visible]
            common = max(set(points), key=points.count) if points else 0
            alike = [t for t in visible if t.points == common]
            if len(alike) > 3:
                named = [f"{len(alike)} visible suites of {common:g}"]
                named += [f"{t.suite} {t.points:g}" for t in visible if t.points != common]
            else:
                named = [f"{t.suite} {t.points:g}" for t in visible]
            if hidden:
                named.append(f"hidden {hidden:g}")
            parts.append(f"`{item.function}` ({item.max_score:g}: {', '.join(named)})")
        return f"{'; '.join(parts)}; {self.max_score:g} in all"

    @property
    def solution_cells(self) -> tuple[str, ...]:
        """grade_ids of the autograded answer cells, in notebook order (one per item)."""
        return tuple(i.function for i in self.items)


LABS: dict[str, Lab] = {
    lab.id: lab
    for lab in (
        Lab(
            id="01_convolution_by_hand",
            title="Convolution by hand",
            exercises=("my_pixels_v10", "apply_kernel", "my_mnist_size", "convolve2d"),
        ),
        Lab(
            id="02_stride_padding",
            title="Stride and padding",
            exercises=(
                "my_p2_width",
                "output_size",
                "same_padding",
                "zero_pad",
                "convolve2d_strided",
                "my_sobel_same",
                "receptive_field",
            ),
        ),
        Lab(
            id="03_filter_banks",
            title="Filter banks and channels",
            exercises=("conv2d", "conv_matrix", "my_dense_weights", "my_conv_weights"),
        ),
        Lab(
            id="04_tf_conv2d",
            title="tf.nn.conv2d on MNIST and CIFAR-10",
            preamble="import numpy as np\nimport tensorflow as tf\n",
            forbidden_modules=("torch", "jax", "jaxlib", "cv2", "skimage") + BUNDLE_MODULES,
            forbid_numpy_convolve=False,
            exercises=(
                "my_mnist_shape",
                "mnist_conv",
                "my_cifar_shape",
                "cifar_filter_shape",
                "cifar_conv",
                "learn_kernel",
            ),
        ),
        Lab(
            id="05_fast_conv2d",
            title="Making conv2d fast",
            exercises=("conv2d_fast", "my_im2col_shape", "my_cifar_macs"),
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
