"""Tests of the lab notebooks: clean, generated, consistent with the registry, and executable."""

import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.classroom import make_course
from autograder.nbgrader_release import PREDICTION_CELLS
from autograder.registry import LABS

ROOT = Path(__file__).resolve().parents[1]
LAB_IDS = sorted(LABS)
#: Every solution notebook must run top to bottom within this on a 2-core machine.
SOLUTION_SECONDS = 60
#: The cell tag that lets "Run All" (JupyterLab, nbclient) go on past a cell that raises.
RAISES = "raises-exception"


def _source(lab: str) -> Path:
    return ROOT / "solutions" / lab / f"{lab}.ipynb"


def _release(lab: str) -> Path:
    return ROOT / "labs" / lab / f"{lab}.ipynb"


def _nbgrader_cells(nb) -> dict[str, dict]:
    return {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in nb.cells
        if "nbgrader" in c.metadata and "grade_id" in c.metadata["nbgrader"]
    }


def test_every_lab_has_source_and_release():
    """Does every lab of the registry have a solutions/ source and a labs/ release notebook?"""
    folders = {p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()}
    assert folders == set(LAB_IDS)
    for lab in LAB_IDS:
        assert _source(lab).exists() and _release(lab).exists()


@pytest.mark.parametrize("kind", ["solutions", "labs"])
@pytest.mark.parametrize("lab", LAB_IDS)
def test_committed_without_outputs_or_widget_state(lab, kind):
    """Is the notebook committed with no outputs, no execution counts and no widget state?"""
    nb = json.loads((ROOT / kind / lab / f"{lab}.ipynb").read_text())
    assert "widgets" not in nb.get("metadata", {})
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.parametrize("lab", LAB_IDS)
def test_cells_match_the_registry(lab):
    """Does each graded item have its answer cell, and each test a locked cell with its points?"""
    nb = nbformat.read(_source(lab), as_version=4)
    cells = _nbgrader_cells(nb)
    expected = {}
    for item in LABS[lab].items:
        assert cells[item.function].metadata["nbgrader"]["solution"] is True
        if item.prediction:  # a my_... variable, graded as a value by check_value
            assert f"\n{item.function} = " in cells[item.function].source
            assert all(f'check_value({item.function}, "{item.function}")' in cells[
                f"test_{item.function}_{t.suite}"].source for t in item.tests)  # fmt: skip
        else:
            assert f"def {item.function}(" in cells[item.function].source
        for test in item.tests:
            expected[f"test_{item.function}_{test.suite}"] = test.points
    tests = {k: c for k, c in cells.items() if c.metadata["nbgrader"].get("grade")}
    assert {k: c.metadata["nbgrader"]["points"] for k, c in tests.items()} == expected
    for gid, cell in tests.items():
        meta = cell.metadata["nbgrader"]
        assert meta["locked"] and not meta["solution"], gid
        hidden = gid.endswith("_hidden")
        assert ("check_hidden(" in cell.source) == hidden, gid
        assert ("### BEGIN HIDDEN TESTS" in cell.source) == hidden, gid
        # a short locked call: no expected arrays pasted into the cell
        assert "np.array" not in cell.source and len(cell.source.splitlines()) <= 6, gid
    order = [k for k in cells if not cells[k].metadata["nbgrader"].get("grade")]
    assert order == list(LABS[lab].solution_cells)


@pytest.mark.parametrize("lab", LAB_IDS)
def test_first_code_cell_is_explicit_imports(lab):
    """Does each notebook start with explicit imports (no star imports) of the grader's checks?"""
    nb = nbformat.read(_source(lab), as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert "import *" not in first.source
    assert "from autograder.notebook import check" in first.source


@pytest.mark.parametrize("lab", LAB_IDS)
def test_release_has_no_solution_or_hidden_tests(lab):
    """Does the release contain no solution code and no hidden-test text?"""
    text = _release(lab).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "check_hidden("):
        assert marker not in text
    source_cells = _nbgrader_cells(nbformat.read(_source(lab), as_version=4))
    release_cells = _nbgrader_cells(nbformat.read(_release(lab), as_version=4))
    for gid, cell in source_cells.items():
        if cell.metadata["nbgrader"].get("solution"):
            match = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S)
            outside = cell.source.replace(match.group(0), "")
            # lines only the solution has (a docstring may state the formula to implement)
            body = [
                ln.strip()
                for ln in match.group(1).splitlines()
                if len(ln.strip()) > 12 and ln.strip() not in outside
            ]
            stub = release_cells[gid].source
            if gid in PREDICTION_CELLS:
                # only the `my_... = None  # your prediction: ...` line: nothing that raises
                assert stub == cell.source.split("### BEGIN SOLUTION")[0].strip(), gid
                assert re.fullmatch(rf"{gid} = None  # your [^\n]*", stub), stub
            else:
                assert "raise NotImplementedError()" in stub
            assert not any(ln in stub for ln in body), gid


