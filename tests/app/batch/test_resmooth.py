"""Smoothing other tools' tables: each person keeps one track (by box overlap, or by face index without boxes), the
smoothed label flickers less than the raw one, a frame without a face gets its tracks predicted, and the command
line and the API give the same table, or one error line."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import app
from app.api import read_output
from app.batch.video import VideoJob, run_file
from app.errors import EXIT_USAGE
from app.output.csv_writer import PROB_COLUMNS, SMOOTHED_COLUMNS, SMOOTHED_PROB_COLUMNS
from tests.app.cli_runner import call_app
from tests.app.table_layouts import FPS, Person, fer_table, py_feat_table, unknown_tool_table
from tests.app.test_cli import assert_one_line_error
from tests.conftest import SAMPLE_CLIP

FRAMES = 60
LEFT_HAPPY = Person(x=100, emotion="happy", absent=(40, 41, 42))  # looks away for 3 frames
RIGHT_SAD = Person(x=420, emotion="sad")
NO_FACE_FRAMES = (20, 21, 22)  # py-feat found nobody there: its row of NaN
DEEPFACE_LIKE = {"angry": "Anger", "disgust": "Disgust", "fear": "Fear", "happy": "Joy", "sad": "Sadness",
                 "surprise": "Surprise"}  # fmt: skip


def switches(labels: pd.Series) -> int:
    return int((labels != labels.shift()).sum()) - 1


def assert_one_steady_track_per_person(smoothed: pd.DataFrame, emotions: dict[int, str]) -> None:
    """Every row of a person (told apart by where they sit, x) has one track of its own; after the first second
    its smoothed label is the person's emotion, and it switches less often than the raw label."""
    seen = smoothed[smoothed["observed"] == 1]
    tracks = {x_side: set(rows["track"]) for x_side, rows in seen.groupby(seen["x"] > 300)}
    assert all(len(ids) == 1 for ids in tracks.values()) and tracks[False] != tracks[True]
    for x_side, emotion in emotions.items():
        (track,) = tracks[bool(x_side)]
        rows = seen[seen["track"] == track]
        assert set(rows.loc[rows["t"] > 1.0, "smoothed_label"]) == {emotion}
        assert switches(rows["smoothed_label"]) < switches(rows["label"]) / 4
    np.testing.assert_allclose(smoothed[list(SMOOTHED_PROB_COLUMNS)].sum(axis=1), 1.0, atol=1e-4)


def test_a_py_feat_table_comes_back_smoothed_with_one_track_per_person() -> None:
    fex = py_feat_table((LEFT_HAPPY, RIGHT_SAD), FRAMES, empty=NO_FACE_FRAMES)
    smoothed = app.smooth(fex, smoother="hmm", fps=FPS)
    assert tuple(smoothed.columns) == SMOOTHED_COLUMNS
    assert_one_steady_track_per_person(smoothed, {False: "happy", True: "sad"})
    # the frames where py-feat found nobody: both tracks predicted; where the left person looked away: theirs
    assert smoothed.loc[smoothed["frame"].isin(NO_FACE_FRAMES), "observed"].tolist() == [0] * 6
    away = smoothed[smoothed["frame"].isin(LEFT_HAPPY.absent)]
    assert sorted(zip(away["x"] > 300, away["observed"], strict=True)) == [(False, 0)] * 3 + [(True, 1)] * 3
    assert smoothed["frame"].nunique() == FRAMES and smoothed["t"].max() == pytest.approx((FRAMES - 1) / FPS, abs=1e-4)


def test_a_fer_table_keeps_each_person_on_one_track_though_fer_numbers_faces_in_detection_order() -> None:
    smoothed = app.smooth(fer_table((LEFT_HAPPY, RIGHT_SAD), FRAMES), smoother="hmm", fps=FPS)
    assert_one_steady_track_per_person(smoothed, {False: "happy", True: "sad"})


