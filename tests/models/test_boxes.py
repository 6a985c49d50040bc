"""Box overlap: one pair (the detector's duplicates) and every pair (the tracker's matching) give the same numbers."""

from __future__ import annotations

import numpy as np
import pytest

from models.boxes import iou, iou_matrix


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((0, 0, 10, 10), (0, 0, 10, 10), 1.0),  # the same box
        ((0, 0, 10, 10), (5, 0, 10, 10), 50 / 150),  # half overlapping
        ((0, 0, 10, 10), (10, 0, 10, 10), 0.0),  # touching edges share no area
        ((0, 0, 10, 10), (2, 2, 4, 4), 16 / 100),  # one inside the other
        ((0, 0, 0, 0), (0, 0, 0, 0), 0.0),  # empty boxes: no union, no overlap
    ],
)
def test_iou_of_known_pairs(a: tuple, b: tuple, expected: float) -> None:
    assert iou(a, b) == pytest.approx(expected)
    assert iou_matrix([a], [b])[0, 0] == pytest.approx(expected)


def test_one_pair_and_every_pair_agree_exactly() -> None:
    rng = np.random.default_rng(7)
    boxes = [tuple(int(v) for v in row) for row in rng.integers(1, 200, (40, 4))]
    matrix = iou_matrix(boxes, boxes)
    assert all(iou(a, b) == matrix[i, j] for i, a in enumerate(boxes) for j, b in enumerate(boxes))
