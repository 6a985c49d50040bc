"""Reading other tools' per-frame tables: each layout told by its columns, times and probabilities in this project's
class order, what is missing said in a note, and a table that cannot be read one error naming the column at fault."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.batch.tables import TableOptions, table_frames
from app.errors import AppError
from smoothing.labels import CLASSES
from tests.app.table_layouts import FPS, Person, fer_table, probs_of, py_feat_table, unknown_tool_table

PEOPLE = (Person(x=100, emotion="happy"), Person(x=420, emotion="sad", absent=(7,)))
FRAMES = 40
DEEPFACE_LIKE = TableOptions(
    time="seconds",
    face="person",
    probs={"angry": "Anger", "disgust": "Disgust", "fear": "Fear", "happy": "Joy", "sad": "Sadness",
           "surprise": "Surprise"},
)  # fmt: skip


def test_a_py_feat_table_is_read_as_frames_of_faces_timed_by_frame_number() -> None:
    frames = table_frames(py_feat_table(PEOPLE, FRAMES, empty=(20,)), TableOptions(fps=FPS), "fex.csv")
    assert frames.layout == "py-feat's Fex CSV" and frames.has_boxes
    assert [result.index for result in frames.results] == list(range(FRAMES))
    assert frames.results[30].t == pytest.approx(1.0)
    assert frames.results[20].faces == []  # py-feat's row of NaN: the frame without a face
    assert len(frames.results[7].faces) == 1
    left, right = frames.results[1].faces  # the table lists them right to left on odd frames
    assert (left.detection.x, left.detection.w) == (101, 120) and right.detection.x == 421  # whole pixels
    np.testing.assert_allclose(left.probs, probs_of("happy", 1))  # anger ... neutral, in CLASSES' order
    assert frames.notes == []  # every class there, every face's probabilities summing to 1


def test_py_feat_whole_second_approx_time_needs_the_frame_rate() -> None:
    with pytest.raises(AppError, match=r"approx_time is '00:00', not seconds; give --fps N"):
        table_frames(py_feat_table(PEOPLE, FRAMES), TableOptions(), "fex.csv")


def test_a_fer_table_is_one_face_per_column_group_and_one_frame_per_row() -> None:
    frames = table_frames(fer_table(PEOPLE, FRAMES), TableOptions(fps=FPS), "fer.csv")
    assert frames.layout == "fer's Video.analyze CSV"
    assert len(frames.results) == FRAMES and frames.results[3].t == pytest.approx(3 / FPS)
    assert [face.detection.box for face in frames.results[1].faces] == [(101, 60, 110, 130), (421, 60, 110, 130)]
    assert all(face.probs.sum() == pytest.approx(1.0) for result in frames.results for face in result.faces)
    (note,) = frames.notes  # fer rounds to 2 decimals
    assert "faces in fer.csv had probabilities summing to" in note and "each was divided by its sum" in note


def test_fer_writes_no_times_so_the_frame_rate_is_asked_for() -> None:
    with pytest.raises(AppError, match=r"^fer.csv has no time column; give --fps N \(the video's frame rate\)$"):
        table_frames(fer_table(PEOPLE, FRAMES), TableOptions(), "fer.csv")


def test_fer_boxes_written_from_numpy_arrays_are_read_too() -> None:
    table = fer_table(PEOPLE[:1], 2)
    table["box0"] = ["[ 10  20 110 130]", "(11, 20, 110, 130)"]  # fer's Haar boxes are numpy arrays
    frames = table_frames(table, TableOptions(fps=FPS), "fer.csv")
    assert [result.faces[0].detection.box for result in frames.results] == [(10, 20, 110, 130), (11, 20, 110, 130)]


def test_fer_boxes_kept_as_lists_by_its_dataframe_are_read_too() -> None:
    """fer's own Video.to_pandas() keeps each box as a list (a numpy row with its Haar finder)."""
    table = fer_table(PEOPLE[:1], 2)
    table["box0"] = pd.Series([[10, 20, 110, 130], np.array([11, 20, 110, 130])], dtype=object)
    frames = table_frames(table, TableOptions(fps=FPS), "fer")
    assert [result.faces[0].detection.box for result in frames.results] == [(10, 20, 110, 130), (11, 20, 110, 130)]
    table["box0"] = pd.Series([[10, 20, 110], [1, 2, 3, 4]], dtype=object)
    with pytest.raises(AppError, match=r"^fer, row 0: box0 is \[10, 20, 110\], not a box"):
        table_frames(table, TableOptions(fps=FPS), "fer")


