"""ch1_04-ch1_06 labs: two-stage FitNets and its controls, RKD with a linear probe, fidelity curves by recipe."""
import pytest
import torch

from course_lib.labs.ch1 import fidelity, hints, relational


def test_hint_run_reports_validation_and_middle_layer_defaults():
    s = hints.setup(0)
    r = hints.hint_run(s, beta=1.0, seed=0, epochs=3)
    assert 0 < r["val_accuracy"] <= 1 and 0 < r["accuracy"] <= 1
    assert r["n_labelled"] < r["n_inputs"] == len(s.ds.y_train)
    # the full-batch hint (hint_batch=None) and a batch as large as the data give the same student
    a = hints.hint_run(s, beta=1.0, seed=0, epochs=3, hint_batch=None)
    b = hints.hint_run(s, beta=1.0, seed=0, epochs=3, hint_batch=10**5)
    assert a["accuracy"] == b["accuracy"]
    with pytest.raises(ValueError, match="hint_batch must be"):
        hints.hint_run(s, hint_batch=0)
    with pytest.raises(ValueError, match="layer must be a direct child"):
        hints._params_up_to(torch.nn.Sequential(torch.nn.Linear(2, 2)), "act9")


def test_embedding_run_is_memoised_and_probe_is_single_threaded():
    s = relational.setup(0)
    r1 = relational.embedding_run(s, "rkd", seed=0, hidden=4, epochs=2)
    r2 = relational.embedding_run(s, "rkd", seed=0, hidden=4, epochs=2)
    assert r1 == r2 and r1 is not r2  # a copy of the memo, not the memo itself
    assert 0 < r1["probe"] <= 1
    emb = torch.eye(10).repeat(5, 1)
    y = torch.arange(10).repeat(5)
    assert relational.linear_probe(emb, y, emb, y, emb, y) == 1.0  # separable one-hot embedding


def test_fidelity_curve_snapshots_and_errors():
    s = fidelity.setup(0)
    c = fidelity.fidelity_curve(s, "labels_smooth", seed=0, snapshots=(1, 3))
    assert sorted(c) == [1, 3]
    assert set(c[3]) == {"agree_train", "agree_test", "kl_train", "kl_test", "accuracy"}
    n = fidelity.fidelity_curve(s, "kd_T4_noise", seed=0, snapshots=(2,))
    assert 0 <= n[2]["agree_test"] <= 1
    with pytest.raises(ValueError, match="recipe must be one of"):
        fidelity.fidelity_curve(s, "bogus")
    with pytest.raises(ValueError, match="snapshots must be"):
        fidelity.fidelity_curve(s, "labels", snapshots=(0, 5))
    with pytest.raises(ValueError, match="epochs must be one of"):
        fidelity.run(s, "labels", 7)
