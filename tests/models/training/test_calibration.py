"""Temperature scaling recovers a known miscalibration and ECE measures it."""

from __future__ import annotations

import numpy as np

from models.training.calibration import expected_calibration_error, fit_temperature, negative_log_likelihood, softmax


def sample_calibrated(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose softmax is the true label distribution, with labels drawn from it."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 2.0, (count, 7))
    probs = softmax(logits)
    labels = np.array([rng.choice(7, p=p) for p in probs])
    return logits, labels


def test_fit_temperature_undoes_overconfidence():
    logits, labels = sample_calibrated(6000)
    true_temperature = 2.5
    assert abs(fit_temperature(logits * true_temperature, labels) - true_temperature) < 0.25


def test_calibrated_probabilities_have_small_ece_and_overconfident_ones_do_not():
    logits, labels = sample_calibrated(6000, seed=1)
    assert expected_calibration_error(softmax(logits), labels) < 0.03
    assert expected_calibration_error(softmax(logits * 3), labels) > 0.1


def test_scaling_lowers_nll():
    logits, labels = sample_calibrated(3000, seed=2)
    overconfident = logits * 3
    temperature = fit_temperature(overconfident, labels)
    assert negative_log_likelihood(softmax(overconfident, temperature), labels) < negative_log_likelihood(
        softmax(overconfident), labels
    )


def test_a_temperature_fits_to_vote_distributions_as_to_labels():
    logits, labels = sample_calibrated(3000)
    logits *= 2.5  # overconfident
    one_hot = np.eye(7)[labels]
    from_indices = fit_temperature(logits, labels)
    assert abs(fit_temperature(logits, one_hot) - from_indices) < 1e-6
    split_votes = (one_hot + 1.0 / 7) / 2  # half of each crowd unsure
    assert fit_temperature(logits, split_votes) > from_indices  # less certain targets: softer probabilities
