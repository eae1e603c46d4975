# Hostile fixture: conv2d writes its own forged reply into the worker's protocol pipe, with an
# object-dtype .npy whose pickle would create /tmp/convlab_pwned_marker if the grader unpickled it.
# Expected: the grader never unpickles; the reply is rejected as invalid, call status "crashed"
# ("invalid reply"), and /tmp/convlab_pwned_marker does not exist. Grade: 0.
import io
import json
import os
import struct

import numpy as np


class Payload:
    def __reduce__(self):
        return (os.makedirs, ("/tmp/convlab_pwned_marker",))


def conv2d(inputs, filters, strides, padding):
    forged = np.empty(1, dtype=object)
    forged[0] = Payload()
    array = io.BytesIO()
    np.save(array, forged, allow_pickle=True)
    header = json.dumps({"kind": "result", "status": "ok", "type_name": "ndarray",
                         "message": "", "value": {"t": "nd", "i": 0}, "n_arrays": 1}).encode()
    frames = b"".join(struct.pack(">Q", len(f)) + f for f in (header, array.getvalue()))
    for fd in sorted(int(name) for name in os.listdir("/proc/self/fd")):
        if fd >= 200:
            try:
                os.write(fd, frames)
            except OSError:
                pass
    return np.zeros((1, 1, 1, 1))
