"""Tests for the additions made for notebooks 2.7 and 2.8: the cached pipeline and near-dominance."""
import numpy as np
import pytest
import torch

from course_lib import cache, data, models, train
from course_lib.compress import pareto, pipeline


# ------------------------------------------------------------------ pareto.dominators_within
def test_dominators_within_zero_slack_is_dominators():
    pts = [(10, 0.90), (5, 0.95), (20, 0.80), (5, 0.95), (1, 0.50)]
    for i in range(len(pts)):
        assert pareto.dominators_within(pts, ("min", "max"), i, (0, 0)) == pareto.dominators(pts, ("min", "max"), i)


def test_dominators_within_accepts_a_slightly_worse_rival():
    pts = [(100, 0.97), (10, 0.96), (10, 0.94), (200, 0.99)]
    senses = ("min", "max")
    assert pareto.dominators(pts, senses, 0) == []                       # nobody is at least as accurate and smaller
    assert pareto.dominators_within(pts, senses, 0, (0, 0.015)) == [1]   # 1 point less accurate, 10x smaller
    assert pareto.dominators_within(pts, senses, 0, (0, 0.035)) == [1, 2]
    # a row never beats itself, and equal rows do not beat each other
    assert pareto.dominators_within([(1, 1), (1, 1)], senses, 0, (0.5, 0.5)) == []


def test_dominators_within_three_objectives():
    pts = [(100, 2.0, 0.97), (10, 1.0, 0.965), (10, 3.0, 0.99)]
    assert pareto.dominators_within(pts, ("min", "min", "max"), 0, (0, 0, 0.01)) == [1]


def test_dominators_within_bad_input():
    pts = [(1, 0.5), (2, 0.6)]
    with pytest.raises(ValueError, match="slack"):
        pareto.dominators_within(pts, ("min", "max"), 0, (0,))
    with pytest.raises(ValueError, match="slack"):
        pareto.dominators_within(pts, ("min", "max"), 0, (0, -0.1))
    with pytest.raises(ValueError, match="slack"):
        pareto.dominators_within(pts, ("min", "max"), 0, (0, np.nan))
    with pytest.raises(ValueError, match="i must be"):
        pareto.dominators_within(pts, ("min", "max"), 5, (0, 0))
    with pytest.raises(ValueError, match="senses"):
        pareto.dominators_within(pts, ("min", "up"), 0, (0, 0))


# ------------------------------------------------------------------ pipeline.run(cached=True)
def _tiny():
    ds = data.load("digits", split_seed=0)
    teacher = models.mlp(ds.n_features, (32, 32), ds.n_classes, seed=0)
    train.train_scratch(teacher, ds.X_train, ds.y_train, epochs=30, lr=1e-2, seed=0)
    cfg = dict(units_removed=0.5, rank=4, sparsity=0.5, n_clusters=4, distill_epochs=3, factor_epochs=2,
               sparse_steps=2)
    return ds, teacher, cfg


def test_cached_pipeline_equals_uncached_and_reads_back(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    ds, teacher, cfg = _tiny()
    plain = pipeline.run(teacher, ds, seed=1, **cfg)
    first = pipeline.run(teacher, ds, seed=1, cached=True, **cfg)
    assert len(list(tmp_path.glob("pipeline-*.pt"))) == 1
    second = pipeline.run(teacher, ds, seed=1, cached=True, **cfg)
    for a, b, c in zip(plain, first, second):
        assert a["stage"] == b["stage"] == c["stage"]
        assert a["bytes"] == b["bytes"] == c["bytes"]
        sa, sb, sc = (r["model"].state_dict() for r in (a, b, c))
        assert sorted(sa) == sorted(sb) == sorted(sc)
        assert all(torch.equal(sa[k], sb[k]) and torch.equal(sa[k], sc[k]) for k in sa)
    # another seed is another file
    pipeline.run(teacher, ds, seed=2, cached=True, **cfg)
    assert len(list(tmp_path.glob("pipeline-*.pt"))) == 2


def test_pipeline_rejects_unknown_config():
    ds, teacher, cfg = _tiny()
    with pytest.raises(ValueError, match="config key"):
        pipeline.run(teacher, ds, cached=True, colour="red")
