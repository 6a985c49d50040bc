"""Per-frame emotion tables written by other tools, read into the frames that this project's trackers, smoothers and
CSV writer already know: this project's own CSV, py-feat's Fex CSV, fer's Video.analyze CSV, or any table whose
columns are named. Every problem with a table is one AppError naming the column (and row) at fault."""

from __future__ import annotations

import csv
import importlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from numbers import Real
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from app.engine.results import FaceResult, FrameResult
from app.errors import EXIT_USAGE, AppError
from app.output.csv_writer import DROPPED_COLUMN, PROB_COLUMNS
from models.face_detector import Detection
from smoothing.labels import CLASSES, NUM_CLASSES

# A face's probabilities may miss a sum of 1 by this much before they are renormalised with a warning: far above
# this project's own rounding (7 values to 5 decimals: 3.5e-5), far below what a table that needs it is off by (fer
# rounds to 2 decimals and misses by up to 0.035; percentages sum to 100).
SUM_TOLERANCE = 1e-3
MAX_BOX_COORDINATE = 1e6  # px: beyond any frame (8K is 7680 wide); a larger value is a unit or parsing mistake
COMPRESSED = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma"}  # what pandas decompresses by ending, and its module
# A table's box is a face that the tool which wrote it kept; no table gives a confidence this project uses.
TABLE_SCORE = 1.0
NO_BOX = Detection(0, 0, 0, 0, TABLE_SCORE)  # stands for the box of a face in a table without boxes; never written
BOX_COLUMNS = ("x", "y", "w", "h")  # the long form's box columns, as this project's CSV names them
FER_GROUP = re.compile(rf"(box|{'|'.join(CLASSES)})(\d*)")  # fer's column groups: box0, angry0 ... neutral0, box1 ...
SEPARATORS = (",", ";", "\t")  # what spreadsheets and tools write tables with; a comma where the header is unclear
DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Columns:
    """Where a table keeps what smoothing needs; None where it does not say."""

    probs: Mapping[str, str]  # class name (smoothing.labels.CLASSES) -> the column of its probability
    time: str | None = None  # seconds
    frame: str | None = None  # frame number
    box: tuple[str, str, str, str] | None = None  # x, y, width, height in pixels
    face: str | None = None  # the face's index within its frame
    dropped: str | None = None  # 1 on a frame the run did not look at (--drop, or live), which no smoother saw


@dataclass(frozen=True)
class Layout:
    """One tool's table: how messages name it, the column only it writes, and where it keeps the rest."""

    name: str
    marker: re.Pattern[str]
    columns: Columns


EMOSMOOTH = Layout(
    "EmoSmooth's CSV",
    re.compile("|".join(PROB_COLUMNS)),
    Columns(dict(zip(CLASSES, PROB_COLUMNS, strict=True)), "t", "frame", BOX_COLUMNS, "face", DROPPED_COLUMN),
)
PY_FEAT = Layout(
    "py-feat's Fex CSV",
    re.compile("FaceRectX"),
    Columns(
        {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness", "sad": "sadness",
         "surprise": "surprise", "neutral": "neutral"},
        time="approx_time",
        frame="frame",
        box=("FaceRectX", "FaceRectY", "FaceRectWidth", "FaceRectHeight"),
    ),
)  # fmt: skip
# fer writes one row per frame with a column group per face; read_layout() turns it into the long form first, with
# the row number as the frame (fer writes none) and the group's number as the face.
FER = Layout(
    "fer's Video.analyze CSV",
    re.compile(r"box\d*"),
    Columns({name: name for name in CLASSES}, frame="frame", box=BOX_COLUMNS, face="face"),
)
LAYOUTS = (EMOSMOOTH, PY_FEAT, FER)


