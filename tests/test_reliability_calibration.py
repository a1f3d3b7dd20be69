"""course_lib.reliability.calibration: ECE against an independent loop, bins, NLL, temperature scaling."""
import math

import numpy as np
import pytest
import torch

from course_lib.reliability import calibration as cal


def ece_loop(probs, labels, n_bins):
    """An independent ECE: a plain Python loop over examples and bins (lo, hi], 0 in the first bin."""
    n = len(probs)
    sums = [[0, 0.0, 0.0] for _ in range(n_bins)]  # count, correct, confidence
    for p, y in zip(probs, labels):
        c = max(p)
        pred = list(p).index(c)
        k = 0
        for i in range(n_bins):
            if i / n_bins < c <= (i + 1) / n_bins:
                k = i
        sums[k][0] += 1
        sums[k][1] += pred == y
        sums[k][2] += c
    return sum(cnt / n * abs(cor / cnt - conf / cnt) for cnt, cor, conf in sums if cnt)


def random_case(seed, n=400, k=5):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * rng.uniform(0.2, 4, size=(n, 1))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    labels = np.where(rng.random(n) < 0.7, p.argmax(1), rng.integers(0, k, n))
    return logits, p, labels


@pytest.mark.parametrize("seed,n_bins", [(0, 15), (1, 10), (2, 1), (3, 7)])
def test_ece_matches_an_independent_loop(seed, n_bins):
    _, p, y = random_case(seed)
    assert math.isclose(cal.expected_calibration_error(p, y, n_bins), ece_loop(p.tolist(), y.tolist(), n_bins),
                        rel_tol=1e-9, abs_tol=1e-12)


def test_ece_by_hand():
    # bin (0.6, 0.6667] for 15 bins holds the two 0.65 rows: acc 0.5, conf 0.65; the 0.95 row bin: acc 1
    p = np.array([[0.65, 0.35], [0.65, 0.35], [0.95, 0.05]])
    y = np.array([0, 1, 0])
    assert math.isclose(cal.ece(p, y, 15), 2 / 3 * 0.15 + 1 / 3 * 0.05)
    assert cal.ece(np.eye(3)[[0, 1, 2]], np.array([0, 1, 2])) == 0.0  # confident and right: perfectly calibrated


def test_bin_edges_are_left_open_right_closed():
    assert list(cal.bin_index([0.0, 0.1, 0.1000001, 0.2, 1.0], 10)) == [0, 0, 1, 1, 9]


def test_reliability_bins_and_torch_input():
    _, p, y = random_case(4)
    b = cal.reliability_bins(torch.tensor(p), torch.tensor(y), 15)
    assert b["count"].sum() == len(p) and len(b["edges"]) == 16
    empty = b["count"] == 0
    assert np.all(np.isnan(b["accuracy"][empty])) and np.all(b["gap"][empty] == 0)


def test_nll_and_scaled_probs():
    z = np.array([[2.0, 0.0], [0.0, 1.0]])
    y = np.array([0, 0])
    want = -0.5 * (math.log(math.exp(2) / (math.exp(2) + 1)) + math.log(1 / (1 + math.e)))
    assert math.isclose(cal.nll(z, y), want)
    assert np.allclose(cal.scaled_probs(z, 2.0)[0], [math.e / (math.e + 1), 1 / (math.e + 1)])
    assert np.allclose(cal.scaled_probs(torch.tensor(z), 1.0).sum(1), 1)


def test_fit_temperature_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4000, 4)) * 2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    y = np.array([rng.choice(4, p=row) for row in p])  # labels drawn from softmax(z): true T is 1
    for true_t in (0.5, 3.0):
        t = cal.fit_temperature(z * true_t, y)  # logits scaled by true_t need T = true_t to undo
        assert abs(t - true_t) / true_t < 0.1
        grid = [cal.nll(z * true_t, y, s) for s in (0.8 * t, t, 1.25 * t)]
        assert grid[1] <= min(grid[0], grid[2])


@pytest.mark.parametrize("n_bins", [0, -3, 2.5])
def test_bad_bin_count(n_bins):
    _, p, y = random_case(0, n=10)
    with pytest.raises(ValueError, match="n_bins"):
        cal.ece(p, y, n_bins)


def test_bad_probabilities_and_labels():
    p = np.array([[0.7, 0.2], [0.5, 0.5]])
    with pytest.raises(ValueError, match="sum to 1"):
        cal.ece(p, np.array([0, 1]))
    with pytest.raises(ValueError, match="probabilities in"):
        cal.ece(np.array([[2.0, -1.0], [0.0, 1.0]]), np.array([0, 1]))  # logits passed by mistake
    with pytest.raises(ValueError, match="2-D"):
        cal.ece(np.array([0.5, 0.5]), np.array([0]))
    with pytest.raises(ValueError, match="labels must have shape"):
        cal.ece(np.array([[0.5, 0.5]]), np.array([0, 1]))
    with pytest.raises(ValueError, match="class indices"):
        cal.ece(np.array([[0.5, 0.5]]), np.array([2]))
    with pytest.raises(ValueError, match="temperature"):
        cal.scaled_probs(np.zeros((2, 2)), 0.0)
    with pytest.raises(ValueError, match="bounds"):
        cal.fit_temperature(np.zeros((2, 2)), np.array([0, 1]), bounds=(2.0, 1.0))
    with pytest.raises(ValueError, match="labels must have shape"):
        cal.nll(np.zeros((2, 2)), np.array([0]))
