"""Predict, then see: a question the student answers before the next cell shows what happened.

A ``Prediction`` holds a question, its choices, the right answer and a one-sentence
explanation. The student commits an answer once, with the buttons it shows in a
notebook or with a call, ``q("2")``; the answer is then fixed (changing your mind after
seeing the result is not a prediction), and the verdict says right or wrong and why::

    q = predict("How many acks does P0 need before it sends accept?", ["1", "2", "3"],
                answer="2", why="A majority of 3 acceptors is 2; ...")
    q            # in a notebook: the question with one button per choice
    q("2")       # or answer with a call: 'right: A majority of 3 acceptors is 2; ...'
    print(q.reveal())   # after the cell that shows what happened

Outside a live kernel (a stored lesson on GitHub, nbval) the cell shows the question
as plain text, so stored outputs stay the same on every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Verdict:
    """The answer given, whether it was right, and the sentence that says why."""

    guess: str
    correct: bool
    why: str

    def __str__(self) -> str:
        return f"{'right' if self.correct else 'not quite'}: {self.why}"


@dataclass
class Prediction:
    """One predict-then-see question; answer it once with the buttons or ``q(choice)``."""

    question: str
    choices: tuple[str, ...]
    answer: str
    why: str
    verdict: Verdict | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.choices = tuple(str(c) for c in self.choices)
        self.answer = str(self.answer)
        if len(set(self.choices)) != len(self.choices) or len(self.choices) < 2:
            raise ValueError(f"choices {self.choices!r}: need two or more different choices")
        if self.answer not in self.choices:
            raise ValueError(f"answer {self.answer!r} is not one of the choices {self.choices!r}")
        self._view = None

    @property
    def answered(self) -> bool:
        return self.verdict is not None

    def __call__(self, guess) -> Verdict:
        """Commit ``guess`` (one of the choices); a second answer gets the first verdict."""
        if self.verdict is not None:
            return self.verdict
        guess = str(guess)
        if guess not in self.choices:
            raise ValueError(f"{guess!r} is not one of the choices: {', '.join(self.choices)}")
        self.verdict = Verdict(guess, guess == self.answer, self.why)
        if self._view is not None:
            self._view.show(self.verdict)
        return self.verdict

    def reveal(self) -> str:
        """What happened, for the cell after the one that shows it: the verdict on the
        prediction made, or, if none was made, the answer and why."""
        if self.verdict is not None:
            return f"You predicted {self.verdict.guess}: {self.verdict}"
        return f"Answer: {self.answer}. {self.why[:1].upper()}{self.why[1:]}"

    def text(self) -> str:
        """The question as plain text, with its choices (what a stored lesson shows)."""
        options = " / ".join(self.choices)
        return f"Predict: {self.question}\n  choices: {options}\n  (answer with the buttons, " \
               f"or call this question with your choice)"

    def __repr__(self) -> str:
        return self.text() if self.verdict is None else f"{self.text()}\n{self.verdict}"

    def widget(self):
        """The question with one button per choice; the first click commits the answer."""
        if self._view is None:
            self._view = _View(self)
        return self._view.box

    def _ipython_display_(self) -> None:
        from IPython.display import display

        box = self.widget()
        data = {"text/plain": repr(self)}
        data.update(box._repr_mimebundle_() or {})
        data["text/plain"] = repr(self)  # the same text on every run, for nbval
        display(data, raw=True)


class _View:
    """The buttons and the verdict line of one Prediction (ipywidgets, imported lazily)."""

    def __init__(self, q: Prediction):
        import ipywidgets as widgets

        self.q = q
        self.buttons = [widgets.Button(description=c, tooltip=f"predict: {c}",
                                       layout=widgets.Layout(width="auto"))
                        for c in q.choices]
        for b in self.buttons:
            b.on_click(lambda b: q(b.description))
        self.result = widgets.HTML("")
        self.box = widgets.VBox([widgets.HTML(f"<b>Predict:</b> {_escape(q.question)}"),
                                 widgets.HBox(self.buttons), self.result])
        if q.verdict is not None:
            self.show(q.verdict)

    def show(self, verdict: Verdict) -> None:
        for b in self.buttons:
            b.disabled = True
            b.button_style = ("success" if b.description == self.q.answer
                              else "danger" if b.description == verdict.guess else "")
        mark = "✓ right" if verdict.correct else "✗ not quite"
        self.result.value = f"<b>{mark}</b>: {_escape(verdict.why)}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def predict(question: str, choices: Sequence, answer, why: str) -> Prediction:
    """A question to answer before the next cell runs (see the module docstring)."""
    return Prediction(question, tuple(choices), answer, why)
