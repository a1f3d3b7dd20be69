"""A2 Object detection in miniature: digit glyphs on a canvas, scored region proposals, NMS, recall and precision.

* :func:`make_scenes` pastes 2-4 of scikit-learn's 8x8 digit images (at 1x or 2x) onto a blank canvas without
  overlap, from a ``torch.Generator``; :func:`split_scenes` puts the training, validation and test digit images
  of ``data.load("digits", split_seed=...)`` into training, validation and test scenes.
* :func:`sliding_windows` is the fixed set of region proposals: square windows of a few sizes and strides.
* :func:`crop` cuts every proposal out of its canvas and resizes it to a small patch with
  ``torchvision.ops.roi_align``; :func:`proposal_targets` labels a proposal with the digit of a ground-truth box
  it overlaps with IoU >= 0.5, *background* below 0.3, and ignores it in between (the R-CNN recipe).
* A patch classifier has 11 outputs: the ten digits and background (index :data:`BACKGROUND`). A proposal's score
  is ``1 - p(background)``, its label the most likely digit (:func:`scores_and_labels`).
* :func:`detect` keeps proposals above a score threshold and runs class-wise ``torchvision.ops.batched_nms``;
  :func:`match` pairs detections with ground truth greedily by score at IoU >= 0.5 (``torchvision.ops.box_iou``),
  each ground-truth box at most once and only by a detection of its digit; :func:`recall_precision` sums over
  scenes.

Boxes are ``(x1, y1, x2, y2)`` in continuous pixel coordinates: width ``x2 - x1``, no +1, as in torchvision.
NMS drops a box whose IoU with a kept, higher-scoring box is strictly above the threshold.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import data, train
from .._checks import check_choice, check_int_range, check_range
from ..compress.quantize import WEIGHTED, add_fake_quant
from ..compress.encode import ALLOWED_BITS
from ..seeding import fork, generator

N_DIGITS = 10
BACKGROUND = 10  # the eleventh output of a patch classifier
N_OUT = 11
PATCH = 8  # proposals are resized to PATCH x PATCH


# --------------------------------------------------------------------------- boxes and their checks
def check_boxes(name: str, boxes) -> torch.Tensor:
    """``boxes`` as an (N, 4) float tensor of (x1, y1, x2, y2) with x2 >= x1 and y2 >= y1, or a ValueError."""
    if not isinstance(boxes, torch.Tensor):
        try:
            boxes = torch.as_tensor(np.asarray(boxes, dtype=np.float32))
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be an (N, 4) array of (x1, y1, x2, y2) boxes, got {boxes!r}") from None
    if boxes.dim() == 1 and boxes.numel() == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.dim() != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), one (x1, y1, x2, y2) row per box, got shape "
                         f"{tuple(boxes.shape)}")
    boxes = boxes.float()
    if not bool(torch.isfinite(boxes).all()):
        raise ValueError(f"{name} must hold finite coordinates, got a nan or inf")
    for axis, (lo, hi) in (("x", (0, 2)), ("y", (1, 3))):
        bad = boxes[:, hi] < boxes[:, lo]
        if bool(bad.any()):
            i = int(bad.nonzero()[0, 0])
            raise ValueError(f"{name}[{i}] = {boxes[i].tolist()} has {axis}2 < {axis}1: every box needs "
                             f"{axis}2 >= {axis}1 (allowed: x1 <= x2 and y1 <= y2)")
    return boxes


def check_iou_threshold(name: str, value) -> float:
    """An IoU threshold must lie in [0, 1]."""
    return check_range(name, value, 0.0, 1.0)


def check_bits(bits) -> int:
    """A fake-quantization bit-width: one of compress.encode.ALLOWED_BITS (2..8)."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise ValueError(f"bits must be one of {list(ALLOWED_BITS)}, got {bits!r}")
    return int(check_choice("bits", int(bits), ALLOWED_BITS))


def box_iou(a, b) -> torch.Tensor:
    """The (N, M) IoU table of two sets of boxes (``torchvision.ops.box_iou`` after checking them)."""
    from torchvision.ops import box_iou as _iou

    return _iou(check_boxes("a", a), check_boxes("b", b))


# --------------------------------------------------------------------------- scenes
@dataclass(frozen=True)
class Scenes:
    """Canvases (N, 1, H, W) and, per scene, ground-truth boxes (k, 4) and digit labels (k,)."""
    images: torch.Tensor
    boxes: tuple
    labels: tuple

    def __len__(self):
        return len(self.images)

    @property
    def n_objects(self) -> int:
        return int(sum(len(b) for b in self.boxes))


