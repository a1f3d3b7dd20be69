"""Keypoint heatmaps and their self-distillation (born-again networks), headless.

- ``make_shapes``: small grey images of one noisy polygon outline each, with its K corners as landmarks. Corner k
  always lies in the k-th angular sector around the shape's centre (sector 0 starts at the positive x axis and
  the sectors turn counter-clockwise in image coordinates, i.e. with y pointing down), so which corner is landmark k
  is defined by the picture, not by an arbitrary order. Everything is drawn from a private ``torch.Generator``.
- ``fcn``: a fully convolutional network of 3x3 convolutions (two of them dilated) that keeps the resolution and
  outputs one map of logits per landmark.
- ``gaussian_targets``: a Gaussian of width ``sigma`` pixels around each true landmark, normalised to sum to one
  over the pixels: the target distribution of a per-landmark softmax over pixels.
- ``heatmap_loss``: cross-entropy between a target distribution over pixels and the softmax of the logits.
- ``train_fcn``: generation 1 learns the Gaussian targets; generation 2 (a fresh network) learns generation 1's
  softmax heatmaps, optionally mixed with the Gaussian targets (Furlanello et al. 2018's born-again scheme).
- ``decode``: the peak of each map (argmax, or argmax refined by a 3x3 centre of mass) as (x, y) pixel coordinates.
- ``heatmap_entropy``, ``localisation_error``, ``pck``: the peak's sharpness in nats, the distance to the truth in
  pixels, and the share of landmarks found within a threshold in pixels.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .. import train
from .._checks import check_choice, check_float_tensor, check_int_range, check_positive, check_range
from ..seeding import fork, generator

MIN_SIZE = 12


def _check_heatmaps(name: str, heatmaps, n_landmarks: int | None = None) -> None:
    check_float_tensor(name, heatmaps)
    if heatmaps.dim() != 4 or heatmaps.shape[-1] < 2 or heatmaps.shape[-2] < 2 or heatmaps.shape[1] < 1:
        raise ValueError(f"{name} must have shape (batch, landmarks, height, width) with height, width >= 2 and "
                         f"at least 1 landmark, got {tuple(heatmaps.shape)}")
    if n_landmarks is not None and heatmaps.shape[1] != n_landmarks:
        raise ValueError(f"{name} must have {n_landmarks} landmark maps (dimension 1), got shape "
                         f"{tuple(heatmaps.shape)}")


def _check_points(name: str, points, batch: int | None = None, k: int | None = None) -> None:
    check_float_tensor(name, points)
    if points.dim() != 3 or points.shape[-1] != 2:
        raise ValueError(f"{name} must have shape (batch, landmarks, 2) holding (x, y) in pixels, got "
                         f"{tuple(points.shape)}")
    if (batch is not None and points.shape[0] != batch) or (k is not None and points.shape[1] != k):
        raise ValueError(f"{name} must have shape ({batch}, {k}, 2), got {tuple(points.shape)}")


# --------------------------------------------------------------------------- data
def make_shapes(n: int, *, size: int = 24, n_landmarks: int = 3, noise: float = 0.25, line_width: float = 0.8,
                seed: int = 0):
    """``n`` images (n, 1, size, size) of one polygon outline each, and its corners (n, n_landmarks, 2) as (x, y).

    The centre is drawn near the middle of the image, each corner at a random radius and at a random angle inside
    its own sector of 360/n_landmarks degrees (landmark k in sector k, counter-clockwise from the positive x axis in
    image coordinates); the outline is anti-aliased (width ``line_width`` pixels) and Gaussian pixel noise of
    standard deviation ``noise`` is added. One landmark is a dot, two a segment, three or more a closed outline.
    """
    n = check_int_range("n", n, 1, 10**6)
    size = check_int_range("size", size, MIN_SIZE, 512)
    k = check_int_range("n_landmarks", n_landmarks, 1, 12)
    check_range("noise", noise, 0, 10)
    check_positive("line_width", line_width)
    g = generator(seed)
    half = (size - 1) / 2
    centre = half + (torch.rand(n, 1, 2, generator=g) - 0.5) * 0.3 * size
    r_max = 0.36 * size
    radius = r_max * (0.55 + 0.45 * torch.rand(n, k, generator=g))
    width = 2 * math.pi / k
    angle = width * (torch.arange(k) + 0.5) + width * 0.7 * (torch.rand(n, k, generator=g) - 0.5)
    pts = centre + radius[..., None] * torch.stack([torch.cos(angle), -torch.sin(angle)], -1)
    pts = pts.clamp(1.0, size - 2.0)
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
                            indexing="ij")
    grid = torch.stack([xs, ys], -1).reshape(1, 1, -1, 2)  # (1, 1, P, 2)
    a = pts
    b = pts.roll(-1, dims=1) if k >= 3 else (pts[:, 1:] if k == 2 else pts)
    a = a if k != 2 else pts[:, :1]
    ab = (b - a)[:, :, None, :]  # (n, S, 1, 2)
    ap = grid - a[:, :, None, :]  # (n, S, P, 2)
    t = ((ap * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-9)).clamp(0, 1)
    dist = (ap - t[..., None] * ab).norm(dim=-1).min(1).values  # (n, P)
    img = (1 - (dist - line_width / 2).clamp(0, 1)).clamp(0, 1)
    if k == 1:
        img = torch.exp(-dist ** 2 / 2.0)
    img = img.reshape(n, 1, size, size) + noise * torch.randn(n, 1, size, size, generator=g)
    return img.float(), pts.float()


# --------------------------------------------------------------------------- model
def fcn(n_landmarks: int = 3, width: int = 16, *, seed: int = 0) -> nn.Module:
    """A fully convolutional net keeping the resolution: 3x3 convolutions (dilations 1, 2, 4, 1) and a 1x1 head
    with one output map of logits per landmark. Its receptive field is 17 x 17 pixels."""
    k = check_int_range("n_landmarks", n_landmarks, 1, 64)
    w = check_int_range("width", width, 1, 1024)
    with fork(seed):
        layers, c = [], 1
        for d in (1, 2, 4, 1):
            layers += [nn.Conv2d(c, w, 3, padding=d, dilation=d), nn.ReLU()]
            c = w
        layers.append(nn.Conv2d(w, k, 1))
        return nn.Sequential(*layers)


# --------------------------------------------------------------------------- targets and loss
def gaussian_targets(points, size: int, sigma: float = 1.0):
    """(batch, K, size, size) distributions over pixels: a Gaussian of ``sigma`` pixels at each landmark,
    normalised to sum to 1 over each map."""
    size = check_int_range("size", size, 2, 4096)
    sigma = check_positive("sigma", sigma)
    _check_points("points", points)
    ax = torch.arange(size, dtype=torch.float32)
    dx = ax.view(1, 1, 1, size) - points[..., 0, None, None]
    dy = ax.view(1, 1, size, 1) - points[..., 1, None, None]
    logp = -(dx ** 2 + dy ** 2) / (2 * sigma ** 2)
    return torch.softmax(logp.flatten(2), -1).view(*points.shape[:2], size, size)


def log_heatmaps(logits, temperature: float = 1.0):
    """Log-softmax of each landmark's map over its pixels, at ``temperature``."""
    _check_heatmaps("logits", logits)
    t = check_positive("temperature", temperature)
    return torch.log_softmax(logits.flatten(2) / t, -1).view_as(logits)


