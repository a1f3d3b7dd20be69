"""Benchmark case for the chapter-2 sparsity slider (C1).

The runner calls ``dashboard.update(**move)`` for every move and records the
median and 95th percentile of the time each takes (target: median <= 0.30 s,
p95 <= 0.60 s). Each move prunes the cached dense MLP and fine-tunes it briefly.
"""
from course_lib import data, prune


def cases():
    ds = data.load("digits")
    dash = prune.sparsity_dashboard(prune.trained_mlp(seed=0), ds, background=False)
    moves = []
    for i, s in enumerate([0.5, 0.9, 0.2, 0.97, 0.7, 0.0, 0.85, 0.6, 0.95, 0.3, 0.8, 0.99]):
        moves.append(dict(sparsity=s, scope=prune.SCOPES[i % 2]))
        moves.append(dict(sparsity=round(s / 2, 2)))
    return [{"case": "sparsity_slider", "dashboard": dash, "moves": moves}]
