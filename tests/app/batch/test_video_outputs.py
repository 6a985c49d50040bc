"""`video` beyond the CSV, as a user runs it: dropped frames, timeline, summary, folders."""

from __future__ import annotations

import csv
import json
import os
import shutil
from itertools import pairwise
from pathlib import Path

import cv2
import pytest

from app.batch.folder import folder_videos
from app.errors import EXIT_USAGE
from tests.app.cli_runner import call_app, run_app
from tests.app.mp4_tools import faststart
from tests.app.test_cli import assert_one_line_error
from tests.conftest import SAMPLE_CLIP, SHORT_CLIP_FRAMES, write_clip

CLIP_FRAMES = 72
EXIT_PARTIAL = 3


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def test_dropped_frames_are_flagged_and_predicted_and_the_reports_are_written(
    tmp_path: Path, weights_path: Path
) -> None:
    out = {name: tmp_path / name for name in ("o.csv", "o.mp4", "o.png", "o.json")}
    result = call_app(
        "video", SAMPLE_CLIP, "--csv", out["o.csv"], "--video", out["o.mp4"], "--timeline", out["o.png"],
        "--summary", out["o.json"], "--smoother", "ema", "--drop", "0.5", "--weights", weights_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = rows_of(out["o.csv"])
    assert len(rows) == CLIP_FRAMES
    dropped = [row for row in rows if row["dropped"] == "1"]
    assert 0.3 * CLIP_FRAMES < len(dropped) < 0.7 * CLIP_FRAMES
    first_seen = min(int(row["frame"]) for row in rows if row["observed"] == "1")
    after = [row for row in rows if int(row["frame"]) >= first_seen]
    assert all(row["track"] == "0" and row["smoothed_label"] for row in after)  # every frame has a belief
    predicted = [row for row in after if row["dropped"] == "1"]
    assert predicted and all(row["observed"] == "0" and row["face"] == row["p_happy"] == "" for row in predicted)
    assert cv2.imread(str(out["o.png"])) is not None
    summary = json.loads(out["o.json"].read_text())
    (track,) = summary["tracks"]
    assert track["frames"] == CLIP_FRAMES - len(dropped)
    assert abs(sum(track["share"].values()) - 1) < 1e-3


def test_realtime_keeps_container_times_and_flags_what_it_could_not_keep_up_with(
    tmp_path: Path, weights_path: Path, short_clip: Path
) -> None:
    result = call_app(
        "video", short_clip, "--csv", tmp_path / "r.csv", "--smoother", "hmm", "--realtime", "--weights", weights_path
    )  # played at its own pace: the short clip, to keep the test short
    assert result.returncode == 0, result.stderr
    rows = rows_of(tmp_path / "r.csv")
    assert [int(row["frame"]) for row in rows] == list(range(SHORT_CLIP_FRAMES))
    assert [float(row["t"]) for row in rows] == [round(i / 30, 4) for i in range(SHORT_CLIP_FRAMES)]  # 30 fps clip
    processed = [row for row in rows if row["dropped"] == "0"]
    assert processed and all(row["track"] == "0" for row in processed)
    dropped = SHORT_CLIP_FRAMES - len(processed)
    assert f"{SHORT_CLIP_FRAMES} frames ({dropped} dropped" in result.stdout


def test_realtime_and_simulated_drops_do_not_mix(tmp_path: Path) -> None:
    result = call_app("video", SAMPLE_CLIP, "--csv", tmp_path / "o.csv", "--realtime", "--drop", "0.2")
    assert_one_line_error(result, "--realtime", "--drop")


def test_a_truncated_file_keeps_its_rows_timeline_and_summary(tmp_path: Path, weights_path: Path) -> None:
    data = faststart(SAMPLE_CLIP.read_bytes())  # index in front: the cut file opens and plays up to the cut
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(0.6 * len(data))])
    result = call_app(
        "video", cut, "--csv", tmp_path / "o.csv", "--timeline", tmp_path / "o.png", "--summary", tmp_path / "o.json",
        "--smoother", "ema", "--offline", "--weights", weights_path,
    )  # fmt: skip
    assert result.returncode == EXIT_PARTIAL
    assert_one_line_error(result, "truncated")
    rows = rows_of(tmp_path / "o.csv")
    assert 0 < len(rows) < CLIP_FRAMES and all(row["smoothed_label"] for row in rows)
    (track,) = json.loads((tmp_path / "o.json").read_text())["tracks"]
    assert track["frames"] == len(rows)
    assert cv2.imread(str(tmp_path / "o.png")) is not None


