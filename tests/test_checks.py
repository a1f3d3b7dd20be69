"""Every exercise check: the reference passes, an alternative correct implementation passes,
and typical wrong implementations get their specific message (behaviour, not code, is compared)."""
import math
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib import grading
from course_lib.grading import EXERCISES, reference, verdict

HIDS = [f"H{i}" for i in range(1, 24)]


def ref(hid, **override):
    funcs = reference(hid)
    funcs.update(override)
    return funcs


def expect(hid, funcs, fragment):
    ok, line = verdict(hid, **funcs)
    assert not ok, f"{hid} accepted a wrong implementation: {line}"
    assert line.startswith(f"{hid} {EXERCISES[hid].title}: ")
    assert fragment in line, f"{hid}: expected {fragment!r} in {line!r}"


def accept(hid, funcs):
    ok, line = verdict(hid, **funcs)
    assert ok, line
    assert line == f"{hid} {EXERCISES[hid].title}: passed"


def test_all_exercises_registered():
    assert sorted(EXERCISES, key=lambda h: int(h[1:])) == HIDS


@pytest.mark.parametrize("hid", HIDS)
def test_reference_passes_quickly(hid):
    t0 = time.perf_counter()
    accept(hid, reference(hid))
    assert time.perf_counter() - t0 < 15


# ----------------------------------------------------------------------------- H1
def _softmax_manual(logits, T=1.0):
    z = logits / T
    z = z - z.max(dim=-1, keepdim=True).values
    e = z.exp()
    return e / e.sum(-1, keepdim=True)


def _entropy_manual(probs):
    logp = torch.where(probs > 0, probs.log(), torch.zeros_like(probs))
    return -(probs * logp).sum(dim=-1)


def test_h1():
    accept("H1", {"softmax_t": _softmax_manual, "entropy": _entropy_manual})
    expect("H1", ref("H1", softmax_t=lambda z, T=1.0: torch.softmax(z * T, -1)), "multiplied the logits by T")
    expect("H1", ref("H1", softmax_t=lambda z, T=1.0: torch.softmax(z / T, 0)), "wrong axis")
    expect("H1", ref("H1", softmax_t=lambda z, T=1.0: torch.softmax(z / T, 1)), "single row")
    expect("H1", ref("H1", softmax_t=lambda z, T=1.0: (z / T).exp() / (z / T).exp().sum(-1, keepdim=True)),
           "overflow")
    def divides_in_place(z, T=1.0):
        z /= T
        return torch.softmax(z, -1)
    expect("H1", ref("H1", softmax_t=divides_in_place), "in place")
    expect("H1", ref("H1", entropy=lambda p: -(p * torch.log2(p.clamp_min(1e-30))).sum(-1)), "bits")
    expect("H1", ref("H1", entropy=lambda p: -(p * p.log()).sum(-1)), "0 log 0")
    expect("H1", ref("H1", entropy=lambda p: -(p * p.clamp_min(1e-30).log()).sum()), "one value per row")


# ----------------------------------------------------------------------------- H2
def _kd_loss_alt(s, t, y, *, T, alpha):
    p_t = torch.softmax(t / T, 1)
    soft = (p_t * (torch.log_softmax(t / T, 1) - torch.log_softmax(s / T, 1))).sum(1).mean() * T ** 2
    return alpha * soft + (1 - alpha) * F.nll_loss(torch.log_softmax(s, 1), y)


def _grad_alt(s, t, *, T):
    s = s.detach().clone().requires_grad_(True)
    loss = T * T * F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean")
    return torch.autograd.grad(loss, s)[0]


def _kd(reverse=False, t2=True, reduction="batchmean", swap=False, hard_T=False):
    def loss(s, t, y, *, T, alpha):
        a, b = F.log_softmax(s / T, -1), F.log_softmax(t / T, -1)
        if reverse:
            a, b = b, a
        soft = F.kl_div(a, b, reduction=reduction, log_target=True) * (T * T if t2 else 1)
        hard = F.cross_entropy(s / T if hard_T else s, y)
        return (1 - alpha) * soft + alpha * hard if swap else alpha * soft + (1 - alpha) * hard
    return loss


