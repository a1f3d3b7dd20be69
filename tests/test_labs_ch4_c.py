"""Chapter 4 labs A9, A10, A11, A14: the five lab names, one slider move, and clear errors for bad input."""
import numpy as np
import pytest

from course_lib.labs.ch4 import continual


# ---------------------------------------------------------------------------------------------- A10 continual
@pytest.fixture(scope="module")
def cont():
    return continual.setup(0)


def test_continual_tasks_split_digits(cont):
    assert set(cont.y["A_train"].tolist()) == {0, 1, 2, 3, 4}
    assert set(cont.y["B_test"].tolist()) == {5, 6, 7, 8, 9}
    assert cont.recorded["task"].shape == (len(cont.y["B_train"]), 5)
    assert cont.recorded["class"].shape == (len(cont.y["B_train"]), 5)


def test_continual_lwf_keeps_task_a_with_separate_heads(cont):
    own = continual.accuracy(continual.old_model(cont, "task"), cont, "task", "A")
    ft = continual.evaluate_all(cont, "task", "finetune")
    lwf = continual.evaluate_all(cont, "task", "lwf", lam=1.0)
    assert own > 0.95 and lwf["A"] > ft["A"] and lwf["B"] > 0.9


def test_continual_run_render_summary_dashboard(cont):
    from matplotlib.figure import Figure

    r = continual.run(cont, 0.0)
    # lam = 0 is plain fine-tuning: the LwF run equals the cached fine-tuning run
    for st in continual.SETTINGS:
        assert r[st]["lwf"] == pytest.approx(r[st]["finetune"])
    continual.render(r, Figure())
    assert "Task A" in continual.summary(r)
    d = continual.dashboard(0, background=False)
    out = d.update(lam=1.5)
    assert out["lam"] == 1.5 and 0 <= out["class"]["lwf"]["A"] <= 1


def test_continual_diagnosis_and_joint(cont):
    m = continual.learn_b(cont, "class", "joint")
    assert continual.accuracy(m, cont, "class", "A") > 0.9
    d = continual.old_class_diagnosis(continual.learn_b(cont, "class", "lwf", lam=1.0), cont)
    assert d["within_old"] > 0.8 and d["called_new"] > 0.8


@pytest.mark.parametrize("call, match", [
    (lambda s: continual.learn_b(s, "domain", "lwf"), "setting must be one of"),
    (lambda s: continual.learn_b(s, "task", "ewc"), "method must be one of"),
    (lambda s: continual.learn_b(s, "task", "lwf", lam=-1), "lam must be in"),
    (lambda s: continual.learn_b(s, "task", "lwf", epochs=-1), "epochs must be in"),
    (lambda s: continual.run(s, lam=-0.5), "lam must be in"),
    (lambda s: continual.accuracy(None, s, "task", "C"), "task must be one of"),
    (lambda s: continual.setup(-1), "seed must be in"),
])
def test_continual_bad_input(cont, call, match):
    with pytest.raises(ValueError, match=match):
        call(cont)


# ---------------------------------------------------------------------------------------------- A9 cross-lingual
from course_lib.labs.ch4 import crosslingual, reasoning  # noqa: E402


@pytest.fixture(scope="module")
def xl():
    return crosslingual.setup(0)


def test_crosslingual_teacher_reads_both_languages(xl):
    assert crosslingual.teacher_accuracy(xl, "pixels") > 0.9
    assert crosslingual.teacher_accuracy(xl, "signals") > 0.3  # mnist1d is hard for a perceptron; chance is 0.1
    assert set(xl.S_teacher) == {"pixels", "signals"} and np.allclose(xl.S_teacher["pixels"].sum(1), 1)


def test_crosslingual_distilled_student_copies_the_structure(xl):
    d = crosslingual.measure(xl, crosslingual.student(xl, "distilled", T=4.0))
    l = crosslingual.measure(xl, crosslingual.student(xl, "labels", per_class=5))
    assert d["accuracy"] > 0.9 and d["corr_pixels"] > l["corr_pixels"]


def test_crosslingual_run_render_summary_dashboard(xl):
    from matplotlib.figure import Figure

    r = crosslingual.run(xl, 2.0)
    crosslingual.render(r, Figure())
    assert "T = 2" in crosslingual.summary(r)
    d = crosslingual.dashboard(0, background=False)
    assert d.update(T=3.0)["T"] == 3.0


@pytest.mark.parametrize("call, match", [
    (lambda s: crosslingual.student(s, "teacher"), "method must be one of"),
    (lambda s: crosslingual.student(s, "distilled", T=0.0), "T must be in"),
    (lambda s: crosslingual.student(s, "labels", per_class=0), "per_class must be in"),
    (lambda s: crosslingual.teacher_accuracy(s, "french"), "language must be one of"),
    (lambda s: crosslingual.run(s, T=-1), "T must be in"),
    (lambda s: crosslingual.setup(-2), "seed must be in"),
])
def test_crosslingual_bad_input(xl, call, match):
    with pytest.raises(ValueError, match=match):
        call(xl)


# ---------------------------------------------------------------------------------------------- A14 reasoning
@pytest.fixture(scope="module")
def rs():
    return reasoning.setup(0)


def test_reasoning_setup_holds_correct_answers(rs):
    from course_lib.distill.reasoning import to_int

    a, b, ans = rs.tests[7]
    assert to_int(ans[:5]) == [x + y for x, y in zip(to_int(a[:5]), to_int(b[:5]))]
    assert rs.pool[0].shape == (reasoning.N_POOL, reasoning.TRAIN_DIGITS)


def test_reasoning_steps_student_generalises_in_length(rs):
    m = reasoning.train_student(rs, "steps", 1000)
    acc = reasoning.accuracy_by_length(rs, "steps", m)
    assert acc.min() > 0.95
    ans = reasoning.accuracy_by_length(rs, "answers", reasoning.train_student(rs, "answers", 300))
    assert ans[-1] < 0.1


def test_reasoning_run_render_summary_dashboard(rs):
    from matplotlib.figure import Figure

    r = reasoning.run(rs, 32)
    assert r["n_train"] == 32 and r["steps"].shape == (reasoning.MAX_DIGITS,)
    reasoning.render(r, Figure())
    assert "32 training problems" in reasoning.summary(r)
    d = reasoning.dashboard(0, background=False)
    assert d.update(n_train=10 ** 1.5)["n_train"] == 32


@pytest.mark.parametrize("call, match", [
    (lambda s: reasoning.train_student(s, "guess", 10), "kind must be one of"),
    (lambda s: reasoning.train_student(s, "steps", 0), "n_train must be in"),
    (lambda s: reasoning.train_student(s, "steps", 10, epochs=-1), "epochs must be in"),
    (lambda s: reasoning.predict(s, "steps", None, 0), "digits must be in"),
    (lambda s: reasoning.run(s, 5000), "n_train must be in"),
    (lambda s: reasoning.setup(-1), "seed must be in"),
])
def test_reasoning_bad_input(rs, call, match):
    with pytest.raises(ValueError, match=match):
        call(rs)
