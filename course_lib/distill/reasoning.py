"""Distilling reasoning steps in miniature: multi-digit addition with and without the carries.

The teacher is the exact schoolbook algorithm (``schoolbook``): for two numbers written
least significant digit first it emits, per position, the sum digit and the carry it
passes on (the intermediate steps), and the answer. Two students of the same size learn
from it:

- **answers only** sees a window of the last ``window`` digit pairs up to position i and
  must produce answer digit i directly (``window_features``);
- **with steps** sees the digit pair at position i and the carry coming in, and produces
  the sum digit and the carry going out (``step_features``); at test time it chains its
  own carries from the lowest digit up (``chain_predict``), writing its steps as it goes.

Numbers are int64 tensors of shape (n, digits), least significant digit first; an answer
has ``digits + 1`` positions (the last is the final carry).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .._checks import check_int_range


def _check_digits(name, a):
    if not isinstance(a, torch.Tensor) or a.dim() != 2 or a.dtype != torch.int64:
        raise ValueError(f"{name} must be an int64 tensor of shape (n, digits), got "
                         f"{getattr(a, 'dtype', type(a))} of shape {tuple(getattr(a, 'shape', ()))}")
    if a.numel() and (int(a.min()) < 0 or int(a.max()) > 9):
        raise ValueError(f"{name} must hold decimal digits 0..9, got values in {int(a.min())}..{int(a.max())}")


def problems(n: int, digits: int, *, seed: int = 0):
    """``n`` random pairs of ``digits``-digit numbers (leading zeros allowed), least significant digit first."""
    check_int_range("n", n, 1, 10**7)
    check_int_range("digits", digits, 1, 1000)
    g = torch.Generator().manual_seed(int(seed))
    return torch.randint(0, 10, (n, digits), generator=g), torch.randint(0, 10, (n, digits), generator=g)


def schoolbook(a: torch.Tensor, b: torch.Tensor) -> dict:
    """The exact teacher: per position the sum digit and the carry out, and the answer's digits.

    Returns ``{"digits": (n, d+1) answer digits, "carry_in": (n, d+1), "carry_out": (n, d+1)}``;
    position d has digits 0 + 0 and emits the final carry as its sum digit.
    """
    _check_digits("a", a)
    _check_digits("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    n, d = a.shape
    pad = torch.zeros(n, 1, dtype=torch.int64)
    a, b = torch.cat([a, pad], 1), torch.cat([b, pad], 1)
    carry = torch.zeros(n, dtype=torch.int64)
    out, cin, cout = [], [], []
    for i in range(d + 1):
        t = a[:, i] + b[:, i] + carry
        cin.append(carry)
        out.append(t % 10)
        carry = t // 10
        cout.append(carry)
    return {"digits": torch.stack(out, 1), "carry_in": torch.stack(cin, 1), "carry_out": torch.stack(cout, 1)}


def to_int(digits: torch.Tensor) -> list:
    """Digit rows (least significant first) as Python integers."""
    return [int("".join(str(int(x)) for x in reversed(row.tolist())) or "0") for row in digits]


def window_features(a: torch.Tensor, b: torch.Tensor, window: int) -> torch.Tensor:
    """Answers-only inputs: for each of the d+1 answer positions, one-hot digit pairs of the last ``window``
    positions (zeros before the first digit and above the last). Shape (n * (d+1), window * 20)."""
    _check_digits("a", a)
    _check_digits("b", b)
    check_int_range("window", window, 1, 1000)
    n, d = a.shape
    pad_lo = torch.zeros(n, window - 1, dtype=torch.int64)
    pad_hi = torch.zeros(n, 1, dtype=torch.int64)
    A, B = torch.cat([pad_lo, a, pad_hi], 1), torch.cat([pad_lo, b, pad_hi], 1)
    # position i (0..d) sees padded columns i .. i + window - 1 (the last is position i itself)
    idx = torch.arange(d + 1)[:, None] + torch.arange(window)[None, :]
    oa, ob = F.one_hot(A[:, idx], 10).float(), F.one_hot(B[:, idx], 10).float()  # (n, d+1, window, 10)
    valid = torch.ones(n, window - 1 + d + 1)
    valid[:, : window - 1] = 0  # the low padding is "no digit", not zero: an all-zero one-hot
    v = valid[:, idx][..., None]
    return torch.cat([oa * v, ob * v], -1).reshape(n * (d + 1), window * 20)


def step_features(a_digit: torch.Tensor, b_digit: torch.Tensor, carry_in: torch.Tensor) -> torch.Tensor:
    """With-steps inputs for one position: one-hot a, one-hot b, and the carry coming in (shape (m, 21))."""
    return torch.cat([F.one_hot(a_digit, 10).float(), F.one_hot(b_digit, 10).float(),
                      carry_in.float().reshape(-1, 1)], 1)


def step_dataset(a: torch.Tensor, b: torch.Tensor):
    """Teacher-forced training rows for the with-steps student: inputs, sum-digit targets, carry-out targets."""
    t = schoolbook(a, b)
    n, d = a.shape
    pad = torch.zeros(n, 1, dtype=torch.int64)
    A, B = torch.cat([a, pad], 1), torch.cat([b, pad], 1)
    X = step_features(A.reshape(-1), B.reshape(-1), t["carry_in"].reshape(-1))
    return X, t["digits"].reshape(-1), t["carry_out"].reshape(-1)


@torch.no_grad()
def chain_predict(model, a: torch.Tensor, b: torch.Tensor) -> dict:
    """Run a with-steps student (12 outputs: 10 sum-digit logits, 2 carry logits) from the lowest digit up,
    feeding each predicted carry into the next position. Returns its answer digits and carries."""
    _check_digits("a", a)
    _check_digits("b", b)
    n, d = a.shape
    pad = torch.zeros(n, 1, dtype=torch.int64)
    A, B = torch.cat([a, pad], 1), torch.cat([b, pad], 1)
    carry = torch.zeros(n, dtype=torch.int64)
    out, carries = [], []
    for i in range(d + 1):
        z = model(step_features(A[:, i], B[:, i], carry))
        if z.shape[1] != 12:
            raise ValueError(f"a with-steps student must output 12 logits (10 digit + 2 carry), got {z.shape[1]}")
        out.append(z[:, :10].argmax(1))
        carry = z[:, 10:].argmax(1)
        carries.append(carry)
    return {"digits": torch.stack(out, 1), "carry_out": torch.stack(carries, 1)}


@torch.no_grad()
def window_predict(model, a: torch.Tensor, b: torch.Tensor, window: int) -> torch.Tensor:
    """An answers-only student's answer digits, (n, d+1)."""
    n, d = a.shape
    return model(window_features(a, b, window)).argmax(1).reshape(n, d + 1)


def exact_match(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of problems whose every answer digit is right."""
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape, got {tuple(pred.shape)} and {tuple(target.shape)}")
    return float((pred == target).all(1).float().mean())
