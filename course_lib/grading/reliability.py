"""Checks for the reliability exercises: H8 (expected calibration error), H9 (percentile
bootstrap confidence interval), H10 (FGSM)."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._core import Mistake, as_float, as_tensor, call, close, register


def _gen(seed):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------ H8
def _ece_variant(probs, labels, n_bins=10, *, weighted=True, empty="skip", conf="max", absolute=True,
                 include_one=True):
    probs = torch.as_tensor(probs, dtype=torch.float64)
    labels = torch.as_tensor(labels)
    top, pred = probs.max(-1)
    c = top if conf == "max" else probs.gather(1, labels[:, None]).squeeze(1)
    correct = (pred == labels).double()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
    total, gaps = 0.0, []
    for i in range(n_bins):
        lo, hi = edges[i], edges[i + 1]
        inside = (c > lo) & (c <= hi) if include_one else (c >= lo) & (c < hi)
        if not inside.any():
            if empty == "zero":
                gaps.append(0.0)
            continue
        gap = float(correct[inside].mean() - c[inside].mean())
        gap = abs(gap) if absolute else gap
        total += float(inside.double().mean()) * gap
        gaps.append(gap)
    return total if weighted else float(np.mean(gaps))


def _expected_calibration_error(probs, labels, n_bins=10):
    return _ece_variant(probs, labels, n_bins)


@register("H8", "expected calibration error", ("expected_calibration_error",),
          reference={"expected_calibration_error": _expected_calibration_error})
def check_h8(f):
    fn = f["expected_calibration_error"]
    g = _gen(8)
    n, k = 300, 4
    logits = torch.randn(n, k, generator=g, dtype=torch.float64) * torch.linspace(0.5, 4, n, dtype=torch.float64)[:, None]
    probs = torch.softmax(logits, -1)
    pred = probs.argmax(-1)
    # under-confident at low confidence, over-confident at high confidence: bins of both signs
    correct = torch.rand(n, generator=g, dtype=torch.float64) < 0.3 + 0.5 * probs.max(-1).values
    labels = torch.where(correct, pred, (pred + torch.randint(1, k, (n,), generator=g)) % k)
    cases = [(probs, labels, 10), (probs, labels, 5)]
    certain = probs.clone()
    certain[:40] = F.one_hot(pred[:40], k).double()  # confidence exactly 1
    cases.append((certain, labels, 10))
    for p, y, bins in cases:
        p_in = p.clone().float()
        got = as_float(call(fn, p_in, y.clone(), n_bins=bins), "expected_calibration_error(...)")
        if not torch.equal(p_in, p.float()):
            raise Mistake("expected_calibration_error changed probs in place: read them, do not modify them")
        want = _ece_variant(p.float(), y, bins)
        if math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6):
            continue
        variants = {
            "unweighted": [dict(weighted=False), dict(weighted=False, empty="zero")],
            "true_class": [dict(conf="true")],
            "signed": [dict(absolute=False)],
            "edge": [dict(include_one=False)],
            "bins": [dict(n_bins=10)] if bins != 10 else [],
        }
        key = None
        for name, options in variants.items():
            for opt in options:
                opt = dict(opt)
                nb = opt.pop("n_bins", bins)
                if math.isclose(got, _ece_variant(p.float(), y, nb, **opt), rel_tol=1e-4, abs_tol=1e-6):
                    key = name
                    break
            if key:
                break
        raise Mistake({
            "unweighted": "the bins are averaged without weights: weight each bin by its share of the examples "
                          "|B|/N, or a bin holding 2 examples counts as much as one holding 200",
            "true_class": "confidence is the probability of the PREDICTED class (the row's max), not of the true class",
            "signed": "take |accuracy - confidence| in each bin: over- and under-confidence must not cancel out",
            "edge": "a confidence of exactly 1.0 fell outside every bin: the last bin must include 1 "
                    "(bins (lo, hi], or clamp the bin index)",
            "bins": "n_bins is ignored: use n_bins equal-width bins over [0, 1]",
        }.get(key, f"ECE with {bins} bins should be {want:.5f}, got {got:.5f}: sum over bins of "
                   f"|B|/N * |accuracy(B) - mean confidence(B)|"))


# ------------------------------------------------------------------------------ H9
def _bootstrap_ci(values, statistic=np.mean, *, n_boot=2000, level=0.95, seed=0):
    values = np.asarray(values)
    rng = np.random.default_rng(seed)
    stats = np.array([statistic(values[rng.integers(0, len(values), len(values))]) for _ in range(n_boot)])
    tail = (1 - level) / 2
    low, high = np.quantile(stats, [tail, 1 - tail])
    return float(low), float(high)


def _boot_stats(values, statistic, n_boot, seed, *, replace=True, size=None):
    rng = np.random.default_rng(seed)
    n = len(values)
    if replace:
        idx = rng.integers(0, n, (n_boot, size or n))
        return np.array([statistic(values[i]) for i in idx])
    return np.array([statistic(rng.permutation(values)[: size or n]) for _ in range(n_boot)])


@register("H9", "bootstrap confidence interval", ("bootstrap_ci",), reference={"bootstrap_ci": _bootstrap_ci})
def check_h9(f):
    fn = f["bootstrap_ci"]
    rng = np.random.default_rng(9)
    data = rng.lognormal(0.0, 1.3, size=25)
    n_boot = 10000
    ref_stats = {np.mean: _boot_stats(data, np.mean, n_boot, 1234), np.median: _boot_stats(data, np.median, n_boot, 1234)}

    def learner(statistic, level, seed=0, n_boot=n_boot):
        out = call(fn, data.copy(), statistic, n_boot=n_boot, level=level, seed=seed)
        try:
            low, high = (float(v) for v in out)
        except (TypeError, ValueError):
            raise Mistake(f"bootstrap_ci should return two numbers (low, high), got {out!r:.80}") from None
        return low, high

    kept = data.copy()
    out = call(fn, kept, np.median, n_boot=200, level=0.9, seed=1)
    if not np.array_equal(kept, data):
        raise Mistake("bootstrap_ci changed the data it was given (sorted or shuffled it in place): resample "
                      "through indices, values[rng.integers(0, n, n)], and leave values as they are")
    first = learner(np.mean, 0.95, seed=3, n_boot=300)
    if learner(np.mean, 0.95, seed=3, n_boot=300) != first:
        raise Mistake("two calls with the same seed gave different intervals: draw every resample from "
                      "np.random.default_rng(seed)")
    for statistic, level in ((np.mean, 0.95), (np.mean, 0.8), (np.median, 0.9)):
        low, high = learner(statistic, level)
        stats = ref_stats[statistic]
        tail = (1 - level) / 2
        want = np.quantile(stats, [tail, 1 - tail])
        width = want[1] - want[0]
        tol = 0.05 * width

        def near(pair):
            return abs(low - pair[0]) <= tol and abs(high - pair[1]) <= tol

        if near(want):
            continue
        if low > high:
            raise Mistake("low > high: the quantiles are swapped, low uses (1 - level) / 2 and high 1 - (1 - level) / 2")
        if high - low < 1e-9:
            if abs(low - statistic(data)) <= 1e-9 * max(1.0, abs(low)):
                raise Mistake("every resample gave statistic(data) itself: either the statistic is computed on the "
                              "DATA instead of on each resample, or you sample WITHOUT replacement (a permutation "
                              "has the same mean and median); draw idx = rng.integers(0, n, n) and use "
                              "statistic(values[idx])")
            raise Mistake("the interval has zero width: resample WITH replacement (n draws from the data, repeats "
                          "allowed) and compute the statistic on every resample")
        other = ref_stats[np.mean] if statistic is np.median else ref_stats[np.median]
        se = stats.std()
        z = {0.95: 1.959964, 0.8: 1.281552, 0.9: 1.644854}[level]
        center = statistic(data)
        checks = [
            (np.quantile(stats, [1 - level, level]), f"for a {level:.0%} interval cut (1 - level)/2 = {tail:.3g} "
                                                     f"off each tail, not 1 - level"),
            (np.quantile(stats, [0.025, 0.975]), "level is ignored: the quantiles are (1 - level)/2 and "
                                                 "1 - (1 - level)/2"),
            (np.quantile(stats, [tail / 100, (1 - tail) / 100]), "np.quantile takes fractions (0.025), "
                                                                   "np.percentile takes percents (2.5): these got mixed"),
            (np.quantile(other, [tail, 1 - tail]), "the statistic argument is ignored: compute statistic(resample) "
                                                   "for every resample"),
            (np.quantile(data, [tail, 1 - tail]), "these are quantiles of the DATA: take the quantiles of the "
                                                  "statistic computed on every resample"),
            ((center - z * se, center + z * se), "that is the normal-approximation interval (estimate +- z * se): "
                                                 "the percentile bootstrap takes the quantiles of the resampled "
                                                 "statistics, which need not be symmetric"),
            (np.quantile(_boot_stats(data, statistic, 4000, 1, size=len(data) // 2), [tail, 1 - tail]),
             "each resample must have as many values as the data (n), or the interval comes out too wide"),
        ]
        for pair, msg in checks:
            if near(pair):
                raise Mistake(msg)
        raise Mistake(f"the {level:.0%} percentile interval for {statistic.__name__} should be about "
                      f"({want[0]:.3f}, {want[1]:.3f}), got ({low:.3f}, {high:.3f})")
    # One enormous outlier at the end of the data: the percentile interval of the median barely moves, and the
    # interval of the mean must stretch towards it (no trimming, no clipping of the data).
    spiked = np.append(np.sort(data), 1e6)
    out = call(fn, spiked.copy(), np.median, n_boot=4000, level=0.9, seed=5)
    low, high = (float(v) for v in out)
    if not (np.isfinite(low) and np.isfinite(high)) or high > 100:
        raise Mistake("one huge outlier (1e6) at the end of the data moved the median's interval to "
                      f"({low:.3g}, {high:.3g}): apply `statistic` to each resample (the median resists outliers)")
    out = call(fn, spiked.copy(), np.mean, n_boot=4000, level=0.9, seed=5)
    high = float(list(out)[1])
    if high < 1e4:
        raise Mistake("with an outlier of 1e6 in 26 values the mean's interval must reach far up (resamples that "
                      "contain it have a huge mean): do not trim, clip or drop values")


# ------------------------------------------------------------------------------ H10
def _fgsm(model, x, y, eps):
    x = x.clone().detach().requires_grad_(True)
    loss = F.cross_entropy(model(x), y)
    (grad,) = torch.autograd.grad(loss, x)
    return (x + eps * grad.sign()).clamp(0, 1).detach()


def _h10_model():
    torch.manual_seed(10)
    return nn.Sequential(nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 4)).double()


@register("H10", "FGSM adversarial examples", ("fgsm",), reference={"fgsm": _fgsm})
def check_h10(f):
    fn = f["fgsm"]
    model = _h10_model()
    g = _gen(10)
    x = torch.rand(9, 16, generator=g, dtype=torch.float64)
    x[:, :3] = torch.tensor([0.0, 1.0, 0.02], dtype=torch.float64)  # pixels at the edges of [0, 1]
    y = torch.randint(0, 4, (9,), generator=g)
    for eps in (0.1, 0.03):
        x_in = x.clone()
        out = call(fn, model, x_in, y.clone(), eps)
        got = as_tensor(out, "fgsm(model, x, y, eps)")
        if not torch.equal(x_in, x):
            raise Mistake("fgsm changed x in place: work on a copy (x.clone().detach().requires_grad_())")
        want = _fgsm(model, x, y, eps)
        if close(got, want, atol=1e-9):
            continue
        if got.shape != want.shape:
            raise Mistake(f"fgsm should return a tensor shaped like x {tuple(x.shape)}, got {tuple(got.shape)}")
        xr = x.clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(F.cross_entropy(model(xr), y), xr)
        pred = model(x).argmax(-1)
        xp = x.clone().requires_grad_(True)
        (grad_pred,) = torch.autograd.grad(F.cross_entropy(model(xp), pred), xp)
        variants = {
            "sign": (x - eps * grad.sign()).clamp(0, 1),
            "noclamp": x + eps * grad.sign(),
            "nosign": (x + eps * grad).clamp(0, 1),
            "nosign_noclamp": x + eps * grad,
            "pred": (x + eps * grad_pred.sign()).clamp(0, 1),
            "sign_noclamp": x - eps * grad.sign(),
        }
        key = next((k for k, v in variants.items() if close(got, v, atol=1e-9)), None)
        if key is None and close(got, x, atol=1e-12):
            key = "unchanged"
        raise Mistake({
            "sign": "wrong sign: FGSM steps UP the loss, x + eps * sign(grad); yours lowers the loss",
            "sign_noclamp": "wrong sign: FGSM steps UP the loss, x + eps * sign(grad) (then clip to [0, 1])",
            "noclamp": "clip the result to the valid input range [0, 1] (x_adv.clamp(0, 1))",
            "nosign": "use the SIGN of the gradient, so that every input moves by exactly eps",
            "nosign_noclamp": "use the SIGN of the gradient (every input moves by exactly eps), then clip to [0, 1]",
            "pred": "use the true labels y in the loss, not the model's own predictions",
            "unchanged": "x_adv equals x: add eps * sign of the gradient of the loss with respect to x",
        }.get(key, f"fgsm at eps={eps:g} should give clamp(x + eps * sign(d loss / d x), 0, 1) with the "
                   f"cross-entropy loss on (x, y)"))
