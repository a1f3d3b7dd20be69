"""Intermediate features by forward hooks.

``capture(model, ["act1"])`` is a context manager: while it is open, every
forward pass of ``model`` stores the outputs of the named sub-modules in a
dict (with their autograd graph, so a loss on them trains the model). The
model itself is never rewritten; the hooks are removed when the block ends.
``features(model, X, name)`` reads one layer once, without gradients. Hint
regressors live in ``course_lib.distill.hints``; embedding metrics
(``recall_at_1``, ``distance_correlation``) in ``course_lib.metrics``.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn


def layer_names(model: nn.Module) -> list[str]:
    """Names of every sub-module that a hook can address (the empty root excluded)."""
    return [name for name, _ in model.named_modules() if name]


@contextmanager
def capture(model: nn.Module, names, *, detach: bool = False):
    """Record the outputs of the sub-modules ``names`` during forward passes.

    Yields a dict ``{name: tensor}`` that each forward pass overwrites.
    ``detach=True`` stores detached copies (for a frozen teacher).
    """
    names = [names] if isinstance(names, str) else list(names)
    if not names:
        raise ValueError("names must list at least one layer, got an empty list")
    modules = dict(model.named_modules())
    unknown = [n for n in names if n not in modules or not n]
    if unknown:
        raise ValueError(f"names must be layers of the model ({layer_names(model)}), got {unknown}")
    store: dict = {}
    handles = []

    def make_hook(name):
        def hook(module, inputs, output):
            store[name] = output.detach() if detach else output
        return hook

    for n in names:
        handles.append(modules[n].register_forward_hook(make_hook(n)))
    try:
        yield store
    finally:
        for h in handles:
            h.remove()


@torch.no_grad()
def features(model: nn.Module, X: torch.Tensor, name: str) -> torch.Tensor:
    """The output of layer ``name`` for inputs ``X`` (eval mode, no gradients)."""
    was = model.training
    model.eval()
    with capture(model, [name], detach=True) as store:
        model(X)
    model.train(was)
    return store[name]
