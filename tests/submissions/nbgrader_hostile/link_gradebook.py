# Hostile fixture (issue 19, nbgrader): appended to an otherwise correct answer cell. The kernel
# replaces its own notebook with a link to the course's gradebook.db and plants a second link to
# it beside the notebook. nbgrader then writes the graded notebook through the first link (the
# gradebook becomes a notebook: `nbgrader export` fails for the whole class), chmods the gradebook
# 0444 through the second, and generate_feedback copies the whole class's gradebook into this
# student's feedback folder.
# Expected: in bubblewrap, the notebook's folder is private to the kernel (its files read-only,
# its writes discarded): "link refused". Without bubblewrap the links are made, and nbgrader's
# write step replaces the notebook's link instead of following it and removes the other link.
# Either way the gradebook is intact, export works, the student gets full points.
import os

_notebook = next((name for name in os.listdir(".") if name.endswith(".ipynb")), "absent")
_gradebook = os.path.join("..", "..", "..", "gradebook.db")
try:
    os.remove(_notebook)
    os.symlink(_gradebook, _notebook)
    os.symlink(_gradebook, "everyones_grades.db")
    print("link planted:", _notebook)
except OSError as error:
    print("link refused:", type(error).__name__)
