"""The Python API: analyze() is the `video` command's CSV as a DataFrame; stream() yields tracked faces per frame."""

from __future__ import annotations

import shutil
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import app
from app.batch.video import VideoJob, run_file
from app.output.csv_writer import COLUMNS, SMOOTHED_COLUMNS
from tests.conftest import SAMPLE_CLIP, SHORT_CLIP_FRAMES, hide_face, write_clip

HIDDEN = range(5, 8)


def test_analyze_returns_exactly_the_table_the_video_command_writes(
    tmp_path: Path, weights_path: Path, short_clip: Path
) -> None:
    table = app.analyze(short_clip, smoother="hmm", weights=str(weights_path))
    csv = tmp_path / "s.csv"
    run_file(VideoJob(path=short_clip, csv=csv, smoother="hmm"), str(weights_path), show_progress=False)
    assert tuple(table.columns) == SMOOTHED_COLUMNS
    assert len(table) == SHORT_CLIP_FRAMES
    assert table["frame"].dtype == "Int64" and table["label"].dtype == object
    np.testing.assert_array_equal(table.to_numpy(dtype=str), pd.read_csv(csv).astype(table.dtypes).to_numpy(dtype=str))


def test_analyze_a_folder_indexes_each_video_by_name(tmp_path: Path, weights_path: Path, short_clip: Path) -> None:
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(short_clip, tmp_path / name)
    table = app.analyze(tmp_path, weights=str(weights_path))
    assert tuple(table.columns) == COLUMNS
    assert list(table.index.get_level_values("video").unique()) == ["a.mp4", "b.mp4"]
    assert len(table.loc["a.mp4"]) == len(table.loc["b.mp4"]) == SHORT_CLIP_FRAMES


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda folder: app.analyze(folder / "absent.mp4"), "no such file"),
        (lambda folder: app.analyze(folder), "no videos"),
        (lambda folder: app.analyze(SAMPLE_CLIP, smoother="kalman"), "unknown smoother 'kalman'"),
        (lambda folder: next(app.stream(folder / "absent.mp4")), "no such file"),
    ],
)
def test_failures_raise_the_one_line_error_the_command_prints(tmp_path: Path, call, words: str) -> None:
    with pytest.raises(app.AppError, match=words) as raised:
        call(tmp_path)
    assert "\n" not in str(raised.value)


def test_stream_yields_every_frame_with_its_tracked_faces(weights_path: Path, short_clip: Path) -> None:
    frames = list(app.stream(short_clip, smoother="ema", weights=str(weights_path)))
    assert [f.index for f in frames] == list(range(SHORT_CLIP_FRAMES))
    assert all(later.t > earlier.t for earlier, later in pairwise(frames))
    for streamed in frames:
        (face,) = streamed.faces
        assert face.track == 0 and face.belief.sum() == pytest.approx(1.0)
        assert streamed.frame.shape == (360, 640, 3)


def test_stream_gives_a_hidden_face_s_track_predicted(
    tmp_path: Path, weights_path: Path, sample_frames: list[np.ndarray]
) -> None:
    shown = [
        hide_face(frame) if index in HIDDEN else frame for index, frame in enumerate(sample_frames[: HIDDEN.stop + 3])
    ]
    clip = write_clip(tmp_path / "hidden.mp4", shown)
    frames = list(app.stream(clip, smoother="hmm", weights=str(weights_path)))
    for streamed in frames:
        seen = [face.track for face in streamed.faces]
        predicted = [(face.track, face.probs, face.belief.sum()) for face in streamed.predicted]
        if streamed.index in HIDDEN:
            assert seen == [] and predicted == [(0, None, pytest.approx(1.0))]
        else:
            assert seen == [0] and predicted == []
