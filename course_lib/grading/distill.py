"""Checks for the distillation exercises: H1 (softmax at T, entropy), H2 (KD loss and its
gradient), H11 (fitting T against B), H12 (RKD distance loss), H13 (the LwF loss)."""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from ._core import LearnerError, Mistake, as_float, as_tensor, call, close, first_match, register


def _gen(seed):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------ H1
def _softmax_t(logits, T=1.0):
    return torch.softmax(logits / T, dim=-1)


def _entropy(probs):
    return -torch.special.xlogy(probs, probs).sum(-1)


@register("H1", "softmax with temperature and entropy", ("softmax_t", "entropy"),
          reference={"softmax_t": _softmax_t, "entropy": _entropy})
def check_h1(f):
    softmax_t, entropy = f["softmax_t"], f["entropy"]
    logits = torch.randn(5, 7, generator=_gen(1)) * 3
    for T in (1.0, 4.0, 0.5):
        got = as_tensor(call(softmax_t, logits.clone(), T), "softmax_t(logits, T)")
        want = _softmax_t(logits.double(), T)
        if close(got, want):
            continue
        if got.shape != want.shape:
            raise Mistake(f"softmax_t should return one probability per logit, shape {tuple(want.shape)}, "
                          f"got {tuple(got.shape)}")
        wrong = first_match(got, {
            "times": torch.softmax(logits.double() * T, -1),
            "axis": torch.softmax(logits.double() / T, 0),
            "ignored": torch.softmax(logits.double(), -1),
        })
        if wrong == "times":
            raise Mistake("you multiplied the logits by T: divide them by T (a higher T must flatten the distribution)")
        if wrong == "axis":
            raise Mistake("softmax over the wrong axis: classes are on the last axis (dim=-1), so every ROW must sum to 1")
        if wrong == "ignored":
            raise Mistake(f"T is ignored: at T={T:g} the result equals the T=1 softmax; divide the logits by T")
        if not close(got.sum(-1), torch.ones(len(got))):
            raise Mistake("the rows of softmax_t(logits, T) do not sum to 1: normalise over the class axis (dim=-1)")
        raise Mistake(f"softmax_t(logits, T={T:g}) gives wrong probabilities: first row expected "
                      f"{np.round(want[0].numpy(), 3).tolist()}, got {np.round(got[0].numpy(), 3).tolist()}")
    x = logits.clone()
    call(softmax_t, x, 4.0)
    if not torch.equal(x, logits):
        raise Mistake("softmax_t changed the logits it was given (in place, e.g. logits /= T): compute on a new "
                      "tensor, logits / T, so the caller's logits survive")
    for T, what in ((0.01, "a very low temperature (T=0.01)"), (1000.0, "a very high temperature (T=1000)")):
        got = as_tensor(call(softmax_t, logits.clone(), T), f"softmax_t(logits, {T:g})")
        if not close(got, _softmax_t(logits.double(), T), atol=1e-5):
            if not bool(torch.isfinite(got).all()):
                raise Mistake(f"at {what} your probabilities contain nan or inf: logits / T overflows exp(); "
                              f"subtract each row's maximum before exp (torch.softmax does it for you)")
            raise Mistake(f"at {what} the probabilities are wrong: expected almost one-hot at T=0.01 and almost "
                          f"uniform at T=1000 (divide the logits by T)")
    row = torch.tensor([0.5, -1.0, 2.0, 0.0])
    try:
        got = as_tensor(call(softmax_t, row.clone(), 2.0), "softmax_t(row, T)")
    except LearnerError as e:
        raise Mistake(f"softmax_t must also work on a single row (a 1-D tensor): use dim=-1, not dim=1 "
                      f"(on a 1-D input it raised {type(e.exc).__name__})") from None
    if not close(got, _softmax_t(row.double(), 2.0)):
        raise Mistake("softmax_t must also work on a single row (a 1-D tensor): use dim=-1, not dim=1")
    big = torch.tensor([[1000.0, 0.0, -1000.0]])
    got = as_tensor(call(softmax_t, big.clone(), 1.0), "softmax_t(large logits, 1)")
    if not close(got, torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)):
        raise Mistake("large logits (1000) overflow: exp(1000) is inf and inf/inf is nan; subtract each row's "
                      "maximum before exp (torch.softmax does this for you)")

    probs = _softmax_t(logits.double(), 2.0).float()
    got = as_tensor(call(entropy, probs.clone()), "entropy(probs)")
    want = _entropy(probs.double())
    if not close(got, want):
        if got.numel() == 1 or got.shape != want.shape:
            raise Mistake(f"entropy should give one value per row (sum over the last axis), shape "
                          f"{tuple(want.shape)}, got {tuple(got.shape)}")
        wrong = first_match(got, {"bits": want / math.log(2), "sign": -want})
        if wrong == "bits":
            raise Mistake("entropy is in bits (log2): use the natural log, so the answer is in nats")
        if wrong == "sign":
            raise Mistake("entropy has the wrong sign: H = -sum p log p, which is >= 0")
        raise Mistake(f"entropy(probs) is wrong: expected {np.round(want.numpy(), 4).tolist()}, "
                      f"got {np.round(got.numpy(), 4).tolist()}")
    onehot = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    got = as_tensor(call(entropy, onehot.clone()), "entropy(probs with zeros)")
    if not close(got, _entropy(onehot.double())):
        raise Mistake("probabilities equal to 0 give nan (0 * log 0): count 0 log 0 as 0, e.g. "
                      "torch.special.xlogy(p, p) or p * log(p.clamp_min(1e-12))")


