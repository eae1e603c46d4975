"""Student ids from the folder layouts TAs download (issue 18): nbgrader trees, one folder per
student (GitHub Classroom), Gradescope's export, Canvas's flat downloads, plain files."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from autograder.__main__ import main
from autograder.grade import GradeError, grade_class
from autograder.registry import get_lab
from autograder.submission import LayoutError, discover, safe_id, student_id, student_key

ROOT = Path(__file__).resolve().parents[1]
LAB = get_lab("03_filter_banks")
NB = f"{LAB.id}.ipynb"
SUBMISSIONS = ROOT / "tests" / "submissions"
CORRECT = (SUBMISSIONS / "correct" / "vectorized.py").read_text()
FLIPPED = (SUBMISSIONS / "wrong" / "flipped_kernel.py").read_text()
#: Zoë Smith's made-safe id, and a file literally named after it.
ZOE = safe_id("Zoë Smith")

GRADESCOPE_YML = """\
submission_1001:
  :submitters:
  - :name: Ada Lovelace
    :sid: '1815'
    :email: ada@example.edu
  :created_at: 2026-12-01 10:00:00.000000000 +00:00
  :score: 0.0
submission_1002:
  :submitters:
  - :name: Bob Ross
    :email: bob@example.edu
  - :name: Cy Young
    :sid: '1867'
    :email: cy@example.edu
