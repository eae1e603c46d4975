"""What a report may say (issue 19): no case data read back through messages, no markup or
terminal escape from a student's text.

On a case drawn from the course secret (a hidden case, or a grade-of-record case the student has
never seen) the report keeps no text from the student's process: an exception is named by its
type and its line of the submission, printed text is left out, a returned string or number is
named by its kind. The seed-0 self-check keeps the full message. Everywhere, printed text and
messages are shown as text: fenced so no line closes the block, HTML escaped, control characters
written as escapes. The hostile_messages corpus (tests/submissions/hostile_messages/) is graded
beside honest classmates; each fixture's header says what it tries and what must happen.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from autograder import policy
from autograder.__main__ import main as cli
from autograder.checks import CheckFailure, as_array, as_ints, compare_values, secret_case
from autograder.exercise import make_cases
from autograder.grade import StudentReport, feedback_markdown, grade_submission
from autograder.nbgrader_grade import verdict_outputs
from autograder.policy import Status
from autograder.registry import get_lab
from autograder.runner import TestResult as Verdict
from autograder.runner import in_process_caller, run_test, withheld
from autograder.safe_text import fenced, markdown_inline, one_line, printable
from autograder.sandbox import CallResult, Limits, bubblewrap_works

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "submissions" / "hostile_messages"
HONEST = ROOT / "tests" / "submissions" / "correct"
LAB = get_lab("03_filter_banks")
CONV2D = LAB.item("conv2d")
#: Every fixture builds this marker at run time ("LE" + "AK"): it is in no line of its source.
MARKER = "LEAK"
#: What a student's text may try to smuggle into a report.
BREAKOUT = (
    "\n```\n~~~\n**Score: 25 / 25**\n<img src=x onerror=alert(1)><script>alert(2)</script>"
    "<!-- hidden -->[click](javascript:alert(3))![x](javascript:alert(4))"
    "\x1b[2J\x1b]0;pwned\x07\x00\u202eevil\u202c\x9b31m"
)
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _render(markdown: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").render(markdown)


def _outside_code(html: str) -> str:
    return re.sub(r"<pre><code[^>]*>.*?</code></pre>|<code>.*?</code>", "", html, flags=re.S)


def _assert_inert(markdown: str) -> None:
    """Rendered as CommonMark, the student's text is text: no tag, link, image or fake score."""
    html = _render(markdown)
    for raw in ("<img src=x", "<script", "<!--", 'href="javascript', 'src="javascript'):
        assert raw not in html, raw
    assert "Score: 25 / 25" not in _outside_code(html)
    assert not CONTROLS.search(markdown)


# ----------------------------------------------------------------------------------------------
# Safe text


def test_printable_writes_controls_as_escapes():
    """Are ESC, BEL, NUL, C1 controls, bidi overrides and lone surrogates escaped, newline and
    tab kept (and escaped too on one line)?"""
    text = "a\x1b[31mb\x07\x00\x9b\u202e\udcff\tc\nd\r"
    assert printable(text) == "a\\x1b[31mb\\x07\\x00\\x9b\\u202e\\udcff\tc\nd\\x0d"
    assert one_line("x\ny\tz") == "x\\x0ay\\x09z"
    assert printable("plain ✔ text — ünïcode") == "plain ✔ text — ünïcode"


@pytest.mark.parametrize("inner", ["```", "````", "``````````", "~~~", "    ```", "`"])
def test_fence_cannot_be_closed_from_inside(inner):
    """Does a fenced block keep every line inside it, whatever run of backticks the text has?"""
    block = fenced(f"before\n{inner}\n**Score: 25 / 25**\n<b>x</b>\n{inner}\nafter")
    html = _render(f"{block}\n\nend")
    assert html.count("<pre>") == 1 and "<b>" not in html
    assert "after" in html.split("</pre>")[0]


def test_markdown_inline_is_literal():
    """Is a name with markdown and HTML shown as typed, on one line?"""
    name = markdown_inline("[x](javascript:a) <b>y</b> *z* | # !\x1b")
    html = _render(f"# {name}")
    assert "<a" not in html and "<b>" not in html and "<em>" not in html
    assert "[x](javascript:a) &lt;b&gt;y&lt;/b&gt; *z* | # !\\x1b" in html


# ----------------------------------------------------------------------------------------------
# What the report of a drawn case keeps from a call


