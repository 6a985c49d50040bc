"""EmoNet is fully convolutional up to global pooling, so any face size maps to 7 logits."""

from __future__ import annotations

import torch

from models.network import EmoNet, PerImageStandardize


def test_logits_shape_for_training_and_other_sizes():
    model = EmoNet().eval()
    with torch.inference_mode():
        assert model(torch.rand(3, 1, 48, 48)).shape == (3, 7)
        assert model(torch.rand(1, 1, 64, 64)).shape == (1, 7)


def test_standardisation_removes_brightness_and_contrast():
    face = torch.rand(1, 1, 48, 48)
    standardize = PerImageStandardize()
    torch.testing.assert_close(standardize(face), standardize(face * 0.5 + 0.2), atol=2e-2, rtol=2e-2)
