"""Attention transfer (distill.attention): maps on known feature maps, the loss, and bad shapes."""
import pytest
import torch

from course_lib.distill.attention import at_loss, attention_map


def test_attention_map_is_channel_mean_of_squares_normalised():
    f = torch.zeros(1, 2, 2, 2)
    f[0, 0, 0, 0] = 3.0
    f[0, 1, 0, 0] = 4.0  # mean of squares at (0,0): (9 + 16) / 2
    f[0, 1, 1, 1] = -5.0  # at (1,1): 25 / 2
    a = attention_map(f)
    expected = torch.tensor([[12.5, 0.0, 0.0, 12.5]])
    torch.testing.assert_close(a, expected / expected.norm())


def test_at_loss_zero_for_scaled_maps_and_channels_may_differ():
    g = torch.Generator().manual_seed(0)
    t = torch.rand(3, 8, 4, 4, generator=g)
    s = torch.cat([t, t], 1) * 2.5  # same spatial pattern, twice the channels, scaled
    assert float(at_loss(s, t)) < 1e-10
    other = torch.rand(3, 5, 4, 4, generator=g)
    assert float(at_loss(other, t)) > 0


def test_at_loss_bad_shapes():
    with pytest.raises(ValueError, match="spatial"):
        at_loss(torch.rand(2, 3, 4, 4), torch.rand(2, 3, 2, 2))
    with pytest.raises(ValueError, match="student_feats"):
        at_loss(torch.rand(2, 16), torch.rand(2, 3, 4, 4))
    with pytest.raises(ValueError, match="p"):
        attention_map(torch.rand(1, 1, 2, 2), p=0)
