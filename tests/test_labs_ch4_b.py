"""The chapter 4 labs A4, A6, A7, A8: the five names, bad input, and a few values."""
import pytest
import torch

from course_lib.labs.ch4 import graphs


def test_graphs_lab_names_and_values():
    s = graphs.setup(0, "karate")
    assert s.g.n_nodes == 34 and len(s.g.edges) == 78 and s.g.n_classes == 2
    assert set(s.g.train_idx.tolist()).isdisjoint(s.g.test_idx.tolist())
    r = graphs.run(s, 1.0)
    assert all(abs(r["drift"][m]) < 1e-6 for m in graphs.METHODS)  # nothing pruned: no drift
    r = graphs.run(s, 0.3)
    assert all(len(r["kept"][m]) == round(0.3 * 78) for m in graphs.METHODS)
    assert 0 <= r["student_acc"]["drift"] <= 1
    assert "budget 30%" in graphs.summary(r)
    from matplotlib.figure import Figure
    graphs.render(r, Figure())
    d = graphs.dashboard(seed=0, background=False)
    assert d.update(budget=0.2)["budget"] == pytest.approx(0.2)


def test_graphs_lab_errors():
    s = graphs.setup(0, "karate")
    for bad in (-0.5, 1.01):
        with pytest.raises(ValueError, match="budget"):
            graphs.run(s, bad)
    with pytest.raises(ValueError, match="graph"):
        graphs.setup(0, "cora")


def test_graphs_load_offline_and_seeded():
    a, b = graphs.load_graph("sbm", seed=1), graphs.load_graph("sbm", seed=1)
    assert torch.equal(a.edges, b.edges) and torch.equal(a.train_idx, b.train_idx)
    les = graphs.load_graph("lesmis", seed=0)
    assert les.n_nodes == 77 and les.n_classes >= 3


def test_policy_lab_names_and_values():
    from matplotlib.figure import Figure

    from course_lib.labs.ch4 import policy

    s = policy.setup(0, n_episodes=2)
    assert s.returns.shape == (len(policy.TAUS), 3, 2) and s.entropy.shape == (len(policy.TAUS), 3)
    r = policy.run(s, 1.0)
    assert r["tau"] == 1.0 and r["returns"].shape == (3, 2)
    assert "tau = 1" in policy.summary(r)
    policy.render(r, Figure())
    with pytest.raises(ValueError, match="tau"):
        policy.run(s, 0.7)
