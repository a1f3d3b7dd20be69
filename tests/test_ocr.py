"""course_lib.distill.ocr: glyph strings, the CTC reader, greedy decoding, edit counts and CER; bad input."""
import pytest
import torch
import torch.nn.functional as F

from course_lib.compress.quantize import WEIGHTED, add_fake_quant
from course_lib.distill import ocr


def _frames(path, C=11):
    lp = torch.full((len(path), C), -5.0)
    for t, c in enumerate(path):
        lp[t, c] = 0.0
    return F.log_softmax(lp, -1)


def _glyphs():
    g = torch.zeros(10, 8, 8)
    for d in range(10):
        g[d, d % 8, :] = 1.0  # a glyph per digit that is easy to tell apart
    return g, torch.arange(10)


# --------------------------------------------------------------------------- decoding
def test_greedy_decode_merges_first_then_drops_blanks():
    assert ocr.greedy_decode(_frames([0, 3, 3, 0, 3, 2, 2, 0, 0, 5])) == [3, 3, 2, 5]
    assert ocr.greedy_decode(_frames([2, 2, 2])) == [2]
    assert ocr.greedy_decode(_frames([2, 0, 2])) == [2, 2]
    assert ocr.greedy_decode(_frames([0, 0, 0])) == []
    # another blank index: 3 is the blank, 0 a label
    assert ocr.greedy_decode(_frames([0, 0, 3, 0, 2, 3]), blank=3) == [0, 0, 2]
    batch = torch.stack([_frames([1, 1, 0, 2]), _frames([0, 4, 0, 0])])
    assert ocr.greedy_decode(batch) == [[1, 2], [4]]


def test_greedy_decode_leaves_input_alone():
    lp = _frames([1, 1, 0, 2])
    kept = lp.clone()
    ocr.greedy_decode(lp)
    assert torch.equal(lp, kept)


def test_unknown_blank_index_is_refused():
    with pytest.raises(ValueError, match=r"blank.*0\.\.10.*11"):
        ocr.greedy_decode(_frames([1, 2]), blank=11)
    with pytest.raises(ValueError, match="blank"):
        ocr.greedy_decode(_frames([1, 2]), blank=-1)
    lp = torch.zeros(2, 5, 11).log_softmax(-1)
    with pytest.raises(ValueError, match="blank"):
        ocr.ctc_loss(lp, torch.tensor([[1, 2], [3, 4]]), torch.tensor([2, 2]), blank=12)


def test_ids_and_digits():
    assert ocr.digits_to_ids("307") == [4, 1, 8]
    assert ocr.ids_to_digits([4, 1, 8]) == "307"
    with pytest.raises(ValueError, match="ids"):
        ocr.ids_to_digits([0, 1])
    with pytest.raises(ValueError, match="text"):
        ocr.digits_to_ids("")


# --------------------------------------------------------------------------- CTC lengths
def test_min_frames_counts_the_blanks_between_repeats():
    assert ocr.min_frames([1, 2, 3]) == 3
    assert ocr.min_frames([1, 1, 2]) == 4
    assert ocr.min_frames([5, 5, 5]) == 5
    assert ocr.min_frames([7]) == 1


def test_too_long_labels_are_refused_by_name():
    lp = torch.zeros(1, 4, 11).log_softmax(-1)
    ok = ocr.ctc_loss(lp, torch.tensor([[1, 2, 3, 4]]), torch.tensor([4]))
    assert torch.isfinite(ok)
    with pytest.raises(ValueError, match=r"n_frames=4.*label length \+ repeats <= 4"):
        ocr.ctc_loss(lp, torch.tensor([[1, 1, 2, 3]]), torch.tensor([4]))
    with pytest.raises(ValueError, match="needs at least 5 frames"):
        ocr.ctc_loss(torch.zeros(1, 3, 11).log_softmax(-1), torch.tensor([[1, 2, 3, 4, 5]]), torch.tensor([5]))


def test_blank_inside_labels_and_empty_strings_are_refused():
    lp = torch.zeros(1, 6, 11).log_softmax(-1)
    with pytest.raises(ValueError, match="other than the blank"):
        ocr.ctc_loss(lp, torch.tensor([[1, 0, 2]]), torch.tensor([3]))
    with pytest.raises(ValueError, match="lengths must be in 1..3"):
        ocr.ctc_loss(lp, torch.tensor([[1, 2, 3]]), torch.tensor([0]))


