"""A6 lab: a transformer teacher's quantile forecasts distilled into a temporal-convolution student.

``setup(seed, series)`` loads a monthly series (the Mauna Loa CO2 record that ships with statsmodels, or a
generated seasonal series), cuts it into (24 months in, 12 months out) windows split in time (train, then
validation, then test), draws the few training windows whose true future the student may see (``seed``),
trains and caches the transformer teacher on all training windows, and trains (and caches) two students with
the same budget: one on the true future of the labelled windows only (point targets), one that also fits the
teacher's quantiles on every training window (distilled). Everything is precomputed in ``setup``; a slider
move (the horizon step shown) only redraws the figure.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ... import cache
from ..._checks import check_choice, check_int_range, check_range
from ...distill import forecasting as fc
from ...seeding import generator
from ...ui import plots, widgets

TITLE = "Forecast error by horizon: a transformer teacher and two convolutional students"
TRY = ("Move the horizon from 1 to 12 months and watch the forecast bands widen and the point-target student "
       "fall behind the distilled one.")
SERIES = ("co2", "seasonal")
LOOKBACK, HORIZON = 24, 12
QUANTILES = fc.QUANTILES
MODELS = ("teacher", "point", "distilled")
COLOURS = {"teacher": "tab:purple", "point": "tab:gray", "distilled": "tab:green"}
LABELS = {"teacher": "transformer teacher", "point": "TCN, point targets", "distilled": "TCN, distilled"}
UNITS = {"co2": "ppm", "seasonal": "units"}
FRACTION = 0.1                 # the share of training windows whose true future the students see (the scenario)
WEIGHTS = (0.25, 0.5, 0.75)    # candidate weights of the teacher's quantiles, chosen on the validation windows


@lru_cache(maxsize=4)
def load_series(name: str = "co2") -> np.ndarray:
    """A monthly series: the Mauna Loa CO2 record (weekly, averaged by month, gaps interpolated; 1958-2001),
    or a generated one (trend + yearly and half-yearly cycles + AR(1) noise, fixed draw, same length)."""
    check_choice("series", name, SERIES)
    if name == "co2":
        import statsmodels.api as sm

        df = sm.datasets.co2.load_pandas().data
        monthly = df["co2"].resample("MS").mean().interpolate()
        return monthly.to_numpy(dtype=np.float64)
    rng = np.random.default_rng(0)  # fixed: the series itself does not move with SEED
    n = len(load_series("co2"))
    t = np.arange(n)
    noise = np.zeros(n)
    e = rng.normal(0, 0.6, n)
    for i in range(1, n):
        noise[i] = 0.7 * noise[i - 1] + e[i]
    return 0.01 * t + 3.0 * np.sin(2 * np.pi * t / 12) + 1.5 * np.sin(2 * np.pi * t / 6 + 1.0) + noise


@dataclass(frozen=True, eq=False)
class Windows:
    X: torch.Tensor      # (N, LOOKBACK), each row minus its last value, divided by scale
    Y: torch.Tensor      # (N, HORIZON), same transform
    last: np.ndarray     # the last input value of each window (to map back)
    scale: float
    train: torch.Tensor  # indices
    val: torch.Tensor
    test: torch.Tensor
    series: np.ndarray


def windows(name: str = "co2") -> Windows:
    """Windows normalised by their last input value and one scale; split in time 70/10/20 by target start."""
    s = load_series(name)
    X, Y = fc.make_windows(torch.tensor(s, dtype=torch.float32), LOOKBACK, HORIZON)
    last = X[:, -1:].clone()
    X, Y = X - last, Y - last
    n = len(s)
    start = torch.arange(len(X)) + LOOKBACK  # index of each window's first target
    end = start + HORIZON
    train_idx = torch.nonzero(end <= int(0.7 * n)).flatten()
    val_idx = torch.nonzero((start >= int(0.7 * n)) & (end <= int(0.8 * n))).flatten()
    test_idx = torch.nonzero(start >= int(0.8 * n)).flatten()
    scale = float(Y[train_idx].std())
    return Windows(X / scale, Y / scale, last.numpy().ravel(), scale, train_idx, val_idx, test_idx, s)


def teacher(w: Windows, name: str, *, seed: int = 0, d_model: int = 16, epochs: int = 200):
    """The transformer teacher, trained with the pinball loss on every training window (cached on disk)."""
    config = dict(kind="ts-transformer", series=name, seed=int(seed), d_model=d_model, n_layers=1, epochs=epochs,
                  lookback=LOOKBACK, horizon=HORIZON, quantiles=list(QUANTILES), n_train=len(w.train), lr=5e-3)

    def build():
        return fc.TransformerForecaster(LOOKBACK, HORIZON, len(QUANTILES), d_model=d_model, seed=seed)

    def fit(model):
        fc.fit_forecaster(model, w.X[w.train], Y=w.Y[w.train], epochs=epochs, lr=5e-3, seed=seed,
                          progress=f"teacher ({name}, seed {seed})")

    return cache.cached_model(config, build, fit, name=f"ts-transformer-{name}")


def student(w: Windows, labelled, teacher_q=None, *, weight: float = 0.0, seed: int = 0, epochs: int = 300,
            key: dict | None = None):
    """A TCN student (8 channels, dilations 1-8). ``labelled`` are positions within the training windows.

    With ``key`` (a dict naming the series and the teacher) the trained student is cached on disk like the
    teacher, keyed by ``key`` plus everything that shapes its training.
    """
    def build():
        return fc.TCNForecaster(LOOKBACK, HORIZON, len(QUANTILES), seed=seed)

    def fit(m):
        fc.fit_forecaster(m, w.X[w.train], Y=w.Y[w.train], labelled=labelled, teacher_q=teacher_q, weight=weight,
                          epochs=epochs, lr=1e-2, seed=seed)

    if key is None:
        m = build()
        fit(m)
        return m
    config = dict(kind="ts-tcn", **key, seed=int(seed), weight=float(weight), epochs=epochs, lr=1e-2,
                  labelled=[int(i) for i in labelled], lookback=LOOKBACK, horizon=HORIZON)
    return cache.cached_model(config, build, fit, name="ts-tcn")


@dataclass(frozen=True, eq=False)
class Setup:
    name: str
    w: Windows
    labelled: torch.Tensor
    preds: dict       # model -> (N_test, H, Q) forecasts in series units, relative to each window's last value
    errors: dict      # model -> {"mae": (H,), "pinball": (H,)} on test, in series units
    seed: int
    weight: float = 0.5   # the distillation weight used (chosen on validation unless given)
    val: dict | None = None  # candidate weight -> the distilled student's validation pinball loss (series units)


def _labelled(w: Windows, seed: int, fraction: float) -> torch.Tensor:
    n_lab = max(2, round(fraction * len(w.train)))
    return torch.randperm(len(w.train), generator=generator(seed))[:n_lab]


def _key(series, seed):
    return dict(series=series, teacher_seed=int(seed), teacher_epochs=200, teacher_d_model=16)


@lru_cache(maxsize=16)
def choose_weight(seed: int = 0, series: str = "co2", fraction: float = FRACTION) -> tuple:
    """The distillation weight (of WEIGHTS) with the lowest mean pinball loss on the VALIDATION windows.

    Returns ``(weight, {weight: validation pinball loss in series units})``. Each candidate student is trained
    (and cached on disk) on the training windows only; no test window is looked at.
    """
    check_choice("series", series, SERIES)
    check_range("fraction", fraction, 0, 1, lo_open=True)
    w = windows(series)
    labelled = _labelled(w, seed, fraction)
    t_q = fc.predict_quantiles(teacher(w, series, seed=seed), w.X[w.train])
    Xv, Yv = w.X[w.val], w.Y[w.val]
    scores = {}
    for wt in WEIGHTS:
        m = student(w, labelled, t_q, weight=wt, seed=seed + 1000, key=_key(series, seed))
        scores[wt] = float(fc.horizon_errors(fc.predict_quantiles(m, Xv), Yv, QUANTILES, scale=w.scale)["pinball"].mean())
    return min(WEIGHTS, key=lambda wt: scores[wt]), scores


@lru_cache(maxsize=16)
def setup(seed: int = 0, series: str = "co2", fraction: float = FRACTION, weight: float | None = None) -> Setup:
    """Windows, labelled subset, cached teacher and both students, with test forecasts and errors per horizon.

    ``weight=None`` (the default) uses the weight chosen on the validation windows (``choose_weight``).
    """
    check_choice("series", series, SERIES)
    check_range("fraction", fraction, 0, 1, lo_open=True)
    val = None
    if weight is None:
        weight, val = choose_weight(seed, series, fraction)
    check_range("weight", weight, 0, 1, lo_open=True)
    w = windows(series)
    labelled = _labelled(w, seed, fraction)
    t = teacher(w, series, seed=seed)
    t_q = fc.predict_quantiles(t, w.X[w.train])
    key = _key(series, seed)
    models = {"teacher": t,
              "point": student(w, labelled, seed=seed + 1000, key=key),
              "distilled": student(w, labelled, t_q, weight=weight, seed=seed + 1000, key=key)}
    Xt, Yt = w.X[w.test], w.Y[w.test]
    preds, errors = {}, {}
    for k, m in models.items():
        p = fc.predict_quantiles(m, Xt)
        preds[k] = p * w.scale
        errors[k] = fc.horizon_errors(p, Yt, QUANTILES, scale=w.scale)
    return Setup(series, w, labelled, preds, errors, seed, float(weight), val)


def run(s: Setup, horizon: int = 1) -> dict:
    """One slider position: the ``horizon``-step-ahead test forecasts of every model (no training)."""
    h = check_int_range("horizon", horizon, 1, HORIZON)
    w = s.w
    target_t = (w.test + LOOKBACK + h - 1).numpy()
    base = w.last[w.test.numpy()][:, None]
    bands = {k: p[:, h - 1].numpy() + base for k, p in s.preds.items()}
    return {"series": s.name, "horizon": h, "t": target_t, "truth": w.series[target_t], "bands": bands,
            "errors": s.errors, "n_labelled": len(s.labelled), "n_train": len(w.train)}


def render(result: dict, fig) -> None:
    """Left: h-step-ahead test forecasts (median solid, 10% and 90% quantiles dashed).

    Right: test MAE by horizon (same colours)."""
    ax1, ax2 = plots.fast_axes(fig, 2, left=0.08, wspace=0.28)
    t, h = result["t"], result["horizon"]
    ax1.plot(t, result["truth"], color="black", lw=1.2, label="truth")
    for k in ("teacher", "point", "distilled"):
        b = result["bands"][k]
        ax1.plot(t, b[:, 1], color=COLOURS[k], lw=1, label=LABELS[k])
        if k != "teacher":  # the 10% and 90% quantiles as thin dashed lines (cheaper to redraw than a fill)
            ax1.plot(t, b[:, 0], color=COLOURS[k], lw=0.6, ls="--")
            ax1.plot(t, b[:, 2], color=COLOURS[k], lw=0.6, ls="--")
    unit = UNITS[result["series"]]
    ax1.set(title=f"{result['series']}: {h}-month-ahead forecasts (dashed: 10%, 90%)", xlabel="month index",
            ylabel=f"value ({unit})")
    ax1.legend(fontsize=7, loc="upper left")
    steps = np.arange(1, HORIZON + 1)
    for k in MODELS:
        ax2.plot(steps, result["errors"][k]["mae"], marker="o", ms=3, color=COLOURS[k], label=LABELS[k])
    ax2.axvline(h, color="black", lw=0.8, ls=":")
    ax2.set(title="Test MAE of the median by horizon", xlabel="horizon (months ahead)", ylabel=f"MAE ({unit})")


def summary(result: dict) -> str:
    h = result["horizon"]
    cells = " | ".join(f"{LABELS[k]}: MAE {result['errors'][k]['mae'][h - 1]:.3f}, pinball "
                       f"{result['errors'][k]['pinball'][h - 1]:.3f}" for k in MODELS)
    return (f"{result['series']}, {h} month(s) ahead, students saw the true future of {result['n_labelled']} of "
            f"{result['n_train']} training windows &mdash; {cells}")


def dashboard(seed: int = 0, series: str = "co2", horizon: int = 1, background: bool = True):
    """A slider over the horizon step shown (all models are trained in ``setup``; a move only redraws)."""
    s = setup(seed, series)
    return widgets.Dashboard(lambda horizon: run(s, horizon),
                             {"horizon": widgets.slider(horizon, 1, HORIZON, 1, description="horizon (months)",
                                                        integer=True)},
                             render=render, summary=summary, figsize=(9, 3.2), title=TITLE, background=background)