def make_scenes(glyphs, glyph_labels, n_scenes: int, *, canvas: int = 40, n_objects=(2, 4), scales=(1, 2),
                noise: float = 0.05, seed: int = 0) -> Scenes:
    """``n_scenes`` canvases of ``canvas`` x ``canvas`` pixels, each with ``n_objects[0]..n_objects[1]`` digit
    glyphs drawn from ``glyphs`` (M, 8, 8) or (M, 64) in [0, 1], upscaled by a factor from ``scales``, at
    non-overlapping positions, plus uniform background noise of amplitude ``noise``. Deterministic in ``seed``.
    """
    glyphs = torch.as_tensor(glyphs, dtype=torch.float32)
    if glyphs.numel() == 0 or len(glyphs) == 0:
        raise ValueError("glyphs is empty: a scene needs at least one digit image to draw from (got 0)")
    glyphs = glyphs.reshape(len(glyphs), 8, 8)
    glyph_labels = torch.as_tensor(glyph_labels, dtype=torch.long).reshape(-1)
    if len(glyph_labels) != len(glyphs):
        raise ValueError(f"glyph_labels must hold one label per glyph ({len(glyphs)}), got {len(glyph_labels)}")
    n_scenes = check_int_range("n_scenes", n_scenes, 1, 100_000)
    canvas = check_int_range("canvas", canvas, 16, 256)
    lo, hi = (int(n_objects), int(n_objects)) if np.ndim(n_objects) == 0 else (int(n_objects[0]), int(n_objects[1]))
    check_int_range("n_objects (smallest)", lo, 1, 16)
    check_int_range("n_objects (largest)", hi, lo, 16)
    scales = tuple(int(check_int_range("scales", s, 1, 4)) for s in scales)
    if not scales:
        raise ValueError("scales is empty: give at least one upscaling factor in 1..4")
    if 8 * max(scales) > canvas:
        raise ValueError(f"canvas must be at least {8 * max(scales)} pixels for glyphs at scale {max(scales)}, "
                         f"got {canvas}")
    check_range("noise", noise, 0.0, 1.0)
    g = generator(seed)
    images = torch.rand(n_scenes, 1, canvas, canvas, generator=g) * noise
    all_boxes, all_labels = [], []
    for n in range(n_scenes):
        k = int(torch.randint(lo, hi + 1, (1,), generator=g))
        boxes, labels = [], []
        for _ in range(k):
            for _attempt in range(50):  # rejection sampling: no overlap with the glyphs already placed
                i = int(torch.randint(len(glyphs), (1,), generator=g))
                s = scales[int(torch.randint(len(scales), (1,), generator=g))]
                size = 8 * s
                x, y = (int(v) for v in torch.randint(canvas - size + 1, (2,), generator=g))
                box = (x, y, x + size, y + size)
                if all(box[2] <= b[0] or b[2] <= box[0] or box[3] <= b[1] or b[3] <= box[1] for b in boxes):
                    glyph = glyphs[i].repeat_interleave(s, 0).repeat_interleave(s, 1)
                    region = images[n, 0, y:y + size, x:x + size]
                    images[n, 0, y:y + size, x:x + size] = torch.maximum(region, glyph)
                    boxes.append(box)
                    labels.append(int(glyph_labels[i]))
                    break
        all_boxes.append(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4))
        all_labels.append(torch.tensor(labels, dtype=torch.long))
    return Scenes(images, tuple(all_boxes), tuple(all_labels))


def split_scenes(split_seed: int = 0, *, n_train: int = 200, n_val: int = 60, n_test: int = 100,
                 **scene_kw) -> dict:
    """Training, validation and test scenes built from the matching splits of the 8x8 digits.

    ``split_seed`` fixes which digit images go where (``data.load``) and the scene layouts.
    """
    ds = data.load("digits", split_seed=split_seed)
    out = {}
    for j, (part, n, X, y) in enumerate((("train", n_train, ds.X_train, ds.y_train), ("val", n_val, ds.X_val,
                                         ds.y_val), ("test", n_test, ds.X_test, ds.y_test))):
        out[part] = make_scenes(X, y, n, seed=1000 * int(split_seed) + j, **scene_kw)
    return out


# --------------------------------------------------------------------------- proposals
def sliding_windows(canvas: int = 40, sizes=(8, 16), strides=(2, 4)) -> torch.Tensor:
    """Square windows of each size at each stride, covering a ``canvas`` x ``canvas`` image: a (P, 4) tensor."""
    canvas = check_int_range("canvas", canvas, 1, 4096)
    sizes, strides = tuple(sizes), tuple(strides)
    if not sizes or len(sizes) != len(strides):
        raise ValueError(f"sizes and strides must be non-empty and of equal length, got {sizes} and {strides}")
    rows = []
    for size, stride in zip(sizes, strides):
        size = check_int_range("sizes", size, 1, canvas)
        stride = check_int_range("strides", stride, 1, canvas)
        starts = torch.arange(0, canvas - size + 1, stride, dtype=torch.float32)
        yy, xx = torch.meshgrid(starts, starts, indexing="ij")
        xx, yy = xx.reshape(-1), yy.reshape(-1)
        rows.append(torch.stack([xx, yy, xx + size, yy + size], 1))
    return torch.cat(rows)


