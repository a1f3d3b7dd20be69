"""Plain, seeded experiment functions behind the chapter 1 notebooks on D3-D6 and D10.

Each function trains one small student full-batch on cached tensors of the
digits data (well under a second) and returns a dict of numbers, so a
notebook can loop it over seeds and a dashboard can call it from a slider.

- D3 ``subset_run`` (soft against hard targets on a labelled subset),
  ``left_out_run`` and ``bias_shift`` (a transfer set without one digit);
- D4 ``permute_non_top`` and ``rank_order_run`` (dark knowledge scrambled);
- D5 ``hint_run`` (FitNets hint through a regressor, clean or corrupted);
- D6 ``embedding_run`` (RKD against response distillation, nearest-neighbour recall);
- D10 ``weak_teacher`` and ``fidelity_run`` (agreement and KL against accuracy).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import cache, data, features, losses, metrics, models, train
from ._checks import check_choice, check_int_range, check_positive, check_range

DATASET = "digits"


@lru_cache(maxsize=4)
def _teacher_and_data():
    ds = data.load(DATASET)
    teacher = cache.teacher(DATASET)
    return ds, teacher


def setup():
    """The data set and the cached MLP teacher (256, 256) used by every experiment here."""
    return _teacher_and_data()


@lru_cache(maxsize=8)
def _teacher_features(layer: str):
    ds, teacher = _teacher_and_data()
    return features.features(teacher, ds.X_train, layer), features.features(teacher, ds.X_test, layer)


def _hidden(hidden):
    hidden = tuple(int(h) for h in (hidden if hasattr(hidden, "__iter__") else (hidden,)))
    for h in hidden:
        check_int_range("hidden width", h, 1, 4096)
    return hidden


# ------------------------------------------------------------------------ D3
def subset_run(fraction: float, *, seed: int = 0, T: float = 4.0, alpha: float = 0.9, hidden=(16,),
               epochs: int = 100, lr: float = 3e-2) -> dict:
    """Train one student on a stratified labelled ``fraction`` of the training set, twice.

    ``hard``: cross-entropy with the labels only. ``soft``: the same rows with
    the teacher's soft targets mixed in (``alpha`` weighs the teacher). Returns
    test accuracies and the number of labelled rows.
    """
    fraction = check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    ds, teacher = _teacher_and_data()
    hidden = _hidden(hidden)
    Xs, ys = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=seed)
    tl = train.predict(teacher, Xs)
    hard = models.mlp(ds.n_features, hidden, ds.n_classes, seed=seed)
    train.train_scratch(hard, Xs, ys, epochs=epochs, lr=lr, seed=seed)
    soft = models.mlp(ds.n_features, hidden, ds.n_classes, seed=seed)
    train.train_distilled(soft, Xs, ys, tl, T=T, alpha=alpha, epochs=epochs, lr=lr, seed=seed)
    return {"n_labelled": len(ys), "hard": train.evaluate(hard, ds.X_test, ds.y_test),
            "soft": train.evaluate(soft, ds.X_test, ds.y_test)}


def bias_shift(logits: torch.Tensor, cls: int, shift: float) -> torch.Tensor:
    """Add ``shift`` to the logit of class ``cls`` (a copy; the model is untouched)."""
    if logits.dim() != 2:
        raise ValueError(f"logits must be a 2-D tensor (batch, classes), got shape {tuple(logits.shape)}")
    check_int_range("cls", cls, 0, logits.shape[1] - 1)
    out = logits.clone()
    out[:, cls] += float(shift)
    return out


def error_counts(logits: torch.Tensor, y: torch.Tensor, cls: int) -> tuple[int, int]:
    """(all errors, errors on rows whose true label is ``cls``)."""
    wrong = logits.argmax(1) != y
    return int(wrong.sum()), int((wrong & (y == cls)).sum())


@lru_cache(maxsize=64)
def _left_out_logits(digit: int, T: float, seed: int, hidden: tuple, epochs: int, lr: float):
    ds, teacher = _teacher_and_data()
    Xt, yt = data.without_classes(ds.X_train, ds.y_train, [digit])
    tl = train.predict(teacher, Xt)
    student = models.mlp(ds.n_features, hidden, ds.n_classes, seed=seed)
    train.train_distilled(student, Xt, yt, tl, T=T, alpha=1.0, epochs=epochs, lr=lr, seed=seed)
    return train.predict(student, ds.X_val), train.predict(student, ds.X_test)


def left_out_run(digit: int = 3, *, T: float = 4.0, shift: float | None = None, seed: int = 0, hidden=(32,),
                 epochs: int = 100, lr: float = 3e-2, shifts=tuple(np.arange(0.0, 10.01, 0.25))) -> dict:
    """Distil (soft targets only) on a transfer set without any ``digit``; count test errors.

    The student never sees the digit, only the teacher's probabilities for it
    on other digits. ``shift`` is the bias added to the digit's logit; None
    picks the shift from ``shifts`` that makes the fewest validation errors
    (the test set is never used to choose it). The returned ``curve`` holds the
    test errors (all, on the digit) for every candidate shift. Trained students
    are kept in memory, so moving only ``shift`` costs no retraining.
    """
    ds, _ = _teacher_and_data()
    check_int_range("digit", digit, 0, ds.n_classes - 1)
    T = check_positive("T", T)
    lv, lt = _left_out_logits(int(digit), float(T), int(seed), _hidden(hidden), int(epochs), float(lr))
    shifts = np.asarray(shifts, dtype=float)
    val_err = [error_counts(bias_shift(lv, digit, s), ds.y_val, digit)[0] for s in shifts]
    chosen = float(shifts[int(np.argmin(val_err))]) if shift is None else float(shift)
    before = error_counts(lt, ds.y_test, digit)
    after = error_counts(bias_shift(lt, digit, chosen), ds.y_test, digit)
    curve = np.array([error_counts(bias_shift(lt, digit, s), ds.y_test, digit) for s in shifts])
    return {"digit": digit, "T": T, "n_test": len(ds.y_test), "n_digit": int((ds.y_test == digit).sum()),
            "errors": before[0], "errors_digit": before[1], "shift": chosen,
            "errors_shifted": after[0], "errors_digit_shifted": after[1],
            "shifts": shifts, "curve": curve}


# ------------------------------------------------------------------------ D4
def permute_non_top(logits: torch.Tensor, *, seed: int = 0) -> torch.Tensor:
    """Keep each row's top-1 logit in place and shuffle the other logits among the other classes.

    Softmax commutes with a permutation of classes, so at every temperature the
    probabilities are permuted the same way: the top-1 class and its probability
    are kept, the ranking of the wrong classes is destroyed.
    """
    if logits.dim() != 2:
        raise ValueError(f"logits must be a 2-D tensor (batch, classes), got shape {tuple(logits.shape)}")
    g = torch.Generator().manual_seed(int(seed))
    n, c = logits.shape
    top = logits.argmax(1, keepdim=True)
    keys = torch.rand(n, c, generator=g).scatter_(1, top, -1.0)
    target_order = keys.argsort(1)  # the top class first, then the others in random order
    source_order = logits.scatter(1, top, float("inf")).argsort(1, descending=True)  # top first, then by rank
    out = torch.empty_like(logits)
    out.scatter_(1, target_order, logits.gather(1, source_order))
    return out


def rank_order_run(hidden=(12,), *, permute: bool = False, seed: int = 0, T: float = 10.0, fraction: float = 0.2,
                   epochs: int = 100, lr: float = 3e-2) -> dict:
    """Distil (soft targets only, alpha = 1) on a labelled ``fraction``, from true or permuted teacher logits."""
    ds, teacher = _teacher_and_data()
    hidden = _hidden(hidden)
    Xs, ys = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=0)
    tl = train.predict(teacher, Xs)
    if permute:
        tl = permute_non_top(tl, seed=seed)
    student = models.mlp(ds.n_features, hidden, ds.n_classes, seed=seed)
    train.train_distilled(student, Xs, ys, tl, T=T, alpha=1.0, epochs=epochs, lr=lr, seed=seed)
    return {"accuracy": train.evaluate(student, ds.X_test, ds.y_test), "params": models.count_params(student)}


# ------------------------------------------------------------------------ D5
class HintStudent(nn.Module):
    """A student MLP and the regressor that maps its guided layer to the teacher's width."""

    def __init__(self, student: nn.Module, guided: str, teacher_width: int, *, seed: int | None = None):
        super().__init__()
        self.student, self.guided = student, guided
        width = features.features(student, torch.zeros(1, student[0].in_features), guided).shape[1]
        self.regressor = features.HintRegressor(width, teacher_width, seed=seed)

    def forward(self, x):
        return self.student(x)


