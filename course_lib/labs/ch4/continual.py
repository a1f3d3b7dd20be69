"""A10 live lab: task A (digits 0-4), then task B (digits 5-9); fine-tuning forgets, LwF remembers (sometimes).

Two settings. **Task-incremental**: a shared trunk with one five-way head per task, and the
task id picks the head at test time. **Class-incremental**: one ten-way head and no task id,
so a test digit competes against all ten classes. In both, the task-A model is trained
first; task B is then learned by plain fine-tuning (``lam = 0``), by learning without
forgetting (distillation to the frozen task-A model's outputs on the task-B inputs), or
jointly on A and B together (the upper bound, which needs the task-A data again).

    s = setup(seed=0)
    r = run(s, lam=1.0)        # both settings, fine-tuning and LwF at this weight
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from ... import data, train
from ..._checks import check_choice, check_int_range, check_range
from ...distill.lwf import MultiHeadMLP, lwf_loss
from ...ui import plots
from ...ui.widgets import Dashboard, slider

TITLE = "Continual learning: fine-tuning vs learning without forgetting"
TRY = "Raise the LwF weight from 0 (plain fine-tuning): task-A accuracy comes back with separate heads, not with one shared head."
SETTINGS = ("task", "class")
METHODS = ("finetune", "lwf", "joint")
TASK_A = (0, 1, 2, 3, 4)
HIDDEN = (32,)  # a small trunk: little spare capacity, so task B overwrites some of what task A used
LR = 1e-2
EPOCHS_A = 100
T = 2.0


@dataclass(frozen=True)
class Setup:
    seed: int
    epochs: int
    X: dict    # {"A_train", "B_train", "A_test", "B_test", "A_val", "B_val"} -> inputs
    y: dict    # the same keys -> labels 0..9
    old: dict  # setting -> state_dict of the model after task A
    recorded: dict  # setting -> frozen task-A model's old-task logits on the task-B training inputs


def _tasks(ds):
    X, y = {}, {}
    a = torch.tensor(TASK_A)
    for part, Xp, yp in (("train", ds.X_train, ds.y_train), ("val", ds.X_val, ds.y_val), ("test", ds.X_test, ds.y_test)):
        in_a = torch.isin(yp, a)
        X[f"A_{part}"], y[f"A_{part}"] = Xp[in_a], yp[in_a]
        X[f"B_{part}"], y[f"B_{part}"] = Xp[~in_a], yp[~in_a]
    return X, y


def new_model(setting: str, seed: int) -> MultiHeadMLP:
    """The network for ``setting``: two five-way heads ("task") or one ten-way head ("class")."""
    check_choice("setting", setting, SETTINGS)
    heads = {"A": 5, "B": 5} if setting == "task" else {"all": 10}
    return MultiHeadMLP(64, HIDDEN, heads, seed=seed)


def _logits(model, X, setting, task):
    """(logits, label offset) for ``task``'s examples: its own head, or the shared ten-way head."""
    if setting == "task":
        return model(X, task), (0 if task == "A" else 5)
    return model(X, "all"), 0


def _train_a(setting, X, y, seed, epochs):
    model = new_model(setting, seed)
    Xa, ya = X["A_train"], y["A_train"]

    def objective(m, idx):
        logits, off = _logits(m, Xa, setting, "A")
        return {"loss": F.cross_entropy(logits, ya - off)}

    train.fit(model, objective, len(Xa), epochs=epochs, lr=LR, seed=seed)
    return model


@lru_cache(maxsize=8)
def setup(seed: int = 0, epochs: int = EPOCHS_A) -> Setup:
    """The digits split (``split_seed=seed``), both tasks, and the task-A model of each setting."""
    check_int_range("seed", seed, 0, 2**31 - 1)
    check_int_range("epochs", epochs, 1, 10_000)
    X, y = _tasks(data.load("digits", split_seed=seed))
    old, recorded = {}, {}
    for setting in SETTINGS:
        m = _train_a(setting, X, y, seed, epochs)
        old[setting] = {k: v.clone() for k, v in m.state_dict().items()}
        with torch.no_grad():
            rec, _ = _logits(m.eval(), X["B_train"], setting, "A")
            recorded[setting] = rec[:, :5].clone() if setting == "class" else rec.clone()
    return Setup(int(seed), int(epochs), X, y, old, recorded)


