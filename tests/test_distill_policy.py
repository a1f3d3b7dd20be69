import numpy as np
import pytest
import torch

from course_lib.distill import policy as P


def test_expert_logits_values_and_errors():
    s = torch.tensor([[0.0, 0.0, 0.1, 0.0], [0.0, 0.0, -0.1, 0.0]])
    z = P.expert_logits(s, gain=10.0)
    assert torch.allclose(z, torch.tensor([[0.0, 1.0], [0.0, -1.0]]))
    with pytest.raises(ValueError, match="shape"):
        P.expert_logits(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="gain"):
        P.expert_logits(s, gain=0)


def test_entropy_known_values():
    h = P.entropy(torch.tensor([[0.0, 0.0], [0.0, 100.0]]))
    assert h[0].item() == pytest.approx(np.log(2), abs=1e-6)
    assert h[1].item() == pytest.approx(0.0, abs=1e-6)


def test_rollout_expert_balances_and_random_does_not():
    r = P.rollout(P.expert_logits, n_episodes=3, seed=0, greedy=True)
    assert (r["returns"] == 500).all() and len(r["states"]) == 1500
    rnd = P.rollout(lambda x: torch.zeros(len(x), 2), n_episodes=4, seed=0)
    assert rnd["returns"].mean() < 100 and rnd["entropy"] == pytest.approx(np.log(2), abs=1e-6)
    again = P.rollout(lambda x: torch.zeros(len(x), 2), n_episodes=4, seed=0)
    assert np.array_equal(again["returns"], rnd["returns"])  # seeded
    with pytest.raises(ValueError, match="n_episodes"):
        P.rollout(P.expert_logits, n_episodes=0)


def test_distill_tau_controls_entropy_and_does_not_touch_global_rng():
    S = P.rollout(P.expert_logits, n_episodes=2, seed=1, greedy=True, epsilon=0.2)["states"]
    Z = P.expert_logits(S)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    sharp = P.distill(S, Z, tau=0.5, seed=0, epochs=60)
    soft = P.distill(S, Z, tau=8.0, seed=0, epochs=60)
    assert torch.equal(torch.rand(1), before)
    with torch.no_grad():
        assert P.entropy(soft(S)).mean() > P.entropy(sharp(S)).mean() + 0.1
    with pytest.raises(ValueError, match="tau"):
        P.distill(S, Z, tau=-1)
    bc = P.clone(S, Z.argmax(-1), seed=0, epochs=60)
    with torch.no_grad():
        assert (bc(S).argmax(-1) == Z.argmax(-1)).float().mean() > 0.8