"""


def build(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def found(root: Path, args: list[str], layout: str = "auto") -> dict[str, str]:
    """student id -> the graded file (relative to `root`), as `grade` would read the class."""
    here = os.getcwd()
    os.chdir(root)
    try:
        result, _ = discover([Path(a) for a in args], lab=LAB.id, layout=layout)
    finally:
        os.chdir(here)
    return {f.student: f.path.as_posix() for f in result}


# ----------------------------------------------------------------------------------------------
# The table: a TA's folder, what is passed to `grade`, the ids and files it must give

LAYOUTS = [
    pytest.param(
        {
            f"submitted/alice/{LAB.id}/{NB}": "",
            f"submitted/bob/{LAB.id}/{LAB.id}.py": "",
            "submitted/bob/02_stride_padding/02_stride_padding.ipynb": "",
            f"submitted/cy/{LAB.id}/.ipynb_checkpoints/{LAB.id}-checkpoint.ipynb": "",
            f"submitted/cy/{LAB.id}/{NB}": "",
        },
        ["submitted"],
        "auto",
        {
            "alice": f"submitted/alice/{LAB.id}/{NB}",
            "bob": f"submitted/bob/{LAB.id}/{LAB.id}.py",
            "cy": f"submitted/cy/{LAB.id}/{NB}",
        },
        id="nbgrader-submitted",
    ),
    pytest.param(
        {f"submitted2/alice/{LAB.id}/{NB}": "", f"submitted2/bob/{LAB.id}/{NB}": ""},
        ["submitted2"],
        "auto",
        {"alice": f"submitted2/alice/{LAB.id}/{NB}", "bob": f"submitted2/bob/{LAB.id}/{NB}"},
        id="nbgrader-tree-named-submitted2",
    ),
    pytest.param(
        {f"submitted/zoe/{LAB.id}/{NB}": "", f"submitted/zoe/{LAB.id}/x.py": ""},
        ["submitted"],
        "auto",
        {"zoe": f"submitted/zoe/{LAB.id}/{NB}"},
        id="nbgrader-lab-notebook-wins-over-a-scratch-file",
    ),
    pytest.param(
        {f"submitted/zoe/{LAB.id}/work/old/{NB}": "", f"submitted/zoe/{LAB.id}/{NB}": ""},
        ["submitted"],
        "auto",
        {"zoe": f"submitted/zoe/{LAB.id}/{NB}"},
        id="nbgrader-nested-copy-is-zoes-the-top-one-graded",
    ),
    pytest.param(
        {f"submitted/alice/{LAB.id}/{NB}": "", f"submitted/bob/{LAB.id}/{NB}": ""},
        ["submitted/bob", f"submitted/alice/{LAB.id}/{NB}"],
        "auto",
        {"alice": f"submitted/alice/{LAB.id}/{NB}", "bob": f"submitted/bob/{LAB.id}/{NB}"},
        id="nbgrader-one-student-folder-and-one-file",
    ),
    pytest.param(
        {
            "lab03-alice/conv.py": "",
            "lab03-bob/conv.py": "",
            "lab03-bob/.git/hooks/x.py": "",
            "__MACOSX/lab03-bob/._conv.py": "",
        },
        ["."],
        "auto",
        {"lab03-alice": "lab03-alice/conv.py", "lab03-bob": "lab03-bob/conv.py"},
        id="github-classroom-same-file-name",
    ),
    pytest.param(
        {
            "alice/src/conv.py": "",
            "bob/02_stride_padding/02_stride_padding.ipynb": "",
            f"bob/{LAB.id}/{NB}": "",
        },
        ["."],
        "folders",
        {"alice": "alice/src/conv.py", "bob": f"bob/{LAB.id}/{NB}"},
        id="folders-nested-and-a-repository-of-every-lab",
    ),
    pytest.param(
        {
            "export/submission_metadata.yml": GRADESCOPE_YML,
            f"export/submission_1001/{NB}": "",
            "export/submission_1002/conv.py": "",
        },
        ["export"],
        "auto",
        {
            "1815": f"export/submission_1001/{NB}",
            "bob@example.edu": "export/submission_1002/conv.py",
            "1867": "export/submission_1002/conv.py",
        },
        id="gradescope-export-group-graded-per-member",
    ),
    pytest.param(
        {
            "one/submission_metadata.yml": ":submitters:\n- :name: \"O'Hara, Kim\"\n  :sid: ''\n"
            ":created_at: 2026-12-01\n",
            "one/kim.py": "",
        },
        ["one"],
        "gradescope",
        {student_key("O'Hara, Kim"): "one/kim.py"},
        id="gradescope-one-submission-by-name",
    ),
    pytest.param(
        {
            "canvas/smithjohn_12345_67890_conv2d.ipynb": "",
            f"canvas/doejane_LATE_222_333_{LAB.id}-1.ipynb": "",
            "canvas/doejane_LATE_222_333_notes.py": "",
            "canvas/LATE_leeann_444_555_conv.py": "",
        },
        ["canvas"],
        "auto",
        {
            "smithjohn_12345": "canvas/smithjohn_12345_67890_conv2d.ipynb",
            "doejane_222": f"canvas/doejane_LATE_222_333_{LAB.id}-1.ipynb",
            "leeann_444": "canvas/LATE_leeann_444_555_conv.py",
        },
        id="canvas-flat-late-and-resubmitted",
    ),
    pytest.param(
        {"class/ada.py": "", "class/bob.ipynb": "", "class/notes.txt": ""},
        ["class"],
        "auto",
        {"ada": "class/ada.py", "bob": "class/bob.ipynb"},
        id="plain-files",
    ),
    pytest.param(
        {"class/Zoë Smith.py": "", f"class/{ZOE}.py": ""},
        ["class"],
        "auto",
        {ZOE: "class/Zoë Smith.py", student_key(ZOE): f"class/{ZOE}.py"},
        id="made-safe-id-never-another-students-file-name",
    ),
    pytest.param(
        {"alice/conv.py": "", "bob/conv.py": ""},
        ["alice/conv.py", "bob/conv.py"],
        "folders",
        {"alice": "alice/conv.py", "bob": "bob/conv.py"},
        id="single-files-named-by-their-folder",
    ),
    pytest.param(
        {"mixed/ada.py": "", "mixed/more/bob.py": ""},
        ["mixed"],
        "files",
        {"ada": "mixed/ada.py", "bob": "mixed/more/bob.py"},
        id="files-layout-reads-every-folder",
    ),
]


@pytest.mark.parametrize(("files", "args", "layout", "expected"), LAYOUTS)
def test_layout_gives_ids(tmp_path: Path, files, args, layout, expected):
    """Does each TA layout give every student their own id and their own file?"""
    build(tmp_path, files)
    assert found(tmp_path, args, layout) == expected


def test_made_safe_ids_stay_apart():
    """Can no unchanged name take the form a made-safe id has?"""
    assert ZOE == "Zo__Smith-20d880d2"  # the example of the issue
    assert student_key("Zoë Smith") == ZOE
    assert student_key(ZOE) != ZOE and re.fullmatch(
        r"Zo__Smith-20d880d2-[0-9a-f]{8}", student_key(ZOE)
    )
    assert student_key("alice") == "alice" and student_key("bob-2024") == "bob-2024"
    assert student_id(Path("class") / f"{ZOE}.py") == student_key(ZOE)


def test_a_student_without_a_file_is_a_note(tmp_path: Path):
    """Is a student folder with nothing to grade said, not skipped in silence?"""
    build(tmp_path, {"alice/conv.py": "", "bob/README.md": ""})
    result, notes = discover([tmp_path], lab=LAB.id)
    assert [f.student for f in result] == ["alice"]
    assert notes == [f"{tmp_path / 'bob'} holds no .ipynb or .py file: not graded"]


def test_files_outside_the_lab_folder_are_a_note(tmp_path: Path):
    """In an nbgrader tree, are files in no lab's folder said, other labs' files not?"""
    build(tmp_path, {
        f"sub/alice/{LAB.id}/{NB}": "", "sub/bob/conv.py": "", "sub/bob/02_stride_padding/a.py": "",
        "sub/stray.ipynb": "", "sub/cy/02_stride_padding/b.py": "",
    })  # fmt: skip
    result, notes = discover([tmp_path / "sub"], lab=LAB.id)
    assert [f.student for f in result] == ["alice"]
    assert notes == [
        f"{tmp_path / 'sub/bob'} has no {LAB.id}/ folder; not graded: "
        f"{tmp_path / 'sub/bob/conv.py'}",
        f"in no student's folder, not graded: {tmp_path / 'sub/stray.ipynb'}",
    ]


def test_files_not_graded_are_listed(tmp_path: Path):
    """Does the chosen submission carry the student's other files, for a note?"""
    build(tmp_path, {f"submitted/zoe/{LAB.id}/{NB}": "", f"submitted/zoe/{LAB.id}/x.py": ""})
    (zoe,), _ = discover([tmp_path / "submitted"], lab=LAB.id)
    assert zoe.others == (tmp_path / f"submitted/zoe/{LAB.id}/x.py",)


