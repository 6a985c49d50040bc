"""The aligner: landmarks go to FER2013's template positions whatever the face's position, size and tilt; crops are
48x48 grey, averaged (not aliased) when a large face is shrunk; boxes without landmarks are still cropped."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from models.align import FACE_CENTRE, FER_TEMPLATE, ZOOM, align_face, alignment_matrix, similarity, template
from models.face_detector import Detection, FaceDetector
from models.labels import FACE_SIZE


def moved(points: np.ndarray, degrees: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    """The points rotated, scaled and shifted: where a face's landmarks would be in some frame."""
    angle = np.radians(degrees)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return scale * points @ rotation.T + np.array(shift)


def detection_with(landmarks: np.ndarray) -> Detection:
    x0, y0 = landmarks.min(axis=0) - 20
    x1, y1 = landmarks.max(axis=0) + 20
    return Detection(int(x0), int(y0), int(x1 - x0), int(y1 - y0), 0.9, tuple(map(tuple, landmarks)))


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


@pytest.mark.parametrize(("degrees", "scale", "shift"), [(0, 4.0, (300, 200)), (30, 2.5, (50, 400)), (-45, 6, (0, 0))])
def test_the_landmarks_land_on_the_template(degrees: float, scale: float, shift: tuple[float, float]) -> None:
    landmarks = moved(FER_TEMPLATE, degrees, scale, shift)
    matrix = alignment_matrix(detection_with(landmarks))
    np.testing.assert_allclose(apply(matrix, landmarks), template(ZOOM), atol=1e-9)


def test_similarity_keeps_proportions_when_the_points_do_not_fit_exactly() -> None:
    rng = np.random.default_rng(0)
    source = moved(FER_TEMPLATE, 12, 3.0, (100, 80)) + rng.normal(0, 2.0, FER_TEMPLATE.shape)  # noisy landmarks
    linear = similarity(source, FER_TEMPLATE)[:, :2]
    np.testing.assert_allclose(linear @ linear.T, np.eye(2) * np.linalg.det(linear), atol=1e-9)  # no shear
    assert np.sqrt(np.linalg.det(linear)) == pytest.approx(1 / 3.0, rel=0.05)


def test_coinciding_landmarks_are_an_error() -> None:
    with pytest.raises(ValueError, match="coincide"):
        similarity(np.zeros((5, 2)), FER_TEMPLATE)


def test_zoom_draws_the_face_larger_about_the_centre() -> None:
    eyes = template(1.2)[:2]
    assert eyes[1, 0] - eyes[0, 0] == pytest.approx(1.2 * (FER_TEMPLATE[1, 0] - FER_TEMPLATE[0, 0]))
    np.testing.assert_allclose(
        template(1.2).mean(axis=0) - FACE_CENTRE, 1.2 * (FER_TEMPLATE.mean(axis=0) - FACE_CENTRE)
    )


def test_a_tilted_face_comes_out_upright() -> None:
    """A frame whose dots sit at tilted landmark positions gives a crop with the dots at the template positions."""
    landmarks = moved(FER_TEMPLATE, 35, 5.0, (320, 120))
    frame = np.zeros((480, 640, 3), np.uint8)
    for x, y in landmarks:
        cv2.circle(frame, (round(x), round(y)), 6, (255, 255, 255), -1)
    crop = align_face(frame, detection_with(landmarks))
    assert crop.shape == (FACE_SIZE, FACE_SIZE) and crop.dtype == np.uint8
    for x, y in template(ZOOM):
        assert crop[round(y), round(x)] > 200  # each dot lands where the template puts its landmark


def test_a_large_face_is_averaged_not_aliased() -> None:
    stripes = np.zeros((960, 960), np.uint8)
    stripes[:, ::2] = 255  # one-pixel stripes: any crop pixel covers many of them
    box = Detection(0, 0, 960, 960, 0.9)  # no landmarks: the box is the crop
    crop = align_face(stripes, box)
    assert crop.shape == (FACE_SIZE, FACE_SIZE)
    assert 100 < crop.mean() < 155 and crop.std() < 20  # grey, not a moire of black and white


def test_the_sample_face_is_cropped_with_its_eyes_at_the_template_height(sample_frames: list[np.ndarray]) -> None:
    (face,) = FaceDetector().detect(sample_frames[0])
    matrix = alignment_matrix(face)
    eyes = apply(matrix, np.array(face.landmarks[:2]))
    np.testing.assert_allclose(eyes[:, 1], template(ZOOM)[:2, 1], atol=1.5)  # within 1.5 px of 48
