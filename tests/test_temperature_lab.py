"""The D9 slider function: three soft losses trained at one temperature."""
import pytest
import torch
from matplotlib.figure import Figure

from course_lib import temperature_lab as lab


def test_compare_variants_result():
    r = lab.compare_temperature_variants(2.0, epochs=20, example=5)
    assert set(r["accuracy"]) == set(lab.VARIANTS) == set(r["entropy"])
    assert all(0.5 < a <= 1.0 for a in r["accuracy"].values())
    for name in lab.VARIANTS:
        assert r["targets"][name].shape == (10,)
        assert torch.isclose(r["targets"][name].sum(), torch.tensor(1.0), atol=1e-5)
    assert torch.allclose(r["targets"]["kd"], r["targets"]["ttm"])  # same teacher target, different student side
    fig = Figure()
    lab.render(r, fig)
    assert len(fig.axes) == 2 and fig.axes[0].get_title() and fig.axes[1].get_ylabel()
    assert "kd_adaptive" in lab.summary(r)


def test_ttm_equals_kd_at_T1():
    s = lab.setup(0.3, 0)
    m = lab.train_variants(s, T=1.0, epochs=15, variants=("kd", "ttm"))
    assert torch.allclose(m["kd"](s.X_test), m["ttm"](s.X_test), atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="T must be > 0"):
        lab.compare_temperature_variants(0.0, epochs=1)
    with pytest.raises(ValueError, match="example must be in"):
        lab.compare_temperature_variants(2.0, epochs=1, example=10_000)
    with pytest.raises(ValueError, match="variant must be one of"):
        lab.train_variants(lab.setup(0.3, 0), T=2.0, epochs=1, variants=("nope",))