def test_h2():
    accept("H2", {"distillation_loss": _kd_loss_alt, "soft_loss_grad": _grad_alt})
    expect("H2", ref("H2", distillation_loss=_kd(t2=False)), "T^2 factor is missing")
    expect("H2", ref("H2", distillation_loss=_kd(reverse=True)), "wrong way round")
    expect("H2", ref("H2", distillation_loss=_kd(reduction="mean")), "batchmean")
    expect("H2", ref("H2", distillation_loss=_kd(swap=True)), "alpha weighs the wrong term")
    expect("H2", ref("H2", distillation_loss=_kd(hard_T=True)), "student at T=1")

    def soft_ce(s, t, y, *, T, alpha):  # cross-entropy with the soft targets: same gradient as KL, accepted
        ce = -(torch.softmax(t / T, -1) * torch.log_softmax(s / T, -1)).sum(-1).mean() * T * T
        return alpha * ce + (1 - alpha) * F.cross_entropy(s, y)
    accept("H2", ref("H2", distillation_loss=soft_ce))

    def probs_in(s, t, y, *, T, alpha):
        soft = F.kl_div(torch.softmax(s / T, -1), torch.softmax(t / T, -1), reduction="batchmean") * T * T
        return alpha * soft + (1 - alpha) * F.cross_entropy(s, y)
    expect("H2", ref("H2", distillation_loss=probs_in), "LOG-probabilities")

    def one_side(s, t, y, *, T, alpha):
        soft = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t, -1), reduction="batchmean", log_target=True)
        return alpha * soft * T * T + (1 - alpha) * F.cross_entropy(s, y)
    expect("H2", ref("H2", distillation_loss=one_side), "student only")

    def log_of_softmax(s, t, y, *, T, alpha):
        ls, pt = torch.log(torch.softmax(s / T, -1)), torch.softmax(t / T, -1)
        soft = (pt * (torch.log(pt) - ls)).sum(-1).mean() * T * T
        return alpha * soft + (1 - alpha) * F.cross_entropy(s, y)
    expect("H2", ref("H2", distillation_loss=log_of_softmax), "extreme logits")
    expect("H2", ref("H2", distillation_loss=lambda *a, **k: float(_kd()(*a, **k))), "connected to the student")
    ps = lambda s, T: torch.softmax(s / T, -1)  # noqa: E731
    expect("H2", ref("H2", soft_loss_grad=lambda s, t, *, T: (ps(s, T) - ps(t, T)) / len(s)), "factor of T")
    expect("H2", ref("H2", soft_loss_grad=lambda s, t, *, T: T * (ps(t, T) - ps(s, T)) / len(s)), "wrong sign")
    expect("H2", ref("H2", soft_loss_grad=lambda s, t, *, T: T * (ps(s, T) - ps(t, T))), "batch size N")


# ----------------------------------------------------------------------------- H11
def test_h11():
    def lstsq(x, y):
        A = torch.stack([torch.log(torch.as_tensor(x)), torch.ones(len(x), dtype=torch.float64)], 1)
        sol = torch.linalg.lstsq(A, torch.log(torch.as_tensor(y))[:, None]).solution.squeeze(1)
        return float(sol[0]), math.exp(float(sol[1]))
    accept("H11", {"fit_power_law": lstsq})
    expect("H11", {"fit_power_law": lambda x, y: tuple(np.polyfit(np.log(y), np.log(x), 1)[:1]) + (1.0,)},
           "axes are swapped")
    expect("H11", {"fit_power_law": lambda x, y: tuple(np.polyfit(np.log(x), np.log(y), 1))},
           "as a logarithm")
    expect("H11", {"fit_power_law": lambda x, y: (np.polyfit(x, y, 1)[0], 1.0)}, "log-log space")
    expect("H11", {"fit_power_law": lambda x, y: reference("H11")["fit_power_law"](x, y)[::-1]}, "swapped")


# ----------------------------------------------------------------------------- H12
def _rkd(normalise=True, squared=False, loss=F.smooth_l1_loss, diag_in_mean=False, all_entries=False, naive=False):
    def fn(s, t):
        def dist(e):
            if naive:
                return ((e[:, None] - e[None]) ** 2).sum(-1).sqrt()
            d = torch.cdist(e, e)
            return d ** 2 if squared else d
        ds, dt = dist(s), dist(t.detach())
        off = ~torch.eye(len(s), dtype=torch.bool)
        if normalise:
            ds = ds / (ds.mean() if diag_in_mean else ds[off].mean())
            dt = dt / (dt.mean() if diag_in_mean else dt[off].mean())
        return loss(ds, dt) if all_entries else loss(ds[off], dt[off])
    return fn


def test_h12():
    accept("H12", {"rkd_distance_loss": _rkd(all_entries=True)})  # the RKD authors' averaging, also fine
    from course_lib.losses import rkd_distance
    accept("H12", {"rkd_distance_loss": lambda s, t: rkd_distance(s, t)})
    expect("H12", {"rkd_distance_loss": _rkd(normalise=False)}, "not normalised")
    expect("H12", {"rkd_distance_loss": _rkd(diag_in_mean=True)}, "pairs i != j")
    expect("H12", {"rkd_distance_loss": _rkd(squared=True)}, "squared distances")
    expect("H12", {"rkd_distance_loss": _rkd(loss=F.mse_loss)}, "Huber")
    expect("H12", {"rkd_distance_loss": _rkd(naive=True, all_entries=True)}, "gradient is nan")


