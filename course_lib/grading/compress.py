"""Checks for the compression exercises: H3 (global magnitude masks), H4 (movement scores),
H5 (symmetric per-channel quantization), H6 (ternary straight-through estimator), H7 (SVD
low-rank layer and its FLOPs)."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import prune

from ._core import Mistake, as_float, as_tensor, call, close, first_match, register


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _fraction(mask) -> float:
    return float((mask == 0).double().mean())


# ------------------------------------------------------------------------------ H3
def _global_magnitude_masks(model, sparsity):
    params = [(m, "weight") for m in model.modules() if isinstance(m, nn.Linear)]
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=float(sparsity))
    return {name: m.weight_mask.detach().clone() for name, m in model.named_modules() if isinstance(m, nn.Linear)}


def _h3_model():
    torch.manual_seed(3)
    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(20, 30))
    model.add_module("act1", nn.ReLU())
    model.add_module("fc2", nn.Linear(30, 10))
    model.add_module("out", nn.Linear(10, 5))
    with torch.no_grad():  # very different scales, so global and layer-wise ranking disagree
        model.fc1.weight.mul_(3.0)
        model.out.weight.mul_(0.2)
    return model


@register("H3", "global magnitude pruning masks", ("global_magnitude_masks",),
          reference={"global_magnitude_masks": _global_magnitude_masks})
def check_h3(f):
    fn = f["global_magnitude_masks"]
    for sparsity in (0.9, 0.5, 0.0):
        model = _h3_model()
        weights = {n: m.weight.detach().clone() for n, m in model.named_modules() if isinstance(m, nn.Linear)}
        out = call(fn, model, sparsity)
        if not isinstance(out, dict) or set(out) != set(weights):
            got_keys = sorted(out) if isinstance(out, dict) else type(out).__name__
            raise Mistake(f"return a dict {{layer name: mask}} for every nn.Linear, here keys {sorted(weights)}, "
                          f"got {got_keys}")
        masks = {}
        for name, w in weights.items():
            m = as_tensor(out[name], f"the mask of {name}")
            if m.shape != w.shape:
                raise Mistake(f"the mask of {name} should have the weight's shape {tuple(w.shape)}, got {tuple(m.shape)}")
            if not bool(((m == 0) | (m == 1)).all()):
                raise Mistake(f"a mask holds only 0 (pruned) and 1 (kept); the mask of {name} has other values")
            masks[name] = m
        n_total = sum(w.numel() for w in weights.values())
        n_zero = sum(int((m == 0).sum()) for m in masks.values())
        expected = round(sparsity * n_total)
        if abs(n_zero - expected) > 1:
            if abs(n_zero - round((1 - sparsity) * n_total)) <= 1 and sparsity != 0.5:
                raise Mistake(f"the mask keeps the wrong fraction: sparsity={sparsity:g} is the fraction set to ZERO, "
                              f"so {sparsity:.0%} of the weights should be pruned; yours prunes {n_zero / n_total:.0%}")
            raise Mistake(f"at sparsity={sparsity:g} the masks should zero {expected} of {n_total} weights "
                          f"({sparsity:.0%}), yours zero {n_zero}")
        if sparsity == 0:
            continue
        kept = torch.cat([weights[n][masks[n] == 1].abs().double() for n in weights])
        pruned_signed = torch.cat([weights[n][masks[n] == 0].double() for n in weights])
        pruned = pruned_signed.abs()
        if len(kept) and len(pruned) and float(pruned.max()) > float(kept.min()) + 1e-12:
            if float(pruned_signed.max()) <= float(torch.cat([weights[n][masks[n] == 1] for n in weights]).min()):
                raise Mistake("the weights are ranked by their signed value: rank by magnitude |w|, large negative "
                              "weights matter as much as large positive ones")
            per_layer = [_fraction(m) for m in masks.values()]
            if all(abs(p - sparsity) < 0.02 for p in per_layer):
                raise Mistake("every layer is pruned to the same sparsity (layer-wise pruning): rank the weights of "
                              "all layers together and cut at one global threshold")
            if float(pruned.min()) >= float(kept.max()) - 1e-12:
                raise Mistake("the mask prunes the LARGEST weights: keep the largest |w|, prune the smallest")
            raise Mistake("some pruned weights are larger in magnitude than some kept ones: prune exactly the "
                          "smallest |w| over all layers")


# ------------------------------------------------------------------------------ H4
def _movement_scores(weights, grads):
    return -sum(w * g for w, g in zip(weights, grads))


def _movement_mask(scores, sparsity):
    k = round((1 - float(sparsity)) * scores.numel())
    mask = torch.zeros(scores.numel(), dtype=scores.dtype)
    mask[scores.flatten().topk(k).indices] = 1
    return mask.reshape(scores.shape)


@register("H4", "movement pruning scores", ("movement_scores", "movement_mask"),
          reference={"movement_scores": _movement_scores, "movement_mask": _movement_mask})
def check_h4(f):
    scores_fn, mask_fn = f["movement_scores"], f["movement_mask"]
    g = _gen(4)
    steps = 5
    w0 = torch.randn(6, 8, generator=g, dtype=torch.float64)
    drift = torch.randn(6, 8, generator=g, dtype=torch.float64) * 0.3
    weights = [w0 + i * drift for i in range(steps)]
    grads = [-drift + 0.5 * torch.randn(6, 8, generator=g, dtype=torch.float64) for _ in range(steps)]
    out = call(scores_fn, [w.clone() for w in weights], [gr.clone() for gr in grads])
    got = as_tensor(out, "movement_scores(weights, grads)")
    want = _movement_scores(weights, grads)
    if got.shape != want.shape:
        raise Mistake(f"movement_scores should return one score per weight, shape {tuple(want.shape)}, "
                      f"got {tuple(got.shape)}")
    # Only the ranking matters, so any positive multiple (a mean instead of a sum) is accepted.
    ratio = float((got * want).sum() / (want * want).sum())
    if not (ratio > 0 and close(got, ratio * want)):
        variants = {"sign": -want, "abs": want.abs(), "last": -weights[-1] * grads[-1],
                    "abs_last": (weights[-1] * grads[-1]).abs(), "magnitude": weights[-1].abs(),
                    "first": -weights[0] * grads[0]}
        for name, v in list(variants.items()):
            variants[name + "/mean"] = v / steps
        key = first_match(got, variants)
        key = key.split("/")[0] if key else None
        raise Mistake({
            "sign": "the sign is flipped: gradient descent moves W by -lr * grad, so a weight moving AWAY from zero "
                    "has W * grad < 0; the score is -sum_t W_t * grad_t",
            "abs": "do not take |.|: a weight shrinking towards zero must get a negative score so that it is pruned",
            "abs_last": "do not take |.|, and accumulate over every step",
            "last": "only the last step is used: accumulate -W_t * grad_t over every step of fine-tuning",
            "first": "only the first step is used: accumulate -W_t * grad_t over every step of fine-tuning",
            "magnitude": "that is the magnitude |W|: movement scores come from weights times gradients",
        }.get(key, "movement_scores should be -sum_t W_t * grad_t over the steps (elementwise)"))
    scores = torch.randn(10, 12, generator=g, dtype=torch.float64)
    for sparsity in (0.75, 0.3):
        got = as_tensor(call(mask_fn, scores.clone(), sparsity), "movement_mask(scores, sparsity)")
        want = _movement_mask(scores, sparsity)
        if close(got, want):
            continue
        if got.shape != want.shape:
            raise Mistake(f"movement_mask should have the shape of scores {tuple(want.shape)}, got {tuple(got.shape)}")
        if close(got, _movement_mask(-scores, sparsity)):
            raise Mistake("the mask keeps the LOWEST scores: keep the highest scores, prune the lowest")
        if close(got, _movement_mask(scores.abs(), sparsity)):
            raise Mistake("the mask ranks |score|: movement pruning keeps the highest signed scores (a very negative "
                          "score means the weight is heading to zero)")
        if close(got, _movement_mask(scores, 1 - sparsity)):
            raise Mistake(f"the mask keeps the wrong fraction: sparsity={sparsity:g} is the fraction pruned, so keep "
                          f"{1 - sparsity:.0%} of the weights")
        raise Mistake(f"at sparsity={sparsity:g} the mask should keep the {1 - sparsity:.0%} of weights with the "
                      f"highest scores (1 = kept, 0 = pruned)")


# ------------------------------------------------------------------------------ H5
def _quantize_symmetric(w, bits=8):
    qmax = 2 ** (bits - 1) - 1
    scale = (w.abs().amax(dim=1, keepdim=True) / qmax).clamp_min(1e-12)
    q = torch.clamp(torch.round(w / scale), -qmax, qmax).to(torch.int8 if bits <= 8 else torch.int32)
    return q, scale


def _dequantize(q, scale):
    return q.to(scale.dtype) * scale


def _quantization_error(w, bits=8):
    q, scale = _quantize_symmetric(w, bits)
    return float(((_dequantize(q, scale) - w) ** 2).mean())


@register("H5", "symmetric per-channel quantization", ("quantize_symmetric", "dequantize", "quantization_error"),
          reference={"quantize_symmetric": _quantize_symmetric, "dequantize": _dequantize,
                     "quantization_error": _quantization_error})
def check_h5(f):
    quant, dequant, err_fn = f["quantize_symmetric"], f["dequantize"], f["quantization_error"]
    g = _gen(5)
    rows, cols = 6, 16
    w = torch.randn(rows, cols, generator=g) * (10.0 ** torch.arange(-2, rows - 2)).reshape(-1, 1)
    w = w.float()
    for bits in (8, 4, 2):
        qmax = 2 ** (bits - 1) - 1
        w_in = w.clone()
        out = call(quant, w_in, bits)
        if not torch.equal(w_in, w):
            raise Mistake("quantize_symmetric changed w in place: compute q from w without modifying it")
        if not (isinstance(out, tuple) and len(out) == 2):
            raise Mistake("quantize_symmetric should return a pair (q, scale)")
        q, scale = as_tensor(out[0], "q"), as_tensor(out[1], "scale")
        if q.shape != w.shape:
            raise Mistake(f"q should have the shape of w {tuple(w.shape)}, got {tuple(q.shape)}")
        if scale.numel() == 1:
            raise Mistake("one scale for the whole tensor (per-tensor): use one symmetric scale per output channel "
                          "(row), max|w_row| / (2^(bits-1) - 1), or small rows lose all their precision")
        if scale.numel() != rows:
            raise Mistake(f"scale should hold one value per row ({rows}), got shape {tuple(scale.shape)}")
        scale = scale.reshape(-1, 1)
        maxabs = w.double().abs().amax(1, keepdim=True)
        want_scale = maxabs / qmax
        if not close(scale, want_scale, rtol=1e-5):
            wrong = first_match(scale, {
                "asym": (w.double().amax(1, keepdim=True) - w.double().amin(1, keepdim=True)) / (2 ** bits - 1),
                "pow": maxabs / 2 ** (bits - 1), "full": maxabs / (2 ** bits - 1),
                "inverse": qmax / maxabs}, rtol=1e-5)
            raise Mistake({
                "asym": "that is the asymmetric (min/max) scale: the symmetric scheme uses max|w| / (2^(bits-1) - 1) "
                        "with zero point 0",
                "pow": f"divide max|w| by 2^(bits-1) - 1 = {qmax} (not {2 ** (bits - 1)}), so that +-max|w| maps "
                       f"exactly onto +-{qmax}",
                "full": f"divide max|w| by 2^(bits-1) - 1 = {qmax}: a symmetric signed grid has {qmax} levels on "
                        f"each side of zero",
                "inverse": "the scale is upside down: scale = max|w| / (2^(bits-1) - 1), and q = round(w / scale)",
            }.get(wrong, f"at {bits} bits the scale of each row should be max|w_row| / {qmax}"))
        if not bool((q == q.round()).all()):
            raise Mistake("q must hold whole numbers: round(w / scale)")
        if float(q.abs().max()) > qmax:
            raise Mistake(f"q must lie in [-{qmax}, {qmax}] at {bits} bits: clamp it")
        want_q = torch.clamp(torch.round(w.double() / want_scale), -qmax, qmax)
        if not close(q, want_q):
            def n_diff(other):
                return int((q != other).sum())
            ratio = w.double() / want_scale
            if min(n_diff(torch.trunc(ratio)), n_diff(torch.floor(ratio))) <= 2:
                raise Mistake("q is truncated (floor/int): round to the NEAREST level (torch.round), so the error per "
                              "weight stays within scale / 2")
            if int((q != want_q).sum()) <= 2:
                pass  # a tie at .5 rounded the other way: harmless
            else:
                raise Mistake("q should be round(w / scale), clamped to the grid")
        w_hat = as_tensor(call(dequant, out[0], out[1]), "dequantize(q, scale)")
        if not close(w_hat, q * scale, rtol=1e-5, atol=1e-9):
            if w_hat.shape == q.shape and close(w_hat, q / scale, rtol=1e-5):
                raise Mistake("dequantize should multiply by the scale: w_hat = q * scale")
            raise Mistake("dequantize(q, scale) should give q * scale (each row times its own scale; keep the scale "
                          "shaped (rows, 1) so it broadcasts over the row)")
        if float((w_hat - w.double()).abs().max()) > float(scale.max()) / 2 * 1.001 + 1e-7:
            raise Mistake("the round trip errs by more than scale / 2 somewhere: round to the nearest level")
        got_e = as_float(call(err_fn, w.clone(), bits), f"quantization_error(w, {bits})")
        want_e = _quantization_error(w.double(), bits)
        if abs(got_e - want_e) > 1e-4 * want_e + 1e-12:
            diff = (torch.as_tensor(_dequantize(*_quantize_symmetric(w.double(), bits))) - w.double())
            if abs(got_e - float(diff.pow(2).mean().sqrt())) <= 1e-4 * abs(got_e):
                raise Mistake("quantization_error should be the mean squared error, not its square root")
            if abs(got_e - float(diff.abs().max())) <= 1e-4 * abs(got_e):
                raise Mistake("quantization_error should be the MEAN squared error, not the largest absolute error")
            if abs(got_e - float(diff.abs().mean())) <= 1e-4 * abs(got_e):
                raise Mistake("quantization_error should be the mean SQUARED error, not the mean absolute error")
            raise Mistake(f"quantization_error(w, {bits}) should be the mean squared error of the round trip, "
                          f"{want_e:.3g}, got {got_e:.3g}")
    zero = torch.zeros(3, 5)
    zero[0] = torch.linspace(-1, 1, 5)
    q, scale = call(quant, zero.clone(), 8)
    w_hat = as_tensor(call(dequant, q, scale), "dequantize(q, scale)")
    if not bool(torch.isfinite(w_hat).all()) or not close(w_hat[1:], torch.zeros(2, 5)):
        raise Mistake("a row of zeros gives scale 0 and 0 / 0 = nan: clamp the scale to a tiny positive minimum")


# ------------------------------------------------------------------------------ H6
class _TernarySTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w):
        delta = 0.7 * w.abs().mean()
        keep = w.abs() > delta
        a = w.abs()[keep].mean() if keep.any() else w.new_zeros(())
        return a * torch.sign(w) * keep

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def _ternarize(w):
    return _TernarySTE.apply(w)


@register("H6", "ternary weights with a straight-through estimator", ("ternarize",),
          reference={"ternarize": _ternarize})
def check_h6(f):
    fn = f["ternarize"]
    g = _gen(6)
    w = (torch.randn(8, 10, generator=g, dtype=torch.float64) * 0.3).clamp(-0.95, 0.95)
    absw = w.abs()
    delta = 0.7 * absw.mean()
    keep = absw > delta
    a = absw[keep].mean()
    want = a * torch.sign(w) * keep
    w_req = w.clone().requires_grad_(True)
    out = call(fn, w_req)
    got = as_tensor(out, "ternarize(w)")
    if not close(got, want):
        if got.shape != want.shape:
            raise Mistake(f"ternarize should return a tensor of w's shape {tuple(w.shape)}, got {tuple(got.shape)}")
        levels = torch.unique(got.abs().round(decimals=9))
        if len(levels) > 2:
            raise Mistake(f"the output should take only three values -a, 0, +a; yours has {len(torch.unique(got))} "
                          "distinct values")
        keep_max = absw > 0.7 * absw.max()
        wrong = first_match(got, {
            "a_all": absw.mean() * torch.sign(w) * keep, "a_one": torch.sign(w) * keep.double(),
            "a_delta": delta * torch.sign(w) * keep,
            "delta_max": absw[keep_max].mean() * torch.sign(w) * keep_max,
            "delta_raw": absw[absw > 0.7].mean() * torch.sign(w) * (absw > 0.7) if bool((absw > 0.7).any()) else
            torch.full_like(w, float("nan")),
            "flip": -want})
        raise Mistake({
            "a_all": "a is the mean |w| of the weights that stay non-zero (|w| > delta), not of all weights",
            "a_one": "the output is only the sign pattern: scale it by a = mean |w| over the kept weights",
            "a_delta": "the non-zero level a is the mean |w| of the kept weights, not the threshold delta",
            "delta_max": "the threshold is delta = 0.7 * MEAN |w|, not 0.7 * max |w|",
            "delta_raw": "the threshold is delta = 0.7 * mean |w| (relative to the weights), not the constant 0.7",
            "flip": "the signs are flipped: positive weights map to +a",
        }.get(wrong, "ternarize(w) should give a * sign(w) where |w| > delta and 0 elsewhere, with "
                     "delta = 0.7 * mean|w| and a = mean |w| over the kept weights"))
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise Mistake("the output is cut off from w (no grad_fn): wrap the forward in a torch.autograd.Function "
                      "whose backward passes the gradient through")
    upstream = torch.randn(8, 10, generator=g, dtype=torch.float64)
    out.backward(upstream)
    grad = w_req.grad
    if grad is None or float(grad.abs().sum()) == 0.0:
        raise Mistake("the gradient is blocked (zero): rounding has zero derivative almost everywhere, so the "
                      "straight-through estimator's backward must return grad_output unchanged")
    if not close(grad, upstream):
        if not isinstance(out.grad_fn, torch.autograd.function.BackwardCFunction):
            raise Mistake("the gradient is blocked: sign and threshold have zero derivative almost everywhere; wrap "
                          "the forward in a torch.autograd.Function whose backward returns grad_output unchanged")
        if close(grad, upstream * want) or close(grad, upstream * torch.sign(w)):
            raise Mistake("backward multiplies the gradient by the ternary values: the straight-through estimator "
                          "passes grad_output through unchanged")
        if close(grad * (keep.double()), grad) and close(grad, upstream * keep):
            raise Mistake("backward zeroes the gradient of the pruned (zero) weights: the STE passes every "
                          "gradient through, so zeroed weights can come back")
        raise Mistake("backward should return grad_output unchanged (the straight-through estimator)")


# ------------------------------------------------------------------------------ H7
def _low_rank_linear(layer, rank):
    U, S, Vh = torch.linalg.svd(layer.weight.detach(), full_matrices=False)
    first = nn.Linear(layer.in_features, rank, bias=False)
    second = nn.Linear(rank, layer.out_features, bias=layer.bias is not None)
    with torch.no_grad():
        first.weight.copy_(S[:rank, None] * Vh[:rank])
        second.weight.copy_(U[:, :rank])
        if layer.bias is not None:
            second.bias.copy_(layer.bias.detach())
    return nn.Sequential(first, second)


def _low_rank_flops(in_features, out_features, rank):
    return 2 * rank * (in_features + out_features) + out_features


@register("H7", "SVD low-rank layer and its FLOPs", ("low_rank_linear", "low_rank_flops"),
          reference={"low_rank_linear": _low_rank_linear, "low_rank_flops": _low_rank_flops})
def check_h7(f):
    lr_fn, flops_fn = f["low_rank_linear"], f["low_rank_flops"]
    torch.manual_seed(7)
    m_in, m_out = 12, 9
    layer = nn.Linear(m_in, m_out)
    original = {k: v.clone() for k, v in layer.state_dict().items()}
    W, b = layer.weight.detach().double(), layer.bias.detach().double()
    U, S, Vh = torch.linalg.svd(W, full_matrices=False)
    x = torch.randn(5, m_in, generator=_gen(7))
    for rank in (3, 1, m_out):
        module = call(lr_fn, layer, rank)
        if not isinstance(module, nn.Module):
            raise Mistake(f"low_rank_linear should return an nn.Module, got {type(module).__name__}")
        if any(not torch.equal(v, layer.state_dict()[k]) for k, v in original.items()):
            raise Mistake("low_rank_linear changed the original layer: read its weight, do not modify it")
        with torch.no_grad():
            got = as_tensor(call(module, x.clone()), "the low-rank module's output")
        W_r = (U[:, :rank] * S[:rank]) @ Vh[:rank]
        want = x.double() @ W_r.T + b
        if not close(got, want, rtol=1e-4, atol=1e-5):
            if got.shape != want.shape:
                raise Mistake(f"the low-rank module should map (N, {m_in}) to (N, {m_out}), got {tuple(got.shape)}")
            wrong = first_match(got, {
                "full": x.double() @ W.T + b,
                "smallest": x.double() @ ((U[:, -rank:] * S[-rank:]) @ Vh[-rank:]).T + b,
                "nobias": x.double() @ W_r.T,
                "noS": x.double() @ (U[:, :rank] @ Vh[:rank]).T + b,
                "S2": x.double() @ ((U[:, :rank] * S[:rank] ** 2) @ Vh[:rank]).T + b,
            }, rtol=1e-4, atol=1e-5)
            raise Mistake({
                "full": f"the layer is not truncated: keep only the first rank={rank} singular values and vectors",
                "smallest": "you kept the SMALLEST singular values: torch.linalg.svd sorts them in descending order, "
                            "so keep the first r",
                "nobias": "the bias was dropped: put the original bias on the second factor",
                "noS": "the singular values are missing: fold S into one of the two factors (e.g. S[:r, None] * Vh[:r])",
                "S2": "S is used twice: fold it into only one of the two factors",
            }.get(wrong, f"at rank {rank} the module should compute x @ (U_r S_r V_r^T)^T + bias, the best rank-r "
                         f"approximation of the weight"))
        n_params = sum(p.numel() for p in module.parameters())
        budget = rank * (m_in + m_out) + m_out
        if n_params > budget:
            raise Mistake(f"the module stores {n_params} parameters; a rank-{rank} factorisation needs only "
                          f"r(m + n) + m = {budget}: use two Linear layers, n -> r (no bias) and r -> m (with bias)")
    for args in ((12, 9, 3), (64, 32, 8), (100, 10, 1)):
        got = call(flops_fn, *args)
        want = _low_rank_flops(*args)
        try:
            got = int(round(float(got)))
        except (TypeError, ValueError):
            raise Mistake(f"low_rank_flops should return a number, got {type(got).__name__}") from None
        if got == want:
            continue
        n, m, r = args
        raise Mistake({
            r * (n + m) + m: "a multiply-add counts as 2 FLOPs (as models.flops counts): 2 r (n + m) + m",
            r * (n + m): "a multiply-add counts as 2 FLOPs, and the m bias additions count once: 2 r (n + m) + m",
            2 * r * (n + m): "the bias additions are missing: add out_features (m) once, 2 r (n + m) + m",
            2 * n * m + m: "that is the dense layer's count 2 n m + m: the factorised layer costs 2 r (n + m) + m",
            2 * r * n * m + m: "the two factors run one after the other, so their costs add: 2 r n + 2 r m (+ m bias)",
        }.get(got, f"low_rank_flops{args} should be {want} = 2 r (n + m) + m, got {got}"))
