"""Training schemes beyond one frozen teacher: peers, generations, ensembles, adversaries, contrast.

* :func:`offline_distill` - the classic scheme, with a frozen pre-trained teacher.
* :func:`mutual_learning` - online distillation: peers train together, each
  also matching the others' current (detached) predictions (deep mutual learning).
* :func:`born_again` - self-distillation over generations: generation 0 learns
  from labels, generation k from generation k - 1, same architecture.
* :func:`ensemble_logits` - multi-teacher averaging in probability space.
* :class:`Discriminator` and :func:`adversarial_distill` - a small network
  tells teacher output distributions from student ones; the student learns
  to fool it on top of plain KD.
* :func:`contrastive_distill` - InfoNCE between the student's hidden layer
  (read by a forward hook) and the teacher's, through learned projections.
All loops are full batch on cached tensors and seeded.
"""
from __future__ import annotations

import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .. import features, losses, train
from .._checks import check_int_range, check_positive, check_range
from ..losses import discriminator_loss, generator_loss, infonce
from ..seeding import fork
from ..train import fit, predict, train_scratch


def ensemble_logits(teacher_logits: list, *, T: float = 1.0, weights=None) -> torch.Tensor:
    """Logits whose softmax at T is the (weighted) mean of the teachers' softmaxes at T.

    Returns ``T * log(mean_k softmax(z_k / T))``, so any loss that softens by T
    sees exactly the averaged distribution.
    """
    T = check_positive("T", T)
    if len(teacher_logits) == 0:
        raise ValueError("teacher_logits must hold at least one tensor, got an empty list")
    for i, z in enumerate(teacher_logits):
        if z.shape != teacher_logits[0].shape or z.dim() != 2:
            raise ValueError(f"teacher_logits[{i}] must be 2-D with shape {tuple(teacher_logits[0].shape)}, "
                             f"got {tuple(z.shape)}")
    k = len(teacher_logits)
    w = torch.full((k,), 1.0 / k) if weights is None else torch.as_tensor(weights, dtype=torch.float32)
    if w.shape != (k,) or bool((w < 0).any()) or not torch.isclose(w.sum(), torch.tensor(1.0)):
        raise ValueError(f"weights must be {k} non-negative numbers summing to 1, got {weights!r}")
    probs = torch.stack([torch.softmax(z / T, -1) for z in teacher_logits])
    return T * torch.log((w[:, None, None] * probs).sum(0).clamp_min(1e-30))


# ----------------------------------------------------------------- online: DML
def mutual_learning(peers: list, X: torch.Tensor, y: torch.Tensor, *, T: float = 1.0, alpha: float = 0.5,
                    epochs: int = 100, lr: float = 3e-2, seed: int = 0, X_unlabelled: torch.Tensor | None = None):
    """Deep mutual learning: every peer minimises (1-alpha)*CE + alpha*KD(others' mean, itself).

    The targets are the other peers' current predictions, detached, so all
    peers can step together. With ``X_unlabelled`` the soft term also covers
    those inputs (labels are used on X only). Returns the
    :class:`~course_lib.train.History`.
    """
    if len(peers) < 2:
        raise ValueError(f"mutual_learning needs at least 2 peers, got {len(peers)}")
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    T = check_positive("T", T)
    cohort = nn.ModuleList(peers)
    X_all = X if X_unlabelled is None else torch.cat([X, X_unlabelled])
    n = len(X)

    def objective(model, idx):
        outs = [p(X_all) for p in model]
        total, soft_sum = 0.0, 0.0
        for i, z in enumerate(outs):
            others = ensemble_logits([o.detach() for j, o in enumerate(outs) if j != i], T=T)
            soft = losses.kd_kl(z, others, T=T)
            hard = losses.hard_cross_entropy(z[:n], y)
            total = total + alpha * soft + (1 - alpha) * hard
            soft_sum = soft_sum + soft.detach()
        return {"loss": total, "soft": soft_sum / len(outs)}

    return fit(cohort, objective, len(X), epochs=epochs, lr=lr, seed=seed)