def test_ctc_loss_matches_a_hand_count():
    # two frames, one label 'a': paths a-a, a-blank, blank-a. With uniform frames each path has prob (1/C)^2.
    C = 3
    lp = torch.full((1, 2, C), 1.0 / C).log()
    loss = ocr.ctc_loss(lp, torch.tensor([[1]]), torch.tensor([1]))
    assert loss.item() == pytest.approx(-torch.log(torch.tensor(3 / 9.0)).item(), rel=1e-5)


def test_frame_kd_is_zero_for_equal_frames_and_needs_same_frame_rate():
    lp = torch.randn(2, 5, 11).log_softmax(-1)
    assert ocr.frame_kd(lp, lp).item() == pytest.approx(0.0, abs=1e-6)
    other = torch.randn(2, 5, 11).log_softmax(-1)
    manual = (other.exp() * (other - lp)).sum(-1).mean()
    assert ocr.frame_kd(lp, other).item() == pytest.approx(manual.item(), rel=1e-5)
    with pytest.raises(ValueError, match="same frame rate"):
        ocr.frame_kd(lp, torch.randn(2, 4, 11).log_softmax(-1))
    with pytest.raises(ValueError, match="tau"):
        ocr.frame_kd(lp, other, tau=0)


# --------------------------------------------------------------------------- edit counts
def test_edit_counts_and_cer():
    assert ocr.edit_counts("12345", "1245") == {"insertions": 0, "deletions": 1, "substitutions": 0, "ref_len": 5}
    assert ocr.edit_counts("123", "1293") == {"insertions": 1, "deletions": 0, "substitutions": 0, "ref_len": 3}
    assert ocr.edit_counts("123", "143") == {"insertions": 0, "deletions": 0, "substitutions": 1, "ref_len": 3}
    assert ocr.edit_counts("123", "") == {"insertions": 0, "deletions": 3, "substitutions": 0, "ref_len": 3}
    r = ocr.error_rate(["123", "4567"], ["123", "457"])
    assert (r["errors"], r["ref_len"], r["string_accuracy"]) == (1, 7, 0.5)
    assert r["cer"] == pytest.approx(1 / 7)
    assert ocr.edit_ops("123", "143") == [("replace", 1, 1)]
    with pytest.raises(ValueError, match="equal length"):
        ocr.error_rate(["1"], [])


# --------------------------------------------------------------------------- data and model
def test_make_strings_places_the_glyphs():
    g, d = _glyphs()
    s = ocr.make_strings(g, d, 20, seed=3)
    assert s.images.shape == (20, 8, ocr.WIDTH) and len(s) == 20
    assert all(3 <= len(t) <= 6 for t in s.texts)
    for i in range(20):
        L = int(s.lengths[i])
        assert ocr.ids_to_digits(s.targets[i, :L].tolist()) == s.texts[i]
        assert int((s.targets[i, L:] != 0).sum()) == 0
        # each glyph is one lit row, 8 columns long: 8 lit pixels per character
        assert int(s.images[i].sum()) == 8 * L
    again = ocr.make_strings(g, d, 20, seed=3)
    assert again.texts == s.texts and torch.equal(again.images, s.images)


def test_make_strings_bad_input():
    g, d = _glyphs()
    with pytest.raises(ValueError, match=r"min_len must be in 1\.\.64, got 0"):
        ocr.make_strings(g, d, 5, min_len=0)
    with pytest.raises(ValueError, match="max_len"):
        ocr.make_strings(g, d, 5, min_len=4, max_len=3)
    with pytest.raises(ValueError, match=r"width must be in 63\.\.4096, got 40"):
        ocr.make_strings(g, d, 5, width=40)
    with pytest.raises(ValueError, match="glyphs"):
        ocr.make_strings(torch.zeros(3, 8, 7), torch.arange(3), 5)
    with pytest.raises(ValueError, match="digits"):
        ocr.make_strings(g, torch.arange(10) + 1, 5)


