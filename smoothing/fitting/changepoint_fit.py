"""Fitting the change-point smoother from labelled sequences: moments over their true segments, then the one
parameter moments cannot give (how much of an independent frame one frame is worth) by the best log-score."""

from __future__ import annotations

import numpy as np

from smoothing.base import NUM_CLASSES
from smoothing.fitting.changepoint import ChangePointSmoother, EmissionLaw, SegmentLaw, features

MIN_VARIANCE = 1e-3  # floor on fitted variances (log-probability units squared)
SHARE_GRID: tuple[float, ...] = (0.05, 0.08, 0.12, 0.2)
LOG_SCORE_FLOOR = 1e-4


def segments_of(sequences):
    """(emotion, face-frame features) of every true segment, in order."""
    for i in range(len(sequences)):
        probs, _, labels, segment = sequences.sequence(i)
        face = ~np.isnan(probs[:, 0])
        for k in np.unique(segment):
            members = segment == k
            yield int(labels[members][0]), features(probs[members & face])


def fit_segment_law(sequences) -> SegmentLaw:
    """Mean dwell of whole segments, jumps between consecutive segments, and each emotion's share of time."""
    durations = [[] for _ in range(NUM_CLASSES)]
    jumps = np.zeros((NUM_CLASSES, NUM_CLASSES))
    time_share = np.zeros(NUM_CLASSES)
    previous = None
    for i in range(len(sequences)):
        _, t, labels, segment = sequences.sequence(i)
        period = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
        ids = np.unique(segment)
        previous = None
        for k in ids:
            members = segment == k
            label = int(labels[members][0])
            length = float(t[members][-1] - t[members][0]) + period
            time_share[label] += length
            if k != ids[0] and k != ids[-1]:
                durations[label].append(length)
            if previous is not None:
                jumps[previous, label] += 1.0
            previous = label
    if any(len(d) == 0 for d in durations) or np.any(jumps.sum(axis=1) == 0):
        raise ValueError("every emotion needs whole segments and onward jumps to fit the change-point smoother")
    np.fill_diagonal(jumps, 0.0)
    mean_dwells = np.array([np.mean(d) for d in durations])
    return SegmentLaw(mean_dwells, jumps / jumps.sum(axis=1, keepdims=True), time_share / time_share.sum())


def fit_emission_law(sequences, information_share: float) -> EmissionLaw:
    """Class centres and spreads of per-segment mean features, and the pooled within-segment frame variance."""
    centres, labels, counts, residuals = [], [], [], []
    for label, x in segments_of(sequences):
        if len(x) < 2:
            continue
        centres.append(x.mean(axis=0))
        labels.append(label)
        counts.append(len(x))
        residuals.append(x - centres[-1])
    centres, labels, counts = np.array(centres), np.array(labels), np.array(counts)
    within = np.maximum(np.concatenate(residuals).var(axis=0), MIN_VARIANCE)
    centre = np.zeros((NUM_CLASSES, NUM_CLASSES))
    between = np.ones((NUM_CLASSES, NUM_CLASSES))
    for c in range(NUM_CLASSES):
        members = labels == c
        if members.sum() >= 2:
            centre[c] = centres[members].mean(axis=0)
            noise = within / (np.mean(counts[members]) * information_share)  # a face's own scatter in its mean
            between[c] = np.maximum(centres[members].var(axis=0) - noise, MIN_VARIANCE)
    return EmissionLaw(centre, between, within, float(information_share))


def log_score(sequences, emission: EmissionLaw, segments: SegmentLaw) -> tuple[float, float]:
    """Mean log-belief in the true emotion and accuracy over face frames, every frame arriving."""
    total = correct = frames = 0.0
    for i in range(len(sequences)):
        probs, t, labels, _ = sequences.sequence(i)
        smoother = ChangePointSmoother(emission=emission, segments=segments)
        for row, ti, label in zip(probs, t.tolist(), labels, strict=True):
            if np.isnan(row[0]):
                smoother.update(None, ti)
                continue
            belief = smoother.update(row, ti)
            total += float(np.log(max(belief[label], LOG_SCORE_FLOOR)))
            correct += float(belief.argmax() == label)
            frames += 1
    return total / max(frames, 1), correct / max(frames, 1)


def fit_changepoint(sequences, shares: tuple[float, ...] = SHARE_GRID) -> tuple[EmissionLaw, SegmentLaw, dict]:
    """The segment law, and the emission law whose information share gives the best log-score on `sequences`."""
    segments = fit_segment_law(sequences)
    table = {share: log_score(sequences, fit_emission_law(sequences, share), segments) for share in shares}
    best = max(table, key=lambda share: table[share][0])
    return fit_emission_law(sequences, best), segments, table
