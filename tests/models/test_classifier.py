"""The classifier contract that the app, the smoothers and outside tools rely on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import models
from models.classifier import DEFAULT_WEIGHTS, LOGITS_BATCH, WeightsError, load_classifier

pytestmark = pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="shipped weights missing")


@pytest.fixture(scope="module")
def classifier():
    return models.load_classifier()


def random_faces(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 48, 48), dtype=np.uint8)


def test_predict_returns_one_distribution_per_face(classifier):
    probs = classifier.predict(random_faces(5))
    assert probs.shape == (5, 7)
    assert probs.dtype == np.float32
    assert np.all(probs >= 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_batched_results_equal_single_ones(classifier):
    faces = random_faces(6, seed=1)
    batched = classifier.predict(faces)
    single = np.concatenate([classifier.predict(faces[i : i + 1]) for i in range(len(faces))])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_crops_of_any_size_grey_or_bgr_are_accepted(classifier):
    rng = np.random.default_rng(2)
    grey = rng.integers(0, 256, (120, 97), dtype=np.uint8)
    bgr = np.repeat(grey[:, :, None], 3, axis=2)
    tiny = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    probs = classifier.predict([grey, bgr, tiny])
    assert probs.shape == (3, 7)
    np.testing.assert_allclose(probs[0], probs[1], atol=1e-5)  # a grey copy of a BGR face is the same face


def test_float_faces_in_0_1_and_16_bit_faces_read_as_their_8_bit_twins(classifier):
    """The conventions of scikit-image and torchvision (floats in [0, 1]) and a 16-bit PNG. Cast as they were, floats
    in [0, 1] became black faces: PublicTest read 13.1% (98.8% of faces called angry) against 68.7%."""
    faces = random_faces(4, seed=3)
    expected = classifier.predict(faces)
    for same in (
        faces / 255.0,
        (faces / 255.0).astype(np.float32),
        faces.astype(np.float32),
        faces.astype(np.uint16) * 257,
    ):
        np.testing.assert_allclose(classifier.predict(same), expected, atol=1e-5)
        np.testing.assert_allclose(classifier.predict(list(same)), expected, atol=1e-5)


def test_more_faces_than_one_pass_takes_give_what_smaller_batches_give(classifier):
    """A whole data set in one call goes through in passes of LOGITS_BATCH faces: bounded memory, same results."""
    faces = random_faces(LOGITS_BATCH + 40, seed=4)
    parts = np.concatenate([classifier.predict(faces[:300]), classifier.predict(faces[300:])])
    np.testing.assert_allclose(classifier.predict(faces), parts, atol=1e-5)


def test_empty_batch_gives_empty_result(classifier):
    assert classifier.predict([]).shape == (0, 7)


def test_temperature_was_fitted(classifier):
    assert classifier.temperature != 1.0
    assert 0.05 < classifier.temperature < 20


def test_missing_weights_raise_a_one_line_error(tmp_path):
    with pytest.raises(WeightsError, match="weights not found"):
        load_classifier(tmp_path / "absent.pt")


def test_corrupt_weights_raise_a_one_line_error(tmp_path):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint" * 10)
    with pytest.raises(WeightsError, match="cannot read weights .*: not a PyTorch checkpoint, or corrupt") as caught:
        load_classifier(corrupt)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("broken", [{"config": None}, {"config": {"widths": [8]}}, {"state_dict": {}}])
def test_a_checkpoint_with_a_broken_field_is_a_one_line_error(tmp_path, weights_path, broken):
    checkpoint = torch.load(weights_path, map_location="cpu", weights_only=True)
    path = tmp_path / "broken.pt"
    torch.save({**checkpoint, **broken}, path)
    with pytest.raises(WeightsError, match="does not match the EmoNet architecture"):
        load_classifier(path)


@pytest.mark.parametrize(
    ("broken", "words"),
    [
        ({"int8": "x"}, "its int8 entry is not a set of int8 weights"),
        ({"int8": None, "temperature": 0.0}, "its temperature is 0.0, not a number above 0"),  # every face NaN
        ({"int8": None, "temperature": float("nan")}, "its temperature is nan"),
        ({"int8": None, "temperature": "abc"}, "its temperature is 'abc'"),
        ({"prior": {"bias": [0.0] * 5}}, "its class prior is not 7 finite numbers"),
        ({"prior": "x"}, "its class prior is not 7 finite numbers"),
    ],
    ids=["int8-not-a-dict", "temperature-0", "temperature-nan", "temperature-text", "prior-short", "prior-text"],
)
def test_a_checkpoint_whose_calibration_is_broken_is_a_one_line_error(tmp_path, weights_path, broken, words):
    checkpoint = torch.load(weights_path, map_location="cpu", weights_only=True)
    path = tmp_path / "broken.pt"
    torch.save({key: value for key, value in {**checkpoint, **broken}.items() if value is not None}, path)
    with pytest.raises(WeightsError, match=words):
        load_classifier(path)


def test_a_folder_given_as_weights_is_named_as_one(tmp_path):
    with pytest.raises(WeightsError, match="is a folder, not a checkpoint file"):
        load_classifier(tmp_path)
