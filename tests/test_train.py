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