# ------------------------------------------------------------------------------ H2
def _kl(s, t, T, *, reverse=False, reduction="batchmean", dim=-1):
    ls, lt = F.log_softmax(s / T, dim=dim), F.log_softmax(t / T, dim=dim)
    if reverse:
        ls, lt = lt, ls
    with warnings.catch_warnings():  # reduction="mean" is one of the mistakes we reproduce
        warnings.simplefilter("ignore")
        return F.kl_div(ls, lt, reduction=reduction, log_target=True)


def _distillation_loss(student_logits, teacher_logits, labels, *, T=4.0, alpha=0.5):
    soft = T * T * _kl(student_logits, teacher_logits, T)
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


def _soft_loss_grad(student_logits, teacher_logits, *, T=4.0):
    p_s, p_t = torch.softmax(student_logits / T, -1), torch.softmax(teacher_logits / T, -1)
    return T * (p_s - p_t) / len(student_logits)


@register("H2", "distillation loss", ("distillation_loss", "soft_loss_grad"),
          reference={"distillation_loss": _distillation_loss, "soft_loss_grad": _soft_loss_grad})
def check_h2(f):
    loss_fn, grad_fn = f["distillation_loss"], f["soft_loss_grad"]
    g = _gen(2)
    s = torch.randn(6, 5, generator=g, dtype=torch.float64) * 2
    t = torch.randn(6, 5, generator=g, dtype=torch.float64) * 3
    y = torch.randint(0, 5, (6,), generator=g)

    def learner(T, alpha):
        out = call(loss_fn, s.clone(), t.clone(), y.clone(), T=T, alpha=alpha)
        return as_float(out, f"distillation_loss(..., T={T:g}, alpha={alpha:g})")

    # The soft term alone (alpha = 1), at several temperatures.
    Ts = (1.0, 2.0, 4.0)
    got = torch.tensor([learner(T, 1.0) for T in Ts], dtype=torch.float64)
    want = torch.tensor([T * T * _kl(s, t, T) for T in Ts])
    # Soft cross-entropy instead of KL differs by T^2 * H(teacher_T), a constant with the same gradient: accepted
    # here and in H13 alike (one decision for the course).
    soft_ce = torch.tensor([T * T * _teacher_entropy(t, T) for T in Ts])
    accept_ce = close(got, want + soft_ce)
    if not close(got, want) and not accept_ce:
        variants = {}
        for scale_name, scale in (("T^2", lambda T: T * T), ("T", lambda T: T), ("1", lambda T: 1.0)):
            for direction in (False, True):
                for red in ("batchmean", "mean", "sum"):
                    for dim in (-1, 0):
                        key = (scale_name, direction, red, dim)
                        variants[key] = torch.tensor([scale(T) * _kl(s, t, T, reverse=direction, reduction=red,
                                                                      dim=dim) for T in Ts])
        ce = F.cross_entropy(s, y)
        variants[("swap",)] = torch.stack([ce] * len(Ts))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            variants[("probs",)] = torch.stack([T * T * F.kl_div(torch.softmax(s / T, -1), torch.softmax(t / T, -1),
                                                                 reduction="batchmean") for T in Ts])
            variants[("probs_log",)] = torch.stack([T * T * F.kl_div(torch.softmax(s / T, -1),
                                                                     F.log_softmax(t / T, -1), reduction="batchmean",
                                                                     log_target=True) for T in Ts])
            variants[("target_log",)] = torch.stack([T * T * F.kl_div(F.log_softmax(s / T, -1),
                                                                      F.log_softmax(t / T, -1),
                                                                      reduction="batchmean") for T in Ts])
            variants[("oneside_s",)] = torch.stack([T * T * _kl2(s, t, T, 1.0) for T in Ts])
            variants[("oneside_t",)] = torch.stack([T * T * _kl2(s, t, 1.0, T) for T in Ts])
        key = first_match(got, variants)
        if key in (("probs",), ("probs_log",)):
            raise Mistake("F.kl_div's first argument must be the student's LOG-probabilities: use "
                          "F.log_softmax(student_logits / T, dim=-1), not softmax (probabilities where "
                          "log-probabilities belong)")
        if key == ("target_log",):
            raise Mistake("the teacher is given as log-probabilities but F.kl_div expects probabilities by default: "
                          "pass log_target=True (or give it F.softmax(teacher_logits / T))")
        if key == ("oneside_s",):
            raise Mistake("T is applied to the student only: soften the teacher's logits at the same T")
        if key == ("oneside_t",):
            raise Mistake("T is applied to the teacher only: soften the student's logits at the same T")
        if key == ("swap",):
            raise Mistake("alpha weighs the wrong term: with alpha=1 the loss should be the soft (teacher) term "
                          "only; loss = alpha * soft + (1 - alpha) * hard")
        if key is None:
            raise Mistake(f"with alpha=1 the loss should be T^2 * KL(teacher_T || student_T); at T=1, 2, 4 expected "
                          f"{np.round(want.numpy(), 4).tolist()}, got {np.round(got.numpy(), 4).tolist()}")
        scale_name, reverse, red, dim = key
        if dim == 0:
            raise Mistake("softmax over the wrong axis: the classes are the last axis (dim=-1), not the batch")
        if reverse:
            raise Mistake("KL is taken the wrong way round: the teacher is the target, KL(teacher || student); "
                          "F.kl_div(student_log_probs, teacher_log_probs, log_target=True) computes exactly that")
        if red == "mean":
            raise Mistake("reduction='mean' also divides by the number of classes: use reduction='batchmean' "
                          "(sum over classes, mean over examples)")
        if red == "sum":
            raise Mistake("the soft term is summed over the batch: average over examples (reduction='batchmean')")
        if scale_name == "1":
            raise Mistake("the T^2 factor is missing: without it the soft term's gradient shrinks as 1/T^2, "
                          "so multiply the KL by T*T")
        raise Mistake("the soft term is multiplied by T, not by T^2 (T*T)")

    # The hard term alone (alpha = 0).
    got0 = learner(4.0, 0.0)
    ce = float(F.cross_entropy(s, y))
    if not math.isclose(got0, ce, rel_tol=1e-4, abs_tol=1e-6):
        if math.isclose(got0, float(F.cross_entropy(s / 4.0, y)), rel_tol=1e-4):
            raise Mistake("the hard-label term must use the student at T=1 (plain cross-entropy of the logits), "
                          "not the softened student")
        if math.isclose(got0, float(16 * _kl(s, t, 4.0)), rel_tol=1e-4):
            raise Mistake("alpha weighs the wrong term: with alpha=0 the loss should be the hard-label "
                          "cross-entropy only; loss = alpha * soft + (1 - alpha) * hard")
        raise Mistake(f"with alpha=0 the loss should be the cross-entropy with the labels, {ce:.4f}, got {got0:.4f}")
    for T, alpha in ((3.0, 0.3), (2.0, 0.8)):
        got_mix, want_mix = learner(T, alpha), float(_distillation_loss(s, t, y, T=T, alpha=alpha))
        if accept_ce:
            want_mix += alpha * T * T * float(_teacher_entropy(t, T))
        if not math.isclose(got_mix, want_mix, rel_tol=1e-4, abs_tol=1e-6):
            raise Mistake(f"the mix is wrong: at T={T:g}, alpha={alpha:g} expected alpha * soft + (1 - alpha) * hard "
                          f"= {want_mix:.4f}, got {got_mix:.4f}")
    # Extreme logits (scale 300): log(softmax) underflows to log 0 = -inf and the loss turns inf or nan.
    big_s, big_t = s * 150, t * 100
    out = as_float(call(loss_fn, big_s.clone(), big_t.clone(), y.clone(), T=1.0, alpha=0.5),
                   "distillation_loss(extreme logits)")
    if not math.isfinite(out):
        raise Mistake("with extreme logits (about +-300) your loss is inf or nan: log(softmax(z)) underflows to "
                      "log 0; use F.log_softmax, which stays finite")
    # The loss must be differentiable with respect to the student's logits.
    s_req = s.clone().requires_grad_(True)
    out = call(loss_fn, s_req, t.clone(), y.clone(), T=2.0, alpha=0.5)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise Mistake("the loss must be a tensor still connected to the student's logits (no .item(), "
                      "float() or numpy inside), or training cannot backpropagate through it")

    # The analytic gradient of the soft term, against autograd.
    for T in (1.0, 4.0):
        s_req = s.clone().requires_grad_(True)
        (T * T * _kl(s_req, t, T)).backward()
        want_g = s_req.grad
        got_g = as_tensor(call(grad_fn, s.clone(), t.clone(), T=T), f"soft_loss_grad(..., T={T:g})")
        if close(got_g, want_g):
            continue
        if got_g.shape != want_g.shape:
            raise Mistake(f"soft_loss_grad should have the shape of the student logits {tuple(want_g.shape)}, "
                          f"got {tuple(got_g.shape)}")
        ps, pt = torch.softmax(s / T, -1), torch.softmax(t / T, -1)
        n = len(s)
        wrong = first_match(got_g, {
            "sign": -want_g, "noT": (ps - pt) / n, "noT2": (ps - pt) / (n * T), "noN": T * (ps - pt),
            "T2": T * T * (ps - pt) / n})
        if T == 1.0 and wrong in ("noT", "noT2", "T2"):
            continue  # indistinguishable at T = 1; the T = 4 case decides
        msg = {
            "sign": "the gradient has the wrong sign: d(loss)/d(student logits) = T * (p_student - p_teacher) / N",
            "noT": "one factor of T is missing: T^2 from the loss times 1/T from the chain rule through z/T leaves "
                   "T * (p_student - p_teacher) / N",
            "noT2": "this is the gradient WITHOUT the T^2 factor (it shrinks as 1/T); the soft loss carries T^2, so "
                    "the gradient is T * (p_student - p_teacher) / N",
            "noN": "batchmean averages over the N examples: divide the gradient by the batch size N",
            "T2": "the chain rule through z/T contributes 1/T: the gradient is T * (p_student - p_teacher) / N, "
                  "not T^2 * (...)",
        }.get(wrong, f"soft_loss_grad at T={T:g} does not match autograd (largest difference "
                     f"{float((got_g - want_g).abs().max()):.3g})")
        raise Mistake(msg)