# ----------------------------------------------------------------------------- H13
def _lwf(reverse=False, t2=True, use_T=True, lam_on_ce=False, soft_ce=False):
    def fn(new, y, old, rec, *, T=2.0, lam=1.0):
        Tt = T if use_T else 1.0
        if soft_ce:
            kd = -(torch.softmax(rec / Tt, -1) * torch.log_softmax(old / Tt, -1)).sum(-1).mean()
        else:
            a, b = F.log_softmax(old / Tt, -1), F.log_softmax(rec / Tt, -1)
            if reverse:
                a, b = b, a
            kd = F.kl_div(a, b, reduction="batchmean", log_target=True)
        kd = kd * (T * T if t2 else 1)
        ce = F.cross_entropy(new, y)
        return lam * ce + kd if lam_on_ce else ce + lam * kd
    return fn


def test_h13():
    accept("H13", {"lwf_loss": _lwf(soft_ce=True)})  # cross-entropy with soft targets: same gradients
    expect("H13", {"lwf_loss": _lwf(reverse=True)}, "wrong way round")
    expect("H13", {"lwf_loss": _lwf(t2=False)}, "T^2")
    expect("H13", {"lwf_loss": _lwf(use_T=False, t2=False)}, "temperature is not used")
    expect("H13", {"lwf_loss": _lwf(lam_on_ce=True)}, "lam weighs the wrong term")


# ----------------------------------------------------------------------------- H3
def _masks_quantile(model, sparsity):
    lin = {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear)}
    allw = torch.cat([m.weight.detach().abs().flatten() for m in lin.values()])
    k = int(round(sparsity * allw.numel()))
    if k == 0:
        return {n: torch.ones_like(m.weight) for n, m in lin.items()}
    thr = allw.kthvalue(k).values
    return {n: (m.weight.detach().abs() > thr).float() for n, m in lin.items()}


def _masks_layerwise(model, sparsity):
    out = {}
    for n, m in model.named_modules():
        if isinstance(m, nn.Linear):
            from torch.nn.utils import prune
            prune.l1_unstructured(m, "weight", amount=sparsity)
            out[n] = m.weight_mask.clone()
    return out


def test_h3():
    accept("H3", {"global_magnitude_masks": _masks_quantile})
    inverted = lambda model, s: {n: 1 - m for n, m in _masks_quantile(model, 1 - s).items()}  # noqa: E731
    expect("H3", {"global_magnitude_masks": inverted}, "prunes the LARGEST")
    expect("H3", {"global_magnitude_masks": lambda model, s: _masks_quantile(model, 1 - s)}, "keeps the wrong fraction")
    expect("H3", {"global_magnitude_masks": _masks_layerwise}, "layer-wise")

    def signed(model, s):
        lin = {n: m for n, m in model.named_modules() if isinstance(m, nn.Linear)}
        allw = torch.cat([m.weight.detach().flatten() for m in lin.values()])
        k = int(round(s * allw.numel()))
        thr = allw.kthvalue(max(k, 1)).values if k else -float("inf")
        return {n: (m.weight.detach() > thr).float() for n, m in lin.items()}
    expect("H3", {"global_magnitude_masks": signed}, "signed value")


# ----------------------------------------------------------------------------- H4
def test_h4():
    accept("H4", ref("H4", movement_scores=lambda ws, gs: -torch.stack([w * g for w, g in zip(ws, gs)]).mean(0)))

    def mask_alt(scores, sparsity):
        thr = torch.quantile(scores.flatten(), sparsity)
        return (scores > thr).float()
    accept("H4", ref("H4", movement_mask=mask_alt))  # a quantile threshold keeps the same set (no ties)
    expect("H4", ref("H4", movement_scores=lambda ws, gs: sum(w * g for w, g in zip(ws, gs))), "sign is flipped")
    expect("H4", ref("H4", movement_scores=lambda ws, gs: (-sum(w * g for w, g in zip(ws, gs))).abs()), "do not take |.|")
    expect("H4", ref("H4", movement_scores=lambda ws, gs: -ws[-1] * gs[-1]), "only the last step")
    expect("H4", ref("H4", movement_mask=lambda s, sp: reference("H4")["movement_mask"](-s, sp)), "LOWEST")
    expect("H4", ref("H4", movement_mask=lambda s, sp: reference("H4")["movement_mask"](s.abs(), sp)), "|score|")


# ----------------------------------------------------------------------------- H5
def _quant(per_tensor=False, divisor=None, rounding=torch.round, clamp_min=True, asym=False):
    def q_fn(w, bits=8):
        qmax = 2 ** (bits - 1) - 1
        if asym:
            scale = (w.amax(1, keepdim=True) - w.amin(1, keepdim=True)) / (2 ** bits - 1)
        else:
            m = w.abs().max() if per_tensor else w.abs().amax(1, keepdim=True)
            scale = m / (divisor(bits) if divisor else qmax)
        if clamp_min:
            scale = scale.clamp_min(1e-12)
        return rounding(w / scale).clamp(-qmax, qmax), scale
    return q_fn