def test_a_fer_table_keeps_its_own_columns_for_time_and_frame() -> None:
    """fer leaves out frames without a face, so row number / fps runs ahead; a frame or time column of the user's
    own, named, puts each row back where it was."""
    table = fer_table(PEOPLE[:1], 4)
    table["myframe"], table["seconds"] = [0, 2, 4, 6], [0.0, 0.5, 1.0, 1.5]
    by_frame = table_frames(table, TableOptions(fps=FPS, frame="myframe"), "fer.csv")
    assert [result.index for result in by_frame.results] == [0, 2, 4, 6]
    by_time = table_frames(table, TableOptions(time="seconds"), "fer.csv")
    assert [result.t for result in by_time.results] == [0.0, 0.5, 1.0, 1.5]


def test_names_padded_with_spaces_and_trailing_empty_rows_read_as_the_plain_table() -> None:
    plain = py_feat_table(PEOPLE, FRAMES)
    padded = plain.rename(columns=lambda column: f" {column} ")
    padded = pd.concat([padded, pd.DataFrame(np.nan, index=[900, 901], columns=padded.columns)])  # Excel's ",,,,"
    frames, again = (table_frames(table, TableOptions(fps=FPS), "fex.csv") for table in (plain, padded))
    assert [len(result.faces) for result in frames.results] == [len(result.faces) for result in again.results]
    assert frames.results[-1].t == again.results[-1].t


@pytest.mark.parametrize(
    ("probs", "words"),
    [({"happy": "Joy", "sad": "Joy"}, "column 'Joy' is named for two classes, happy and sad"),
     ({}, "probs names no class")],
)  # fmt: skip
def test_each_named_probability_column_is_one_class(probs: dict[str, str], words: str) -> None:
    """Two classes reading one column would tie on every face, each tie going by class order."""
    with pytest.raises(AppError, match=words):
        TableOptions(time="seconds", probs=probs)


@pytest.mark.parametrize("fps", [np.int64(30), np.int32(30), np.float32(30.0)])
def test_numpy_numbers_are_frame_rates_too(fps: object) -> None:
    assert TableOptions(fps=fps).fps == 30.0


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [("FaceRectWidth", -50.0, "width and height must be above 0"), ("FaceRectHeight", 0.0, "must be above 0"),
     ("FaceRectX", 1e20, r"beyond 1e\+06 px")],
)  # fmt: skip
def test_impossible_boxes_are_refused_naming_the_row(column: str, value: float, words: str) -> None:
    table = py_feat_table(PEOPLE[:1], 4)
    table[column] = table[column].astype(float)
    table.loc[2, column] = value
    with pytest.raises(AppError, match=rf"^fex.csv, row 2: .*{words}"):
        table_frames(table, TableOptions(fps=FPS), "fex.csv")


def test_complex_probabilities_are_refused() -> None:
    table = py_feat_table(PEOPLE[:1], 2)
    table["happiness"] = table["happiness"].astype(complex)
    with pytest.raises(AppError, match="happiness holds complex numbers"):
        table_frames(table, TableOptions(fps=FPS), "fex.csv")


def test_a_table_of_named_columns_without_neutral_or_boxes_says_what_it_did() -> None:
    frames = table_frames(unknown_tool_table(PEOPLE, FRAMES), DEEPFACE_LIKE, "tool.csv")
    assert frames.layout == "a table of named columns" and not frames.has_boxes
    assert frames.keys[1] == [1, 0]  # the person column, in the table's order
    face = frames.results[1].faces[0]
    assert face.probs[CLASSES.index("neutral")] == 0 and face.probs.sum() == pytest.approx(1.0)
    missing, renormalised = frames.notes
    assert (
        missing
        == "--prob names no column for neutral: counted as probability 0, so the smoothed label is never neutral"
    )
    assert renormalised.startswith(f"{frames.faces} of {frames.faces} faces in tool.csv had probabilities summing to")


def own_csv(times: list[float]) -> pd.DataFrame:
    """Three frames of this project's CSV, the middle one without a face."""
    return pd.DataFrame(
        {"frame": [0, 1, 2], "t": times, "face": [0, None, 0], "x": [5, None, 6], "y": [5, None, 5],
         "w": [50, None, 50], "h": [60, None, 60], **{f"p_{name}": [1 / 7, None, 1 / 7] for name in CLASSES},
         "label": ["angry", None, "angry"]}
    )  # fmt: skip


