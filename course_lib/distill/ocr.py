"""Reading digit strings in miniature: glyph strings, a convolutional CTC reader, greedy decoding and error counts.

* ``make_strings(glyphs, digits, n, seed=...)`` lays real 8x8 digit glyphs (e.g. sklearn's digits) side by
  side with random gaps of 0-``max_gap`` columns, padded to a fixed width: an image (8 rows x ``width``
  columns) per string, its label ids (digit + 1, since class 0 is the CTC **blank**) and its text.
* ``ConvCTC``: a fully convolutional reader (``Conv1d`` over the columns, the 8 pixel rows as input channels;
  one stride-2 layer, so ``width`` columns give ``width // 2`` frames) ending in ``log_softmax`` over
  ``1 + 10`` classes per frame. Teacher and student differ only in ``channels``, so they share the frame rate
  and hence a frame-by-frame alignment.
* ``min_frames`` / ``check_ctc_targets``: CTC needs at least ``len(labels) + repeats`` frames (a blank must sit
  between two equal neighbours); ``ctc_loss`` wraps ``F.ctc_loss`` with those checks.
* ``frame_kd``: the per-frame KL divergence to a teacher's per-frame distributions.
* ``fit_ctc``: full-batch (or mini-batch) training with CTC, optionally plus ``frame_kd``.
* ``greedy_decode``: best path decoding (argmax per frame, merge runs of the same label, then drop blanks).
* ``edit_counts`` / ``error_rate``: insertions, deletions and substitutions from rapidfuzz's Levenshtein
  ``editops`` between the true and the decoded string, and the character error rate
  ``(I + D + S) / reference length`` summed over a set.

References: Graves et al. (2006), Connectionist temporal classification; Shi, Bai & Yao (2015), CRNN.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import train
from .._checks import check_float_tensor, check_int_range, check_range
from ..seeding import fork, generator

BLANK = 0
N_CLASSES = 11          # blank + 10 digits; digit d has class id d + 1
HEIGHT = GLYPH_WIDTH = 8
MAX_LEN, MAX_GAP, WIDTH = 6, 3, 64


# --------------------------------------------------------------------------- labels and text
def digits_to_ids(text: str) -> list[int]:
    """'307' -> [4, 1, 8] (class id = digit + 1; 0 is the blank)."""
    if not isinstance(text, str) or not text.isdigit():
        raise ValueError(f"text must be a non-empty string of digits 0-9, got {text!r}")
    return [int(c) + 1 for c in text]


def ids_to_digits(ids, *, blank: int = BLANK) -> str:
    """[4, 1, 8] -> '307'. A blank id in ``ids`` is refused (decode first)."""
    out = []
    for i in ids:
        i = int(i)
        if i == blank or not 1 <= i <= 10:
            raise ValueError(f"ids must be digit class ids in 1..10 (no blank {blank}), got {i}")
        out.append(str(i - 1))
    return "".join(out)


# --------------------------------------------------------------------------- data
@dataclass(frozen=True, eq=False)
class DigitStrings:
    images: torch.Tensor    # (n, 8, width) float in [0, 1]
    targets: torch.Tensor   # (n, max_len) long, class ids 1..10, padded with 0
    lengths: torch.Tensor   # (n,) long
    texts: tuple            # the true strings, e.g. '3071'
    glyph_index: torch.Tensor  # (n, max_len) which glyph image each character is (-1: padding)

    def __len__(self):
        return len(self.texts)


def make_strings(glyphs: torch.Tensor, digits: torch.Tensor, n: int, *, min_len: int = 3, max_len: int = MAX_LEN,
                 max_gap: int = MAX_GAP, width: int = WIDTH, seed: int = 0) -> DigitStrings:
    """``n`` strings of ``min_len``..``max_len`` glyphs drawn (with replacement) from ``glyphs``.

    ``glyphs``: (m, 8, 8) images, ``digits``: (m,) their digit 0-9. Between two glyphs a gap of 0..``max_gap``
    empty columns; the string starts 0-3 columns from the left (as room allows) and is padded with zeros to
    ``width`` columns. Only ``seed`` drives the draws (lengths, glyphs, gaps).
    """
    check_float_tensor("glyphs", glyphs)
    if glyphs.dim() != 3 or tuple(glyphs.shape[1:]) != (HEIGHT, GLYPH_WIDTH) or len(glyphs) == 0:
        raise ValueError(f"glyphs must have shape (m, {HEIGHT}, {GLYPH_WIDTH}) with m >= 1, got {tuple(glyphs.shape)}")
    digits = torch.as_tensor(digits).long().flatten()
    if len(digits) != len(glyphs) or int(digits.min()) < 0 or int(digits.max()) > 9:
        raise ValueError(f"digits must hold one digit in 0..9 per glyph ({len(glyphs)}), got shape "
                         f"{tuple(digits.shape)} with values {digits.unique()[:10].tolist()}")
    n = check_int_range("n", n, 1, 10**6)
    min_len = check_int_range("min_len", min_len, 1, 64)
    max_len = check_int_range("max_len", max_len, min_len, 64)
    max_gap = check_int_range("max_gap", max_gap, 0, 32)
    need = max_len * GLYPH_WIDTH + (max_len - 1) * max_gap
    width = check_int_range("width", width, need, 4096)
    g = generator(seed)
    lens = torch.randint(min_len, max_len + 1, (n,), generator=g)
    pick = torch.randint(0, len(glyphs), (n, max_len), generator=g)
    gaps = torch.randint(0, max_gap + 1, (n, max_len), generator=g)
    offs = torch.randint(0, 4, (n,), generator=g)
    images = torch.zeros(n, HEIGHT, width)
    targets = torch.zeros(n, max_len, dtype=torch.long)
    index = torch.full((n, max_len), -1, dtype=torch.long)
    texts = []
    for i in range(n):
        L = int(lens[i])
        used = L * GLYPH_WIDTH + int(gaps[i, :L - 1].sum())
        x = min(int(offs[i]), width - used)
        for j in range(L):
            k = int(pick[i, j])
            images[i, :, x:x + GLYPH_WIDTH] = glyphs[k]
            x += GLYPH_WIDTH + (int(gaps[i, j]) if j < L - 1 else 0)
        targets[i, :L] = digits[pick[i, :L]] + 1
        index[i, :L] = pick[i, :L]
        texts.append("".join(str(int(d)) for d in digits[pick[i, :L]]))
    return DigitStrings(images, targets, lens.long(), tuple(texts), index)


# --------------------------------------------------------------------------- model
class ConvCTC(nn.Module):
    """Conv1d over image columns -> per-frame log-probabilities over blank + 10 digits.

    Four 3-wide convolutions (the second with stride 2) and a 1x1 read-out: ``width`` columns give
    ``width // 2`` frames, each seeing 14 columns (almost two glyphs). Output: (n, frames, 11) log-probabilities.
    """

    def __init__(self, channels: int = 32, *, n_classes: int = N_CLASSES, height: int = HEIGHT, seed: int = 0):
        super().__init__()
        channels = check_int_range("channels", channels, 1, 1024)
        check_int_range("n_classes", n_classes, 2, 1000)
        with fork(seed):
            c = channels
            self.body = nn.Sequential(
                nn.Conv1d(height, c, 3, padding=1), nn.BatchNorm1d(c), nn.ReLU(),
                nn.Conv1d(c, c, 3, stride=2, padding=1), nn.BatchNorm1d(c), nn.ReLU(),
                nn.Conv1d(c, c, 3, padding=1), nn.BatchNorm1d(c), nn.ReLU(),
                nn.Conv1d(c, c, 3, padding=1), nn.BatchNorm1d(c), nn.ReLU(),
            )
            self.head = nn.Conv1d(c, n_classes, 1)
        self.height, self.channels = height, channels

    @staticmethod
    def frames(width: int) -> int:
        """Number of output frames for an image ``width`` columns wide."""
        return (int(width) - 1) // 2 + 1

    def forward(self, x):
        if x.dim() != 3 or x.shape[1] != self.height:
            raise ValueError(f"x must have shape (n, {self.height}, width), got {tuple(x.shape)}")
        return F.log_softmax(self.head(self.body(x)).transpose(1, 2), dim=-1)


# --------------------------------------------------------------------------- CTC
def min_frames(labels) -> int:
    """Fewest frames CTC needs for ``labels``: one per label plus one blank between each pair of equal neighbours."""
    labels = [int(v) for v in labels]
    return len(labels) + sum(a == b for a, b in zip(labels, labels[1:]))


def check_blank(blank, n_classes: int) -> int:
    return check_int_range("blank", blank, 0, n_classes - 1)


def check_ctc_targets(n_frames: int, targets: torch.Tensor, lengths: torch.Tensor, *, blank: int = BLANK,
                      n_classes: int = N_CLASSES) -> None:
    """Raise a ValueError naming the first string whose labels cannot be aligned to ``n_frames`` frames."""
    blank = check_blank(blank, n_classes)
    lengths = torch.as_tensor(lengths).long()
    if targets.dim() != 2 or lengths.dim() != 1 or len(lengths) != len(targets):
        raise ValueError(f"targets must be (n, max_len) and lengths (n,), got {tuple(targets.shape)} and "
                         f"{tuple(lengths.shape)}")
    if len(lengths) and (int(lengths.min()) < 1 or int(lengths.max()) > targets.shape[1]):
        raise ValueError(f"lengths must be in 1..{targets.shape[1]} (strings of length >= 1), got "
                         f"{int(lengths.min())}..{int(lengths.max())}")
    for i in range(len(targets)):
        lab = targets[i, :int(lengths[i])].tolist()
        bad = [v for v in lab if v == blank or not 0 <= v < n_classes]
        if bad:
            raise ValueError(f"targets[{i}] must hold label ids in 0..{n_classes - 1} other than the blank "
                             f"{blank}, got {bad[0]}")
        need = min_frames(lab)
        if need > n_frames:
            raise ValueError(f"targets[{i}] has length {len(lab)} with {need - len(lab)} repeat(s) needing a blank, "
                             f"so CTC needs at least {need} frames; the input has n_frames={n_frames} "
                             f"(allowed: label length + repeats <= {n_frames})")


def ctc_loss(log_probs: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor, *, blank: int = BLANK,
             check: bool = True) -> torch.Tensor:
    """``F.ctc_loss`` (mean over strings of the loss divided by the target length) for (n, frames, classes) input."""
    check_float_tensor("log_probs", log_probs)
    if log_probs.dim() != 3:
        raise ValueError(f"log_probs must have shape (n, frames, classes), got {tuple(log_probs.shape)}")
    n, T, C = log_probs.shape
    if check:
        check_ctc_targets(T, targets, lengths, blank=blank, n_classes=C)
    else:
        check_blank(blank, C)
    input_lengths = torch.full((n,), T, dtype=torch.long)
    return F.ctc_loss(log_probs.transpose(0, 1), targets, input_lengths, torch.as_tensor(lengths).long(),
                      blank=blank, reduction="mean", zero_infinity=True)


def frame_kd(student_log_probs: torch.Tensor, teacher_log_probs: torch.Tensor, *, tau: float = 1.0) -> torch.Tensor:
    """KL(teacher || student) per frame, averaged over all frames of all strings (times tau^2).

    Both are (n, frames, classes) log-probabilities with the **same** frame rate. With ``tau`` != 1 both are
    re-softened: log_softmax(log_probs / tau).
    """
    check_float_tensor("student_log_probs", student_log_probs)
    check_float_tensor("teacher_log_probs", teacher_log_probs)
    if student_log_probs.shape != teacher_log_probs.shape:
        raise ValueError(f"student and teacher must give the same (n, frames, classes): same frame rate and "
                         f"classes; got {tuple(student_log_probs.shape)} and {tuple(teacher_log_probs.shape)}")
    tau = check_range("tau", tau, 0, 100, lo_open=True)
    C = student_log_probs.shape[-1]
    s = F.log_softmax(student_log_probs / tau, -1).reshape(-1, C)
    t = F.log_softmax(teacher_log_probs / tau, -1).reshape(-1, C)
    return F.kl_div(s, t, reduction="batchmean", log_target=True) * tau * tau


def fit_ctc(model: nn.Module, data: DigitStrings, *, teacher_log_probs: torch.Tensor | None = None,
            weight: float = 0.0, tau: float = 1.0, epochs: int = 12, lr: float = 1e-2,
            batch_size: int | None = 50, seed: int = 0, progress=False):
    """Train with ``(1 - weight) * CTC + weight * frame_kd`` (``weight=0``: CTC on the labels only).

    Adam with a one-cycle learning-rate schedule (warm up to ``lr``, then anneal towards 0), mini-batches
    drawn with ``seed``; returns a ``train.History`` of per-epoch mean loss terms.
    """
    weight = check_range("weight", weight, 0, 1)
    if weight > 0 and teacher_log_probs is None:
        raise ValueError("weight > 0 needs teacher_log_probs (the teacher's per-frame log-probabilities)")
    X, Y, L = data.images, data.targets, data.lengths
    with torch.no_grad():
        T = model(X[:1]).shape[1]
    check_ctc_targets(T, Y, L, n_classes=N_CLASSES)
    if teacher_log_probs is not None and teacher_log_probs.shape[:2] != (len(X), T):
        raise ValueError(f"teacher_log_probs must be ({len(X)}, {T}, classes) (the student's frame rate), got "
                         f"{tuple(teacher_log_probs.shape)}")

    def objective(m, idx):
        lp = m(X[idx])
        ctc = ctc_loss(lp, Y[idx], L[idx], check=False)
        if weight == 0:
            return {"loss": ctc, "ctc": ctc}
        kd = frame_kd(lp, teacher_log_probs[idx], tau=tau)
        return {"loss": (1 - weight) * ctc + weight * kd, "ctc": ctc, "kd": kd}

    epochs = check_int_range("epochs", epochs, 1, 10**5)
    n = len(X)
    bs = n if batch_size is None else check_int_range("batch_size", batch_size, 1, 10**6)
    # ``train.fit`` draws the same batches from ``seed``; OneCycle warms the rate up over the first quarter.
    return train.fit(model, objective, n, epochs=epochs, lr=lr, batch_size=bs, seed=seed, progress=progress,
                     schedule=lambda opt, steps: torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps,
                                                                                     pct_start=0.25))


@torch.no_grad()
def predict_log_probs(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    return train.predict(model, images)


# --------------------------------------------------------------------------- decoding and errors
def greedy_decode(log_probs: torch.Tensor, *, blank: int = BLANK):
    """Best path decoding: the most likely label of each frame, runs of the same label merged, then blanks dropped.

    ``log_probs``: (frames, classes) gives one list of label ids; (n, frames, classes) a list of n lists.
    Merging comes first, so ``a a blank a`` reads ``a a`` and ``a a a`` reads ``a``.
    """
    if not isinstance(log_probs, torch.Tensor) or log_probs.dim() not in (2, 3):
        raise ValueError(f"log_probs must be a (frames, classes) or (n, frames, classes) tensor, got "
                         f"{getattr(log_probs, 'shape', type(log_probs).__name__)}")
    blank = check_blank(blank, log_probs.shape[-1])
    path = log_probs.argmax(-1)
    if path.dim() == 1:
        path = path[None]
    keep = torch.ones_like(path, dtype=torch.bool)
    keep[:, 1:] = path[:, 1:] != path[:, :-1]
    keep &= path != blank
    out = [p[k].tolist() for p, k in zip(path, keep)]
    return out[0] if log_probs.dim() == 2 else out


def edit_ops(reference: str, hypothesis: str) -> list[tuple[str, int, int]]:
    """The edit operations turning ``reference`` into ``hypothesis`` (rapidfuzz Levenshtein ``editops``).

    Each is ``(tag, ref_pos, hyp_pos)`` with tag ``"replace"`` (a substitution), ``"insert"`` (an extra character
    in the hypothesis) or ``"delete"`` (a reference character the hypothesis misses).
    """
    from rapidfuzz.distance import Levenshtein

    return [(op.tag, op.src_pos, op.dest_pos) for op in Levenshtein.editops(str(reference), str(hypothesis))]


def edit_counts(reference: str, hypothesis: str) -> dict:
    """Insertions, deletions and substitutions of one minimal alignment; their sum is the edit distance."""
    if str(reference) == str(hypothesis):  # the common case, without an alignment
        return {"insertions": 0, "deletions": 0, "substitutions": 0, "ref_len": len(str(reference))}
    ops = edit_ops(reference, hypothesis)
    return {"insertions": sum(t == "insert" for t, _, _ in ops), "deletions": sum(t == "delete" for t, _, _ in ops),
            "substitutions": sum(t == "replace" for t, _, _ in ops), "ref_len": len(str(reference))}


def error_rate(references, hypotheses) -> dict:
    """Summed I, D, S over a set and the character error rate ``(I + D + S) / total reference length``."""
    references, hypotheses = list(references), list(hypotheses)
    if len(references) != len(hypotheses) or not references:
        raise ValueError(f"references and hypotheses must be non-empty and of equal length, got "
                         f"{len(references)} and {len(hypotheses)}")
    tot = {"insertions": 0, "deletions": 0, "substitutions": 0, "ref_len": 0}
    for r, h in zip(references, hypotheses):
        for k, v in edit_counts(r, h).items():
            tot[k] += v
    if tot["ref_len"] == 0:
        raise ValueError("the references are all empty; the character error rate needs at least one character")
    tot["errors"] = tot["insertions"] + tot["deletions"] + tot["substitutions"]
    tot["cer"] = tot["errors"] / tot["ref_len"]
    tot["string_accuracy"] = sum(r == h for r, h in zip(references, hypotheses)) / len(references)
    return tot


def read_strings(model: nn.Module, images: torch.Tensor, *, blank: int = BLANK) -> list[str]:
    """Decode every image to its digit string (greedy)."""
    return [ids_to_digits(ids, blank=blank) if ids else "" for ids in
            greedy_decode(predict_log_probs(model, images), blank=blank)]
