"""Checks for the chapter 3 exercises and the chapter 1 sharpness exercise: H14 (temperature scaling fitted
by NLL), H15 (class-weighted distillation loss), H16 (PGD with projection and clamping), H23 (the top
Hessian eigenvalue by power iteration with Hessian-vector products)."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._core import Mistake, as_float, as_tensor, call, close, first_match, provide, register


def _gen(seed):
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------------------ H14
def _nll(logits, labels, T):
    return float(F.cross_entropy(logits.double() / T, labels))


def _fit_temperature(logits, labels):
    logits = logits.detach().double()
    grid = torch.logspace(-3, 4, 281, dtype=torch.float64)  # a coarse search, then golden-section refinement
    losses = torch.stack([F.cross_entropy(logits / T, labels) for T in grid])
    i = int(losses.argmin())
    lo, hi = float(grid[max(i - 1, 0)]), float(grid[min(i + 1, len(grid) - 1)])
    g = (math.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if _nll(logits, labels, a) < _nll(logits, labels, b):
            hi = b
        else:
            lo = a
    return (lo + hi) / 2


def _brier_T(logits, labels):
    grid = torch.logspace(-3, 4, 1401, dtype=torch.float64)
    onehot = F.one_hot(labels, logits.shape[1]).double()
    losses = torch.stack([((torch.softmax(logits.double() / T, -1) - onehot) ** 2).sum(-1).mean() for T in grid])
    return float(grid[int(losses.argmin())])


def _h14_case(seed, scale, n=400, k=5):
    g = _gen(seed)
    true_logits = torch.randn(n, k, generator=g, dtype=torch.float64) * 1.5
    labels = torch.multinomial(torch.softmax(true_logits, -1), 1, generator=g).squeeze(1)
    return (true_logits * scale).float(), labels


@register("H14", "temperature scaling fitted by NLL", ("fit_temperature",),
          reference={"fit_temperature": _fit_temperature})
def check_h14(f):
    fn = f["fit_temperature"]
    for seed, scale, what in ((14, 3.0, "an over-confident model (logits 3x too large)"),
                              (15, 0.4, "an under-confident model (logits 0.4x)"),
                              (16, 300.0, "extreme logits (300x)")):
        logits, labels = _h14_case(seed, scale)
        kept = logits.clone()
        out = call(fn, logits, labels.clone())
        if not torch.equal(kept, logits):
            raise Mistake("fit_temperature changed the logits it was given (in place): divide into a new tensor")
        T = as_float(out, "fit_temperature(logits, labels)")
        T_ref = _fit_temperature(logits, labels)
        nll_ref = _nll(logits, labels, T_ref)
        if math.isfinite(T) and T > 0 and _nll(logits, labels, T) <= nll_ref + 1e-4 * max(1.0, nll_ref) \
                and abs(T - T_ref) <= 0.03 * T_ref:
            continue
        if not math.isfinite(T):
            raise Mistake(f"for {what} your T is {T}: optimise log T (T = exp(log_t) stays positive and finite) "
                          f"and use F.cross_entropy on logits / T, which never overflows")
        if T <= 0:
            raise Mistake(f"T must be positive, got {T:.4g}: optimise log T and return exp(log_t)")
        if abs(T * T_ref - 1) <= 0.03:
            raise Mistake(f"you return 1/T ({T:.4g}, expected {T_ref:.4g}): temperature scaling DIVIDES the "
                          f"logits by T, so an over-confident model needs T > 1")
        if abs(T - math.log(T_ref)) <= 0.03 * max(1.0, abs(math.log(T_ref))):
            raise Mistake(f"you return log T ({T:.4g}): return T itself, exp(log_t)")
        if abs(T - 1.0) < 1e-6:
            raise Mistake(f"T is still 1 for {what}: nothing was fitted (optimise the NLL over T)")
        T_b = _brier_T(logits, labels)
        if abs(T - T_b) <= 0.005 * T_b and abs(T_b - T_ref) > 0.01 * T_ref:
            raise Mistake("this T minimises the squared error of the probabilities (Brier score): temperature "
                          "scaling minimises the negative log-likelihood, F.cross_entropy(logits / T, labels)")
        raise Mistake(f"for {what} the NLL-optimal T is {T_ref:.4f} (NLL {nll_ref:.4f}); yours is {T:.4f} "
                      f"(NLL {_nll(logits, labels, T):.4f}): run the optimiser to convergence (e.g. LBFGS on "
                      f"log T, or a fine 1-D search)")


# ------------------------------------------------------------------------------ H15
def _weighted_kd(student_logits, teacher_logits, labels, class_weights, *, T=4.0, alpha=0.5, variant=""):
    w = class_weights.to(student_logits.dtype)
    ls, lt = F.log_softmax(student_logits / T, -1), F.log_softmax(teacher_logits / T, -1)
    per = (lt.exp() * (lt - ls)).sum(-1)
    wi = w[labels] if variant != "teacher_class" else w[teacher_logits.argmax(-1)]
    soft = (wi * per).sum() / (wi.sum() if variant != "per_n" else len(per))
    if variant == "unweighted_soft":
        soft = per.mean()
    hard = F.cross_entropy(student_logits, labels, weight=w) if variant != "unweighted_hard" else \
        F.cross_entropy(student_logits, labels)
    if variant == "per_n":
        hard = (w[labels] * F.cross_entropy(student_logits, labels, reduction="none")).mean()
    scale = 1.0 if variant == "noT2" else T * T
    return alpha * scale * soft + (1 - alpha) * hard


def _weighted_distillation_loss(student_logits, teacher_logits, labels, class_weights, *, T=4.0, alpha=0.5):
    return _weighted_kd(student_logits, teacher_logits.detach(), labels, class_weights, T=T, alpha=alpha)


@register("H15", "class-weighted distillation loss", ("weighted_distillation_loss",),
          reference={"weighted_distillation_loss": _weighted_distillation_loss})
def check_h15(f):
    fn = f["weighted_distillation_loss"]
    g = _gen(15)
    n, k = 12, 4
    s = torch.randn(n, k, generator=g, dtype=torch.float64) * 2
    t = torch.randn(n, k, generator=g, dtype=torch.float64) * 3
    y = torch.tensor([0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 3])  # imbalanced: class 0 dominates
    w = torch.tensor([0.2, 1.0, 3.0, 1.5], dtype=torch.float64)
    settings = ((4.0, 0.5), (2.0, 1.0), (1.0, 0.0), (3.0, 0.7))

    def value(T, alpha, weights=w, s_=s, t_=t):
        out = call(fn, s_.clone(), t_.clone(), y.clone(), weights.clone(), T=T, alpha=alpha)
        return as_float(out, f"weighted_distillation_loss(..., T={T:g}, alpha={alpha:g})")

    got = torch.tensor([value(T, a) for T, a in settings], dtype=torch.float64)
    want = torch.stack([_weighted_kd(s, t, y, w, T=T, alpha=a) for T, a in settings])
    # The soft cross-entropy form (KL plus the teacher's weighted entropy, a constant) is accepted, as in H2/H13.
    ent = torch.stack([(w[y] * -(torch.softmax(t / T, -1) * F.log_softmax(t / T, -1)).sum(-1)).sum() / w[y].sum()
                       for T, _ in settings])
    want_ce = want + torch.tensor([a * T * T for T, a in settings], dtype=torch.float64) * ent
    if not (close(got, want) or close(got, want_ce)):
        variants = {v: torch.stack([_weighted_kd(s, t, y, w, T=T, alpha=a, variant=v) for T, a in settings])
                    for v in ("teacher_class", "per_n", "unweighted_soft", "unweighted_hard", "noT2")}
        variants["unweighted"] = torch.stack([_weighted_kd(s, t, y, torch.ones(k, dtype=torch.float64), T=T, alpha=a)
                                              for T, a in settings])
        key = first_match(got, variants)
        raise Mistake({
            "teacher_class": "each example is weighted by the class the TEACHER predicts: weight it by its true "
                             "label's weight, class_weights[labels]",
            "per_n": "the weighted sums are divided by N: divide by the sum of the weights used "
                     "(sum_i w[y_i]), as F.cross_entropy(..., weight=w) does, so scaling all weights changes nothing",
            "unweighted_soft": "the distillation term is not weighted: weight each example's KL by class_weights[label]",
            "unweighted_hard": "the hard-label term is not weighted: F.cross_entropy(student_logits, labels, "
                               "weight=class_weights)",
            "noT2": "the T^2 factor is missing from the distillation term",
            "unweighted": "class_weights are ignored: weight each example by class_weights[label] in both terms",
        }.get(key, f"at (T, alpha) = {list(settings)} expected {np.round(want.numpy(), 4).tolist()}, got "
                   f"{np.round(got.numpy(), 4).tolist()}: alpha * T^2 * sum_i w_i KL_i / sum_i w_i + (1 - alpha) * "
                   f"CE(weight=w), with w_i = class_weights[labels[i]]"))
    scaled = value(4.0, 0.5, weights=w * 10)
    if not math.isclose(scaled, float(got[0]), rel_tol=1e-4):
        raise Mistake("multiplying every class weight by 10 changed the loss: normalise by the sum of the weights")
    uniform = value(4.0, 0.5, weights=torch.ones(k, dtype=torch.float64))
    plain = float(_weighted_kd(s, t, y, torch.ones(k, dtype=torch.float64), T=4.0, alpha=0.5))
    if not (math.isclose(uniform, plain, rel_tol=1e-4)
            or math.isclose(uniform, plain + 0.5 * 16 * float(-(torch.softmax(t / 4, -1) * F.log_softmax(t / 4, -1))
                                                              .sum(-1).mean()), rel_tol=1e-4)):
        raise Mistake("with all weights equal to 1 the loss should be the plain distillation loss of H2")
    big = value(1.0, 0.5, s_=s * 200, t_=t * 200)
    if not math.isfinite(big):
        raise Mistake("with extreme logits (about +-600) your loss is inf or nan: use F.log_softmax, never "
                      "log(softmax(...))")
    s_req, t_req = s.clone().requires_grad_(True), t.clone().requires_grad_(True)
    out = call(fn, s_req, t_req, y.clone(), w.clone(), T=2.0, alpha=0.5)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise Mistake("the loss must be a tensor connected to the student's logits (no .item(), float() or numpy)")
    out.backward()
    if s_req.grad is None or not bool(torch.isfinite(s_req.grad).all()):
        raise Mistake("no gradient reaches the student's logits")
    if t_req.grad is not None and float(t_req.grad.abs().max()) > 0:
        raise Mistake("gradient flows into the teacher's logits: the teacher is fixed, use teacher_logits.detach()")


# ------------------------------------------------------------------------------ H16
def _pgd(model, x, y, eps, alpha, steps, *, variant=""):
    x = x.detach()
    x_adv = x.clone()
    g0 = None
    for _ in range(steps):
        x_adv.requires_grad_(True)
        loss = F.cross_entropy(model(x_adv if variant != "grad_at_x" else x.clone().requires_grad_(True)), y)
        if variant == "grad_at_x":
            if g0 is None:
                xr = x.clone().requires_grad_(True)
                (g0,) = torch.autograd.grad(F.cross_entropy(model(xr), y), xr)
            grad = g0
        else:
            (grad,) = torch.autograd.grad(loss, x_adv)
        with torch.no_grad():
            step = alpha * grad.sign() if variant != "nosign" else alpha * grad
            x_adv = x_adv + (-step if variant == "descend" else step)
            if variant != "noproject":
                x_adv = torch.min(torch.max(x_adv, x - eps), x + eps)
            if variant != "noclamp":
                x_adv = x_adv.clamp(0, 1)
        x_adv = x_adv.detach()
    return x_adv


def _pgd_ref(model, x, y, eps, alpha, steps):
    return _pgd(model, x, y, eps, alpha, steps)


def _h16_model():
    with torch.random.fork_rng():
        torch.manual_seed(16)
        model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 3)).double()
        with torch.no_grad():  # a curved loss surface: the gradient's sign changes inside the eps-ball
            model[0].weight.mul_(8.0)
        return model


@register("H16", "PGD with projection and clamping", ("pgd",), reference={"pgd": _pgd_ref})
def check_h16(f):
    fn = f["pgd"]
    model = _h16_model()
    g = _gen(16)
    x = torch.rand(8, 10, generator=g, dtype=torch.float64)
    x[:, :2] = torch.tensor([0.0, 1.0], dtype=torch.float64)  # inputs already at the edges of [0, 1]
    y = torch.randint(0, 3, (8,), generator=g)
    for eps, alpha, steps in ((0.3, 0.05, 12), (0.1, 0.03, 7), (0.05, 0.05, 3), (0.2, 0.01, 1), (0.1, 0.03, 0)):
        x_in = x.clone()
        before = [p.detach().clone() for p in model.parameters()]
        out = call(fn, model, x_in, y.clone(), eps, alpha, steps)
        got = as_tensor(out, "pgd(model, x, y, eps, alpha, steps)")
        if not torch.equal(x_in, x):
            raise Mistake("pgd changed x in place: start from a copy, x_adv = x.clone().detach()")
        if any(not torch.equal(p, b) for p, b in zip(model.parameters(), before)):
            raise Mistake("pgd changed the model's weights: the attack moves the INPUT only (no optimizer.step)")
        want = _pgd(model, x, y, eps, alpha, steps)
        if close(got, want, atol=1e-9):
            continue
        if got.shape != want.shape:
            raise Mistake(f"pgd should return a tensor shaped like x {tuple(x.shape)}, got {tuple(got.shape)}")
        if steps == 0:
            raise Mistake("with steps=0 pgd must return x unchanged")
        if float((got - x).abs().max()) > eps + 1e-9 and bool((got >= -1e-12).all() and (got <= 1 + 1e-12).all()):
            if close(got, _pgd(model, x, y, eps, alpha, steps, variant="noproject"), atol=1e-9):
                raise Mistake(f"x_adv leaves the eps-ball: after every step project back, x_adv = min(max(x_adv, "
                              f"x - eps), x + eps) (largest change {float((got - x).abs().max()):.3g} > eps={eps:g})")
        wrong = first_match(got, {v: _pgd(model, x, y, eps, alpha, steps, variant=v)
                                  for v in ("noclamp", "descend", "nosign", "grad_at_x")}, atol=1e-9)
        raise Mistake({
            "noclamp": "clamp x_adv to the valid input range [0, 1] after every step",
            "descend": "wrong sign: PGD climbs the loss, x_adv + alpha * sign(grad)",
            "nosign": "step by alpha * SIGN of the gradient (the L-infinity steepest ascent)",
            "grad_at_x": "the gradient is taken at the clean x every step: recompute it at the current x_adv",
        }.get(wrong, f"pgd(eps={eps:g}, alpha={alpha:g}, steps={steps}) should take {steps} steps x_adv += alpha * "
                     f"sign(grad of the cross-entropy at x_adv), each followed by projection onto [x - eps, x + eps] "
                     f"and clamping to [0, 1], starting at x (no random start)"))
    out = call(fn, model, x.clone(), y.clone(), 0.1, 0.03, 2)
    if isinstance(out, torch.Tensor) and out.requires_grad:
        raise Mistake("return x_adv.detach(): the adversarial input should not carry the attack's graph")


# ------------------------------------------------------------------------------ H23
def _hvp(loss_fn, w, v):
    w = w.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(w), w, create_graph=True)
    (hv,) = torch.autograd.grad(g @ v, w)
    return hv


def _top_hessian_eigenvalue(loss_fn, w, iters=100, seed=0):
    gen = torch.Generator().manual_seed(seed)
    v = torch.randn(w.numel(), generator=gen, dtype=w.dtype)
    v = v / v.norm()
    lam = 0.0
    for _ in range(iters):
        hv = _hvp(loss_fn, w, v)
        lam = float(v @ hv)
        v = hv / hv.norm().clamp_min(1e-30)
    return lam


def _h23_problem(seed, sharp=1.0, scale=1.0):
    g = _gen(seed)
    X = torch.randn(20, 3, generator=g, dtype=torch.float64)
    y = torch.randint(0, 2, (20,), generator=g).double()
    shapes = [(3, 4), (4,), (4, 1), (1,)]
    n = sum(int(np.prod(s)) for s in shapes)
    w0 = torch.randn(n, generator=g, dtype=torch.float64) * 0.8

    def loss_fn(w):  # a tiny two-layer network, its weights flattened into w
        i, parts = 0, []
        for s in shapes:
            m = int(np.prod(s))
            parts.append(w[i:i + m].reshape(s))
            i += m
        W1, b1, W2, b2 = parts
        out = (torch.tanh(X @ W1 + b1) @ W2 + b2).squeeze(1) * sharp
        return F.binary_cross_entropy_with_logits(out, y) * scale
    return provide(loss_fn), w0


@register("H23", "top Hessian eigenvalue by power iteration", ("top_hessian_eigenvalue",),
          reference={"top_hessian_eigenvalue": _top_hessian_eigenvalue})
def check_h23(f):
    fn = f["top_hessian_eigenvalue"]
    for seed, sharp, scale in ((23, 1.0, 1.0), (24, 6.0, 1.0), (25, 1.0, 1e4)):
        loss_fn, w = _h23_problem(seed, sharp, scale)
        H = torch.autograd.functional.hessian(loss_fn, w)
        eig = torch.linalg.eigvalsh(H)
        top = float(eig[eig.abs().argmax()])
        w_in = w.clone()
        out = call(fn, loss_fn, w_in, iters=150, seed=0)
        if not torch.equal(w_in, w):
            raise Mistake("top_hessian_eigenvalue changed w in place: work on w.detach().clone()")
        if isinstance(out, torch.Tensor) and out.requires_grad:
            raise Mistake("return a plain number (float(...)), not a tensor still attached to the graph")
        lam = as_float(out, "top_hessian_eigenvalue(loss_fn, w)")
        if math.isfinite(lam) and abs(lam - top) <= 1e-3 * abs(top) + 1e-6:
            continue
        if not math.isfinite(lam) or lam == 0.0:
            raise Mistake(f"the estimate is {lam}: normalise v after every Hessian-vector product "
                          "(v = Hv / ||Hv||), or it grows (or shrinks) like lambda^k until it overflows")
        if False:
            raise Mistake("the estimate is inf or nan: normalise v after every Hessian-vector product "
                          "(v = Hv / ||Hv||), or it grows like lambda^k")
        if abs(lam + top) <= 1e-3 * abs(top) + 1e-6 and top < 0:
            raise Mistake("the sign is lost: return the Rayleigh quotient v . Hv (negative when the dominant "
                          "curvature is negative), not ||Hv||")
        if abs(lam - float(eig.abs().max())) <= 1e-3 * abs(top) and top < 0:
            raise Mistake("that is |lambda|: return the Rayleigh quotient v . Hv, which keeps the sign")
        if abs(lam - float(H.trace())) <= 1e-3 * abs(float(H.trace())) + 1e-9:
            raise Mistake("that is the trace of the Hessian (the sum of all eigenvalues): power iteration gives "
                          "the dominant one")
        if abs(lam - float(eig[eig.abs().argsort()[-2]])) <= 1e-3 * abs(top):
            raise Mistake("that is the second eigenvalue: iterate longer, from a random start")
        raise Mistake(f"expected the dominant eigenvalue {top:.5f} (torch.autograd.functional.hessian, then "
                      f"eigvalsh), got {lam:.5f}: compute Hv by differentiating g . v where g = grad(loss, w, "
                      f"create_graph=True), then v <- Hv / ||Hv||")