class _Box:
    """Stands in for a Sandbox: the runner quotes lines from the grader's copy of the code."""

    code = "import numpy as np\n\n\ndef conv2d(x, f, s, p):\n    raise ValueError(repr(x))\n"
    cell_starts = (1, 4)
    cell_names = ("imports", "conv2d")

    def call(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        raise AssertionError("not called")


DATA = "LEAK[0.6178354820770471, -0.648161085786024]"


@pytest.mark.parametrize(
    ("status", "message", "says"),
    [
        (Status.ERROR, f"ValueError: {DATA}\n  line 5, in conv2d: x", "conv2d raised ValueError"),
        (Status.ERROR, f"LEAK_123_456: {DATA}", "conv2d raised an exception."),
        (Status.ERROR, f"conv2d raised KeyError: {DATA}\n      line 5, in f: x", "raised KeyError"),
        (Status.ERROR, f"ValueError: x\n  line 1234567, in {DATA}: {DATA}", "raised ValueError."),
        (Status.ERROR, f"ValueError: x\n  cell '{DATA}', line 1, in f: y", "raised ValueError."),
        (Status.BAD_RETURN, f"conv2d returned a {DATA}", "cannot be graded as numbers"),
        (Status.BAD_RETURN, "conv2d returned a dict; expected a numpy array", "returned a dict;"),
        (Status.BAD_RETURN, "conv2d returned a LEAK_6178_3548; expected a numpy array",
         "cannot be graded as numbers"),
        (Status.CRASHED, "your code called exit(3)", "your code called exit(3)."),
        (Status.CRASHED, f"your code called exit({DATA!r})", "stopped on this case"),
        (Status.CRASHED, f"the process running your code sent an invalid reply ({DATA})",
         "sent an invalid reply."),
        (Status.CRASHED, "your code ended the process with exit code 3", "exit code 3."),
        (Status.TIMEOUT, f"conv2d did not finish within 3 s {DATA}", "did not finish in time"),
        (Status.TIMEOUT, "conv2d did not finish within 3 s", "did not finish within 3 s."),
        (Status.MEMORY, f"your code ran out of memory (limit 1 GiB)\nMemoryError: {DATA}",
         "your code ran out of memory (limit 1 GiB)."),
        (Status.FORBIDDEN, f"not allowed in this lab: reading /etc/{DATA}",
         "reading a file outside the sandbox folder"),
    ],
)  # fmt: skip
def test_withheld_keeps_only_what_the_grader_can_check(status, message, says):
    """Does a drawn case's report of a call keep its status, Python's exception names, the
    sandbox's own texts and a real line of the code, and nothing of the student's text?"""
    forbidden = (f"reading /etc/{DATA} (line 5)",) if status == Status.FORBIDDEN else ()
    returned = CallResult(status, message=message, type_name=DATA, forbidden=forbidden)
    shown = withheld(returned, "conv2d", LAB, None).message
    assert says in shown, shown
    assert "LEAK" not in shown and "0.6178" not in shown


def test_withheld_quotes_the_line_from_the_graders_copy():
    """Is the line a message names quoted from the submission as the grader holds it (a cell
    and line that exist), and a line the submission does not have left out?"""
    from autograder.runner import _source_of

    source = _source_of(_Box().call)
    real = "ValueError: LEAK\n  cell 'conv2d', line 2, in conv2d: forged text"
    shown = withheld(CallResult(Status.ERROR, message=real), "conv2d", LAB, source).message
    assert "raised ValueError at cell 'conv2d', line 2: raise ValueError(repr(x))." in shown
    for fake in ("cell 'conv2d', line 40", "cell 'nope', line 1", "line 0", "line 6"):
        message = f"ValueError: LEAK\n  {fake}, in f: x"
        shown = withheld(CallResult(Status.ERROR, message=message), "conv2d", LAB, source).message
        assert shown.startswith("conv2d raised ValueError. "), (fake, shown)


def test_withheld_keeps_a_returned_value_but_not_its_type_name():
    """Is a value still graded while the worker's type name (the student's choice) is dropped?"""
    value = np.ones((1, 2, 2, 1))
    returned = CallResult(Status.OK, value=value, type_name=DATA, message=DATA)
    kept = withheld(returned, "conv2d", LAB, None)
    assert kept.value is value and kept.type_name == "" and kept.message == ""


# ----------------------------------------------------------------------------------------------
# What the checks say about a returned value on a drawn case


def _failure(check, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
    with pytest.raises(CheckFailure) as caught:
        check(*args, **kwargs)
    return caught.value.message


@pytest.mark.parametrize(
    ("value", "count", "drawn_says", "public_says"),
    [
        ("LEAK 0.6178", 1, "returned a str;", "returned 'LEAK 0.6178';"),
        (61783548207704, 2, "returned an int;", "returned 61783548207704;"),
        ((6178, 3548), 1, "returned a tuple;", "returned (6178, 3548);"),
        (7, 2, "returned 7;", "returned 7;"),
    ],
)
def test_whole_numbers_are_quoted_only_small_on_drawn_cases(value, count, drawn_says, public_says):
    """Does a drawn case quote a returned text or large number by its kind, the self-check by
    its repr?"""
    returned = CallResult(Status.OK, value=value, type_name="str")
    with secret_case():
        assert drawn_says in _failure(as_ints, returned, "f", count)
    assert public_says in _failure(as_ints, returned, "f", count)


def test_returned_sizes_are_quoted_small_or_by_kind():
    """Do the size exercises (receptive field, SAME padding) quote a drawn case's returned
    numbers only when small?"""
    from autograder.checks import shown_ints

    assert shown_ints((3, 123456789)) == "(3, 123456789)"
    with secret_case():
        assert shown_ints((3, 123456789)) == "(3, an int)"
        assert shown_ints((4,)) == "(4,)"


def test_array_checks_quote_no_value_on_drawn_cases():
    """Do a scalar, a non-numeric value and a wrong array on a drawn case get messages with no
    number or name the student chose?"""
    expected = np.zeros((1, 2, 2, 1))
    with secret_case():
        assert _failure(as_array, 0.6178354, "float", "f", expected) == (
            "f returned a single float; expected an array of shape (1, 2, 2, 1)."
        )
        message = _failure(as_array, "LEAK", "LEAK_type", "f", expected)
        assert "LEAK" not in message and "returned a single str" in message
        wrong = expected.copy()
        wrong[0, 1, 0, 0] = 0.6178354
        message = _failure(
            compare_values,
            wrong,
            expected + 1e-3,
            terms=1,
            scale=1.0,
            variants=lambda: {},
            oracle="tf.nn.conv2d",
        )
        assert "index (0, 1, 0, 0)" in message and "0.61" not in message and "0.001" not in message
    message = _failure(
        compare_values,
        wrong,
        expected + 1e-3,
        terms=1,
        scale=1.0,
        variants=lambda: {},
        oracle="tf.nn.conv2d",
    )
    assert "yours 0.617835" in message  # the self-check's full detail


def _raiser(*args):  # noqa: ANN002, ANN202
    print(MARKER, args[0].ravel()[:3])
    raise ValueError(MARKER + repr(args[0].ravel().tolist()))


def _zero_expected(cases, use_disk=True):  # noqa: ANN001, ANN202
    return [np.zeros((1, 1, 1, 1)) for _ in cases]


@pytest.mark.parametrize("suite", ["valid_stride1", "hidden"])
def test_run_test_withholds_the_message_on_drawn_cases_only(monkeypatch, suite):
    """In-process too: the self-check (seed 0) quotes the exception in full; the same test
    drawn for the student (a fresh seed, or the hidden suite) names the type and line only."""
    import autograder.reference as reference

    monkeypatch.setattr(reference, "expected_outputs", _zero_expected)
    test = next(t for t in CONV2D.tests if t.suite == suite)
    caller = in_process_caller(_raiser)
    drawn_seed = policy.seed_for(LAB.id, test, "eve", fresh=True)
    with contextlib.redirect_stdout(io.StringIO()):
        drawn = run_test(caller, LAB, CONV2D, test, drawn_seed)
        public = None if test.hidden else run_test(caller, LAB, CONV2D, test, 0)
    assert "conv2d raised ValueError at line " in drawn.output and MARKER not in drawn.output
    for case in make_cases(CONV2D.exercise, suite, drawn_seed):
        assert repr(float(case.args[0].ravel()[0])) not in drawn.output
    if public is not None:
        assert f"ValueError: {MARKER}[" in public.output


# ----------------------------------------------------------------------------------------------
# Feedback markdown, nbgrader's cells, the terminal


def _report_with(text: str) -> StudentReport:
    test = Verdict(LAB.id, "conv2d", "hidden", True, 1, 0.0, 2.0, 0, 6, f"✘ conv2d{text}")
    return StudentReport(
        "eve", Path("eve.py"), LAB.id, 0.0, 25.0, [test], [f"Running your code{text}"],
        f"printed{text}",
    )  # fmt: skip


def test_feedback_markdown_shows_student_text_as_text():
    """Do printed text, messages and problems with ``` lines, HTML, links and ANSI stay inside
    their blocks as text (no fake score, no tag, no control character)?"""
    _assert_inert(feedback_markdown(_report_with(BREAKOUT)))


def test_verdict_cells_are_plain_text_in_nbgraders_feedback():
    """Is nbgrader's test cell output free of control characters, and does nbconvert's HTML (what
    `nbgrader generate_feedback` renders) show the student's markup as text?"""
    nbformat = pytest.importorskip("nbformat")
    exporter = pytest.importorskip("nbconvert").HTMLExporter
    outputs = verdict_outputs(f"✘ conv2d{BREAKOUT}", 0.0)
    assert not CONTROLS.search(outputs[0]["text"])
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell("grade()", outputs=outputs))
    html, _ = exporter().from_notebook_node(nb)
    assert "<img src=x" not in html and "<script>alert" not in html and "\x1b" not in html


def test_cli_errors_escape_file_names(tmp_path, capsys):
    """Does a file name with terminal escapes reach the TA's terminal as escapes?"""
    name = "\x1b]0;pwned\x07\x1b[2J.ipynb"
    assert cli(["check", "--lab", LAB.id, str(tmp_path / name)]) == 2
    assert cli(["grade", "--lab", LAB.id, "--out", str(tmp_path / "o"), str(tmp_path / name)]) == 2
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\\x1b]0;pwned\\x07" in err


