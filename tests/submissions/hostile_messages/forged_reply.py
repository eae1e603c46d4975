# Hostile fixture (issue 19): writes its own reply on the worker's protocol pipe (the worker runs
# as __main__, so its send_message is one import away) with the inputs in every text field and a
# status the grader itself would send (error, timeout, memory, bad_return, crashed, forbidden,
# with a forged forbidden-use event), then exits before the worker's own reply.
# Expected: the grader keeps only what it can check (a status, its own texts about limits with
# numbers only, an exception name from Python's list, a line of this file); no input value
# appears. 0 points.
import os

import numpy as np

import __main__ as worker

STATUSES = ["error", "timeout", "memory", "bad_return", "crashed", "forbidden"]


def conv2d(inputs, filters, strides, padding):
    values = np.asarray(inputs).ravel()
    data = "LE" + "AK" + repr(values.tolist())
    status = STATUSES[int(values.size) % len(STATUSES)]
    message = {
        "error": f"ValueError: {data}\n  line 9999, in conv2d: {data}\n  line 3, in x: {data}",
        "timeout": f"conv2d did not finish within 3 s {data}",
        "memory": f"your code ran out of memory (limit 1 GiB)\n{data}",
    }.get(status, data)
    worker.send_message({"kind": "event", "forbidden": data})
    worker.send_message({"kind": "result", "status": status, "message": message, "type_name": data})
    os._exit(0)