def test_model_frames_and_fake_quantized_training_lowers_ctc():
    g, d = _glyphs()
    s = ocr.make_strings(g, d, 64, seed=0)
    m = ocr.ConvCTC(8, seed=0)
    lp = m(s.images)
    assert lp.shape == (64, ocr.ConvCTC.frames(ocr.WIDTH), ocr.N_CLASSES) == (64, 32, 11)
    assert torch.allclose(lp.exp().sum(-1), torch.ones(64, 32), atol=1e-5)
    add_fake_quant(m, 4, kinds=WEIGHTED)
    h = ocr.fit_ctc(m, s, epochs=15, lr=1e-2, batch_size=32, seed=0)
    assert h.loss[-1] < 0.7 * h.loss[0]
    with pytest.raises(ValueError, match="bits must be one of"):
        add_fake_quant(m, 1, kinds=WEIGHTED)
    with pytest.raises(ValueError, match="teacher_log_probs"):
        ocr.fit_ctc(m, s, weight=0.5, epochs=1)
    with pytest.raises(ValueError, match="x must have shape"):
        m(torch.zeros(2, 7, 64))


def test_fit_with_teacher_frames_and_reading():
    g, d = _glyphs()
    s = ocr.make_strings(g, d, 32, seed=1)
    teacher = ocr.ConvCTC(8, seed=0)
    tlp = ocr.predict_log_probs(teacher, s.images)
    student = ocr.ConvCTC(4, seed=1)
    h = ocr.fit_ctc(student, s, teacher_log_probs=tlp, weight=0.5, epochs=3, seed=0)
    assert set(h.terms) == {"loss", "ctc", "kd"}
    texts = ocr.read_strings(student, s.images)
    assert len(texts) == 32 and all(t.isdigit() or t == "" for t in texts)
    with pytest.raises(ValueError, match="frame rate"):
        ocr.fit_ctc(student, s, teacher_log_probs=tlp[:, :10], weight=0.5, epochs=1)


def test_lab_colours_each_error_operation():
    from course_lib.labs.ch4 import ocr as lab

    out = lab.coloured("4071", "4971")
    assert out.count(lab.OP_COLOURS["replace"]) == 1 and "<b" in out
    out = lab.coloured("4071", "471")
    assert "<s style" in out and ">0</s>" in out
    out = lab.coloured("407", "4077")
    assert out.count(lab.OP_COLOURS["insert"]) == 1
    assert lab.coloured("407", "407") == "<code>407</code>"


def test_lab_refuses_a_bit_width_it_cannot_round_to():
    from course_lib.labs.ch4 import ocr as lab

    with pytest.raises(ValueError, match=r"bits must be one of \[2, 3, 4, 5, 6, 7, 8\], got 1"):
        lab.run(None, bits=1)
    with pytest.raises(ValueError, match=r"first must be in 0\.\.496, got 500"):
        lab.run(None, bits=4, first=500)
    with pytest.raises(ValueError, match="bits must be one of"):
        lab.student(0, 0, 9, "scratch")
    with pytest.raises(ValueError, match="kind must be one of"):
        lab.student(0, 0, 8, "teacher")


def test_lab_student_seeds_are_disjoint_between_seeds_and_nested_between_bit_widths():
    from course_lib.labs.ch4 import ocr as lab

    a, b = lab.student_seeds(0), lab.student_seeds(1)
    assert len(a) == lab.N_STUDENTS[8] and not set(a) & set(b)
    assert lab.student_seeds(1, 2) == b[:lab.N_STUDENTS[2]]


def test_lab_refuses_a_kd_weight_outside_0_1():
    from course_lib.labs.ch4 import ocr as lab

    with pytest.raises(ValueError, match=r"weight must be in \(0, 1\], got 1.5"):
        lab.student(0, 0, 8, "distilled", torch.zeros(1), weight=1.5)
    with pytest.raises(ValueError, match="weight"):
        lab.student(0, 0, 8, "distilled", torch.zeros(1), weight=0.0)


def test_lab_validation_strings_use_only_validation_glyphs():
    from course_lib import data
    from course_lib.labs.ch4 import ocr as lab

    val = lab.val_strings(0)
    ds = data.load("digits", split_seed=0)
    glyphs = ds.X_val.reshape(-1, 8, 8)
    assert len(val) == lab.N_VAL and int(val.glyph_index.max()) < len(glyphs)
    for i in range(20):  # the ink of each string is the ink of its validation glyphs (they never overlap)
        idx = val.glyph_index[i, :int(val.lengths[i])]
        assert float(val.images[i].sum()) == pytest.approx(float(glyphs[idx].sum()), rel=1e-5)
        assert "".join(str(int(d)) for d in ds.y_val[idx]) == val.texts[i]