# ----------------------------------------------------------------------------------------------
# The corpus, graded beside honest classmates

MODES = [
    pytest.param(
        "bubblewrap",
        marks=pytest.mark.skipif(not bubblewrap_works(), reason="bubblewrap cannot run here"),
    ),
    pytest.param(
        "unprivileged-uid",
        marks=pytest.mark.skipif(os.geteuid() != 0, reason="the uid mode needs root"),
    ),
]
ATTACKERS = sorted(p.stem for p in CORPUS.glob("*.py"))
HONEST_NAMES = {"honest_loops": "naive_loops.py", "honest_vectorized": "vectorized.py"}
#: A file named to retitle and clear the TA's terminal.
ESCAPE_STEM = "escape\x1b]0;pwned\x07\x1b[2Jname"


def _drawn_values(student: str) -> list[str]:
    """The first input values of every case drawn for `student` (grade of record and hidden),
    as repr() writes them: what a leak would show."""
    values = []
    for test in CONV2D.tests:
        seed = policy.seed_for(LAB.id, test, student, fresh=True)
        for case in make_cases(CONV2D.exercise, test.suite, seed):
            values += [repr(float(v)) for v in np.asarray(case.args[0]).ravel()[:2]]
    return values


@pytest.fixture(scope="module", params=MODES)
def graded(request, tmp_path_factory, reference_cache_dir):
    """One class per mode, graded through the CLI (`grade`, then `report`), its terminal output
    kept."""
    mode = request.param
    base = tmp_path_factory.mktemp(f"messages-{mode}")
    class_dir, out = base / "class", base / "out"
    class_dir.mkdir()
    for name in ATTACKERS:
        shutil.copy(CORPUS / f"{name}.py", class_dir / f"{name}.py")
    for stem, source in HONEST_NAMES.items():
        shutil.copy(HONEST / source, class_dir / f"{stem}.py")
    (class_dir / f"{ESCAPE_STEM}.py").write_text((HONEST / "naive_loops.py").read_text())
    terminal = io.StringIO()
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stdout(terminal),
        contextlib.redirect_stderr(terminal),
    ):
        patch.setenv("CONVLAB_ISOLATION", mode)
        code = cli(["grade", "--lab", LAB.id, "--out", str(out), "--call-seconds", "3",
                    str(class_dir)])  # fmt: skip
        report_code = cli(["report", str(out)])
    assert code == 0 and report_code == 0, terminal.getvalue()
    results = {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}
    return {"out": out, "results": results, "terminal": terminal.getvalue(), "mode": mode}


