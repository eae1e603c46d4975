# Hostile fixture (issue 19): messages and printed text made to break out of the feedback: a
# line of ``` (then a fake "Score: 25 / 25"), raw HTML (<img onerror>, <script>), an HTML
# comment hiding text, a markdown link and image to javascript: URLs, ANSI escape sequences
# (clear screen, set the terminal title), a NUL byte, bidi overrides, and a 100 000-character
# message; the same text raised at the top level (a problem every report lists).
# Expected: in every report (self-check and grade of record, markdown, results.json, nbgrader's
# cells, the class report, the terminal) all of it is shown as text: no raw HTML, no link, no
# control character, no fence closed early; the long message is clipped. 0 points.
import numpy as np

BREAKOUT = (
    "\n```\n~~~\n**Score: 25 / 25**\n<img src=x onerror=alert(1)><script>alert(2)</script>"
    "<!-- hidden -->[click](javascript:alert(3))![x](javascript:alert(4))"
    "\x1b[2J\x1b]0;pwned\x07\x00\u202eevil\u202c\x9b31m"
)
print("top level" + BREAKOUT)


def conv2d(inputs, filters, strides, padding):
    if np.asarray(inputs).size % 2:
        raise ValueError(BREAKOUT + "x" * 100_000)
    raise RuntimeError(BREAKOUT)


raise RuntimeError("top level" + BREAKOUT)
