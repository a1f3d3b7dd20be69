"""A14 live lab: a student taught the carries against one taught only the answers, on multi-digit addition.

The teacher is the exact schoolbook algorithm (``course_lib.distill.reasoning.schoolbook``),
not a trained network: an exact teacher makes no mistakes, so whatever separates the two
students is the format of what they are taught, not the teacher's errors. Both students
are 64-unit perceptrons trained on the same ``n_train`` problems with ``TRAIN_DIGITS``-digit
numbers; they are tested on fresh problems with 1 to ``MAX_DIGITS`` digits (longer than
trained on from ``TRAIN_DIGITS + 1`` up).

    s = setup(seed=0)
    r = run(s, n_train=100)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from ... import models, train
from ..._checks import check_choice, check_int_range
from ...distill import reasoning as R
from ...ui import plots
from ...ui.widgets import Dashboard, slider

TITLE = "Distilling reasoning steps: carries against answers only"
TRY = "Move the number of training problems: the student taught the carries is right on long sums from a few dozen problems on; the answers-only student never is beyond the trained length."
TRAIN_DIGITS = 4
WINDOW = TRAIN_DIGITS + 1
MAX_DIGITS = 10
N_POOL = 1000
N_TEST = 500
HIDDEN = (64,)
EPOCHS = 150
LR = 3e-2
N_TRAINS = (10, 32, 100, 316, 1000)  # the slider's positions (10^1 to 10^3 in half decades)


@dataclass(frozen=True)
class Setup:
    seed: int
    pool: tuple   # (a, b) training problems with TRAIN_DIGITS digits
    tests: dict   # digits -> (a, b, answer digits)


@lru_cache(maxsize=8)
def setup(seed: int = 0) -> Setup:
    """A pool of training problems and test problems of every length, all drawn from ``seed``."""
    check_int_range("seed", seed, 0, 2**31 - 1)
    pool = R.problems(N_POOL, TRAIN_DIGITS, seed=seed)
    tests = {}
    for d in range(1, MAX_DIGITS + 1):
        a, b = R.problems(N_TEST, d, seed=10_000 * (seed + 1) + d)
        tests[d] = (a, b, R.schoolbook(a, b)["digits"])
    return Setup(int(seed), pool, tests)


def train_student(s: Setup, kind: str, n_train: int, *, seed: int | None = None, epochs: int = EPOCHS):
    """Train the ``"answers"`` or ``"steps"`` student on the first ``n_train`` pool problems."""
    check_choice("kind", kind, ("answers", "steps"))
    check_int_range("n_train", n_train, 1, N_POOL)
    check_int_range("epochs", epochs, 0, 100_000)
    seed = s.seed if seed is None else seed
    a, b = s.pool[0][:n_train], s.pool[1][:n_train]
    if kind == "answers":
        X, y = R.window_features(a, b, WINDOW), R.schoolbook(a, b)["digits"].reshape(-1)
        m = models.mlp(X.shape[1], HIDDEN, 10, seed=seed)
        train.fit(m, train.ce_objective(X, y), len(X), epochs=epochs, lr=LR, seed=seed)
        return m
    X, y, c = R.step_dataset(a, b)
    m = models.mlp(X.shape[1], HIDDEN, 12, seed=seed)

    def objective(mm, idx):
        z = mm(X)
        return {"loss": F.cross_entropy(z[:, :10], y) + F.cross_entropy(z[:, 10:], c)}

    train.fit(m, objective, len(X), epochs=epochs, lr=LR, seed=seed)
    return m


def predict(s: Setup, kind: str, model, digits: int) -> torch.Tensor:
    check_choice("kind", kind, ("answers", "steps"))
    check_int_range("digits", digits, 1, MAX_DIGITS)
    a, b, _ = s.tests[digits]
    if kind == "answers":
        return R.window_predict(model, a, b, WINDOW)
    return R.chain_predict(model, a, b)["digits"]


def accuracy_by_length(s: Setup, kind: str, model) -> np.ndarray:
    """Exact-match accuracy on the test problems with 1..MAX_DIGITS digits."""
    return np.array([R.exact_match(predict(s, kind, model, d), s.tests[d][2]) for d in range(1, MAX_DIGITS + 1)])


def run(s: Setup, n_train: int = 100) -> dict:
    """One slider position: both students trained on ``n_train`` problems, exact match at every length."""
    n_train = check_int_range("n_train", int(round(float(n_train))), 1, N_POOL)
    return _run(s.seed, n_train)


@lru_cache(maxsize=64)
def _run(seed: int, n_train: int) -> dict:
    s = setup(seed)
    return {"n_train": n_train,
            **{k: accuracy_by_length(s, k, train_student(s, k, n_train)) for k in ("answers", "steps")}}


def render(result: dict, fig) -> None:
    ax = plots.fast_axes(fig, 1)[0]
    x = np.arange(1, MAX_DIGITS + 1)
    ax.plot(x, result["steps"], marker="o", label="taught the carries (steps)")
    ax.plot(x, result["answers"], marker="s", label="answers only")
    ax.axvspan(TRAIN_DIGITS + 0.5, MAX_DIGITS + 0.5, color="0.9", label="longer than trained on")
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlim(0.5, MAX_DIGITS + 0.5)
    ax.legend(loc="center left", fontsize=8)
    plots.style(ax, f"Trained on {result['n_train']} problems with {TRAIN_DIGITS}-digit numbers",
                "digits per number (test)", "exact-match accuracy")


def summary(result: dict) -> str:
    i = TRAIN_DIGITS - 1
    return (f"{result['n_train']} training problems. At {TRAIN_DIGITS} digits: steps {result['steps'][i]:.1%}, "
            f"answers only {result['answers'][i]:.1%}. At {MAX_DIGITS} digits: steps {result['steps'][-1]:.1%}, "
            f"answers only {result['answers'][-1]:.1%}.")


def dashboard(seed: int = 0, n_train: int = 100, *, background: bool = True) -> Dashboard:
    """The training-set-size slider (log scale); trains (once per seed) both students at each of its five positions."""
    s = setup(seed)
    for n in N_TRAINS:
        run(s, n)
    return Dashboard(lambda n_train: run(s, n_train),
                     {"n_train": slider(float(n_train), 1.0, 3.0, 0.5, log=True, description="training problems")},
                     render=render, summary=summary, title=TITLE, background=background, figsize=(9, 3.2))