def test_a_link_to_a_classmates_folder_is_refused(tmp_path: Path):
    """Is a student folder that links to a classmate's graded as a link (refused when read)?"""
    build(tmp_path, {"bob/conv.py": CORRECT})
    (tmp_path / "mallory").symlink_to(tmp_path / "bob")
    result = {f.student: f.path for f in discover([tmp_path], lab=LAB.id)[0]}
    assert result == {"bob": tmp_path / "bob" / "conv.py", "mallory": tmp_path / "mallory"}


# ----------------------------------------------------------------------------------------------
# Ambiguities: nothing graded, a message naming the files

AMBIGUOUS = [
    pytest.param(
        {"alice/conv.py": "", "alice/helpers.py": "", "bob/conv.py": ""},
        ["."],
        "auto",
        "cannot tell which file to grade for 1 student(s); nothing was graded:\n"
        "  alice: alice/conv.py, alice/helpers.py\n"
        f"Leave one .ipynb or .py file per student, or name the one to grade {NB}.",
        id="two-files-in-a-student-folder",
    ),
    pytest.param(
        {f"submitted/zoe/{LAB.id}/{NB}": "", f"submitted/zoe/{LAB.id}/{LAB.id}.py": ""},
        ["submitted"],
        "auto",
        "cannot tell which file to grade for 1 student(s); nothing was graded:\n"
        f"  zoe: submitted/zoe/{LAB.id}/{NB}, submitted/zoe/{LAB.id}/{LAB.id}.py\n"
        f"Leave one .ipynb or .py file per student, or name the one to grade {NB}.",
        id="notebook-and-py-both-named-after-the-lab",
    ),
    pytest.param(
        {"alice/conv.py": "", "bob/conv.py": ""},
        ["."],
        "files",
        "1 student id(s) would be given to more than one submission (ids that differ only in "
        "letter case clash too); nothing was graded:\n"
        "  alice/conv.py (files: 'conv'), bob/conv.py (files: 'conv')\n"
        "Give each student's file its own name, or pass the layout (--layout folders when each "
        "folder is one student).",
        id="same-file-name-as-files",
    ),
    pytest.param(
        {"class/Ada.py": "", "class/ada.py": ""},
        ["class"],
        "auto",
        "1 student id(s) would be given to more than one submission (ids that differ only in "
        "letter case clash too); nothing was graded:\n"
        "  class/Ada.py (files: 'Ada'), class/ada.py (files: 'ada')\n"
        "Give each student's file its own name, or pass the layout (--layout folders when each "
        "folder is one student).",
        id="ids-one-letter-case-apart",
    ),
    pytest.param(
        {"class/ada.py": "", "class/bob/conv.py": ""},
        ["class"],
        "auto",
        "cannot tell how class is laid out: it holds files (class/ada.py) and folders of files "
        "(class/bob); pass --layout files (every file is a student, named by its file) or "
        "--layout folders (every folder is a student), or grade them separately",
        id="loose-files-next-to-student-folders",
    ),
    pytest.param(
        {"canvas/smithjohn_12345_67890_conv2d.ipynb": "", "canvas/conv2d.ipynb": ""},
        ["canvas"],
        "auto",
        "these files in canvas are not named as Canvas names downloads (name_id_id_file), so "
        "whose they are is unknown: canvas/conv2d.ipynb",
        id="canvas-file-of-nobody",
    ),
    pytest.param(
        {
            "export/submission_metadata.yml": GRADESCOPE_YML,
            "export/submission_1001/a.py": "",
            "export/submission_9999/b.py": "",
        },
        ["export"],
        "auto",
        "export/submission_metadata.yml has no entry for submission_9999",
        id="gradescope-folder-not-in-the-metadata",
    ),
]


