"""D6: relational distillation (RKD) against response distillation, judged on embeddings.

:func:`embedding_run` trains a student's hidden layer (width ``hidden``) without labels, by KD on the
logits (``"response"``) or by RKD distance and angle losses against the teacher's last hidden layer
(``"rkd"``, or one of the two alone), and measures the embedding on the test split: nearest-neighbour
recall@1, the correlation of its pairwise distances with the teacher's (what RKD optimises), and the
test accuracy of a linear probe (``sklearn`` logistic regression fitted on the frozen training
embeddings, its regularisation chosen on the validation split), a task metric RKD does not optimise.
The dashboard (ch1_05) selects a width; every width it offers is trained once in ``setup``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from ... import cache, data, features, losses, metrics, models, train
from ..._checks import check_choice, check_int_range
from ...seeding import generator
from ...ui import plots
from ...ui.widgets import Dashboard
from ...ui.plots import fast_axes

TITLE = "RKD against response distillation: embedding width"
TRY = "compare the two students' recall@1 and probe accuracy at width 2, then at 32"
FIGSIZE = (9.0, 3.4)
METHODS = ("response", "rkd_distance", "rkd_angle", "rkd", "none")
WIDTHS = (2, 4, 8, 16, 32)


@dataclass(frozen=True, eq=False)  # hashed by identity, for lru_cache
class Setup:
    seed: int
    ds: data.Dataset
    t_logits: torch.Tensor
    t_train: torch.Tensor     # teacher act2 on train / val / test
    t_val: torch.Tensor
    t_test: torch.Tensor
    slider: dict = field(default_factory=dict)   # (student seed, width) -> {method: result}, for the dashboard
    runs: dict = field(default_factory=dict)     # memo of embedding_run by its arguments


@lru_cache(maxsize=8)
def setup(seed: int = 0) -> Setup:
    """Split and teacher drawn with ``seed``; the teacher's logits and last hidden layer."""
    ds = data.load("digits", split_seed=seed)
    teacher = cache.teacher("digits", seed=seed, split_seed=seed)
    return Setup(int(seed), ds, train.predict(teacher, ds.X_train), features.features(teacher, ds.X_train, "act2"),
                 features.features(teacher, ds.X_val, "act2"), features.features(teacher, ds.X_test, "act2"))