def heatmaps(logits, temperature: float = 1.0):
    """Softmax of each landmark's map over its pixels: (batch, K, H, W), each map sums to 1."""
    return log_heatmaps(logits, temperature).exp()


def heatmap_loss(logits, targets):
    """Cross-entropy between ``targets`` (distributions over pixels, one per landmark) and softmax(logits),
    averaged over images and landmarks (nats)."""
    _check_heatmaps("logits", logits)
    _check_heatmaps("targets", targets)
    if tuple(targets.shape) != tuple(logits.shape):
        raise ValueError(f"targets must have the shape of logits {tuple(logits.shape)}, got {tuple(targets.shape)}")
    return -(targets.flatten(2) * torch.log_softmax(logits.flatten(2), -1)).sum(-1).mean()


def train_fcn(model: nn.Module, images, targets, *, epochs: int = 30, lr: float = 3e-3, batch_size: int = 64,
              seed: int = 0, progress: bool | str = False):
    """Fit ``model`` so that the softmax of its maps matches ``targets`` (distributions over pixels)."""
    _check_heatmaps("targets", targets)
    if images.dim() != 4 or images.shape[0] != targets.shape[0] or images.shape[-2:] != targets.shape[-2:]:
        raise ValueError(f"images must have shape ({targets.shape[0]}, channels, {targets.shape[2]}, "
                         f"{targets.shape[3]}) to match targets, got {tuple(images.shape)}")

    def objective(m, idx):
        return {"loss": heatmap_loss(m(images[idx]), targets[idx])}

    return train.fit(model, objective, len(images), epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                     progress=progress)


