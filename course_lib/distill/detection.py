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


def choose_thresholds(proposals, logits: torch.Tensor, scenes: Scenes, *, score_grid=(0.5, 0.7, 0.8, 0.9, 0.95, 0.98),
                      nms_grid=(0.1, 0.3)) -> dict:
    """The (score threshold, NMS IoU) pair with the highest F1 on ``scenes`` (use validation scenes)."""
    best = None
    for st in score_grid:
        for ni in nms_grid:
            r = recall_precision(detect_all(proposals, logits, score_threshold=st, nms_iou=ni), scenes)
            if best is None or r["f1"] > best["f1"] + 1e-12:
                best = dict(score_threshold=float(st), nms_iou=float(ni), **r)
    return best


# --------------------------------------------------------------------------- the experiment, cached
SCENE_KW = dict(n_train=150, n_val=50, n_test=80)
TEACHER_KW = dict(epochs=30, batch_size=128, lr=3e-3)
STUDENT_KW = dict(epochs=20, batch_size=128, lr=3e-3)
KD_T, KD_ALPHA = 2.0, 0.7
BITS = (8, 4, 2)


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


def student(split_seed: int, seed: int, bits: int, distilled: bool) -> nn.Module:
    """A cached student trained with ``bits``-bit weights, on labels or distilled from the teacher."""
    from .. import cache

    check_bits(bits)
    _, _, X, y = data_for(split_seed)
    config = dict(kind="a2-student", split_seed=int(split_seed), seed=int(seed), bits=int(bits),
                  distilled=bool(distilled), T=KD_T, alpha=KD_ALPHA, scenes=SCENE_KW, **STUDENT_KW)

    def fit(m):
        tl = train.predict(teacher(split_seed), X) if distilled else None
        train_patch_classifier(m, X, y, teacher_logits=tl, T=KD_T, alpha=KD_ALPHA, seed=seed, **STUDENT_KW)

    def build():
        return add_fake_quant(student_net(seed), bits, kinds=WEIGHTED)

    return cache.cached_model(config, build, fit, name="a2-student")


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
    """Thresholds chosen for best F1 on the validation scenes; recall and precision at them on the test scenes."""
    sc, P, _, _ = data_for(split_seed)
    th = choose_thresholds(P, split_logits(model, split_seed, "val"), sc["val"])
    r = recall_precision(detect_all(P, split_logits(model, split_seed, "test"), score_threshold=th["score_threshold"],
                                    nms_iou=th["nms_iou"]), sc["test"])
    return dict(score_threshold=th["score_threshold"], nms_iou=th["nms_iou"], **r)


def experiment(split_seed: int = 0, seeds=(0, 1, 2), bits_list=BITS, *, progress: bool = False) -> list:
    """Every bit-width, on labels and distilled, at every seed: thresholds chosen on validation scenes, recall and
    precision after NMS on test scenes. Returns a list of row dicts (students are cached on disk)."""
    bits_list = [check_bits(b) for b in bits_list]
    jobs = [(b, kd, s) for b in bits_list for kd in (False, True) for s in seeds]
    if progress:
        from tqdm.auto import tqdm
        jobs = tqdm(jobs, desc="students (trained once, then cached)", leave=False)
    rows = []
    for b, kd, s in jobs:
        rows.append(dict(bits=b, distilled=kd, seed=int(s), **evaluate(student(split_seed, s, b, kd), split_seed)))
    return rows
