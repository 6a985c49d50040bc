"""The display rules probed for issue 24: a margin and a dwell trade switches for lag."""

import numpy as np

from benchmarks.default_probes import with_dwell, with_margin


def beliefs(leads: list[float]) -> np.ndarray:
    """Two-label beliefs where label 1's belief is 0.5 + lead / 2."""
    second = 0.5 + np.array(leads) / 2
    return np.stack([1 - second, second], axis=1)


def test_a_margin_keeps_the_shown_label_until_another_leads_it_by_more():
    shown = with_margin(beliefs([-0.5, 0.1, 0.3, -0.1, -0.3]), margin=0.2)
    assert shown.tolist() == [0, 0, 1, 1, 0]  # a lead of 0.1 is not enough; 0.3 is, both ways


def test_a_dwell_shows_a_new_label_only_once_it_has_led_that_long():
    t = np.arange(6) * 0.125  # exact in binary, so the dwell is reached exactly
    shown = with_dwell(beliefs([-0.5, 0.2, -0.2, 0.2, 0.2, 0.2]), t, dwell_s=0.25)
    assert shown.tolist() == [0, 0, 0, 0, 0, 1]  # the first lead lasts one frame; the second is shown 0.25 s on