def test_h5():
    def q_alt(w, bits=8):
        qmax = 2 ** (bits - 1) - 1
        scale = torch.maximum(w.abs().max(dim=1).values / qmax, torch.tensor(1e-8))
        return torch.round(w / scale[:, None]).clamp(-qmax, qmax).to(torch.int32), scale
    deq_alt = lambda q, s: q.float() * s.reshape(-1, 1)  # noqa: E731
    err_alt = lambda w, bits=8: F.mse_loss(deq_alt(*q_alt(w, bits)), w).item()  # noqa: E731
    accept("H5", {"quantize_symmetric": q_alt, "dequantize": deq_alt, "quantization_error": err_alt})
    expect("H5", ref("H5", quantize_symmetric=_quant(per_tensor=True)), "per-tensor")
    expect("H5", ref("H5", quantize_symmetric=_quant(divisor=lambda b: 2 ** (b - 1))), "2^(bits-1) - 1")
    expect("H5", ref("H5", quantize_symmetric=_quant(asym=True)), "asymmetric")
    expect("H5", ref("H5", quantize_symmetric=_quant(rounding=torch.trunc)), "truncated")
    expect("H5", ref("H5", quantize_symmetric=_quant(clamp_min=False)), "row of zeros")
    expect("H5", ref("H5", dequantize=lambda q, s: q / s), "multiply by the scale")
    rmse = lambda w, bits=8: math.sqrt(reference("H5")["quantization_error"](w, bits))  # noqa: E731
    expect("H5", ref("H5", quantization_error=rmse), "not its square root")


# ----------------------------------------------------------------------------- H6
class _Ternary(torch.autograd.Function):
    mode = "ste"

    @staticmethod
    def forward(ctx, w):
        d = 0.7 * w.abs().mean()
        mask = (w.abs() > d).to(w.dtype)
        a = (w.abs() * mask).sum() / mask.sum()
        return torch.where(w > d, a, torch.where(w < -d, -a, torch.zeros_like(w)))

    @staticmethod
    def backward(ctx, g):
        return g.clone()


class _Blocked(_Ternary):
    @staticmethod
    def backward(ctx, g):
        return torch.zeros_like(g)


def test_h6():
    accept("H6", {"ternarize": _Ternary.apply})
    expect("H6", {"ternarize": _Blocked.apply}, "gradient is blocked")

    def no_ste(w):  # the plain forward: sign and threshold have no useful gradient
        d = 0.7 * w.abs().mean()
        keep = w.abs() > d
        return w.abs()[keep].mean() * torch.sign(w) * keep
    expect("H6", {"ternarize": no_ste}, "gradient is blocked")

    def mean_all(w):
        d = 0.7 * w.abs().mean()
        return (w.abs().mean() * torch.sign(w) * (w.abs() > d)).detach() + w - w.detach()
    expect("H6", {"ternarize": mean_all}, "not of all weights")

    def max_thr(w):
        d = 0.7 * w.abs().max()
        keep = w.abs() > d
        return (w.abs()[keep].mean() * torch.sign(w) * keep).detach() + w - w.detach()
    expect("H6", {"ternarize": max_thr}, "MEAN |w|")


# ----------------------------------------------------------------------------- H7
def _lr(keep="first", bias=True, use_S=True):
    def fn(layer, r):
        U, S, Vh = torch.linalg.svd(layer.weight.detach(), full_matrices=False)
        sl = slice(0, r) if keep == "first" else slice(-r, None)
        A = nn.Linear(layer.in_features, r, bias=False)
        B = nn.Linear(r, layer.out_features, bias=bias)
        with torch.no_grad():
            A.weight.copy_(Vh[sl])
            B.weight.copy_(U[:, sl] * (S[sl] if use_S else 1))
            if bias:
                B.bias.copy_(layer.bias)
        return nn.Sequential(A, B)
    return fn


def test_h7():
    accept("H7", {"low_rank_linear": _lr(), "low_rank_flops": lambda n, m, r: r * n * 2 + (2 * r + 1) * m})
    flops = reference("H7")["low_rank_flops"]
    expect("H7", {"low_rank_linear": _lr(keep="last"), "low_rank_flops": flops}, "SMALLEST")
    expect("H7", {"low_rank_linear": _lr(bias=False), "low_rank_flops": flops}, "bias was dropped")
    expect("H7", {"low_rank_linear": _lr(use_S=False), "low_rank_flops": flops}, "singular values are missing")
    lin = reference("H7")["low_rank_linear"]
    expect("H7", {"low_rank_linear": lin, "low_rank_flops": lambda n, m, r: r * (n + m) + m}, "counts as 2 FLOPs")
    expect("H7", {"low_rank_linear": lin, "low_rank_flops": lambda n, m, r: 2 * r * (n + m)}, "bias additions")
    expect("H7", {"low_rank_linear": lin, "low_rank_flops": lambda n, m, r: 2 * n * m + m}, "dense layer")


def test_h7_flops_agree_with_models_flops():
    from course_lib.models import flops
    layer = nn.Linear(40, 24)
    assert flops(reference("H7")["low_rank_linear"](layer, 5), (40,)) == reference("H7")["low_rank_flops"](40, 24, 5)


