import pytest
import torch

from course_lib import cache, data, models, train


@pytest.fixture(scope="module")
def ds():
    return data.load("digits")


def test_fit_is_seeded_and_learns(ds):
    accs = []
    for _ in range(2):
        m = models.mlp(64, (16,), 10, seed=0)
        h = train.train_scratch(m, ds.X_train, ds.y_train, epochs=60, lr=3e-2, seed=0)
        accs.append(train.evaluate(m, ds.X_test, ds.y_test))
    assert accs[0] == accs[1] > 0.85
    assert len(h.loss) == 60 and h.loss[-1] < h.loss[0] and h.steps == 60


def test_minibatch_and_eval_history(ds):
    m = models.mlp(64, (16,), 10, seed=0)
    h = train.train_scratch(m, ds.X_train, ds.y_train, epochs=4, lr=1e-2, batch_size=64, seed=0,
                            eval_fn=lambda mm: train.evaluate(mm, ds.X_val, ds.y_val), eval_every=2)
    assert h.steps == 4 * 17 and [e for e, _ in h.evals] == [2, 4]


def test_distilled_history_has_named_terms(ds):
    teacher_logits = torch.randn(len(ds.y_train), 10)
    m = models.mlp(64, (8,), 10, seed=0)
    h = train.train_distilled(m, ds.X_train, ds.y_train, teacher_logits, T=2.0, alpha=0.5, epochs=3, seed=0)
    assert set(h.terms) == {"loss", "soft", "hard"}


