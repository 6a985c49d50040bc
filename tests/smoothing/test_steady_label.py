"""Regression: a face that holds one expression (a woman crying: the raw label `sad` on 95% of frames) is shown as
that expression within a second by every learned smoother; the retired change-point smoother showed angry, then
disgust, for six seconds."""

from __future__ import annotations

import numpy as np
import pytest

import smoothing
from smoothing.fitting.synthetic import STEADY_SHARE, steady_stream
from smoothing.labels import CLASSES, NUM_CLASSES
from tests.smoothing import LEARNED

DURATION_S = 5.0
MAX_DELAY_S = 1.0


@pytest.mark.parametrize("name, options", LEARNED, ids=lambda v: v if isinstance(v, str) else "-".join(v.values()))
@pytest.mark.parametrize("fps", [15.0, 30.0])
@pytest.mark.parametrize("held", range(NUM_CLASSES), ids=CLASSES)
def test_a_steady_raw_label_is_shown_within_a_second(name: str, options: dict, fps: float, held: int) -> None:
    probs, t = steady_stream(held, DURATION_S, seed=held, fps=fps)
    smoother = smoothing.create(name, **options)
    shown = np.array([smoother.update(p, ti).argmax() for p, ti in zip(probs, t, strict=True)])
    settled = t >= MAX_DELAY_S
    assert shown[settled][0] == held
    assert np.mean(shown[settled] == held) >= STEADY_SHARE - 0.05