# ----------------------------------------------------------------------------- H8
def _ece_alt(probs, labels, n_bins=10):
    conf, pred = probs.max(1)
    idx = torch.clamp(torch.ceil(conf * n_bins).long() - 1, 0, n_bins - 1)
    ece = torch.zeros(())
    for b in range(n_bins):
        sel = idx == b
        if sel.any():
            ece += sel.float().mean() * ((pred[sel] == labels[sel]).float().mean() - conf[sel].mean()).abs()
    return float(ece)


def test_h8():
    accept("H8", {"expected_calibration_error": _ece_alt})
    from course_lib.grading.reliability import _ece_variant
    expect("H8", {"expected_calibration_error": lambda p, y, n_bins=10: _ece_variant(p, y, n_bins, weighted=False)},
           "without weights")
    expect("H8", {"expected_calibration_error": lambda p, y, n_bins=10: _ece_variant(p, y, n_bins, conf="true")},
           "PREDICTED class")
    expect("H8", {"expected_calibration_error": lambda p, y, n_bins=10: _ece_variant(p, y, n_bins, absolute=False)},
           "must not cancel")
    expect("H8", {"expected_calibration_error":
                  lambda p, y, n_bins=10: _ece_variant(p, y, n_bins, include_one=False)}, "exactly 1.0")
    expect("H8", {"expected_calibration_error": lambda p, y, n_bins=10: _ece_variant(p, y, 10)}, "n_bins is ignored")


# ----------------------------------------------------------------------------- H9
def _boot(quantiles=None, replace=True, normal=False, data_quantiles=False):
    def fn(values, statistic=np.mean, *, n_boot=2000, level=0.95, seed=0):
        rng = np.random.default_rng(seed)
        n = len(values)
        stats = np.array([statistic(rng.choice(values, n, replace=replace)) for _ in range(n_boot)])
        tail = (1 - level) / 2
        if normal:
            c, se = statistic(values), stats.std()
            z = {0.95: 1.96, 0.8: 1.2816, 0.9: 1.6449}[level]
            return c - z * se, c + z * se
        qs = quantiles(level) if quantiles else (tail, 1 - tail)
        return tuple(np.quantile(values if data_quantiles else stats, qs))
    return fn


def test_h9():
    accept("H9", {"bootstrap_ci": _boot()})
    expect("H9", {"bootstrap_ci": _boot(quantiles=lambda lv: (1 - lv, lv))}, "not 1 - level")
    expect("H9", {"bootstrap_ci": _boot(quantiles=lambda lv: (0.025, 0.975))}, "level is ignored")
    expect("H9", {"bootstrap_ci": _boot(replace=False)}, "WITHOUT replacement")
    expect("H9", {"bootstrap_ci": _boot(normal=True)}, "normal-approximation")
    expect("H9", {"bootstrap_ci": _boot(data_quantiles=True)}, "quantiles of the DATA")

    def unseeded(values, statistic=np.mean, *, n_boot=2000, level=0.95, seed=0):
        return _boot()(values, statistic, n_boot=n_boot, level=level, seed=np.random.randint(1 << 30))
    expect("H9", {"bootstrap_ci": unseeded}, "same seed")

    def on_data(values, statistic=np.mean, *, n_boot=2000, level=0.95, seed=0):
        rng = np.random.default_rng(seed)
        stats = [statistic(values) for _ in range(n_boot) if rng.integers(0, 2) >= 0]  # the resample is unused
        return tuple(np.quantile(stats, [(1 - level) / 2, 1 - (1 - level) / 2]))
    expect("H9", {"bootstrap_ci": on_data}, "computed on the DATA")

    def sorts_in_place(values, statistic=np.mean, **kw):
        values.sort()
        return _boot()(values, statistic, **kw)
    expect("H9", {"bootstrap_ci": sorts_in_place}, "in place")

    def trims(values, statistic=np.mean, **kw):
        return _boot()(values[values < 1000], statistic, **kw)  # drops "implausible" values
    expect("H9", {"bootstrap_ci": trims}, "outlier")


# ----------------------------------------------------------------------------- H10
def test_h10():
    def fgsm_alt(model, x, y, eps):
        x_adv = x.detach().clone()
        x_adv.requires_grad = True
        F.cross_entropy(model(x_adv), y, reduction="sum").backward()
        return torch.clamp(x_adv + eps * x_adv.grad.sign(), min=0.0, max=1.0)

    def variant(sign=1, clamp=True, use_sign=True, inplace=False):
        def fn(model, x, y, eps):
            xr = x if inplace else x.clone()
            xr.requires_grad_(True)
            (g,) = torch.autograd.grad(F.cross_entropy(model(xr), y), xr)
            out = xr.detach() + sign * eps * (g.sign() if use_sign else g)
            if inplace:
                x.requires_grad_(False)
                x.data.copy_(out)
            return out.clamp(0, 1) if clamp else out
        return fn
    accept("H10", {"fgsm": fgsm_alt})
    expect("H10", {"fgsm": variant(sign=-1)}, "wrong sign")
    expect("H10", {"fgsm": variant(clamp=False)}, "clip the result")
    expect("H10", {"fgsm": variant(use_sign=False)}, "SIGN of the gradient")
    expect("H10", {"fgsm": variant(inplace=True)}, "in place")


