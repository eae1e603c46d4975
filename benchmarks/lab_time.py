"""Estimate each lab's working time from a walkthrough of its release, section by section."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LABS = (
    "01_convolution_by_hand",
    "02_stride_padding",
    "03_filter_banks",
    "04_tf_conv2d",
    "05_fast_conv2d",
)
#: Reading speed for technical prose, words per minute.
WORDS_PER_MINUTE = 200
#: Running a code cell and looking at its output, minutes.
MINUTES_PER_CELL = 0.5
#: Writing one line of the reference solution (non-blank, non-comment), tests and debugging
#: included, minutes.
MINUTES_PER_SOLUTION_LINE = 1.5
#: Thinking about and filling in one "my_... = None" prediction cell, minutes.
MINUTES_PER_PREDICTION = 2.0
#: Trying one widget, minutes.
MINUTES_PER_WIDGET = 3.0
WORD = re.compile(r"[A-Za-z0-9']+")
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


@dataclass
class Section:
    """One "## " section of a lab and the minutes it takes."""

    title: str
    minutes: float = 0.0
    optional: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.optional = "optional" in self.title.lower()


def _solution_lines(solution: dict) -> dict[str, int]:
    lines: dict[str, int] = {}
    for cell in solution["cells"]:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        for match in SOLUTION.finditer("".join(cell["source"])):
            code = [ln for ln in match.group(1).splitlines() if ln.strip()]
            lines[grade_id] = lines.get(grade_id, 0) + sum(
                1 for ln in code if not ln.strip().startswith("#")
            )
    return lines


def lab_sections(lab: str, root: Path = REPO) -> list[Section]:
    """Walk labs/<lab> (what students get), charging each section for what it asks of them."""
    release = json.loads((root / "labs" / lab / f"{lab}.ipynb").read_text())
    solution = json.loads((root / "solutions" / lab / f"{lab}.ipynb").read_text())
    lines = _solution_lines(solution)
    sections = [Section("(introduction)")]
    for cell in release["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            for part in re.split(r"(?m)^(?=## )", source):
                if part.startswith("## "):
                    sections.append(Section(part.splitlines()[0][3:]))
                sections[-1].minutes += len(WORD.findall(part)) / WORDS_PER_MINUTE
            continue
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if re.search(r"^my_\w+ = None", source, re.M):
            # a prediction: thinking it through, not code (a graded one's solution is one line)
            minutes = MINUTES_PER_CELL + MINUTES_PER_PREDICTION
        else:
            minutes = MINUTES_PER_CELL + MINUTES_PER_SOLUTION_LINE * lines.get(grade_id, 0)
        if re.search(r"build_\w+\(", source):
            minutes += MINUTES_PER_WIDGET
        sections[-1].minutes += minutes
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=REPO, help="repository root")
    args = parser.parse_args()
    print(
        f"{WORDS_PER_MINUTE} words/min, {MINUTES_PER_CELL} min/cell, "
        f"{MINUTES_PER_SOLUTION_LINE} min/solution line, {MINUTES_PER_PREDICTION} min/prediction, "
        f"{MINUTES_PER_WIDGET} min/widget"
    )
    for lab in LABS:
        sections = lab_sections(lab, args.root)
        total = sum(s.minutes for s in sections)
        optional = sum(s.minutes for s in sections if s.optional)
        print(f"{lab}: {total:.0f} min, of which optional {optional:.0f} min")
        for section in sections:
            print(f"  {section.minutes:5.1f}  {section.title}")


if __name__ == "__main__":
    main()
