import math

import pytest
import torch

from course_lib import metrics


def test_accuracy_agreement_kl_entropy():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    assert metrics.accuracy(logits, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    assert metrics.agreement(logits, logits.flip(1)) == 0.0
    assert metrics.agreement(logits, 2 * logits) == 1.0
    assert metrics.kl_to_teacher(logits, logits) == pytest.approx(0.0, abs=1e-7)
    assert metrics.kl_to_teacher(logits, 3 * logits) > 0
    assert float(metrics.entropy(torch.full((4,), 0.25))) == pytest.approx(math.log(4))
    assert float(metrics.entropy(torch.tensor([1.0, 0.0]))) == pytest.approx(0.0)


def test_metric_errors():
    logits = torch.zeros(3, 2)
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\)"):
        metrics.accuracy(logits, torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="same shape"):
        metrics.agreement(logits, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="T must be > 0"):
        metrics.kl_to_teacher(logits, logits, T=0)
