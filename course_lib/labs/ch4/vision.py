"""A1 lab: a CNN teacher, a scratch and a distilled depthwise-separable student under test-time rotation and noise.

:func:`setup` loads the cached teacher and the two cached students (trained from scratch and by logit
distillation, see :mod:`course_lib.distill.vision`) and draws one fixed noise pattern for the test images. A move
rotates every test image by the slider's angle, adds the noise pattern times the slider's level, and evaluates the
three networks: nothing is retrained, so a move costs three forward passes.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from ... import train
from ..._checks import check_int_range, check_range
from ...distill import vision as V
from ...seeding import generator

TITLE = "Image recognition: teacher, scratch student and distilled student under rotation and noise"
TRY = ("Rotate the test digits to 30 degrees and beyond, then add noise: watch which network's accuracy falls "
       "first, and whether the distilled student keeps its lead over the scratch one.")

N_SHOW = 6
MODELS = ("teacher", "scratch", "distilled")


@lru_cache(maxsize=4)
def setup(seed: int = 0, student_seed: int | None = None, fraction: float = 0.2):
    """Cached teacher of split ``seed``, the scratch and logit-distilled students of ``student_seed``
    (default ``3 * seed``, the first seed the notebook uses), the test images and a fixed noise pattern."""
    seed = check_int_range("seed", seed, 0, 10**9)
    student_seed = 3 * seed if student_seed is None else check_int_range("student_seed", student_seed, 0, 10**9)
    d = V.image_set(seed)
    nets = {"teacher": V.teacher(seed),
            "scratch": V.student("scratch", seed, student_seed, fraction=fraction),
            "distilled": V.student("logits", seed, student_seed, fraction=fraction)}
    X = d["X_test"]
    z = torch.randn(X.shape, generator=generator(seed + 7))
    return dict(seed=seed, student_seed=student_seed, nets=nets, X=X, y=d["y_test"], z=z, fraction=fraction)


def run(s, angle: float = 0.0, noise: float = 0.0) -> dict:
    """Accuracy of the three networks on the test images rotated by ``angle`` degrees plus ``noise`` x pattern."""
    angle = check_range("angle", angle, -180, 180)
    noise = check_range("noise", noise, 0, 5)
    X = V.rotate(s["X"], angle)
    if noise:
        X = X + noise * s["z"]
    preds = {k: train.predict(m, X).argmax(-1) for k, m in s["nets"].items()}
    acc = {k: float((p == s["y"]).float().mean()) for k, p in preds.items()}
    show = X[:N_SHOW, 0].numpy()
    return dict(angle=float(angle), noise=float(noise), accuracy=acc, n_test=len(s["y"]),
                images=np.concatenate([np.pad(im, ((0, 0), (0, 1)), constant_values=np.nan) for im in show], 1),
                labels=s["y"][:N_SHOW].tolist(), preds={k: p[:N_SHOW].tolist() for k, p in preds.items()})


def render(result: dict, fig) -> None:
    from ...ui import plots

    ax1, ax2 = plots.fast_axes(fig, 2, left=0.08, wspace=0.15)
    acc = result["accuracy"]
    ax1.bar(range(3), [acc[k] for k in MODELS], color=["black", "tab:gray", "tab:blue"])
    ax1.set_xticks(range(3), ["teacher", "scratch", "distilled"])
    ax1.set_ylim(0, 1)
    plots.style(ax1, f"test accuracy at {result['angle']:+g} deg, noise {result['noise']:g}", "network (students: separable)",
                "test accuracy")
    ax2.imshow(result["images"], cmap="gray_r", interpolation="nearest")
    ax2.set_xticks([])
    ax2.set_yticks([])
    plots.style(ax2, "first test images, as the networks see them", "(labels and predictions: line above)", "")


def summary(result: dict) -> str:
    a, p = result["accuracy"], result["preds"]
    shown = ", ".join(f"{lab}&rarr;{t}/{s}/{d}" for lab, t, s, d in zip(result["labels"], p["teacher"], p["scratch"],
                                                                       p["distilled"]))
    return (f"rotation {result['angle']:+g} deg, noise {result['noise']:g} (recomputed live: three forward passes, "
            f"no retraining): teacher <b>{a['teacher']:.1%}</b>, scratch student <b>{a['scratch']:.1%}</b>, "
            f"distilled student <b>{a['distilled']:.1%}</b> of {result['n_test']} test images. "
            f"Images shown, true&rarr;teacher/scratch/distilled: {shown}")


def dashboard(seed: int = 0, angle: float = 0.0, noise: float = 0.0, background: bool = True):
    from ...ui import Dashboard, slider

    s = setup(seed)
    return Dashboard(lambda angle, noise: run(s, angle, noise),
                     {"angle": slider(angle, -90, 90, 5, description="extra rotation (degrees)"),
                      "noise": slider(noise, 0, 0.5, 0.05, description="extra noise (std, pixel units)")},
                     render=render, summary=summary, figsize=(9, 3.0), title=TITLE, background=background)