@dataclass(frozen=True)
class TableOptions:
    """What the user says about a table: its frame rate, and the columns named on the command line, each in place
    of the one its layout would use."""

    fps: float | None = None
    time: str | None = None
    frame: str | None = None
    probs: Mapping[str, str] | None = None
    box: tuple[str, str, str, str] | None = None
    face: str | None = None

    def __post_init__(self) -> None:
        """What the command line's argument types check, checked for the Python API's callers too."""
        if self.fps is not None and not (
            isinstance(self.fps, Real) and not isinstance(self.fps, bool) and 0 < self.fps < math.inf
        ):
            raise AppError(f"fps must be a number above 0, got {self.fps!r}")
        if self.fps is not None:
            object.__setattr__(self, "fps", float(self.fps))  # numpy's numbers too, as Python's
        if self.fps is not None and self.time is not None:
            raise AppError("give the time column or the fps (frames timed by their number), not both", EXIT_USAGE)
        if self.probs is not None:
            if not isinstance(self.probs, Mapping) or not all(isinstance(c, str) for c in self.probs.values()):
                raise AppError(f"probs maps classes to column names, {{'happy': 'Joy'}}; got {self.probs!r}")
            if not self.probs:
                raise AppError("probs names no class; map at least one to its column, {'happy': 'Joy'}")
            if unknown := [label for label in self.probs if label not in CLASSES]:
                raise AppError(f"{unknown[0]!r} is not a class; the classes are {', '.join(CLASSES)}")
            named: dict[str, str] = {}
            for label, column in self.probs.items():
                if column in named:  # two classes would read one column: every tie then goes by class order
                    raise AppError(f"column {column!r} is named for two classes, {named[column]} and {label}")
                named[column] = label

    def named(self) -> dict[str, object]:
        """The columns named, by Columns' field names (`dropped` is only ever this project's own column)."""
        named = {part.name: getattr(self, part.name, None) for part in fields(Columns)}
        return {column: value for column, value in named.items() if value is not None}


@dataclass
class TableFrames:
    """A table's faces frame by frame, in time order, not yet tracked; what was said about it (warnings)."""

    layout: str  # which tool's table it was read as
    results: list[FrameResult]
    keys: list[list[int]]  # each face's index within its frame, for tracking where there are no boxes
    has_boxes: bool
    notes: list[str] = field(default_factory=list)
    flags_drops: bool = False  # the table says which frames were dropped (its `dropped` column)

    @property
    def faces(self) -> int:
        """How many faces the table holds (rows with probabilities)."""
        return sum(len(result.faces) for result in self.results)


def separator_and_decimal(header: str, first_row: str) -> tuple[str, str]:
    """The table's field separator, the one of SEPARATORS its header line holds most of (a comma on a tie), and its
    decimal mark: a comma where semicolons separate fields and a number of the first row is written with one
    (Excel's export in much of Europe)."""
    separator = max(SEPARATORS, key=header.count)
    decimal_comma = separator == ";" and any(DECIMAL_COMMA.fullmatch(cell.strip()) for cell in first_row.split(";"))
    return separator, "," if decimal_comma else "."


def open_text(path: Path) -> TextIO:
    """The file as text, through its decompressor where its ending names one (pandas reads those the same way)."""
    module = COMPRESSED.get(path.suffix.lower())
    if module is None:
        return path.open(encoding="utf-8-sig", errors="replace", newline="")
    return importlib.import_module(module).open(path, "rt", encoding="utf-8-sig", errors="replace", newline="")