def _teacher_entropy(t, T):
    p = torch.softmax(t / T, -1)
    return -torch.special.xlogy(p, p).sum(-1).mean()


def _kl2(s, t, T_s, T_t):
    return F.kl_div(F.log_softmax(s / T_s, -1), F.log_softmax(t / T_t, -1), reduction="batchmean", log_target=True)


# ------------------------------------------------------------------------------ H11
def _fit_power_law(x, y):
    x, y = np.asarray(x, float), np.asarray(y, float)
    slope, intercept = np.polyfit(np.log(x), np.log(y), 1)
    return float(slope), float(np.exp(intercept))


@register("H11", "fitting T against batch size", ("fit_power_law",), reference={"fit_power_law": _fit_power_law})
def check_h11(f):
    fit = f["fit_power_law"]
    B = np.array([8, 16, 32, 64, 128, 256, 512], dtype=float)
    rng = np.random.default_rng(11)
    cases = [(B, 8.0 * B ** -0.25, 1e-4), (B, 3.0 * B ** -0.5 * np.exp(rng.normal(0, 0.05, len(B))), 0.015)]
    for x, y, tol in cases:
        out = call(fit, x.copy(), y.copy())
        try:
            k, c = (float(v) for v in out)
        except (TypeError, ValueError):
            raise Mistake(f"fit_power_law should return two numbers (exponent, coefficient), got {out!r:.80}") from None
        k_ref, c_ref = _fit_power_law(x, y)
        k_ok = abs(k - k_ref) <= tol
        c_ok = abs(c - c_ref) <= 3 * tol * c_ref
        if k_ok and c_ok:
            continue
        if abs(c - k_ref) <= tol and abs(k - c_ref) <= 3 * tol * c_ref:
            raise Mistake("the two numbers are swapped: return (exponent, coefficient)")
        if not k_ok and abs(k - 1 / k_ref) <= 0.2 * abs(1 / k_ref):
            raise Mistake("the axes are swapped: regress log T on log B (y on x), not log B on log T")
        if not k_ok and abs(k - np.polyfit(x, y, 1)[0]) <= 1e-6 + 1e-3 * abs(k):
            raise Mistake("that is the slope of a straight line through the raw numbers: a power law y = c x^k "
                          "is the straight line log y = log c + k log x, so fit in log-log space")
        if k_ok and (abs(c - np.log(c_ref)) <= 0.05 or abs(c - np.log10(c_ref)) <= 0.05):
            raise Mistake("the coefficient is returned as a logarithm (the intercept): return c = exp(intercept)")
        if k_ok and abs(c - np.exp(np.log10(c_ref))) <= 0.05 * c_ref or abs(c - 10 ** np.log(c_ref)) <= 0.05 * c_ref:
            raise Mistake("logarithm bases mixed: if you fit with log10, the coefficient is 10**intercept "
                          "(with np.log it is exp(intercept))")
        if not k_ok:
            raise Mistake(f"exponent {k:.4f}, expected {k_ref:.4f} (least squares of log y against log x)")
        raise Mistake(f"coefficient {c:.4f}, expected {c_ref:.4f}")


