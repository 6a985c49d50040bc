"""Folder jobs: --resume skips only videos whose outputs are checked complete, and summary.csv sums up the folder."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.batch.folder import SUMMARY_COLUMNS, SUMMARY_CSV, folder_job, folder_lock
from app.batch.folder_jobs import is_complete, last_frame, record_path, run_folder_job
from app.batch.video import VideoJob
from models.roots import REPO
from tests.app.cli_runner import call_app
from tests.app.test_cli import assert_one_line_error
from tests.conftest import SAMPLE_CLIP, write_clip

CLIP_FRAMES = 72
SKIPPED_LINE = "1 of 2 videos already complete, skipped (--resume)"


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def done_folder(tmp_path_factory: pytest.TempPathFactory, weights_path: Path) -> Path:
    """A folder of two videos run once, completely."""
    folder = tmp_path_factory.mktemp("done")
    for stem in ("a", "b"):
        shutil.copy(SAMPLE_CLIP, folder / f"{stem}.mp4")
    result = call_app("video", folder, "--smoother", "hmm", "--weights", weights_path)
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture
def folder(done_folder: Path, tmp_path: Path) -> Path:
    """A copy of the done folder for a test to damage (copy2 keeps the times a completion record checks)."""
    copy = tmp_path / "videos"
    shutil.copytree(done_folder, copy, copy_function=shutil.copy2)
    return copy


def job_of(video: Path, smoother: str = "hmm") -> VideoJob:
    """The job a folder run made for this video."""
    return folder_job(video, VideoJob(path=Path(), csv=Path(), smoother=smoother))


def test_summary_csv_has_a_row_per_video_and_track(done_folder: Path) -> None:
    rows = rows_of(done_folder / SUMMARY_CSV)
    assert [row["video"] for row in rows] == ["a.mp4", "b.mp4"]
    assert tuple(rows[0]) == SUMMARY_COLUMNS
    for row in rows:
        assert row["smoother"] == "hmm" and row["track"] == "0" and row["frames"] == str(CLIP_FRAMES)
        assert sum(float(row[f"share_{name}"]) for name in ("angry", "disgust", "fear", "happy", "sad", "surprise",
                   "neutral")) == pytest.approx(1.0, abs=1e-3)  # fmt: skip
        assert row["dominant"] == max(SUMMARY_COLUMNS[6:13], key=lambda column: float(row[column]))[6:]
    per_video = json.loads((done_folder / "a_summary.json").read_text())["tracks"][0]
    assert rows[0]["switches_per_minute"] == str(per_video["switches_per_minute"])


def test_complete_outputs_are_recognised_and_damaged_ones_are_not(folder: Path, weights_path: Path) -> None:
    weights = str(weights_path)
    a, b = job_of(folder / "a.mp4"), job_of(folder / "b.mp4")
    assert is_complete(a, weights) and is_complete(b, weights)
    assert last_frame(a.csv) == CLIP_FRAMES - 1
    with a.csv.open("r+b") as file:  # a run cut off mid-row
        file.truncate(a.csv.stat().st_size - 10)
    assert not is_complete(a, weights)
    assert not is_complete(job_of(b.path, smoother="ema"), weights)  # other settings: other outputs
    assert b.video is not None
    b.video.unlink()
    assert not is_complete(b, weights)


def test_a_summary_damaged_at_its_own_size_is_not_complete(folder: Path, weights_path: Path) -> None:
    """The folder's summary.csv reads each video's JSON summary: one that does not parse makes the video redone."""
    a = job_of(folder / "a.mp4")
    assert a.summary is not None and is_complete(a, str(weights_path))
    a.summary.write_text("x" * a.summary.stat().st_size)
    assert not is_complete(a, str(weights_path))


def test_resume_redoes_only_the_video_a_stop_cut_short(folder: Path, weights_path: Path) -> None:
    (folder / "a.csv").write_text("frame,t\n0,0.0\n")  # as a run stopped in its first frames leaves it
    record_path(job_of(folder / "a.mp4")).unlink()
    before = (folder / "b.csv").stat().st_mtime_ns
    result = call_app("video", folder, "--smoother", "hmm", "--resume", "--weights", weights_path)
    assert result.returncode == 0, result.stderr
    assert SKIPPED_LINE in result.stdout
    assert "a.mp4: 72 frames" in result.stdout and "b.mp4" not in result.stdout
    assert len(rows_of(folder / "a.csv")) == CLIP_FRAMES
    assert (folder / "b.csv").stat().st_mtime_ns == before
    assert [row["video"] for row in rows_of(folder / SUMMARY_CSV)] == ["a.mp4", "b.mp4"]


@pytest.mark.parametrize(
    ("options", "words"),
    [(("--realtime", "--drop", "0.2"), "leave out --drop"), (("--drop", "1.5"), "--drop must be at least 0"),
     (("--weights", "/no/such.pt"), "weights not found: /no/such.pt")],
)  # fmt: skip
def test_bad_options_are_refused_once_and_leave_a_done_folder_as_it_was(
    folder: Path, options: tuple[str, ...], words: str
) -> None:
    """Checked per video, they had cost every video its completion record (and summary.csv its rows) first."""
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    result = call_app("video", folder, "--smoother", "hmm", *options)
    assert_one_line_error(result, words)
    assert "skipped" not in result.stderr
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before


def test_a_second_run_on_a_folder_in_use_is_refused_and_writes_nothing(folder: Path) -> None:
    """Two runs at once had written into the same CSVs, each record then vouching for rows the other wrote."""
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    with folder_lock(folder):  # as a first run holds it
        result = call_app("video", folder, "--smoother", "ema")
    assert_one_line_error(result, f"another run is writing into {folder}")
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    with folder_lock(folder):  # released when the first run ends
        pass


def test_a_videos_warnings_come_back_with_its_outcome_and_are_printed_by_the_command(
    tmp_path: Path, sample_frames: list, weights_path: Path
) -> None:
    """A Ray task's stderr never reaches the user: what a video's run warns of travels back in its outcome, for
    every runner, and the command prints it before the video's line."""
    lapse = write_clip(tmp_path / "lapse.mp4", sample_frames[:3], fps=0.25)
    outcome = run_folder_job(job_of(lapse), str(weights_path), threads=1)
    (warning,) = outcome.warnings
    assert outcome.code == 0 and warning.startswith(f"warning: the frames of {lapse} are 4.0 s apart")
    result = call_app("video", tmp_path, "--smoother", "hmm", "--weights", weights_path)
    assert result.returncode == 0 and result.stderr.splitlines() == [warning]


