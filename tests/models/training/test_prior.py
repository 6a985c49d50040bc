"""The class prior of video: 7 numbers fitted on labelled frames, reported leave-one-source-out."""

from __future__ import annotations

import numpy as np

from models.training.prior import fit_prior, leave_one_source_out
from models.training.real_crops import RealCrops


def biased_logits(shift: np.ndarray, n: int = 1400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A classifier that reads each class right on average but adds a fixed wrong prior (`shift`)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 7
    return 2.0 * np.eye(7)[labels] + rng.normal(0, 1.0, (n, 7)) + shift, labels


def test_the_fitted_prior_undoes_a_classifier_s_wrong_prior():
    shift = np.array([0, 0, 0, 0, 0, 1.5, -0.5])  # over-calls surprise, under-calls neutral
    logits, labels = biased_logits(shift)
    bias = fit_prior(logits, labels)
    np.testing.assert_allclose(bias, -(shift - shift.mean()), atol=0.25)
    assert bias.sum() == np.float64(0.0) or abs(bias.sum()) < 1e-9


def test_leave_one_source_out_scores_each_source_with_a_prior_fitted_without_it():
    shift = np.array([0, 0, 0, 0, 0, 1.5, -0.5])
    clips, logits = [], []
    for seed, source in enumerate(("A", "B", "C")):
        z, labels = biased_logits(shift, 700, seed)
        clips.append(RealCrops(source, "acted", source, np.zeros((700, 48, 48), np.uint8), np.ones(700, bool), labels))
        logits.append(z)
    report = leave_one_source_out(clips, logits)
    assert set(report) == {"A", "B", "C", "pooled"}
    unshifted = np.mean([(z.argmax(1) == c.labels).mean() for c, z in zip(clips, logits, strict=True)])
    assert report["pooled"] > unshifted


def test_a_prior_is_kept_only_where_it_reads_each_unseen_source_better_than_none():
    from models.training.prior import generalises

    assert generalises({"leave_one_source_out": {"pooled": 0.763}, "without": {"all labelled": 0.760}})
    assert not generalises({"leave_one_source_out": {"pooled": 0.682}, "without": {"all labelled": 0.748}})
