"""Model builders and model accounting (parameters, FLOPs, bytes).

Layers carry names (``fc1``, ``act1``, ``out`` ...) so that forward hooks and
pruning can address them by name.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from ._checks import check_int_range
from .seeding import fork


def mlp(in_features: int, hidden=(64,), n_classes: int = 10, *, seed: int | None = None,
        activation=nn.ReLU) -> nn.Sequential:
    """A multilayer perceptron ``in -> hidden... -> n_classes`` with named layers."""
    check_int_range("in_features", in_features, 1, 10**7)
    check_int_range("n_classes", n_classes, 2, 10**6)
    hidden = tuple(hidden) if hasattr(hidden, "__iter__") else (hidden,)
    for h in hidden:
        check_int_range("hidden width", h, 1, 10**6)
    layers, prev = OrderedDict(), in_features
    with fork(seed):  # the initialisation draws from ``seed``; the global stream is left as it was
        for i, h in enumerate(hidden, 1):
            layers[f"fc{i}"] = nn.Linear(prev, h)
            layers[f"act{i}"] = activation()
            prev = h
        layers["out"] = nn.Linear(prev, n_classes)
    return nn.Sequential(layers)


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


def flops(model: nn.Module, input_shape) -> int:
    """FLOPs of one forward pass of one example, counted by ``torch.utils.flop_counter``.

    PyTorch's counter counts a multiply-add as 2 FLOPs in every matrix product
    and convolution (``FlopCounterMode``); bias additions, which it leaves out,
    are added once per output value of each Linear or Conv layer that has a
    bias. Activations and pooling are ignored, as is usual. ``input_shape``
    excludes the batch dimension.
    """
    from torch.utils.flop_counter import FlopCounterMode

    layers = [m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d))]
    if not layers:
        raise ValueError(f"model has no Linear or Conv layer to count FLOPs for ({type(model).__name__})")
    bias_adds = []

    def on_output(m, inp, out):
        if m.bias is not None:
            bias_adds.append(out[0].numel())

    hooks = [m.register_forward_hook(on_output) for m in layers]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            try:
                model(torch.zeros(1, *tuple(int(d) for d in input_shape)))
            except RuntimeError as e:
                raise ValueError(f"input_shape {tuple(input_shape)} does not fit the model (give one example's "
                                 f"shape without the batch dimension): {str(e).splitlines()[0]}") from None
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return int(counter.get_total_flops()) + int(sum(bias_adds))
