"""Model builders and model accounting (parameters, FLOPs, bytes).

Layers carry names (``fc1``, ``act1``, ``out`` ...) so that forward hooks and
pruning can address them by name.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ._checks import check_int_range


def _seeded(seed):
    if seed is not None:
        torch.manual_seed(int(seed))


def mlp(in_features: int, hidden=(64,), n_classes: int = 10, *, seed: int | None = None,
        activation=nn.ReLU) -> nn.Sequential:
    """A multilayer perceptron ``in -> hidden... -> n_classes`` with named layers."""
    check_int_range("in_features", in_features, 1, 10**7)
    check_int_range("n_classes", n_classes, 2, 10**6)
    hidden = tuple(hidden) if hasattr(hidden, "__iter__") else (hidden,)
    for h in hidden:
        check_int_range("hidden width", h, 1, 10**6)
    _seeded(seed)
    layers, prev = OrderedDict(), in_features
    for i, h in enumerate(hidden, 1):
        layers[f"fc{i}"] = nn.Linear(prev, h)
        layers[f"act{i}"] = activation()
        prev = h
    layers["out"] = nn.Linear(prev, n_classes)
    return nn.Sequential(layers)


class SmallCNN(nn.Module):
    """Two 3x3 conv blocks and a linear head, for 8x8 (or larger) images.

    Takes flat rows (N, C*H*W) or images (N, C, H, W).
    """

    def __init__(self, in_channels=1, n_classes=10, width=8, image_size=8):
        super().__init__()
        self.in_channels, self.image_size = in_channels, image_size
        self.features = nn.Sequential(OrderedDict(
            conv1=nn.Conv2d(in_channels, width, 3, padding=1), act1=nn.ReLU(),
            conv2=nn.Conv2d(width, 2 * width, 3, padding=1), act2=nn.ReLU(),
            pool=nn.AdaptiveAvgPool2d(2)))
        self.head = nn.Linear(2 * width * 4, n_classes)

    def forward(self, x):
        if x.dim() == 2:
            x = x.reshape(len(x), self.in_channels, self.image_size, self.image_size)
        return self.head(self.features(x).flatten(1))


def small_cnn(in_channels: int = 1, n_classes: int = 10, *, width: int = 8, image_size: int = 8,
              seed: int | None = None) -> SmallCNN:
    check_int_range("width", width, 1, 4096)
    check_int_range("image_size", image_size, 2, 4096)
    _seeded(seed)
    return SmallCNN(in_channels, n_classes, width, image_size)


def count_params(model: nn.Module, *, nonzero: bool = False) -> int:
    """Number of parameters (or of non-zero parameters) the model uses.

    Works with ``torch.nn.utils.prune`` (counts the effective, masked weights).
    """
    total = 0
    for name, module in model.named_modules():
        for pname, p in list(module.named_parameters(recurse=False)):
            if pname.endswith("_orig"):  # pruned: the effective weight is an attribute
                p = getattr(module, pname[:-5])
            total += int((p != 0).sum()) if nonzero else p.numel()
    return total


def size_bytes(model: nn.Module) -> int:
    """Bytes of the dense parameters and buffers as stored (dtype-aware, masks excluded)."""
    n = 0
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        if name.endswith("_mask"):
            continue
        n += t.numel() * t.element_size()
    return n


def flops(model: nn.Module, input_shape) -> int:
    """FLOPs of one forward pass of one example through Linear and Conv layers.

    Counts a multiply-add as 2 FLOPs (bias additions included once); other
    layers (activations, pooling) are ignored, as is usual. ``input_shape``
    excludes the batch dimension.
    """
    counts = []

    def on_linear(m, inp, out):
        counts.append(2 * m.in_features * m.out_features * (out.numel() // out.shape[-1] // out.shape[0])
                      + (m.out_features if m.bias is not None else 0))

    def on_conv(m, inp, out):
        k = m.in_channels // m.groups * int(torch.tensor(m.kernel_size).prod())
        per_out = 2 * k + (1 if m.bias is not None else 0)
        counts.append(per_out * out[0].numel())

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(on_linear))
        elif isinstance(m, (nn.Conv1d, nn.Conv2d)):
            hooks.append(m.register_forward_hook(on_conv))
    try:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *tuple(input_shape)))
        model.train(was_training)
    finally:
        for h in hooks:
            h.remove()
    return int(sum(counts))