def _transfer_objective(X, y, X_unlabelled, teacher_logits_all, *, T, alpha):
    """``alpha`` * KD on every input (labelled and unlabelled) + (1-alpha) * CE on the labelled ones."""
    X_all = X if X_unlabelled is None else torch.cat([X, X_unlabelled])
    n = len(X)

    def objective(model, idx):
        z = model(X_all)
        soft = losses.kd_kl(z, teacher_logits_all, T=T)
        hard = losses.hard_cross_entropy(z[:n], y)
        return {"loss": alpha * soft + (1 - alpha) * hard, "soft": soft.detach(), "hard": hard.detach()}

    return objective, X_all


def offline_distill(student: nn.Module, teacher: nn.Module, X, y, *, T: float = 4.0, alpha: float = 0.9,
                    epochs: int = 100, lr: float = 3e-2, seed: int = 0, X_unlabelled=None):
    """Offline KD from a frozen, pre-trained teacher (soft targets on X and X_unlabelled)."""
    T = check_positive("T", T)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    X_all = X if X_unlabelled is None else torch.cat([X, X_unlabelled])
    objective, _ = _transfer_objective(X, y, X_unlabelled, predict(teacher, X_all), T=T, alpha=alpha)
    return fit(student, objective, len(X), epochs=epochs, lr=lr, seed=seed)


# ------------------------------------------------------------- self: born-again
def born_again(build: Callable[[int], nn.Module], X: torch.Tensor, y: torch.Tensor, *, generations: int = 3,
               T: float = 2.0, alpha: float = 0.5, epochs: int = 100, lr: float = 3e-2, seed: int = 0,
               X_unlabelled: torch.Tensor | None = None) -> list:
    """Train generation 0 on labels, then each generation k on generation k-1's soft targets.

    ``build(seed)`` returns a fresh model (same architecture each time, new
    initialisation per generation). With ``X_unlabelled`` the soft targets
    also cover those inputs. Returns the list of generations 0..G.
    """
    check_int_range("generations", generations, 0, 50)
    T = check_positive("T", T)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    X_all = X if X_unlabelled is None else torch.cat([X, X_unlabelled])
    gens = [build(seed)]
    train_scratch(gens[0], X, y, epochs=epochs, lr=lr, seed=seed)
    for g in range(1, generations + 1):
        objective, _ = _transfer_objective(X, y, X_unlabelled, predict(gens[-1], X_all), T=T, alpha=alpha)
        m = build(seed + 1000 * g)
        fit(m, objective, len(X), epochs=epochs, lr=lr, seed=seed + g)
        gens.append(m)
    return gens


