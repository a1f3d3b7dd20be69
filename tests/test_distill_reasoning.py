"""course_lib.distill.reasoning: the schoolbook teacher, the two students' features, chaining."""
import pytest
import torch
from torch import nn

from course_lib.distill import reasoning as R


def test_schoolbook_adds_and_emits_carries():
    a = torch.tensor([[9, 9, 1], [2, 0, 0]])  # 199 and 2, least significant first
    b = torch.tensor([[1, 0, 0], [3, 4, 5]])  # 1 and 543
    t = R.schoolbook(a, b)
    assert R.to_int(t["digits"]) == [200, 545]
    assert t["carry_out"][0].tolist() == [1, 1, 0, 0] and t["carry_in"][0].tolist() == [0, 1, 1, 0]
    a, b = R.problems(200, 6, seed=3)
    assert R.to_int(R.schoolbook(a, b)["digits"]) == [x + y for x, y in zip(R.to_int(a), R.to_int(b))]


def test_problems_are_seeded_and_checked():
    assert torch.equal(R.problems(5, 3, seed=1)[0], R.problems(5, 3, seed=1)[0])
    with pytest.raises(ValueError, match="digits must be in 1"):
        R.problems(5, 0)
    with pytest.raises(ValueError, match="n must be in"):
        R.problems(0, 3)


def test_bad_digit_tensors():
    with pytest.raises(ValueError, match="decimal digits"):
        R.schoolbook(torch.tensor([[10]]), torch.tensor([[1]]))
    with pytest.raises(ValueError, match="int64 tensor"):
        R.schoolbook(torch.tensor([[1.0]]), torch.tensor([[1]]))
    with pytest.raises(ValueError, match="same shape"):
        R.schoolbook(torch.tensor([[1, 2]]), torch.tensor([[1]]))
    with pytest.raises(ValueError, match="window must be in"):
        R.window_features(torch.tensor([[1]]), torch.tensor([[1]]), 0)


def test_window_features_layout():
    a, b = torch.tensor([[3, 7]]), torch.tensor([[5, 1]])
    X = R.window_features(a, b, 2).reshape(3, 2, 20)  # 3 answer positions, 2 window slots, a then b one-hots
    assert X[0, 0].sum() == 0  # below the number: no digit
    assert X[0, 1, 3] == 1 and X[0, 1, 10 + 5] == 1  # position 0 itself
    assert X[2, 1, 0] == 1 and X[2, 0, 7] == 1  # position 2 (the zero above) and position 1 below it


def test_chain_predict_with_a_perfect_rule_and_step_dataset():
    class Exact(nn.Module):  # a hand-written with-steps student: 10 digit logits, 2 carry logits
        def forward(self, x):
            t = x[:, :10].argmax(1) + x[:, 10:20].argmax(1) + x[:, 20].long()
            return torch.cat([torch.nn.functional.one_hot(t % 10, 10), torch.nn.functional.one_hot(t // 10, 2)], 1).float()

    a, b = R.problems(50, 7, seed=0)
    out = R.chain_predict(Exact(), a, b)
    assert R.exact_match(out["digits"], R.schoolbook(a, b)["digits"]) == 1.0
    X, y, c = R.step_dataset(a, b)
    assert X.shape == (50 * 8, 21) and torch.equal(Exact()(X)[:, :10].argmax(1), y)
    with pytest.raises(ValueError, match="12 logits"):
        R.chain_predict(nn.Linear(21, 10), a, b)
    with pytest.raises(ValueError, match="same shape"):
        R.exact_match(out["digits"], out["digits"][:, :3])