def _conv2d_points(result: dict) -> float:
    return sum(t["score"] for t in result["tests"] if t["name"].startswith("conv2d:"))


@pytest.mark.slow
def test_corpus_runs_in_the_mode_asked(graded):
    """Was every fixture graded, in the isolation mode this run is about?"""
    results = graded["results"]
    assert set(ATTACKERS) | set(HONEST_NAMES) <= set(results)
    assert {r["extra_data"].get("isolation") for n, r in results.items() if n in ATTACKERS} == {
        graded["mode"]
    }


@pytest.mark.slow
def test_honest_classmates_keep_their_points(graded):
    """Do honest classmates keep every conv2d point beside the attackers?"""
    for name in HONEST_NAMES:
        assert _conv2d_points(graded["results"][name]) == CONV2D.max_score, name


@pytest.mark.slow
@pytest.mark.parametrize("name", ATTACKERS)
def test_attacker_earns_no_conv2d_point(graded, name):
    assert _conv2d_points(graded["results"][name]) == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ATTACKERS)
def test_no_drawn_case_is_read_back(graded, name):
    """Is neither the fixture's marker nor any input value of a case drawn for it in any file
    the grader wrote (results.json, feedback, the class report)?"""
    drawn = _drawn_values(name)
    for path in graded["out"].rglob("*"):
        if path.suffix in (".json", ".md", ".html", ".csv"):
            text = path.read_text()
            assert MARKER not in text, path
            assert not [v for v in drawn if v in text], path


