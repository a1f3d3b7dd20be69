"""Chapter 1's labs (course_lib/labs/ch1): the experiment functions, their dashboards, and bad input."""
import importlib
import pkgutil

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import course_lib.labs.ch1 as ch1
from course_lib import train
from course_lib.labs.ch1 import (fidelity, hints, landscape, multi_teacher, rank_order, relational, soft_targets,
                                 temperature, temperature_variants)

LABS = sorted(["temperature", "soft_targets", "rank_order", "hints", "relational", "fidelity", "multi_teacher",
               "temperature_variants", "landscape"])  # the labs of notebooks 00 and ch1_01..ch1_11


def test_every_lab_is_present():
    assert set(LABS) <= {m.name for m in pkgutil.iter_modules(ch1.__path__)}


@pytest.mark.parametrize("name", LABS)
def test_default_dashboard_builds_moves_and_draws(name):
    lab = importlib.import_module(f"course_lib.labs.ch1.{name}")
    d = lab.dashboard(background=False)
    assert d.image.value[:4] == b"\x89PNG" and d.summary.value
    assert int(d.image.layout.width.rstrip("px")) > 300  # shown at the size it was drawn
    control, w = next(iter(d.controls.items()))
    value = w.options[-1] if hasattr(w, "options") and w.options else w.max
    value = value[1] if isinstance(value, tuple) else value
    d.update(**{control: value})
    assert d.runs == 2
    fig = Figure()
    lab.render(d.result, fig)
    assert all(ax.get_title() and ax.get_ylabel() for ax in fig.axes)
    assert isinstance(lab.summary(d.result), str) and isinstance(lab.TITLE, str) and isinstance(lab.TRY, str)


def test_temperature_run_alpha_zero_is_scratch_and_T_changes_the_student():
    s = temperature.setup(0)
    zero = temperature.run(s, 4.0, 0.0)
    assert zero["student_acc"] == zero["scratch_acc"]
    a, b = temperature.run(s, 1.0, 0.9), temperature.run(s, 8.0, 0.9)
    assert not torch.allclose(a["logits"], b["logits"])
    with pytest.raises(ValueError, match="T must be > 0"):
        temperature.run(s, 0.0)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\], got 2"):
        temperature.run(s, 2.0, 2.0)


def test_softmax_demo():
    r = temperature.softmax_demo(10.0)
    assert 0.5 < r["probs"][0] < 0.6 and r["entropy"] > temperature.softmax_demo(1.0)["entropy"]
    d = temperature.softmax_dashboard(background=False)
    assert d.update(T=1.0)["probs"][0] > 0.999
    with pytest.raises(ValueError, match="T must be > 0"):
        temperature.softmax_demo(0.0)


def test_subset_and_left_out_runs():
    s = soft_targets.setup(0)
    r = soft_targets.subset_run(s, 0.05, seed=0, epochs=20)
    assert r["n_labelled"] == pytest.approx(0.05 * len(s.ds.y_train), abs=6) and 0 < r["hard"] <= 1
    lo = soft_targets.left_out_run(s, 3, T=2.0, seed=0, epochs=20)
    assert lo["curve"].shape == (len(lo["shifts"]), 2) and lo["shift"] in set(lo["shifts"].tolist())
    assert lo["errors_digit"] == lo["curve"][0, 1]
    assert soft_targets.left_out_run(s, 3, T=2.0, seed=0, epochs=20, shift=0.0)["errors_shifted"] == lo["errors"]
    with pytest.raises(ValueError, match="fraction must be in"):
        soft_targets.subset_run(s, 0.0)
    with pytest.raises(ValueError, match="digit must be in 0..9"):
        soft_targets.left_out_run(s, 10)


def test_left_out_student_matches_train_distilled_with_labels():
    # the lab trains without labels (alpha = 1: the cross-entropy term has weight 0); train_distilled computes it
    s = soft_targets.setup(1)
    lv, lt = soft_targets._left_out_logits(s, 7, 8.0, 1, (16,), 30, 3e-2)
    keep = s.ds.y_train != 7
    m = soft_targets._student(s, (16,), 1)
    train.train_distilled(m, s.ds.X_train[keep], s.ds.y_train[keep], s.t_train[keep], T=8.0, alpha=1.0, epochs=30,
                          lr=3e-2, seed=1)
    assert torch.equal(lt, train.predict(m, s.ds.X_test))


def test_rank_order_kinds():
    s = rank_order.setup(0)
    a = rank_order.rank_order_run(s, (6,), kind="permuted", seed=0, epochs=20)
    assert a == rank_order.rank_order_run(s, (6,), kind="permuted", seed=0, epochs=20)
    assert a["params"] == 64 * 6 + 6 + 6 * 10 + 10
    for kind in ("true", "spread", "hard"):
        assert 0 < rank_order.rank_order_run(s, (6,), kind=kind, epochs=10)["accuracy"] <= 1
    with pytest.raises(ValueError, match="kind must be one of"):
        rank_order.rank_order_run(s, (6,), kind="bogus")


