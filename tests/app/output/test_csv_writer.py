"""The CSV schema and rows: exact columns, one row per face, one empty row for a frame without faces."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from app.engine.results import FaceResult, FrameResult
from app.errors import AppError
from app.output.csv_writer import COLUMNS, PROB_COLUMNS, SMOOTHED_COLUMNS, CsvWriter, frame_rows
from models.face_detector import Detection

HEADER = "frame,t,face,x,y,w,h,p_angry,p_disgust,p_fear,p_happy,p_sad,p_surprise,p_neutral,label"


def _face(x: int, winner: int) -> FaceResult:
    probs = np.full(7, 0.05, np.float32)
    probs[winner] = 0.7
    return FaceResult(Detection(x, 20, 100, 100, 0.9), probs)


def test_columns_are_exactly_the_documented_ones() -> None:
    assert ",".join(COLUMNS) == HEADER


def test_frame_without_faces_is_one_row_with_only_frame_and_t() -> None:
    rows = frame_rows(FrameResult(7, 0.2333333, []))
    assert rows == [{"frame": "7", "t": "0.2333"}]


def test_one_row_per_face_numbered_in_order() -> None:
    rows = frame_rows(FrameResult(3, 0.1, [_face(10, 3), _face(300, 6)]))
    assert [r["face"] for r in rows] == ["0", "1"]
    assert [r["label"] for r in rows] == ["happy", "neutral"]
    assert rows[0]["p_happy"] == "0.70000" and rows[0]["p_angry"] == "0.05000"
    assert rows[1]["x"] == "300" and rows[1]["w"] == "100"
    assert all(set(r) == set(COLUMNS) for r in rows)


def test_writer_flushes_every_frame_and_leaves_missing_fields_empty(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with CsvWriter(path) as writer:
        writer.write_frame(FrameResult(0, 0.0, [_face(10, 3)]))
        writer.write_frame(FrameResult(1, 0.0333, []))
        lines = path.read_text().splitlines()  # read while still open: nothing may sit in a buffer
        assert lines[0] == HEADER
        assert len(lines) == 3
        assert lines[2] == "1,0.0333" + "," * (len(COLUMNS) - 2)
        assert writer.frames_written == 2


def test_a_file_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes").write_text("")
    with pytest.raises(AppError, match=r"^cannot write .*notes/out\.csv: Not a directory$"):
        CsvWriter(tmp_path / "notes" / "out.csv")


def test_extra_columns_extend_the_schema(tmp_path: Path) -> None:
    """How the smoothing issue adds s_* columns: a longer column list and extra keys in the rows."""
    path = tmp_path / "out.csv"
    columns = (*COLUMNS, "s_happy", "smoothed_label")
    with CsvWriter(path, columns) as writer:
        rows = frame_rows(FrameResult(0, 0.0, [_face(10, 3)]))
        rows[0].update({"s_happy": "0.5", "smoothed_label": "happy"})
        writer.write_rows(rows)
    with path.open() as file:
        (row,) = list(csv.DictReader(file))
    assert row["s_happy"] == "0.5" and row["label"] == "happy"


def _sad_belief() -> np.ndarray:
    belief = np.full(7, 0.1)
    belief[4] = 0.4
    return belief


def test_smoothed_rows_add_track_belief_and_observed_after_the_raw_columns() -> None:
    assert SMOOTHED_COLUMNS[: len(COLUMNS)] == COLUMNS
    assert SMOOTHED_COLUMNS[len(COLUMNS)] == "track"
    assert SMOOTHED_COLUMNS[-2:] == ("smoothed_label", "observed")
    raw = _face(10, 3)  # raw says happy, the smoothed belief still says sad
    (row,) = frame_rows(FrameResult(0, 0.0, [replace(raw, track=5, belief=_sad_belief())]))
    assert set(row) == set(SMOOTHED_COLUMNS)
    assert (row["label"], row["track"], row["s_sad"], row["smoothed_label"]) == ("happy", "5", "0.40000", "sad")
    assert row["observed"] == "1"
    assert frame_rows(FrameResult(1, 0.1, [])) == [{"frame": "1", "t": "0.1000"}]


def test_a_live_track_missed_in_a_frame_gets_a_predicted_row_after_the_faces_found() -> None:
    seen = replace(_face(10, 3), track=0, belief=_sad_belief())
    missed = FaceResult(Detection(300, 20, 90, 90, 0.8), None, 1, _sad_belief())
    rows = frame_rows(FrameResult(4, 0.4, [seen], predicted=[missed]), {"dropped": "0"})
    assert [(row.get("face", ""), row["track"], row["observed"]) for row in rows] == [("0", "0", "1"), ("", "1", "0")]
    predicted = rows[1]
    assert (predicted["x"], predicted["w"], predicted["smoothed_label"], predicted["dropped"]) == (
        "300",
        "90",
        "sad",
        "0",
    )
    assert all(predicted.get(column, "") == "" for column in (*PROB_COLUMNS, "label"))  # no raw probabilities


def test_a_dropped_frame_has_a_predicted_row_per_live_track_and_without_one_the_empty_row() -> None:
    live = FaceResult(Detection(10, 20, 100, 100, 0.9), None, 2, _sad_belief())
    (row,) = frame_rows(FrameResult(5, 0.5, dropped=True, predicted=[live]), {"dropped": "1"})
    assert (row["frame"], row["track"], row["observed"], row["s_sad"], row["dropped"]) == (
        "5",
        "2",
        "0",
        "0.40000",
        "1",
    )
    unsmoothed = replace(live, belief=None)  # without a smoother there is no belief to predict
    assert frame_rows(FrameResult(5, 0.5, dropped=True, predicted=[unsmoothed])) == [{"frame": "5", "t": "0.5000"}]


def test_a_tracked_face_without_smoother_keeps_the_raw_columns_only() -> None:
    (row,) = frame_rows(FrameResult(0, 0.0, [replace(_face(10, 3), track=2)]))
    assert set(row) == set(COLUMNS)
