# Hostile fixture (issue 11): hunts for the course secret (its environment, the grader's
# /proc/<pid>/environ, the secret file and files next to it), with Python's open and with
# readline's C-level history reader (no audit event), and prints what it finds, so it would land
# in its own feedback.
# Expected: the secret is nowhere in the worker's reach: it appears in no file of the output
# folder; conv2d earns 0 (it returns zeros).
import os

import numpy as np

SECRET_FILE = "__SECRET_FILE__"


def conv2d(inputs, filters, strides, padding):
    found = [repr(dict(os.environ))]
    candidates = [SECRET_FILE, os.path.join(os.path.dirname(SECRET_FILE), "course_secret.txt")]
    candidates += [f"/proc/{pid}/environ" for pid in (os.getppid(), 1)]
    candidates += [f"/proc/{p}/environ" for p in os.listdir("/proc") if p.isdigit()]
    for path in candidates:
        try:
            with open(path, "rb") as f:
                found.append(f.read(4096).decode(errors="replace"))
        except Exception:
            pass
    try:
        import readline

        for path in candidates:
            try:
                readline.clear_history()
                readline.read_history_file(path)
                found += [readline.get_history_item(i) or "" for i in range(1, 20)]
            except Exception:
                pass
    except Exception:
        pass
    print("\n".join(found))
    return np.zeros((1, 1, 1, 1))