def test_a_video_whose_csv_would_be_the_summary_is_refused(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_CLIP, tmp_path / "summary.mp4")
    assert_one_line_error(call_app("video", tmp_path), "summary.csv", "rename")


def test_two_videos_that_would_write_the_same_outputs_are_refused_before_any_work(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_CLIP, tmp_path / "a.mp4")
    shutil.copy(SAMPLE_CLIP, tmp_path / "a.avi")  # a.csv, a_annotated.mp4 ... for both
    assert_one_line_error(call_app("video", tmp_path), "a.avi and a.mp4 would both write a.csv; rename one")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.avi", "a.mp4"]


def test_a_folder_where_summary_csv_goes_is_refused_before_any_work(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_CLIP, tmp_path / "a.mp4")
    (tmp_path / SUMMARY_CSV).mkdir()
    assert_one_line_error(call_app("video", tmp_path), "cannot write", "summary.csv: it is a folder")
    assert not (tmp_path / "a.csv").exists()


def test_folder_options_are_refused_for_one_file(tmp_path: Path) -> None:
    assert_one_line_error(call_app("video", SAMPLE_CLIP, "--csv", tmp_path / "o.csv", "--resume"), "for a folder")


def test_a_local_worker_starts_without_loading_torch() -> None:
    """A worker process unpickles its job from app.batch.folder when it starts; a Ctrl+C arriving while that loaded
    torch printed torch's traceback instead of the one-line error (tests/app/test_faults.py caught it)."""
    code = "import sys, app.batch.folder; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "False"
