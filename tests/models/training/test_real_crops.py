"""Real clips as the classifier sees them, and how a raw label is scored on them."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import models.training.real_crops as real_crops
from models.training.real_crops import RealCrops, load_real_crops, raw_accuracy
from smoothing.fitting.real_sequences import UNSCORED
from tests.conftest import SAMPLE_CLIP, count_frames


def clip(kind: str, source: str, labels: list[int], has_face: list[bool]) -> RealCrops:
    n = len(labels)
    return RealCrops("c", kind, source, np.zeros((n, 48, 48), np.uint8), np.array(has_face), np.array(labels))


def test_a_frame_without_a_face_counts_as_wrong_and_an_unlabelled_one_does_not_count():
    clips = [clip("acted", "MEAD", [3, 3, UNSCORED, 6], [True, False, True, True])]
    logits = [np.eye(7)[[3, 3, 0, 0]]]
    report = raw_accuracy(clips, logits)
    assert report["all labelled"] == pytest.approx(1 / 3) and report["frames"] == 3
    assert report["acted"] == report["source MEAD"]


def test_a_prior_shift_changes_the_raw_label():
    clips = [clip("onset", "CK+", [6], [True])]
    logits = [np.array([[0, 0, 0, 0, 0, 1.0, 0.5]])]
    assert raw_accuracy(clips, logits)["all labelled"] == 0.0
    assert raw_accuracy(clips, logits, bias=np.array([0, 0, 0, 0, 0, -1.0, 0]))["all labelled"] == 1.0


def test_the_sample_clip_gives_one_aligned_crop_per_frame(tmp_path, monkeypatch):
    monkeypatch.setattr(real_crops, "CACHE_DIR", tmp_path / "cache")
    shutil.copy(SAMPLE_CLIP, tmp_path / "sample.mp4")
    index = {"clips": {"sample.mp4": {"kind": "by-eye", "source": "test", "segments": [[0.0, 1.0, "happy"]]}}}
    (tmp_path / "labels.json").write_text(json.dumps(index))
    (loaded,) = load_real_crops(tmp_path, cache_dir=tmp_path / "cache")
    assert len(loaded.crops) == count_frames(SAMPLE_CLIP) and loaded.has_face.mean() > 0.9
    assert (loaded.labels != UNSCORED).any() and len(list((tmp_path / "cache").glob("*.npz"))) == 1