def test_prediction_cells_are_released_without_a_stub():
    """Does the release step drop a prediction's solution region, and stub every other one?"""
    from nbformat.v4 import new_code_cell, new_notebook

    from autograder.nbgrader_release import ClearSolutionsKeepPredictions

    def answer(gid: str, source: str):
        meta = {"solution": True, "grade": False, "locked": False, "grade_id": gid}
        return new_code_cell(source, metadata={"nbgrader": {**meta, "schema_version": 3}})

    solution = "\n### BEGIN SOLUTION\n{} = 4\n### END SOLUTION"
    nb = new_notebook(
        cells=[
            answer("my_p2_width", "my_p2_width = None  # your prediction: an int" + solution),
            answer("my_free", "my_free = None  # not registered" + solution),  # not graded
            answer("f", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
        ],
        metadata={"kernelspec": {"language": "python", "name": "python3", "display_name": "Py"}},
    )
    clear = ClearSolutionsKeepPredictions(
        code_stub={"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    )
    nb, _ = clear.preprocess(nb, {})
    assert [c.source for c in nb.cells] == [
        "my_p2_width = None  # your prediction: an int",
        "my_free = None  # not registered\n# YOUR CODE HERE\nraise NotImplementedError()",
        "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()",
    ]


@pytest.mark.parametrize("lab", LAB_IDS)
def test_only_plain_code_cells_may_raise(lab):
    """Is `raises-exception` (Run All goes on past the cell) only on ungraded code cells?"""
    nb = nbformat.read(_source(lab), as_version=4)
    for cell in nb.cells:
        if RAISES in cell.metadata.get("tags", []):
            assert cell.cell_type == "code" and "nbgrader" not in cell.metadata, cell.source


@pytest.mark.slow
@pytest.mark.parametrize("lab", LAB_IDS)
def test_release_is_what_nbgrader_generates(lab, tmp_path):
    """Is labs/<lab> exactly what `nbgrader generate_assignment` makes from solutions/<lab>?"""
    course = make_course(tmp_path / "course", lab)
    generated = nbformat.read(course / "labs" / lab / f"{lab}.ipynb", as_version=4)
    committed = nbformat.read(_release(lab), as_version=4)
    assert [(c.cell_type, c.source, c.metadata) for c in generated.cells] == [
        (c.cell_type, c.source, c.metadata) for c in committed.cells
    ], f"labs/{lab} drifted: run `nbgrader generate_assignment {lab} --force`"


def _execute(
    path: Path, workdir: Path, *, allow_errors: bool
) -> tuple[nbformat.NotebookNode, float]:
    nb = nbformat.read(path, as_version=4)
    start = time.monotonic()
    NotebookClient(
        nb, timeout=300, kernel_name="python3", allow_errors=allow_errors,
        resources={"metadata": {"path": str(workdir)}},
    ).execute()  # fmt: skip
    return nb, time.monotonic() - start


def _graded_values(nb) -> dict[str, float]:
    values = {}
    for gid, cell in _nbgrader_cells(nb).items():
        if cell.metadata["nbgrader"].get("grade"):
            results = [o for o in cell.outputs if o.output_type == "execute_result"]
            try:
                values[gid] = float(results[0]["data"]["text/plain"]) if results else None
            except ValueError:  # e.g. a released hidden-test cell, which holds no call
                values[gid] = None
    return values


@pytest.mark.slow
@pytest.mark.parametrize("lab", LAB_IDS)
def test_solution_executes_and_earns_every_point(lab, tmp_path):
    """Does the solution run top to bottom, in time, with every graded cell at full points?"""
    nb, seconds = _execute(_source(lab), tmp_path, allow_errors=False)
    assert seconds <= SOLUTION_SECONDS, f"{lab} took {seconds:.0f} s"
    shown = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "oneDNN" not in shown and "absl" not in shown  # TensorFlow's start-up lines
    assert [_errors(c) for c in nb.cells if _errors(c)] == []  # raises-exception cells included
    for gid, cell in _nbgrader_cells(nb).items():
        for out in cell.get("outputs", []):  # nbgrader gives a cell that wrote to stderr 0 points
            assert not (out.output_type == "stream" and out.name == "stderr"), (gid, out.text)
    points = {
        k: c.metadata["nbgrader"]["points"]
        for k, c in _nbgrader_cells(nb).items()
        if c.metadata["nbgrader"].get("grade")
    }
    assert _graded_values(nb) == pytest.approx(points)


def _errors(cell) -> list[str]:
    return [o.ename for o in cell.get("outputs", []) if o.output_type == "error"]


@pytest.mark.slow
@pytest.mark.parametrize("lab", LAB_IDS)
def test_release_runs_to_the_end(lab, tmp_path):
    """Does the student version run top to bottom ("Run All") without stopping?

    Executed with allow_errors=False, as "Run All" stops at the first error. A prediction's
    answer cell is released as `my_... = None` (no stub), so it runs. The cells that may raise
    are exactly the plain code cells tagged `raises-exception`, and only with NotImplementedError:
    they call a function the student has not written yet (a try-it cell, a demo on the student's
    own function); JupyterLab's Run All, like nbclient, goes on past a cell with that tag. Every
    tagged cell does raise here, so no tag hides an error that has another cause.
    """
    nb, _ = _execute(_release(lab), tmp_path, allow_errors=False)
    for cell in nb.cells:
        tagged = RAISES in cell.metadata.get("tags", [])
        assert _errors(cell) == (["NotImplementedError"] if tagged else []), cell.source[:300]
    assert all(v == 0 for v in _graded_values(nb).values() if v is not None)


def _tf_labs() -> list[str]:
    """Labs whose notebooks call TensorFlow in the student's kernel outside the graded cells."""
    return [lab for lab in LAB_IDS if "tf.nn.conv2d(" in _source(lab).read_text()]


@pytest.mark.slow
@pytest.mark.parametrize("onednn", ["1", "0"], ids=["oneDNN-on", "oneDNN-off"])
@pytest.mark.parametrize("kind", ["solutions", "labs"])
@pytest.mark.parametrize("lab", ["04_tf_conv2d"])
def test_tf_cells_never_abort_the_kernel(lab, kind, onednn, tmp_path):
    """Does the notebook run to the end in a separate process with oneDNN on and off?

    On CPUs with AVX-512, oneDNN aborts the process (exit 134, not a Python error) for some
    malformed tf.nn.conv2d calls; run as a subprocess, such an abort is this test's failure
    instead of a dead test runner. Errors raised in cells are allowed: the release's stubs raise.
    """
    import os
    import subprocess
    import sys

    assert lab in _tf_labs()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["TF_ENABLE_ONEDNN_OPTS"] = onednn
    out = tmp_path / "executed.ipynb"
    proc = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
         "--allow-errors", f"--ExecutePreprocessor.timeout={SOLUTION_SECONDS * 3}",
         "--output", str(out), str(ROOT / kind / lab / f"{lab}.ipynb")],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    nb = nbformat.read(out, as_version=4)
    errors = [
        (o.ename, o.evalue)
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    allowed = {"NotImplementedError"} if kind == "labs" else set()
    assert all(name in allowed for name, _ in errors), errors


@pytest.mark.slow
def test_lab05_timings_leave_out_a_conv2d_fast_that_still_loops(tmp_path):
    """A conv2d_fast that still loops over pixels would keep lab 05's timing sweep busy for
    many minutes. Does the lab run to the end, leave it out of the sweep and say why?"""
    nb = nbformat.read(_source("05_fast_conv2d"), as_version=4)
    loops = next(i for i, c in enumerate(nb.cells) if c.source.startswith("def conv2d_loops("))
    not_vectorized = "conv2d_fast = conv2d_loops  # a student who has not vectorized yet"
    nb.cells.insert(loops + 1, nbformat.v4.new_code_cell(not_vectorized))
    path = tmp_path / "looping.ipynb"
    nbformat.write(nb, path)
    nb, _ = _execute(path, tmp_path, allow_errors=False)
    sweep = next(c for c in nb.cells if c.source.startswith("rng = np.random.default_rng(2)"))
    text = "".join(o.get("text", "") for o in sweep.outputs)
    assert "conv2d_fast   skipped: about" in text and "Still looping over pixels?" in text
    assert text.count(" skipped   tf ") == 10  # every shape timed with TensorFlow only
