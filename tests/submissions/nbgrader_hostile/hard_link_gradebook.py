# Hostile fixture (issue 19, nbgrader): appended to an otherwise correct answer cell. Like
# link_gradebook.py, with a hard link: the notebook's name becomes a second name of gradebook.db
# (same file system, same owner), which a check for symbolic links alone would let through.
# Expected: in bubblewrap, the gradebook is out of the kernel's view ("hard link refused").
# Without bubblewrap the link is made, and nbgrader's write step replaces the name (a new file,
# renamed over it) instead of writing into the shared file. The gradebook is intact.
import os

_notebook = next((name for name in os.listdir(".") if name.endswith(".ipynb")), "absent")
try:
    os.remove(_notebook)
    os.link(os.path.join("..", "..", "..", "gradebook.db"), _notebook)
    print("hard link planted:", _notebook)
except OSError as error:
    print("hard link refused:", type(error).__name__)
