"""A3 live lab: keypoint heatmaps, and a second generation trained on the first one's heatmaps.

Every network is the same small fully convolutional net (``distill.keypoints.fcn``) predicting one map of logits
per corner of a noisy triangle. Three kinds, all cached on disk by their configuration and seed:

* ``gen1``: trained for ``EPOCHS`` epochs on Gaussian targets (``SIGMA`` pixels) around the true corners;
* ``long``: the same gen1 network trained ``EPOCHS`` epochs more on the same targets (the same total number of
  epochs as gen1 followed by gen2, so a fair "from scratch" baseline for the second generation);
* ``gen2``: a fresh network (new initialisation) trained for ``EPOCHS`` epochs on gen1's softmax heatmaps of the
  training images (a born-again network).

The live lab moves a test image and a temperature applied to the cached logits; nothing is retrained.

    s = setup(seed=0)
    r = run(s, image=3, temperature=1.0)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ... import cache
from ..._checks import check_int_range, check_positive
from ...distill import keypoints as kp

TITLE = "Keypoint heatmaps: a first generation and its self-distilled second generation"
TRY = ("Step through the test images and compare gen1's and gen2's maps; then lower the temperature below 1 and "
       "watch every map sharpen while the marked peaks barely move.")

SIZE = 20
K = 3
NOISE = 0.6
WIDTH = 8
SIGMA = 1.0
EPOCHS = 15
LR = 3e-3
BATCH = 32
N_TRAIN, N_TEST = 300, 400
KINDS = ("gen1", "long", "gen2")
PCK_PX = 1.5


@dataclass(frozen=True, eq=False)
class Data:
    X_train: torch.Tensor
    P_train: torch.Tensor
    X_test: torch.Tensor
    P_test: torch.Tensor


@lru_cache(maxsize=8)
def shapes(seed: int = 0) -> Data:
    """Training and test images for data seed ``seed`` (one draw, split in two)."""
    X, P = kp.make_shapes(N_TRAIN + N_TEST, size=SIZE, n_landmarks=K, noise=NOISE, seed=seed)
    return Data(X[:N_TRAIN], P[:N_TRAIN], X[N_TRAIN:], P[N_TRAIN:])


def _config(kind: str, data_seed: int, seed: int) -> dict:
    return dict(kind=f"keypoint-fcn-{kind}", data_seed=int(data_seed), seed=int(seed), size=SIZE, k=K, noise=NOISE,
                width=WIDTH, sigma=SIGMA, epochs=EPOCHS, lr=LR, batch=BATCH, n_train=N_TRAIN)


def network(kind: str, data_seed: int = 0, seed: int = 0, progress: bool = False):
    """The cached network of ``kind`` ("gen1", "long" or "gen2") for data seed ``data_seed`` and net seed ``seed``.

    gen1 initialises from ``seed`` and shuffles with ``seed``; long continues gen1 with shuffling seed
    ``seed + 2000``; gen2 initialises and shuffles from ``seed + 1000``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    d = shapes(data_seed)
    gt = kp.gaussian_targets(d.P_train, SIZE, SIGMA)
    init = seed + 1000 if kind == "gen2" else seed
    bar = f"{kind}, seed {seed}" if progress else False

    def build():
        return kp.fcn(K, WIDTH, seed=init)

    def fit(model):
        if kind == "gen1":
            kp.train_fcn(model, d.X_train, gt, epochs=EPOCHS, lr=LR, batch_size=BATCH, seed=seed, progress=bar)
        elif kind == "long":
            model.load_state_dict(network("gen1", data_seed, seed, progress).state_dict())
            kp.train_fcn(model, d.X_train, gt, epochs=EPOCHS, lr=LR, batch_size=BATCH, seed=seed + 2000,
                         progress=bar)
        else:
            teacher = network("gen1", data_seed, seed, progress)
            targets = kp.distilled_targets(kp.predict_logits(teacher, d.X_train))
            kp.train_fcn(model, d.X_train, targets, epochs=EPOCHS, lr=LR, batch_size=BATCH, seed=seed + 1000,
                         progress=bar)

    return cache.cached_model(_config(kind, data_seed, seed), build, fit, name=f"kp-{kind}")


def logits_on_test(data_seed: int, seed: int, progress: bool = False) -> dict:
    """{kind: (N_TEST, K, SIZE, SIZE) logits on the test images}."""
    d = shapes(data_seed)
    return {kind: kp.predict_logits(network(kind, data_seed, seed, progress), d.X_test) for kind in KINDS}


def experiment(data_seed: int = 0, seeds=(0, 1, 2), *, threshold: float = PCK_PX, progress: bool = False) -> list:
    """One row per (net seed, kind): mean test entropy (nats), mean error (pixels), PCK at ``threshold``."""
    check_positive("threshold", threshold)
    d = shapes(data_seed)
    seeds = list(seeds)
    it = seeds
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(seeds, desc="networks (gen1, long, gen2) per seed", leave=False)
    rows = []
    for s in it:
        for kind, logits in logits_on_test(data_seed, s).items():
            r = kp.evaluate(logits, d.P_test, threshold=threshold)
            rows.append(dict(seed=s, kind=kind, entropy=r["entropy"], error=r["error"], pck=r["pck"],
                             errors=r["errors"].flatten().numpy()))
    return rows


