"""Ask first, answer on a click: a question with its answer hidden behind a button."""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as widgets
from IPython.display import display

REVEAL_LABEL = "Show the answer"
HIDE_LABEL = "Hide the answer"


def build_reveal(
    question: str, answer: Callable[[], object], *, label: str = REVEAL_LABEL
) -> widgets.VBox:
    """Build a question whose answer appears only when the button is clicked.

    ``answer`` is called on the first click (so nothing is computed, printed or drawn before
    the question is asked, in JupyterLab and in Voila, which runs every cell at once); what it
    returns, if not None, is displayed below the button together with anything it displays
    itself (figures, printed text). The button then hides and shows the answer again.

    Args:
        question: plain text, shown in bold above the button.
        answer: a function of no arguments producing the answer.
        label: the button's text while the answer is hidden.

    Returns:
        The widget (not displayed).
    """
    button = widgets.Button(
        description=label, button_style="info", layout=widgets.Layout(width="auto")
    )
    shown = widgets.Output()
    state = {"done": False}

    def on_click(_: object) -> None:
        if not state["done"]:
            with shown:
                value = answer()
                if value is not None:
                    display(value)
            state["done"] = True
            shown.layout.display = None
        else:
            shown.layout.display = "none" if shown.layout.display != "none" else None
        button.description = HIDE_LABEL if shown.layout.display != "none" else label

    button.on_click(on_click)
    box = widgets.VBox(
        [widgets.HTML(f"<b>{html.escape(question)}</b>"), button, shown],
        layout=widgets.Layout(margin="6px 0"),
    )
    box.add_class("convlab-reveal")  # what the browser tests find it by
    return box