def distilled_targets(teacher_logits, gt_targets=None, *, alpha: float = 1.0, temperature: float = 1.0):
    """Generation 2's targets: ``alpha`` x the teacher's softmax heatmaps (at ``temperature``) plus
    (1 - ``alpha``) x the ground-truth maps (needed when ``alpha`` < 1)."""
    check_range("alpha", alpha, 0, 1)
    soft = heatmaps(teacher_logits, temperature)
    if alpha == 1:
        return soft
    if gt_targets is None:
        raise ValueError(f"gt_targets is needed when alpha < 1 (got alpha={alpha:g})")
    _check_heatmaps("gt_targets", gt_targets)
    if tuple(gt_targets.shape) != tuple(soft.shape):
        raise ValueError(f"gt_targets must have the shape of the teacher's maps {tuple(soft.shape)}, got "
                         f"{tuple(gt_targets.shape)}")
    return alpha * soft + (1 - alpha) * gt_targets


@torch.no_grad()
def predict_logits(model: nn.Module, images, batch_size: int = 512):
    model.eval()
    return torch.cat([model(images[i:i + batch_size]) for i in range(0, len(images), batch_size)])


# --------------------------------------------------------------------------- decoding and metrics
def decode(logits, method: str = "argmax"):
    """(batch, K, 2) peak positions (x, y) in pixels.

    ``"argmax"``: the centre of the highest pixel. ``"refined"``: the argmax moved to the centre of mass of the
    softmax probabilities in the 3x3 window around it (sub-pixel)."""
    _check_heatmaps("logits", logits)
    check_choice("method", method, ["argmax", "refined"])
    b, k, h, w = logits.shape
    idx = logits.flatten(2).argmax(-1)
    x, y = (idx % w).float(), torch.div(idx, w, rounding_mode="floor").float()
    if method == "argmax":
        return torch.stack([x, y], -1)
    p = heatmaps(logits)
    pad = F.pad(p, (1, 1, 1, 1))
    xi, yi = (idx % w), torch.div(idx, w, rounding_mode="floor")
    off = torch.tensor([-1.0, 0.0, 1.0])
    bi = torch.arange(b)[:, None, None, None]
    ki = torch.arange(k)[None, :, None, None]
    rows = (yi[..., None, None] + 1 + off.long().view(1, 1, 3, 1))
    cols = (xi[..., None, None] + 1 + off.long().view(1, 1, 1, 3))
    win = pad[bi, ki, rows, cols]  # (b, k, 3, 3)
    mass = win.sum((-1, -2)).clamp_min(1e-12)
    dx = (win * off.view(1, 1, 1, 3)).sum((-1, -2)) / mass
    dy = (win * off.view(1, 1, 3, 1)).sum((-1, -2)) / mass
    return torch.stack([x + dx, y + dy], -1)


def heatmap_entropy(logits, temperature: float = 1.0):
    """(batch, K) entropy in nats of each landmark's softmax over pixels (0: all mass on one pixel; log(H*W):
    uniform). exp(entropy) is the number of pixels the mass is effectively spread over."""
    p = log_heatmaps(logits, temperature).flatten(2).exp()
    return -torch.special.xlogy(p, p).sum(-1)  # 0 log 0 = 0: maps with exact zeros (log-targets) stay finite


def localisation_error(pred, true):
    """(batch, K) Euclidean distance in pixels between predicted and true (x, y)."""
    _check_points("pred", pred)
    _check_points("true", true)
    if tuple(pred.shape) != tuple(true.shape):
        raise ValueError(f"pred and true must have the same shape, got {tuple(pred.shape)} and {tuple(true.shape)}")
    return (pred - true).norm(dim=-1)


def pck(pred, true, threshold: float = 1.5) -> float:
    """Percentage of correct keypoints: the share of landmarks within ``threshold`` pixels of the truth."""
    threshold = check_positive("threshold", threshold)
    return float((localisation_error(pred, true) <= threshold).float().mean())


def pck_curve(errors, thresholds):
    """The share of errors <= each threshold (pixels): a tensor of len(thresholds)."""
    th = torch.as_tensor(thresholds, dtype=torch.float32)
    if th.numel() == 0 or bool((th <= 0).any()):
        raise ValueError(f"thresholds must be > 0 pixels (allowed range: (0, inf)), got {th.tolist()}")
    e = torch.as_tensor(errors, dtype=torch.float32).flatten()
    return (e[None, :] <= th[:, None]).float().mean(1)


def evaluate(logits, true, *, threshold: float = 1.5, method: str = "refined") -> dict:
    """Mean entropy (nats), mean error (pixels), PCK at ``threshold`` for one network's test logits."""
    _check_heatmaps("logits", logits, true.shape[1] if hasattr(true, "shape") and true.dim() == 3 else None)
    pred = decode(logits, method)
    err = localisation_error(pred, true)
    return dict(entropy=float(heatmap_entropy(logits).mean()), error=float(err.mean()),
                pck=pck(pred, true, threshold), errors=err)
