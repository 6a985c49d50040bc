"""FER2013 faces re-framed as the product frames a face in a video, and the cache that keeps training from paying
for the landmarks twice."""

from __future__ import annotations

import numpy as np
import pytest

import models.training.fer_crops as fer_crops
from models.training.data import DEFAULT_DATA, load_split


@pytest.fixture(scope="module")
def publictest_faces() -> np.ndarray:
    if not DEFAULT_DATA.is_file():
        pytest.skip(f"FER2013 not at {DEFAULT_DATA} (only on the development machines)")
    faces, _ = load_split(DEFAULT_DATA, "publictest")
    return faces[::360]  # 10 faces across the classes (the split is sorted by class)


def test_most_fer_faces_get_landmarks_and_a_new_framing_of_the_same_face(publictest_faces):
    crops, found = fer_crops.aligned_faces(publictest_faces)
    assert crops.shape == publictest_faces.shape and crops.dtype == np.uint8
    assert found.mean() >= 0.8  # 97.7% of Training, 97.6% of PublicTest
    pairs = list(zip(crops[found], publictest_faces[found], strict=True))
    assert np.median([np.corrcoef(c.ravel(), f.ravel())[0, 1] for c, f in pairs]) > 0.5  # re-framed, not replaced
    assert any(not np.array_equal(c, f) for c, f in pairs)


def test_a_face_without_landmarks_is_kept_as_it_is():
    blank = np.full((2, 48, 48), 128, dtype=np.uint8)
    crops, found = fer_crops.aligned_faces(blank)
    assert not found.any()
    np.testing.assert_array_equal(crops, blank)


def test_the_crops_are_cached_per_data_file_and_split(tmp_path, monkeypatch):
    data = tmp_path / "faces.npz"
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    np.savez(data, x_training=faces)
    first = fer_crops.cached_aligned_faces(data, "training", faces, cache_dir=tmp_path)
    monkeypatch.setattr(fer_crops, "aligned_faces", lambda _: pytest.fail("the cache was not read"))
    again = fer_crops.cached_aligned_faces(data, "training", faces, cache_dir=tmp_path)
    np.testing.assert_array_equal(first[0], again[0])
    assert len(list(tmp_path.glob("training-*.npz"))) == 1