# ------------------------------------------------------------------------------ H12
def _pdist(e, *, squared=False):
    d2 = ((e[:, None, :] - e[None, :, :]) ** 2).sum(-1)
    if squared:
        return d2
    n = len(e)
    off = ~torch.eye(n, dtype=torch.bool)
    d = torch.zeros_like(d2)
    d[off] = d2[off].sqrt()
    return d


def _rkd_variant(s, t, *, norm="offdiag", squared=False, loss="huber", average="offdiag"):
    n = len(s)
    off = ~torch.eye(n, dtype=torch.bool)
    ds, dt = _pdist(s, squared=squared), _pdist(t, squared=squared)
    if norm == "offdiag":
        ds, dt = ds / ds[off].mean(), dt / dt[off].mean()
    elif norm == "all":
        ds, dt = ds / ds.mean(), dt / dt.mean()
    a, b = (ds[off], dt[off]) if average == "offdiag" else (ds, dt)
    fn = {"huber": F.smooth_l1_loss, "mse": F.mse_loss, "l1": F.l1_loss}[loss]
    return fn(a, b)


def _rkd_distance_loss(student_feats, teacher_feats):
    return _rkd_variant(student_feats, teacher_feats.detach())


@register("H12", "RKD distance loss", ("rkd_distance_loss",), reference={"rkd_distance_loss": _rkd_distance_loss})
def check_h12(f):
    fn = f["rkd_distance_loss"]
    g = _gen(12)
    s = torch.randn(7, 4, generator=g, dtype=torch.float64)
    t = torch.randn(7, 9, generator=g, dtype=torch.float64) * 2
    n = len(s)
    want = float(_rkd_variant(s, t))
    got = as_float(call(fn, s.clone(), t.clone()), "rkd_distance_loss(student, teacher)")
    # Averaging the Huber loss over all N*N entries (diagonal zeros included) is accepted too.
    if not (math.isclose(got, want, rel_tol=1e-4) or math.isclose(got, want * (n - 1) / n, rel_tol=1e-4)):
        variants = {}
        for norm in ("offdiag", "all", "none"):
            for squared in (False, True):
                for loss in ("huber", "mse", "l1"):
                    for average in ("offdiag", "all"):
                        variants[(norm, squared, loss, average)] = _rkd_variant(s, t, norm=norm, squared=squared,
                                                                                loss=loss, average=average)
        key = first_match(torch.tensor(got, dtype=torch.float64), variants)
        if key is None:
            raise Mistake(f"rkd_distance_loss gives {got:.5f}, expected {want:.5f} (Huber loss between the two "
                          f"matrices of pairwise distances, each divided by its mean over pairs i != j)")
        norm, squared, loss, _ = key
        if norm == "none":
            raise Mistake("the distances are not normalised: divide each distance matrix by its own mean distance, "
                          "so that RKD compares the shape of the two embeddings, not their scale")
        if norm == "all":
            raise Mistake("the mean distance must be taken over pairs i != j: the zeros on the diagonal pull "
                          "your normaliser down by a factor (N-1)/N")
        if squared:
            raise Mistake("these are squared distances: RKD-D uses Euclidean distances ||x_i - x_j||")
        if loss == "mse":
            raise Mistake("use the Huber loss (F.smooth_l1_loss), not the squared error: it is less sensitive to "
                          "outlying pairs")
        raise Mistake("use the Huber loss (F.smooth_l1_loss), not the absolute error")
    scaled = as_float(call(fn, s.clone(), 10 * t.clone()), "rkd_distance_loss(student, 10 * teacher)")
    if not math.isclose(scaled, got, rel_tol=1e-4):
        raise Mistake("scaling the teacher's features by 10 changed your loss: normalise each distance matrix by its "
                      "mean distance")
    s_req = s.clone().requires_grad_(True)
    out = call(fn, s_req, t.clone())
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise Mistake("the loss must be a tensor connected to the student's features (no .item() or numpy)")
    out.backward()
    if s_req.grad is None or not torch.isfinite(s_req.grad).all():
        raise Mistake("the gradient is nan: a row's distance to itself is 0 and sqrt has an infinite slope at 0; "
                      "leave the diagonal out before the square root (or use torch.pdist / torch.cdist)")
    ref = s.clone().requires_grad_(True)
    _rkd_variant(ref, t).backward()
    g_got, g_ref = s_req.grad, ref.grad
    if not (close(g_got, g_ref) or close(g_got, g_ref * (n - 1) / n)):
        raise Mistake("the value is right but the gradient is not: keep the student's distances in the graph "
                      "(no .detach() on the student side)")


