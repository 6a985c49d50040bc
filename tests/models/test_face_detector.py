"""The Haar face detector: real faces and non-faces, odd frames, and region tracking that agrees with full search."""

from __future__ import annotations

import numpy as np
import pytest

from models.face_detector import (
    FULL_DETECT_EVERY,
    Detection,
    FaceDetector,
    crop_face,
    level_weight_to_score,
)
from tests.conftest import read_frames

SAMPLE_INDICES = (0, 15, 30, 45, 60, 71)  # neutral at the start, smiling from about frame 30
# The sample face is about 190 px wide at 640x360; region and full searches may differ by a pyramid step or so.
BOX_TOLERANCE = 0.08  # of the face size


def close(a: Detection, b: Detection, tolerance: float = BOX_TOLERANCE) -> bool:
    limit = tolerance * max(a.w, b.w)
    return all(abs(p - q) <= limit for p, q in ((a.x, b.x), (a.y, b.y), (a.w, b.w), (a.h, b.h)))


@pytest.fixture()
def detector() -> FaceDetector:
    return FaceDetector()


@pytest.mark.parametrize("index", SAMPLE_INDICES)
def test_one_face_on_sample_frames(detector: FaceDetector, sample_frames: list[np.ndarray], index: int) -> None:
    frame = sample_frames[index]
    faces = detector.detect(frame)
    assert len(faces) == 1
    face = faces[0]
    height, width = frame.shape[:2]
    assert 0.4 * height < face.h < 0.7 * height  # the face fills about half the frame height
    assert face.x < width / 2 < face.x + face.w  # roughly centred
    assert face.score > 0.8


def test_no_face_on_every_tenth_frame_of_no_face_clip(detector: FaceDetector, shared_media) -> None:
    frames = read_frames(shared_media / "no_face.mp4", every=10)
    assert len(frames) >= 9
    for frame in frames:
        assert detector.detect(frame) == []


def test_face_leaving_the_frame_is_dropped(detector: FaceDetector, shared_media) -> None:
    frames = read_frames(shared_media / "face_noface.mov", every=6)  # the face leaves at about frame 70
    counts = [len(detector.detect(frame)) for frame in frames]
    assert counts[:10] == [1] * 10
    assert counts[-10:] == [0] * 10


@pytest.mark.parametrize("shape", [(0, 0), (1, 1), (10, 10), (23, 40), (40, 23), (23, 23, 3)])
def test_frames_smaller_than_the_cascade_window(detector: FaceDetector, shape: tuple[int, ...]) -> None:
    assert detector.detect(np.zeros(shape, np.uint8)) == []


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_frames(detector: FaceDetector, value: int) -> None:
    for shape in [(480, 640), (480, 640, 3), (24, 24), (1080, 1920, 3)]:
        assert detector.detect(np.full(shape, value, np.uint8)) == []


def test_grey_bgra_and_float_input_match_bgr(sample_frames: list[np.ndarray]) -> None:
    import cv2

    frame = sample_frames[30]
    expected = FaceDetector().detect(frame)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    variants = [grey, grey[:, :, None], cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA), frame.astype(np.float32)]
    for variant in variants:
        assert FaceDetector().detect(variant) == expected


def test_unsupported_shape_is_a_clear_error(detector: FaceDetector) -> None:
    with pytest.raises(ValueError, match="expected"):
        detector.detect(np.zeros((48, 48, 2), np.uint8))


def test_many_faces_left_to_right(sample_frames: list[np.ndarray]) -> None:
    frame = sample_frames[30]
    mosaic = np.vstack([np.hstack([frame, frame]), np.hstack([frame, frame])])  # 1280x720, four faces
    faces = FaceDetector().detect(mosaic)
    assert len(faces) == 4
    assert [f.x for f in faces] == sorted(f.x for f in faces)
    width = frame.shape[1]
    assert sum(f.x < width for f in faces) == 2


def test_region_tracking_agrees_with_full_search(sample_frames: list[np.ndarray]) -> None:
    tracking, full = FaceDetector(), FaceDetector(full_detect_every=1)
    region_frames = 0
    for frame in sample_frames:
        tracked = tracking.detect(frame)
        region_frames += not tracking.last_was_full
        reference = full.detect(frame)
        assert len(tracked) == len(reference) == 1
        assert close(tracked[0], reference[0]), (tracked[0], reference[0])
    # frames between full searches used the region search (a lost face would force extra full searches)
    assert region_frames >= len(sample_frames) * (FULL_DETECT_EVERY - 1) // FULL_DETECT_EVERY - 1


def test_reset_and_new_frame_size_force_a_full_search(sample_frames: list[np.ndarray]) -> None:
    detector = FaceDetector()
    detector.detect(sample_frames[0])
    assert detector.last_was_full
    detector.detect(sample_frames[1])
    assert not detector.last_was_full
    detector.reset()
    detector.detect(sample_frames[2])
    assert detector.last_was_full
    detector.detect(np.ascontiguousarray(sample_frames[3][:, :600]))
    assert detector.last_was_full


def test_score_is_monotonic_in_0_1() -> None:
    scores = [level_weight_to_score(w) for w in (-1000.0, -3.0, 0.0, 2.5, 5.0, 10.0, 1000.0)]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores)
    assert scores[3] == pytest.approx(0.5)


def test_crop_face_is_clamped_to_the_frame() -> None:
    frame = np.arange(100 * 200, dtype=np.uint32).reshape(100, 200)
    inside = crop_face(frame, Detection(10, 20, 30, 40, 1.0))
    assert inside.shape == (40, 30)
    assert inside[0, 0] == frame[20, 10]
    grown = crop_face(frame, Detection(10, 20, 30, 40, 1.0), margin=0.5)  # 15 and 20 px more per side
    assert grown.shape == (80, 55)  # left edge clamped at 0
    assert crop_face(frame, Detection(190, 90, 30, 30, 1.0)).shape == (10, 10)
    assert crop_face(frame, Detection(250, 150, 30, 30, 1.0)).size > 0  # never empty