def test_rank_order_dashboard_students_match_single_runs():
    s = rank_order.setup(1)
    r = rank_order.run(s, T=5.0, width=6)
    assert len(r["true_each"]) == len(r["permuted_each"]) == rank_order.STUDENTS
    assert r["true"] == pytest.approx(float(np.median(r["true_each"])))
    for kind, each in (("true", r["true_each"]), ("permuted", r["permuted_each"])):
        for j, acc in zip(r["seeds"], each):  # each stacked student gets what it would get trained alone
            alone = rank_order.rank_order_run(s, (6,), kind=kind, seed=j, T=5.0, epochs=rank_order.DASH_EPOCHS,
                                              lr=rank_order.DASH_LR)["accuracy"]
            assert acc == pytest.approx(alone, abs=2 / len(s.ds.y_test))  # at most a tie flipped by rounding
    with pytest.raises(ValueError, match="width must be"):
        rank_order.run(s, T=5.0, width=0)


def test_hint_run_joint_two_stage_and_control():
    s = hints.setup(0)
    r = hints.hint_run(s, beta=1.0, seed=0, epochs=10)
    assert r["hint_loss"] > 0 and r["n_inputs"] == len(s.ds.y_train)
    assert hints.hint_run(s, beta=0.0, epochs=10)["n_inputs"] == r["n_labelled"]
    two = hints.hint_run(s, two_stage=True, seed=0, epochs=10)
    assert two["hint_loss"] > 0 and 0 < two["accuracy"] <= 1
    assert 0 < hints.hint_run(s, kd_all=True, epochs=10)["accuracy"] <= 1
    with pytest.raises(ValueError, match=r"beta must be in \[0, 1000\]"):
        hints.hint_run(s, beta=-1.0)
    with pytest.raises(ValueError, match="teacher_layer must be one of"):
        hints.hint_run(s, teacher_layer="fc9")


def test_embedding_run_methods_and_probe():
    s = relational.setup(0)
    for m in ("none", "response", "rkd"):
        r = relational.embedding_run(s, m, hidden=4, epochs=5)
        assert 0 <= r["recall@1"] <= 1 and -1 <= r["distance_corr"] <= 1 and 0 < r["probe"] <= 1
    with pytest.raises(ValueError, match="method must be one of"):
        relational.embedding_run(s, "bogus")
    with pytest.raises(ValueError, match="width must be one of"):
        relational.run(s, 3)


def test_fidelity_run():
    s = fidelity.setup(0)
    r = fidelity.fidelity_run(s, 1.0, teacher="strong", epochs=10)
    assert set(r) >= {"agree_train", "agree_test", "kl_train", "kl_test", "accuracy", "teacher_accuracy"}
    with pytest.raises(ValueError, match="teacher must be one of"):
        fidelity.fidelity_run(s, 1.0, teacher="medium")
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        fidelity.fidelity_run(s, 1.5)


def test_multi_teacher_best_member_on_validation():
    s = multi_teacher.setup(0)
    assert 0 <= s.best < multi_teacher.MAX_TEACHERS
    r = multi_teacher.run(s, 1, 4.0, epochs=5)
    assert 0 < r["teacher_average"] <= 1
    with pytest.raises(ValueError, match="k must be in"):
        multi_teacher.run(s, 0)


def test_temperature_variants_ttm_equals_kd_at_T1():
    s = temperature_variants.setup(0)
    m = temperature_variants.train_variants(s, T=1.0, epochs=15, variants=("kd", "ttm"))
    assert torch.allclose(m["kd"](s.X_test), m["ttm"](s.X_test), atol=1e-5)
    r = temperature_variants.run(s, 2.0, epochs=5)
    assert torch.allclose(r["targets"]["kd"], r["targets"]["ttm"])
    with pytest.raises(ValueError, match="T must be > 0"):
        temperature_variants.run(s, 0.0, epochs=1)
    with pytest.raises(ValueError, match="example must be in"):
        temperature_variants.run(s, 2.0, epochs=1, example=10_000)
    with pytest.raises(ValueError, match="variant must be one of"):
        temperature_variants.train_variants(s, T=2.0, epochs=1, variants=("nope",))


def test_landscape_sweep_and_point():
    s = landscape.setup(0)
    r = landscape.sweep(s, [1.0, 4.0], [0.0, 0.9], [8], [0], epochs=5)
    assert r["acc"].shape == r["val"].shape == (1, 2, 2, 1) and r["scratch"].shape == (1, 1)
    assert r["acc"][0, 0, 0, 0] == r["acc"][0, 1, 0, 0]  # alpha = 0 trained once, same for every T
    assert r["n_runs"] == 1 + 1 + 2  # scratch, alpha = 0 once, alpha = 0.9 at both T
    p = landscape.point(s, 8, 0.9, 4.0, epochs=5)
    assert p["params"] == 64 * 8 + 8 + 8 * 10 + 10
    with pytest.raises(ValueError, match="alpha must be in"):
        landscape.point(s, alpha=1.5, epochs=1)
    with pytest.raises(ValueError, match="width must be in"):
        landscape.point(s, width=0, epochs=1)
