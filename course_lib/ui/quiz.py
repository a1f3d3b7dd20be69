"""Check-yourself questions: a small multiple-choice widget that explains every option.

    quiz("Raising T from 1 to 10 does what to the teacher's entropy?", [
        ("It rises towards log 10.", True, "Dividing the logits by T shrinks their gaps ..."),
        ("It falls.", False, "That is what lowering T does ..."),
    ])

The learner picks an option and presses *Check*; the widget says whether it is
right and why, for that option. It is plain ipywidgets: it works offline, in
JupyterLab, in Voila and in headless tests (``Quiz.choose(i)``).
"""
from __future__ import annotations

import html

import ipywidgets as W


class Quiz:
    def __init__(self, question: str, options, *, multiple: bool = False):
        if not isinstance(question, str) or not question.strip():
            raise ValueError(f"question must be a non-empty string, got {question!r}")
        options = [tuple(o) for o in options]
        if len(options) < 2:
            raise ValueError(f"options must hold at least 2 (text, correct, why) entries, got {len(options)}")
        for i, o in enumerate(options):
            if len(o) != 3 or not isinstance(o[0], str) or not isinstance(o[2], str) or not isinstance(o[1], bool):
                raise ValueError(f"options[{i}] must be (text: str, correct: bool, why: str), got {o!r}")
            if not o[2].strip():
                raise ValueError(f"options[{i}] needs an explanation of why it is right or wrong")
        n_right = sum(o[1] for o in options)
        if n_right == 0 or (n_right > 1 and not multiple):
            raise ValueError(f"options must mark exactly one correct answer (or pass multiple=True), got {n_right}")
        self.question, self.options, self.multiple = question, options, multiple
        labels = [o[0] for o in options]
        if multiple:
            self.choices = [W.Checkbox(value=False, description=t, indent=False,
                                       layout=W.Layout(width="auto")) for t in labels]
            picker = W.VBox(self.choices)
        else:
            self.picker = W.RadioButtons(options=[(t, i) for i, t in enumerate(labels)],
                                         value=None, layout=W.Layout(width="auto"))
            picker = self.picker
        self.button = W.Button(description="Check", button_style="primary", layout=W.Layout(width="90px"))
        self.feedback = W.HTML("")
        self.feedback.add_class("course-quiz-feedback")
        self.button.on_click(lambda _: self._check())
        self.widget = W.VBox([W.HTML(f"<b>Check yourself.</b> {html.escape(question)}"), picker,
                              self.button, self.feedback],
                             layout=W.Layout(border="1px solid #ccc", padding="6px", margin="6px 0"))

    def selected(self) -> list[int]:
        if self.multiple:
            return [i for i, c in enumerate(self.choices) if c.value]
        return [] if self.picker.value is None else [int(self.picker.value)]

    def choose(self, *indices: int) -> str:
        """Select options by index and check them (what a click does); returns the feedback text."""
        for i in indices:
            if not 0 <= int(i) < len(self.options):
                raise ValueError(f"option index must be in 0..{len(self.options) - 1}, got {i}")
        if self.multiple:
            for i, c in enumerate(self.choices):
                c.value = i in indices
        else:
            if len(indices) != 1:
                raise ValueError(f"this question takes exactly one answer, got {len(indices)}")
            self.picker.value = int(indices[0])
        return self._check()

    def _check(self) -> str:
        picked = self.selected()
        if not picked:
            self.feedback.value = "<i>Pick an answer first.</i>"
            return "no answer"
        right = {i for i, o in enumerate(self.options) if o[1]}
        good = set(picked) == right
        lines = []
        for i in picked:
            text, ok, why = self.options[i]
            mark = "<span style='color:#080'>&#10003; right</span>" if ok else "<span style='color:#b00'>&#10007; not quite</span>"
            lines.append(f"{mark}: <i>{html.escape(text)}</i> {html.escape(why)}")
        if self.multiple and not good:
            missing = right - set(picked)
            if missing:
                lines.append(f"{len(missing)} right answer(s) not picked yet.")
        verdict = "Correct." if good else "Try again, or read the explanation."
        self.feedback.value = f"<b>{verdict}</b><br>" + "<br>".join(lines)
        return ("correct: " if good else "wrong: ") + " | ".join(self.options[i][2] for i in picked)

    @property
    def correct(self) -> list[int]:
        return [i for i, o in enumerate(self.options) if o[1]]

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)


def quiz(question: str, options, *, multiple: bool = False) -> Quiz:
    """Build (and, as a cell's last expression, show) one check-yourself question."""
    return Quiz(question, options, multiple=multiple)
