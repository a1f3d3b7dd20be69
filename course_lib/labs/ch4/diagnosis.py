"""A12 Medical diagnosis under a memory budget: students that fit, sensitivity at a fixed specificity, and the
cost of the decision threshold.

The data are scikit-learn's Wisconsin breast cancer set (569 cases, 30 features); the positive class is
*malignant* (label 0 in scikit-learn). A 30-64-64-2 perceptron teacher is cached on disk. Three kinds of
student must fit ``budget_bytes``:

* ``"small"``: a float32 perceptron 30-h-2, as wide as the budget allows;
* ``"pruned"``: a wider 30-h-2 perceptron, ``SPARSITY`` of its weights removed by global magnitude pruning
  (``torch.nn.utils.prune``) and fine-tuned with the mask; stored as a bitmask plus float32 non-zeros;
* ``"quantized"``: a 30-h-2 perceptron trained with ``BITS``-bit fake-quantized weights
  (``torch.fake_quantize_per_tensor_affine`` in a ``torch.nn.utils.parametrize`` parametrization, whose backward
  pass is the straight-through estimator); stored as packed ``BITS``-bit integers plus one float32 scale per tensor.

Biases stay float32 in every kind. Each student is trained on the hard labels or distilled from the teacher.

The live lab moves a decision threshold and a cost ratio (a missed cancer costs ``cost_ratio`` false alarms)
over scores computed once in :func:`setup`, so a move costs no training.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils import prune as torch_prune

from ... import cache, data, models, train
from ..._checks import check_choice, check_int_range, check_positive, check_range

TITLE = "Diagnosis: the decision threshold and the cost of a missed cancer"
TRY = "Raise the cost ratio to 20 and watch the cheapest threshold fall; then drag the threshold to it."

KINDS = ("small", "pruned", "quantized")
N_IN, N_OUT = 30, 2
SPARSITY = 0.75
BITS = 4
TEACHER_HIDDEN = (64, 64)
MALIGNANT = 0  # scikit-learn's label for malignant


# --------------------------------------------------------------------------- bytes and the budget
def student_bytes(kind: str, hidden: int) -> int:
    """Storage of a 30-``hidden``-2 student of ``kind`` (planned: pruned at ``SPARSITY``)."""
    check_choice("kind", kind, KINDS)
    hidden = check_int_range("hidden", hidden, 1, 10**6)
    n_w = N_IN * hidden + hidden * N_OUT
    n_b = hidden + N_OUT
    if kind == "small":
        return 4 * (n_w + n_b)
    if kind == "pruned":
        kept = sum(round((1 - SPARSITY) * k) for k in (N_IN * hidden, hidden * N_OUT))
        return math.ceil(n_w / 8) + 4 * kept + 4 * n_b
    return math.ceil(BITS * N_IN * hidden / 8) + math.ceil(BITS * hidden * N_OUT / 8) + 4 * 2 + 4 * n_b


def min_budget() -> int:
    """The smallest budget in which every kind has a student (width 1)."""
    return max(student_bytes(k, 1) for k in KINDS)


def plan(budget_bytes: int) -> dict:
    """The widest hidden layer of each kind that fits ``budget_bytes``.

    Raises ValueError when the budget is below the smallest model (:func:`min_budget`).
    """
    lo = min_budget()
    try:
        b = float(budget_bytes)
    except (TypeError, ValueError):
        raise ValueError(f"budget_bytes must be a whole number of bytes >= {lo}, got {budget_bytes!r}") from None
    if not b >= lo:
        raise ValueError(f"budget_bytes must be at least {lo} bytes (the smallest student, a 30-1-2 float32 "
                         f"perceptron), got {budget_bytes!r}")
    widths = {}
    for kind in KINDS:
        h = 1
        while student_bytes(kind, h + 1) <= b:
            h += 1
        widths[kind] = h
    return widths


def teacher_bytes() -> int:
    sizes = (N_IN, *TEACHER_HIDDEN, N_OUT)
    return 4 * sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


# --------------------------------------------------------------------------- quantization and pruning
class FakeQuant(nn.Module):
    """Parametrization: the weight rounded to a symmetric ``bits``-bit grid, one scale per tensor."""

    def __init__(self, bits: int = BITS):
        super().__init__()
        self.bits = check_int_range("bits", bits, 2, 8)

    def forward(self, w):
        q = 2 ** (self.bits - 1) - 1
        scale = (w.detach().abs().max() / q).clamp(min=torch.finfo(w.dtype).eps)
        return torch.fake_quantize_per_tensor_affine(w, scale, 0, -q, q)


def _linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def measured_bytes(model: nn.Module, kind: str) -> int:
    """Bytes of a trained student as stored: float32, bitmask + non-zeros, or packed integers."""
    check_choice("kind", kind, KINDS)
    n = 0
    for m in _linears(model):
        w = m.weight.detach()
        n += 4 * (m.bias.numel() if m.bias is not None else 0)
        if kind == "small":
            n += 4 * w.numel()
        elif kind == "pruned":
            n += math.ceil(w.numel() / 8) + 4 * int((w != 0).sum())
        else:
            n += math.ceil(BITS * w.numel() / 8) + 4
    return n


# --------------------------------------------------------------------------- training
def _objective(X, y, teacher_logits, T, alpha):
    if teacher_logits is None:
        return train.ce_objective(X, y)
    return train.kd_objective(X, y, teacher_logits, T=T, alpha=alpha)


def train_student(kind: str, hidden: int, X, y, teacher_logits=None, *, seed: int = 0, T: float = 2.0,
                  alpha: float = 0.7, epochs: int = 200, lr: float = 1e-2, weight_decay: float = 1e-4) -> nn.Module:
    """A 30-``hidden``-2 student of ``kind`` trained on (X, y), distilled when ``teacher_logits`` is given."""
    check_choice("kind", kind, KINDS)
    check_positive("T", T)
    check_range("alpha", alpha, 0, 1)
    model = models.mlp(X.shape[1], (hidden,), N_OUT, seed=seed)
    objective = _objective(X, y, teacher_logits, T, alpha)
    fit = dict(lr=lr, weight_decay=weight_decay, seed=seed)
    if kind == "quantized":
        for m in _linears(model):
            parametrize.register_parametrization(m, "weight", FakeQuant(BITS))
        train.fit(model, objective, len(X), epochs=epochs, **fit)
        for m in _linears(model):
            parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
        return model.eval()
    train.fit(model, objective, len(X), epochs=epochs, **fit)
    if kind == "pruned":
        params = [(m, "weight") for m in _linears(model)]
        torch_prune.global_unstructured(params, pruning_method=torch_prune.L1Unstructured, amount=SPARSITY)
        train.fit(model, objective, len(X), epochs=epochs // 3, **fit)  # fine-tune with the mask in place
        for m, name in params:
            torch_prune.remove(m, name)
    return model.eval()


def teacher(seed: int = 0):
    """The cached 30-64-64-2 teacher for split ``seed``."""
    return cache.trained_mlp("breast_cancer", TEACHER_HIDDEN, seed=seed, split_seed=seed, epochs=200, lr=1e-3,
                             weight_decay=1e-3, name="teacher-dx")


# --------------------------------------------------------------------------- metrics
def malignant_scores(model: nn.Module, X) -> np.ndarray:
    """Probability of *malignant* for each row."""
    return F.softmax(train.predict(model, X), -1)[:, MALIGNANT].numpy().astype(float)


def is_malignant(y) -> np.ndarray:
    return (np.asarray(y) == MALIGNANT).astype(int)


def threshold_at_specificity(scores, positive, specificity: float = 0.95) -> float:
    """The lowest threshold whose specificity on (scores, positive) is at least ``specificity``.

    A case is flagged when its score is >= the threshold.
    """
    check_range("specificity", specificity, 0, 1)
    scores, positive = np.asarray(scores, float), np.asarray(positive).astype(bool)
    neg = np.sort(scores[~positive])
    if len(neg) == 0:
        raise ValueError("positive must contain at least one negative case to fix a specificity")
    allowed_fp = int(math.floor((1 - specificity) * len(neg) + 1e-9))
    # flag strictly above the (allowed_fp + 1)-th highest negative score
    cut = neg[len(neg) - allowed_fp - 1]
    return float(np.nextafter(cut, np.inf))


def operating_point(scores, positive, threshold: float) -> dict:
    """Sensitivity, specificity, misses and false alarms when flagging scores >= ``threshold``."""
    scores, positive = np.asarray(scores, float), np.asarray(positive).astype(bool)
    flag = scores >= threshold
    tp, fn = int((flag & positive).sum()), int((~flag & positive).sum())
    fp, tn = int((flag & ~positive).sum()), int((~flag & ~positive).sum())
    return dict(sensitivity=tp / max(tp + fn, 1), specificity=tn / max(tn + fp, 1), misses=fn,
                false_alarms=fp, tp=tp, tn=tn)


def cost_curve(scores, positive, cost_ratio: float, thresholds) -> np.ndarray:
    """Mean cost per case at each threshold: a false alarm costs 1, a missed cancer ``cost_ratio``."""
    check_positive("cost_ratio", cost_ratio)
    scores, positive = np.asarray(scores, float), np.asarray(positive).astype(bool)
    flag = scores[None, :] >= np.asarray(thresholds, float)[:, None]
    misses = (~flag & positive).sum(1)
    alarms = (flag & ~positive).sum(1)
    return (cost_ratio * misses + alarms) / len(scores)


def best_threshold(scores, positive, cost_ratio: float, thresholds=None) -> float:
    """The threshold with the lowest mean cost (the highest such threshold on ties)."""
    grid = THRESHOLDS if thresholds is None else np.asarray(thresholds, float)
    c = cost_curve(scores, positive, cost_ratio, grid)
    return float(grid[np.flatnonzero(c == c.min())[-1]])


THRESHOLDS = np.round(np.linspace(0.01, 0.99, 99), 2)


# --------------------------------------------------------------------------- the experiment over seeds
def experiment(split_seed: int = 0, budget_bytes: int = 600, seeds=(0, 1, 2), *, specificity: float = 0.95,
               T: float = 2.0, alpha: float = 0.7, progress: bool = False) -> list:
    """Every kind, scratch and distilled, at every seed: bytes, test AUC, and the operating point at the
    threshold that gives ``specificity`` on the validation split, and the scores themselves. Returns a list of
    row dicts."""
    from sklearn.metrics import roc_auc_score

    widths = plan(budget_bytes)
    ds = data.load("breast_cancer", split_seed=split_seed)
    t = teacher(split_seed)
    t_logits = train.predict(t, ds.X_train)
    pos_val, pos_test = is_malignant(ds.y_val), is_malignant(ds.y_test)
    jobs = [(k, kd, s) for s in seeds for k in KINDS for kd in (False, True)]
    if progress:
        from tqdm.auto import tqdm
        jobs = tqdm(jobs, desc="training students", leave=False)
    rows = []
    for kind, kd, s in jobs:
        m = train_student(kind, widths[kind], ds.X_train, ds.y_train, t_logits if kd else None, seed=s, T=T,
                          alpha=alpha)
        sv, st = malignant_scores(m, ds.X_val), malignant_scores(m, ds.X_test)
        thr = threshold_at_specificity(sv, pos_val, specificity)
        op = operating_point(st, pos_test, thr)
        rows.append(dict(kind=kind, distilled=kd, seed=s, hidden=widths[kind], bytes=measured_bytes(m, kind),
                         auc=float(roc_auc_score(pos_test, st)), threshold=thr, val_scores=sv, test_scores=st, **op))
    return rows


# --------------------------------------------------------------------------- the live lab
@lru_cache(maxsize=8)
def setup(seed: int = 0, budget_bytes: int = 600, kind: str = "quantized", distilled: bool = True):
    """Scores of the teacher and of one student (``kind``, distilled or not) on the test split."""
    check_choice("kind", kind, KINDS)
    widths = plan(budget_bytes)
    ds = data.load("breast_cancer", split_seed=seed)
    t = teacher(seed)
    t_logits = train.predict(t, ds.X_train)
    m = train_student(kind, widths[kind], ds.X_train, ds.y_train, t_logits if distilled else None, seed=seed)
    from sklearn.metrics import roc_curve

    pos = is_malignant(ds.y_test)
    student = malignant_scores(m, ds.X_test)
    fpr, tpr, _ = roc_curve(pos, student)
    return dict(fpr=fpr, tpr=tpr, seed=seed, kind=kind, distilled=distilled, hidden=widths[kind], bytes=measured_bytes(m, kind),
                budget=int(budget_bytes), positive=pos, student=student,
                teacher=malignant_scores(t, ds.X_test))


def run(s, threshold: float = 0.5, cost_ratio: float = 10.0) -> dict:
    """One slider position: the student's operating point and cost at ``threshold``."""
    check_range("threshold", threshold, 0, 1)
    check_positive("cost_ratio", cost_ratio)
    pos, sc = s["positive"], s["student"]
    op = operating_point(sc, pos, threshold)
    costs = cost_curve(sc, pos, cost_ratio, THRESHOLDS)
    return dict(threshold=float(threshold), cost_ratio=float(cost_ratio), **op,
                cost=float(cost_curve(sc, pos, cost_ratio, [threshold])[0]), costs=costs,
                best=float(THRESHOLDS[np.flatnonzero(costs == costs.min())[-1]]), best_cost=float(costs.min()),
                fpr=s["fpr"], tpr=s["tpr"], kind=s["kind"], bytes=s["bytes"], n_pos=int(pos.sum()),
                n_neg=int(len(pos) - pos.sum()))


