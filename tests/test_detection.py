"""A2 detection: scenes, proposals, roi_align crops, targets, NMS, matching, recall/precision, and bad input."""
import numpy as np
import pytest
import torch

from course_lib.distill import detection as det
from course_lib.labs.ch4 import detection as lab


def _glyphs(n=5):
    g = torch.zeros(n, 64)
    g[:, ::3] = 1.0
    return g, torch.arange(n) % 10


# ------------------------------------------------------------------------------------------- boxes and IoU
def test_box_iou_known_values():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 1.0], [5.0, 5.0, 6.0, 6.0]])
    assert det.box_iou(a, b).tolist()[0] == pytest.approx([1 / 7, 0.5, 0.0])


@pytest.mark.parametrize("boxes, match", [
    ([[2.0, 0.0, 1.0, 1.0]], r"x2 < x1.*x1 <= x2"),
    ([[0.0, 3.0, 1.0, 1.0]], r"y2 < y1"),
    ([[0.0, 0.0, 1.0]], r"shape \(N, 4\)"),
    ([[0.0, float("nan"), 1.0, 1.0]], "finite"),
])
def test_bad_boxes_are_refused_by_name(boxes, match):
    with pytest.raises(ValueError, match=match):
        det.box_iou(boxes, [[0.0, 0.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match="gt_boxes"):
        det.match(torch.zeros(0, 4), [], [], boxes, [0])


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_iou_threshold_outside_0_1(bad):
    P = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    with pytest.raises(ValueError, match=r"nms_iou must be in \[0, 1\]"):
        det.detect(P, [0.9], [1], nms_iou=bad)
    with pytest.raises(ValueError, match=r"iou_threshold must be in \[0, 1\]"):
        det.match(P, [0.9], [1], P, [1], iou_threshold=bad)


@pytest.mark.parametrize("bad", [1, 9, 16, 4.0, "8", None, True])
def test_bit_width_not_allowed(bad):
    with pytest.raises(ValueError, match=r"bits must be one of \[2, 3, 4, 5, 6, 7, 8\]"):
        det.check_bits(bad)


def test_empty_scene_spec():
    with pytest.raises(ValueError, match="glyphs is empty"):
        det.make_scenes(torch.zeros(0, 64), torch.zeros(0), 3)
    g, y = _glyphs()
    with pytest.raises(ValueError, match=r"n_scenes must be in 1..100000, got 0"):
        det.make_scenes(g, y, 0)
    with pytest.raises(ValueError, match=r"n_objects \(smallest\) must be in 1..16, got 0"):
        det.make_scenes(g, y, 2, n_objects=(0, 0))
    with pytest.raises(ValueError, match="scales is empty"):
        det.make_scenes(g, y, 2, scales=())
    with pytest.raises(ValueError, match="canvas must be at least 32"):
        det.make_scenes(g, y, 2, canvas=20, scales=(4,))


# ------------------------------------------------------------------------------------------- scenes
def test_scenes_are_seeded_and_do_not_overlap():
    g, y = _glyphs()
    a = det.make_scenes(g, y, 6, seed=3)
    b = det.make_scenes(g, y, 6, seed=3)
    c = det.make_scenes(g, y, 6, seed=4)
    assert torch.equal(a.images, b.images) and not torch.equal(a.images, c.images)
    assert a.images.shape == (6, 1, 40, 40)
    for boxes, labels in zip(a.boxes, a.labels):
        assert 2 <= len(boxes) <= 4 and len(labels) == len(boxes)
        assert set((boxes[:, 2] - boxes[:, 0]).tolist()) <= {8.0, 16.0}
        iou = det.box_iou(boxes, boxes) - torch.eye(len(boxes))
        assert float(iou.max()) == 0.0


def test_split_scenes_use_the_matching_digit_splits():
    sc = det.split_scenes(0, n_train=2, n_val=1, n_test=1)
    assert [len(sc[k]) for k in ("train", "val", "test")] == [2, 1, 1]


# ------------------------------------------------------------------------------------------- proposals and crops
def test_sliding_windows_count_and_shape():
    P = det.sliding_windows(40, (8, 16), (2, 4))
    assert P.shape == (17 * 17 + 7 * 7, 4)
    assert float(P.max()) == 40.0 and float(P.min()) == 0.0
    with pytest.raises(ValueError, match="equal length"):
        det.sliding_windows(40, (8,), (2, 4))


def test_crop_is_exact_on_integer_windows():
    img = torch.arange(16 * 16, dtype=torch.float32).reshape(1, 1, 16, 16)
    P = torch.tensor([[2.0, 4.0, 10.0, 12.0], [0.0, 0.0, 16.0, 16.0]])
    out = det.crop(img, P)
    assert out.shape == (2, 1, 8, 8)
    assert torch.allclose(out[0, 0], img[0, 0, 4:12, 2:10])
    assert torch.allclose(out[1, 0], torch.nn.functional.avg_pool2d(img, 2)[0, 0])


def test_proposal_targets_fg_ignore_background():
    P = torch.tensor([[0.0, 0.0, 8.0, 8.0], [2.0, 2.0, 10.0, 10.0], [1.0, 0.0, 9.0, 8.0], [20.0, 20.0, 28.0, 28.0]])
    gt = torch.tensor([[0.0, 0.0, 8.0, 8.0]])
    t = det.proposal_targets(P, gt, [7])
    # IoUs: 1, 36/92 = 0.39 (ignored), 56/72 = 0.78, 0
    assert t.tolist() == [7, -1, 7, det.BACKGROUND]
    assert det.proposal_targets(P, gt, [7], bg_iou=0.5).tolist() == [7, det.BACKGROUND, 7, det.BACKGROUND]
    with pytest.raises(ValueError, match="bg_iou must be <= fg_iou"):
        det.proposal_targets(P, gt, [7], fg_iou=0.3, bg_iou=0.5)


def test_training_patches_keep_every_foreground_and_sample_the_rest():
    g, y = _glyphs()
    sc = det.make_scenes(g, y, 3, seed=0)
    P = det.sliding_windows()
    X, t = det.training_patches(sc, P, near_per_fg=1.0, bg_per_fg=1.0)
    n_fg = int((t < det.BACKGROUND).sum())
    assert X.shape[1:] == (1, 8, 8) and n_fg > 0 and len(t) == 3 * n_fg
    assert int((t < 0).sum()) == 0


# ------------------------------------------------------------------------------------------- scores, NMS, matching
def test_scores_and_labels():
    logits = torch.full((2, 11), -10.0)
    logits[0, det.BACKGROUND] = 10.0
    logits[1, 3] = 10.0
    s, lab = det.scores_and_labels(logits)
    assert s[0] < 1e-6 and s[1] > 0.999 and int(lab[1]) == 3
    with pytest.raises(ValueError, match="11 columns"):
        det.scores_and_labels(torch.zeros(2, 10))


def test_detect_threshold_and_nms_semantics():
    P = torch.tensor([[0.0, 0.0, 2.0, 2.0], [0.0, 0.0, 2.0, 1.0], [5.0, 5.0, 7.0, 7.0]])
    s, lab = torch.tensor([0.9, 0.8, 0.3]), torch.tensor([1, 1, 2])
    b, sc, _ = det.detect(P, s, lab, score_threshold=0.5, nms_iou=0.5)
    assert len(b) == 2  # IoU exactly 0.5 is not above the threshold: both kept; 0.3 is under the score threshold
    b, sc, _ = det.detect(P, s, lab, score_threshold=0.5, nms_iou=0.4)
    assert len(b) == 1 and float(sc[0]) == pytest.approx(0.9)
    b, _, _ = det.detect(P, s, torch.tensor([1, 2, 2]), score_threshold=0.5, nms_iou=0.4, class_agnostic=False)
    assert len(b) == 2  # class-wise NMS keeps the second box: it is another digit


def test_match_is_greedy_and_each_truth_once():
    gt, gl = torch.tensor([[0.0, 0.0, 8.0, 8.0], [20.0, 20.0, 28.0, 28.0]]), torch.tensor([1, 2])
    d = torch.tensor([[0.0, 0.0, 8.0, 8.0], [1.0, 0.0, 9.0, 8.0], [20.0, 20.0, 28.0, 28.0], [30.0, 0, 38, 8]])
    tp = det.match(d, [0.5, 0.9, 0.8, 0.7], [1, 1, 3, 1], gt, gl)
    # the 0.9 box takes the first truth; the exact box (0.5) comes later and finds it taken; label 3 != 2
    assert tp.tolist() == [False, True, False, False]
    sc = det.Scenes(torch.zeros(1, 1, 40, 40), (gt,), (gl,))
    r = det.recall_precision([(d, torch.tensor([0.5, 0.9, 0.8, 0.7]), torch.tensor([1, 1, 3, 1]))], sc)
    assert (r["recall"], r["precision"], r["tp"]) == (0.5, 0.25, 1)
    assert r["f1"] == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    with pytest.raises(ValueError, match="one entry per scene"):
        det.recall_precision([], sc)


def test_choose_thresholds_picks_the_best_f1():
    P = torch.tensor([[0.0, 0.0, 8.0, 8.0], [20.0, 20.0, 28.0, 28.0]])
    sc = det.Scenes(torch.zeros(1, 1, 40, 40), (P[:1],), (torch.tensor([4]),))
    logits = torch.full((1, 2, 11), 0.0)
    logits[0, 0, 4] = 8.0  # the right box, confident
    logits[0, 1, 5], logits[0, 1, det.BACKGROUND] = 2.0, 1.0  # a false alarm with score ~0.8
    best = det.choose_thresholds(P, logits, sc)
    assert best["f1"] == 1.0 and best["score_threshold"] >= 0.9


def test_weight_counts_match_the_prose():
    from course_lib import models

    assert models.count_params(det.teacher_net(0)) == 38347
    assert models.count_params(det.student_net(0)) == 2987


def test_quantized_student_has_quantized_weights():
    m = det.quantize_copy(det.student_net(0), 2)
    w = m[0].weight.detach()
    assert len(torch.unique(w)) <= 3
    X = torch.rand(30, 1, 8, 8)
    y = torch.randint(0, 11, (30,))
    s = det.train_patch_classifier(det.student_net(0), X, y, bits=3, epochs=1, batch_size=None)
    assert len(torch.unique(s[-1].weight.detach())) <= 7


# ------------------------------------------------------------------------------------------- the lab (fake setup)
def _fake_setup():
    P = det.sliding_windows()
    g = torch.Generator().manual_seed(0)
    models = {}
    for key in [("teacher", None)] + [(b, kd) for b in det.BITS for kd in (False, True)]:
        models[key] = dict(scores=torch.rand(len(P), generator=g), labels=torch.randint(0, 10, (len(P),),
                           generator=g), score_threshold=0.9)
    return dict(seed=0, scene=0, image=np.zeros((40, 40)), gt_boxes=P[:2], gt_labels=torch.tensor([1, 2]),
                proposals=P, models=models)


def test_lab_run_render_summary():
    from matplotlib.figure import Figure

    s = _fake_setup()
    lo, hi = lab.run(s, 2, 0.0), lab.run(s, 2, 0.9)
    assert [p["name"] for p in lo["panels"]] == [n for n, _, _ in lab.PANELS]
    assert all(a["n_det"] <= b["n_det"] for a, b in zip(lo["panels"], hi["panels"]))
    lab.render(hi, Figure())
    assert "2-bit students" in lab.summary(hi)
    with pytest.raises(ValueError, match=r"bits must be one of \[8, 4, 2\], got 5"):
        lab.run(s, 5, 0.3)
    with pytest.raises(ValueError, match="nms_iou"):
        lab.run(s, 4, 1.2)


def test_split_logits_refuses_an_unknown_part():
    with pytest.raises(ValueError, match=r"part must be one of \['train', 'val', 'test'\], got 'dev'"):
        det.split_logits(det.student_net(0), 0, "dev")


# ------------------------------------------------------------------------------------------- stacks of students
def test_student_stack_members_are_the_single_student():
    st = det.StudentStack(3, bits=4, seed=7)
    x = torch.rand(20, 1, 8, 8)
    out = st(x)
    assert out.shape == (3, 20, 11)
    solo = det.add_fake_quant(det.student_net(7), 4, kinds=det.WEIGHTED).eval()
    for i in range(3):
        assert torch.allclose(st.member(i)(x), out[i], atol=1e-5)
        assert torch.allclose(solo(x), out[i], atol=1e-5)  # same initialisation in every member
    with pytest.raises(ValueError, match=r"i must be in 0..2, got 3"):
        st.member(3)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 1, 8, 8\)"):
        st(torch.zeros(2, 1, 6, 6))
    with pytest.raises(ValueError, match="bits must be one of"):
        det.StudentStack(2, bits=1)


def test_a_stack_trains_each_member_as_it_would_train_alone():
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(64, 1, 8, 8, generator=g), torch.randint(0, 11, (64,), generator=g)
    tl = torch.randn(64, 11, generator=g)
    kw = dict(epochs=2, batch_size=16, lr=1e-2, seed=3)
    st = det.train_stack(det.StudentStack(2, bits=8, seed=5), X, y, [None, (2.0, 0.7)], teacher_logits=tl, **kw)
    a = det.train_patch_classifier(det.add_fake_quant(det.student_net(5), 8, kinds=det.WEIGHTED), X, y, **kw)
    b = det.train_patch_classifier(det.add_fake_quant(det.student_net(5), 8, kinds=det.WEIGHTED), X, y,
                                   teacher_logits=tl, T=2.0, alpha=0.7, **kw)
    assert torch.allclose(st.member(0)(X), a(X), atol=1e-4)
    assert torch.allclose(st.member(1)(X), b(X), atol=1e-4)
    assert not torch.allclose(a(X), b(X), atol=1e-3)


@pytest.mark.parametrize("settings, match", [
    ([None, (0.0, 0.5)], r"T must be in \(0, 100\]"),
    ([(2.0, 1.5)], r"alpha must be in \[0, 1\]"),
    ([2.0], r"None or \(T, alpha\) pairs"),
    ([], "settings is empty"),
])
def test_bad_kd_settings(settings, match):
    with pytest.raises(ValueError, match=match):
        det.check_kd_settings(settings)


def test_train_stack_needs_one_setting_per_member_and_a_teacher():
    X, y = torch.rand(8, 1, 8, 8), torch.randint(0, 11, (8,))
    with pytest.raises(ValueError, match=r"one entry per member \(2\), got 1"):
        det.train_stack(det.StudentStack(2), X, y, [None])
    with pytest.raises(ValueError, match="needs teacher_logits"):
        det.train_stack(det.StudentStack(2), X, y, [None, (2.0, 0.5)])
    with pytest.raises(ValueError, match="setting must be None or one of"):
        det.student(0, 0, 8, (3.0, 0.5))


def test_threshold_table_matches_running_each_threshold():
    P = det.sliding_windows()
    g = torch.Generator().manual_seed(1)
    gt = (P[[0, 200]], P[[5, 300, 330]])
    sc = det.Scenes(torch.zeros(2, 1, 40, 40), gt, (torch.tensor([1, 2]), torch.tensor([3, 4, 5])))
    logits = torch.randn(2, len(P), 11, generator=g) * 3
    logits[0, 0, 1] = logits[1, 300, 4] = 12.0  # two confident right answers
    table = det.threshold_table(P, logits, sc)
    assert len(table) == len(det.SCORE_GRID) * len(det.NMS_GRID)
    for (st, ni), r in table.items():
        assert r == det.recall_precision(det.detect_all(P, logits, score_threshold=st, nms_iou=ni), sc)
    best = det.choose_thresholds(P, logits, sc)
    assert best["f1"] == max(r["f1"] for r in table.values())
    with pytest.raises(ValueError, match=r"score_grid must be in \[0, 1\]"):
        det.threshold_table(P, logits, sc, score_grid=[1.5])


def test_choose_kd_takes_the_best_mean_on_validation():
    rows = [dict(bits=8, distilled=True, T=T, alpha=a, seed=s, val_f1=f)
            for (T, a), fs in {(1.0, 0.3): (0.5, 0.7), (2.0, 0.7): (0.6, 0.7), (4.0, 0.3): (0.6, 0.62)}.items()
            for s, f in enumerate(fs)]
    rows += [dict(bits=2, distilled=True, T=T, alpha=0.3, seed=0, val_f1=0.2) for T in (4.0, 1.0)]
    rows += [dict(bits=8, distilled=False, T=None, alpha=None, seed=0, val_f1=0.99)]
    assert det.choose_kd(rows) == {8: (2.0, 0.7), 2: (1.0, 0.3)}  # 2 bits: a tie goes to the first in KD_GRID
    with pytest.raises(ValueError, match="no distilled student"):
        det.choose_kd(rows[-1:])
    with pytest.raises(ValueError, match="metric must be one of"):
        det.choose_kd(rows, metric="f1")