def linear_probe(emb_train, y_train, emb_val, y_val, emb_test, y_test, Cs=(0.1, 1.0, 10.0)) -> float:
    """Test accuracy of a logistic-regression probe on frozen embeddings; C chosen on validation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    sc = StandardScaler().fit(emb_train.numpy())
    tr, va, te = (sc.transform(e.numpy()) for e in (emb_train, emb_val, emb_test))
    best = None
    with threadpool_limits(1):  # a 1,077 x 16 problem: threads only add overhead (and spin on a busy machine)
        for C in Cs:
            clf = LogisticRegression(C=C, max_iter=500).fit(tr, y_train.numpy())
            v = clf.score(va, y_val.numpy())
            if best is None or v > best[0]:
                best = (v, clf)
    return float(best[1].score(te, y_test.numpy()))


def embedding_run(s: Setup, method: str = "rkd", *, seed: int = 0, hidden: int = 16, T: float = 4.0,
                  w_angle: float = 2.0, batch: int = 128, angle_batch: int = 32, epochs: int = 80,
                  lr: float = 2e-2, probe: bool = True) -> dict:
    """Train one student embedding without labels and measure it (see the module doc).

    Results are memoised on ``s`` by their arguments, so the dashboard reuses the notebook's students.
    """
    check_choice("method", method, METHODS)
    check_int_range("batch", batch, 2, 4096)
    check_int_range("angle_batch", angle_batch, 3, 256)
    key = (method, int(seed), int(hidden), float(T), float(w_angle), int(batch), int(angle_batch), int(epochs),
           float(lr), bool(probe))
    if key not in s.runs:
        s.runs[key] = _embedding_run(s, method, seed, int(hidden), T, w_angle, batch, angle_batch, epochs, lr, probe)
    return dict(s.runs[key])


def _embedding_run(s, method, seed, hidden, T, w_angle, batch, angle_batch, epochs, lr, probe) -> dict:
    ds, X = s.ds, s.ds.X_train
    student = models.mlp(ds.n_features, (int(hidden),), ds.n_classes, seed=seed)
    g = generator(seed)
    rkd_d, rkd_a, kd = losses.get_feature("rkd_distance"), losses.get_feature("rkd_angle"), losses.get("kd")

    def objective(model, idx):
        with features.capture(model, ["act1"]) as store:
            logits = model(X)
        emb, terms = store["act1"], {}
        if method == "response":
            return {"loss": kd(logits, s.t_logits, T=T)}
        loss = torch.zeros(())
        if method in ("rkd_distance", "rkd"):
            rows = torch.randperm(len(X), generator=g)[:batch]
            terms["distance"] = rkd_d(emb[rows], s.t_train[rows])
            loss = loss + terms["distance"]
        if method in ("rkd_angle", "rkd"):
            rows = torch.randperm(len(X), generator=g)[:angle_batch]
            terms["angle"] = rkd_a(emb[rows], s.t_train[rows])
            loss = loss + w_angle * terms["angle"]
        terms["loss"] = loss
        return terms

    if method != "none":
        train.fit(student, objective, len(X), epochs=epochs, lr=lr, seed=seed)
    e_tr, e_va, e_te = (features.features(student, Z, "act1") for Z in (X, ds.X_val, ds.X_test))
    out = {"recall@1": metrics.recall_at_1(e_te, ds.y_test), "distance_corr": metrics.distance_correlation(e_te, s.t_test),
           "accuracy": train.evaluate(student, ds.X_test, ds.y_test)}
    if probe:
        out["probe"] = linear_probe(e_tr, ds.y_train, e_va, ds.y_val, e_te, ds.y_test)
    return out


def slider_results(s: Setup, progress: bool = False, student_seed: int | None = None) -> dict:
    """Both students (seed ``student_seed``, default ``s.seed``) at every width the dashboard offers, trained once."""
    k = s.seed if student_seed is None else int(student_seed)
    todo = [w for w in WIDTHS if (k, w) not in s.slider]
    if todo and progress:
        from tqdm.auto import tqdm
        todo = tqdm(todo, desc="training the slider's students", leave=False)
    for w in todo:
        s.slider[k, w] = {m: embedding_run(s, m, seed=k, hidden=w) for m in ("response", "rkd")}
    return {w: s.slider[k, w] for w in WIDTHS}


def run(s: Setup, width: int = 4, student_seed: int | None = None) -> dict:
    width = int(width)
    if width not in WIDTHS:
        raise ValueError(f"width must be one of {list(WIDTHS)}, got {width}")
    return {"width": width, **slider_results(s, student_seed=student_seed)[width]}


def render(r: dict, fig) -> None:
    ax1, ax2 = fast_axes(fig, 2, left=0.08)
    names = ["response", "rkd"]
    plots.compare(ax1, names, [r[m]["recall@1"] for m in names], ylim=(0, 1.05),
                  title=f"Nearest-neighbour recall@1, width {r['width']}", ylabel="test recall@1 (fraction)")
    plots.compare(ax2, names, [r[m]["probe"] for m in names], ylim=(0, 1.05),
                  title="Linear probe on the frozen embedding", ylabel="test accuracy (fraction)")


def summary(r: dict) -> str:
    return " ; ".join(f"{m}: recall@1 {r[m]['recall@1']:.1%}, probe {r[m]['probe']:.1%}, "
                      f"distance corr {r[m]['distance_corr']:.2f}" for m in ("response", "rkd"))


def dashboard(seed: int = 0, *, width: int = 4, background: bool = True, progress: bool = False,
              student_seed: int | None = None) -> Dashboard:
    """Split and teacher from ``seed``; students from ``student_seed`` (default ``seed``)."""
    import ipywidgets as W

    s = setup(seed)
    slider_results(s, progress=progress, student_seed=student_seed)
    control = W.SelectionSlider(options=list(WIDTHS), value=int(width), continuous_update=False,
                                description="embedding width", style={"description_width": "initial"})
    dash = Dashboard(lambda width: run(s, width, student_seed), {"width": control}, render=render, summary=summary,
                     figsize=FIGSIZE, title=TITLE, background=background)
    return dash