def test_fit_argument_errors(ds):
    m = models.mlp(64, (8,), 10)
    obj = train.ce_objective(ds.X_train, ds.y_train)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train.fit(m, obj, len(ds.X_train), lr=0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        train.fit(m, obj, len(ds.X_train), optimizer="lbfgs")
    with pytest.raises(ValueError, match=r"batch_size must be in 1\.\."):
        train.fit(m, obj, len(ds.X_train), batch_size=0)


def test_cached_model_trains_once_and_rebuilds_when_corrupt(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    calls = []

    def build():
        return models.mlp(4, (3,), 2, seed=0)

    def fit_it(m):
        calls.append(1)
        with torch.no_grad():
            m.out.bias.fill_(7.0)

    cfg = {"kind": "unit-test", "n": 1}
    a = cache.cached_model(cfg, build, fit_it, name="t")
    b = cache.cached_model(cfg, build, fit_it, name="t")
    assert len(calls) == 1 and torch.equal(b.out.bias, torch.full((2,), 7.0))
    files = list(tmp_path.glob("t-*.pt"))
    assert len(files) == 1 and cache.config_key(cfg) in files[0].name
    files[0].write_bytes(b"not a checkpoint")
    c = cache.cached_model(cfg, build, fit_it, name="t")
    assert len(calls) == 2 and torch.equal(c.out.bias, torch.full((2,), 7.0))
    cache.cached_model({"kind": "unit-test", "n": 2}, build, fit_it, name="t")
    assert len(calls) == 3  # another configuration, another key


def test_teacher_is_cached_and_accurate(ds):
    t = cache.teacher("digits")
    assert train.evaluate(t, ds.X_test, ds.y_test) > 0.95
    with pytest.raises(ValueError, match="fraction must be in"):
        cache.trained_mlp("digits", (8,), fraction=0)
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        cache.trained_mlp("digits", (8,), label_smoothing=1.0)


def test_library_leaves_the_global_random_stream_alone(ds):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    m = models.mlp(64, (8,), 10, seed=5)
    train.train_scratch(m, ds.X_train[:50], ds.y_train[:50], epochs=3, seed=9, batch_size=16)
    assert torch.equal(torch.rand(3), expected)
    # and the seed alone decides the initialisation
    assert torch.equal(models.mlp(64, (8,), 10, seed=5).fc1.weight, models.mlp(64, (8,), 10, seed=5).fc1.weight)


# ------------------------------------------------------- stepping one flat vector (train.FlatOptimizer)
def _fit_both(make_model, objective_of, n, monkeypatch, **kw):
    """Train two copies of the same model: the flat way (default) and per tensor (``_Flat.of`` disabled)."""
    out = []
    for flat in (True, False):
        with monkeypatch.context() as mp:
            if not flat:
                mp.setattr(train.FlatOptimizer, "of", classmethod(lambda cls, params, make: make(list(params))))
            m = make_model()
            h = train.fit(m, objective_of(m), n, **kw)
        out.append((m, h))
    return out


def _assert_same_bits(a, b):
    for (na, pa), (nb, pb) in zip(a.named_parameters(), b.named_parameters()):
        assert na == nb and torch.equal(pa, pb), na


@pytest.mark.parametrize("kw", [dict(optimizer="adam", weight_decay=1e-3, epochs=30, lr=5e-2),
                                dict(optimizer="sgd", weight_decay=1e-3, epochs=3, lr=1e-2, batch_size=50),
                                dict(optimizer="adam", epochs=2, lr=1e-2, batch_size=64)])
def test_flat_step_gives_the_same_bits_as_per_tensor(ds, monkeypatch, kw):
    (a, ha), (b, hb) = _fit_both(lambda: models.mlp(64, (12, 8), 10, seed=3),
                                 lambda m: train.ce_objective(ds.X_train, ds.y_train), len(ds.X_train),
                                 monkeypatch, seed=1, **kw)
    _assert_same_bits(a, b)
    assert ha.terms == hb.terms
    assert len({p.untyped_storage().data_ptr() for p in a.parameters()}) == 1  # a was trained the flat way
    assert len({p.untyped_storage().data_ptr() for p in b.parameters()}) > 1
    for p in a.parameters():  # no hook left behind after fit
        assert not getattr(p, "_post_accumulate_grad_hooks", None)


class _TwoHeads(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = models.mlp(64, (8,), 10, seed=0)
        self.extra = torch.nn.Linear(10, 10)

    def forward(self, x):
        return self.body(x)


@pytest.mark.parametrize("use", ["never", "every third step", "all but every third step"])  # the extra head
def test_flat_step_with_parameters_the_backward_pass_misses(ds, monkeypatch, use):
    X, y = ds.X_train, ds.y_train

    def objective_of(m):
        step = {"n": 0}

        def objective(model, idx):
            step["n"] += 1
            z = model(X[idx])
            third = step["n"] % 3 == 0
            if (use == "every third step" and third) or (use == "all but every third step" and not third):
                z = z + model.extra(z)
            return {"loss": torch.nn.functional.cross_entropy(z, y[idx])}
        return objective

    def make():
        torch.manual_seed(0)
        return _TwoHeads()

    (a, _), (b, _) = _fit_both(make, objective_of, len(X), monkeypatch, epochs=12, lr=3e-2, weight_decay=1e-2)
    _assert_same_bits(a, b)
    if use == "never":
        assert torch.equal(a.extra.weight, make().extra.weight)  # torch.optim skips a parameter with no gradient


def test_flat_step_on_a_pruned_model(ds, monkeypatch):
    from torch.nn.utils import prune

    def make():
        m = models.mlp(64, (16,), 10, seed=2)
        prune.l1_unstructured(m.fc1, "weight", amount=0.5)
        return m

    (a, _), (b, _) = _fit_both(make, lambda m: train.ce_objective(ds.X_train, ds.y_train), len(ds.X_train),
                               monkeypatch, epochs=20, lr=3e-2)
    _assert_same_bits(a, b)
    assert float((a.fc1.weight == 0).float().mean()) >= 0.5  # the mask still applies


# ------------------------------------- train.kd_objective: teacher targets computed once, the same weights
@pytest.mark.parametrize("T,alpha,labels,scale", [(4.0, 0.9, True, True), (1.0, 0.0, True, True),
                                                  (7.5, 1.0, True, True), (2.0, 1.0, False, True),
                                                  (3.0, 0.5, True, False)])
@pytest.mark.parametrize("batch_size", [None, 16])
def test_kd_objective_trains_the_same_weights_as_distill_step(T, alpha, labels, scale, batch_size):
    from course_lib.losses import distill_step

    g = torch.Generator().manual_seed(0)
    X, t = torch.randn(40, 6, generator=g), torch.randn(40, 4, generator=g) * 3
    y = torch.randint(0, 4, (40,), generator=g) if labels else None
    ref, fast = (models.mlp(6, (8,), 4, seed=1) for _ in range(2))

    def reference(m, idx):  # the loss of the course's registry, recomputed (and re-checked) on every step
        return distill_step(m(X[idx]), t[idx], None if y is None else y[idx], T=T, alpha=alpha, scale_t2=scale)

    kw = dict(epochs=6, lr=5e-2, seed=0, batch_size=batch_size)
    h_ref = train.fit(ref, reference, len(X), **kw)
    h_fast = train.fit(fast, train.kd_objective(X, y, t, T=T, alpha=alpha, scale_t2=scale), len(X), **kw)
    for p, q in zip(ref.parameters(), fast.parameters()):
        assert torch.equal(p, q)
    assert h_ref.terms == h_fast.terms


def test_kd_objective_rejects_bad_input():
    X, y, t = torch.zeros(5, 3), torch.zeros(5, dtype=torch.long), torch.zeros(5, 2)
    with pytest.raises(ValueError, match="T must be > 0"):
        train.kd_objective(X, y, t, T=0.0, alpha=0.5)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        train.kd_objective(X, y, t, T=2.0, alpha=1.5)
    with pytest.raises(ValueError, match="labels are needed"):
        train.kd_objective(X, None, t, T=2.0, alpha=0.5)
    with pytest.raises(ValueError, match="one row per row of X"):
        train.kd_objective(X, y, t[:4], T=2.0, alpha=0.5)
    objective = train.kd_objective(X, y, t, T=2.0, alpha=0.5)
    with pytest.raises(ValueError, match="3 outputs but teacher_logits has 2 classes"):
        objective(models.mlp(3, (4,), 3), slice(None))


def _fresh_python(code: str, *, course_lib: bool) -> list:
    """Lines printed by ``code`` in a new interpreter, with ``import course_lib`` first or without it (stock)."""
    import subprocess
    import sys

    code = ("import course_lib\n" if course_lib else "") + code
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.split("\n")


_OPTIMISERS = """
import sys, torch
gen = torch.Generator().manual_seed(0)
X, y = torch.randn(40, 5, generator=gen), torch.arange(40) % 3
if "course_lib" in sys.modules:  # course_lib's own loop first
    from course_lib import models, train
    train.fit(models.mlp(5, (8,), 3, seed=0), lambda n, idx: {"loss": torch.nn.functional.cross_entropy(n(X[idx]),
              y[idx])}, len(X), epochs=3, batch_size=16, seed=0)
    print("after train.fit, compiler loaded:", "torch._dynamo" in sys.modules)
for make in (lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=1e-3), lambda p: torch.optim.AdamW(p, lr=0.05),
             lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    opt = make(net.parameters())
    for i in range(5):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(X), y).backward()
        opt.step()
        if i == 2:  # through a saved state
            state = opt.state_dict()
            opt = make(net.parameters())
            opt.load_state_dict(state)
    print(torch.is_grad_enabled(), [p.detach().double().tolist() for p in net.parameters()])
print("compiler loaded:", "torch._dynamo" in sys.modules)
# now with the compiler loaded, and zero_grad called inside compiled code
w = torch.nn.Parameter(torch.linspace(-1, 1, 5))
opt = torch.optim.Adam([w], lr=0.1)
def grads():
    opt.zero_grad()
    ((w - 0.3) ** 2).sum().backward()
compiled = torch.compile(grads, backend="eager")
for _ in range(3):
    compiled()
    opt.step()
print(w.detach().double().tolist())
print("kept out of compiled code:",
      getattr(torch.optim.Optimizer.zero_grad.__wrapped__.__dynamo_disable, "_torchdynamo_disable", False))
"""


def test_optimisers_give_stock_pytorch_numbers_without_loading_the_compiler():
    """torch.optim's wrappers would import torch._dynamo on the first step (2-3 s in every kernel). With course_lib
    imported, its training loop and Adam, AdamW and SGD (steps, zero_grad, a state saved and loaded) give stock
    PyTorch's numbers bit for bit while the compiler stays unloaded; once something loads it, zero_grad is kept out
    of compiled code as PyTorch does it and the numbers are stock PyTorch's again."""
    stock, ours = _fresh_python(_OPTIMISERS, course_lib=False), _fresh_python(_OPTIMISERS, course_lib=True)
    assert ours[0] == "after train.fit, compiler loaded: False"
    ours = ours[1:]
    assert ours[:3] == stock[:3] and ours[0].startswith("True [")
    assert stock[3] == "compiler loaded: True" and ours[3] == "compiler loaded: False"
    assert ours[4] == stock[4]
    assert ours[5] == stock[5] == "kept out of compiled code: True"
