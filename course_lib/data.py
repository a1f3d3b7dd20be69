"""Small data sets that ship with installed packages or are generated offline.

Nothing here touches the network. The default is scikit-learn's 8x8 handwritten
digits (1,797 images, 10 classes); ``mnist1d`` generates its 1-D digits from
templates on the spot; ``breast_cancer`` is scikit-learn's Wisconsin set.
Every loader returns a :class:`Dataset` of float32/int64 tensors with a fixed,
stratified train/validation/test split.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from ._checks import check_choice, check_range

DATASETS = ("digits", "mnist1d", "breast_cancer")


@dataclass(frozen=True)
class Dataset:
    name: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    class_names: tuple
    image_shape: tuple | None = None  # (C, H, W) for image data, else None
    info: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def as_images(self, X: torch.Tensor) -> torch.Tensor:
        """Reshape flat rows to (N, C, H, W) for a CNN."""
        if self.image_shape is None:
            raise ValueError(f"data set {self.name!r} has no image shape; use the flat features")
        return X.reshape(len(X), *self.image_shape)

    def __repr__(self):
        return (f"Dataset({self.name!r}: train {len(self.y_train)}, val {len(self.y_val)}, "
                f"test {len(self.y_test)}, {self.n_features} features, {self.n_classes} classes)")


def _split(X, y, seed, val_fraction, test_fraction):
    from sklearn.model_selection import train_test_split

    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_fraction, stratify=y, random_state=seed)
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_fraction / (1 - test_fraction), stratify=y_rest, random_state=seed)
    return X_train, y_train, X_val, y_val, X_test, y_test


def _raw(name):
    if name == "digits":
        from sklearn.datasets import load_digits

        d = load_digits()
        return d.data / 16.0, d.target, tuple(str(i) for i in range(10)), (1, 8, 8), {"source": "sklearn.datasets.load_digits"}
    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        d = load_breast_cancer()
        return d.data, d.target, tuple(d.target_names), None, {"source": "sklearn.datasets.load_breast_cancer", "standardise": True}
    if name == "mnist1d":
        from mnist1d.data import get_dataset_args, make_dataset

        args = get_dataset_args()
        d = make_dataset(args)  # generated from templates, no download
        X = np.concatenate([d["x"], d["x_test"]])
        y = np.concatenate([d["y"], d["y_test"]])
        return X, y, tuple(str(i) for i in range(10)), None, {"source": "mnist1d.data.make_dataset", "standardise": True}
    raise AssertionError(name)


@lru_cache(maxsize=16)
def _load_cached(name, split_seed, val_fraction, test_fraction):
    X, y, classes, image_shape, info = _raw(name)
    parts = _split(np.asarray(X, dtype=np.float32), np.asarray(y), split_seed, val_fraction, test_fraction)
    X_train, y_train, X_val, y_val, X_test, y_test = parts
    if info.get("standardise"):
        mean, std = X_train.mean(0), X_train.std(0) + 1e-6
        X_train, X_val, X_test = [(a - mean) / std for a in (X_train, X_val, X_test)]
    f = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32))
    i = lambda a: torch.as_tensor(np.asarray(a, dtype=np.int64))
    return Dataset(name, f(X_train), i(y_train), f(X_val), i(y_val), f(X_test), i(y_test),
                   classes, image_shape, info)


def load(name: str = "digits", *, split_seed: int = 0, val_fraction: float = 0.2,
         test_fraction: float = 0.2) -> Dataset:
    """Load an offline data set with a stratified train/validation/test split.

    The split depends only on ``split_seed`` (default 0), so changing a
    notebook's training ``SEED`` changes initialisations, not the data.
    Tensors are shared between calls: treat them as read-only.
    """
    check_choice("name", name, DATASETS)
    check_range("val_fraction", val_fraction, 0, 1, lo_open=True, hi_open=True)
    check_range("test_fraction", test_fraction, 0, 1, lo_open=True, hi_open=True)
    if val_fraction + test_fraction >= 1:
        raise ValueError(f"val_fraction + test_fraction must be < 1, got {val_fraction + test_fraction:g}")
    return _load_cached(name, int(split_seed), float(val_fraction), float(test_fraction))


def labelled_indices(y: torch.Tensor, fraction: float, *, seed: int = 0) -> torch.Tensor:
    """Sorted indices of a stratified random subset holding ``fraction`` of each class (at least one each)."""
    check_range("fraction", fraction, 0, 1, lo_open=True)
    if not isinstance(y, torch.Tensor) or y.dim() != 1 or len(y) == 0:
        raise ValueError(f"y must be a non-empty 1-D tensor of labels, got "
                         f"{tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__}")
    g = torch.Generator().manual_seed(int(seed))
    keep = []
    for c in torch.unique(y):
        idx = torch.nonzero(y == c).flatten()
        n = max(1, int(round(fraction * len(idx))))
        keep.append(idx[torch.randperm(len(idx), generator=g)[:n]])
    return torch.sort(torch.cat(keep)).values


def labelled_subset(X: torch.Tensor, y: torch.Tensor, fraction: float, *, seed: int = 0):
    """A stratified random subset holding ``fraction`` of the rows (at least one per class)."""
    check_range("fraction", fraction, 0, 1, lo_open=True)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows, got {len(X)} and {len(y)}")
    keep = labelled_indices(y, fraction, seed=seed)
    return X[keep], y[keep]


def without_classes(X: torch.Tensor, y: torch.Tensor, classes):
    """A transfer set with every example of ``classes`` left out."""
    classes = [int(c) for c in (classes if hasattr(classes, "__iter__") else [classes])]
    present = set(int(c) for c in torch.unique(y))
    missing = [c for c in classes if c not in present]
    if missing:
        raise ValueError(f"classes must be labels present in y ({sorted(present)}), got {missing}")
    mask = torch.ones(len(y), dtype=torch.bool)
    for c in classes:
        mask &= y != c
    return X[mask], y[mask]