def hint_run(*, noise: float = 0.0, misaligned: float = 0.0, beta: float = 1.0, seed: int = 0,
             fraction: float = 0.1, hidden=(32, 16), guided: str = "act2", teacher_layer: str = "act2",
             hint_batch: int = 256, epochs: int = 150, lr: float = 1e-2) -> dict:
    """FitNets-style hint: cross-entropy on a labelled ``fraction`` plus ``beta`` x hint MSE on every training input.

    The hint is the teacher's ``teacher_layer`` output, corrupted by fixed
    Gaussian ``noise`` (in units of each feature's spread) and with a
    ``misaligned`` fraction of rows given another row's hint. The student's
    ``guided`` layer is read by a forward hook and passed through a learned
    linear regressor. Each step the hint is taken on a fresh random batch of
    ``hint_batch`` training inputs (all labelled rows are used every step).
    ``beta = 0`` is the same student without a hint.
    """
    beta = check_range("beta", beta, 0.0, 1000.0)
    check_int_range("hint_batch", hint_batch, 1, 10**6)
    ds, _ = _teacher_and_data()
    H, _ = _teacher_features(teacher_layer)
    target = features.misalign(features.add_feature_noise(H, noise, seed=seed), misaligned, seed=seed)
    Xl, yl = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=seed)
    X = ds.X_train
    net = HintStudent(models.mlp(ds.n_features, _hidden(hidden), ds.n_classes, seed=seed), guided, H.shape[1],
                      seed=seed)
    hint_loss = losses.get("hint")
    g = torch.Generator().manual_seed(int(seed))

    def objective(model, idx):
        rows = torch.randperm(len(X), generator=g)[:hint_batch]
        with features.capture(model.student, [guided]) as store:
            model.student(X[rows])
        ce = F.cross_entropy(model.student(Xl), yl)
        hint = hint_loss(model.regressor(store[guided]), target[rows])
        return {"loss": ce + beta * hint, "ce": ce, "hint": hint}

    hist = train.fit(net, objective, len(X), epochs=epochs, lr=lr, seed=seed)
    return {"accuracy": train.evaluate(net.student, ds.X_test, ds.y_test), "hint_loss": hist.terms["hint"][-1],
            "ce": hist.terms["ce"][-1], "n_labelled": len(yl)}


