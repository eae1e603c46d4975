"""The class at a glance: `python -m autograder report OUT_DIR [MORE_DIRS...]` -> report.html.

One self-contained page (plots embedded as PNG data: URIs, no script, no external file) built
from the results.json files that `grade` stored in OUT_DIR (and in more folders, e.g. the shards
of a class graded on several machines): the score histogram, the pass rate of every test, how
many students made each named mistake with one anonymized example, the wrong answers given most
often to each graded prediction, the submissions to look at (library use, timeouts, crashes, load
errors, graded without isolation) and the slowest ones.
"""

from __future__ import annotations

import base64
import io
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exercises.predictions import SUITE as PREDICTION_SUITE
from .grade import is_grader_error, safe_text, stored_results
from .registry import LABS, get_lab
from .safe_text import html_text

#: Wrong answers listed per prediction.
TOP_ANSWERS = 3
#: "Likely mistake: ..." in a test's output, for results stored before per-test extra_data.
LIKELY_MISTAKE = re.compile(r"Likely mistake: (.+?)(?:\.\s*$|\.\n|$)", re.M)
#: How the checks join mistakes that fit the same output ("X, or Y", "X. Or: Y"): each is counted.
ALTERNATIVES = re.compile(r",? or (?=[A-Za-z])|\.? Or: ")
SLOWEST = 10
#: extra_data.isolation values that mean the student's code ran without an OS sandbox.
UNISOLATED = {"none", "no", "unisolated", "process", "rlimits", "rlimits-only", "false"}


class ReportError(ValueError):
    """No report can be made (no results, several labs mixed without --lab, ...)."""


@dataclass
class Flag:
    student: str
    kind: str
    detail: str


@dataclass
class ClassSummary:
    lab: str
    max_score: float
    students: list[str]
    scores: dict[str, float]
    seconds: dict[str, float]
    tests: list[str]
    passed: dict[str, int]
    attempted: dict[str, int]
    #: mistake key (mistake_key) -> students who made it
    mistakes: Counter = field(default_factory=Counter)
    mistake_tests: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    examples: dict[str, str] = field(default_factory=dict)
    #: mistake key -> the wording the first student who made it was shown
    labels: dict[str, str] = field(default_factory=dict)
    flags: list[Flag] = field(default_factory=list)
    #: prediction test name -> the wrong answers students gave (canonical text -> students)
    predictions: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    #: student -> what failed on the grader's side: no score, left out of every statistic
    grader_errors: dict[str, str] = field(default_factory=dict)


def load_results(dirs: Sequence[Path], lab_id: str | None = None) -> dict[str, dict[str, Any]]:
    """The stored results of one lab in `dirs`, by student (a later folder's result wins)."""
    merged: dict[str, dict[str, Any]] = {}
    for folder in dirs:
        if not folder.is_dir():
            raise ReportError(f"no such folder: {folder}")
        merged.update(stored_results(folder))
    labs = {str(d["extra_data"].get("lab")) for d in merged.values()}
    if lab_id is None:
        if not merged:
            where = ", ".join(str(d) for d in dirs)
            raise ReportError(f"no results in {where}; grade first: python -m autograder grade")
        if len(labs) > 1:
            raise ReportError(
                f"results of several labs ({', '.join(sorted(labs))}); pass --lab to pick one"
            )
        lab_id = labs.pop()
    chosen = {s: d for s, d in merged.items() if d["extra_data"].get("lab") == lab_id}
    if not chosen:
        raise ReportError(f"no results of {lab_id} in {', '.join(str(d) for d in dirs)}")
    return chosen


def _mistakes(test: dict[str, Any]) -> dict[str, str]:
    """The named mistakes of one test result -> an example message for each."""
    extra = test.get("extra_data") or {}
    if "mistakes" in extra:
        examples = extra.get("mistake_examples") or {}
        return {m: str(examples.get(m, "")) for m in extra["mistakes"]}
    return {m.strip(): "" for m in LIKELY_MISTAKE.findall(test.get("output") or "")}


