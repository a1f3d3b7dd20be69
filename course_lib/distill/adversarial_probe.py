"""A held-out test of whether a discriminator can tell a student's outputs from its teacher's (ch1_08).

:func:`heldout_discriminator` trains a *fresh* discriminator (``schemes.Discriminator``) to tell the teacher's
softened outputs (label 1) from a trained student's (label 0) on the transfer set, then scores it on held-out
images, with a Wilson 95% interval. It measures how far a student's outputs are from the teacher's in a
discriminator's own terms, whether or not the student was trained against a discriminator.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_int_range, check_positive
from ..seeding import fork
from . import schemes


def heldout_discriminator(teacher_train: torch.Tensor, student_train: torch.Tensor, teacher_test: torch.Tensor,
                          student_test: torch.Tensor, *, T: float = 4.0, steps: int = 200, lr: float = 1e-2,
                          hidden: int = 32, seed: int = 0) -> dict:
    """Train a fresh discriminator on softened teacher (1) vs student (0) outputs; score it on held-out rows.

    All four arguments are logits with the same number of classes; ``*_train`` rows train the discriminator
    (full batch, Adam, ``steps`` steps), ``*_test`` rows score it. Returns ``accuracy`` on the held-out rows
    (both sources, equal weight when the two sets have the same size), ``correct``, ``n``, the Wilson 95%
    interval ``low``/``high`` and ``train_accuracy``. 0.5 means the two sources cannot be told apart.
    """
    from statsmodels.stats.proportion import proportion_confint

    T = check_positive("T", T)
    check_int_range("steps", steps, 1, 10**6)
    lr = check_positive("lr", lr)
    for name, t in (("teacher_train", teacher_train), ("student_train", student_train),
                    ("teacher_test", teacher_test), ("student_test", student_test)):
        if not isinstance(t, torch.Tensor) or t.dim() != 2 or len(t) == 0 or t.shape[1] != teacher_train.shape[1]:
            raise ValueError(f"{name} must be a non-empty 2-D tensor of logits with {teacher_train.shape[1]} "
                             f"columns, got {tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__}")
    soft = lambda z: torch.softmax(z / T, -1)  # noqa: E731
    Xd = torch.cat([soft(teacher_train), soft(student_train)])
    yd = torch.cat([torch.ones(len(teacher_train)), torch.zeros(len(student_train))])
    disc = schemes.Discriminator(teacher_train.shape[1], hidden, seed=seed)
    opt = torch.optim.Adam(disc.parameters(), lr=lr)
    with fork(seed):
        for _ in range(int(steps)):
            opt.zero_grad(set_to_none=True)
            F.binary_cross_entropy_with_logits(disc(Xd), yd).backward()
            opt.step()
    with torch.no_grad():
        train_acc = float(((disc(Xd) > 0).float() == yd).float().mean())
        correct = int((disc(soft(teacher_test)) > 0).sum()) + int((disc(soft(student_test)) <= 0).sum())
    n = len(teacher_test) + len(student_test)
    low, high = proportion_confint(correct, n, alpha=0.05, method="wilson")
    return {"accuracy": correct / n, "correct": correct, "n": n, "low": float(low), "high": float(high),
            "train_accuracy": train_acc}