# --------------------------------------------------------------- adversarial KD
class Discriminator(nn.Module):
    """A small MLP that reads a probability vector and says teacher (logit > 0) or student."""

    def __init__(self, n_classes: int, hidden: int = 32, *, seed: int | None = None):
        super().__init__()
        check_int_range("n_classes", n_classes, 2, 10**6)
        check_int_range("hidden", hidden, 1, 10**5)
        with fork(seed):
            self.net = nn.Sequential(nn.Linear(n_classes, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, probs: torch.Tensor) -> torch.Tensor:
        return self.net(probs).squeeze(-1)


def adversarial_step(student: nn.Module, disc: Discriminator, opt_s, opt_d, x, y, t_logits, *, T: float,
                     alpha: float, beta: float) -> dict:
    """One discriminator update, then one student update with ``KD mix + beta * fool-the-discriminator``."""
    with torch.no_grad():
        fake_in = torch.softmax(student(x) / T, -1)
    real_in = torch.softmax(t_logits / T, -1)
    opt_d.zero_grad(set_to_none=True)
    real, fake = disc(real_in), disc(fake_in)
    d_loss = discriminator_loss(real, fake)
    d_loss.backward()
    opt_d.step()
    d_acc = 0.5 * (float((real > 0).float().mean()) + float((fake < 0).float().mean()))

    opt_s.zero_grad(set_to_none=True)
    z = student(x)
    terms = losses.distill_step(z, t_logits, y, T=T, alpha=alpha)
    g_loss = generator_loss(disc(torch.softmax(z / T, -1)))
    loss = terms["loss"] + beta * g_loss
    loss.backward()
    opt_s.step()
    return {"loss": float(loss.detach()), "d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach()),
            "d_acc": d_acc}


def adversarial_distill(student: nn.Module, X, y, teacher_logits, *, T: float = 4.0, alpha: float = 0.9,
                        beta: float = 0.1, epochs: int = 100, lr: float = 3e-2, d_lr: float = 1e-2,
                        d_hidden: int = 32, seed: int = 0) -> dict:
    """KD plus an adversarial term; returns the per-epoch history of every term and the discriminator."""
    T = check_positive("T", T)
    alpha = check_range("alpha", alpha, 0.0, 1.0)
    beta = check_range("beta", beta, 0.0, 100.0)
    check_int_range("epochs", epochs, 0, 10**6)
    disc = Discriminator(teacher_logits.shape[1], d_hidden, seed=seed + 7)
    opt_s = torch.optim.Adam(student.parameters(), lr=check_positive("lr", lr))
    opt_d = torch.optim.Adam(disc.parameters(), lr=check_positive("d_lr", d_lr))
    hist: dict = {}
    t0 = time.perf_counter()
    student.train()
    for _ in range(int(epochs)):
        out = adversarial_step(student, disc, opt_s, opt_d, X, y, teacher_logits, T=T, alpha=alpha, beta=beta)
        for k, v in out.items():
            hist.setdefault(k, []).append(v)
    student.eval()
    hist["seconds"] = time.perf_counter() - t0
    hist["discriminator"] = disc
    return hist


# ---------------------------------------------------------------- contrastive KD
@torch.no_grad()
def layer_output(model: nn.Module, X: torch.Tensor, layer: str) -> torch.Tensor:
    """The output of ``layer`` for inputs X, read with a forward hook (eval mode, no gradients)."""
    return features.features(model, X, layer)


def contrastive_distill(student: nn.Module, X, y, teacher_logits, teacher_emb, *, layer: str = "act1",
                        dim: int = 16, T: float = 4.0, alpha: float = 0.9, beta: float = 0.5, tau: float = 0.1,
                        epochs: int = 100, lr: float = 3e-2, seed: int = 0) -> dict:
    """KD plus ``beta`` * InfoNCE between projected student and teacher embeddings.

    The student's embedding is the output of ``layer`` (forward hook). Two
    linear heads map student and teacher embeddings to ``dim`` dimensions and
    are trained with the student. Returns the history and the two heads.
    """
    beta = check_range("beta", beta, 0.0, 100.0)
    check_int_range("dim", dim, 1, 10**5)
    width = features.features(student, X[:2], layer).shape[1]
    with fork(int(seed) + 11):
        head_s = nn.Linear(width, dim)
        head_t = nn.Linear(teacher_emb.shape[1], dim)
    cohort = nn.ModuleDict({"student": student, "head_s": head_s, "head_t": head_t})

    def objective(model, idx):
        with features.capture(model["student"], [layer]) as store:
            z = model["student"](X[idx])
        terms = losses.distill_step(z, teacher_logits[idx], y[idx], T=T, alpha=alpha)
        nce = infonce(model["head_s"](store[layer]), model["head_t"](teacher_emb[idx]), tau=tau)
        return {"loss": terms["loss"] + beta * nce, "kd": terms["loss"].detach(), "infonce": nce.detach()}

    hist = fit(cohort, objective, len(X), epochs=epochs, lr=lr, seed=seed)
    return {"history": hist, "head_s": head_s, "head_t": head_t}


@torch.no_grad()
def retrieval_accuracy(student_emb: torch.Tensor, teacher_emb: torch.Tensor) -> float:
    """Fraction of rows whose nearest teacher embedding (cosine) is their own partner."""
    s = F.normalize(student_emb, dim=-1)
    t = F.normalize(teacher_emb, dim=-1)
    return float(((s @ t.T).argmax(-1) == torch.arange(len(s))).float().mean())


# ------------------------------------------------- many small runs at once (stacked)
def stacked_cross_entropy(logits: torch.Tensor, y: torch.Tensor, *, label_smoothing=0.0) -> torch.Tensor:
    """Per-model cross-entropy of stacked logits (K, n, C) with labels (K, n) or (n,); returns (K,).

    ``label_smoothing`` is one number or one per model (K,); each entry equals
    ``F.cross_entropy(logits[k], y[k], label_smoothing=eps_k)``:
    ``(1 - eps) * NLL + eps * mean over classes of -log p``.
    """
    if logits.dim() != 3:
        raise ValueError(f"logits must be 3-D (models, rows, classes), got shape {tuple(logits.shape)}")
    K, n, C = logits.shape
    if tuple(y.shape) not in ((n,), (K, n)):
        raise ValueError(f"y must have shape ({n},) or ({K}, {n}), got {tuple(y.shape)}")
    if len(y) and (int(y.min()) < 0 or int(y.max()) >= C):
        raise ValueError(f"y must hold class indices in 0..{C - 1}, got values in [{int(y.min())}, {int(y.max())}]")
    y = y.expand(K, n)
    eps = torch.as_tensor(label_smoothing, dtype=logits.dtype)
    if eps.dim() > 1 or (eps.dim() == 1 and len(eps) != K):
        raise ValueError(f"label_smoothing must be one number or {K} numbers, got shape {tuple(eps.shape)}")
    eps = eps.expand(K)
    if bool(((eps < 0) | (eps > 1)).any()):
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
    logp = torch.log_softmax(logits, -1)
    nll = -logp.gather(-1, y[..., None]).squeeze(-1).mean(-1)
    uniform = -logp.mean(-1).mean(-1)
    return (1 - eps) * nll + eps * uniform


def stacked_kd(student_logits: torch.Tensor, target_logits: torch.Tensor, *, T: float = 1.0,
               scale_t2: bool = True) -> torch.Tensor:
    """Per-model KL(target_T || student_T), batch mean over rows, of stacked (K, n, C) logits; returns (K,).

    Entry k equals ``losses.kd_kl(student_logits[k], target_logits[k], T=T, scale_t2=scale_t2)``.
    """
    T = check_positive("T", T)
    if student_logits.dim() != 3 or student_logits.shape != target_logits.shape:
        raise ValueError(f"student_logits and target_logits must be 3-D with one shape, got "
                         f"{tuple(student_logits.shape)} and {tuple(target_logits.shape)}")
    kl = F.kl_div(torch.log_softmax(student_logits / T, -1), torch.log_softmax(target_logits / T, -1),
                  reduction="none", log_target=True).sum(-1).mean(-1)
    return kl * T * T if scale_t2 else kl


def train_stacked(models: list, loss_fn: Callable, X: torch.Tensor, *, epochs: int = 100, lr: float = 3e-2,
                  optimizer: str = "adam") -> list:
    """Train K models of one architecture at once, full batch, each as if it had its own optimiser.

    The parameters are stacked with ``torch.func.stack_module_state`` and the
    forward is ``vmap`` of ``functional_call``: ``X`` is (n, d), shared, or
    (K, n, d), one input set per model, and ``loss_fn(logits)`` receives the
    (K, n, C) logits and returns the (K,) per-model losses (detach any target
    read from another model). One optimiser minimises their sum; a model's
    gradient is then its own loss's gradient, and Adam and SGD (momentum 0.9,
    as in ``train.fit``) act element by element, so the result equals K
    separate full-batch runs up to float rounding. The trained weights are
    written back into ``models``; returns the per-epoch mean loss.
    """
    if len(models) == 0:
        raise ValueError("models must hold at least one model, got an empty list")
    check_int_range("epochs", epochs, 0, 10**7)
    lr = check_positive("lr", lr)
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be one of ['adam', 'sgd'], got {optimizer!r}")
    from torch.func import functional_call, stack_module_state, vmap
    K = len(models)
    if X.dim() == 3 and X.shape[0] != K:
        raise ValueError(f"X must be (n, d) or ({K}, n, d) for {K} models, got shape {tuple(X.shape)}")
    params, buffers = stack_module_state(models)
    params = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    base = models[0]

    def call(p, b, x):
        return functional_call(base, (p, b), (x,))

    forward = vmap(call, in_dims=(0, 0, 0 if X.dim() == 3 else None))
    opt = train.FlatOptimizer.of(params.values(), lambda ps: torch.optim.Adam(ps, lr=lr) if optimizer == "adam"
                                 else torch.optim.SGD(ps, lr=lr, momentum=0.9))  # same numbers, fewer kernels
    history = []
    for _ in range(int(epochs)):
        opt.zero_grad(set_to_none=True)
        per_model = loss_fn(forward(params, buffers, X))
        if per_model.shape != (K,):
            raise ValueError(f"loss_fn must return one loss per model, shape ({K},), got {tuple(per_model.shape)}")
        per_model.sum().backward()
        opt.step()
        history.append(float(per_model.detach().mean()))
    if isinstance(opt, train.FlatOptimizer):
        opt.close()
    with torch.no_grad():
        for k, m in enumerate(models):
            for name, p in m.named_parameters():
                p.copy_(params[name][k])
            m.eval()
    return history


def stacked_predict(models: list, X: torch.Tensor) -> torch.Tensor:
    """Logits (K, n, C) of K models, each on X (n, d) or on its own X[k] (K, n, d), without gradients."""
    if X.dim() == 3 and X.shape[0] != len(models):
        raise ValueError(f"X must be (n, d) or ({len(models)}, n, d), got shape {tuple(X.shape)}")
    return torch.stack([predict(m, X[k] if X.dim() == 3 else X) for k, m in enumerate(models)])


def mutual_learning_stacked(peers_a: list, peers_b: list, X: torch.Tensor, y: torch.Tensor, *, T: float = 1.0,
                            ce_weight: float = 1.0, kl_weight: float = 1.0, epochs: int = 100, lr: float = 3e-2,
                            label_smoothing: float = 0.0) -> list:
    """Deep mutual learning of K pairs at once: pair k is ``(peers_a[k], peers_b[k])`` on ``X[k]``, ``y[k]``.

    Each peer minimises ``ce_weight * CE(labels) + kl_weight * T^2 * KL(other_T || self_T)`` with the
    other peer's current prediction detached, and both step together (full batch). Zhang et al. (2018)
    use T = 1 and weights 1 and 1; the course's variant uses ``(1 - alpha, alpha)`` at T > 1, which is
    :func:`mutual_learning` with two peers. ``X`` is (n, d) or (K, n, d), ``y`` (n,) or (K, n).
    Returns the per-epoch mean loss.
    """
    K = len(peers_a)
    if K == 0 or len(peers_b) != K:
        raise ValueError(f"peers_a and peers_b must be non-empty lists of one length, got {K} and {len(peers_b)}")
    T = check_positive("T", T)
    ce_weight = check_range("ce_weight", ce_weight, 0.0, 1e3)
    kl_weight = check_range("kl_weight", kl_weight, 0.0, 1e3)
    X2 = torch.cat([X, X]) if X.dim() == 3 else X
    y2 = torch.cat([y, y]) if y.dim() == 2 else y

    def loss_fn(z):
        other = torch.cat([z[K:], z[:K]]).detach()
        return (ce_weight * stacked_cross_entropy(z, y2, label_smoothing=label_smoothing)
                + kl_weight * stacked_kd(z, other, T=T))

    return train_stacked(list(peers_a) + list(peers_b), loss_fn, X2, epochs=epochs, lr=lr)
