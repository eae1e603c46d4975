# Hostile fixture (issue 11): at grading time, imports a classmate's submission from the class
# folder with a star import at its top level, so the classmate's conv2d becomes its own (no exec,
# no importlib, no name the static scan flags).
# Expected: the class folder is not visible (bubblewrap) or not readable (uid mode: folder
# permissions and the audit hook): loading fails, conv2d is not defined, conv2d earns 0.
import sys

import numpy as np

sys.path.insert(0, "__CLASS_DIR__")
from honest1 import *  # noqa: E402, F403
