"""Hostile: writes files until the disk under its working folder is full, floods stdout."""

import numpy as np


def conv2d(inputs, filters, strides, padding):
    return np.zeros((1, 1, 1, 1))


CHUNK = b"x" * (1 << 20)
for i in range(100_000):
    try:
        with open(f"fill-{i}.bin", "wb") as f:
            for _ in range(8):  # 8 MiB a file: under RLIMIT_FSIZE, so only the disk stops it
                f.write(CHUNK)
    except OSError as error:
        print("the disk is full:", error)
        break
for _ in range(20_000):
    print("flood " * 50)
