"""The one walker over a model's weight layers, shared by every compression method.

``linear_layers(model)`` lists ``[(name, module)]`` of the layers whose weight
matrices pruning, quantization, factorization and byte counting act on, in
definition order (the two factors of an SVD layer included). ``kinds`` widens
it to convolutions; ``names`` picks some of them by name (a ValueError names an
unknown one).
"""
from __future__ import annotations

from torch import nn

from .._checks import check_choice

LINEAR = (nn.Linear,)
PRUNABLE = (nn.Linear, nn.Conv1d, nn.Conv2d)


def linear_layers(model: nn.Module, *, kinds: tuple = LINEAR, names=None, required: bool = True) -> list:
    """``[(name, module)]`` of every submodule of ``model`` that is one of ``kinds``, in definition order.

    ``names`` (a name or a list of names) keeps only those layers, in the order given.
    ``required=True`` raises a ValueError when the model has no such layer.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch nn.Module, got {type(model).__name__}")
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, kinds)]
    if required and not found:
        kinds_text = " or ".join(k.__name__ for k in kinds)
        raise ValueError(f"model must contain at least one {kinds_text} layer, got {type(model).__name__} with none")
    if names is None:
        return found
    by_name = dict(found)
    names = [names] if isinstance(names, str) else list(names)
    for n in names:
        check_choice("layers", n, sorted(by_name))
    return [(n, by_name[n]) for n in names]
