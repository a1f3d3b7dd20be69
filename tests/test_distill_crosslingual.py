"""course_lib.distill.crosslingual: the two-language network and class-similarity matrices."""
import numpy as np
import pytest
import torch

from course_lib.distill.crosslingual import BilingualMLP, class_similarity, offdiag_corr


def test_bilingual_shapes_shared_head_and_seed():
    m = BilingualMLP({"a": 4, "b": 3}, hidden=5, n_classes=6, seed=0)
    assert m(torch.randn(2, 4), "a").shape == (2, 6) and m(torch.randn(7, 3), "b").shape == (7, 6)
    assert m.out is not None and set(m.encoders) == {"a", "b"}
    m2 = BilingualMLP({"a": 4, "b": 3}, hidden=5, n_classes=6, seed=0)
    x = torch.randn(3, 4)
    assert torch.equal(m(x, "a"), m2(x, "a"))
    with pytest.raises(ValueError, match="language must be one of"):
        m(x, "c")
    with pytest.raises(ValueError, match="languages must be a non-empty dict"):
        BilingualMLP({})
    with pytest.raises(ValueError, match="hidden must be in"):
        BilingualMLP({"a": 2}, hidden=0)


def test_class_similarity_rows_are_mean_tempered_softmax():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0], [2.0, 2.0, 0.0]])
    labels = torch.tensor([0, 1, 2, 0])
    S = class_similarity(logits, labels, T=2.0)
    p = torch.softmax(logits / 2.0, -1)
    assert np.allclose(S[0], ((p[0] + p[3]) / 2).numpy()) and np.allclose(S[2], p[2].numpy())
    assert np.allclose(S.sum(1), 1.0)
    with pytest.raises(ValueError, match="class 2 has no example"):
        class_similarity(logits[:2], labels[:2])
    with pytest.raises(ValueError, match="T must be"):
        class_similarity(logits, labels, T=0)
    with pytest.raises(ValueError, match="labels"):
        class_similarity(logits, labels[:2])


def test_offdiag_corr_ignores_the_diagonal():
    rng = np.random.default_rng(0)
    A = rng.random((4, 4))
    B = A.copy()
    np.fill_diagonal(B, [9, -9, 3, 0])  # only the diagonal differs
    assert offdiag_corr(A, B) == pytest.approx(1.0)
    C = 1 - A
    assert offdiag_corr(A, C) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="square matrices"):
        offdiag_corr(A, A[:3, :3])
    with pytest.raises(ValueError, match="constant"):
        offdiag_corr(np.ones((3, 3)), A[:3, :3])
