"""Chapter 2's labs: the five names, a working default dashboard, pure runs, clear errors."""
import pytest
import torch

from course_lib.labs.ch2 import bitwidth, rank, sparsity


def test_sparsity_lab():
    s = sparsity.setup(0)
    r = sparsity.run(s, sparsity=0.9, scope="global")
    assert set(r) >= {"acc_dense", "acc_pruned", "acc_finetuned", "layer_sparsity", "bytes"}
    b = r["bytes"]
    assert b["CSR uint8"] < b["dense"] < b["COO int64"] * 10 and b["CSR uint8"] < b["CSR int64"]
    assert abs(sum(r["layer_sparsity"].values()) / 3 - 0.9) < 0.15
    assert sparsity.run(s, sparsity=0.9, scope="global")["acc_finetuned"] == r["acc_finetuned"]  # pure
    with pytest.raises(ValueError, match="sparsity"):
        sparsity.run(s, sparsity=1.0)
    assert "KiB" in sparsity.summary(r) and "on disk" not in sparsity.summary(r)


def test_bitwidth_lab():
    s = bitwidth.setup(0)
    before = {k: v.clone() for k, v in s.model.state_dict().items()}
    r = bitwidth.run(s, bits=3, scheme="per_tensor", steps=5)
    assert 0 <= r["acc_ptq"] <= 1 and r["steps"] == 5 and r["bytes_quant"] < r["bytes_float"]
    assert r["levels"] <= 2 ** 3 - 1  # symmetric 3-bit grid: 7 levels
    assert all(torch.equal(before[k], v) for k, v in s.model.state_dict().items())  # the float model is untouched
    assert bitwidth.run(s, bits=3, scheme="per_tensor", steps=5)["acc_qat"] == r["acc_qat"]  # repeatable
    with pytest.raises(ValueError, match="bits"):
        bitwidth.run(s, bits=1)
    with pytest.raises(ValueError, match="steps"):
        bitwidth.run(s, steps=-1)


def test_rank_lab():
    s = rank.setup(0)
    full = rank.run(s, rank=256, epochs=0)
    assert abs(full["acc_before"] - full["acc_teacher"]) < 0.01  # full rank: the same function up to rounding
    r = rank.run(s, rank=2, epochs=1)
    assert r["params_lowrank"] == 2 * 512 and r["energy"] < 1
    assert rank.run(s, rank=2, epochs=1)["acc_after"] == r["acc_after"]  # repeatable
    with pytest.raises(ValueError, match="rank must be in 1..256"):
        rank.run(s, rank=257)


@pytest.mark.parametrize("lab", [sparsity, bitwidth, rank], ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_default_dashboard_works_and_says_what_to_try(lab):
    dash = lab.dashboard(background=False)
    assert dash.image.value and dash.summary.value
    assert "Try:" in dash.title.value
    name, w = next(iter(dash.controls.items()))
    target = w.max if w.value != w.max else w.min
    dash.update(**{name: target})
    assert dash.controls[name].value == target
