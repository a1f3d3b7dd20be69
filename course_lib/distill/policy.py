"""Policy distillation (Rusu et al. 2016) on gymnasium's CartPole-v1.

* :func:`expert_logits`: a hand-written linear controller turned into action
  logits ``[0, gain * w . state]`` (push right when the pole leans or moves right);
* :func:`rollout`: run a policy (a function from a batch of states to logits) in a
  vector of CartPole environments, sampling actions (or taking the argmax with
  ``greedy=True``); returns each episode's return, the states visited and the
  policy's mean entropy over them;
* :func:`distill`: train a small perceptron on visited states with
  ``KL(softmax(z_teacher / tau) || softmax(z_student))``, the temperature-tau
  policy distillation loss of Rusu et al.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .. import models, train
from .._checks import check_int_range, check_positive

EXPERT_W = (0.05, 0.2, 1.0, 0.3)   # cart position, cart velocity, pole angle, pole angular velocity


def expert_logits(states: torch.Tensor, *, gain: float = 20.0) -> torch.Tensor:
    """Logits ``[0, gain * w . s]`` of the hand-written controller for a batch of states (shape (N, 4))."""
    gain = check_positive("gain", gain)
    states = torch.as_tensor(states, dtype=torch.float32)
    if states.dim() != 2 or states.shape[1] != 4:
        raise ValueError(f"states must have shape (N, 4), got {tuple(states.shape)}")
    s = states @ torch.tensor(EXPERT_W)
    return torch.stack([torch.zeros_like(s), gain * s], 1)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of softmax(logits) per row."""
    logp = F.log_softmax(logits, -1)
    return -(logp.exp() * logp).sum(-1)


@torch.no_grad()
def rollout(policy, *, n_episodes: int = 8, seed: int = 0, greedy: bool = False, max_steps: int = 500,
            epsilon: float = 0.0) -> dict:
    """Run ``n_episodes`` CartPole-v1 episodes in parallel; ``policy(states) -> logits``.

    Actions are sampled from softmax(logits) with a private generator (or the argmax
    when ``greedy``); with probability ``epsilon`` a uniformly random action replaces
    it (to visit recovery states). Returns ``returns`` (np.ndarray), ``states``
    (tensor of every state visited before the episode ended) and ``entropy`` (mean
    policy entropy over those states, nats).
    """
    import gymnasium as gym

    n_episodes = check_int_range("n_episodes", n_episodes, 1, 10**4)
    env = gym.make_vec("CartPole-v1", num_envs=n_episodes, vectorization_mode="vector_entry_point")
    gen = torch.Generator().manual_seed(int(seed))
    obs, _ = env.reset(seed=int(seed))
    ret = np.zeros(n_episodes)
    done = np.zeros(n_episodes, dtype=bool)
    states, ents = [], []
    for _ in range(max_steps):
        x = torch.as_tensor(obs, dtype=torch.float32)
        z = policy(x)
        live = torch.as_tensor(~done)
        states.append(x[live])
        ents.append(entropy(z)[live])
        if greedy:
            a = z.argmax(-1)
        else:
            a = torch.multinomial(F.softmax(z, -1), 1, generator=gen)[:, 0]
        if epsilon > 0:
            flip = torch.rand(n_episodes, generator=gen) < epsilon
            a = torch.where(flip, torch.randint(0, 2, (n_episodes,), generator=gen), a)
        obs, r, term, trunc, _ = env.step(a.numpy())
        ret += r * (~done)
        done |= term | trunc
        if done.all():
            break
    env.close()
    return {"returns": ret, "states": torch.cat(states), "entropy": float(torch.cat(ents).mean())}


def distill(states: torch.Tensor, teacher_logits: torch.Tensor, *, tau: float = 1.0, hidden: int = 16,
            epochs: int = 150, lr: float = 0.02, seed: int = 0):
    """A (4 -> hidden -> 2) perceptron trained on KL(softmax(teacher / tau) || student) over ``states``."""
    tau = check_positive("tau", tau)
    student = models.mlp(states.shape[1], (hidden,), teacher_logits.shape[1], seed=seed, activation=torch.nn.Tanh)
    target = F.log_softmax(teacher_logits / tau, -1)

    def objective(m, idx):
        return {"loss": F.kl_div(F.log_softmax(m(states[idx]), -1), target[idx], reduction="batchmean",
                                 log_target=True)}

    train.fit(student, objective, len(states), epochs=epochs, lr=lr, seed=seed)
    return student


def clone(states: torch.Tensor, actions: torch.Tensor, *, hidden: int = 16, epochs: int = 150, lr: float = 0.02,
          seed: int = 0):
    """The same perceptron trained from scratch on the expert's hard actions (behavioural cloning)."""
    student = models.mlp(states.shape[1], (hidden,), 2, seed=seed, activation=torch.nn.Tanh)

    def objective(m, idx):
        return {"loss": F.cross_entropy(m(states[idx]), actions[idx])}

    train.fit(student, objective, len(states), epochs=epochs, lr=lr, seed=seed)
    return student