def accuracy(model, s: Setup, setting: str, task: str, part: str = "test") -> float:
    """Accuracy on ``task``'s ``part`` split: within its own head (task) or over all ten classes (class)."""
    check_choice("setting", setting, SETTINGS)
    check_choice("task", task, ("A", "B"))
    check_choice("part", part, ("train", "val", "test"))
    Xp, yp = s.X[f"{task}_{part}"], s.y[f"{task}_{part}"]
    with torch.no_grad():
        logits, off = _logits(model.eval(), Xp, setting, task)
    return float((logits.argmax(-1) == yp - off).float().mean())


def old_model(s: Setup, setting: str) -> MultiHeadMLP:
    """The model as it was after task A (a fresh copy)."""
    check_choice("setting", setting, SETTINGS)
    m = new_model(setting, s.seed)
    m.load_state_dict(s.old[setting])
    return m.eval()


def old_class_diagnosis(model, s: Setup, part: str = "test") -> dict:
    """For the one-head model on task-A digits: accuracy when only the five old outputs compete,
    and the fraction of task-A digits it calls a new class (5-9)."""
    check_choice("part", part, ("train", "val", "test"))
    Xa, ya = s.X[f"A_{part}"], s.y[f"A_{part}"]
    with torch.no_grad():
        z = model.eval()(Xa, "all")
    return {"within_old": float((z[:, :5].argmax(-1) == ya).float().mean()),
            "called_new": float((z.argmax(-1) >= 5).float().mean())}


def learn_b(s: Setup, setting: str, method: str, *, lam: float = 1.0, epochs: int | None = None,
            seed: int | None = None) -> MultiHeadMLP:
    """Learn task B after task A by ``method`` ("finetune", "lwf" with weight ``lam``, or "joint")."""
    check_choice("setting", setting, SETTINGS)
    check_choice("method", method, METHODS)
    lam = check_range("lam", lam, 0.0, 100.0)
    epochs = s.epochs if epochs is None else check_int_range("epochs", epochs, 0, 10_000)
    seed = s.seed if seed is None else seed
    Xb, yb = s.X["B_train"], s.y["B_train"]
    if method == "joint":  # from scratch on A and B together: the upper bound that needs the old data
        model = new_model(setting, seed)
        Xa, ya = s.X["A_train"], s.y["A_train"]

        def objective(m, idx):
            la, oa = _logits(m, Xa, setting, "A")
            lb, ob = _logits(m, Xb, setting, "B")
            return {"loss": F.cross_entropy(torch.cat([la, lb]), torch.cat([ya - oa, yb - ob]))
                    if setting == "class" else F.cross_entropy(la, ya - oa) + F.cross_entropy(lb, yb - ob)}

        train.fit(model, objective, len(Xa) + len(Xb), epochs=s.epochs, lr=LR, seed=seed)
        return model
    return _sequential(s, (setting,), lam if method == "lwf" else 0.0, epochs, seed)[setting]


def _sequential(s: Setup, settings, lam: float, epochs: int, seed: int) -> dict:
    """Fine-tune (lam = 0) or LwF the task-A models of several settings on task B, in one loop.

    The models share no parameter, and Adam updates each parameter from its own gradient,
    so summing their losses trains each exactly as it would be trained alone, for one
    loop's overhead instead of several.
    """
    Xb, yb = s.X["B_train"], s.y["B_train"]
    models = torch.nn.ModuleDict()
    for setting in settings:
        models[setting] = new_model(setting, seed)
        models[setting].load_state_dict(s.old[setting])

    def objective(ms, idx):
        total = 0.0
        for setting, m in ms.items():
            new, off = _logits(m, Xb, setting, "B")
            old_head = m(Xb, "A") if setting == "task" else new[:, :5]
            total = total + lwf_loss(new, yb - off, old_head, s.recorded[setting], T=T, lam=lam)
        return {"loss": total}

    train.fit(models, objective, len(Xb), epochs=epochs, lr=LR, seed=seed)
    return dict(models.items())