def crop(images: torch.Tensor, proposals, *, size: int = PATCH) -> torch.Tensor:
    """Every proposal of every image, resized to ``size`` x ``size`` (``torchvision.ops.roi_align``).

    ``images`` is (N, 1, H, W); returns (N * P, 1, size, size), image-major.
    """
    from torchvision.ops import roi_align

    proposals = check_boxes("proposals", proposals)
    if images.dim() != 4 or len(images) == 0:
        raise ValueError(f"images must be a non-empty (N, C, H, W) batch, got shape {tuple(images.shape)}")
    n, p = len(images), len(proposals)
    idx = torch.arange(n, dtype=torch.float32).repeat_interleave(p)[:, None]
    rois = torch.cat([idx, proposals.repeat(n, 1)], 1)
    # aligned=True puts pixel centres at half-integers; one sample per bin is exact for our integer, square windows
    # (a 16-pixel window's 2x2 bins are sampled at their centres: the mean of 4 pixels) and 4x faster than 2x2.
    return roi_align(images, rois, output_size=(size, size), spatial_scale=1.0, sampling_ratio=1, aligned=True)


def proposal_targets(proposals, gt_boxes, gt_labels, *, fg_iou: float = 0.5, bg_iou: float = 0.3) -> torch.Tensor:
    """The training label of each proposal: the digit of the ground truth it overlaps most if IoU >= ``fg_iou``,
    :data:`BACKGROUND` if its best IoU is below ``bg_iou``, and -1 (ignored) in between."""
    fg_iou, bg_iou = check_iou_threshold("fg_iou", fg_iou), check_iou_threshold("bg_iou", bg_iou)
    if bg_iou > fg_iou:
        raise ValueError(f"bg_iou must be <= fg_iou ({fg_iou:g}), got {bg_iou:g}")
    proposals, gt_boxes = check_boxes("proposals", proposals), check_boxes("gt_boxes", gt_boxes)
    out = torch.full((len(proposals),), BACKGROUND, dtype=torch.long)
    if len(gt_boxes) == 0:
        return out
    best, which = box_iou(proposals, gt_boxes).max(1)
    out[best >= bg_iou] = -1
    fg = best >= fg_iou
    out[fg] = torch.as_tensor(gt_labels, dtype=torch.long)[which[fg]]
    return out


def training_patches(scenes: Scenes, proposals, *, near_per_fg: float = 2.0, bg_per_fg: float = 1.0,
                     seed: int = 0):
    """Patches and labels to train a patch classifier: every proposal with IoU >= 0.5 (labelled with its digit),
    ``near_per_fg`` times as many *near misses* (best IoU in (0.1, 0.5), labelled background: they teach the
    classifier where a digit must sit in its window) and ``bg_per_fg`` times as many other background proposals,
    both drawn with ``seed``. Returns (X (n, 1, 8, 8), y (n,))."""
    from torchvision.ops import box_iou as _iou

    check_range("near_per_fg", near_per_fg, 0.0, 1000.0)
    check_range("bg_per_fg", bg_per_fg, 0.0, 1000.0)
    proposals = check_boxes("proposals", proposals)
    patches = crop(scenes.images, proposals)
    y = torch.cat([proposal_targets(proposals, b, l, bg_iou=0.5) for b, l in zip(scenes.boxes, scenes.labels)])
    best = torch.cat([_iou(proposals, b).max(1).values if len(b) else torch.zeros(len(proposals))
                      for b in scenes.boxes])
    fg = (y < BACKGROUND).nonzero().reshape(-1)
    g = generator(seed)
    picks = [fg]
    for mask, ratio in (((best > 0.1) & (best < 0.5), near_per_fg), (best <= 0.1, bg_per_fg)):
        pool = mask.nonzero().reshape(-1)
        n = min(len(pool), int(round(ratio * len(fg))))
        picks.append(pool[torch.randperm(len(pool), generator=g)[:n]])
    keep = torch.cat(picks).sort().values
    return patches[keep], y[keep]


# --------------------------------------------------------------------------- patch classifiers
def teacher_net(seed: int = 0) -> nn.Sequential:
    """The teacher: conv 3x3 (16) - conv 3x3 stride 2 (32) - 64 - 11 on 8x8 patches (38,347 weights)."""
    with fork(seed):
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 32, 3, stride=2, padding=1),
                             nn.ReLU(), nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, N_OUT))


def student_net(seed: int = 0) -> nn.Sequential:
    """The student: one conv 3x3 stride 2 (16 channels) - 11 on 8x8 patches (2,987 weights; the teacher has 38,347)."""
    with fork(seed):
        return nn.Sequential(nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                             nn.Linear(16 * 4 * 4, N_OUT))