# ------------------------------------------------------------------------------ H13
def _lwf_loss(new_logits, labels, old_head_logits, recorded_logits, *, T=2.0, lam=1.0):
    kd = T * T * F.kl_div(F.log_softmax(old_head_logits / T, -1), F.log_softmax(recorded_logits / T, -1),
                          reduction="batchmean", log_target=True)
    return F.cross_entropy(new_logits, labels) + lam * kd


@register("H13", "learning-without-forgetting loss", ("lwf_loss",), reference={"lwf_loss": _lwf_loss})
def check_h13(f):
    fn = f["lwf_loss"]
    g = _gen(13)
    new = torch.randn(8, 3, generator=g, dtype=torch.float64) * 2
    y = torch.randint(0, 3, (8,), generator=g)
    old = torch.randn(8, 4, generator=g, dtype=torch.float64) * 2
    rec = torch.randn(8, 4, generator=g, dtype=torch.float64) * 3

    def value(T, lam, o=old):
        return as_float(call(fn, new.clone(), y.clone(), o.clone(), rec.clone(), T=T, lam=lam),
                        f"lwf_loss(..., T={T:g}, lam={lam:g})")

    ce = F.cross_entropy(new, y)

    def kl(a, b, T_a, T_b, reverse=False):
        la, lb = F.log_softmax(a / T_a, -1), F.log_softmax(b / T_b, -1)
        if reverse:
            la, lb = lb, la
        return F.kl_div(la, lb, reduction="batchmean", log_target=True)

    def teacher_entropy(T):
        p = torch.softmax(rec / T, -1)
        return -(p * p.log()).sum(-1).mean()

    settings = ((2.0, 1.0), (2.0, 0.5), (4.0, 2.0))
    got = torch.tensor([value(T, lam) for T, lam in settings], dtype=torch.float64)
    want = torch.stack([_lwf_loss(new, y, old, rec, T=T, lam=lam) for T, lam in settings])
    # Soft cross-entropy instead of KL differs by lam * T^2 * H(recorded): same gradients, also accepted.
    want_ce = torch.stack([want[i] + lam * T * T * teacher_entropy(T) for i, (T, lam) in enumerate(settings)])
    if close(got, want) or close(got, want_ce):
        got0 = value(2.0, 0.0)
        if not math.isclose(got0, float(ce), rel_tol=1e-4):
            raise Mistake(f"with lam=0 the loss should be the new task's cross-entropy {float(ce):.4f}, got {got0:.4f}")
    else:
        def build(term):
            return torch.stack([term(T, lam) for T, lam in settings])
        variants = {
            "reverse": build(lambda T, lam: ce + lam * T * T * kl(old, rec, T, T, reverse=True)),
            "noT2": build(lambda T, lam: ce + lam * kl(old, rec, T, T)),
            "noT": build(lambda T, lam: ce + lam * kl(old, rec, 1.0, 1.0)),
            "oneside_student": build(lambda T, lam: ce + lam * T * T * kl(old, rec, T, 1.0)),
            "oneside_teacher": build(lambda T, lam: ce + lam * T * T * kl(old, rec, 1.0, T)),
            "lam_swapped": build(lambda T, lam: lam * ce + T * T * kl(old, rec, T, T)),
            "no_ce": build(lambda T, lam: lam * T * T * kl(old, rec, T, T)),
        }
        key = first_match(got, variants)
        msg = {
            "reverse": "KL is taken the wrong way round: the recorded outputs of the old model are the target, "
                       "KL(recorded_T || current old head_T)",
            "noT2": "the T^2 factor is missing from the distillation term",
            "noT": "the temperature is not used: soften both the recorded logits and the old head's logits at T",
            "oneside_student": "T is applied only to the current model's old head: soften the recorded logits at T too",
            "oneside_teacher": "T is applied only to the recorded logits: soften the current old head's logits at T too",
            "lam_swapped": "lam weighs the wrong term: it multiplies the old-task (distillation) term, "
                           "loss = CE(new task) + lam * distillation",
            "no_ce": "the new task's cross-entropy with the labels is missing",
        }.get(key, f"lwf_loss gives {np.round(got.numpy(), 4).tolist()} at (T, lam) = {list(settings)}, expected "
                   f"{np.round(want.numpy(), 4).tolist()}: CE(new_logits, labels) + lam * T^2 * "
                   f"KL(softmax(recorded/T) || softmax(old_head/T))")
        raise Mistake(msg)
    big = as_float(call(fn, new.clone() * 200, y.clone(), old.clone() * 200, rec.clone() * 200, T=1.0, lam=1.0),
                   "lwf_loss(extreme logits)")
    if not math.isfinite(big):
        raise Mistake("with extreme logits (about +-600) your loss is inf or nan: use F.log_softmax, never "
                      "log(softmax(...))")
    o_req = old.clone().requires_grad_(True)
    n_req = new.clone().requires_grad_(True)
    out = call(fn, n_req, y.clone(), o_req, rec.clone(), T=2.0, lam=1.0)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise Mistake("the loss must be a tensor connected to the current model's logits (no .item() or numpy)")
    out.backward()
    o_ref, n_ref = old.clone().requires_grad_(True), new.clone().requires_grad_(True)
    _lwf_loss(n_ref, y, o_ref, rec, T=2.0, lam=1.0).backward()
    if o_req.grad is None or not close(o_req.grad, o_ref.grad):
        raise Mistake("no (or the wrong) gradient reaches the old head's logits: keep them in the graph; only the "
                      "recorded logits of the frozen old model are constants")
    if n_req.grad is None or not close(n_req.grad, n_ref.grad):
        raise Mistake("no (or the wrong) gradient reaches the new head's logits")