def test_this_projects_own_csv_is_known_by_its_columns() -> None:
    frames = table_frames(own_csv([0.0, 0.04, 0.08]), TableOptions(), "clip.csv")
    assert frames.layout == "EmoSmooth's CSV"
    assert [result.t for result in frames.results] == [0.0, 0.04, 0.08]
    assert [len(result.faces) for result in frames.results] == [1, 0, 1]


def py_feat_without(column: str) -> pd.DataFrame:
    return py_feat_table(PEOPLE, 4).drop(columns=column)


def py_feat_with(row: int, column: str, value: object) -> pd.DataFrame:
    table = py_feat_table(PEOPLE, 4)
    table[column] = table[column].astype(object)
    table.loc[row, column] = value
    return table


def fer_with(row: int, column: str, value: object) -> pd.DataFrame:
    table = fer_table(PEOPLE, 4)
    table.loc[row, column] = value
    return table


@pytest.mark.parametrize(
    ("table", "options", "words"),
    [
        (py_feat_without("FaceRectHeight"), TableOptions(fps=FPS), "fex.csv has no column 'FaceRectHeight'"),
        (py_feat_without("frame"), TableOptions(fps=FPS), "fex.csv has no column 'frame'"),
        (
            pd.DataFrame({"time": [0.0], "joy": [1.0]}),
            TableOptions(),
            "cannot tell which tool wrote fex.csv (no p_angry column as in EmoSmooth's CSV, no FaceRectX as in "
            "py-feat's, no box0 as in fer's); name its columns: --prob CLASS=COLUMN",
        ),
        (
            unknown_tool_table(PEOPLE, 4),
            TableOptions(time="seconds", probs={"happy": "Happy"}),
            "no column 'Happy' (--prob happy=Happy)",
        ),
        (py_feat_with(3, "anger", "high"), TableOptions(fps=FPS), "fex.csv, row 3: anger is 'high', not a number"),
        (own_csv([0.0, np.inf, 0.08]), TableOptions(), "row 1: t is inf, not seconds"),  # not np.float64(inf)
        (
            own_csv([0.0, 0.04, 0.08]).drop(columns=["frame", "t"]).assign(file="a.jpg"),
            TableOptions(),
            "fex.csv is the image command's table (a row per photo and face, no times): nothing to smooth",
        ),
        (py_feat_with(2, "fear", None), TableOptions(fps=FPS), "row 2: fear is empty, the face's other probabilities"),
        (py_feat_with(1, "sadness", -0.2), TableOptions(fps=FPS), "row 1: a probability is negative or infinite"),
        (py_feat_with(1, "FaceRectX", None), TableOptions(fps=FPS), "row 1: probabilities but no box (FaceRectX"),
        (py_feat_with(1, "FaceRectWidth", np.inf), TableOptions(fps=FPS), "row 1: FaceRectWidth is infinite"),
        (own_csv([0.0, 0.08, 0.04]), TableOptions(), "frame 2 is at 0.0400 s, not after frame 1 at 0.0800 s"),
        (
            own_csv([0.0, 0.04, 0.08]).assign(frame=[0, 1, 0]),
            TableOptions(),
            "fex.csv: frame 0 is at 0.0000 s in row 0 and at 0.0800 s in row 2; a frame's faces share one time",
        ),
        (fer_with(2, "box1", "[1, 2]"), TableOptions(fps=FPS), "row 2: box1 is '[1, 2]', not a box [x, y, w, h]"),
        (
            unknown_tool_table(PEOPLE, 4).assign(person=0),
            DEEPFACE_LIKE,
            "frame 0 has two rows for face 0, and no boxes to tell them apart",
        ),
    ],
    ids=[
        "py-feat-without-a-box-column", "without-frames", "unknown-tool", "named-column-absent", "text-probability",
        "infinite-time", "image-table",
        "partly-empty", "negative", "face-without-box", "infinite-box", "frames-out-of-time", "frame-at-two-times",
        "fer-bad-box", "index-twice",
    ],
)  # fmt: skip
def test_a_table_that_cannot_be_read_is_one_error_naming_what_is_wrong(
    table: pd.DataFrame, options: TableOptions, words: str
) -> None:
    with pytest.raises(AppError) as raised:
        table_frames(table, options, "fex.csv")
    assert words in str(raised.value) and "\n" not in str(raised.value)
