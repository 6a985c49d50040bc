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
from tests.app.table_layouts import Person, py_feat_table, unknown_tool_table
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


def test_analyze_takes_numpy_numbers_as_python_ones(weights_path: Path, short_clip: Path) -> None:
    """A drop share or seed taken from a numpy array or a sweep's grid reads as the Python number it holds."""
    options = {"smoother": "hmm", "weights": str(weights_path)}
    numpy_table = app.analyze(short_clip, drop=np.float32(0.5), seed=np.int64(3), **options)
    pd.testing.assert_frame_equal(numpy_table, app.analyze(short_clip, drop=0.5, seed=3, **options))
    assert numpy_table["dropped"].sum() > 0


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
        (lambda folder: app.stream(folder / "absent.mp4"), "no such file"),  # at the call, before any frame
        (lambda folder: app.stream(SAMPLE_CLIP, weights=folder / "absent.pt"), "absent.pt"),
    ],
)
def test_failures_raise_the_one_line_error_the_command_prints(tmp_path: Path, call, words: str) -> None:
    with pytest.raises(app.AppError, match=words) as raised:
        call(tmp_path)
    assert "\n" not in str(raised.value)


def fex() -> pd.DataFrame:
    """A small py-feat table: two people over a second."""
    return py_feat_table((Person(x=100, emotion="happy"), Person(x=420, emotion="sad")), 30)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: app.smooth(123, "hmm"), "table must be a pandas DataFrame or a CSV file's path (str or Path), got"),
        (lambda: app.smooth(np.zeros((64, 64)), "hmm"), "got a ndarray"),
        (lambda: app.smooth(fex(), None), "smoother must be a smoother's name"),
        (lambda: app.smooth(fex().iloc[:0], "hmm"), "the table has no rows"),
        (lambda: app.smooth(fex().assign(extra=1).rename(columns={"extra": "anger"}), "hmm"), "two columns named"),
        (lambda: app.smooth(fex(), "hmm", probs={"joy": "happiness"}), "'joy' is not a class"),
        (lambda: app.smooth(fex(), "hmm", probs=["happiness"]), "probs maps classes to column names"),
        (lambda: app.smooth(fex(), "hmm", fps="30"), "fps must be a number above 0, got '30'"),
        (lambda: app.smooth(fex(), "hmm", fps=float("inf")), "fps must be a number above 0, got inf"),
        (lambda: app.smooth(fex(), "hmm", fps=30, offline="yes"), "offline must be True or False"),
        (lambda: app.analyze(SAMPLE_CLIP, drop="0.5"), "drop must be a share of frames"),
        (lambda: app.analyze(SAMPLE_CLIP, drop=0.2, seed=-1), "seed must be a whole number, 0 or more"),
        (lambda: app.analyze(SAMPLE_CLIP, offline="yes"), "offline must be True or False"),
        (lambda: app.analyze(SAMPLE_CLIP, offline=True), "offline needs a smoother: analyze(path, smoother=NAME"),
        (lambda: app.stream(True), "source must be a video file's path, a camera's index"),
        (lambda: app.analyze(SAMPLE_CLIP, weights=5), "weights must be a checkpoint's path (str or Path), got int"),
    ],
)
def test_a_wrong_argument_is_one_clear_error_before_any_work(call, words: str) -> None:
    with pytest.raises(app.AppError) as raised:
        call()
    assert words in str(raised.value) and "\n" not in str(raised.value)


def test_a_pandas_time_column_is_read_as_seconds_and_dates_are_refused() -> None:
    """Timedeltas are how pandas users keep times: the same smoothing as the seconds they stand for."""
    seconds = unknown_tool_table((Person(x=100, emotion="happy"),), 30)
    columns = {"time": "seconds", "face": "person", "probs": {"happy": "Joy", "sad": "Sadness", "angry": "Anger"}}
    as_timedelta = seconds.assign(seconds=pd.to_timedelta(seconds["seconds"], unit="s"))
    pd.testing.assert_frame_equal(app.smooth(as_timedelta, "hmm", **columns), app.smooth(seconds, "hmm", **columns))
    dated = seconds.assign(seconds=pd.Timestamp("2026-12-05") + as_timedelta["seconds"])
    with pytest.raises(app.AppError, match="seconds holds dates and times of day"):
        app.smooth(dated, "hmm", **columns)


def test_analyze_on_a_folder_of_videos_and_images_says_the_images_are_left_out(
    tmp_path: Path, weights_path: Path, short_clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The timeline a folder run wrote beside a video (a_timeline.png) is that run's output, not a photo left out."""
    shutil.copy(short_clip, tmp_path / "a.mp4")
    (tmp_path / "photo.png").write_bytes(b"not looked at")
    (tmp_path / "a_timeline.png").write_bytes(b"an earlier folder run's timeline")
    table = app.analyze(tmp_path, weights=str(weights_path))
    assert list(table.index.get_level_values("video").unique()) == ["a.mp4"]
    assert "warning: 1 image in " in capsys.readouterr().err


def test_stream_of_a_missing_camera_says_what_to_pass_instead() -> None:
    from app.engine.sources import camera_may_exist

    if camera_may_exist(0):
        pytest.skip("this machine has a camera 0")
    with pytest.raises(app.AppError, match=r"^no camera 0 found; pass a video file's path or a stream URL instead$"):
        app.stream(0)


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
