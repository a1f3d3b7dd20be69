"""Chapter 3 labs, part A: attack (3.1), bootstrap (3.2) and calibration (3.3).

Fast tests build small synthetic lab states; one test per lab builds the real dashboard (models cached on
disk after the first run) and moves its controls.
"""
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from torch import nn

from course_lib.labs.ch3 import attack, bootstrap, calibration
from course_lib.reliability import calibration as cal


def tiny_attack_state():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(20, 64, generator=g)
    y = torch.randint(0, 10, (20,), generator=g)
    zoo = {"a": nn.Sequential(nn.Linear(64, 10)), "b": nn.Sequential(nn.Linear(64, 10))}
    eps = np.array([0.0, 0.1])
    curves = {m: {n: np.array([0.5, 0.1]) for n in zoo} for m in ("fgsm", "pgd")}
    return attack.State(zoo, X, y, eps, curves, (8, 8))


def test_attack_run_render_summary():
    s = tiny_attack_state()
    r = attack.run(s, epsilon=0.1, example=3, model="a", method="fgsm")
    assert r["linf"] <= 0.1 + 1e-6 and r["x_adv"].min() >= 0 and r["x_adv"].max() <= 1
    assert "epsilon = 0.10" in attack.summary(r)
    pic = attack.composite(r)
    assert pic.shape == (8, 26, 3) and pic.min() >= 0 and pic.max() <= 1
    attack.render(r, Figure(figsize=(10, 3.3)))
    r0 = attack.run(s, epsilon=0.0, example=0, model="b", method="pgd")
    assert np.array_equal(r0["x"], r0["x_adv"])


def test_attack_bad_input():
    s = tiny_attack_state()
    with pytest.raises(ValueError, match="epsilon"):
        attack.run(s, epsilon=-0.1)
    with pytest.raises(ValueError, match="example"):
        attack.run(s, epsilon=0.1, example=20, model="a")
    with pytest.raises(ValueError, match="model"):
        attack.run(s, epsilon=0.1, model="teacher")
    with pytest.raises(ValueError, match="method"):
        attack.run(s, epsilon=0.1, model="a", method="cw")


def test_compressed_copies_leave_the_original_untouched():
    torch.manual_seed(0)
    from course_lib import models
    m = models.mlp(64, (256, 256), 10, seed=0)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    out = attack.compressed(m)
    assert set(out) == {"pruned", "quantized", "low-rank"}
    after = m.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    x = torch.rand(5, 64)
    for c in out.values():
        assert c(x).shape == (5, 10)


def tiny_calibration_state():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 4)) * 3
    y = np.where(rng.random(200) < 0.8, z.argmax(1), rng.integers(0, 4, 200))
    return calibration.State(["m"], {"m": z}, {"m": z}, y, y, {"m": cal.fit_temperature(z, y)})


def test_calibration_run_matches_the_library():
    s = tiny_calibration_state()
    r = calibration.run(s, 2.0, "m")
    assert r["ece"] == pytest.approx(cal.ece(cal.scaled_probs(s.test_logits["m"], 2.0), s.y_test, 15))
    assert r["nll"] == pytest.approx(cal.nll(s.test_logits["m"], s.y_test, 2.0))
    assert "ECE" in calibration.summary(r)
    calibration.render(r, Figure(figsize=(10, 3.4)))
    with pytest.raises(ValueError, match="temperature"):
        calibration.run(s, 0.0, "m")
    with pytest.raises(ValueError, match="model"):
        calibration.run(s, 1.0, "x")


def tiny_bootstrap_state():
    rng = np.random.default_rng(0)
    samples = {k: rng.uniform(0.3, 1, size=(6, 50)) for k in ("teacher", "scratch", "distilled")}
    return bootstrap.State(samples, np.arange(50), 6)


def test_bootstrap_run_render_summary():
    s = tiny_bootstrap_state()
    r = bootstrap.run(s, 0.8, "scratch")
    assert len(r["t_lo"]) == bootstrap.N_SHOW and np.all(r["t_lo"] <= r["t_hi"])
    assert 0 <= r["coverage"] <= 1 and r["width_ratio"] > 0
    assert "level 80%" in bootstrap.summary(r)
    bootstrap.render(r, Figure(figsize=(10, 3.4)))
    with pytest.raises(ValueError, match="level"):
        bootstrap.run(s, 1.0, "scratch")
    with pytest.raises(ValueError, match="student"):
        bootstrap.run(s, 0.9, "teacher")


@pytest.mark.parametrize("lab,moves", [
    (attack, [dict(epsilon=0.0), dict(epsilon=0.25), dict(model="low-rank", method="fgsm"), dict(example=5)]),
    (calibration, [dict(temperature=0.3), dict(temperature=7.0), dict(model="T=16 #0")]),
    (bootstrap, [dict(level=0.5), dict(level=0.99), dict(student="scratch")]),
])
def test_real_dashboards_move(lab, moves):
    dash = lab.dashboard(0, background=False)
    for values in moves:
        result = dash.update(**values)
        for k, v in values.items():
            assert result[k] == (pytest.approx(v, rel=0.05, abs=1e-9) if isinstance(v, float) else v)
    assert dash.error is None and dash.runs == 1 + len(moves)
