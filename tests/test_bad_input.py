"""Each class of bad input gets a clear error naming the parameter, the value and what is allowed."""
import pytest
import torch

from course_lib import data, losses, metrics, models, train
from course_lib.ui.widgets import Dashboard, slider

X = torch.randn(6, 4)
LOGITS = torch.randn(6, 3)
Y = torch.tensor([0, 1, 2, 0, 1, 2])


@pytest.mark.parametrize("labels,match", [
    (torch.tensor([0, 1, 2, 0, 1, 3]), r"labels must be in 0\.\.2.*\[3\]"),
    (torch.tensor([0, 1, 2, 0, 1, -1]), r"labels must be in 0\.\.2.*\[-1\]"),
    (torch.tensor([0, 1, 2, 0, 1, -100]), r"labels must be in 0\.\.2.*\[-100\]"),  # torch's ignore value: nan before
    (torch.tensor([0, 1, 2]), r"labels must have shape \(6,\)"),
])
def test_labels_out_of_range_or_miscounted(labels, match):
    with pytest.raises(ValueError, match=match):
        losses.hard_cross_entropy(LOGITS, labels)
    with pytest.raises(ValueError, match=match):
        metrics.accuracy(LOGITS, labels)
    with pytest.raises(ValueError, match=match):
        losses.distill_step(LOGITS, LOGITS, labels, alpha=0.5)


def test_float_labels_are_a_type_error():
    with pytest.raises(TypeError, match="labels must hold integer class indices"):
        losses.hard_cross_entropy(LOGITS, Y.float())
    with pytest.raises(TypeError, match="y must hold integer class indices"):
        train.ce_objective(X, Y.float())


def test_label_and_input_counts_that_differ():
    with pytest.raises(ValueError, match=r"y must have shape \(6,\)"):
        train.ce_objective(X, Y[:4])
    with pytest.raises(ValueError, match="teacher_logits must have one row per row of X"):
        train.kd_objective(X, Y, LOGITS[:5], T=2.0, alpha=0.5)
    with pytest.raises(ValueError, match="X and y must have the same number of rows"):
        data.labelled_subset(X, Y[:5], 0.5)
    m = models.mlp(4, (3,), 3, seed=0)
    with pytest.raises(ValueError, match=r"y must have shape \(6,\)"):
        train.evaluate(m, X, Y[:2])


def test_labels_beyond_the_models_outputs():
    m = models.mlp(4, (3,), 2, seed=0)
    obj = train.ce_objective(X, Y)
    with pytest.raises(ValueError, match=r"y must be in 0\.\.1 \(the model has 2 outputs\)"):
        obj(m, slice(None))


def test_empty_batch():
    empty = torch.zeros(0, 3)
    with pytest.raises(ValueError, match="empty batch"):
        losses.kd_kl(empty, empty)
    with pytest.raises(ValueError, match="empty batch"):
        metrics.accuracy(empty, torch.zeros(0, dtype=torch.long))
    with pytest.raises(ValueError, match="empty"):
        losses.softmax_t(torch.zeros(0), 2.0)
    with pytest.raises(ValueError, match="empty batch"):
        train.evaluate(models.mlp(4, (3,), 3, seed=0), torch.zeros(0, 4), torch.zeros(0, dtype=torch.long))


def test_integer_logits_and_inputs():
    ints = torch.ones(6, 3, dtype=torch.long)
    for fn in (lambda: losses.kd_kl(ints, LOGITS), lambda: losses.kd_kl(LOGITS, ints),
               lambda: losses.softmax_t(ints, 2.0), lambda: metrics.accuracy(ints, Y),
               lambda: metrics.kl_to_teacher(ints, LOGITS), lambda: metrics.agreement(ints, ints),
               lambda: losses.mse_logits(ints, LOGITS), lambda: train.ce_objective(X.long(), Y)):
        with pytest.raises(TypeError, match="floating-point"):
            fn()


def test_metric_given_logits_where_probabilities_belong():
    with pytest.raises(ValueError, match="logits\\? apply softmax first"):
        metrics.entropy(torch.randn(4, 3) * 3)
    with pytest.raises(ValueError, match="must sum to 1"):
        metrics.entropy(torch.full((2, 3), 0.2))
    assert torch.allclose(metrics.entropy(torch.full((2, 4), 0.25)), torch.full((2,), 1.3862944))


def test_model_with_no_layer_or_a_wrong_input_shape():
    with pytest.raises(ValueError, match="no Linear or Conv layer"):
        models.flops(torch.nn.Sequential(torch.nn.ReLU()), (4,))
    with pytest.raises(ValueError, match=r"input_shape \(5,\) does not fit the model"):
        models.flops(models.mlp(4, (3,), 2), (5,))


@pytest.mark.parametrize("value", ["16", None, "a lot"])
def test_integer_arguments_given_as_strings_or_none(value):
    with pytest.raises(TypeError, match=r"epochs must be a number"):
        train.fit(models.mlp(4, (3,), 2), train.ce_objective(X, Y % 2), 6, epochs=value)
    with pytest.raises(TypeError, match=r"hidden width must be a number"):
        models.mlp(4, (value,), 2)
    with pytest.raises(TypeError, match=r"T must be a number"):
        losses.kd_kl(LOGITS, LOGITS, T=value)
    with pytest.raises(TypeError, match=r"alpha must be a number"):
        losses.distill_step(LOGITS, LOGITS, Y, alpha=value)


@pytest.mark.parametrize("spec,match", [
    ((30, 0.5, 20, 0.5), r"value must be in \[0.5, 20\], got 30"),
    ((3, 0.5, 20, 0), "step must be > 0, got 0"),
    ((3, 0.5, 20, -1), "step must be > 0"),
    ((3, 20, 0.5, 0.5), "min must be below max"),
    ((3, 0, 5, 10), "step .* must not exceed the range"),
])
def test_slider_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        slider(*spec, description="T")
    with pytest.raises(ValueError, match=match):
        Dashboard(lambda T: T, {"T": spec})


def test_pruning_a_model_with_no_layer_to_act_on():
    from course_lib.compress import prune

    empty = torch.nn.Sequential(torch.nn.ReLU())
    with pytest.raises(ValueError, match="no Linear or Conv layer to prune"):
        prune.magnitude_prune(empty, 0.5)
    with pytest.raises(ValueError, match="no Linear or Conv layer whose sparsity"):
        prune.sparsity(empty)
    with pytest.raises(ValueError, match="no Linear or Conv layer to score"):
        prune.movement_scores(empty, lambda m, idx: {"loss": torch.zeros(())})
