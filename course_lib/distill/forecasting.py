"""Probabilistic forecasting in miniature: the pinball loss, a tiny transformer and a temporal-convolution student.

* ``pinball_loss(pred, target, quantiles)``: the quantile loss of Koenker & Bassett (1978). ``pred`` has a
  last axis of quantiles; ``target`` is either a point target (one axis fewer: the true future) or one target
  per quantile (the teacher's quantiles), which is how a student distils a probabilistic teacher.
* ``make_windows(series, lookback, horizon)``: sliding (input, future) windows.
* ``TransformerForecaster``: a ``torch.nn.TransformerEncoder`` over the input steps, the last token read out
  into ``horizon x n_quantiles`` values.
* ``TCNForecaster``: dilated causal ``Conv1d`` blocks with residual connections, read out the same way.
* ``fit_forecaster`` trains either on point targets, on teacher quantiles, or on a weighted mix.
* ``horizon_errors`` gives MAE of the median and mean pinball loss for every step of the horizon.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import train
from .._checks import check_float_tensor, check_int_range, check_range
from ..seeding import fork

QUANTILES = (0.1, 0.5, 0.9)


def _check_quantiles(quantiles) -> torch.Tensor:
    q = torch.as_tensor(quantiles, dtype=torch.float32).flatten()
    if len(q) == 0 or bool(((q <= 0) | (q >= 1)).any()):
        raise ValueError(f"quantiles must be a non-empty list of levels in the open interval (0, 1), got "
                         f"{list(map(float, q))}")
    return q


def pinball_loss(pred: torch.Tensor, target: torch.Tensor, quantiles=QUANTILES, *, reduction: str = "mean"):
    """Quantile (pinball) loss, averaged over all entries (``reduction='none'``: elementwise).

    ``pred``: (..., Q). ``target``: (...) for a point target, or (..., Q) for one target per quantile.
    For level q and error u = target - pred the loss is max(q u, (q - 1) u).
    """
    check_float_tensor("pred", pred)
    check_float_tensor("target", target)
    q = _check_quantiles(quantiles)
    if pred.shape[-1] != len(q):
        raise ValueError(f"pred's last axis must hold one value per quantile ({len(q)}), got shape "
                         f"{tuple(pred.shape)}")
    if target.shape == pred.shape[:-1]:
        target = target.unsqueeze(-1)
    elif target.shape != pred.shape:
        raise ValueError(f"target must have shape {tuple(pred.shape[:-1])} (point) or {tuple(pred.shape)} "
                         f"(per quantile), got {tuple(target.shape)}")
    u = target - pred
    loss = torch.maximum(q * u, (q - 1) * u)
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    raise ValueError(f"reduction must be one of ['mean', 'none'], got {reduction!r}")


def make_windows(series, lookback: int, horizon: int):
    """All windows ``X[i] = series[i:i+lookback]``, ``Y[i] = series[i+lookback:i+lookback+horizon]``."""
    s = torch.as_tensor(series, dtype=torch.float32).flatten()
    check_int_range("lookback", lookback, 1, 10**6)
    check_int_range("horizon", horizon, 1, 10**6)
    n = len(s) - lookback - horizon + 1
    if n < 1:
        raise ValueError(f"series of length {len(s)} is too short for lookback={lookback} + horizon={horizon}")
    w = s.unfold(0, lookback + horizon, 1)
    return w[:, :lookback].contiguous(), w[:, lookback:].contiguous()


class TransformerForecaster(nn.Module):
    """Each input step is a token (value -> d_model, plus a learned position); the last token reads out."""

    def __init__(self, lookback: int, horizon: int, n_quantiles: int = 3, *, d_model: int = 16, n_layers: int = 1,
                 n_heads: int = 2, seed: int = 0):
        super().__init__()
        check_int_range("d_model", d_model, 2, 512)
        check_int_range("n_layers", n_layers, 1, 8)
        if d_model % n_heads:
            raise ValueError(f"n_heads must divide d_model={d_model}, got {n_heads}")
        self.horizon, self.n_quantiles = int(horizon), int(n_quantiles)
        with fork(seed):
            self.embed = nn.Linear(1, d_model)
            self.pos = nn.Parameter(0.1 * torch.randn(lookback, d_model))
            layer = nn.TransformerEncoderLayer(d_model, n_heads, dim_feedforward=2 * d_model, dropout=0.0,
                                               batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
            self.head = nn.Linear(d_model, horizon * n_quantiles)

    def forward(self, x):  # x: (N, lookback)
        h = self.encoder(self.embed(x.unsqueeze(-1)) + self.pos)
        return self.head(h[:, -1]).view(-1, self.horizon, self.n_quantiles)


class _CausalBlock(nn.Module):
    def __init__(self, channels, kernel, dilation):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv = nn.Conv1d(channels, channels, kernel, dilation=dilation)

    def forward(self, h):
        return h + F.relu(self.conv(F.pad(h, (self.pad, 0))))


class TCNForecaster(nn.Module):
    """Dilated causal convolutions (dilations 1, 2, 4, ...) with residuals; the last step reads out."""

    def __init__(self, lookback: int, horizon: int, n_quantiles: int = 3, *, channels: int = 8, kernel: int = 2,
                 dilations=(1, 2, 4, 8), seed: int = 0):
        super().__init__()
        check_int_range("channels", channels, 1, 512)
        check_int_range("kernel", kernel, 1, 16)
        self.horizon, self.n_quantiles = int(horizon), int(n_quantiles)
        self.receptive_field = 1 + (kernel - 1) * sum(dilations)
        with fork(seed):
            self.inp = nn.Conv1d(1, channels, 1)
            self.blocks = nn.Sequential(*[_CausalBlock(channels, kernel, int(d)) for d in dilations])
            self.head = nn.Linear(channels, horizon * n_quantiles)

    def forward(self, x):  # x: (N, lookback); only the last receptive_field steps can reach the output
        h = self.blocks(self.inp(x[:, -self.receptive_field:].unsqueeze(1)))
        return self.head(h[:, :, -1]).view(-1, self.horizon, self.n_quantiles)


def fit_forecaster(model: nn.Module, X: torch.Tensor, *, Y: torch.Tensor | None = None, labelled=None,
                   teacher_q: torch.Tensor | None = None, weight: float = 0.0, quantiles=QUANTILES,
                   epochs: int = 300, lr: float = 1e-2, seed: int = 0, progress=False):
    """Full-batch training with the pinball loss.

    Loss = (1 - weight) * pinball(model, true future ``Y``) on the rows ``labelled`` (default: all)
         + weight * pinball(model, teacher quantiles ``teacher_q``) on every row of ``X``.
    """
    check_float_tensor("X", X)
    weight = check_range("weight", weight, 0, 1)
    if weight < 1 and Y is None:
        raise ValueError(f"Y (the true future) is needed when weight < 1, got weight={weight}")
    if weight > 0 and teacher_q is None:
        raise ValueError(f"teacher_q (the teacher's quantiles) is needed when weight > 0, got weight={weight}")
    lab = torch.arange(len(X)) if labelled is None else torch.as_tensor(labelled, dtype=torch.long)
    if len(lab) == 0 and weight < 1:
        raise ValueError("labelled must name at least one row when weight < 1")

    def objective(m, _):
        loss = 0.0
        if weight > 0:
            loss = loss + weight * pinball_loss(m(X), teacher_q, quantiles)
        if weight < 1:
            loss = loss + (1 - weight) * pinball_loss(m(X[lab]), Y[lab], quantiles)
        return {"loss": loss}

    return train.fit(model, objective, len(X), epochs=epochs, lr=lr, seed=seed, progress=progress)


@torch.no_grad()
def predict_quantiles(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    """(N, horizon, Q) forecasts, sorted along the quantile axis (so the quantiles never cross)."""
    model.eval()
    return model(X).sort(-1).values


def horizon_errors(pred_q: torch.Tensor, Y: torch.Tensor, quantiles=QUANTILES, *, scale: float = 1.0) -> dict:
    """Per horizon step: MAE of the median forecast and the pinball loss averaged over quantiles (times ``scale``)."""
    q = _check_quantiles(quantiles)
    mid = int(torch.argmin((q - 0.5).abs()))
    pin = pinball_loss(pred_q, Y, quantiles, reduction="none")  # (N, H, Q)
    return {"mae": ((pred_q[..., mid] - Y).abs().mean(0) * scale).numpy(),
            "pinball": (pin.mean((0, 2)) * scale).numpy()}
