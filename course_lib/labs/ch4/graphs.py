"""A7 lab: prune a graph's edges under a budget so that a graph network keeps the teacher's predictions.

``setup(seed, graph)`` loads a graph that ships with networkx (Zachary's karate
club, the Les Miserables co-appearance network with Louvain communities as
labels) or a generated stochastic block model, splits its nodes, trains (and
caches) a two-layer GCN teacher on the full graph and scores every edge three
ways (``compress.graph_pruning``). ``run(s, budget)`` keeps that fraction of
edges by each method and measures, on the pruned graph, the teacher's drift and
accuracy without retraining and a student GCN distilled from the teacher's
full-graph outputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from ... import cache, train
from ..._checks import check_choice, check_int_range
from ...compress import graph_pruning as gp
from ...seeding import generator
from ...ui import plots, widgets

TITLE = "Prune a graph's edges and keep the GCN's answers"
TRY = "Lower the edge budget from 100% towards 10% and watch which pruning keeps the drift near zero longest."
GRAPHS = ("karate", "lesmis", "sbm")
METHODS = gp.METHODS
COLOURS = {"drift": "tab:green", "degree": "tab:orange", "random": "tab:gray"}


@dataclass(frozen=True, eq=False)
class GraphData:
    name: str
    edges: torch.Tensor        # (E, 2) undirected, each edge once
    X: torch.Tensor            # node features (identity: one-hot node ids)
    y: torch.Tensor
    n_classes: int
    train_idx: torch.Tensor
    val_idx: torch.Tensor
    test_idx: torch.Tensor
    pos: np.ndarray            # a fixed 2-D layout for drawing

    @property
    def n_nodes(self) -> int:
        return len(self.y)


def _nx_graph(name: str, seed: int):
    import networkx as nx

    if name == "karate":
        G = nx.karate_club_graph()
        labels = [0 if G.nodes[v]["club"] == "Mr. Hi" else 1 for v in G.nodes]
    elif name == "lesmis":
        G = nx.convert_node_labels_to_integers(nx.les_miserables_graph(), ordering="sorted")
        comms = nx.community.louvain_communities(G, seed=0)  # fixed: the labels do not move with SEED
        lab = {v: k for k, c in enumerate(sorted(comms, key=min)) for v in c}
        labels = [lab[v] for v in G.nodes]
    else:
        G = nx.stochastic_block_model([40, 40, 40], [[0.15, 0.02, 0.02], [0.02, 0.15, 0.02], [0.02, 0.02, 0.15]],
                                      seed=int(seed))
        labels = [G.nodes[v]["block"] for v in G.nodes]
    return G, labels


def load_graph(name: str = "karate", *, seed: int = 0, train_fraction: float = 0.3) -> GraphData:
    """A graph, its labels and a stratified node split (train ``train_fraction``, val and test halves of the rest)."""
    check_choice("graph", name, GRAPHS)
    import networkx as nx

    G, labels = _nx_graph(name, seed)
    G = nx.convert_node_labels_to_integers(G)
    n = G.number_of_nodes()
    edges = torch.tensor([(min(u, v), max(u, v)) for u, v in G.edges() if u != v], dtype=torch.long)
    y = torch.tensor(labels, dtype=torch.long)
    gen = generator(seed)
    tr, va, te = [], [], []
    for c in torch.unique(y):
        idx = torch.nonzero(y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        k = max(1, round(train_fraction * len(idx)))
        rest = idx[k:]
        tr.append(idx[:k]), va.append(rest[: len(rest) // 2]), te.append(rest[len(rest) // 2:])
    pos = nx.spring_layout(G, seed=0)
    return GraphData(name, edges, torch.eye(n), y, int(y.max()) + 1, torch.cat(tr), torch.cat(va), torch.cat(te),
                     np.array([pos[v] for v in range(n)]))


def accuracy(logits: torch.Tensor, g: GraphData, idx=None) -> float:
    idx = g.test_idx if idx is None else idx
    return float((logits[idx].argmax(-1) == g.y[idx]).float().mean())


def train_gcn(g: GraphData, A_hat: torch.Tensor, *, hidden: int = 16, seed: int = 0, epochs: int = 150,
              teacher_logits: torch.Tensor | None = None, T: float = 2.0, alpha: float = 0.5, lr: float = 0.05):
    """A GCN trained on ``A_hat``: cross-entropy on the training nodes, plus (if given) KD on every node."""
    model = gp.GCN(g.X.shape[1], hidden, g.n_classes, seed=seed)

    def objective(m, _):
        z = m(g.X, A_hat)
        loss = F.cross_entropy(z[g.train_idx], g.y[g.train_idx])
        if teacher_logits is None:
            return {"loss": loss}
        soft = F.kl_div(F.log_softmax(z / T, -1), F.log_softmax(teacher_logits / T, -1), reduction="batchmean",
                        log_target=True) * T * T
        return {"loss": (1 - alpha) * loss + alpha * soft}

    train.fit(model, objective, 1, epochs=epochs, lr=lr, weight_decay=5e-4, seed=seed)
    return model


def teacher(g: GraphData, *, seed: int = 0, hidden: int = 32):
    """The GCN teacher on the full graph (cached on disk by graph, split and seed)."""
    A_hat = gp.normalized_adjacency(g.edges, g.n_nodes)
    config = dict(kind="gcn", graph=g.name, seed=int(seed), hidden=hidden, n=g.n_nodes, E=len(g.edges),
                  train=g.train_idx.tolist(), epochs=200)

    def fit(model):
        trained = train_gcn(g, A_hat, hidden=hidden, seed=seed, epochs=200)
        model.load_state_dict(trained.state_dict())

    return cache.cached_model(config, lambda: gp.GCN(g.X.shape[1], hidden, g.n_classes, seed=seed), fit,
                              name=f"gcn-{g.name}")


@dataclass(frozen=True, eq=False)
class Setup:
    g: GraphData
    teacher: gp.GCN
    teacher_logits: torch.Tensor
    scores: dict
    seed: int


@lru_cache(maxsize=8)
def setup(seed: int = 0, graph: str = "karate") -> Setup:
    """Graph, split, cached teacher and the three edge scorings (everything a budget move does not change)."""
    check_choice("graph", graph, GRAPHS)
    g = load_graph(graph, seed=seed)
    t = teacher(g, seed=seed)
    A_full = gp.normalized_adjacency(g.edges, g.n_nodes)
    z_t = _predict(t, g.X, A_full)
    scores = {m: gp.edge_scores(m, edges=g.edges, n_nodes=g.n_nodes, model=t, X=g.X, teacher_logits=z_t,
                                seed=seed) for m in METHODS}
    return Setup(g, t, z_t, scores, seed)


@torch.no_grad()
def _predict(model, X, A_hat):
    return model(X, A_hat)


def evaluate_budget(s: Setup, budget: float, *, retrain: bool = True, student_seed: int | None = None,
                    scratch: bool = False, retrain_methods=("drift",), epochs: int = 100) -> dict:
    """For each method at ``budget``: teacher drift and accuracy on the pruned graph, and a distilled student's."""
    budget = gp.check_budget(budget)
    seed = s.seed if student_seed is None else student_seed
    out = {"budget": budget, "graph": s.g.name, "n_edges": len(s.g.edges), "kept": {}, "drift": {}, "acc": {},
           "student_acc": {}, "student_drift": {}, "scratch_acc": {}}
    for m in METHODS:
        kept = gp.keep_edges(s.g.edges, s.scores[m], budget)
        A = gp.normalized_adjacency(kept, s.g.n_nodes)
        z = _predict(s.teacher, s.g.X, A)
        out["kept"][m] = kept
        out["drift"][m] = float(gp.output_drift(z, s.teacher_logits))
        out["acc"][m] = accuracy(z, s.g)
        if retrain and m in retrain_methods:
            st = train_gcn(s.g, A, hidden=16, seed=seed, epochs=epochs, teacher_logits=s.teacher_logits)
            zs = _predict(st, s.g.X, A)
            out["student_acc"][m] = accuracy(zs, s.g)
            out["student_drift"][m] = float(gp.output_drift(zs, s.teacher_logits))
        if scratch and m in retrain_methods:
            sc = train_gcn(s.g, A, hidden=16, seed=seed, epochs=epochs)
            out["scratch_acc"][m] = accuracy(_predict(sc, s.g.X, A), s.g)
    out["teacher_acc"] = accuracy(s.teacher_logits, s.g)
    return out


