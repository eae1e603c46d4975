"""Helpers the convlab notebooks import: data, kernels, plots, widgets.

Importing convlab sets two TensorFlow variables unless they are set already, before any lab (or
widget) imports TensorFlow: ``TF_CPP_MIN_LOG_LEVEL=3`` and ``TF_ENABLE_ONEDNN_OPTS=0``. With
oneDNN on, TensorFlow 2.21 prints start-up lines into the notebook, and on CPUs with AVX-512 it
aborts the kernel for some malformed inputs and returns uninitialised memory for a float32 VALID
filter one pixel larger than the input. Off, a student's ``tf.nn.conv2d`` gives the same numbers as
the grader's reference on every CPU, prints nothing, and is at most a little slower.
"""

import os

#: The TensorFlow settings of every convlab process: the labs' kernels, the widgets, the grader.
TF_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0"}


def use_tf_environment() -> None:
    """Set TF_ENVIRONMENT's variables that are not set yet (effective before TF is imported)."""
    for name, value in TF_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


use_tf_environment()
