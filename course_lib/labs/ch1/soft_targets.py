"""D3: when soft targets pay off. Few labels, and a transfer set with one digit left out.

* :func:`subset_run` trains the same student on a stratified labelled ``fraction``, once with hard labels
  and once with the teacher's soft targets mixed in.
* :func:`left_out_run` distils (soft targets only) on a transfer set without one digit and counts test
  errors before and after adding a bias shift to that digit's logit; the shift is chosen on the
  validation split unless given.

The dashboard (ch1_02) moves the digit left out, T and the shift; trained students are cached, so a move
of the shift alone costs no training.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ... import cache, data, models, train
from ..._checks import check_int_range, check_positive, check_range
from ...distill.dark_knowledge import bias_shift, error_counts, error_curve
from ...ui import plots
from ...ui.widgets import Dashboard, slider
from ...ui.plots import fast_axes

TITLE = "A digit the student never saw"
TRY = "leave out a 3 at T = 2, then raise the shift until the errors on 3s fall; then try T = 8"
FIGSIZE = (9.0, 3.4)
SHIFTS = tuple(float(v) for v in np.arange(0.0, 10.01, 0.25))


@dataclass(frozen=True, eq=False)  # hashed by identity, for lru_cache
class Setup:
    seed: int
    ds: data.Dataset
    teacher: torch.nn.Module
    t_train: torch.Tensor   # teacher logits on the training split


@lru_cache(maxsize=8)
def setup(seed: int = 0) -> Setup:
    """The digits split and the course teacher, both drawn with ``seed``."""
    ds = data.load("digits", split_seed=seed)
    teacher = cache.teacher("digits", seed=seed, split_seed=seed)
    return Setup(int(seed), ds, teacher, train.predict(teacher, ds.X_train))


def _student(s: Setup, hidden, seed: int):
    hidden = tuple(int(h) for h in (hidden if hasattr(hidden, "__iter__") else (hidden,)))
    for h in hidden:
        check_int_range("hidden width", h, 1, 4096)
    return models.mlp(s.ds.n_features, hidden, s.ds.n_classes, seed=seed)


def subset_run(s: Setup, fraction: float, *, seed: int = 0, T: float = 4.0, alpha: float = 0.9, hidden=(16,),
               epochs: int = 100, lr: float = 3e-2) -> dict:
    """Train one student on a stratified labelled ``fraction`` (drawn with ``seed``), with hard and with soft targets.

    Returns the test accuracies of both and the number of labelled rows.
    """
    fraction = check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    T = check_positive("T", T)
    idx, ys = data.labelled_subset(torch.arange(len(s.ds.y_train))[:, None], s.ds.y_train, fraction, seed=seed)
    Xs, tl = s.ds.X_train[idx[:, 0]], s.t_train[idx[:, 0]]
    hard = _student(s, hidden, seed)
    train.train_scratch(hard, Xs, ys, epochs=epochs, lr=lr, seed=seed)
    soft = _student(s, hidden, seed)
    train.train_distilled(soft, Xs, ys, tl, T=T, alpha=alpha, epochs=epochs, lr=lr, seed=seed)
    return {"n_labelled": len(ys), "hard": train.evaluate(hard, s.ds.X_test, s.ds.y_test),
            "soft": train.evaluate(soft, s.ds.X_test, s.ds.y_test)}


@lru_cache(maxsize=128)
def _left_out_logits(s: Setup, digit: int, T: float, seed: int, hidden: tuple, epochs: int, lr: float):
    keep = s.ds.y_train != digit
    student = _student(s, hidden, seed)
    # train.train_distilled's loss with the teacher's targets at T computed once; alpha = 1, so no labels and no
    # cross-entropy term to compute (its weight is 0: the same weights, bit for bit, tests/test_labs_ch1.py)
    X = s.ds.X_train[keep]
    train.fit(student, train.kd_objective(X, None, s.t_train[keep], T=T, alpha=1.0), len(X), epochs=epochs, lr=lr,
              seed=seed)
    return train.predict(student, s.ds.X_val), train.predict(student, s.ds.X_test)


def left_out_run(s: Setup, digit: int = 3, *, T: float = 4.0, shift: float | None = None, seed: int = 0,
                 hidden=(16,), epochs: int = 100, lr: float = 3e-2, shifts=SHIFTS) -> dict:
    """Distil (soft targets only) on the training split without any ``digit``; count test errors.

    ``shift`` is the bias added to the digit's logit; None picks the shift from ``shifts`` that makes the
    fewest validation errors (the test split is never used to choose it). ``curve`` holds the test errors
    (all, on the digit) for every candidate shift, ``val_curve`` the validation errors.
    """
    check_int_range("digit", digit, 0, s.ds.n_classes - 1)
    T = check_positive("T", T)
    hidden = tuple(int(h) for h in (hidden if hasattr(hidden, "__iter__") else (hidden,)))
    lv, lt = _left_out_logits(s, int(digit), float(T), int(seed), hidden, int(epochs), float(lr))
    shifts = np.asarray(shifts, dtype=float)
    val_curve = error_curve(lv, s.ds.y_val, digit, shifts)
    chosen = float(shifts[int(np.argmin(val_curve[:, 0]))]) if shift is None else float(shift)
    before = error_counts(lt, s.ds.y_test, digit)
    after = error_counts(bias_shift(lt, digit, chosen), s.ds.y_test, digit)
    curve = error_curve(lt, s.ds.y_test, digit, shifts)
    return {"digit": int(digit), "T": T, "n_test": len(s.ds.y_test), "n_digit": int((s.ds.y_test == digit).sum()),
            "errors": before[0], "errors_digit": before[1], "shift": chosen,
            "errors_shifted": after[0], "errors_digit_shifted": after[1],
            "shifts": shifts, "curve": curve, "val_curve": val_curve}


def run(s: Setup, digit: int = 3, T: float = 2.0, shift: float = 0.0) -> dict:
    """One dashboard position: the left-out student of (digit, T) and the test errors at ``shift``."""
    return left_out_run(s, int(digit), T=T, shift=shift, seed=s.seed, epochs=60, lr=5e-2)


def render(res: dict, fig) -> None:
    (ax,) = fast_axes(fig, 1, left=0.08, right=0.98)
    ax.plot(res["shifts"], res["curve"][:, 0], label="all test errors")
    ax.plot(res["shifts"], res["curve"][:, 1], label=f"test errors on {res['digit']}s")
    ax.axvline(res["shift"], color="gray", ls="--", label="current shift")
    ax.legend(fontsize=10, loc="upper right")
    ax.set_ylim(0, plots.steady_upper(res["curve"], 2, 20))
    plots.style(ax, f"Digit {res['digit']} left out of the transfer set, T = {res['T']:g}",
                "bias shift added to its logit (logit units)", f"test errors (count of {res['n_test']})")


def summary(res: dict) -> str:
    return (f"errors {res['errors']} &rarr; <b>{res['errors_shifted']}</b> of {res['n_test']}; "
            f"on {res['digit']}s {res['errors_digit']} &rarr; <b>{res['errors_digit_shifted']}</b> of {res['n_digit']}")


def dashboard(seed: int = 0, *, digit: int = 3, T: float = 2.0, shift: float = 0.0,
              background: bool = True) -> Dashboard:
    s = setup(seed)
    dash = Dashboard(lambda digit, T, shift: run(s, digit, T, shift),
                     {"digit": slider(digit, 0, 9, 1, description="digit left out", integer=True),
                      "T": slider(T, 1.0, 10.0, 0.5, description="temperature T"),
                      "shift": slider(shift, 0.0, 10.0, 0.25, description="bias shift")},
                     render=render, summary=summary, figsize=FIGSIZE, title=TITLE, background=background)
    return dash
