"""Generated sequence tasks for hidden-state distillation between transformers, and what it needs around them.

Each task draws sequences of ``length`` tokens from a vocabulary of ``vocab`` symbols
and gives every sequence one of four classes:

* ``"first"``: the first token modulo 4 (one attention step copies it everywhere);
* ``"last"``: the last token modulo 4 (the same kind of step, at the other end);
* ``"match"``: how often the first token occurs again in the rest of the sequence
  (0, 1, 2, or 3 and more): every position compares itself with the first token;
* ``"count"``: the most frequent of the tokens 0..3 (ties to the smaller one).

:class:`ExitEncoder` is a :class:`~course_lib.distill.layer_mapping.SeqEncoder` with a
second linear head (an *early exit*) on the mean-pooled output of one lower layer, and
:func:`train_two_task_teacher` trains (and caches) one on two tasks at once, the
exit task read after ``exit_layer`` and the top task at the output, on fresh
sequences every step. So the two answers are built at different depths of one teacher.
:func:`train_teacher` trains a plain single-task teacher. :func:`train_student` trains a
shallower student from scratch, with output distillation, or with hidden-state
distillation under a layer mapping, and :func:`probe_layers` fits one linear probe per
layer to show where an answer lives.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import cache, train
from .._checks import check_choice, check_int_range, check_positive
from ..seeding import fork, generator
from .layer_mapping import MAPPINGS, SeqEncoder, check_mapping, hidden_state_loss, layer_mapping, teacher_hidden

TASKS = ("first", "last", "match", "count")
N_CLASSES = 4
METHODS = ("scratch", "output") + MAPPINGS


def make_task(task: str, n: int, *, length: int = 8, vocab: int = 8, seed: int = 0):
    """``n`` random sequences (int64, shape (n, length)) and their classes in 0..3 for ``task``."""
    check_choice("task", task, TASKS)
    n = check_int_range("n", n, 1, 10**7)
    length = check_int_range("length", length, 2, 10**4)
    vocab = check_int_range("vocab", vocab, N_CLASSES, 10**5)
    x = torch.randint(0, vocab, (n, length), generator=generator(seed))
    return x, labels(task, x)


def labels(task: str, x: torch.Tensor) -> torch.Tensor:
    """The class of every sequence (row) of ``x`` under ``task``."""
    check_choice("task", task, TASKS)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"x must be a (sequences, length >= 2) tensor of tokens, got shape {tuple(x.shape)}")
    if task == "first":
        return x[:, 0] % N_CLASSES
    if task == "last":
        return x[:, -1] % N_CLASSES
    if task == "match":
        return (x[:, 1:] == x[:, :1]).sum(1).clamp(max=N_CLASSES - 1)
    counts = torch.stack([(x == k).sum(1) for k in range(N_CLASSES)], 1)
    return counts.argmax(1)  # the first maximum: ties go to the smaller token


def train_teacher(task: str, *, seed: int = 0, n_layers: int = 4, n_train: int = 1000, steps: int = 250,
                  lr: float = 5e-3, length: int = 8, vocab: int = 8, d_model: int = 32, n_heads: int = 2,
                  progress: bool = False) -> SeqEncoder:
    """A ``n_layers`` transformer trained full batch on ``n_train`` sequences of ``task`` drawn with ``seed``.

    Cached on disk (``cache.cached_model``) by everything that changes its weights.
    """
    check_choice("task", task, TASKS)
    check_int_range("steps", steps, 0, 10**6)
    check_positive("lr", lr)
    config = dict(kind="seq_teacher", task=task, seed=int(seed), n_layers=int(n_layers), n_train=int(n_train),
                  steps=int(steps), lr=float(lr), length=int(length), vocab=int(vocab), d_model=int(d_model),
                  n_heads=int(n_heads))
    X, y = make_task(task, n_train, length=length, vocab=vocab, seed=seed)

    def build():
        return SeqEncoder(vocab, length, N_CLASSES, d_model=d_model, n_layers=n_layers, n_heads=n_heads,
                          d_ff=2 * d_model, seed=seed)

    def fit(m):
        train.fit(m, lambda mm, idx: {"loss": F.cross_entropy(mm(X), y)}, 1, epochs=steps, lr=lr, seed=seed,
                  progress=progress and f"teacher ({task})")

    return cache.cached_model(config, build, fit, name="seq_teacher")


class ExitEncoder(SeqEncoder):
    """A :class:`SeqEncoder` with an early exit: a second linear head on the mean-pooled output of ``exit_layer``.

    ``model(x)`` gives the top head's logits as before; :meth:`heads` gives both.
    """

    def __init__(self, vocab: int, length: int, n_classes: int, *, exit_layer: int = 1, d_model: int = 32,
                 n_layers: int = 4, n_heads: int = 2, d_ff: int = 64, seed: int | None = 0):
        super().__init__(vocab, length, n_classes, d_model=d_model, n_layers=n_layers, n_heads=n_heads, d_ff=d_ff,
                         seed=seed)
        self.exit_layer = check_int_range("exit_layer", exit_layer, 1, n_layers)
        with fork(None if seed is None else int(seed) + 1):
            self.exit = nn.Linear(d_model, n_classes)

    def heads(self, x: torch.Tensor):
        """(exit logits, top logits) for the sequences ``x``."""
        logits, hidden = self(x, return_hidden=True)
        return self.exit(hidden[self.exit_layer - 1].mean(1)), logits


def train_two_task_teacher(exit_task: str = "first", top_task: str = "last", *, exit_layer: int = 1,
                           seed: int = 0, n_layers: int = 4, steps: int = 200, batch: int = 256, lr: float = 5e-3,
                           length: int = 8, vocab: int = 8, d_model: int = 16, n_heads: int = 2,
                           progress: bool = False) -> ExitEncoder:
    """One ``n_layers`` :class:`ExitEncoder` trained on two tasks of the same sequences at once.

    Every Adam step draws ``batch`` fresh sequences (from ``seed``) and adds the cross-entropy of
    the exit head (after layer ``exit_layer``) on ``exit_task`` to that of the top head on
    ``top_task``. Cached on disk (``cache.cached_model``) by everything that changes the weights.
    """
    check_choice("exit_task", exit_task, TASKS)
    check_choice("top_task", top_task, TASKS)
    if exit_task == top_task:
        raise ValueError(f"exit_task and top_task must differ, got {exit_task!r} for both")
    n_layers = check_int_range("n_layers", n_layers, 2, 64)
    exit_layer = check_int_range("exit_layer", exit_layer, 1, n_layers - 1)
    check_int_range("steps", steps, 0, 10**6)
    check_int_range("batch", batch, 1, 10**6)
    check_positive("lr", lr)
    length = check_int_range("length", length, 2, 10**4)
    vocab = check_int_range("vocab", vocab, N_CLASSES, 10**5)
    config = dict(kind="seq_two_task_teacher", exit_task=exit_task, top_task=top_task, exit_layer=int(exit_layer),
                  seed=int(seed), n_layers=int(n_layers), steps=int(steps), batch=int(batch), lr=float(lr),
                  length=int(length), vocab=int(vocab), d_model=int(d_model), n_heads=int(n_heads))

    def build():
        return ExitEncoder(vocab, length, N_CLASSES, exit_layer=exit_layer, d_model=d_model, n_layers=n_layers,
                           n_heads=n_heads, d_ff=2 * d_model, seed=seed)

    def fit(m):
        gen = generator(seed)

        def objective(mm, idx):
            x = torch.randint(0, vocab, (batch, length), generator=gen)
            a, b = mm.heads(x)
            terms = {"exit": F.cross_entropy(a, labels(exit_task, x)), "top": F.cross_entropy(b, labels(top_task, x))}
            terms["loss"] = terms["exit"] + terms["top"]
            return terms

        train.fit(m, objective, 1, epochs=steps, lr=lr, seed=seed, progress=progress and "two-task teacher")

    return cache.cached_model(config, build, fit, name="seq_two_task_teacher")


def resolve_method(method, n_student: int, n_teacher: int):
    """``method`` as (name, mapping): a name in METHODS, or an explicit list of teacher layers (1-based)."""
    if isinstance(method, str):
        check_choice("method", method, METHODS)
        if method in MAPPINGS:
            return method, layer_mapping(method, n_student, n_teacher)
        return method, None
    mapping = check_mapping(method, n_teacher, n_student)
    return "mapping " + ",".join(map(str, mapping)), mapping


def pooled_hidden_loss(student_hidden, teacher_hidden, mapping) -> torch.Tensor:
    """Patient KD's hidden loss on sequence summaries: mean over student layers j of the squared distance
    between the unit-normalised mean-pooled states of student layer j and teacher layer ``mapping[j]``."""
    mapping = check_mapping(mapping, len(teacher_hidden), len(student_hidden))
    total = 0.0
    for j, m in enumerate(mapping):
        hs = F.normalize(student_hidden[j].mean(1), dim=-1)
        ht = F.normalize(teacher_hidden[m - 1].mean(1), dim=-1)
        total = total + (hs - ht).pow(2).sum(-1).mean()
    return total / len(mapping)


def build_student(teacher: SeqEncoder, n_layers: int = 2, *, seed: int = 0) -> SeqEncoder:
    """An untrained ``n_layers`` SeqEncoder as wide as ``teacher`` (same vocabulary, length, heads, classes)."""
    n_layers = check_int_range("n_layers", n_layers, 1, teacher.n_layers)
    return SeqEncoder(teacher.tok.num_embeddings, teacher.pos.shape[0], teacher.head.out_features,
                      d_model=teacher.d_model, n_layers=n_layers, n_heads=teacher.encoder.layers[0].self_attn.num_heads,
                      d_ff=teacher.encoder.layers[0].linear1.out_features, seed=seed)


def train_student(teacher: SeqEncoder, method, X_transfer: torch.Tensor, X_labelled: torch.Tensor,
                  y_labelled: torch.Tensor, *, n_layers: int = 2, beta: float = 1.0, steps: int = 150,
                  lr: float = 1e-2, seed: int = 0, pooled: bool = False, student: SeqEncoder | None = None,
                  teacher_logits: torch.Tensor | None = None) -> SeqEncoder:
    """A ``n_layers`` student trained full batch on the labelled sequences plus the teacher's signal.

    ``method``: ``"scratch"`` (labels only), ``"output"`` (plus the KL divergence to the
    teacher's predictions on ``X_transfer``), a mapping name (``"uniform"``, ``"first"``,
    ``"last"``) or an explicit list of teacher layers, one per student layer (plus
    ``beta`` times the hidden-state loss between mapped layers on ``X_transfer``: TinyBERT's
    MSE over every position, or with ``pooled=True`` patient KD's distance between normalised
    sequence summaries, :func:`pooled_hidden_loss`). ``teacher_logits``: the teacher's logits on
    ``X_transfer`` for output distillation (default: its top head; pass an early exit's logits to
    distil that head). ``student``: a model from :func:`build_student` to train in place (default:
    a new one built from ``seed``). Each step runs the student once on the labelled and transfer
    sequences together.
    """
    n_layers = check_int_range("n_layers", n_layers, 1, teacher.n_layers)
    beta = check_positive("beta", beta)
    check_int_range("steps", steps, 0, 10**6)
    name, mapping = resolve_method(method, n_layers, teacher.n_layers)
    if X_labelled.shape[0] != y_labelled.shape[0]:
        raise ValueError(f"X_labelled and y_labelled must have the same number of rows, got {X_labelled.shape[0]} "
                         f"and {y_labelled.shape[0]}")
    if X_labelled.shape[1:] != X_transfer.shape[1:]:
        raise ValueError(f"X_labelled and X_transfer must have sequences of the same length, got "
                         f"{tuple(X_labelled.shape)} and {tuple(X_transfer.shape)}")
    if student is None:
        student = build_student(teacher, n_layers, seed=seed)
    elif student.n_layers != n_layers:
        raise ValueError(f"student has {student.n_layers} layers but n_layers={n_layers}")
    t_logits, t_hidden = teacher_hidden(teacher, X_transfer)
    if teacher_logits is not None:
        if tuple(teacher_logits.shape) != tuple(t_logits.shape):
            raise ValueError(f"teacher_logits must have shape {tuple(t_logits.shape)} (one row per transfer "
                             f"sequence), got {tuple(teacher_logits.shape)}")
        t_logits = teacher_logits.detach()
    t_logp = F.log_softmax(t_logits, -1)
    n_lab = X_labelled.shape[0]
    X_all = torch.cat([X_labelled, X_transfer]) if name != "scratch" else X_labelled
    loss_fn = pooled_hidden_loss if pooled else hidden_state_loss

    def objective(m, idx):
        logits, hs = m(X_all, return_hidden=True)
        terms = {"ce": F.cross_entropy(logits[:n_lab], y_labelled)}
        if name == "output":
            terms["kd"] = F.kl_div(F.log_softmax(logits[n_lab:], -1), t_logp, reduction="batchmean", log_target=True)
        elif mapping is not None:
            terms["hidden"] = beta * loss_fn([h[n_lab:] for h in hs], t_hidden, mapping)
        terms["loss"] = sum(terms.values())
        return terms

    train.fit(student, objective, 1, epochs=steps, lr=lr, seed=seed)
    return student


@torch.no_grad()
def pooled_states(model: SeqEncoder, X: torch.Tensor) -> list[np.ndarray]:
    """Mean over positions of the embeddings (index 0) and of each layer's output (index k = layer k)."""
    _, hidden = teacher_hidden(model, X)
    emb = model.tok(X) + model.pos[: X.shape[1]]
    return [h.mean(1).numpy() for h in [emb, *hidden]]


def probe_accuracy(F_fit: np.ndarray, y_fit, F_eval: np.ndarray, y_eval) -> float:
    """Test accuracy of a logistic-regression probe fitted on ``(F_fit, y_fit)`` (features standardised)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(F_fit) != len(y_fit) or len(F_eval) != len(y_eval):
        raise ValueError(f"features and labels must have the same number of rows, got {len(F_fit)} and {len(y_fit)}, "
                         f"{len(F_eval)} and {len(y_eval)}")
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    clf.fit(np.asarray(F_fit), np.asarray(y_fit))
    return float(clf.score(np.asarray(F_eval), np.asarray(y_eval)))


def probe_layers(model: SeqEncoder, X_fit, y_fit, X_eval, y_eval) -> np.ndarray:
    """Linear-probe accuracy for the task's class at the embeddings (0) and after each layer (1..n_layers)."""
    a, b = pooled_states(model, X_fit), pooled_states(model, X_eval)
    return np.array([probe_accuracy(fa, y_fit, fb, y_eval) for fa, fb in zip(a, b)])
