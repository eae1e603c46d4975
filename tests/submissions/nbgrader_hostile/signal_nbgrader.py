# Hostile fixture (issue 19, nbgrader): appended to an otherwise correct answer cell. The kernel
# looks for nbgrader's process (any process whose working folder is this course) and its own
# parent, and sends them SIGSTOP then SIGKILL: the class's autograde would stop at this student.
# Expected: in its own PID namespace the kernel sees no process of the course ("nbgrader
# processes seen: 0"); nbgrader goes on, every classmate is graded; full points.
import os
import signal

_course = os.path.abspath(os.path.join("..", "..", ".."))
_victims = []
for _pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if os.readlink(f"/proc/{_pid}/cwd") == _course:
            _victims.append(int(_pid))
    except OSError:
        pass
print("nbgrader processes seen:", len(_victims))
for _pid in _victims:
    for _signal in (signal.SIGSTOP, signal.SIGKILL):
        try:
            os.kill(_pid, _signal)
        except OSError:
            pass
