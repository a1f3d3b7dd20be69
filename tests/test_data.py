import pytest
import torch

from course_lib import data


def test_digits_split_is_stratified_and_float():
    ds = data.load("digits")
    assert ds.X_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 1797
    assert ds.n_features == 64 and ds.n_classes == 10 and ds.image_shape == (1, 8, 8)
    assert 0.0 <= float(ds.X_train.min()) and float(ds.X_train.max()) <= 1.0
    # stratified: every class in every split, in similar proportions
    for y in (ds.y_train, ds.y_val, ds.y_test):
        frac = torch.bincount(y, minlength=10).float() / len(y)
        assert float(frac.min()) > 0.08 and float(frac.max()) < 0.12
    assert ds.as_images(ds.X_test).shape == (len(ds.y_test), 1, 8, 8)


def test_split_is_deterministic_and_depends_on_split_seed():
    a, b = data.load("digits"), data.load("digits")
    assert torch.equal(a.X_train, b.X_train)
    c = data.load("digits", split_seed=1)
    assert not torch.equal(a.y_train, c.y_train)


@pytest.mark.parametrize("name,n_classes", [("mnist1d", 10), ("breast_cancer", 2)])
def test_other_offline_sets(name, n_classes):
    ds = data.load(name)
    assert ds.n_classes == n_classes
    # standardised on the training split
    assert abs(float(ds.X_train.mean())) < 0.05
    assert ds.image_shape is None
    with pytest.raises(ValueError, match="no image shape"):
        ds.as_images(ds.X_train)


def test_unknown_dataset_and_bad_fractions():
    with pytest.raises(ValueError, match=r"name must be one of .*'digits'.*got 'cifar'"):
        data.load("cifar")
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\), got 1"):
        data.load("digits", val_fraction=1.0)
    with pytest.raises(ValueError, match="val_fraction \\+ test_fraction must be < 1"):
        data.load("digits", val_fraction=0.5, test_fraction=0.5)


def test_labelled_subset_is_stratified_and_seeded():
    ds = data.load("digits")
    X, y = data.labelled_subset(ds.X_train, ds.y_train, 0.1, seed=3)
    counts = torch.bincount(y, minlength=10)
    assert int(counts.min()) >= 9 and int(counts.max()) <= 12
    X2, y2 = data.labelled_subset(ds.X_train, ds.y_train, 0.1, seed=3)
    assert torch.equal(X, X2)
    X3, _ = data.labelled_subset(ds.X_train, ds.y_train, 0.1, seed=4)
    assert not torch.equal(X, X3)
    tiny_X, tiny_y = data.labelled_subset(ds.X_train, ds.y_train, 0.001)
    assert len(torch.unique(tiny_y)) == 10  # at least one per class
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\], got 0"):
        data.labelled_subset(ds.X_train, ds.y_train, 0)


def test_without_classes():
    ds = data.load("digits")
    X, y = data.without_classes(ds.X_train, ds.y_train, [3])
    assert 3 not in set(y.tolist()) and len(y) < len(ds.y_train)
    with pytest.raises(ValueError, match="classes must be labels present"):
        data.without_classes(ds.X_train, ds.y_train, [42])


