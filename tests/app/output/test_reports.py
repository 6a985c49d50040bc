"""The per-track JSON summary and the timeline PNG: time-weighted shares, switch rates, one panel per face."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.batch.video import report_file
from app.engine.results import FaceResult
from app.errors import AppError
from app.output.summary import frame_durations, summarize_tracks, write_summary
from app.output.timeline import check_timeline_path, write_timeline
from models.face_detector import Detection
from smoothing.labels import CLASSES

HAPPY, SAD, NEUTRAL = (CLASSES.index(name) for name in ("happy", "sad", "neutral"))


def seen(track: int, raw: int, smoothed: int | None = None) -> FaceResult:
    probs = np.full(7, 0.01)
    probs[raw] = 0.94
    belief = None
    if smoothed is not None:
        belief = np.full(7, 0.05)
        belief[smoothed] = 0.7
    return FaceResult(Detection(0, 0, 50, 50, 0.9), probs, track, belief)


def test_frame_durations_follow_a_variable_frame_rate() -> None:
    np.testing.assert_allclose(frame_durations(np.array([0.0, 0.1, 0.15, 0.45])), [0.1, 0.05, 0.3, 0.1])


def test_shares_are_by_time_not_frames_and_switches_are_per_minute() -> None:
    times = [0.0, 0.5, 1.0, 3.0, 3.5, 4.0]  # one sad frame that lasts 2 s among five happy ones of 0.5 s
    labels = [HAPPY, HAPPY, SAD, HAPPY, HAPPY, HAPPY]
    (summary,) = summarize_tracks(times, [[seen(0, label)] for label in labels])
    assert summary.seconds == pytest.approx(4.5)  # the last frame lasts the median period, 0.5 s
    assert summary.share["sad"] == pytest.approx(2 / 4.5, abs=1e-4)  # by frame count it would be 1/6
    assert summary.dominant == "happy"
    assert summary.switches == 2 and summary.switches_per_minute == pytest.approx(2 / 4.5 * 60, abs=1e-3)


def test_a_tracks_last_sighting_does_not_count_the_pause_after_it() -> None:
    """A recording paused for 10 s after a face's last frame: that frame lasts one period, not the pause, so the
    face's seconds, shares and switching are those of the 1.2 s it was seen."""
    times = [0.1 * i for i in range(13)] + [11.2, 11.3]
    tracked = [[seen(0, NEUTRAL)]] * 12 + [[seen(0, HAPPY)]] + [[seen(1, SAD)]] * 2  # track 0 ends on happy
    first, second = summarize_tracks(times, tracked)
    assert first.seconds == pytest.approx(1.3)  # 13 frames of 0.1 s, the last one too
    assert first.dominant == "neutral" and first.share["happy"] == pytest.approx(0.1 / 1.3, abs=1e-4)
    assert second.seconds == pytest.approx(0.2)


def test_smoothed_labels_count_when_smoothing_and_tracks_are_apart() -> None:
    times = [0.0, 0.1, 0.2]
    tracked = [[seen(0, HAPPY, NEUTRAL), seen(1, SAD)], [seen(0, SAD, NEUTRAL)], [seen(0, HAPPY, NEUTRAL)]]
    first, second = summarize_tracks(times, tracked)
    assert (first.track, first.dominant, first.switches, first.frames) == (0, "neutral", 0, 3)
    assert (second.track, second.dominant, second.frames) == (1, "sad", 1)


def test_summary_file_names_video_smoother_and_tracks(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    write_summary(path, Path("clip.mp4"), "hmm", summarize_tracks([0.0, 0.1], [[seen(3, HAPPY, HAPPY)], []]))
    document = json.loads(path.read_text())
    assert (document["video"], document["smoother"], document["labels"]) == ("clip.mp4", "hmm", "smoothed")
    assert document["counted_rows"] == "observed"  # says that predicted rows are not counted
    assert [track["track"] for track in document["tracks"]] == [3]
    assert sum(document["tracks"][0]["share"].values()) == pytest.approx(1.0)


def test_timeline_has_one_panel_per_track(tmp_path: Path) -> None:
    times = list(np.arange(30) / 30)
    one = [[seen(0, HAPPY, HAPPY)] for _ in times]
    two = [[seen(0, HAPPY, HAPPY), seen(1, SAD, SAD)] for _ in times]
    write_timeline(tmp_path / "one.png", times, one)
    write_timeline(tmp_path / "two.png", times, two)
    write_timeline(tmp_path / "none.png", times, [[] for _ in times])
    heights = [cv2.imread(str(tmp_path / f"{name}.png")).shape[0] for name in ("one", "two", "none")]
    assert heights[1] > heights[0] == heights[2]


@pytest.mark.parametrize("name", ["timeline.txt", "timeline"])
def test_a_timeline_name_matplotlib_cannot_write_is_refused_before_any_work(tmp_path: Path, name: str) -> None:
    with pytest.raises(AppError, match="its name must end in one of .*\\.png"):
        check_timeline_path(tmp_path / name)
    check_timeline_path(tmp_path / "timeline.PDF")  # any format matplotlib writes, in either case


def test_a_report_that_fails_to_write_leaves_no_stump_and_names_its_file(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    full = pytest.raises(AppError, match=r"^cannot write .*summary.json: No space left on device$")
    with full, report_file(path):
        path.write_text("{")  # a first part landed, then the disk filled
        raise OSError(errno.ENOSPC, "No space left on device")
    assert not path.exists()