def mistake_key(text: str) -> str:
    """The mistake with the case's particulars (quoted values, numbers) blanked, so one mistake
    seen on different cases ("padding 'same' ...", "padding 'Same' ...") is counted once."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text.strip().rstrip("."))
    return re.sub(r"\b\d+(\.\d+)?\b", "#", text)


def _isolation_flag(isolation: Any) -> str | None:
    """Why a result says its code ran without an OS sandbox, or None."""
    if isolation is None:
        return None
    if isinstance(isolation, dict):
        if isolation.get("isolated") is False:
            return str(isolation.get("mechanism") or isolation.get("reason") or "not isolated")
        mechanism = isolation.get("mechanism")
        return str(mechanism) if str(mechanism).lower() in UNISOLATED else None
    if isinstance(isolation, bool):
        return None if isolation else "not isolated"
    return str(isolation) if str(isolation).lower() in UNISOLATED else None


def summarize(results: dict[str, dict[str, Any]]) -> ClassSummary:
    first = next(iter(results.values()))
    lab_id = str(first["extra_data"]["lab"])
    lab = get_lab(lab_id) if lab_id in LABS else None
    max_score = float(first["extra_data"].get("max_score", lab.max_score if lab else 0))
    tests = [f"{i.function}: {t.suite}" for i in lab.items for t in i.tests] if lab else []
    summary = ClassSummary(
        lab_id, max_score, sorted(results), {}, {}, tests, Counter(), Counter()
    )  # fmt: skip
    for student in summary.students:
        data = results[student]
        extra = data.get("extra_data") or {}
        if is_grader_error(data):  # not a score: counted apart, regraded on the next run
            why = " / ".join(str(e) for e in extra.get("grader_errors") or ()) or "grader error"
            summary.grader_errors[student] = why[:400]
            summary.flags.append(Flag(student, "grader error (no score)", why[:400]))
            continue
        summary.scores[student] = float(data.get("score", 0))
        summary.seconds[student] = float(data.get("execution_time", extra.get("seconds", 0)) or 0)
        seen: set[str] = set()
        stops: Counter = Counter()
        forbidden: set[str] = set()
        for test in data.get("tests", []):
            name = str(test.get("name", "?"))
            if name not in summary.tests:
                summary.tests.append(name)
            summary.attempted[name] += 1
            summary.passed[name] += test.get("status") == "passed"
            t_extra = test.get("extra_data") or {}
            if t_extra.get("suite") == PREDICTION_SUITE:
                wrong = summary.predictions[name]  # listed even when everybody was right
                if test.get("status") != "passed":
                    wrong[str(t_extra.get("answer") or "not run (cell missing or broken)")] += 1
            if t_extra.get("stopped"):
                stops[str(t_extra["stopped"])] += 1
            forbidden |= set(t_extra.get("forbidden") or ())
            named = [
                (part, example)
                for text, example in _mistakes(test).items()
                for part in ALTERNATIVES.split(text)
                if part.strip()
            ]
            for text, example in named:
                mistake = mistake_key(text)
                summary.labels.setdefault(mistake, text)
                summary.mistake_tests[mistake].add(name)
                if mistake not in seen:
                    seen.add(mistake)
                    summary.mistakes[mistake] += 1
                if example and mistake not in summary.examples:
                    summary.examples[mistake] = _anonymize(example, student)
        if forbidden or stops.get("forbidden"):
            detail = "; ".join(sorted(forbidden))[:300] or "a forbidden call was blocked"
            summary.flags.append(Flag(student, "library use / forbidden", detail))
        for kind, label in (("timeout", "timeout"), ("crashed", "crash"), ("memory", "memory")):
            if stops.get(kind):
                summary.flags.append(Flag(student, label, f"stopped {stops[kind]} test(s)"))
        problems = extra.get("problems") or ([data["output"]] if data.get("output") else [])
        if problems:
            detail = " / ".join(dict.fromkeys(str(p) for p in problems))
            summary.flags.append(Flag(student, "could not run", detail[:400]))
        why = _isolation_flag(extra.get("isolation"))
        if why:
            summary.flags.append(Flag(student, "ran without isolation", why))
    return summary


def _anonymize(text: str, student: str) -> str:
    return text.replace(student, "<student>") if student else text


# ----------------------------------------------------------------------------------------------
# Plots, embedded


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _histogram(summary: ClassSummary) -> str:
    import numpy as np

    from convlab.plots import histogram

    top = summary.max_score or max(summary.scores.values(), default=1) or 1
    fig = histogram(
        list(summary.scores.values()),
        bins=np.linspace(0, top, 11),
        title=f"{summary.lab}: scores of {len(summary.scores)} submissions",
        xlabel=f"score (of {top:g})",
    )
    return _png(fig)


def _pass_rates(summary: ClassSummary) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [t for t in summary.tests if summary.attempted[t]] or ["(no tests)"]
    rates = [100 * summary.passed[t] / summary.attempted[t] if summary.attempted[t] else 0
             for t in names]  # fmt: skip
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(names) + 1))
    ax.barh(names[::-1], rates[::-1], color="#4c72b0")
    ax.set_xlim(0, 100)
    ax.set_xlabel("students who passed (%)")
    ax.set_title("Pass rate per test")
    return _png(fig)


# ----------------------------------------------------------------------------------------------
# The page

CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .6em 0; } td, th { padding: .3em .7em; }
th { text-align: left; background: #f3f3f3; } tr:nth-child(even) td { background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.stats span { display: inline-block; margin-right: 2em; } .muted { color: #777; }
pre { white-space: pre-wrap; background: #f7f7f7; padding: .5em; margin: 0; font-size: .85em; }
img { max-width: 100%; }
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], num: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{html_text(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="num"' if i in num else ""
            text = cell if isinstance(cell, _Raw) else html_text(cell)
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


class _Raw(str):
    """Already-escaped HTML for a table cell."""


def render(summary: ClassSummary, sources: Sequence[Path]) -> str:
    n = len(summary.scores)
    scores = list(summary.scores.values()) or [0.0]
    full = sum(1 for s in summary.scores.values() if s >= summary.max_score)
    e = html_text  # markup escaped and control characters shown as escapes
    failed = len(summary.grader_errors)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(summary.lab)}: class report</title><style>{CSS}</style></head><body>",
        f"<h1>{e(summary.lab)}: class report</h1>",
        "<p class='stats'>"
        f"<span><b>{n}</b> submissions</span>"
        f"<span>mean <b>{statistics.mean(scores):.2f}</b> / {summary.max_score:g}</span>"
        f"<span>median <b>{statistics.median(scores):g}</b></span>"
        f"<span><b>{full}</b> full marks</span>"
        f"<span><b>{len({f.student for f in summary.flags})}</b> flagged</span>"
        + (f"<span><b>{failed}</b> grader errors (no score)</span>" if failed else "")
        + "</p>",
        "<p class='muted'>From " + e(", ".join(str(s) for s in sources)) + "</p>",
    ]
    if failed:
        parts += [
            "<h2 id='grader-errors'>Grader errors: not graded yet</h2>",
            f"<p>The grader itself failed on {failed} submission(s): they have no score and are "
            "left out of every number on this page. Nothing here is the students' fault; run "
            "<code>grade</code> again (it regrades them) once the cause below is fixed.</p>",
            _table(["student", "what failed"], sorted(summary.grader_errors.items())),
        ]
    parts += [
        "<h2 id='scores'>Scores</h2>",
        f"<img alt='score histogram' src='{_histogram(summary)}'>",
        "<h2 id='tests'>Pass rate per test</h2>",
        f"<img alt='pass rate per test' src='{_pass_rates(summary)}'>",
    ]
    rows = [
        (t, summary.passed[t], summary.attempted[t],
         f"{100 * summary.passed[t] / summary.attempted[t]:.0f}%" if summary.attempted[t] else "-")
        for t in summary.tests
    ]  # fmt: skip
    parts.append(_table(["test", "passed", "of", "rate"], rows, num=(1, 2, 3)))
    parts.append("<h2 id='mistakes'>Named mistakes</h2>")
    if summary.mistakes:
        parts.append(
            "<p class='muted'>How many students made each mistake the checks recognise, with the "
            "message one of them got (student not named). When one wrong output fits several "
            "mistakes, the student counts under each.</p>"
        )
        rows = [
            (summary.labels.get(m, m), c, ", ".join(sorted(summary.mistake_tests[m])),
             _Raw(f"<pre>{e(summary.examples.get(m, ''))}</pre>"))
            for m, c in summary.mistakes.most_common()
        ]  # fmt: skip
        parts.append(_table(["mistake", "students", "in tests", "example"], rows, num=(1,)))
    else:
        parts.append("<p>No named mistake in these results.</p>")
    if summary.predictions:
        parts.append("<h2 id='predictions'>What the class predicted</h2>")
        parts.append(
            "<p class='muted'>For each graded prediction, how many got it right and the wrong "
            "answers given most often: a common wrong answer is a misconception to take up in "
            "class (e.g. a width without the padding).</p>"
        )
        rows = [
            (test, f"{summary.passed[test]} / {summary.attempted[test]}",
             "; ".join(f"{answer} ({count})" for answer, count in wrong.most_common(TOP_ANSWERS))
             or "-")
            for test, wrong in sorted(summary.predictions.items())
        ]  # fmt: skip
        parts.append(_table(["prediction", "right", "most common wrong answers (students)"], rows))
    parts.append("<h2 id='flagged'>Flagged submissions</h2>")
    if summary.flags:
        by_kind = Counter(f.kind for f in summary.flags)
        parts.append("<p>" + e(", ".join(f"{k}: {c}" for k, c in sorted(by_kind.items()))) + "</p>")
        rows = [(f.student, f.kind, f.detail) for f in sorted(
            summary.flags, key=lambda f: (f.kind, f.student))]  # fmt: skip
        parts.append(_table(["student", "why", "detail"], rows))
    else:
        parts.append("<p>Nothing flagged: no library use, timeout, crash or load error.</p>")
    parts.append("<h2 id='slowest'>Slowest submissions</h2>")
    slow = sorted(summary.seconds.items(), key=lambda kv: -kv[1])[:SLOWEST]
    rows = [
        (s, f"{sec:.1f}", f"{summary.scores[s]:g}" if s in summary.scores else "grader error")
        for s, sec in slow
    ]
    parts.append(_table(["student", "seconds", "score"], rows, num=(1, 2)))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_class_report(
    out_dir: Path, *, extra_dirs: Sequence[Path] = (), lab_id: str | None = None
) -> Path:
    """Write OUT_DIR/report.html from the results in OUT_DIR and `extra_dirs`."""
    sources = [out_dir, *extra_dirs]
    summary = summarize(load_results(sources, lab_id))
    path = out_dir / "report.html"
    path.write_text(safe_text(render(summary, sources)), encoding="utf-8")
    return path
