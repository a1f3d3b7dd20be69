"""A3's keypoint heatmaps: the shape generator, the FCN, Gaussian targets, peak decoding, entropy, error and PCK,
and every bad-input ValueError."""
import math

import pytest
import torch

from course_lib.distill import keypoints as kp


def test_shapes_are_reproducible_and_corners_sit_in_their_sectors():
    X, P = kp.make_shapes(50, size=20, n_landmarks=3, seed=4)
    X2, P2 = kp.make_shapes(50, size=20, n_landmarks=3, seed=4)
    assert X.shape == (50, 1, 20, 20) and P.shape == (50, 3, 2)
    assert torch.equal(X, X2) and torch.equal(P, P2)
    assert not torch.equal(P, kp.make_shapes(50, size=20, n_landmarks=3, seed=5)[1])
    centre = P.mean(1, keepdim=True)
    # the angle of each corner around the centroid (y points down, so the sectors turn counter-clockwise on screen)
    ang = torch.atan2(-(P[..., 1] - centre[..., 1]), P[..., 0] - centre[..., 0]) % (2 * math.pi)
    order = ang.argsort(1)
    assert (order == order[:1]).all()  # the landmark order around the shape is the same in every image
    assert bool((P >= 1).all() and (P <= 18).all())


def test_shapes_draw_the_outline_and_leave_the_global_rng_alone():
    torch.manual_seed(0)
    a = torch.rand(1)
    torch.manual_seed(0)
    X, P = kp.make_shapes(4, size=16, n_landmarks=4, noise=0.0, seed=1)
    assert torch.equal(torch.rand(1), a)
    x, y = P[0, 0].round().long()
    assert float(X[0, 0, y, x]) > 0.9  # a corner lies on the outline
    assert float(X.min()) >= 0 and float(X.max()) <= 1  # no noise: intensities in [0, 1]
    for k in (1, 2):
        Xk, Pk = kp.make_shapes(3, size=16, n_landmarks=k, noise=0.0, seed=0)
        assert Pk.shape == (3, k, 2) and float(Xk.max()) > 0.9


def test_gaussian_targets_sum_to_one_and_peak_at_the_landmark():
    pts = torch.tensor([[[3.0, 5.0], [7.0, 2.0]]])
    t = kp.gaussian_targets(pts, 10, sigma=1.0)
    assert t.shape == (1, 2, 10, 10)
    assert torch.allclose(t.sum((-1, -2)), torch.ones(1, 2))
    assert torch.equal(kp.decode(t.log()), pts)  # argmax at (x, y) = (3, 5) and (7, 2)
    fine = kp.gaussian_targets(torch.tensor([[[16.0, 16.0]]]), 33, sigma=1.0)
    # a discretised 2-D Gaussian of sigma 1 pixel has about the entropy of the continuous one, log(2 pi e)
    assert abs(float(kp.heatmap_entropy(fine.log())) - math.log(2 * math.pi * math.e)) < 0.01
    wide = kp.gaussian_targets(pts, 10, sigma=2.0)
    assert bool((kp.heatmap_entropy(wide.log()) > kp.heatmap_entropy(t.log())).all())


def test_entropy_of_uniform_and_one_hot_maps():
    uniform = torch.zeros(2, 1, 4, 5)
    assert torch.allclose(kp.heatmap_entropy(uniform), torch.full((2, 1), math.log(20)))
    one_hot = torch.full((1, 1, 4, 4), -1e4)
    one_hot[0, 0, 1, 2] = 0
    assert float(kp.heatmap_entropy(one_hot)) < 1e-6
    lg = torch.randn(1, 2, 5, 5)
    assert bool((kp.heatmap_entropy(lg, 0.5) < kp.heatmap_entropy(lg, 2.0)).all())  # lower temperature: sharper


def test_decode_argmax_and_refined_subpixel():
    lg = torch.full((1, 1, 5, 6), -30.0)
    lg[0, 0, 2, 3] = 0.0
    assert kp.decode(lg).tolist() == [[[3.0, 2.0]]]
    lg[0, 0, 2, 4] = 0.0 - 1e-4  # two nearly equal neighbours: the refined peak lies half-way between them
    ref = kp.decode(lg, "refined")[0, 0]
    assert abs(float(ref[0]) - 3.5) < 1e-3 and abs(float(ref[1]) - 2.0) < 1e-6
    edge = torch.full((1, 1, 4, 4), -30.0)
    edge[0, 0, 0, 0] = 0.0  # a peak at the border: the padded window must not fail
    assert torch.allclose(kp.decode(edge, "refined"), torch.zeros(1, 1, 2), atol=1e-6)


