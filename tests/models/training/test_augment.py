"""The batched training augmentation: every face changed on its own, reproducibly, within the picture's range."""

from __future__ import annotations

import torch

from models.training.augment import augment


def faces(count: int = 32) -> torch.Tensor:
    return torch.rand(count, 1, 48, 48, generator=torch.Generator().manual_seed(1))


def test_the_same_seed_gives_the_same_batch_and_values_stay_in_range():
    a = augment(faces(), torch.Generator().manual_seed(7))
    b = augment(faces(), torch.Generator().manual_seed(7))
    torch.testing.assert_close(a, b)
    assert a.shape == (32, 1, 48, 48) and a.min() >= 0 and a.max() <= 1


def test_faces_of_one_batch_are_changed_differently():
    same = faces(1).repeat(16, 1, 1, 1)
    out = augment(same, torch.Generator().manual_seed(3))
    distinct = {round(float(face.sum()), 3) for face in out}
    assert len(distinct) > 8