def run(s: Setup, budget: float = 0.5) -> dict:
    """One slider position: prune to ``budget`` three ways, evaluate the teacher, retrain one distilled student.

    The student (16 hidden units, 40 steps) is trained on the drift-pruned graph only, to keep a move fast.
    """
    r = evaluate_budget(s, budget, epochs=40)
    r["pos"], r["y"] = s.g.pos, s.g.y.numpy()
    return r


def render(result: dict, fig) -> None:
    """Left: the graph with the edges the drift scorer keeps. Right: drift of the teacher per method."""
    from matplotlib.collections import LineCollection

    ax1, ax2 = plots.fast_axes(fig, 2)
    pos = result["pos"]
    kept = result["kept"]["drift"].numpy()
    if len(kept):
        ax1.add_collection(LineCollection(pos[kept], colors="tab:green", linewidths=1.0, alpha=0.7))
    ax1.scatter(pos[:, 0], pos[:, 1], c=result["y"], cmap="tab10", s=18, zorder=3, vmin=0, vmax=9)
    ax1.set_xticks([]), ax1.set_yticks([])
    ax1.set(title=f"{result['graph']}: {len(kept)} of {result['n_edges']} edges kept (drift scorer)",
            xlabel="node colour = true class", ylabel="")
    names = list(METHODS)
    vals = [result["drift"][m] for m in names]
    # numeric positions with tick labels: string categories would give the axes units, and fast_axes builds
    # axes with units again on every move instead of recycling them
    ax2.bar(range(len(names)), vals, color=[COLOURS[m] for m in names])
    ax2.set_xticks(range(len(names)), names)
    for i, v in enumerate(vals):
        ax2.annotate(f"{v:.3f}", (i, v), ha="center", va="bottom", fontsize=9)
    ax2.set_ylim(0, max(max(vals) * 1.25, 0.01))
    ax2.set(title=f"Teacher drift on the pruned graph at budget {result['budget']:.0%}",
            xlabel="pruning method", ylabel="mean KL to full graph (nats)")


def summary(result: dict) -> str:
    cells = " | ".join(f"{m}: teacher acc {result['acc'][m]:.0%}, drift {result['drift'][m]:.3f}" for m in METHODS)
    st = result["student_acc"].get("drift")
    extra = "" if st is None else f" | student distilled on the drift-pruned graph: acc {st:.0%}"
    return f"budget {result['budget']:.0%} ({result['graph']}) &mdash; {cells}{extra}"


def dashboard(seed: int = 0, graph: str = "karate", budget: float = 0.5, background: bool = True):
    """A budget slider over the fraction of edges kept."""
    s = setup(seed, graph)
    return widgets.Dashboard(lambda budget: run(s, budget),
                             {"budget": widgets.slider(budget, 0.05, 1.0, 0.05, description="edge budget (kept)")},
                             render=render, summary=summary, figsize=(9, 3.2), title=TITLE, background=background)
