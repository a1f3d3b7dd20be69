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