def test_error_and_pck_on_known_points():
    true = torch.zeros(1, 4, 2)
    pred = torch.tensor([[[0.0, 0.0], [3.0, 4.0], [1.0, 0.0], [0.0, 2.0]]])
    assert kp.localisation_error(pred, true).tolist() == [[0.0, 5.0, 1.0, 2.0]]
    assert kp.pck(pred, true, 1.0) == 0.5 and kp.pck(pred, true, 2.0) == 0.75 and kp.pck(pred, true, 0.5) == 0.25
    assert kp.pck_curve(torch.tensor([0.0, 5.0, 1.0, 2.0]), [1.0, 5.0]).tolist() == [0.5, 1.0]


def test_loss_is_lowest_at_the_target_and_distilled_targets_mix():
    t = kp.gaussian_targets(torch.tensor([[[2.0, 2.0]]]), 6, 1.0)
    exact = kp.heatmap_loss(t.log(), t)
    assert torch.isclose(exact, kp.heatmap_entropy(t.log()).mean(), atol=1e-5)  # CE(p, p) = H(p)
    assert float(kp.heatmap_loss(torch.zeros_like(t), t)) > float(exact)
    teacher = torch.zeros(1, 1, 6, 6)
    mixed = kp.distilled_targets(teacher, t, alpha=0.5)
    assert torch.allclose(mixed, 0.5 * t + 0.5 / 36) and torch.allclose(mixed.sum((-1, -2)), torch.ones(1, 1))
    assert torch.allclose(kp.distilled_targets(teacher), torch.full_like(teacher, 1 / 36))


def test_fcn_keeps_the_resolution_and_learns_a_tiny_task():
    m = kp.fcn(2, 4, seed=0)
    assert m(torch.zeros(3, 1, 13, 11)).shape == (3, 2, 13, 11)
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), kp.fcn(2, 4, seed=0).state_dict().values()))
    X, P = kp.make_shapes(16, size=12, n_landmarks=1, noise=0.0, seed=0)
    T = kp.gaussian_targets(P, 12, 1.0)
    m = kp.fcn(1, 4, seed=0)
    before = kp.evaluate(kp.predict_logits(m, X), P)["error"]
    kp.train_fcn(m, X, T, epochs=60, lr=2e-2, batch_size=16, seed=0)
    after = kp.evaluate(kp.predict_logits(m, X), P)
    assert after["error"] < 1.0 < before
    assert set(after) == {"entropy", "error", "pck", "errors"}


@pytest.mark.parametrize("call, match", [
    (lambda: kp.make_shapes(4, n_landmarks=0), "n_landmarks"),
    (lambda: kp.make_shapes(4, size=8), "size"),
    (lambda: kp.make_shapes(0), "n"),
    (lambda: kp.make_shapes(4, noise=-1), "noise"),
    (lambda: kp.fcn(0), "n_landmarks"),
    (lambda: kp.gaussian_targets(torch.zeros(1, 2, 2), 8, sigma=0), "sigma"),
    (lambda: kp.gaussian_targets(torch.zeros(1, 2, 2), 8, sigma=-1.0), "sigma"),
    (lambda: kp.gaussian_targets(torch.zeros(1, 2, 3), 8), "points"),
    (lambda: kp.pck(torch.zeros(1, 2, 2), torch.zeros(1, 2, 2), 0), "threshold"),
    (lambda: kp.pck(torch.zeros(1, 2, 2), torch.zeros(1, 2, 2), -1.5), "threshold"),
    (lambda: kp.pck_curve(torch.zeros(3), [1.0, 0.0]), "thresholds"),
    (lambda: kp.decode(torch.zeros(2, 5, 5)), "logits"),
    (lambda: kp.decode(torch.zeros(1, 1, 5, 5), "mean"), "method"),
    (lambda: kp.heatmap_entropy(torch.zeros(1, 1, 1, 5)), "logits"),
    (lambda: kp.heatmap_entropy(torch.zeros(1, 1, 4, 4), temperature=0), "temperature"),
    (lambda: kp.heatmap_loss(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 4, 4)), "targets"),
    (lambda: kp.localisation_error(torch.zeros(1, 2, 2), torch.zeros(1, 3, 2)), "same shape"),
    (lambda: kp.evaluate(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 2)), "landmark maps"),
    (lambda: kp.distilled_targets(torch.zeros(1, 1, 4, 4), alpha=0.5), "gt_targets"),
    (lambda: kp.distilled_targets(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 3, 3), alpha=0.5), "gt_targets"),
    (lambda: kp.distilled_targets(torch.zeros(1, 1, 4, 4), alpha=1.5), "alpha"),
    (lambda: kp.train_fcn(kp.fcn(1, 2), torch.zeros(3, 1, 4, 4), torch.zeros(2, 1, 4, 4)), "images"),
])
def test_bad_input_is_a_clear_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_integer_heatmaps_are_refused():
    with pytest.raises(TypeError, match="floating-point"):
        kp.decode(torch.zeros(1, 1, 4, 4, dtype=torch.long))