# ----------------------------------------------------------------------------- core
def test_stub_message_is_reported():
    def stub(*a, **k):
        raise NotImplementedError("H1: divide the logits by T")
    ok, line = verdict("H1", softmax_t=stub, entropy=stub)
    assert not ok and line == "H1 softmax with temperature and entropy: not done yet - H1: divide the logits by T"


def test_missing_function_and_exception_and_timeout():
    ok, line = verdict("H11", {})
    assert not ok and "`fit_power_law` is not defined" in line

    def boom(x, y):
        return 1 / 0
    ok, line = verdict("H11", fit_power_law=boom)
    assert not ok and "raised ZeroDivisionError" in line

    def loop(x, y):
        while True:
            try:
                pass
            except Exception:
                pass
    t0 = time.perf_counter()
    ok, line = verdict("H11", fit_power_law=loop, timeout=0.5)
    assert not ok and "stopped after 0.5 s" in line and time.perf_counter() - t0 < 5


def test_check_prints_records_and_keeps_rng(capsys):
    torch.manual_seed(0)
    np.random.seed(0)
    before = torch.rand(1), np.random.rand()
    torch.manual_seed(0)
    np.random.seed(0)
    assert grading.check("H11", dict(reference("H11"))) is None
    assert (torch.rand(1), np.random.rand()) == before
    assert capsys.readouterr().out == "H11 fitting T against batch size: passed\n"
    assert grading.passed("H11")
    with pytest.raises(ValueError, match="hid must be one of"):
        grading.passed("H99")


def test_learner_prints_do_not_change_the_verdict(capsys):
    def chatty(x, y):
        print("debugging...")
        return reference("H11")["fit_power_law"](x, y)
    grading.check("H11", fit_power_law=chatty)
    assert capsys.readouterr().out == "H11 fitting T against batch size: passed\n"


# ============================================================================ H14 to H23 (chapters 3, 4, 1)
def test_new_exercises_registered():
    assert {f"H{i}" for i in range(14, 24)} <= set(EXERCISES)


def test_h14():
    def lbfgs(logits, labels):
        log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14)
        z = logits.detach().double()

        def closure():
            opt.zero_grad()
            loss = F.cross_entropy(z / log_t.exp(), labels)
            loss.backward()
            return loss
        opt.step(closure)
        return float(log_t.exp())
    accept("H14", {"fit_temperature": lbfgs})
    fit = reference("H14")["fit_temperature"]
    expect("H14", {"fit_temperature": lambda z, y: 1 / fit(z, y)}, "1/T")
    expect("H14", {"fit_temperature": lambda z, y: math.log(fit(z, y))}, "log T")
    expect("H14", {"fit_temperature": lambda z, y: 1.0}, "nothing was fitted")
    from course_lib.grading.beyond import _brier_T
    expect("H14", {"fit_temperature": lambda z, y: _brier_T(z, y)}, "Brier")

    def in_place(z, y):
        T = fit(z, y)
        z /= T
        return T
    expect("H14", {"fit_temperature": in_place}, "in place")


def _wkd(variant=""):
    from course_lib.grading.beyond import _weighted_kd

    def fn(s, t, y, w, *, T=4.0, alpha=0.5):
        return _weighted_kd(s, t.detach(), y, w, T=T, alpha=alpha, variant=variant)
    return fn


def test_h15():
    def alt(s, t, y, w, *, T=4.0, alpha=0.5):  # soft cross-entropy, weights by hand
        wi = w[y]
        soft_ce = -(torch.softmax(t.detach() / T, 1) * torch.log_softmax(s / T, 1)).sum(1)
        hard = -(torch.log_softmax(s, 1).gather(1, y[:, None]).squeeze(1))
        return alpha * T * T * (wi * soft_ce).sum() / wi.sum() + (1 - alpha) * (wi * hard).sum() / wi.sum()
    accept("H15", {"weighted_distillation_loss": alt})
    for variant, msg in (("teacher_class", "TEACHER predicts"), ("per_n", "divided by N"),
                         ("unweighted_soft", "distillation term is not weighted"),
                         ("unweighted_hard", "hard-label term is not weighted"), ("noT2", "T^2")):
        expect("H15", {"weighted_distillation_loss": _wkd(variant)}, msg)

    def no_detach(s, t, y, w, *, T=4.0, alpha=0.5):
        from course_lib.grading.beyond import _weighted_kd
        return _weighted_kd(s, t, y, w, T=T, alpha=alpha)
    expect("H15", {"weighted_distillation_loss": no_detach}, "teacher_logits.detach()")