def test_a_table_without_boxes_is_tracked_by_its_face_index_and_never_shows_a_class_it_lacks() -> None:
    table = unknown_tool_table((LEFT_HAPPY, RIGHT_SAD), FRAMES)
    smoothed = app.smooth(table, smoother="hmm", time="seconds", face="person", probs=DEEPFACE_LIKE)
    seen = smoothed[smoothed["observed"] == 1]
    assert smoothed[["x", "y", "w", "h"]].isna().all().all()  # no boxes to write
    assert set(seen.loc[seen["t"] > 1.0].groupby("track")["smoothed_label"].unique().map(tuple)) == {
        ("happy",),
        ("sad",),
    }
    assert "neutral" not in set(smoothed["smoothed_label"])


def test_offline_smoothing_gives_every_row_of_the_online_table_a_belief_of_its_own() -> None:
    fex = py_feat_table((LEFT_HAPPY, RIGHT_SAD), FRAMES, empty=NO_FACE_FRAMES)
    online = app.smooth(fex, smoother="hmm", fps=FPS)
    offline = app.smooth(fex, smoother="hmm", fps=FPS, offline=True)  # forward-backward
    keys = ["frame", "track", "observed"]
    pd.testing.assert_frame_equal(online[keys], offline[keys])
    np.testing.assert_allclose(offline[list(SMOOTHED_PROB_COLUMNS)].sum(axis=1), 1.0, atol=1e-4)
    assert not np.allclose(online[list(SMOOTHED_PROB_COLUMNS)], offline[list(SMOOTHED_PROB_COLUMNS)])


def test_re_smoothing_this_projects_csv_gives_what_the_video_command_gives(tmp_path: Path, weights_path: Path) -> None:
    """Another smoother without running the CNN again: a CSV's raw columns smoothed afterwards give its smoothed
    columns, up to the CSV's rounding of the probabilities to 5 decimals (which a probability of 1e-4 feels)."""
    video_csv = tmp_path / "hmm.csv"
    run_file(VideoJob(path=SAMPLE_CLIP, csv=video_csv, smoother="hmm"), str(weights_path), show_progress=False)
    again = app.smooth(video_csv, smoother="hmm")  # from its p_* columns; its s_* columns are not read
    expected = pd.read_csv(video_csv)
    assert list(again["smoothed_label"]) == list(expected["smoothed_label"])
    np.testing.assert_allclose(again[list(SMOOTHED_PROB_COLUMNS)], expected[list(SMOOTHED_PROB_COLUMNS)], atol=1e-3)


def test_a_table_separated_by_semicolons_or_tabs_reads_as_its_comma_separated_twin(tmp_path: Path) -> None:
    """Spreadsheets in much of Europe write semicolons and decimal commas; other tools write tabs."""
    table = fer_table((LEFT_HAPPY, RIGHT_SAD), FRAMES)
    comma = app.smooth(table, "hmm", fps=FPS)
    for name, options in {"excel.csv": {"sep": ";", "decimal": ","}, "tool.tsv": {"sep": "\t"}}.items():
        table.to_csv(tmp_path / name, index=False, **options)
        pd.testing.assert_frame_equal(app.smooth(tmp_path / name, "hmm", fps=FPS), comma)
    for name, options in {"excel.csv.gz": {"sep": ";", "decimal": ","}, "tool.tsv.bz2": {"sep": "\t"}}.items():
        table.to_csv(tmp_path / name, index=False, **options)  # compressed: the separator is read through it
        pd.testing.assert_frame_equal(app.smooth(tmp_path / name, "hmm", fps=FPS), comma)


def test_a_csv_with_a_column_name_twice_is_refused(tmp_path: Path) -> None:
    """pandas would rename the second to anger.1 and read the first; which one the tool meant is unknowable."""
    path = tmp_path / "fex.csv"
    path.write_text("frame,FaceRectX,FaceRectY,FaceRectWidth,FaceRectHeight,anger,anger\n0,1,2,3,4,0.5,0.5\n")
    with pytest.raises(app.AppError, match=r"has two columns named 'anger'$"):
        app.smooth(path, "hmm", fps=FPS)