# ------------------------------------------------------------------------ D6
EMBEDDING_METHODS = ("response", "rkd_distance", "rkd_angle", "rkd", "none")


def embedding_run(method: str = "rkd", *, seed: int = 0, hidden: int = 16, T: float = 4.0, w_angle: float = 2.0,
                  batch: int = 128, angle_batch: int = 48, epochs: int = 150, lr: float = 1e-2) -> dict:
    """Train a student's hidden layer (width ``hidden``) as an embedding, without labels, and measure it.

    ``response``: KD on the logits at T (alpha = 1). ``rkd_distance`` / ``rkd_angle``
    / ``rkd`` (both, the angle weighted ``w_angle``): RKD between the student's
    hidden layer (read by a hook) and the teacher's penultimate layer, on a fresh
    random ``batch`` (distances) and ``angle_batch`` (angles) of rows each step. ``none``:
    the untrained student. Returns test nearest-neighbour recall@1 of the
    embedding, the correlation of its test pairwise distances with the teacher's,
    and the student's test accuracy (meaningful for ``response`` only).
    """
    check_choice("method", method, EMBEDDING_METHODS)
    check_int_range("batch", batch, 2, 4096)
    check_int_range("angle_batch", angle_batch, 3, 256)
    ds, teacher = _teacher_and_data()
    t_train, t_test = _teacher_features("act2")
    X = ds.X_train
    tl = train.predict(teacher, X)
    student = models.mlp(ds.n_features, (int(hidden),), ds.n_classes, seed=seed)
    g = torch.Generator().manual_seed(int(seed))
    rkd_d, rkd_a = losses.get("rkd_distance"), losses.get("rkd_angle")

    def objective(model, idx):
        with features.capture(model, ["act1"]) as store:
            logits = model(X)
        emb, terms = store["act1"], {}
        if method == "response":
            terms["loss"] = losses.get("kd")(logits, tl, T=T)
            return terms
        loss = torch.zeros(())
        if method in ("rkd_distance", "rkd"):
            rows = torch.randperm(len(X), generator=g)[:batch]
            terms["distance"] = rkd_d(emb[rows], t_train[rows])
            loss = loss + terms["distance"]
        if method in ("rkd_angle", "rkd"):
            rows = torch.randperm(len(X), generator=g)[:angle_batch]
            terms["angle"] = rkd_a(emb[rows], t_train[rows])
            loss = loss + w_angle * terms["angle"]
        terms["loss"] = loss
        return terms

    if method != "none":
        train.fit(student, objective, len(X), epochs=epochs, lr=lr, seed=seed)
    emb_test = features.features(student, ds.X_test, "act1")
    return {"recall@1": features.recall_at_1(emb_test, ds.y_test),
            "distance_corr": features.distance_correlation(emb_test, t_test),
            "accuracy": train.evaluate(student, ds.X_test, ds.y_test)}


