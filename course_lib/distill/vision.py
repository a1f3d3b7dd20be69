"""Image recognition in miniature: a CNN teacher, a depthwise-separable student, and their measured cost.

* :func:`render_digits` turns scikit-learn's 8x8 digits into larger, harder images: each glyph is upscaled,
  placed on a bigger canvas, rotated and shifted by ``torchvision.transforms.v2`` with parameters drawn from a
  private ``torch.Generator``, and covered in Gaussian pixel noise. :func:`image_set` caches one such rendering
  of every split per ``split_seed``.
* :class:`CNNTeacher` is a plain convolutional network (3x3 convolutions, batch norm, ReLU, max pooling);
  :class:`SeparableStudent` is built from MobileNet-style blocks (a depthwise 3x3 convolution, then a pointwise
  1x1 convolution, each followed by batch norm and ReLU). Both expose :meth:`feats`, two feature maps at 8x8 and
  4x4 resolution and the logits, so attention transfer can compare them layer by layer.
* :func:`cost` counts parameters and multiply-adds with ``torch.utils.flop_counter`` (no hand formulas).
* :func:`train_student` trains a student from scratch, by logit distillation, by attention transfer
  (:mod:`course_lib.distill.attention`), or both, in the labelled-data regime this module is about: the student
  has hard labels for a small stratified subset of the training images, the teacher's outputs for all of them.
* :func:`teacher` and :func:`student` cache trained networks on disk (``cache.cached_model``), keyed by every
  setting that changes the weights.
"""
from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from .. import cache, data, train
from .._checks import check_choice, check_int_range, check_positive, check_range
from ..losses import kd_kl
from ..seeding import fork, generator
from .attention import at_loss

KINDS = ("scratch", "logits", "features", "both")
SIZE = 16       # canvas side in pixels
GLYPH = 12      # side of the upscaled 8x8 digit
N_CLASSES = 10


# --------------------------------------------------------------------------- data
def render_digits(X: torch.Tensor, *, size: int = SIZE, glyph: int = GLYPH, max_rotation: float = 15.0,
                  max_shift: int = 2, noise: float = 0.1, seed: int = 0) -> torch.Tensor:
    """Render 8x8 digits (rows of 64 values in [0, 1], or ``(n, 8, 8)``) as ``(n, 1, size, size)`` images.

    Each digit is upscaled to ``glyph`` x ``glyph`` pixels (bilinear), centred on a ``size`` x ``size`` canvas,
    rotated by an angle uniform in +-``max_rotation`` degrees and shifted by a whole number of pixels uniform in
    +-``max_shift`` along each axis (``torchvision.transforms.v2.functional.affine``), then Gaussian noise of
    standard deviation ``noise`` is added. All draws come from ``seed``; the global random state is untouched.
    """
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        raise ValueError(f"X must be a float tensor of 8x8 digits, got {type(X).__name__}")
    if X.dim() == 2 and X.shape[1] == 64:
        X = X.reshape(-1, 8, 8)
    if X.dim() != 3 or tuple(X.shape[1:]) != (8, 8) or len(X) == 0:
        raise ValueError(f"X must hold 8x8 digits, shape (n, 64) or (n, 8, 8) with n >= 1, got {tuple(X.shape)}")
    size = check_int_range("size", size, 8, 128)
    glyph = check_int_range("glyph", glyph, 8, size)
    max_rotation = check_range("max_rotation", max_rotation, 0, 180)
    max_shift = check_int_range("max_shift", max_shift, 0, size // 2)
    noise = check_range("noise", noise, 0, 10)
    from torchvision.transforms import v2
    from torchvision.transforms.v2 import functional as TF

    g = generator(seed)
    n = len(X)
    img = F.interpolate(X[:, None], size=(glyph, glyph), mode="bilinear", align_corners=False)
    lo = (size - glyph) // 2
    img = F.pad(img, (lo, size - glyph - lo, lo, size - glyph - lo))
    angles = (2 * torch.rand(n, generator=g) - 1) * max_rotation
    shifts = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=g)
    out = torch.stack([TF.affine(img[i], angle=float(angles[i]), translate=[int(shifts[i, 0]), int(shifts[i, 1])],
                                 scale=1.0, shear=[0.0, 0.0], interpolation=v2.InterpolationMode.BILINEAR)
                       for i in range(n)])
    if noise > 0:
        out = out + noise * torch.randn(out.shape, generator=g)
    return out.contiguous()