# --------------------------------------------------------------------------- the live lab
@dataclass(frozen=True, eq=False)
class Setup:
    seed: int
    data: Data
    logits: dict  # kind -> test logits
    gen1_entropy: float  # gen1's mean test entropy at temperature 1 (the dashed line)


@lru_cache(maxsize=4)
def setup(seed: int = 0) -> Setup:
    """The test images of data seed ``seed`` and the test logits of its first network of each kind."""
    check_int_range("seed", seed, 0, 2**31 - 1)
    logits = logits_on_test(seed, seed * 3)
    return Setup(seed, shapes(seed), logits, float(kp.heatmap_entropy(logits["gen1"]).mean()))


def run(s: Setup, image: int = 0, temperature: float = 1.0) -> dict:
    """One slider position: gen1's and gen2's maps of test image ``image`` at ``temperature``, the decoded peaks,
    and every kind's mean test entropy at that temperature."""
    image = check_int_range("image", image, 0, len(s.data.X_test) - 1)
    t = check_positive("temperature", temperature)
    true = s.data.P_test[image]
    out = dict(image=image, temperature=t, picture=s.data.X_test[image, 0].numpy(), true=true.numpy())
    for kind in ("gen1", "gen2"):
        lg = s.logits[kind][image:image + 1]
        maps = kp.heatmaps(lg, t)[0]
        pred = kp.decode(lg, "refined")[0]
        out[kind] = dict(map=maps.amax(0).numpy(), pred=pred.numpy(),
                         error=float(kp.localisation_error(pred[None], true[None]).mean()),
                         entropy=float(kp.heatmap_entropy(lg, t).mean()))
    out["mean_entropy"] = {kind: float(kp.heatmap_entropy(lg, t).mean()) for kind, lg in s.logits.items()}
    out["gen1_at_1"] = s.gen1_entropy
    return out


def overlay(picture, heat):
    """An RGB image: the grey picture, with the heat (scaled to its maximum) added in orange."""
    g = np.clip((picture - picture.min()) / max(float(np.ptp(picture)), 1e-9), 0, 1) * 0.7
    h = heat / max(float(heat.max()), 1e-12)
    rgb = np.stack([g + h, g + 0.55 * h, g * (1 - h)], -1)
    return np.clip(rgb, 0, 1)


def render(result: dict, fig) -> None:
    from matplotlib.ticker import MaxNLocator

    from ...ui import plots

    axes = plots.fast_axes(fig, 2, left=0.07, wspace=0.12)
    ticks = list(range(0, SIZE, 5))
    for i, (ax, kind) in enumerate(zip(axes, ("gen1", "gen2"))):
        r = result[kind]
        ax.imshow(overlay(result["picture"], r["map"]), interpolation="nearest")
        ax.plot(result["true"][:, 0], result["true"][:, 1], "o", mfc="none", mec="cyan", ms=9, mew=1.5)
        ax.plot(r["pred"][:, 0], r["pred"][:, 1], "x", color="lime", ms=7, mew=2)
        ax.set_xticks(ticks)
        ax.set_yticks(ticks, ticks if i == 0 else [])  # one shared scale: labels on the left panel only
        plots.style(ax, f"{kind}: error {r['error']:.2f} px, H {r['entropy']:.2f} nats", "x (pixels)",
                    "y (pixels)" if i == 0 else "")
        ax.grid(False)


def summary(result: dict) -> str:
    g1, g2 = result["gen1"], result["gen2"]
    h = result["mean_entropy"]
    return (f"test image {result['image']}, temperature {result['temperature']:g} (cached logits, nothing retrained): "
            f"error gen1 <b>{g1['error']:.2f}</b> px, gen2 <b>{g2['error']:.2f}</b> px; mean test entropy gen1 "
            f"<b>{h['gen1']:.2f}</b>, gen1 trained as long {h['long']:.2f}, gen2 <b>{h['gen2']:.2f}</b> nats at this "
            f"temperature (gen1 at T=1: {result['gen1_at_1']:.2f}; uniform over {SIZE}x{SIZE} pixels: {np.log(SIZE * SIZE):.2f}). Cyan circles: true corners; green "
            f"crosses: decoded peaks; orange: the brightest landmark map at each pixel")


def dashboard(seed: int = 0, image: int = 0, temperature: float = 1.0, background: bool = True):
    from ...ui import Dashboard, slider

    s = setup(seed)
    return Dashboard(lambda image, temperature: run(s, image, temperature),
                     {"image": slider(image, 0, N_TEST - 1, 1, description="test image", integer=True),
                      "temperature": slider(temperature, 0.25, 3.0, 0.05, description="temperature on the logits")},
                     render=render, summary=summary, figsize=(8, 3.6), title=TITLE, background=background)