def train_patch_classifier(model: nn.Module, X, y, *, teacher_logits=None, T: float = 2.0, alpha: float = 0.7,
                           bits: int | None = None, epochs: int = 30, batch_size: int = 256, lr: float = 3e-3,
                           seed: int = 0) -> nn.Module:
    """Train ``model`` on patches (X, y): cross-entropy on the labels, or distillation from ``teacher_logits``
    (``alpha`` on the soft targets at temperature ``T``, KL with ``reduction="batchmean"``). With ``bits`` the
    weights of every convolution and linear layer are fake-quantized during training (quantization-aware training;
    the straight-through estimator is the parametrization's backward) and stay quantized afterwards."""
    if bits is not None:
        add_fake_quant(model, check_bits(bits), kinds=WEIGHTED)
    objective = (train.ce_objective(X, y) if teacher_logits is None
                 else train.kd_objective(X, y, teacher_logits, T=T, alpha=alpha))
    train.fit(model, objective, len(X), epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=1e-4, seed=seed)
    return model.eval()


class StudentStack(nn.Module):
    """``k`` copies of :func:`student_net` with the **same** initialisation (``seed``), trained side by side in one
    forward pass: the convolution has ``16 * k`` output channels (member ``i`` owns channels ``16 i .. 16 i + 15``)
    and the linear layers are one batched matrix product. With ``bits`` every member's convolution and linear
    weights are fake-quantized with one scale per member and tensor, exactly as ``add_fake_quant(student_net(seed),
    bits, kinds=WEIGHTED)`` does for a single student. Returns logits of shape (k, n, 11).

    Members share nothing but the forward pass: each weight belongs to one member, so when the loss is a sum of
    per-member losses each member receives the gradient it would get alone (Adam acts element-wise).
    :meth:`member` returns member ``i`` as an ordinary (fake-quantized) :func:`student_net`.
    """

    def __init__(self, k: int, bits: int | None = None, seed: int = 0):
        super().__init__()
        self.k = check_int_range("k", k, 1, 256)
        self.bits = None if bits is None else check_bits(bits)
        base = student_net(seed)
        conv, lin = base[0], base[3]
        self.conv_weight = nn.Parameter(conv.weight.detach().repeat(self.k, 1, 1, 1))
        self.conv_bias = nn.Parameter(conv.bias.detach().repeat(self.k))
        self.lin_weight = nn.Parameter(lin.weight.detach()[None].repeat(self.k, 1, 1))
        self.lin_bias = nn.Parameter(lin.bias.detach()[None].repeat(self.k, 1))
        self.channels = conv.out_channels

    def _q(self, w: torch.Tensor) -> torch.Tensor:
        if self.bits is None:
            return w
        from ..compress.quantize import fake_quantize

        # one row per member: a per-row scale is each member's per-tensor scale
        return fake_quantize(w.reshape(self.k, -1), self.bits, scheme="per_channel").reshape(w.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1:] != (1, PATCH, PATCH):
            raise ValueError(f"x must have shape (n, 1, {PATCH}, {PATCH}), got {tuple(x.shape)}")
        n = len(x)
        h = F.relu(F.conv2d(x, self._q(self.conv_weight), self.conv_bias, stride=2, padding=1))        # (n, 16 k, 4, 4)
        h = h.reshape(n, self.k, -1).transpose(0, 1)                               # (k, n, 16 * 4 * 4)
        return torch.baddbmm(self.lin_bias[:, None, :], h, self._q(self.lin_weight).transpose(1, 2))

    def member(self, i: int) -> nn.Sequential:
        """Member ``i`` as a :func:`student_net` (fake-quantized at ``bits`` like its training), in eval mode."""
        i = check_int_range("i", i, 0, self.k - 1)
        m = student_net(0)
        c = self.channels
        with torch.no_grad():
            m[0].weight.copy_(self.conv_weight[c * i:c * (i + 1)])
            m[0].bias.copy_(self.conv_bias[c * i:c * (i + 1)])
            m[3].weight.copy_(self.lin_weight[i])
            m[3].bias.copy_(self.lin_bias[i])
        if self.bits is not None:
            add_fake_quant(m, self.bits, kinds=WEIGHTED)
        return m.eval()


def check_kd_settings(settings) -> tuple:
    """A tuple of ``None`` (labels only) or ``(T, alpha)`` pairs with T > 0 and alpha in [0, 1]."""
    out = []
    for s in settings:
        if s is None:
            out.append(None)
            continue
        if not isinstance(s, (tuple, list)) or len(s) != 2:
            raise ValueError(f"settings must hold None or (T, alpha) pairs, got {s!r}")
        out.append((check_range("T", s[0], 0.0, 100.0, lo_open=True), check_range("alpha", s[1], 0.0, 1.0)))
    if not out:
        raise ValueError("settings is empty: give at least one None or (T, alpha)")
    return tuple(out)