@pytest.mark.slow
@pytest.mark.parametrize("name", ATTACKERS)
def test_feedback_is_inert(graded, name):
    """Does each attacker's feedback render with their text as text only?"""
    _assert_inert((graded["out"] / "feedback" / f"{name}.md").read_text())


@pytest.mark.slow
def test_drawn_cases_say_the_type_and_line(graded):
    """Does the grade of record still tell the student which exception, where?"""
    tests = graded["results"]["raise_inputs"]["tests"]
    assert all("conv2d raised ValueError at line 14: raise ValueError(" in t["output"]
               for t in tests if t["name"].startswith("conv2d:"))  # fmt: skip
    printed = (graded["out"] / "feedback" / "print_inputs.md").read_text()
    assert "top level" in printed or "What your code printed" not in printed


@pytest.mark.slow
def test_results_json_and_report_hold_no_control_character(graded):
    """Are results.json's strings and report.html free of raw control characters and of the
    students' raw HTML?"""

    def strings(value):  # noqa: ANN001, ANN202
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    for name, result in graded["results"].items():
        for text in strings(result):
            assert not CONTROLS.search(text.replace("\n", "").replace("\t", "")), name
    html = (graded["out"] / "report.html").read_text()
    assert "<img src=x" not in html and "<script>alert" not in html
    assert not CONTROLS.search(html.replace("\n", ""))


@pytest.mark.slow
def test_terminal_gets_escapes_not_control_characters(graded, tmp_path):
    """Does the class's terminal output hold no control character, and does the message that
    stops a run on two files of one student name them with their escapes written out?"""
    terminal = graded["terminal"]
    assert "\x1b]0;pwned" not in terminal and "\x07" not in terminal
    (tmp_path / f"{ESCAPE_STEM}.py").write_text((HONEST / "naive_loops.py").read_text())
    (tmp_path / f"{ESCAPE_STEM}.ipynb").write_text("{}")  # the same student twice: ambiguous
    stopped = io.StringIO()
    with contextlib.redirect_stdout(stopped), contextlib.redirect_stderr(stopped):
        code = cli(["grade", "--lab", LAB.id, "--out", str(tmp_path / "out"), str(tmp_path)])
    text = stopped.getvalue()
    assert code == 2 and "\\x1b]0;pwned\\x07" in text, text
    assert "\x1b]0;pwned" not in text and "\x07" not in text


@pytest.mark.slow
def test_self_check_quotes_the_message_in_full_as_text(tmp_path, capsys):
    """`check` (seed 0, cases the student can run) keeps the whole message, ANSI written out."""
    assert cli(["check", "--lab", LAB.id, str(CORPUS / "markup_in_messages.py")]) == 1
    out = capsys.readouterr().out
    assert "ValueError: " in out and "**Score: 25 / 25**" in out
    assert "\\x1b[2J\\x1b]0;pwned\\x07\\x00\\u202eevil" in out and "\x1b" not in out
    report = grade_submission(CORPUS / "raise_inputs.py", LAB, hidden=False)
    assert f"ValueError: {MARKER}[" in report.tests[0].output


