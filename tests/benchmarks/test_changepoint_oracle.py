"""The change-point oracle: the change-point smoother with the generator's own laws."""

from __future__ import annotations

import numpy as np

from benchmarks.changepoint_oracle import filter_sequence, oracle_emission_law, true_segment_law
from smoothing.base import NUM_CLASSES
from smoothing.fitting.sequences import MEAN_DWELL_S, occupancy
from smoothing.fitting.synthetic import synthetic_sequences


def test_the_oracle_uses_the_generators_dwells_and_occupancy() -> None:
    law = true_segment_law()
    assert law.mean_dwells.tolist() == list(MEAN_DWELL_S.values())
    np.testing.assert_allclose(law.prior, occupancy())


def test_the_oracle_scores_well_on_the_data_its_law_came_from() -> None:
    sequences = synthetic_sequences(count=4, duration_s=30.0, seed=3)
    law = oracle_emission_law(sequences)
    correct = frames = 0
    for i in range(len(sequences)):
        probs, t, labels, _ = sequences.sequence(i)
        face = ~np.isnan(probs[:, 0])
        correct += int(np.sum(filter_sequence(probs, t, law)[face].argmax(axis=1) == labels[face]))
        frames += int(face.sum())
    assert correct / frames > 2 / NUM_CLASSES