@lru_cache(maxsize=8)
def image_set(split_seed: int = 0) -> dict:
    """The digits split by ``split_seed`` (``data.load``), every split rendered once by :func:`render_digits`.

    Returns a dict of tensors ``X_train, y_train, X_val, y_val, X_test, y_test`` (treat them as read-only).
    """
    split_seed = check_int_range("split_seed", split_seed, 0, 10**9)
    ds = data.load("digits", split_seed=split_seed)
    out = {}
    for k, part in enumerate(("train", "val", "test")):
        out[f"X_{part}"] = render_digits(getattr(ds, f"X_{part}"), seed=10_000 * (k + 1) + split_seed)
        out[f"y_{part}"] = getattr(ds, f"y_{part}")
    return out


def rotate(images: torch.Tensor, angle: float) -> torch.Tensor:
    """Every image rotated by the same ``angle`` in degrees (a test-time perturbation), with torchvision."""
    from torchvision.transforms import v2
    from torchvision.transforms.v2 import functional as TF

    angle = check_range("angle", angle, -180, 180)
    if not isinstance(images, torch.Tensor) or images.dim() != 4:
        raise ValueError(f"images must be a 4-D batch (n, channels, height, width), got "
                         f"{tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}")
    if angle == 0:
        return images
    return TF.rotate(images, angle, interpolation=v2.InterpolationMode.BILINEAR)


def labelled_indices(y: torch.Tensor, fraction: float, *, seed: int = 0) -> torch.Tensor:
    """Sorted indices of a stratified random subset holding ``fraction`` of each class (``data.labelled_indices``)."""
    return data.labelled_indices(y, fraction, seed=seed)


# --------------------------------------------------------------------------- the two architectures
def _conv(cin, cout, k=3, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


def separable_block(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """A MobileNet block: depthwise 3x3 convolution (one filter per channel), then pointwise 1x1 convolution."""
    check_int_range("cin", cin, 1, 4096)
    check_int_range("cout", cout, 1, 4096)
    check_int_range("stride", stride, 1, 4)
    return nn.Sequential(_conv(cin, cin, 3, stride, groups=cin), _conv(cin, cout, 1))


class _Net(nn.Module):
    def feats(self, x):
        """The two feature maps (8x8 and 4x4 for 16x16 input) and the logits."""
        _check_images(x)
        a = self.block1(x)
        b = self.block2(a)
        return [a, b], self.head(b)

    def forward(self, x):
        return self.feats(x)[1]


def _check_images(x):
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 1 or min(x.shape[2:]) < 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a batch of 1-channel images (n, 1, height, width), height and width >= 4, "
                         f"got {shape}")


class CNNTeacher(_Net):
    """conv3x3(c) - pool - conv3x3(2c) | pool - conv3x3(2c) | global average pool - linear."""

    def __init__(self, channels: int = 16, n_classes: int = N_CLASSES, *, seed: int | None = None):
        super().__init__()
        c = check_int_range("channels", channels, 1, 1024)
        check_int_range("n_classes", n_classes, 2, 10**4)
        with fork(seed):
            self.block1 = nn.Sequential(_conv(1, c), nn.MaxPool2d(2), _conv(c, 2 * c))
            self.block2 = nn.Sequential(nn.MaxPool2d(2), _conv(2 * c, 2 * c))
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * c, n_classes))


class SeparableStudent(_Net):
    """conv3x3(c, stride 2) - separable(c) | separable(2c, stride 2) | global average pool - linear.

    As in MobileNet, only the first layer is a full convolution; it also halves the resolution at once.
    ``separable=False`` builds the same network with full 3x3 convolutions in place of each separable block (the
    comparison of MobileNet's Table 4), for counting what separability saves.
    """

    def __init__(self, channels: int = 12, n_classes: int = N_CLASSES, *, separable: bool = True,
                 seed: int | None = None):
        super().__init__()
        c = check_int_range("channels", channels, 1, 1024)
        check_int_range("n_classes", n_classes, 2, 10**4)
        block = separable_block if separable else (lambda cin, cout, stride=1: _conv(cin, cout, 3, stride))
        with fork(seed):
            self.block1 = nn.Sequential(_conv(1, c, 3, 2), block(c, c))
            self.block2 = block(c, 2 * c, 2)
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * c, n_classes))


