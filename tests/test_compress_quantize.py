"""Fake quantization, int8 PTQ, ternary weights and the straight-through estimator."""
import pytest
import torch
from torch import nn

from course_lib import models
from course_lib.compress import encode as E, quantize as Q


def test_qrange_and_bad_bits():
    assert Q.qrange(8) == (-127, 127)
    assert Q.qrange(2) == (-1, 1)
    assert Q.qrange(4, symmetric=False) == (0, 15)
    for bad in (1, 9, 16, 0):
        with pytest.raises(ValueError, match=r"bits must be one of \[2, 3, 4, 5, 6, 7, 8\], got " + str(bad)):
            Q.fake_quantize(torch.randn(4, 4), bad)
    with pytest.raises(ValueError, match="bits"):
        Q.FakeQuantize(bits=1)
    with pytest.raises(ValueError, match="scheme must be one of"):
        Q.fake_quantize(torch.randn(4, 4), 4, scheme="per_row")


@pytest.mark.parametrize("scheme", Q.SCHEMES)
@pytest.mark.parametrize("symmetric", [True, False])
def test_fake_quantize_levels_and_error(scheme, symmetric):
    torch.manual_seed(0)
    w = torch.randn(16, 32) * torch.linspace(0.1, 3, 16)[:, None]
    for bits in Q.ALLOWED_BITS:
        q = Q.fake_quantize(w, bits, scheme=scheme, symmetric=symmetric)
        rows = q if scheme == "per_channel" else q.reshape(1, -1)
        for row in rows:
            assert len(torch.unique(row)) <= 2 ** bits
    errs = [Q.quantization_mse(w, b, scheme=scheme, symmetric=symmetric) for b in Q.ALLOWED_BITS]
    assert all(a > b for a, b in zip(errs, errs[1:])), errs  # more bits, less error


def test_per_channel_beats_per_tensor_on_uneven_rows():
    torch.manual_seed(0)
    w = torch.randn(16, 32) * torch.logspace(-2, 0, 16)[:, None]
    for bits in Q.ALLOWED_BITS:
        assert Q.quantization_mse(w, bits, scheme="per_channel") < Q.quantization_mse(w, bits, scheme="per_tensor")


def test_parametrization_add_change_remove():
    m = models.mlp(8, (6,), 3, seed=0)
    w0 = m.fc1.weight.detach().clone()
    Q.add_fake_quant(m, 2)
    assert len(torch.unique(m.fc1.weight)) <= 3
    Q.add_fake_quant(m, 8, scheme="per_channel")  # changes, does not stack
    assert len(m.fc1.parametrizations["weight"]) == 1
    assert m.fc1.parametrizations["weight"][0].scheme == "per_channel"
    # STE: the fake-quantized layer still trains
    m(torch.randn(5, 8)).sum().backward()
    assert m.fc1.parametrizations["weight"].original.grad.abs().sum() > 0
    Q.remove_fake_quant(m)
    assert torch.equal(m.fc1.weight, w0)
    with Q.fake_quantized(m, 3, layers="out"):
        assert len(torch.unique(m.out.weight)) <= 7 and torch.equal(m.fc1.weight, w0)
    assert not hasattr(m.out, "parametrizations")
    with pytest.raises(ValueError, match="layers must be one of"):
        Q.add_fake_quant(m, 4, layers=["fc9"])


def test_int8_ptq_torchao():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10)).eval()
    x = torch.randn(20, 32)
    for mode in Q.PTQ_MODES:
        q = Q.int8_ptq(m, mode=mode)
        assert "torchao" in q.ptq_backend  # torchao works here: no silent fallback
        with torch.no_grad():
            assert torch.allclose(q(x), m(x), atol=0.05)
        assert E.serialized_bytes(q) < 0.6 * E.serialized_bytes(m)
    assert isinstance(m[0].weight, nn.Parameter) and m[0].weight.dtype == torch.float32  # original untouched
    with pytest.raises(ValueError, match="mode must be one of"):
        Q.int8_ptq(m, mode="static")


def test_packed_bytes():
    m = models.mlp(8, (4,), 2, seed=0)  # weights 32 + 8, biases 4 + 2
    assert E.packed_bytes(m, 8) == 32 + 4 + 8 + 4 + 4 * 6
    assert E.packed_bytes(m, 2, scheme="per_channel") == 8 + 16 + 2 + 8 + 4 * 6


def test_ternary_zero_gradient_and_ste():
    torch.manual_seed(0)
    w = torch.randn(10, 10, requires_grad=True)
    q = Q.ternarize(w)
    assert len(torch.unique(q.detach().abs())) == 2  # {0, a}
    (q * torch.randn(10, 10)).sum().backward()
    assert torch.count_nonzero(w.grad) == 0
    w.grad = None
    g = torch.randn(10, 10)
    q2 = Q.ternary_ste(w)
    assert torch.equal(q2, q.detach())
    (q2 * g).sum().backward()
    assert torch.equal(w.grad, g)  # straight through
    w.grad = None
    Q.ternary_ste(w, clip=1.0).mul(g).sum().backward()
    _, a = Q.ternary_params(w)
    assert torch.equal(w.grad, g * (w.abs() <= a))
    with pytest.raises(ValueError, match="delta_factor"):
        Q.ternary_ste(w, delta_factor=-1)
    with pytest.raises(ValueError, match="mode must be one of"):
        Q.Ternary(mode="round")


def test_ternary_parametrization_and_bytes():
    m = models.mlp(8, (16,), 4, seed=0)
    Q.add_ternary(m)
    assert len(torch.unique(m.fc1.weight.detach().abs())) == 2
    assert E.ternary_bytes(m) == (2 * 128 + 7) // 8 + 4 + (2 * 64 + 7) // 8 + 4 + 4 * (16 + 4)


def test_fake_quant_reaches_convolutions_only_when_asked():
    from torch import nn
    from course_lib.compress.quantize import WEIGHTED, add_fake_quant, remove_fake_quant
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(4 * 6 * 6, 3))
    w_conv = net[0].weight.detach().clone()
    add_fake_quant(net, 2)
    assert torch.equal(net[0].weight, w_conv)          # the default leaves convolutions float
    remove_fake_quant(net)
    add_fake_quant(net, 2, scheme="per_channel", kinds=WEIGHTED)
    levels = [torch.unique(net[0].weight[c]).numel() for c in range(4)]
    assert max(levels) <= 3                              # 2 bits, symmetric: -a, 0, +a per output channel
    remove_fake_quant(net)
    assert torch.equal(net[0].weight, w_conv)          # float weights restored
