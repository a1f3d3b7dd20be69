"""Forward-hook capture and feature reading."""
import pytest
import torch

from course_lib import features, models


def test_capture_records_named_layers_and_removes_hooks():
    m = models.mlp(8, (5, 4), 3, seed=0)
    x = torch.randn(6, 8)
    with features.capture(m, ["act1", "act2"]) as store:
        out = m(x)
    assert store["act1"].shape == (6, 5) and store["act2"].shape == (6, 4)
    assert torch.allclose(store["act2"], torch.relu(m.fc2(torch.relu(m.fc1(x)))))
    assert torch.allclose(m.out(store["act2"]), out)
    assert all(len(mod._forward_hooks) == 0 for mod in m.modules())


def test_capture_keeps_graph_unless_detached():
    m = models.mlp(8, (5,), 3, seed=0)
    x = torch.randn(4, 8)
    with features.capture(m, "act1") as store:
        m(x)
    store["act1"].sum().backward()
    assert m.fc1.weight.grad is not None and m.out.weight.grad is None
    with features.capture(m, "act1", detach=True) as store:
        m(x)
    assert not store["act1"].requires_grad


def test_capture_removes_hooks_on_error():
    m = models.mlp(8, (5,), 3, seed=0)
    with pytest.raises(RuntimeError):
        with features.capture(m, ["act1"]):
            m(torch.randn(2, 7))  # wrong width
    assert len(m.act1._forward_hooks) == 0


def test_capture_bad_names():
    m = models.mlp(8, (5,), 3, seed=0)
    with pytest.raises(ValueError, match="names must be layers of the model.*'nope'"):
        with features.capture(m, ["nope"]):
            pass
    with pytest.raises(ValueError, match="names must list at least one layer"):
        with features.capture(m, []):
            pass


def test_features_eval_no_grad():
    m = models.mlp(8, (5,), 3, seed=0)
    m.train()
    f = features.features(m, torch.randn(3, 8), "fc1")
    assert f.shape == (3, 5) and not f.requires_grad and m.training
