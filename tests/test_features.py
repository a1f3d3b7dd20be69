"""Forward-hook capture, hint regressor, corruption helpers and embedding metrics."""
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


def test_hint_regressor_shapes_and_errors():
    r = features.HintRegressor(4, 16, seed=0)
    assert r(torch.randn(7, 4)).shape == (7, 16)
    with pytest.raises(ValueError, match="in_features"):
        features.HintRegressor(0, 16)


def test_noise_is_fixed_and_scaled():
    f = torch.randn(500, 3) * torch.tensor([1.0, 10.0, 0.1])
    a = features.add_feature_noise(f, 2.0, seed=1)
    b = features.add_feature_noise(f, 2.0, seed=1)
    assert torch.equal(a, b)
    ratio = (a - f).std(0) / f.std(0)
    assert torch.allclose(ratio, torch.full((3,), 2.0), rtol=0.15)
    assert torch.equal(features.add_feature_noise(f, 0.0), f)
    with pytest.raises(ValueError, match=r"noise must be in \[0, 100\], got -1"):
        features.add_feature_noise(f, -1.0)


def test_misalign_moves_the_requested_fraction():
    f = torch.arange(100.0).unsqueeze(1)
    m = features.misalign(f, 0.4, seed=0)
    moved = (m != f).flatten().sum().item()
    assert 30 <= moved <= 40  # a shuffle can leave a few rows in place
    assert sorted(m.flatten().tolist()) == f.flatten().tolist()  # the same rows, reassigned
    assert torch.equal(features.misalign(f, 0.0), f)
    with pytest.raises(ValueError, match="fraction must be in"):
        features.misalign(f, 1.5)


def test_recall_at_1_known_values():
    emb = torch.tensor([[0.0], [0.1], [5.0], [5.1], [10.0]])
    assert features.recall_at_1(emb, torch.tensor([0, 0, 1, 1, 0])) == pytest.approx(4 / 5)
    assert features.recall_at_1(emb, torch.tensor([0, 1, 2, 3, 4])) == 0.0
    with pytest.raises(ValueError, match="labels must have shape"):
        features.recall_at_1(emb, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="2-D"):
        features.recall_at_1(torch.zeros(5), torch.zeros(5))


def test_distance_correlation():
    a = torch.randn(20, 5, generator=torch.Generator().manual_seed(0))
    assert features.distance_correlation(a, 3 * a + 1) == pytest.approx(1.0, abs=1e-5)
    assert features.distance_correlation(a, torch.randn(20, 2)) < 0.9
    with pytest.raises(ValueError, match="same number of rows"):
        features.distance_correlation(a, a[:5])
