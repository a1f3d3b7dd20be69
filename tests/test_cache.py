"""cache.tensor_digest: a cache key part for models that start from given weights."""
import pytest


def test_tensor_digest_tells_values_and_shapes_apart():
    import torch

    from course_lib.cache import tensor_digest
    a = torch.arange(6.0)
    assert tensor_digest(a) == tensor_digest(a.clone())
    assert tensor_digest(a) != tensor_digest(a.reshape(2, 3))
    b = a.clone()
    b[3] += 1e-3
    assert tensor_digest(a) != tensor_digest(b)
    with pytest.raises(ValueError, match="tensors must be torch tensors"):
        tensor_digest([1, 2])
