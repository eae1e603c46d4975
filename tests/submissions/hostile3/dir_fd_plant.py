# Hostile fixture (issue 19): plants files outside the scratch folder, in world-writable folders a
# grader or a later job might read: through os.open(..., dir_fd=<scratch>) with the working folder
# moved thirty folders down inside the scratch folder (so the "../" text checked against it stays
# inside), a FIFO made with os.mkfifo (no audit event at all), and a plain open() as a control.
# Expected: the dir_fd write is refused ("writing ... outside the sandbox folder", forbidden),
# mkfifo is refused by the kernel (seccomp: mknod), the plain open is refused; none of the files
# exists afterwards; conv2d earns 0 (it returns zeros).
import os

import numpy as np

PLANT = "__PLANT__"


def plant():
    sandbox = os.getcwd()
    here = os.open(".", os.O_RDONLY)
    deep = "/".join(["d"] * 30)
    os.makedirs(deep, exist_ok=True)
    os.chdir(deep)
    try:
        up = "../" * len([p for p in sandbox.split("/") if p])
        fd = os.open(up + PLANT.lstrip("/"), os.O_WRONLY | os.O_CREAT, 0o666, dir_fd=here)
        os.write(fd, b"planted by dir_fd")
        os.close(fd)
    finally:
        os.chdir(sandbox)


def conv2d(inputs, filters, strides, padding):
    for attempt in (
        plant,
        lambda: os.mkfifo(PLANT + ".fifo"),
        lambda: open(PLANT + ".plain", "w").write("planted"),
    ):
        try:
            attempt()
        except Exception:
            pass
    return np.zeros((1, 1, 1, 1))
