"""Tests for autograder.policy: what both orchestrators decide the same way."""

from __future__ import annotations

import json

import pytest

from autograder import policy
from autograder.checks import Tier
from autograder.policy import VISIBLE_SEED, Status
from autograder.registry import get_lab
from autograder.sandbox import CallResult

LAB03 = get_lab("03_filter_banks")
LAB04 = get_lab("04_tf_conv2d")


def test_statuses_and_tiers_compare_and_serialise_as_their_words() -> None:
    """Do the enums equal, print and dump to JSON as the plain strings results.json holds?"""
    assert Status.TIMEOUT == "timeout" and f"{Status.TIMEOUT}" == "timeout"
    assert json.dumps([Tier.VALUES, Status.OK]) == '["values", "ok"]'
    assert [t.value for t in Tier] == [
        "call", "type", "rank", "shape", "dtype", "finite", "values", "grader", "ok",
    ]  # fmt: skip
    assert policy.STOP_STATUSES == {"timeout", "memory", "forbidden", "crashed"}


@pytest.mark.parametrize(
    "cell, conv2d, conv_matrix",
    [("conv2d", True, False), ("conv_matrix", False, True), (None, True, True), ("x", True, True)],
    ids=["conv2d-cell", "conv_matrix-cell", "py-file", "other-cell"],
)
def test_a_finding_counts_against_the_item_whose_cell_holds_it(
    cell: str | None, conv2d: bool, conv_matrix: bool
) -> None:
    """Is a finding in one answer cell that item's alone, and one elsewhere everybody's?"""
    findings = [(cell, "np.convolve")]
    assert bool(policy.findings_for(LAB03, LAB03.item("conv2d"), findings)) is conv2d
    assert bool(policy.findings_for(LAB03, LAB03.item("conv_matrix"), findings)) is conv_matrix


def test_findings_void_only_by_hand_items() -> None:
    """Do findings void a by-hand item and leave lab 04's TensorFlow items alone?"""
    assert policy.voids(LAB03.item("conv2d"), ["tf.nn.conv2d"])
    assert not policy.voids(LAB03.item("conv2d"), [])
    assert not policy.voids(LAB04.item("mnist_conv"), ["tf.nn.conv2d"])


def test_the_stub_is_explained_the_same_on_every_path() -> None:
    """Is a sandboxed NotImplementedError said like the in-process one, other errors kept?"""
    stub = CallResult(Status.ERROR, message="NotImplementedError: \n  line 3")
    policy.explain_stub(stub, "conv2d")
    assert stub.message == policy.not_implemented("conv2d")
    other = CallResult(Status.ERROR, message="ValueError: no")
    policy.explain_stub(other, "conv2d")
    assert other.message == "ValueError: no"


def test_seeds_and_student_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Are visible tests drawn with the visible seed, hidden ones per student, and ids resolved
    given > submission > notebook?"""
    monkeypatch.setenv("CONVLAB_STUDENT_ID", "nb")
    item = LAB03.item("conv2d")
    assert policy.seed_for(LAB03.id, item.test("batch"), "ada") == VISIBLE_SEED
    hidden = item.test("hidden")
    assert policy.seed_for(LAB03.id, hidden, "ada") == policy.hidden_seed(LAB03.id, "ada")
    assert policy.seed_for(LAB03.id, hidden, "ada") != policy.seed_for(LAB03.id, hidden, "bob")
    assert policy.student_id("given", submission="file") == "given"
    assert policy.student_id(None, submission="file") == "file"
    assert policy.student_id() == "nb"
