import pytest
import torch

from course_lib.distill import layer_mapping as lm


def test_mappings_known_values():
    assert lm.layer_mapping("uniform", 2, 6) == [3, 6]
    assert lm.layer_mapping("first", 2, 6) == [1, 2]
    assert lm.layer_mapping("last", 2, 6) == [5, 6]
    assert lm.layer_mapping("uniform", 3, 12) == [4, 8, 12]  # patient KD's skip: every 4th layer
    assert lm.layer_mapping("uniform", 4, 4) == [1, 2, 3, 4]


def test_mapping_errors():
    with pytest.raises(ValueError, match="n_student"):
        lm.layer_mapping("uniform", 7, 6)
    with pytest.raises(ValueError, match="kind"):
        lm.layer_mapping("middle", 2, 6)
    with pytest.raises(ValueError, match="only 3 layers"):
        lm.check_mapping([1, 2, 3, 3], 3)
    with pytest.raises(ValueError, match="1..3"):
        lm.check_mapping([0, 2], 3)
    with pytest.raises(ValueError, match="one entry per student layer"):
        lm.check_mapping([1, 2], 3, n_student=3)


def test_seq_encoder_hidden_states_match_encoder():
    m = lm.SeqEncoder(8, 5, 3, d_model=16, n_layers=3, d_ff=32, seed=0).eval()
    x = torch.randint(0, 8, (4, 5), generator=torch.Generator().manual_seed(0))
    logits, hidden = m(x, return_hidden=True)
    assert logits.shape == (4, 3) and len(hidden) == 3 and hidden[0].shape == (4, 5, 16)
    with torch.no_grad():
        ref = m.encoder(m.tok(x) + m.pos)
    assert torch.allclose(ref, hidden[-1], atol=1e-5)
    same = lm.SeqEncoder(8, 5, 3, d_model=16, n_layers=3, d_ff=32, seed=0)
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), same.state_dict().values()))


def test_hidden_state_loss():
    t = [torch.full((2, 3, 4), float(k)) for k in range(1, 5)]  # teacher layer k holds the value k
    s = [torch.zeros(2, 3, 4), torch.zeros(2, 3, 4)]
    assert lm.hidden_state_loss(s, t, [1, 2]).item() == pytest.approx((1 + 4) / 2)
    assert lm.hidden_state_loss(s, t, [3, 4]).item() == pytest.approx((9 + 16) / 2)
    assert lm.hidden_state_loss([t[1], t[3]], t, [2, 4]).item() == 0.0
    with pytest.raises(ValueError, match="only 4 layers"):
        lm.hidden_state_loss(s, t, [1, 2, 3, 4, 4])