# --------------------------------------------------------------------------- cost, measured
def cost(model: nn.Module, input_shape=(1, SIZE, SIZE)) -> dict:
    """Parameters and multiply-adds of one forward pass of one example, counted by ``torch.utils.flop_counter``.

    ``input_shape`` excludes the batch dimension. ``flop_counter`` counts 2 FLOPs per multiply-add in
    convolutions and matrix products and ignores batch norm, activations and pooling; ``macs`` is half its
    total. Returns ``dict(params, flops, macs, by_op)``.
    """
    from torch.utils.flop_counter import FlopCounterMode

    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError):
        raise ValueError(f"input_shape must be a tuple of positive whole numbers, got {input_shape!r}") from None
    if not shape or min(shape) < 1:
        raise ValueError(f"input_shape must be a non-empty tuple of positive sizes (no batch dimension), got {shape}")
    was = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    try:
        with torch.no_grad(), counter:
            model(torch.zeros(1, *shape))
    except (RuntimeError, ValueError) as e:
        raise ValueError(f"input_shape {shape} does not fit the model: {str(e).splitlines()[0]}") from None
    finally:
        model.train(was)
    flops = int(counter.get_total_flops())
    by_op = {str(k).split(".")[-1]: int(v) for k, v in counter.get_flop_counts().get("Global", {}).items()}
    return dict(params=sum(p.numel() for p in model.parameters()), flops=flops, macs=flops // 2, by_op=by_op)


# --------------------------------------------------------------------------- training
def student_objective(kind: str, X: torch.Tensor, labelled: torch.Tensor, y: torch.Tensor,
                      teacher_logits: torch.Tensor | None = None, teacher_feats=None, *, T: float = 4.0,
                      beta: float = 5.0):
    """An objective for ``train.fit`` over all rows of ``X``.

    Every step takes the cross-entropy on the labelled rows ``X[labelled]`` (labels ``y[labelled]``), plus, on
    the step's batch of all images: ``"logits"``, T^2 times the KL divergence to the teacher's softened outputs;
    ``"features"``, ``beta`` times the attention-transfer loss summed over the two feature maps; ``"both"``,
    the two together. ``"scratch"`` uses the labelled rows only.
    """
    check_choice("kind", kind, KINDS)
    T = check_positive("T", T)
    beta = check_range("beta", beta, 0, 1e6)
    if not isinstance(labelled, torch.Tensor) or labelled.dim() != 1 or len(labelled) == 0:
        raise ValueError("labelled must be a non-empty 1-D tensor of row indices")
    if int(labelled.min()) < 0 or int(labelled.max()) >= len(X):
        raise ValueError(f"labelled must index rows of X (0..{len(X) - 1}), got {int(labelled.min())}.."
                         f"{int(labelled.max())}")
    if kind in ("logits", "both") and (teacher_logits is None or len(teacher_logits) != len(X)):
        raise ValueError(f"kind={kind!r} needs teacher_logits with one row per image ({len(X)})")
    if kind in ("features", "both") and (teacher_feats is None or any(len(t) != len(X) for t in teacher_feats)):
        raise ValueError(f"kind={kind!r} needs teacher_feats, feature maps with one row per image ({len(X)})")
    XL, yL = X[labelled], y[labelled]

    def objective(model, idx):
        terms = {"ce": F.cross_entropy(model(XL), yL)}
        if kind != "scratch":
            fs, logits = model.feats(X[idx])
            if kind in ("logits", "both"):
                terms["kd"] = kd_kl(logits, teacher_logits[idx], T=T)
            if kind in ("features", "both"):
                terms["at"] = beta * sum(at_loss(s, t[idx]) for s, t in zip(fs, teacher_feats))
        terms["loss"] = sum(terms.values())
        return terms
    return objective


def teacher(split_seed: int = 0, *, seed: int | None = None, channels: int = 16, epochs: int = 30,
            lr: float = 1e-2, batch_size: int = 128, progress: bool = False) -> CNNTeacher:
    """The CNN teacher trained on every labelled training image of :func:`image_set`, cached on disk."""
    split_seed = check_int_range("split_seed", split_seed, 0, 10**9)
    seed = split_seed if seed is None else check_int_range("seed", seed, 0, 10**9)
    config = dict(kind="a1-cnn-teacher", split_seed=split_seed, seed=seed, channels=int(channels),
                  epochs=int(epochs), lr=float(lr), batch_size=int(batch_size), size=SIZE, glyph=GLYPH, data=1)

    def fit(model):
        d = image_set(split_seed)
        train.fit(model, train.ce_objective(d["X_train"], d["y_train"]), len(d["X_train"]), epochs=epochs, lr=lr,
                  batch_size=batch_size, seed=seed, progress="training the CNN teacher" if progress else False)

    return cache.cached_model(config, lambda: CNNTeacher(channels, seed=seed), fit, name="a1-teacher")


@lru_cache(maxsize=8)
def teacher_outputs(split_seed: int = 0):
    """The cached teacher's feature maps and logits on the rendered training images."""
    t = teacher(split_seed)
    with torch.no_grad():
        t.eval()
        feats, logits = t.feats(image_set(split_seed)["X_train"])
    return feats, logits


def student(kind: str, split_seed: int = 0, seed: int = 0, *, fraction: float = 0.2, channels: int = 12,
            T: float = 4.0, beta: float = 5.0, epochs: int = 20, lr: float = 2e-2,
            batch_size: int = 256) -> SeparableStudent:
    """A :class:`SeparableStudent` trained by ``kind`` (see :func:`student_objective`), cached on disk.

    ``seed`` draws the labelled subset (``fraction`` of each class of the training split) and the student's
    initialisation and batches. Every kind runs the same number of optimiser steps.
    """
    check_choice("kind", kind, KINDS)
    split_seed = check_int_range("split_seed", split_seed, 0, 10**9)
    seed = check_int_range("seed", seed, 0, 10**9)
    check_range("fraction", fraction, 0, 1, lo_open=True)
    check_positive("T", T)
    check_range("beta", beta, 0, 1e6)
    config = dict(kind="a1-student", method=kind, split_seed=split_seed, seed=seed, fraction=float(fraction),
                  channels=int(channels), T=float(T), beta=float(beta), epochs=int(epochs), lr=float(lr),
                  batch_size=int(batch_size), size=SIZE, glyph=GLYPH, data=1)

    def fit(model):
        d = image_set(split_seed)
        X, y = d["X_train"], d["y_train"]
        feats, logits = teacher_outputs(split_seed) if kind != "scratch" else (None, None)
        obj = student_objective(kind, X, labelled_indices(y, fraction, seed=seed), y, logits, feats, T=T,
                                beta=beta)
        train.fit(model, obj, len(X), epochs=epochs, lr=lr, batch_size=batch_size, seed=seed)

    return cache.cached_model(config, lambda: SeparableStudent(channels, seed=seed), fit, name="a1-student")


def experiment(split_seed: int = 0, seeds=(0, 1, 2), kinds=KINDS, *, progress: bool = False, **student_kw) -> list:
    """Validation and test accuracy of every ``kind`` of student at every seed; a list of row dicts."""
    seeds = [check_int_range("seed", s, 0, 10**9) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    for k in kinds:
        check_choice("kind", k, KINDS)
    d = image_set(split_seed)
    jobs = [(k, s) for s in seeds for k in kinds]
    if progress:
        from tqdm.auto import tqdm
        jobs = tqdm(jobs, desc="training students", leave=False)
    rows = []
    for k, s in jobs:
        m = student(k, split_seed, s, **student_kw)
        rows.append(dict(kind=k, seed=s, val=train.evaluate(m, d["X_val"], d["y_val"]),
                         test=train.evaluate(m, d["X_test"], d["y_test"])))
    return rows