def test_h16():
    def pgd_alt(model, x, y, eps, alpha, steps):
        delta = torch.zeros_like(x)
        for _ in range(steps):
            delta.requires_grad_(True)
            loss = F.cross_entropy(model(x + delta), y)
            g, = torch.autograd.grad(loss, delta)
            delta = (delta + alpha * g.sign()).clamp(-eps, eps)
            delta = ((x + delta).clamp(0, 1) - x).detach()
        return (x + delta).detach()
    accept("H16", {"pgd": pgd_alt})
    from course_lib.grading.beyond import _pgd
    for variant, msg in (("noproject", "eps-ball"), ("noclamp", "[0, 1]"), ("descend", "wrong sign"),
                         ("nosign", "SIGN"), ("grad_at_x", "clean x")):
        expect("H16", {"pgd": lambda m, x, y, e, a, s, v=variant: _pgd(m, x, y, e, a, s, variant=v)}, msg)

    def in_place(model, x, y, eps, alpha, steps):
        out = _pgd(model, x, y, eps, alpha, steps)
        x.copy_(out)
        return out
    expect("H16", {"pgd": in_place}, "in place")

    def attached(model, x, y, eps, alpha, steps):
        return _pgd(model, x, y, eps, alpha, steps) + 0 * x.clone().requires_grad_(True)
    expect("H16", {"pgd": attached}, "detach")


def test_h17():
    import torchvision.ops as ops
    accept("H17", {"box_iou": ops.box_iou, "nms": ops.nms})
    from course_lib.grading.applications import _box_iou, _nms
    iou, nms = reference("H17")["box_iou"], reference("H17")["nms"]
    for variant, msg in (("plus1", "+1 pixel"), ("noclamp", "clamp the intersection"), ("over_a", "UNION"),
                         ("nominus", "counts the intersection twice")):
        expect("H17", {"box_iou": lambda a, b, v=variant: _box_iou(a, b, variant=v), "nms": nms}, msg)
    for variant, msg in (("all_suppress", "only KEPT boxes"), ("inverted", "inverted"), ("index_order", "order")):
        expect("H17", {"box_iou": iou, "nms": lambda b, s, t, v=variant: _nms(b, s, t, variant=v)}, msg)
    expect("H17", {"box_iou": iou, "nms": lambda b, s, t: _nms(b, s, t, variant="ge")}, "equals the threshold")