def test_a_csv_with_dropped_frames_is_re_smoothed_as_the_run_that_dropped_them(
    tmp_path: Path, weights_path: Path
) -> None:
    """A dropped frame was never shown to a smoother; re-smoothing must not take it for a frame without a face (a
    recurrent net would take one more step there), and the table keeps saying which frames were dropped."""
    video_csv = tmp_path / "gru.csv"
    job = VideoJob(path=SAMPLE_CLIP, csv=video_csv, smoother="gru", drop=0.5, seed=3)
    run_file(job, str(weights_path), show_progress=False)
    expected = pd.read_csv(video_csv)
    again = app.smooth(video_csv, smoother="gru")
    assert list(again.columns) == [*SMOOTHED_COLUMNS, "dropped"]
    assert list(again["dropped"]) == list(expected["dropped"]) and expected["dropped"].sum() > 0
    assert list(again["smoothed_label"]) == list(expected["smoothed_label"])
    np.testing.assert_allclose(again[list(SMOOTHED_PROB_COLUMNS)], expected[list(SMOOTHED_PROB_COLUMNS)], atol=1e-3)


def test_a_dropped_frame_with_a_face_is_refused() -> None:
    columns = {"frame": [0, 1], "t": [0.0, 0.04], "face": [0, 0], "x": 10, "y": 10, "w": 50, "h": 50, "dropped": [0, 1]}
    table = pd.DataFrame(columns | {column: 1 / 7 for column in PROB_COLUMNS})
    with pytest.raises(app.AppError, match="row 1: a dropped frame with a face"):
        app.smooth(table, smoother="hmm")


def test_the_smooth_command_writes_the_smoothed_csv_and_says_what_it_read(tmp_path: Path) -> None:
    table, out = tmp_path / "fer.csv", tmp_path / "smoothed.csv"
    fer_table((LEFT_HAPPY, RIGHT_SAD), FRAMES).to_csv(table, index=False)
    result = call_app("smooth", table, "--smoother", "hmm", "--fps", FPS, "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "60 frames, 117 faces in 2 tracks (fer's Video.analyze CSV) smoothed with hmm into smoothed.csv\n"
    )
    (warning,) = result.stderr.splitlines()  # fer rounds to 2 decimals
    assert warning.startswith("warning: ") and "each was divided by its sum" in warning
    with out.open(newline="") as file:
        assert tuple(next(csv.reader(file))) == SMOOTHED_COLUMNS
    pd.testing.assert_frame_equal(read_output(out), app.smooth(table, "hmm", fps=FPS))  # the API's table is the CSV


def test_a_table_the_command_cannot_read_is_one_line_naming_the_column(tmp_path: Path) -> None:
    table = tmp_path / "fex.csv"
    py_feat_table((LEFT_HAPPY,), 5).drop(columns="FaceRectWidth").to_csv(table, index=False)
    result = call_app("smooth", table, "--smoother", "hmm", "--fps", FPS, "--out", tmp_path / "o.csv")
    assert_one_line_error(result, "has no column 'FaceRectWidth'")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--prob", "joy=Joy"), "'joy' is not a class"),
        (("--fps", "0"), "must be a number above 0"),
        (("--prob", "happy=Joy", "--prob", "happy=Smile"), "--prob names happy twice"),  # not the last one silently
    ],
    ids=["unknown-class", "zero-fps", "one-class-twice"],
)
def test_bad_options_are_refused_as_usage(tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    result = call_app("smooth", "t.csv", "--smoother", "hmm", "--out", "o.csv", *args, cwd=tmp_path)
    assert result.returncode == EXIT_USAGE and words in result.stderr
