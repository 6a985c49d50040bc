"""The YuNet face detector: real faces and non-faces, tilted and small faces, landmarks, odd frames, a bad model
file, and region tracking that agrees with full search."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from models.face_detector import FULL_DETECT_EVERY, Detection, DetectorError, FaceDetector
from tests.conftest import read_frames

SAMPLE_INDICES = (0, 15, 30, 45, 60, 71)  # neutral at the start, smiling from about frame 30
# The sample face is about 150 px wide at 640x360; region and full searches see it at different scales.
BOX_TOLERANCE = 0.08  # of the face size
TILTS_DEG = (-45, -30, -15, 15, 30, 45)  # a head tilted this far still has to be found (issue: faces that turn)


def close(a: Detection, b: Detection, tolerance: float = BOX_TOLERANCE) -> bool:
    limit = tolerance * max(a.w, a.h, b.w, b.h)
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


@pytest.mark.parametrize("shape", [(1, 1), (10, 10), (23, 40), (40, 23), (23, 23, 3)])
def test_tiny_frames_have_no_face(detector: FaceDetector, shape: tuple[int, ...]) -> None:
    assert detector.detect(np.zeros(shape, np.uint8)) == []


def rotated(frame: np.ndarray, degrees: float) -> np.ndarray:
    height, width = frame.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(frame, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("degrees", TILTS_DEG)
def test_tilted_faces_are_found(sample_frames: list[np.ndarray], degrees: int) -> None:
    detector = FaceDetector()
    for frame in sample_frames[::12]:
        (face,) = detector.detect(rotated(frame, degrees))
        assert face.score >= 0.6


@pytest.mark.parametrize("shrink", [2, 3, 4])
def test_small_faces_are_found(sample_frames: list[np.ndarray], shrink: int) -> None:
    frame = sample_frames[30]
    small = cv2.resize(frame, None, fx=1 / shrink, fy=1 / shrink, interpolation=cv2.INTER_AREA)
    canvas = np.full_like(frame, 90)
    canvas[: small.shape[0], : small.shape[1]] = small  # a face 1/shrink the size, in a frame of the same size
    (face,) = FaceDetector().detect(canvas)
    assert face.w < frame.shape[1] / shrink


WIDE_FRAME = (720, 1280)  # (height, width): a 720p camera or video
SMALL_FACE_SHARE = 0.05  # of the frame's width: 64 px here, 16 px in the 256 px full search, under YuNet's reach


def small_face_in_a_wide_frame(sample_frames: list[np.ndarray]) -> np.ndarray:
    face = sample_frames[30][60:330, 190:420]  # the sample's face, tight
    side = round(WIDE_FRAME[1] * SMALL_FACE_SHARE)
    small = cv2.resize(face, (side, round(side * face.shape[0] / face.shape[1])), interpolation=cv2.INTER_AREA)
    canvas = np.full((*WIDE_FRAME, 3), 120, np.uint8)
    canvas[300 : 300 + small.shape[0], 400 : 400 + side] = small
    return canvas


def test_a_face_a_twentieth_of_the_frame_wide_is_found_by_a_second_look_and_kept(sample_frames) -> None:
    frame = small_face_in_a_wide_frame(sample_frames)
    assert FaceDetector(small_face_width=0).detect(frame) == []  # the 256 px search alone misses it
    detector = FaceDetector()
    frames = 3 * FULL_DETECT_EVERY
    assert all(len(detector.detect(frame)) == 1 for _ in range(frames))  # kept through the periodic full searches
    assert 1 <= detector.small_face_searches <= 1 + frames // FULL_DETECT_EVERY


def test_large_faces_never_cost_a_second_look(sample_frames: list[np.ndarray]) -> None:
    detector = FaceDetector()
    for frame in sample_frames[:30]:
        assert len(detector.detect(frame)) == 1
    assert detector.small_face_searches == 0


def test_a_faceless_stream_looks_for_small_faces_once_every_full_search_period(shared_media) -> None:
    """It finds nothing in the no-face clip either, looked at closely (a fresh detector looks on its first frame)."""
    frames = read_frames(shared_media / "no_face.mp4", every=10)
    for frame in frames:
        assert FaceDetector().detect(frame) == []
    detector = FaceDetector()
    for _ in range(3 * FULL_DETECT_EVERY):
        assert detector.detect(frames[0]) == []
    assert detector.small_face_searches == 3


def test_landmarks_lie_inside_the_box_in_anatomical_order(sample_frames: list[np.ndarray]) -> None:
    detector = FaceDetector()
    for frame in sample_frames[::8]:
        (face,) = detector.detect(frame)
        points = np.array(face.landmarks)
        assert points.shape == (5, 2)
        assert np.all((points[:, 0] >= face.x) & (points[:, 0] <= face.x + face.w))
        assert np.all((points[:, 1] >= face.y) & (points[:, 1] <= face.y + face.h))
        right_eye, left_eye, nose, right_mouth, left_mouth = points
        assert right_eye[0] < nose[0] < left_eye[0]  # the subject's right eye is on the image's left
        assert max(right_eye[1], left_eye[1]) < nose[1] < min(right_mouth[1], left_mouth[1])


def test_a_missing_or_corrupt_model_file_is_a_one_line_error(tmp_path) -> None:
    with pytest.raises(DetectorError, match="not found: .*yunet.onnx"):
        FaceDetector(model_file=tmp_path / "yunet.onnx")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"not a model")
    with pytest.raises(DetectorError, match="cannot load .*corrupt.onnx") as error:
        FaceDetector(model_file=corrupt)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_frames(detector: FaceDetector, value: int) -> None:
    for shape in [(480, 640), (480, 640, 3), (24, 24), (1080, 1920, 3)]:
        assert detector.detect(np.full(shape, value, np.uint8)) == []


def test_grey_bgra_and_float_input_match_bgr(sample_frames: list[np.ndarray]) -> None:
    frame = sample_frames[30]
    expected = FaceDetector().detect(frame)
    assert FaceDetector().detect(cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA)) == expected
    assert FaceDetector().detect(frame.astype(np.float32)) == expected
    assert FaceDetector().detect(frame / 255.0) == expected  # floats in [0, 1], as scikit-image reads images
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    (from_grey,) = FaceDetector().detect(grey)  # YuNet reads colour: grey finds the same face, not the same floats
    assert FaceDetector().detect(grey[:, :, None]) == [from_grey]
    assert close(from_grey, expected[0])


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


def test_several_faces_tracked_in_one_mosaic_search_keep_their_own_boxes(sample_frames: list[np.ndarray]) -> None:
    """Three faces: their regions share one YuNet pass (a 2x2 mosaic with one tile empty); each face must come back
    at its own place in the frame, not at a neighbour's or at its tile's place in the mosaic."""
    tracking, full = FaceDetector(), FaceDetector(full_detect_every=1)
    region_frames = 0
    for frame in sample_frames[::3]:
        small = cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2))
        three = np.hstack([small, np.zeros_like(small), small, small])
        tracked, reference = tracking.detect(three), full.detect(three)
        region_frames += not tracking.last_was_full
        assert len(tracked) == len(reference) == 3
        assert all(close(a, b, 2 * BOX_TOLERANCE) for a, b in zip(tracked, reference, strict=True))
    assert region_frames > 0


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


def test_scores_are_confidences_in_0_1(sample_frames: list[np.ndarray]) -> None:
    (face,) = FaceDetector().detect(sample_frames[0])
    assert 0.6 <= face.score <= 1.0


def test_rows_that_describe_no_face_in_the_image_are_dropped() -> None:
    from models.face_detector import _plausible

    face = [100, 80, 60, 70, 120, 105, 140, 105, 130, 120, 122, 135, 138, 135, 0.9]  # box, 5 landmarks, score
    infinite = [np.inf] * 14 + [0.7]  # what a blank white frame gave
    huge = [1e8, 3e8, 2e6, 1e6, *([-4e8, 6e8] * 5), 1.0]  # what a 23 px wide frame now and then gave
    far_landmarks = [100, 80, 60, 70, *([9e5, 9e5] * 5), 0.9]
    rows = np.array([face, infinite, huge, far_landmarks], dtype=np.float32)
    assert _plausible(rows, (480, 640, 3)).tolist() == [True, False, False, False]