@lru_cache(maxsize=256)
def embedding_run_cached(method: str = "rkd", *, seed: int = 0, hidden: int = 16) -> dict:
    """``embedding_run`` with default settings, remembered per (method, seed, hidden) for dashboards."""
    return embedding_run(method, seed=seed, hidden=hidden)


# ----------------------------------------------------------------------- D10
def weak_teacher(fraction: float = 0.05, *, seed: int = 0) -> nn.Module:
    """The teacher's architecture trained on only ``fraction`` of the labels (cached on disk): a teacher that errs."""
    fraction = check_range("fraction", fraction, 0.0, 1.0, lo_open=True)
    ds, _ = _teacher_and_data()
    Xs, ys = data.labelled_subset(ds.X_train, ds.y_train, fraction, seed=seed)
    config = dict(kind="weak_teacher", dataset=DATASET, fraction=fraction, seed=seed, hidden=[256, 256], epochs=200)
    return cache.cached_model(
        config, lambda: models.mlp(ds.n_features, (256, 256), ds.n_classes, seed=seed),
        lambda m: train.train_scratch(m, Xs, ys, epochs=200, lr=3e-3, weight_decay=1e-4, seed=seed),
        name="weak-teacher-digits")


@lru_cache(maxsize=4)
def _weak_logits(fraction: float, seed: int):
    ds, _ = _teacher_and_data()
    t = weak_teacher(fraction, seed=seed)
    return train.predict(t, ds.X_train), train.predict(t, ds.X_test)


def fidelity_summary(student_logits_train, teacher_logits_train, student_logits_test, teacher_logits_test,
                     y_test) -> dict:
    """Agreement and KL(teacher || student) at T = 1 on train and test, and test accuracy."""
    return {"agree_train": metrics.agreement(student_logits_train, teacher_logits_train),
            "agree_test": metrics.agreement(student_logits_test, teacher_logits_test),
            "kl_train": metrics.kl_to_teacher(student_logits_train, teacher_logits_train),
            "kl_test": metrics.kl_to_teacher(student_logits_test, teacher_logits_test),
            "accuracy": metrics.accuracy(student_logits_test, y_test)}


def fidelity_run(alpha: float = 1.0, *, T: float = 4.0, teacher: str = "weak", hidden: int = 32, seed: int = 0,
                 epochs: int = 100, lr: float = 3e-2, weak_fraction: float = 0.05) -> dict:
    """Distil a student on the full labelled training set and measure fidelity and accuracy.

    ``teacher`` is "strong" (the cached course teacher) or "weak" (trained on
    ``weak_fraction`` of the labels). ``alpha`` weighs the teacher against the
    hard labels (1: imitate only).
    """
    check_choice("teacher", teacher, ("strong", "weak"))
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    check_positive("T", T)
    ds, strong = _teacher_and_data()
    if teacher == "strong":
        tl_train, tl_test = train.predict(strong, ds.X_train), train.predict(strong, ds.X_test)
    else:
        tl_train, tl_test = _weak_logits(float(weak_fraction), 0)
    student = models.mlp(ds.n_features, (int(hidden),), ds.n_classes, seed=seed)
    train.train_distilled(student, ds.X_train, ds.y_train, tl_train, T=T, alpha=alpha, epochs=epochs, lr=lr,
                          seed=seed)
    out = fidelity_summary(train.predict(student, ds.X_train), tl_train, train.predict(student, ds.X_test), tl_test,
                           ds.y_test)
    out["teacher_accuracy"] = metrics.accuracy(tl_test, ds.y_test)
    return out