def train_stack(stack: StudentStack, X, y, settings, *, teacher_logits=None, epochs: int = 30, batch_size: int = 256,
                lr: float = 3e-3, seed: int = 0) -> StudentStack:
    """Train every member of ``stack`` at once; member ``i`` on ``settings[i]``: ``None`` for cross-entropy with
    the labels, ``(T, alpha)`` for distillation from ``teacher_logits`` (as :func:`train_patch_classifier`). The
    loss is the sum of the members' losses, so each member trains as it would alone, on the same batches."""
    from ..losses import distill_step

    settings = check_kd_settings(settings)
    if len(settings) != stack.k:
        raise ValueError(f"settings must hold one entry per member ({stack.k}), got {len(settings)}")
    if any(s is not None for s in settings) and teacher_logits is None:
        raise ValueError("a (T, alpha) setting needs teacher_logits")
    if len(y) != len(X) or (teacher_logits is not None and len(teacher_logits) != len(X)):
        raise ValueError(f"X, y and teacher_logits must have one row per patch ({len(X)}), got {len(y)} and "
                         f"{None if teacher_logits is None else len(teacher_logits)}")

    def objective(model, idx):
        out = model(X[idx])
        yi = y[idx]
        ti = None if teacher_logits is None else teacher_logits[idx]
        total = 0.0
        for j, s in enumerate(settings):
            total = total + (F.cross_entropy(out[j], yi) if s is None
                             else distill_step(out[j], ti, yi, T=s[0], alpha=s[1])["loss"])
        return {"loss": total}

    train.fit(stack, objective, len(X), epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=1e-4, seed=seed)
    return stack.eval()


def quantize_copy(model: nn.Module, bits: int) -> nn.Module:
    """A fake-quantized copy of ``model`` at ``bits`` (post-training: no retraining)."""
    import copy

    return add_fake_quant(copy.deepcopy(model), check_bits(bits), kinds=WEIGHTED).eval()


@torch.no_grad()
def proposal_logits(model: nn.Module, scenes: Scenes, proposals) -> torch.Tensor:
    """Logits (N scenes, P proposals, 11) of ``model`` on every proposal of every scene."""
    patches = crop(scenes.images, proposals)
    return train.predict(model, patches).reshape(len(scenes), len(proposals), -1)


def scores_and_labels(logits: torch.Tensor):
    """Score = 1 - p(background) and label = the most likely digit, for logits (..., 11)."""
    if logits.shape[-1] != N_OUT:
        raise ValueError(f"logits must have {N_OUT} columns (10 digits + background), got {logits.shape[-1]}")
    p = F.softmax(logits.float(), -1)
    return 1 - p[..., BACKGROUND], p[..., :N_DIGITS].argmax(-1)


# --------------------------------------------------------------------------- detection and its evaluation
def detect(proposals, scores, labels, *, score_threshold: float = 0.5, nms_iou: float = 0.3,
           class_agnostic: bool = True):
    """Keep proposals scoring >= ``score_threshold``, then NMS at ``nms_iou``: over all boxes
    (``torchvision.ops.nms``; the default, since our digits do not overlap) or within each digit
    (``class_agnostic=False``: ``torchvision.ops.batched_nms``). Returns (boxes, scores, labels) by decreasing
    score."""
    proposals = check_boxes("proposals", proposals)
    check_range("score_threshold", score_threshold, 0.0, 1.0)
    check_iou_threshold("nms_iou", nms_iou)
    scores, labels = torch.as_tensor(scores, dtype=torch.float32), torch.as_tensor(labels, dtype=torch.long)
    if scores.shape != (len(proposals),) or labels.shape != (len(proposals),):
        raise ValueError(f"scores and labels must hold one value per proposal ({len(proposals)}), got shapes "
                         f"{tuple(scores.shape)} and {tuple(labels.shape)}")
    return _detect(proposals, scores, labels, float(score_threshold), float(nms_iou), class_agnostic)


def _detect(proposals, scores, labels, score_threshold, nms_iou, class_agnostic=True):
    """:func:`detect` without the checks (its callers have checked once for many scenes)."""
    from torchvision.ops import batched_nms, nms

    keep = (scores >= score_threshold).nonzero().reshape(-1)
    b, s, lab = proposals[keep], scores[keep], labels[keep]
    k = nms(b, s, nms_iou) if class_agnostic else batched_nms(b, s, lab, nms_iou)
    return b[k], s[k], lab[k]


