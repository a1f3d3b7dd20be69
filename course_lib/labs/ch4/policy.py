"""A8 lab: a distillation-temperature slider for a CartPole policy.

``setup(seed)`` collects states from the hand-written expert (``distill.policy``)
and trains one student per temperature on ``TAUS`` for each of three seeds
(``3 seed .. 3 seed + 2``), measuring return and policy entropy over sampled
episodes; it also trains the same student from scratch on the expert's hard
actions. Episodes are too slow to train and play on every slider move, so a move
only looks the precomputed grid up. ``run(s, tau)`` returns that grid point.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..._checks import check_choice
from ...distill import policy as P
from ...ui import plots, widgets

TITLE = "Policy distillation: temperature against entropy and return"
TRY = "Move tau from 0.25 to 8 and watch the entropy rise while the return collapses past tau = 2."
TAUS = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
N_SEEDS = 3


@dataclass(frozen=True, eq=False)
class Setup:
    seeds: tuple
    returns: np.ndarray        # (len(TAUS), seeds, episodes)
    entropy: np.ndarray        # (len(TAUS), seeds)
    expert_return: np.ndarray  # (seeds, episodes), sampled at tau = 1
    expert_entropy: np.ndarray  # (seeds,)
    clone_return: np.ndarray   # (seeds, episodes)
    clone_entropy: np.ndarray  # (seeds,)
    n_states: int


def evaluate(student_or_policy, seed: int, n_episodes: int):
    r = P.rollout(student_or_policy, n_episodes=n_episodes, seed=10_000 + seed)
    return r["returns"], r["entropy"]


def setup(seed: int = 0, n_episodes: int = 8, progress: bool = False) -> Setup:
    """Train and play every (tau, seed) student; ``progress`` shows a bar (about 10 s on one core).

    Kept per (seed, n_episodes): the bar does not change the result, so a dashboard built after the notebook's
    own ``setup(SEED, progress=True)`` reuses it instead of training everything again."""
    return _setup(int(seed), int(n_episodes), _Progress(progress))


class _Progress:
    """A flag that takes no part in the cache key."""
    def __init__(self, on: bool):
        self.on = bool(on)

    def __hash__(self):
        return 0

    def __eq__(self, other):
        return isinstance(other, _Progress)


@lru_cache(maxsize=4)
def _setup(seed: int, n_episodes: int, progress: "_Progress") -> Setup:
    progress = progress.on
    seeds = tuple(range(N_SEEDS * seed, N_SEEDS * seed + N_SEEDS))
    R = np.zeros((len(TAUS), len(seeds), n_episodes))
    H = np.zeros((len(TAUS), len(seeds)))
    ER, EH, CR, CH = [], [], [], []
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(seeds) * (len(TAUS) + 2), desc="distilling CartPole students", leave=False)
    n_states = 0
    for j, sd in enumerate(seeds):
        data = P.rollout(P.expert_logits, n_episodes=5, seed=sd, greedy=True, epsilon=0.2)
        S = data["states"]
        Z = P.expert_logits(S)
        n_states += len(S)
        r, h = evaluate(P.expert_logits, sd, n_episodes)
        ER.append(r), EH.append(h)
        for i, tau in enumerate(TAUS):
            st = P.distill(S, Z, tau=tau, seed=sd, epochs=100)
            R[i, j], H[i, j] = evaluate(st, sd, n_episodes)
            if bar is not None:
                bar.update()
        bc = P.clone(S, Z.argmax(-1), seed=sd, epochs=100)
        r, h = evaluate(bc, sd, n_episodes)
        CR.append(r), CH.append(h)
        if bar is not None:
            bar.update(2)
    if bar is not None:
        bar.close()
    return Setup(seeds, R, H, np.array(ER), np.array(EH), np.array(CR), np.array(CH), n_states // len(seeds))


def run(s: Setup, tau: float = 1.0) -> dict:
    """The precomputed students at temperature ``tau`` (one of TAUS)."""
    tau = check_choice("tau", float(tau), TAUS)
    i = TAUS.index(tau)
    return {"tau": tau, "i": i, "returns": s.returns[i], "entropy": s.entropy[i], "seeds": s.seeds,
            "curve_return": s.returns.mean((1, 2)), "curve_entropy": s.entropy.mean(1),
            "expert_entropy": float(s.expert_entropy.mean()), "expert_return": float(s.expert_return.mean())}


def render(result: dict, fig) -> None:
    """Return (left) and policy entropy (right) along the temperature grid; the current tau is marked."""
    ax1, ax2 = plots.fast_axes(fig, 2)
    x = np.arange(len(TAUS))
    labels = [f"{t:g}" for t in TAUS]
    for ax, y, colour, ylabel, lim in ((ax1, result["curve_return"], "tab:blue", "mean return (steps)", (0, 520)),
                                       (ax2, result["curve_entropy"], "tab:red", "policy entropy (nats)", (0.3, 0.7))):
        ax.plot(x, y, "o-", color=colour)
        ax.plot([result["i"]], [y[result["i"]]], "o", ms=12, mfc="none", mec="k")
        ax.set_xticks(x, labels)
        ax.set_ylim(*lim)
        ax.set_xlabel("distillation temperature tau")
        ax.set_ylabel(ylabel)
    ax2.axhline(result["expert_entropy"], color="k", lw=0.8, ls="--")
    ax1.set_title(f"Return of the students (tau = {result['tau']:g} circled)")
    ax2.set_title("Policy entropy (dashed: the expert's)")


def summary(result: dict) -> str:
    return (f"tau = {result['tau']:g} &mdash; mean return {result['returns'].mean():.0f} of 500, policy entropy "
            f"{result['entropy'].mean():.3f} nats (expert sampled at its own logits: "
            f"{result['expert_return']:.0f}, {result['expert_entropy']:.3f} nats)")


def dashboard(seed: int = 0, tau: float = 1.0, background: bool = True, progress: bool = False):
    """A temperature slider over the precomputed grid."""
    s = setup(seed, progress=progress)
    w = widgets.W.SelectionSlider(options=[(f"{t:g}", t) for t in TAUS], value=float(tau),
                                  description="temperature tau", continuous_update=False,
                                  style={"description_width": "initial"}, layout=widgets.W.Layout(width="420px"))
    return widgets.Dashboard(lambda tau: run(s, tau), {"tau": w}, render=render, summary=summary,
                             figsize=(9, 3.2), title=TITLE, background=background)