def test_h18():
    def macs_alt(c_in, c_out, k, h, w, *, stride=1, padding=0):
        from torch.utils.flop_counter import FlopCounterMode
        block = nn.Sequential(nn.Conv2d(c_in, c_in, k, stride, padding, groups=c_in, bias=False),
                              nn.Conv2d(c_in, c_out, 1, bias=False))
        with FlopCounterMode(display=False) as fc:
            block(torch.zeros(1, c_in, h, w))
        return fc.get_total_flops() // 2
    accept("H18", {"separable_macs": macs_alt})
    ref18 = reference("H18")["separable_macs"]
    expect("H18", {"separable_macs": lambda *a, **k: 2 * ref18(*a, **k)}, "FLOPs")

    def out_hw(h, w, k, s, p):
        return (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1

    def standard(ci, co, k, h, w, *, stride=1, padding=0):
        ho, wo = out_hw(h, w, k, stride, padding)
        return ho * wo * ci * co * k * k
    expect("H18", {"separable_macs": standard}, "standard k x k")

    def no_stride(ci, co, k, h, w, *, stride=1, padding=0):
        return h * w * (ci * k * k + ci * co)
    expect("H18", {"separable_macs": no_stride}, "ignores stride")

    def no_pointwise(ci, co, k, h, w, *, stride=1, padding=0):
        ho, wo = out_hw(h, w, k, stride, padding)
        return ho * wo * ci * k * k
    expect("H18", {"separable_macs": no_pointwise}, "pointwise")


def test_h19():
    def alt(log_probs, blank=0):
        import itertools
        return [int(k) for k, _ in itertools.groupby(log_probs.argmax(1).tolist()) if k != blank]
    accept("H19", {"ctc_greedy_decode": alt})
    from course_lib.grading.applications import _ctc_greedy
    for variant, msg in (("blank_first", "BEFORE merging"), ("nocollapse", "merged"), ("keepblank", "removed")):
        expect("H19", {"ctc_greedy_decode": lambda lp, blank=0, v=variant: _ctc_greedy(lp, blank, variant=v)}, msg)
    expect("H19", {"ctc_greedy_decode": lambda lp, blank=0: _ctc_greedy(lp, 0)}, "not always 0")


def test_h20():
    def alt(logits, labels, old, n_old, *, T=2.0, lam=1.0):
        p_old = torch.softmax(old.detach() / T, 1)
        soft_ce = -(p_old * torch.log_softmax(logits[:, :n_old] / T, 1)).sum(1).mean()
        return F.nll_loss(torch.log_softmax(logits, 1), labels) + lam * T * T * soft_ce
    accept("H20", {"lwf_ci_loss": alt})
    from course_lib.grading.applications import _lwf_ci
    for variant, msg in (("new_only_ce", "ALL classes"), ("softmax_all", "old classes only"),
                         ("oneside_t", "old model's outputs only"), ("reverse", "wrong way round"), ("noT2", "T^2")):
        expect("H20", {"lwf_ci_loss": lambda a, b, c, n, *, T=2.0, lam=1.0, v=variant:
                       _lwf_ci(a, b, c.detach(), n, T=T, lam=lam, variant=v)}, msg)
    expect("H20", {"lwf_ci_loss": lambda a, b, c, n, *, T=2.0, lam=1.0: _lwf_ci(a, b, c, n, T=T, lam=lam)},
           "old_logits.detach()")


def test_h21():
    import copy

    def alt(model, task_loss, *, inner_steps=5, inner_lr=0.1, outer_lr=0.5):
        fast = copy.deepcopy(model)
        for _ in range(inner_steps):
            grads = torch.autograd.grad(task_loss(fast), list(fast.parameters()))
            with torch.no_grad():
                for p, g in zip(fast.parameters(), grads):
                    p -= inner_lr * g
        with torch.no_grad():
            for p, q in zip(model.parameters(), fast.parameters()):
                p.copy_((1 - outer_lr) * p + outer_lr * q)
    accept("H21", {"reptile_update": alt})
    from course_lib.grading.applications import _reptile
    for variant, msg in (("reverse", "wrong way"), ("no_copy", "adapt a copy"), ("no_zero", "accumulate")):
        expect("H21", {"reptile_update": lambda m, tl, v=variant, **kw: _reptile(m, tl, variant=v, **kw)}, msg)
    expect("H21", {"reptile_update": lambda m, tl, **kw: None}, "did not move")


def test_h22():
    from course_lib.distill.layer_mapping import layer_mapping
    accept("H22", {"layer_mapping": layer_mapping})  # the library's version, banker's rounding and all
    ref22 = reference("H22")["layer_mapping"]
    expect("H22", {"layer_mapping": lambda k, s, t: [v - 1 for v in ref22(k, s, t)]}, "0-based")
    expect("H22", {"layer_mapping": lambda k, s, t: [1 + j * t // s for j in range(s)] if k == "uniform"
                   else ref22(k, s, t)}, "END at the teacher's last layer")

    def no_check(kind, n_student, n_teacher):
        return list(range(1, n_student + 1)) if kind != "last" else list(range(n_teacher - n_student + 1,
                                                                               n_teacher + 1))
    expect("H22", {"layer_mapping": lambda k, s, t: ref22(k, s, t) if s <= t else no_check(k, s, t)},
           "raise ValueError")

    def vague(kind, n_student, n_teacher):
        if n_student > n_teacher or n_student < 1 or kind not in ("uniform", "first", "last"):
            raise ValueError("bad input")
        return ref22(kind, n_student, n_teacher)
    expect("H22", {"layer_mapping": vague}, "name the parameter")


def test_h23():
    def hvp_functional(loss_fn, w, iters=100, seed=0):
        gen = torch.Generator().manual_seed(seed + 1)
        v = torch.randn(w.numel(), generator=gen, dtype=w.dtype)
        lam = 0.0
        for _ in range(iters):
            v = v / v.norm()
            _, hv = torch.autograd.functional.hvp(loss_fn, w.detach(), v)
            lam = float(v @ hv)
            v = hv
        return lam
    accept("H23", {"top_hessian_eigenvalue": hvp_functional})
    top = reference("H23")["top_hessian_eigenvalue"]
    expect("H23", {"top_hessian_eigenvalue": lambda f, w, iters=100, seed=0:
                   float(torch.autograd.functional.hessian(f, w).trace())}, "trace")
    expect("H23", {"top_hessian_eigenvalue": lambda f, w, iters=100, seed=0: abs(top(f, w, iters, seed)) * 1.5},
           "expected the dominant eigenvalue")

    def unnormalised(loss_fn, w, iters=100, seed=0):
        v = torch.ones(w.numel(), dtype=w.dtype)
        for _ in range(iters):
            _, hv = torch.autograd.functional.hvp(loss_fn, w.detach(), v)
            lam, v = float(v @ hv / (v @ v)), hv
        return lam
    expect("H23", {"top_hessian_eigenvalue": unnormalised}, "normalise v")


def test_edges_of_the_older_exercises():
    def ece_in_place(p, y, n_bins=10):
        out = reference("H8")["expected_calibration_error"](p.clone(), y, n_bins)
        p.clamp_(0.01, 0.99)
        return out
    expect("H8", {"expected_calibration_error": ece_in_place}, "in place")


    def lwf_log_of_softmax(new, y, old, rec, *, T=2.0, lam=1.0):
        p = torch.softmax(rec / T, -1)
        kd = (p * (torch.log(p) - torch.log(torch.softmax(old / T, -1)))).sum(-1).mean() * T * T
        return F.cross_entropy(new, y) + lam * kd
    expect("H13", {"lwf_loss": lwf_log_of_softmax}, "extreme logits")

    def quant_in_place(w, bits=8):
        q, s = reference("H5")["quantize_symmetric"](w.clone(), bits)
        w.zero_()
        return q, s
    expect("H5", ref("H5", quantize_symmetric=quant_in_place), "in place")