def match(det_boxes, det_scores, det_labels, gt_boxes, gt_labels, *, iou_threshold: float = 0.5) -> torch.Tensor:
    """Which detections are true positives: greedily by decreasing score, each detection takes the unmatched
    ground-truth box of its own digit with the highest IoU, if that IoU is >= ``iou_threshold``. Each ground-truth
    box is matched at most once. Returns a bool tensor, one per detection."""
    check_iou_threshold("iou_threshold", iou_threshold)
    det_boxes, gt_boxes = check_boxes("det_boxes", det_boxes), check_boxes("gt_boxes", gt_boxes)
    det_scores = torch.as_tensor(det_scores, dtype=torch.float32).reshape(-1)
    det_labels = torch.as_tensor(det_labels, dtype=torch.long).reshape(-1)
    gt_labels = torch.as_tensor(gt_labels, dtype=torch.long).reshape(-1)
    if len(det_scores) != len(det_boxes) or len(det_labels) != len(det_boxes) or len(gt_labels) != len(gt_boxes):
        raise ValueError("det_scores and det_labels need one entry per detection, gt_labels one per ground-truth box")
    return _match(det_boxes, det_scores, det_labels, gt_boxes, gt_labels, float(iou_threshold))


def _match(det_boxes, det_scores, det_labels, gt_boxes, gt_labels, iou_threshold):
    """:func:`match` without the checks."""
    from torchvision.ops import box_iou as _iou

    tp = torch.zeros(len(det_boxes), dtype=torch.bool)
    if len(det_boxes) == 0 or len(gt_boxes) == 0:
        return tp
    iou = _iou(det_boxes, gt_boxes)
    iou[det_labels[:, None] != gt_labels[None, :]] = -1.0
    taken = torch.zeros(len(gt_boxes), dtype=torch.bool)
    for i in det_scores.argsort(descending=True, stable=True).tolist():
        row = iou[i].masked_fill(taken, -1.0)
        j = int(row.argmax())
        if float(row[j]) >= iou_threshold:
            tp[i], taken[j] = True, True
    return tp


def recall_precision(detections, scenes: Scenes, *, iou_threshold: float = 0.5) -> dict:
    """Recall (share of ground-truth boxes found) and precision (share of detections that are right) summed over
    scenes; ``detections`` holds one (boxes, scores, labels) per scene."""
    if len(detections) != len(scenes):
        raise ValueError(f"detections must hold one entry per scene ({len(scenes)}), got {len(detections)}")
    iou_threshold = check_iou_threshold("iou_threshold", iou_threshold)
    tp = n_det = 0
    for (b, s, lab), gb, gl in zip(detections, scenes.boxes, scenes.labels):
        tp += int(_match(b, s, lab, gb, gl, iou_threshold).sum())
        n_det += len(b)
    n_gt = scenes.n_objects
    recall = tp / n_gt if n_gt else 0.0
    precision = tp / n_det if n_det else 1.0
    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    return dict(recall=recall, precision=precision, f1=f1, tp=tp, detections=n_det, objects=n_gt)


def detect_all(proposals, logits: torch.Tensor, *, score_threshold: float = 0.5, nms_iou: float = 0.3) -> list:
    """:func:`detect` on every scene of a (N, P, 11) logits tensor."""
    proposals = check_boxes("proposals", proposals)
    score_threshold = check_range("score_threshold", score_threshold, 0.0, 1.0)
    nms_iou = check_iou_threshold("nms_iou", nms_iou)
    if logits.dim() != 3 or logits.shape[1] != len(proposals):
        raise ValueError(f"logits must have shape (scenes, {len(proposals)} proposals, 11), got "
                         f"{tuple(logits.shape)}")
    scores, labels = scores_and_labels(logits)
    return [_detect(proposals, s, lab, score_threshold, nms_iou) for s, lab in zip(scores, labels)]


SCORE_GRID, NMS_GRID = (0.5, 0.7, 0.8, 0.9, 0.95, 0.98), (0.1, 0.3)


def threshold_table(proposals, logits: torch.Tensor, scenes: Scenes, *, score_grid=SCORE_GRID,
                    nms_grid=NMS_GRID) -> dict:
    """:func:`recall_precision` at every (score threshold, NMS IoU) of the grids, as ``{(st, nms): dict}``.

    NMS and matching run once per NMS IoU, at the lowest score threshold: greedy NMS and greedy matching both
    take boxes by decreasing score, so what they decide for the boxes above a higher threshold does not depend
    on the boxes below it, and each higher threshold only cuts the list.
    """
    proposals = check_boxes("proposals", proposals)
    score_grid = sorted(float(check_range("score_grid", v, 0.0, 1.0)) for v in score_grid)
    if not score_grid or not nms_grid:
        raise ValueError("score_grid and nms_grid must each hold at least one threshold")
    n_gt = scenes.n_objects
    out = {}
    for ni in nms_grid:
        dets = detect_all(proposals, logits, score_threshold=score_grid[0], nms_iou=ni)
        if len(dets) != len(scenes):
            raise ValueError(f"logits must hold one row per scene ({len(scenes)}), got {len(dets)}")
        sc = [s for _, s, _ in dets]
        tp = [_match(b, s, lab, gb, gl, 0.5) for (b, s, lab), gb, gl in zip(dets, scenes.boxes, scenes.labels)]
        sc, tp = (torch.cat(sc), torch.cat(tp)) if sc else (torch.zeros(0), torch.zeros(0, dtype=torch.bool))
        for st in score_grid:
            keep = sc >= st
            t, n_det = int((tp & keep).sum()), int(keep.sum())
            recall = t / n_gt if n_gt else 0.0
            precision = t / n_det if n_det else 1.0
            f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
            out[(st, float(ni))] = dict(recall=recall, precision=precision, f1=f1, tp=t, detections=n_det,
                                        objects=n_gt)
    return out


