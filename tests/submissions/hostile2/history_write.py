# Hostile fixture (issue 11): uses readline's history-file I/O (C code, no audit event) to
# overwrite a classmate's results JSON and grades.csv in the output folder.
# Expected: the output folder is not visible (bubblewrap) or not writable (uid mode); the
# classmate's result is the grader's; conv2d earns 0 (it returns zeros).
import numpy as np

OUT_DIR = "__OUT_DIR__"


def conv2d(inputs, filters, strides, padding):
    try:
        import readline

        readline.clear_history()
        readline.add_history('{"score": 0, "tests": []}')
        for name in ("honest1.json", "grades.csv", "history_write.json"):
            try:
                readline.write_history_file(f"{OUT_DIR}/{name}")
            except Exception:
                pass
    except Exception:
        pass
    return np.zeros((1, 1, 1, 1))