def read_table_file(path: Path) -> pd.DataFrame:
    """A CSV file (comma-, semicolon- or tab-separated) as a DataFrame, or an AppError saying in one line why it
    cannot be read."""
    if not path.is_file():
        raise AppError(f"no such file: {path}" if not path.exists() else f"not a file: {path}")
    try:
        with open_text(path) as file:
            header, first_row = file.readline(), file.readline()
        separator, decimal = separator_and_decimal(header, first_row)
        # the names as written: pandas renames a repeated one (anger to anger.1)
        names = [name.strip() for name in next(csv.reader([header], delimiter=separator), [])]
        if repeated := [name for number, name in enumerate(names) if name and name in names[:number]]:
            raise AppError(f"{path} has two columns named {repeated[0]!r}")
        return pd.read_csv(path, sep=separator, decimal=decimal, low_memory=False)
    except pd.errors.EmptyDataError:
        raise AppError(f"{path} is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError) as error:  # EOFError: a cut compressed file
        raise AppError(f"cannot read {path} as CSV: {str(error).splitlines()[0]}") from None
    except OSError as error:
        raise AppError(f"cannot read {path}: {error.strerror or error}") from None


def table_frames(table: pd.DataFrame, options: TableOptions, name: str) -> TableFrames:
    """The table's faces, frame by frame: its layout told by its columns (or by the columns the options name),
    times from its time column or from frame numbers and fps, probabilities in CLASSES order. A class the table
    lacks counts as 0, and probabilities that miss a sum of 1 are renormalised, each said once in a note; a row
    whose probabilities are all empty is its frame without that face."""
    table = table.rename(columns=lambda column: column.strip() if isinstance(column, str) else column)
    if table.columns.duplicated().any():  # " anger" and "anger" too: the same name to a reader
        raise AppError(f"{name} has two columns named {table.columns[table.columns.duplicated()][0]!r}")
    table = table.dropna(how="all")  # a spreadsheet's trailing rows of empty cells (",,,,") are no frames
    if table.empty:
        raise AppError(f"{name} has no rows")
    layout, table = read_layout(table, options, name)
    if layout is EMOSMOOTH and "file" in table.columns and "frame" not in table.columns:
        raise AppError(f"{name} is the image command's table (a row per photo and face, no times): nothing to smooth")
    columns = replace(layout.columns, **options.named())
    for column in (columns.frame, columns.face, options.time, *(columns.box or ())):
        if column is not None and column not in table.columns:
            raise AppError(f"{name} has no column {column!r}")
    frames, times = frame_times(table, columns, options.fps, name)
    probs, notes = probabilities(table, columns, options.probs is not None, name)
    is_face = ~np.isnan(probs[:, 0])
    boxes = numbers(table, columns.box, name) if columns.box is not None else None
    if boxes is not None and (lacking := is_face & np.isnan(boxes).any(axis=1)).any():
        empty = columns.box[int(np.argmax(np.isnan(boxes[np.argmax(lacking)])))]
        raise AppError(f"{name}, {row_name(table, lacking)}: probabilities but no box ({empty} is empty)")
    if boxes is not None and (endless := is_face & np.isinf(boxes).any(axis=1)).any():
        column = columns.box[int(np.argmax(np.isinf(boxes[np.argmax(endless)])))]
        raise AppError(f"{name}, {row_name(table, endless)}: {column} is infinite, not a box coordinate")
    if boxes is not None and (huge := is_face & (np.abs(boxes) > MAX_BOX_COORDINATE).any(axis=1)).any():
        raise AppError(
            f"{name}, {row_name(table, huge)}: a box coordinate beyond {MAX_BOX_COORDINATE:.0e} px, past any frame"
        )
    if boxes is not None and (flat := is_face & (boxes[:, 2:] <= 0).any(axis=1)).any():
        raise AppError(f"{name}, {row_name(table, flat)}: the box's width and height must be above 0")
    keys = face_keys(table, columns.face, frames, is_face, name)
    if boxes is None:
        check_unique_keys(frames, keys, is_face, name)
    dropped = dropped_rows(table, columns.dropped, is_face, name)
    return build_frames(layout.name, frames, times, probs, boxes, keys, dropped, notes, name)


def dropped_rows(table: pd.DataFrame, column: str | None, is_face: np.ndarray, name: str) -> np.ndarray | None:
    """Which rows belong to a dropped frame (the column's 1), or None for a table without the column; a dropped
    frame was not looked at, so a face in it is a contradiction."""
    if column is None or column not in table.columns:
        return None
    flags = whole_numbers(table, column, name)
    if not np.isin(flags, (0, 1)).all():
        raise AppError(f"{name}, {row_name(table, ~np.isin(flags, (0, 1)))}: {column} must be 0 or 1")
    dropped = flags == 1
    if (contradiction := dropped & is_face).any():
        raise AppError(f"{name}, {row_name(table, contradiction)}: a dropped frame with a face's probabilities")
    return dropped


def read_layout(table: pd.DataFrame, options: TableOptions, name: str) -> tuple[Layout, pd.DataFrame]:
    """Which tool wrote the table, by the column only it writes; fer's table comes back in the long form. A table
    of no known tool needs its probability columns named."""
    for layout in LAYOUTS:
        if any(layout.marker.fullmatch(str(column)) for column in table.columns):
            return layout, fer_long(table, name) if layout is FER else table
    if options.probs is None:
        raise AppError(
            f"cannot tell which tool wrote {name} (no p_angry column as in EmoSmooth's CSV, no FaceRectX as in "
            "py-feat's, no box0 as in fer's); name its columns: --prob CLASS=COLUMN ... and --time COLUMN "
            "(or --frame COLUMN --fps N)"
        )
    return Layout("a table of named columns", re.compile(""), Columns({})), table


def fer_long(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """fer's row per frame with a column group per face (box0, angry0 ... neutral0, box1 ...) as one row per frame
    and face, its box parsed from fer's '[x, y, w, h]' text (or list). The row number is the frame (fer writes none)
    unless the table has a frame column; the table's other columns come along, so that --time and --frame name
    them."""
    groups: dict[int, dict[str, str]] = {}
    for column in table.columns:
        if match := FER_GROUP.fullmatch(str(column)):
            groups.setdefault(int(match[2] or 0), {})[match[1]] = column
    others = [column for column in table.columns if not FER_GROUP.fullmatch(str(column))]
    parts = []
    for face, group in sorted(groups.items()):
        if "box" not in group:
            raise AppError(f"{name} has no column box{face} for the face of {', '.join(group.values())}")
        part = table[others].copy()  # a time or frame column of the user's own, to be named with --time or --frame
        if "frame" not in part.columns:
            part["frame"] = np.arange(len(table))
        part["face"] = face
        part[list(BOX_COLUMNS)] = fer_boxes(table[group["box"]], name)
        for label in CLASSES:
            if label in group:
                part[label] = table[group[label]]
        parts.append(part)
    return pd.concat(parts).sort_values(["frame", "face"], kind="stable")


def fer_boxes(cells: pd.Series, name: str) -> np.ndarray:
    """(rows, 4) boxes from fer's text: '[10, 20, 30, 40]', '(10, 20, 30, 40)' or numpy's '[10 20 30 40]'; NaN
    where the frame has no such face."""
    boxes = np.full((len(cells), len(BOX_COLUMNS)), np.nan)
    for position, (row, cell) in enumerate(cells.items()):
        if isinstance(cell, list | tuple | np.ndarray):  # fer's Video.to_pandas() keeps each box as a list
            values = [str(value) for value in np.ravel(np.asarray(cell, dtype=object))]
            if not all(NUMBER.fullmatch(value) for value in values):
                values = []  # refused below, as text that is no box
        elif pd.isna(cell):
            continue
        else:
            values = NUMBER.findall(str(cell))
        if len(values) != len(BOX_COLUMNS):
            raise AppError(f"{name}, row {row}: {cells.name} is {cell_text(cell)}, not a box [x, y, w, h]")
        boxes[position] = [float(value) for value in values]
    return boxes


def frame_times(table: pd.DataFrame, columns: Columns, fps: float | None, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Each row's frame number and time (s): the time column's seconds, or frame / fps when fps is given. A table
    without frame numbers counts its distinct times as frames."""
    if fps is not None:
        if columns.frame is None:
            raise AppError(f"--fps times frames by their number, and {name} has none; name it with --frame COLUMN")
        frames = whole_numbers(table, columns.frame, name)
        return frames, frames / fps
    if columns.time is None or columns.time not in table.columns:
        missing = f"no column {columns.time!r}" if columns.time is not None else "no time column"
        hint = "give --fps N (the video's frame rate)" if columns.frame else "name it with --time COLUMN (seconds)"
        raise AppError(f"{name} has {missing}; {hint}")
    column = table[columns.time]
    if pd.api.types.is_datetime64_any_dtype(column):
        raise AppError(f"{name}: {columns.time} holds dates and times of day; give seconds from the video's start")
    if pd.api.types.is_timedelta64_dtype(column):  # a pandas user's natural time column: read as seconds
        column = column.dt.total_seconds()
    times = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    if (bad := ~np.isfinite(times)).any():
        row = int(np.argmax(bad))
        value = table[columns.time].iloc[row]
        hint = "; give --fps N (the video's frame rate) to time frames by their number" if columns.frame else ""
        raise AppError(f"{name}, row {table.index[row]}: {columns.time} is {cell_text(value)}, not seconds{hint}")
    if columns.frame is not None:
        frames = whole_numbers(table, columns.frame, name)
        check_one_time_per_frame(table, frames, times, name)
        return frames, times
    return np.unique(times, return_inverse=True)[1], times


def check_one_time_per_frame(table: pd.DataFrame, frames: np.ndarray, times: np.ndarray, name: str) -> None:
    """A frame's faces share its time: a frame number at two times is two frames mislabelled, which would merge."""
    order = np.argsort(frames, kind="stable")
    clash = (frames[order][1:] == frames[order][:-1]) & (times[order][1:] != times[order][:-1])
    if clash.any():
        first, second = order[int(np.argmax(clash))], order[int(np.argmax(clash)) + 1]
        raise AppError(
            f"{name}: frame {frames[first]} is at {times[first]:.4f} s in row {table.index[first]} and at "
            f"{times[second]:.4f} s in row {table.index[second]}; a frame's faces share one time"
        )


def probabilities(table: pd.DataFrame, columns: Columns, named: bool, name: str) -> tuple[np.ndarray, list[str]]:
    """(rows, 7) probabilities in CLASSES order, each face's summing to 1, whole NaN rows where there is no face;
    notes for the classes the table lacks (probability 0) and for renormalised faces. Named columns must exist."""
    present = {label: column for label, column in columns.probs.items() if column in table.columns}
    if named and len(present) < len(columns.probs):
        label, column = next((label, column) for label, column in columns.probs.items() if label not in present)
        raise AppError(f"{name} has no column {column!r} (--prob {label}={column})")
    if not present:
        raise AppError(f"{name} has no probability column ({', '.join(columns.probs.values())})")
    indexes = [CLASSES.index(label) for label in present]
    probs = np.zeros((len(table), NUM_CLASSES))
    probs[:, indexes] = numbers(table, tuple(present.values()), name)
    empty = np.isnan(probs[:, indexes])
    if (partly := empty.any(axis=1) & ~empty.all(axis=1)).any():
        row = int(np.argmax(partly))
        column = list(present.values())[int(np.argmax(empty[row]))]
        raise AppError(f"{name}, {row_name(table, partly)}: {column} is empty, the face's other probabilities are not")
    is_face = ~empty.all(axis=1)
    probs[~is_face] = np.nan
    if (bad := is_face & ((probs < 0).any(axis=1) | np.isinf(probs).any(axis=1))).any():
        raise AppError(f"{name}, {row_name(table, bad)}: a probability is negative or infinite")
    sums = probs.sum(axis=1)
    if (zero := is_face & (sums <= 0)).any():
        raise AppError(f"{name}, {row_name(table, zero)}: the probabilities are all 0")
    notes = []
    if missing := [label for label in CLASSES if label not in present]:
        lacking = "--prob names no column" if named else f"{name} has no column"
        notes.append(
            f"{lacking} for {', '.join(missing)}: counted as probability 0, so the smoothed label is "
            f"never {' or '.join(missing)}"
        )
    if (off := is_face & (np.abs(sums - 1) > SUM_TOLERANCE)).any():
        notes.append(
            f"{int(off.sum())} of {int(is_face.sum())} faces in {name} had probabilities summing to "
            f"{sums[off].min():.3g}-{sums[off].max():.3g}, not 1; each was divided by its sum"
        )
    return probs / sums[:, None], notes


def cell_text(value: object) -> str:
    """A table cell as an error shows it: the Python value's repr, 'inf' or 'high', not numpy's np.float64(inf)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def row_name(table: pd.DataFrame, mask: np.ndarray) -> str:
    """'row N' of the first row where mask holds, N as the table's index gives it (data rows from 0 in a CSV)."""
    return f"row {table.index[int(np.argmax(mask))]}"


def numbers(table: pd.DataFrame, columns: tuple[str, ...], name: str) -> np.ndarray:
    """(rows, len(columns)) floats, NaN for empty cells; text that is not a number is an AppError naming it."""
    converted = table[list(columns)].apply(pd.to_numeric, errors="coerce")
    if complex_columns := [c for c in columns if pd.api.types.is_complex_dtype(converted[c])]:
        raise AppError(f"{name}: {complex_columns[0]} holds complex numbers, not real ones")
    values = converted.to_numpy(dtype=np.float64)
    text = values != values  # NaN: empty cells and text
    text &= table[list(columns)].notna().to_numpy()
    if text.any():
        row, column = np.argwhere(text)[0]
        cell = table[columns[column]].iloc[row]
        raise AppError(f"{name}, row {table.index[row]}: {columns[column]} is {cell_text(cell)}, not a number")
    return values


def whole_numbers(table: pd.DataFrame, column: str, name: str) -> np.ndarray:
    """A column of frame numbers (or face indexes), every row's given."""
    values = numbers(table, (column,), name)[:, 0]
    if (bad := ~np.isfinite(values) | (values != np.round(values))).any():
        row = int(np.argmax(bad))
        cell = cell_text(table[column].iloc[row])
        raise AppError(f"{name}, row {table.index[row]}: {column} is {cell}, not a whole number")
    return values.astype(np.int64)


def face_keys(
    table: pd.DataFrame, column: str | None, frames: np.ndarray, is_face: np.ndarray, name: str
) -> np.ndarray:
    """Each face row's index within its frame: the table's face column, else its place among its frame's faces."""
    if column is not None:
        keys = np.zeros(len(table), dtype=np.int64)
        keys[is_face] = whole_numbers(table[is_face], column, name)
        return keys
    places = pd.Series(frames[is_face]).groupby(frames[is_face]).cumcount().to_numpy()
    keys = np.zeros(len(table), dtype=np.int64)
    keys[is_face] = places
    return keys


def check_unique_keys(frames: np.ndarray, keys: np.ndarray, is_face: np.ndarray, name: str) -> None:
    """Without boxes a face is known by its index, so one frame cannot hold two faces of the same index."""
    pairs = pd.DataFrame({"frame": frames[is_face], "face": keys[is_face]})
    if (twice := pairs.duplicated()).any():
        frame, face = pairs[twice].iloc[0]
        raise AppError(f"{name}: frame {frame} has two rows for face {face}, and no boxes to tell them apart")


def build_frames(
    layout: str,
    frames: np.ndarray,
    times: np.ndarray,
    probs: np.ndarray,
    boxes: np.ndarray | None,
    keys: np.ndarray,
    dropped: np.ndarray | None,
    notes: list[str],
    name: str,
) -> TableFrames:
    """One FrameResult per frame number, in order, dropped where its rows say so (`dropped`, per row, None for a table
    that does not say); every frame's time must come after the one before."""
    order = np.argsort(frames, kind="stable")
    frame_numbers, starts = np.unique(frames[order], return_index=True)
    results: list[FrameResult] = []
    frame_keys: list[list[int]] = []
    for frame, rows in zip(frame_numbers, np.split(order, starts[1:]), strict=True):
        t = float(times[rows[0]])
        if results and t <= results[-1].t:
            raise AppError(
                f"{name}: frame {frame} is at {t:.4f} s, not after frame {results[-1].index} at {results[-1].t:.4f} s"
            )
        seen = [row for row in rows if not np.isnan(probs[row, 0])]
        if boxes is not None:  # left to right, as the detector lists a frame's faces
            seen.sort(key=lambda row: (boxes[row, 0], boxes[row, 1]))
        faces = [FaceResult(table_box(boxes, row), probs[row]) for row in seen]
        was_dropped = dropped is not None and bool(dropped[rows].any())
        results.append(FrameResult(int(frame), t, faces, dropped=was_dropped))
        frame_keys.append([int(keys[row]) for row in seen])
    return TableFrames(layout, results, frame_keys, boxes is not None, notes, flags_drops=dropped is not None)


def table_box(boxes: np.ndarray | None, row: int) -> Detection:
    """A face's box in whole pixels, as the detector gives them; NO_BOX for a table without boxes."""
    if boxes is None:
        return NO_BOX
    x, y, w, h = (round(value) for value in boxes[row])
    return Detection(x, y, w, h, TABLE_SCORE)