def choose_thresholds(proposals, logits: torch.Tensor, scenes: Scenes, *, score_grid=SCORE_GRID,
                      nms_grid=NMS_GRID) -> dict:
    """The (score threshold, NMS IoU) pair with the highest F1 on ``scenes`` (use validation scenes); on a tie,
    the first in the order score threshold, then NMS IoU."""
    table = threshold_table(proposals, logits, scenes, score_grid=score_grid, nms_grid=nms_grid)
    best = None
    for st in score_grid:
        for ni in nms_grid:
            r = table[(float(st), float(ni))]
            if best is None or r["f1"] > best["f1"] + 1e-12:
                best = dict(score_threshold=float(st), nms_iou=float(ni), **r)
    return best


# --------------------------------------------------------------------------- the experiment, cached
SCENE_KW = dict(n_train=150, n_val=50, n_test=80)
TEACHER_KW = dict(epochs=30, batch_size=128, lr=3e-3)
STUDENT_KW = dict(epochs=20, batch_size=512, lr=1e-2)
#: the distillation settings tried for the distilled student, (T, alpha); one is chosen on validation scenes
KD_GRID = tuple((T, a) for T in (1.0, 2.0, 4.0) for a in (0.3, 0.7))
#: the members of one stack of students: labels only, then every KD setting, all from the same initialisation
SETTINGS = (None,) + KD_GRID
BITS = (8, 4, 2)
N_SEEDS = 4  # student seeds per split seed: range(N_SEEDS * split_seed, N_SEEDS * split_seed + N_SEEDS)


def _split_cached():
    from functools import lru_cache

    @lru_cache(maxsize=4)
    def get(split_seed):
        sc = split_scenes(split_seed, **SCENE_KW)
        P = sliding_windows()
        X, y = training_patches(sc["train"], P, seed=split_seed)
        return sc, P, X, y
    return get


_split = _split_cached()


def data_for(split_seed: int = 0):
    """(scenes by split, proposals, training patches X, their labels y) for ``split_seed``, cached in memory."""
    return _split(int(split_seed))


def teacher(split_seed: int = 0) -> nn.Module:
    """The cached teacher CNN for ``split_seed`` (its scenes, patches and initialisation follow the seed)."""
    from .. import cache

    _, _, X, y = data_for(split_seed)
    config = dict(kind="a2-teacher", split_seed=int(split_seed), scenes=SCENE_KW, **TEACHER_KW)
    return cache.cached_model(config, lambda: teacher_net(split_seed),
                              lambda m: train_patch_classifier(m, X, y, seed=split_seed, **TEACHER_KW),
                              name="a2-teacher")


def student_seeds(split_seed: int) -> list:
    """The student seeds of ``split_seed``: disjoint for different split seeds."""
    return list(range(N_SEEDS * int(split_seed), N_SEEDS * int(split_seed) + N_SEEDS))


def _stack_config(split_seed, seed, bits):
    return dict(kind="a2-stack", split_seed=int(split_seed), seed=int(seed), bits=int(bits),
                settings=[list(s) if s else None for s in SETTINGS], scenes=SCENE_KW, teacher=TEACHER_KW,
                **STUDENT_KW)


def stack(split_seed: int, seed: int, bits: int) -> StudentStack:
    """The cached :class:`StudentStack` of ``split_seed``: one member per entry of :data:`SETTINGS` (labels only,
    then each KD setting), all from initialisation ``seed`` and trained on the same batches at ``bits``."""
    from .. import cache

    check_bits(bits)
    _, _, X, y = data_for(split_seed)

    def fit(m):
        tl = train.predict(teacher(split_seed), X)
        train_stack(m, X, y, SETTINGS, teacher_logits=tl, seed=seed, **STUDENT_KW)

    return cache.cached_model(_stack_config(split_seed, seed, bits), lambda: StudentStack(len(SETTINGS), bits, seed),
                              fit, name="a2-stack")


def student(split_seed: int, seed: int, bits: int, setting=None) -> nn.Module:
    """One cached student: ``setting=None`` trained on labels, ``(T, alpha)`` (from :data:`KD_GRID`) distilled."""
    setting = check_kd_settings([setting])[0]
    if setting not in SETTINGS:
        raise ValueError(f"setting must be None or one of {list(KD_GRID)}, got {setting!r}")
    return stack(split_seed, seed, bits).member(SETTINGS.index(setting))


