import pytest
import torch

from course_lib.compress import graph_pruning as gp


def test_normalized_adjacency_path_graph():
    A = gp.normalized_adjacency(torch.tensor([[0, 1]]), 2)
    # A + I = [[1, 1], [1, 1]], degrees 2: every entry 1/2
    assert torch.allclose(A, torch.full((2, 2), 0.5))
    A3 = gp.normalized_adjacency(torch.tensor([[0, 1], [1, 2]]), 3)
    assert torch.allclose(A3, A3.T)
    assert abs(float(A3[0, 1]) - 1 / (2 ** 0.5 * 3 ** 0.5)) < 1e-6


def test_batched_matches_single():
    edges = torch.tensor([[0, 1], [1, 2], [2, 3], [0, 3]])
    drop = torch.tensor([[1, 0, 0, 0], [0, 0, 1, 1]])
    B = gp.batched_normalized_adjacency(edges, 4, drop)
    assert torch.allclose(B[0], gp.normalized_adjacency(edges[1:], 4))
    assert torch.allclose(B[1], gp.normalized_adjacency(edges[:2], 4))


def test_bad_node_ids():
    with pytest.raises(ValueError, match="0..2"):
        gp.normalized_adjacency(torch.tensor([[0, 5]]), 3)


def test_keep_edges_and_budget_errors():
    edges = torch.tensor([[0, 1], [1, 2], [2, 3], [0, 3]])
    kept = gp.keep_edges(edges, torch.tensor([0.1, 0.9, 0.5, 0.2]), 0.5)
    assert kept.tolist() == [[1, 2], [2, 3]]
    assert len(gp.keep_edges(edges, torch.zeros(4), 0.0)) == 0
    assert len(gp.keep_edges(edges, torch.zeros(4), 1.0)) == 4
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="budget"):
            gp.keep_edges(edges, torch.zeros(4), bad)
    with pytest.raises(ValueError, match="one entry per edge"):
        gp.keep_edges(edges, torch.zeros(3), 0.5)


def test_degree_and_random_scores():
    edges = torch.tensor([[0, 1], [0, 2], [0, 3], [2, 3]])  # degrees 3, 1, 2, 2
    s = gp.degree_scores(edges, 4)
    assert torch.allclose(s, torch.tensor([1 / 3 + 1, 1 / 3 + 1 / 2, 1 / 3 + 1 / 2, 1.0]))
    assert torch.equal(gp.random_scores(5, seed=1), gp.random_scores(5, seed=1))
    assert not torch.equal(gp.random_scores(5, seed=1), gp.random_scores(5, seed=2))


def test_drift_scores_match_explicit_removal_and_are_nonnegative():
    edges = torch.tensor([[0, 1], [1, 2], [2, 3], [3, 4], [0, 4], [1, 3]])
    X = torch.eye(5)
    model = gp.GCN(5, 4, 2, seed=0)
    with torch.no_grad():
        z_full = model(X, gp.normalized_adjacency(edges, 5))
        d = gp.drift_scores(model, X, edges, 5, z_full, chunk=4)
        for e in range(len(edges)):
            rest = torch.cat([edges[:e], edges[e + 1:]])
            ze = model(X, gp.normalized_adjacency(rest, 5))
            assert abs(float(gp.output_drift(ze, z_full)) - float(d[e])) < 1e-6
    assert (d >= 0).all()
    order = gp.iterative_drift_scores(model, X, edges, 5, z_full, rounds=3)
    assert sorted(order.argsort().tolist()) == list(range(6))
    # the first round drops the two smallest single-removal drifts
    first_round = set(torch.nonzero(order < 1).flatten().tolist())
    assert first_round == set(torch.sort(d, stable=True).indices[:2].tolist())


def test_output_drift_zero_on_equal():
    z = torch.randn(6, 3, generator=torch.Generator().manual_seed(0))
    assert float(gp.output_drift(z, z)) == pytest.approx(0.0, abs=1e-7)
    assert float(gp.output_drift(z, -z)) > 0


def test_edge_scores_errors():
    edges = torch.tensor([[0, 1]])
    with pytest.raises(ValueError, match="method"):
        gp.edge_scores("magnitude", edges=edges, n_nodes=2)
    with pytest.raises(ValueError, match="needs model"):
        gp.edge_scores("drift", edges=edges, n_nodes=2)
    with pytest.raises(ValueError, match="rounds"):
        gp.iterative_drift_scores(gp.GCN(2, 2, 2), torch.eye(2), edges, 2, torch.zeros(2, 2), rounds=0)