def evaluate_all(s: Setup, setting: str, method: str, *, lam: float = 1.0, epochs: int | None = None,
                 part: str = "test") -> dict:
    """Task-A and task-B accuracy of ``method`` after learning B."""
    m = learn_b(s, setting, method, lam=lam, epochs=epochs)
    return {"A": accuracy(m, s, setting, "A", part), "B": accuracy(m, s, setting, "B", part)}


LAMS = tuple(np.round(np.arange(0.0, 4.01, 0.5), 2).tolist())  # the slider's positions


def run(s: Setup, lam: float = 1.0) -> dict:
    """One slider position: LwF at weight ``lam`` in both settings, beside fine-tuning (lam = 0).

    Each (seed, lam) is trained once and then remembered, so a dashboard built with
    ``dashboard()`` (which trains every slider position up front) answers a move at once.
    """
    lam = check_range("lam", lam, 0.0, 100.0)
    return _run(s.seed, s.epochs, round(lam, 6))


@lru_cache(maxsize=128)
def _run(seed: int, epochs: int, lam: float) -> dict:
    s = setup(seed, epochs)
    ms = _sequential(s, SETTINGS, lam, s.epochs, s.seed)
    out = {"lam": lam, "epochs": s.epochs}
    for setting in SETTINGS:
        out[setting] = {"finetune": _finetuned(s.seed, s.epochs)[setting],
                        "lwf": {t: accuracy(ms[setting], s, setting, t) for t in ("A", "B")}}
    return out


@lru_cache(maxsize=8)
def _finetuned(seed: int, epochs: int) -> dict:
    s = setup(seed, epochs)
    ms = _sequential(s, SETTINGS, 0.0, s.epochs, s.seed)
    return {st: {t: accuracy(ms[st], s, st, t) for t in ("A", "B")} for st in SETTINGS}


def render(result: dict, fig) -> None:
    """Task-A and task-B bars for fine-tuning and LwF, both settings, on one axes (a cheap redraw)."""
    ax = plots.fast_axes(fig, 1)[0]
    keys = [(st, m) for st in SETTINGS for m in ("finetune", "lwf")]
    x = np.arange(len(keys))
    ax.bar(x - 0.2, [result[st][m]["A"] for st, m in keys], 0.4, label="task A (old)", color="tab:orange")
    ax.bar(x + 0.2, [result[st][m]["B"] for st, m in keys], 0.4, label="task B (new)", color="tab:blue")
    names = {"task": "head per task", "class": "one head"}
    ax.set_xticks(x, [f"{names[st]}\n{'fine-tune' if m == 'finetune' else 'LwF ' + format(result['lam'], 'g')}"
                      for st, m in keys])
    ax.axvline(1.5, color="0.5", lw=1)
    ax.set_ylim(0, 1.05)
    ax.legend(loc="center right", fontsize=8)
    plots.style(ax, "After learning task B: task-incremental (left) and class-incremental (right)", "",
                "test accuracy")


def summary(result: dict) -> str:
    t, c = result["task"], result["class"]
    return (f"LwF weight {result['lam']:g}. Task A after learning B: "
            f"<b>separate heads</b> fine-tune {t['finetune']['A']:.1%} vs LwF {t['lwf']['A']:.1%}; "
            f"<b>one head</b> fine-tune {c['finetune']['A']:.1%} vs LwF {c['lwf']['A']:.1%}. "
            f"Task B with LwF: {t['lwf']['B']:.1%} / {c['lwf']['B']:.1%}.")


def dashboard(seed: int = 0, lam: float = 1.0, *, background: bool = True) -> Dashboard:
    """The LwF-weight slider; builds (once per seed) every slider position, about a second of training."""
    s = setup(seed)
    for v in LAMS:
        run(s, v)
    return Dashboard(lambda lam: run(s, lam=lam),
                     {"lam": slider(lam, LAMS[0], LAMS[-1], LAMS[1] - LAMS[0], description="LwF weight (0 = fine-tune)")},
                     render=render, summary=summary, title=TITLE, background=background)