_CROPS: dict = {}


@torch.no_grad()
def split_logits(model: nn.Module, split_seed: int, part: str) -> torch.Tensor:
    """Logits (scenes, proposals, 11) of ``model`` on the ``part`` ("val" or "test") scenes of ``split_seed``;
    the crops are cut once per process and reused."""
    check_choice("part", part, ("train", "val", "test"))
    sc, P, _, _ = data_for(split_seed)
    key = (int(split_seed), part)
    if key not in _CROPS:
        _CROPS[key] = crop(sc[part].images, P)
    return train.predict(model, _CROPS[key]).reshape(len(sc[part]), len(P), -1)


def evaluate(model: nn.Module, split_seed: int) -> dict:
    """Thresholds chosen for best F1 on the validation scenes (recall, precision and F1 there as ``val_*``);
    recall and precision at them on the test scenes."""
    return _evaluate_logits(split_seed, split_logits(model, split_seed, "val"), split_logits(model, split_seed, "test"))


@torch.no_grad()
def stack_logits(m: StudentStack, split_seed: int, part: str) -> torch.Tensor:
    """Logits (members, scenes, proposals, 11) of every member of ``m`` on the ``part`` scenes."""
    check_choice("part", part, ("train", "val", "test"))
    sc, P, _, _ = data_for(split_seed)
    key = (int(split_seed), part)
    if key not in _CROPS:
        _CROPS[key] = crop(sc[part].images, P)
    return m.eval()(_CROPS[key]).reshape(m.k, len(sc[part]), len(P), -1)


def _evaluate_logits(split_seed, val_logits, test_logits) -> dict:
    sc, P, _, _ = data_for(split_seed)
    th = choose_thresholds(P, val_logits, sc["val"])
    test = threshold_table(P, test_logits, sc["test"], score_grid=[th["score_threshold"]], nms_grid=[th["nms_iou"]])
    r = test[(th["score_threshold"], th["nms_iou"])]
    return dict(score_threshold=th["score_threshold"], nms_iou=th["nms_iou"], val_recall=th["recall"],
                val_precision=th["precision"], val_f1=th["f1"], **r)


def experiment(split_seed: int = 0, seeds=None, bits_list=BITS, *, progress: bool = False) -> list:
    """Every bit-width x seed x member of :data:`SETTINGS`: thresholds chosen on validation scenes (recall,
    precision and F1 there are kept as ``val_*``), recall and precision after NMS on test scenes. Returns a list
    of row dicts; students and rows are cached on disk, keyed by their full configuration."""
    import json

    from .. import cache

    seeds = student_seeds(split_seed) if seeds is None else [int(s) for s in seeds]
    bits_list = [check_bits(b) for b in bits_list]
    jobs = [(b, s) for b in bits_list for s in seeds]
    if progress:
        from tqdm.auto import tqdm
        jobs = tqdm(jobs, desc=f"stacks of {len(SETTINGS)} students (trained once, then cached)", leave=False)
    rows = []
    for b, s in jobs:
        config = dict(_stack_config(split_seed, s, b), rows="v1", score_grid=SCORE_GRID, nms_grid=NMS_GRID)
        path = cache.cache_dir() / f"a2-rows-{cache.config_key(config)}.json"
        try:
            part = json.loads(path.read_text())
        except (OSError, ValueError):
            m = stack(split_seed, s, b)
            val, test = stack_logits(m, split_seed, "val"), stack_logits(m, split_seed, "test")
            part = []
            for i, setting in enumerate(SETTINGS):
                T, alpha = setting if setting else (None, None)
                part.append(dict(bits=b, seed=s, distilled=setting is not None, T=T, alpha=alpha,
                                 **_evaluate_logits(split_seed, val[i], test[i])))
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(part))
            tmp.replace(path)
        rows.extend(part)
    return rows


def choose_kd(rows, *, metric: str = "val_f1") -> dict:
    """For each bit-width in ``rows`` (from :func:`experiment`), the (T, alpha) of the distilled students with the
    highest mean ``metric`` over seeds on the **validation** scenes; on a tie, the first in :data:`KD_GRID` order."""
    check_choice("metric", metric, ("val_f1", "val_recall", "val_precision"))
    rows = [r for r in rows if r["distilled"]]
    if not rows:
        raise ValueError("rows holds no distilled student: run experiment() first")
    out = {}
    for b in sorted({r["bits"] for r in rows}, reverse=True):
        means = {}
        for r in rows:
            if r["bits"] == b:
                means.setdefault((r["T"], r["alpha"]), []).append(r[metric])
        order = [s for s in KD_GRID if s in means] + [s for s in means if s not in KD_GRID]
        out[b] = max(order, key=lambda s: (float(np.mean(means[s])), -order.index(s)))
    return out