def test_a_variable_frame_rate_file_is_summarised_by_its_container_times(
    tmp_path: Path, shared_media: Path, weights_path: Path
) -> None:
    """face_noface.mov: a face for about 2.4 s, then none; its frames come 14 to 50 ms apart."""
    result = call_app(
        "video", shared_media / "face_noface.mov", "--csv", tmp_path / "o.csv", "--summary", tmp_path / "o.json",
        "--smoother", "hmm", "--weights", weights_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = rows_of(tmp_path / "o.csv")
    times = [float(row["t"]) for row in rows]
    gaps = [b - a for a, b in pairwise(times)]
    assert min(gaps) > 0 and max(gaps) > 2 * min(gaps)  # variable frame rate, in order
    (track,) = json.loads((tmp_path / "o.json").read_text())["tracks"]
    seen = [float(row["t"]) for row in rows if row["track"] == "0" and row["observed"] == "1"]
    assert track["frames"] == len(seen)  # predicted rows (the 2 s after the face left) are not counted
    assert any(row["track"] == "0" and row["observed"] == "0" for row in rows)
    assert seen[-1] - seen[0] < track["seconds"] < seen[-1] - seen[0] + max(gaps)


def test_drop_share_must_be_below_one(tmp_path: Path) -> None:
    result = call_app("video", SAMPLE_CLIP, "--csv", tmp_path / "o.csv", "--drop", "1.5")
    assert_one_line_error(result, "--drop")


def test_a_negative_seed_is_a_usage_error(tmp_path: Path) -> None:
    result = call_app("video", SAMPLE_CLIP, "--csv", tmp_path / "o.csv", "--drop", "0.3", "--seed", "-1")
    assert result.returncode == EXIT_USAGE and "--seed: must be 0 or more, got -1" in result.stderr


def test_a_folder_is_processed_beside_its_videos_and_a_bad_file_is_skipped(
    tmp_path: Path, weights_path: Path, short_clip: Path
) -> None:
    shutil.copy(short_clip, tmp_path / "a.mp4")
    shutil.copy(short_clip, tmp_path / "b.mp4")
    (tmp_path / "bad.mp4").write_bytes(os.urandom(20_000))
    result = call_app("video", tmp_path, "--smoother", "hmm", "--workers", "2", "--weights", weights_path)
    assert result.returncode == EXIT_PARTIAL
    assert_one_line_error(result, "bad.mp4", "skipped")
    for stem in ("a", "b"):
        assert len(rows_of(tmp_path / f"{stem}.csv")) == SHORT_CLIP_FRAMES
        for name in (f"{stem}_annotated.mp4", f"{stem}_timeline.png", f"{stem}_summary.json"):
            assert (tmp_path / name).is_file()
    assert not (tmp_path / "bad.csv").exists()
    assert folder_videos(tmp_path) == [tmp_path / "a.mp4", tmp_path / "b.mp4", tmp_path / "bad.mp4"]


def test_a_folder_takes_phone_and_camcorder_videos_too(tmp_path: Path) -> None:
    for name in ("call.3gp", "trip.MTS", "old.mpg", "notes.txt", "clip_annotated.mp4"):
        (tmp_path / name).write_bytes(b"")
    assert folder_videos(tmp_path) == [tmp_path / "call.3gp", tmp_path / "old.mpg", tmp_path / "trip.MTS"]


def test_an_empty_folder_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(call_app("video", tmp_path), "no videos")


def test_a_folder_of_only_annotated_named_videos_says_why_they_are_skipped(tmp_path: Path) -> None:
    shutil.copy(SAMPLE_CLIP, tmp_path / "talk_annotated.mp4")  # the user's own video, named like this app's output
    assert_one_line_error(call_app("video", tmp_path), "no videos", "*_annotated.* are this app's outputs")


def test_a_video_whose_name_is_not_utf8_is_refused_in_a_line_and_the_folder_goes_on(
    tmp_path: Path, weights_path: Path, short_clip: Path
) -> None:
    """Handed such a name, OpenCV's reader crashes the process without a word (a segfault): this runs in a process
    of its own. The name (Latin-1 bytes, legal on Linux) is shown as `ls -b` shows it."""
    try:
        shutil.copy(short_clip, tmp_path / os.fsdecode(b"caf\xe9.mp4"))
    except OSError:
        pytest.skip("this file system takes only UTF-8 names")
    shutil.copy(short_clip, tmp_path / "ok.mp4")
    result = run_app("video", tmp_path, "--weights", weights_path)
    assert result.returncode == EXIT_PARTIAL
    assert_one_line_error(result, f"cannot open {tmp_path}/caf\\xe9.mp4", "not UTF-8", "skipped")
    assert len(rows_of(tmp_path / "ok.csv")) == SHORT_CLIP_FRAMES


def test_a_time_lapse_says_in_a_line_that_its_faces_cannot_be_tracked(
    tmp_path: Path, sample_frames: list, weights_path: Path
) -> None:
    """One frame every 4 s: longer than a track waits for its face, so each frame starts a new track; the rows are
    right, but a user must learn that nothing was smoothed."""
    clip = write_clip(tmp_path / "lapse.mp4", sample_frames[:4], fps=0.25)
    result = call_app("video", clip, "--csv", tmp_path / "o.csv", "--smoother", "hmm", "--weights", weights_path)
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        f"warning: the frames of {clip} are 4.0 s apart on average, longer than a face's track waits for it (2 s): "
        "each frame's faces start new tracks, and nothing is smoothed across frames"
    ]
    assert len({row["track"] for row in rows_of(tmp_path / "o.csv")}) == 4


def test_a_name_in_a_script_the_plot_font_lacks_leaves_stderr_quiet(tmp_path: Path, short_clip: Path) -> None:
    clip = tmp_path / "会議, 日本.mp4"
    shutil.copy(short_clip, clip)
    result = call_app("video", clip, "--csv", tmp_path / "o.csv", "--timeline", tmp_path / "o.png")
    assert (result.returncode, result.stderr) == (0, "")
    assert (tmp_path / "o.png").stat().st_size > 0