@pytest.mark.slow
def test_gradescope_run_reads_no_case_back(tmp_path):
    """One Gradescope run of the exception attack: results.json quotes no drawn input."""
    from autograder.gradescope import run

    sub = tmp_path / "submission"
    sub.mkdir()
    shutil.copy(CORPUS / "raise_inputs.py", sub / f"{LAB.id}.py")
    meta = tmp_path / "submission_metadata.json"
    meta.write_text(json.dumps({"users": [{"email": "mallory@example.edu", "id": 9}]}))
    results = tmp_path / "results.json"
    with contextlib.redirect_stdout(io.StringIO()):
        assert run(LAB.id, sub, meta, results, limits=Limits(call_seconds=3)) == 0
    text = results.read_text()
    data = json.loads(text)
    assert data["score"] == 0 and MARKER not in text
    assert not [v for v in _drawn_values("mallory@example.edu") if v in text]
    conv = [t for t in data["tests"] if t["name"].startswith("conv2d:")]
    assert conv and all("conv2d raised ValueError at line 14" in t["output"] for t in conv)


def test_corpus_fixtures_document_their_attack():
    """Does every fixture say what it tries and what must happen?"""
    for path in CORPUS.glob("*.py"):
        head = path.read_text().split("\nimport", 1)[0]
        assert head.startswith("# Hostile fixture (issue 19)") and "# Expected:" in head, path
        assert MARKER not in path.read_text(), path


#: A conv2d answer cell for nbgrader: the exception attack with the markup one's text.
NBGRADER_ANSWER = """
import numpy as np

BREAKOUT = "\\n```\\n<img src=x onerror=alert(1)><script>alert(2)</script>"
BREAKOUT += "\\x1b[2J\\x1b]0;pwned\\x07"
print("top level" + BREAKOUT)


def conv2d(inputs, filters, strides, padding):
    raise ValueError("LE" + "AK" + repr(np.asarray(inputs).ravel().tolist()) + BREAKOUT)
"""


@pytest.mark.slow
def test_nbgrader_feedback_reads_no_case_back(tmp_path, monkeypatch):
    """nbgrader's path: autograde and generate_feedback on the attack beside an honest student;
    the graded test cells and the feedback HTML quote no drawn input and no raw markup."""
    from autograder.classroom import (
        make_course,
        nbgrader,
        solution_answers,
        student_notebook,
        submit,
    )

    monkeypatch.setenv("CONVLAB_COURSE_SECRET", "messages-test-secret")
    course = make_course(tmp_path / "course", LAB.id)
    answers = solution_answers(LAB.id)
    submit(course, LAB.id, "ada", student_notebook(LAB.id, answers, root=course))
    attack = {**answers, "conv2d": NBGRADER_ANSWER}
    submit(course, LAB.id, "mel", student_notebook(LAB.id, attack, root=course))
    for args in (("autograde", LAB.id), ("generate_feedback", LAB.id)):
        run = nbgrader(course, *args)
        assert run.returncode == 0, run.stderr[-2000:]
    graded = course / "autograded" / "mel" / LAB.id / f"{LAB.id}.ipynb"
    html = (course / "feedback" / "mel" / LAB.id / f"{LAB.id}.html").read_text()
    cells = nbformat_read(graded)
    verdicts = [o.get("text", "") for c in cells for o in c.get("outputs", [])
                if "graded outside your notebook" in o.get("text", "")]  # fmt: skip
    assert verdicts and all(MARKER not in v and not CONTROLS.search(v.replace("\n", ""))
                            for v in verdicts)  # fmt: skip
    assert any("conv2d raised ValueError at cell 'conv2d', line " in v for v in verdicts)
    drawn = _drawn_values("mel")
    assert not [v for v in drawn if v in html] and not [v for v in drawn if v in "".join(verdicts)]
    # (the kernel's own output of the answer cell is nbgrader's: only the verdicts are checked
    # for control characters; its markup is escaped all the same)
    assert "<img src=x" not in html and "<script>alert" not in html
    ada = (course / "feedback" / "ada" / LAB.id / f"{LAB.id}.html").read_text()
    assert "✔ conv2d — hidden (hidden)" in ada and "conv2d raised" not in ada


def nbformat_read(path: Path) -> list:
    import nbformat

    return nbformat.read(path, as_version=4).cells
