"""Student-controlled text made safe to show: on a terminal, in markdown, in HTML."""

from __future__ import annotations

import html
import re

#: C0 and C1 controls, DEL, bidirectional overrides and isolates (text that reads in another
#: order than it runs), and lone surrogates (undecodable bytes of a file name).
_UNSHOWN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
#: Markdown punctuation that can start a link, an image, emphasis, a heading, a table cell...
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_BACKTICKS = re.compile(r"`+")
_MIN_FENCE = 3


def printable(text: str, *, keep: str = "\n\t") -> str:
    """`text` with every control character (but those in `keep`) written as an escape, the way
    repr() writes it: `\\x1b[31m` reaches a terminal as those characters, never as red."""

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if char in keep:
            return char
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNSHOWN.sub(escape, str(text))


def one_line(text: str) -> str:
    """`printable` with newlines and tabs escaped too: a file name or id on one terminal line."""
    return printable(text, keep="")


def fenced(text: str, info: str = "") -> str:
    """A markdown code block holding `text` verbatim: its fence is longer than any run of
    backticks inside, so no line of `text` can close it (and nothing inside renders)."""
    body = printable(text)
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    fence = "`" * max(_MIN_FENCE, longest + 1)
    return f"{fence}{info}\n{body}\n{fence}"


def markdown_inline(text: str) -> str:
    """`text` as literal markdown on one line: punctuation backslash-escaped, HTML as entities,
    controls and newlines escaped (no link, image, heading, table cell or raw HTML)."""
    escaped = _MARKDOWN.sub(r"\\\1", one_line(text))
    return escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html_text(text: object) -> str:
    """`text` as HTML text: markup escaped, controls shown as escapes."""
    return html.escape(printable(str(text)))
