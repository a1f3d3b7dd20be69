"""Chapter 4 labs, part 1 (A1, A2, A3, A5, A12, A13): values on tiny known cases and bad-input errors."""
import time

import numpy as np
import pytest
import torch


# --------------------------------------------------------------------------- A12 diagnosis
def test_diagnosis_bytes_and_plan():
    from course_lib.labs.ch4 import diagnosis as dx

    assert dx.student_bytes("small", 4) == 4 * (30 * 4 + 4 * 2 + 4 + 2)
    # 4-bit: 120 + 8 weights -> 60 + 4 bytes, two scales, 6 float biases
    assert dx.student_bytes("quantized", 4) == 60 + 4 + 8 + 24
    widths = dx.plan(600)
    for kind, h in widths.items():
        assert dx.student_bytes(kind, h) <= 600 < dx.student_bytes(kind, h + 1)
    assert dx.min_budget() == dx.student_bytes("small", 1)
    with pytest.raises(ValueError, match="budget_bytes"):
        dx.plan(dx.min_budget() - 1)
    with pytest.raises(ValueError, match="budget_bytes"):
        dx.plan("lots")
    with pytest.raises(ValueError, match="kind"):
        dx.student_bytes("huge", 3)


def test_diagnosis_thresholds_and_costs():
    from course_lib.labs.ch4 import diagnosis as dx

    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.9, 0.8, 0.35])
    pos = np.array([0, 0, 0, 0, 1, 1, 1])
    thr = dx.threshold_at_specificity(scores, pos, 0.75)  # may flag one of four negatives
    op = dx.operating_point(scores, pos, thr)
    assert op["specificity"] >= 0.75 and op["false_alarms"] == 1 and op["sensitivity"] == 1.0
    thr = dx.threshold_at_specificity(scores, pos, 1.0)
    op = dx.operating_point(scores, pos, thr)
    assert op["false_alarms"] == 0 and op["misses"] == 1
    c = dx.cost_curve(scores, pos, 10, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(c, [4 / 7, 10 / 7, 30 / 7])
    assert dx.best_threshold(scores, pos, 10, [0.0, 0.5, 1.0]) == 0.0
    with pytest.raises(ValueError, match="cost_ratio"):
        dx.cost_curve(scores, pos, 0, [0.5])
    with pytest.raises(ValueError, match="specificity"):
        dx.threshold_at_specificity(scores, pos, 1.5)


def test_diagnosis_students_fit_and_quantize():
    from course_lib import data
    from course_lib.labs.ch4 import diagnosis as dx

    ds = data.load("breast_cancer")
    X, y = ds.X_train[:80], ds.y_train[:80]
    q = dx.train_student("quantized", 5, X, y, seed=0, epochs=5)
    for m in q.modules():
        if isinstance(m, torch.nn.Linear):
            assert len(torch.unique(m.weight)) <= 15  # a symmetric 4-bit grid has 15 levels
    assert dx.measured_bytes(q, "quantized") == dx.student_bytes("quantized", 5)
    p = dx.train_student("pruned", 8, X, y, seed=0, epochs=6)
    assert dx.measured_bytes(p, "pruned") <= dx.student_bytes("pruned", 8)
    nz = sum(int((m.weight != 0).sum()) for m in p.modules() if isinstance(m, torch.nn.Linear))
    assert nz == round(0.25 * (30 * 8 + 8 * 2))


def test_diagnosis_lab_protocol_and_speed():
    from matplotlib.figure import Figure

    from course_lib.labs.ch4 import diagnosis as dx

    dash = dx.dashboard(0, background=False)
    times = []
    for v in (0.1, 0.3, 0.5, 0.7, 0.9):
        t0 = time.process_time()
        r = dash.update(threshold=v)
        times.append(time.process_time() - t0)
        assert r["misses"] + r["tp"] == r["n_pos"]
    assert np.median(times) < 1.0
    r = dx.run(dx.setup(0), threshold=0.5, cost_ratio=10)
    dx.render(r, Figure())
    assert "cancers missed" in dx.summary(r)
    with pytest.raises(ValueError, match="threshold"):
        dx.run(dx.setup(0), threshold=1.5)


# --------------------------------------------------------------------------- A13 attribution
def test_attribution_agreement_measures():
    from course_lib.labs.ch4 import attribution as at

    a = torch.tensor([[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0]])
    b = torch.tensor([[10.0, 20.0, 30.0, 40.0], [1.0, 2.0, 3.0, 4.0]])
    torch.testing.assert_close(torch.tensor(at.rank_agreement(a, b)), torch.tensor([1.0, -1.0], dtype=torch.float64))
    assert at.topk_overlap(a, b, k=2).tolist() == [1.0, 0.0]
    assert at.topk_overlap(a, b, k=4).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="k"):
        at.topk_overlap(a, b, k=5)
    with pytest.raises(ValueError, match="same shape"):
        at.rank_agreement(a, b[:1])


def test_attribution_maps_with_captum():
    from course_lib.labs.ch4 import attribution as at

    lin = torch.nn.Linear(3, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, -2.0, 0.0], [0.0, 0.0, 1.0]]))
        lin.bias.zero_()
    X = torch.tensor([[1.0, 1.0, 1.0], [2.0, 0.0, 1.0]])
    target = torch.tensor([0, 0])
    sal = at.attributions(lin, X, target, "saliency")
    torch.testing.assert_close(sal, torch.tensor([[1.0, 2.0, 0.0], [1.0, 2.0, 0.0]]))
    ig = at.attributions(lin, X, target, "integrated_gradients")  # linear model: |w * x| exactly
    torch.testing.assert_close(ig, torch.tensor([[1.0, 2.0, 0.0], [2.0, 0.0, 0.0]]))
    with pytest.raises(ValueError, match="method"):
        at.attributions(lin, X, target, "lime")
    with pytest.raises(ValueError, match="target"):
        at.attributions(lin, X, torch.tensor([0]), "saliency")
    with pytest.raises(ValueError, match="T"):
        at.student(X, torch.zeros(2, 2), T=0)


def test_attribution_lab_protocol():
    from matplotlib.figure import Figure

    from course_lib.labs.ch4 import attribution as at

    dash = at.dashboard(0, background=False)
    for T in (1, 64):
        r = dash.update(T=T)
        assert -1 <= r["rank"] <= 1 and 0 <= r["topk"] <= 1
    r = dash.update(method="integrated_gradients")
    at.render(r, Figure())
    assert "rank agreement" in at.summary(r)
    with pytest.raises(ValueError, match="T"):
        at.run(at.setup(0), T=3)
