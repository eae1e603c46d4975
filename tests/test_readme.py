"""README.md stays true to the code: its labs table's points come from the declarations."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.registry import LABS

README = Path(__file__).resolve().parents[1] / "README.md"


def _labs_table() -> dict[str, list[str]]:
    """The columns of each row of the README's labs table, by lab id."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## The labs")
    section = text[start : text.index("\n## ", start + 1)]
    rows = {}
    for line in section.splitlines():
        for lab_id in LABS:
            if line.startswith(f"| `{lab_id}` |"):
                rows[lab_id] = [c.strip() for c in line.strip("|").split(" | ")]
    return rows


@pytest.mark.parametrize("lab_id", list(LABS))
def test_readme_points_are_the_declared_points(lab_id):
    """Is the README's "Graded functions (points)" cell of this lab `Lab.points_summary()`?

    The points are declared once, in each Exercise; on a mismatch paste the expected cell.
    """
    row = _labs_table().get(lab_id)
    assert row is not None, f"the README's labs table has no row for {lab_id}"
    assert row[2] == LABS[lab_id].points_summary(), (
        f"paste into README.md's labs table:\n{LABS[lab_id].points_summary()}"
    )
