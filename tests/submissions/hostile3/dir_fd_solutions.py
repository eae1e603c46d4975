# Hostile fixture (issue 19): reads the course's solution notebook through os.open(...,
# dir_fd=...), whose audit event does not say which folder the path is relative to. Two ways:
# (1) a descriptor of the scratch folder, then the working folder moved deep into /usr (a
# readable folder), so the same "../" text checked against the working folder stays in /usr;
# (2) a descriptor of a folder F in /usr and a link in the scratch folder named like a
# subfolder S of F that leads thirty folders down, so "S/../../..." stays in the scratch
# folder when read against the working folder. It then runs the solution's conv2d.
# Expected: the hook checks a relative path against every folder open as a descriptor and
# refuses both ("reading ... outside the sandbox folder", forbidden); conv2d earns 0.
import json
import os

import numpy as np

SOLUTION = "__SOLUTION__"


def deep_folder(min_depth):
    """A folder under /usr at least `min_depth` deep that this process may enter, and one of
    its subfolders (Python's own folder may be private to the grader's user)."""
    for top, dirs, _ in os.walk("/usr"):
        if len([p for p in top.split("/") if p]) >= min_depth and dirs and os.access(top, os.X_OK):
            return top, dirs[0]
    raise RuntimeError("no deep folder")


def _depth(path):
    return len([p for p in path.split("/") if p])


def via_working_folder():
    sandbox = os.getcwd()
    here = os.open(".", os.O_RDONLY)
    os.chdir(deep_folder(_depth(sandbox) + 2)[0])
    try:
        return os.open("../" * _depth(sandbox) + SOLUTION.lstrip("/"), os.O_RDONLY, dir_fd=here)
    finally:
        os.chdir(sandbox)


def via_link():
    folder, sub = deep_folder(3)
    deep = "/".join(["d"] * 30)
    os.makedirs(deep, exist_ok=True)
    if not os.path.lexists(sub):
        os.symlink(deep, sub)
    there = os.open(folder, os.O_RDONLY)
    path = sub + "/" + "../" * (_depth(folder) + 1) + SOLUTION.lstrip("/")
    return os.open(path, os.O_RDONLY, dir_fd=there)


def solution_conv2d():
    for route in (via_working_folder, via_link):
        try:
            with os.fdopen(route()) as f:
                notebook = json.load(f)
            break
        except (OSError, ValueError):
            continue
    else:
        raise RuntimeError("could not read the solution")
    namespace = {"np": np}
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and "def conv2d" in source:
            exec(source, namespace)
    return namespace["conv2d"]


def conv2d(inputs, filters, strides, padding):
    return solution_conv2d()(inputs, filters, strides, padding)