def render(result: dict, fig) -> None:
    from ...ui import plots

    ax1, ax2 = plots.fast_axes(fig, 2)
    ax1.plot(result["fpr"], result["tpr"], color="tab:blue", label=f"{result['kind']} student")
    ax1.plot(1 - result["specificity"], result["sensitivity"], "o", color="tab:red", label="threshold")
    ax1.set_xlim(-0.02, 1.02)
    ax1.set_ylim(-0.02, 1.02)
    ax1.legend(loc="lower right", fontsize=8)
    plots.style(ax1, "ROC on the test split", "false-alarm rate (1 - specificity)", "sensitivity")
    ax2.plot(THRESHOLDS, result["costs"], color="tab:gray")
    ax2.axvline(result["threshold"], color="tab:red", label=f"threshold {result['threshold']:.2f}")
    ax2.axvline(result["best"], color="tab:green", ls="--", label=f"cheapest {result['best']:.2f}")
    ax2.legend(loc="upper left", fontsize=8)
    plots.style(ax2, f"cost per case (a miss = {result['cost_ratio']:g} false alarms)", "threshold on P(malignant)",
                "cost per case (false alarms)")


def summary(result: dict) -> str:
    return (f"threshold {result['threshold']:.2f}: <b>{result['misses']}</b> of {result['n_pos']} cancers missed, "
            f"<b>{result['false_alarms']}</b> of {result['n_neg']} benign cases flagged; "
            f"cost {result['cost']:.3f} per case (cheapest {result['best_cost']:.3f} at {result['best']:.2f}); "
            f"{result['kind']} student, {result['bytes']} bytes")


def dashboard(seed: int = 0, threshold: float = 0.5, cost_ratio: float = 10.0, budget_bytes: int = 600,
              background: bool = True):
    from ...ui import Dashboard, slider

    s = setup(seed, budget_bytes)
    return Dashboard(lambda threshold, cost_ratio: run(s, threshold, cost_ratio),
                     {"threshold": slider(threshold, 0.01, 0.99, 0.01, description="threshold on P(malignant)"),
                      "cost_ratio": slider(cost_ratio, 0, 2, 0.05, description="cost of a miss / false alarm",
                                           log=True)},
                     render=render, summary=summary, figsize=(9.5, 3.4), title=TITLE, background=background)
