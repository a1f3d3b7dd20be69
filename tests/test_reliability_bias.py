import pytest
import torch

from course_lib.reliability import bias


def test_cue_pixels_on_the_border():
    px = bias.cue_pixels(10, (1, 8, 8))
    assert px[:8] == [0, 8, 16, 24, 32, 40, 48, 56] and px[8:] == [57, 58]
    assert len(set(px)) == 10
    with pytest.raises(ValueError, match="n_classes"):
        bias.cue_pixels(20, (1, 4, 4))
    with pytest.raises(ValueError, match="image_shape"):
        bias.cue_pixels(3, (8, 8))


def test_cue_classes_rates():
    y = torch.arange(10).repeat(500)
    assert torch.equal(bias.cue_classes(y, 1.0, 10), y)
    assert not (bias.cue_classes(y, 0.0, 10) == y).any()
    rate = float((bias.cue_classes(y, 0.7, 10, seed=1) == y).float().mean())
    assert abs(rate - 0.7) < 0.03
    with pytest.raises(ValueError, match="rho"):
        bias.cue_classes(y, 1.5, 10)
    with pytest.raises(ValueError, match="y"):
        bias.cue_classes(torch.tensor([11]), 0.5, 10)


def test_add_cue_paints_one_pixel_and_copies():
    X = torch.zeros(3, 64)
    out = bias.add_cue(X, torch.tensor([0, 2, 9]), bias.cue_pixels(10), value=1.0)
    assert out.sum() == 3 and out[0, 0] == 1 and out[1, 16] == 1 and out[2, 58] == 1
    assert X.sum() == 0
    with pytest.raises(ValueError, match="cue"):
        bias.add_cue(X, torch.tensor([0, 1]), bias.cue_pixels(10))
    with pytest.raises(ValueError, match="cue"):
        bias.add_cue(X, torch.tensor([0, 1, 10]), bias.cue_pixels(10))


def test_cue_following():
    labels = torch.tensor([0, 1, 2, 3])
    cue = torch.tensor([1, 1, 0, 0])        # rows 0, 2, 3 contradict the label
    pred = torch.tensor([1, 1, 2, 0])       # follows on rows 0 and 3
    assert bias.cue_following(pred, cue, labels) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="contradicts"):
        bias.cue_following(pred, labels, labels)
    with pytest.raises(ValueError, match="same length"):
        bias.cue_following(pred[:3], cue, labels)