@pytest.mark.parametrize(("files", "args", "layout", "message"), AMBIGUOUS)
def test_ambiguity_stops_with_the_files_named(tmp_path: Path, files, args, layout, message):
    """Does every doubt about whose file is graded stop discovery with this exact message?"""
    build(tmp_path, files)
    with pytest.raises(LayoutError) as error:
        found(tmp_path, args, layout)
    assert str(error.value) == message


def test_ambiguity_exits_non_zero_and_grades_nobody(tmp_path: Path, capsys):
    """Does `grade` refuse an ambiguous class with the message, exit 2, and write nothing?"""
    build(tmp_path, {"c/alice/conv.py": CORRECT, "c/alice/old.py": FLIPPED, "c/bob/conv.py": ""})
    out = tmp_path / "out"
    assert main(["grade", "--lab", LAB.id, "--out", str(out), str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "cannot tell which file to grade" in err
    assert f"alice: {tmp_path / 'c/alice/conv.py'}, {tmp_path / 'c/alice/old.py'}" in err
    assert not out.exists()


def test_a_file_name_id_never_replaces_another_files_result(tmp_path: Path):
    """Is `grade bob/conv.py` into the --out holding alice/conv.py's result "conv" refused?"""
    out = tmp_path / "out"
    out.mkdir()
    alice = str(tmp_path / "alice" / "conv.py")
    extra = {"lab": LAB.id, "student": "conv", "submission_file": alice}
    stored = {"score": 25, "tests": [], "extra_data": extra}
    (out / "conv.json").write_text(json.dumps(stored))
    build(tmp_path, {"alice/conv.py": CORRECT, "bob/conv.py": FLIPPED})
    with pytest.raises(GradeError, match="would replace the result of") as error:
        grade_class([tmp_path / "bob" / "conv.py"], LAB.id, out_dir=out, progress=False)
    assert f"{tmp_path / 'bob' / 'conv.py'} would replace the result of " in str(error.value)
    assert "pass --layout folders" in str(error.value)
    assert json.loads((out / "conv.json").read_text()) == stored


# ----------------------------------------------------------------------------------------------
# The CLI grading a small class in each layout

CLASSES = [
    pytest.param(
        {
            f"submitted2/ada/{LAB.id}/{LAB.id}.py": CORRECT,
            f"submitted2/bob/{LAB.id}/x.py": FLIPPED,
            f"submitted2/ada/{LAB.id}/scratch/" + os.fsdecode(b"caf\xe9.py"): FLIPPED,
        },
        ["submitted2"],
        "auto",
        {"ada": "right", "bob": "wrong"},
        id="nbgrader",
    ),
    pytest.param(
        {"lab03-ada/conv.py": CORRECT, "lab03-bob/conv.py": FLIPPED},
        ["."],
        "auto",
        {"lab03-ada": "right", "lab03-bob": "wrong"},
        id="github-classroom",
    ),
    pytest.param(
        {
            "export/submission_metadata.yml": GRADESCOPE_YML,
            "export/submission_1001/a.py": CORRECT,
            "export/submission_1002/b.py": FLIPPED,
        },  # fmt: skip
        ["export"],
        "gradescope",
        {"1815": "right", "bob@example.edu": "wrong", "1867": "wrong"},
        id="gradescope-export",
    ),
    pytest.param(
        {"dl/adalovelace_1_2_conv.py": CORRECT, "dl/bobross_LATE_3_4_conv-1.py": FLIPPED},
        ["dl"],
        "auto",
        {"adalovelace_1": "right", "bobross_3": "wrong"},
        id="canvas",
    ),
    pytest.param(
        {"ada/conv.py": CORRECT, "bob/conv.py": FLIPPED},
        ["ada/conv.py", "bob/conv.py"],
        "folders",
        {"ada": "right", "bob": "wrong"},
        id="files-given-one-by-one",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("files", "args", "layout", "expected"), CLASSES)
def test_cli_grades_a_class_in_each_layout(tmp_path: Path, files, args, layout, expected, capsys):
    """Does `grade` give each student of each layout their own row and their own file's grade?"""
    build(tmp_path, files)
    out = tmp_path / "out"
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main(["grade", "--lab", LAB.id, "--out", str(out), "--layout", layout, *args])
    finally:
        os.chdir(here)
    said = capsys.readouterr()
    assert code == 0, said.err
    if "submitted2" in args:  # the scratch file, its name not UTF-8, is said (escaped)
        assert "scratch/caf\\xe9.py" in said.out and "also there, not graded" in said.out
    scores = {p.stem: json.loads(p.read_text())["score"] for p in out.glob("*.json")}
    assert set(scores) == set(expected)
    right = {s for s, v in expected.items() if v == "right"}
    assert {s for s, v in scores.items() if v == max(scores.values())} == right
    assert all(scores[s] < min(scores[r] for r in right) for s in set(expected) - right)


@pytest.mark.slow
def test_files_graded_one_at_a_time_never_overwrite(tmp_path: Path, capsys):
    """alice/conv.py then bob/conv.py into one --out: two rows with --layout folders; with the
    default, the second is refused (exit 2) and alice's result is kept."""
    build(tmp_path, {"alice/conv.py": CORRECT, "bob/conv.py": FLIPPED})
    out = tmp_path / "out"
    for student in ("alice", "bob"):
        path = str(tmp_path / student / "conv.py")
        assert main(["grade", "--lab", LAB.id, "--out", str(out), "--layout", "folders", path]) == 0
    assert sorted(p.stem for p in out.glob("*.json")) == ["alice", "bob"]
    first = main(["grade", "--lab", LAB.id, "--out", str(out), str(tmp_path / "alice/conv.py")])
    kept = (out / "conv.json").read_text()
    second = main(["grade", "--lab", LAB.id, "--out", str(out), str(tmp_path / "bob/conv.py")])
    assert (first, second) == (0, 2)
    assert "would replace the result of" in capsys.readouterr().err
    assert (out / "conv.json").read_text() == kept
