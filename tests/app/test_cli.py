"""The command line as a user runs it (tests/app/cli_runner.py): the CSV contract, and one-line errors instead of
tracebacks."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import cv2
import pytest

from app.errors import EXIT_USAGE
from app.output.csv_writer import COLUMNS, PROB_COLUMNS, SMOOTHED_COLUMNS, SMOOTHED_PROB_COLUMNS
from models import face_detector
from models.roots import REPO
from tests.app.cli_runner import TIMEOUT_S, call_app, run_app
from tests.app.mp4_tools import faststart
from tests.conftest import SAMPLE_CLIP, count_frames, read_frames

HEADER = "frame,t,face,x,y,w,h,p_angry,p_disgust,p_fear,p_happy,p_sad,p_surprise,p_neutral,label"
PROB_SUM_TOLERANCE = 1e-4  # seven values rounded to 5 decimals
EXIT_PARTIAL = 3


def assert_one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def read_csv(path: Path) -> tuple[str, list[dict[str, str]]]:
    text = path.read_text()
    with path.open(newline="") as file:
        return text.splitlines()[0], list(csv.DictReader(file))


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory, weights_path: Path) -> tuple[Path, Path]:
    """The one `video` run in a process of its own (the others run in this one): `python -m app` end to end."""
    out = tmp_path_factory.mktemp("sample")
    result = run_app("video", SAMPLE_CLIP, "--csv", out / "s.csv", "--video", out / "s.mp4", "--weights", weights_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress bar when stderr is not a terminal, no OpenCV noise
    return out / "s.csv", out / "s.mp4"


def test_sample_clip_csv_has_one_row_per_frame(sample_run: tuple[Path, Path]) -> None:
    header, rows = read_csv(sample_run[0])
    assert header == HEADER
    assert [int(r["frame"]) for r in rows] == list(range(count_frames(SAMPLE_CLIP)))
    times = [float(r["t"]) for r in rows]
    assert all(b > a for a, b in pairwise(times))
    for row in rows:
        assert row["face"] == "0"
        probs = [float(row[c]) for c in PROB_COLUMNS]
        assert abs(sum(probs) - 1.0) < PROB_SUM_TOLERANCE
        assert row["label"] == COLUMNS[COLUMNS.index("p_angry") + probs.index(max(probs))][2:]
        assert int(row["w"]) > 100


def test_annotated_video_has_every_frame(sample_run: tuple[Path, Path]) -> None:
    assert count_frames(sample_run[1]) == count_frames(SAMPLE_CLIP)


def test_no_face_clip_gives_rows_with_empty_fields(tmp_path: Path, shared_media: Path, weights_path: Path) -> None:
    clip = shared_media / "no_face.mp4"
    result = call_app("video", clip, "--csv", tmp_path / "n.csv", "--weights", weights_path)
    assert result.returncode == 0, result.stderr
    header, rows = read_csv(tmp_path / "n.csv")
    assert header == HEADER
    assert len(rows) == count_frames(clip)
    for row in rows:
        assert row["frame"] and row["t"]
        assert all(row[c] == "" for c in COLUMNS[2:])


SMOOTHED_HEADER = HEADER + ",track,s_angry,s_disgust,s_fear,s_happy,s_sad,s_surprise,s_neutral,smoothed_label,observed"


@pytest.mark.parametrize(
    "smoother_args", [("--smoother", "hmm"), ("--smoother", "ema", "--offline")], ids=["hmm", "ema-offline"]
)
def test_smoother_adds_track_and_smoothed_columns_after_the_raw_ones(
    tmp_path: Path, weights_path: Path, short_clip: Path, smoother_args: tuple[str, ...]
) -> None:
    csv_path, video_path = tmp_path / "s.csv", tmp_path / "s.mp4"
    result = call_app(
        "video", short_clip, "--csv", csv_path, "--video", video_path, "--weights", weights_path, *smoother_args
    )
    assert result.returncode == 0, result.stderr
    header, rows = read_csv(csv_path)
    assert header == SMOOTHED_HEADER == ",".join(SMOOTHED_COLUMNS)
    assert len(rows) == count_frames(short_clip)
    for row in rows:
        assert row["track"] == "0" and row["observed"] == "1"  # one person, never out of the picture
        smoothed = [float(row[c]) for c in SMOOTHED_PROB_COLUMNS]
        assert abs(sum(smoothed) - 1.0) < PROB_SUM_TOLERANCE
        assert row["smoothed_label"] == SMOOTHED_PROB_COLUMNS[smoothed.index(max(smoothed))][2:]
    assert count_frames(video_path) == count_frames(short_clip)


def test_unknown_smoother_fails_before_any_work(tmp_path: Path) -> None:
    result = call_app("video", SAMPLE_CLIP, "--csv", tmp_path / "o.csv", "--smoother", "kalman")
    assert_one_line_error(result, "unknown smoother 'kalman'", "available: none, ema", "hmm")
    assert not (tmp_path / "o.csv").exists()


def test_offline_needs_a_smoother(tmp_path: Path) -> None:
    assert_one_line_error(call_app("video", SAMPLE_CLIP, "--csv", tmp_path / "o.csv", "--offline"), "--smoother")


def test_missing_file(tmp_path: Path) -> None:
    result = call_app("video", tmp_path / "nope.mp4", "--csv", tmp_path / "o.csv")
    assert_one_line_error(result, "no such file")
    assert not (tmp_path / "o.csv").exists()


@pytest.mark.parametrize("options", [(), ("--resume",), ("--workers", "2")])
def test_a_missing_path_is_said_before_options_that_depend_on_file_or_folder(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    """Not "--csv FILE is needed for a single video" nor "--resume is for a folder": the path is what is wrong."""
    result = call_app("video", tmp_path / "gone", *options)
    assert_one_line_error(result, f"no such file or folder: {tmp_path / 'gone'}")


@pytest.mark.parametrize(
    ("content", "words"),
    [(os.urandom(50_000), ("not a video",)), (b"", ("empty",)), (SAMPLE_CLIP.read_bytes()[:120_000], ("truncated",))],
    ids=["random-bytes", "empty", "cut-before-index"],
)
def test_corrupt_file(tmp_path: Path, content: bytes, words: tuple[str, ...]) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    assert_one_line_error(call_app("video", bad, "--csv", tmp_path / "o.csv"), *words)


def test_unreadable_weights(tmp_path: Path) -> None:
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"not a checkpoint")
    assert_one_line_error(call_app("video", SAMPLE_CLIP, "--csv", tmp_path / "o.csv", "--weights", weights), "weights")


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_damaged_face_detector_model_is_named_in_one_line(
    tmp_path: Path, weights_path: Path, damage: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The product's YuNet model file missing or not a model (the detector reads models.face_detector.MODEL_FILE
    when it is built, so pointing that at a damaged copy stands for a damaged checkout)."""
    model = tmp_path / "face_detection_yunet_2023mar.onnx"
    if damage == "corrupt":
        model.write_bytes(b"not an onnx model")
    monkeypatch.setattr(face_detector, "MODEL_FILE", model)
    result = call_app("video", SAMPLE_CLIP, "--csv", tmp_path / "o.csv", "--weights", weights_path)
    assert_one_line_error(result, "face detector model", model.name)


def test_unwritable_outputs(tmp_path: Path, weights_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder would have to be")
    assert_one_line_error(call_app("video", SAMPLE_CLIP, "--csv", blocker / "o.csv", "--weights", weights_path), "file")
    result = call_app(
        "video", SAMPLE_CLIP, "--csv", tmp_path / "o.csv", "--video", tmp_path / "o.xyz", "--weights", weights_path
    )
    assert_one_line_error(result, "cannot write video")


def test_an_output_named_as_the_input_or_as_another_output_is_refused_and_nothing_is_lost(
    tmp_path: Path, weights_path: Path
) -> None:
    clip = tmp_path / "clip.mp4"
    shutil.copy(SAMPLE_CLIP, clip)
    os.link(clip, tmp_path / "clip.csv")  # the same file under a CSV's name
    live = call_app("live", "--source", clip, "--headless", "--csv", tmp_path / "clip.csv", "--weights", weights_path)
    assert_one_line_error(live, "would overwrite the input")
    photo = tmp_path / "photo.png"
    assert cv2.imwrite(str(photo), read_frames(SAMPLE_CLIP)[0])
    assert_one_line_error(call_app("image", photo, "--csv", photo), "would overwrite the input")
    both = call_app("video", clip, "--csv", tmp_path / "o.csv", "--summary", tmp_path / "o.csv")
    assert_one_line_error(both, "named for two outputs")
    assert clip.read_bytes() == SAMPLE_CLIP.read_bytes() and cv2.imread(str(photo)) is not None


def test_a_closed_stdout_leaves_the_run_and_its_outputs_whole(tmp_path: Path, weights_path: Path) -> None:
    """`emosmooth ... >&-` (as some job runners start it): the lines meant for stdout go nowhere, the work is done."""
    photo, table = tmp_path / "photo.png", tmp_path / "faces.csv"
    assert cv2.imwrite(str(photo), read_frames(SAMPLE_CLIP)[0])
    result = subprocess.run(
        [sys.executable, "-m", "app", "image", str(photo), "--csv", str(table), "--weights", str(weights_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=None,
        stderr=subprocess.PIPE,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=lambda: os.close(1),  # the child's own stdout, closed before it starts
    )
    assert result.returncode == 0 and result.stderr == ""
    assert len(read_csv(table)[1]) == 1


def test_truncated_video_keeps_the_rows_already_written(tmp_path: Path, weights_path: Path) -> None:
    data = faststart(SAMPLE_CLIP.read_bytes())  # index in front: the cut file opens and plays up to the cut
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(0.6 * len(data))])
    result = call_app("video", cut, "--csv", tmp_path / "o.csv", "--weights", weights_path)
    assert result.returncode == EXIT_PARTIAL
    assert_one_line_error(result, "truncated")
    _, rows = read_csv(tmp_path / "o.csv")
    assert 0 < len(rows) < 72
    assert f"ended after {len(rows)} of 72 frames" in result.stderr


def test_a_photo_given_to_video_is_sent_to_image(tmp_path: Path) -> None:
    photo = tmp_path / "face.webp"
    assert cv2.imwrite(str(photo), read_frames(SAMPLE_CLIP)[0])
    result = call_app("video", photo, "--csv", tmp_path / "o.csv")
    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result, "face.webp is an image", "python -m app image")


def test_demo_with_a_missing_camera_index(tmp_path: Path) -> None:
    assert_one_line_error(call_app("demo", "--source", "97", cwd=tmp_path), "camera 97")
    negative = call_app("live", "--source", "-1", cwd=tmp_path)  # no file of that name there: a camera mistyped
    assert negative.returncode == EXIT_USAGE
    assert_one_line_error(negative, "no camera -1: camera indices start at 0")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X display check is Linux only")
@pytest.mark.parametrize("display", ["", ":97", "unix:97.0", "127.0.0.1:97", "garbage"])
def test_dead_x_display_is_not_used(monkeypatch: pytest.MonkeyPatch, display: str) -> None:
    """OpenCV's Qt aborts the process on a dead DISPLAY, so the demo must not try to open a window there."""
    from app import cli

    monkeypatch.setenv("DISPLAY", display)
    assert not cli.has_display()


def test_the_installed_emosmooth_command_works_from_any_folder(tmp_path: Path, short_clip: Path) -> None:
    command = Path(sys.executable).parent / "emosmooth"
    if not command.is_file():
        pytest.skip("emosmooth is not installed in this environment (`make` runs pip install -e .)")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "EMOSMOOTH_DEBUG")}
    result = subprocess.run(
        [str(command), "video", str(short_clip), "--csv", "s.csv"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr
    assert read_csv(tmp_path / "s.csv")[0] == HEADER


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), "the following arguments are required: COMMAND (python -m app --help"),
        (("video",), "the following arguments are required: path (python -m app video --help"),
        (("video", "a.mp4", "--bogus"), "unrecognized arguments: --bogus"),
        (("live", "--width", "1", "--height", "5"), "argument --width: must be 2 to 7680 (8K) pixels, got 1"),
        (("live", "--max-frames", "abc"), "argument --max-frames: not a whole number: 'abc'"),  # not "positive_int"
    ],
)
def test_a_command_line_argparse_refuses_is_one_error_line_too(args: tuple[str, ...], words: str) -> None:
    result = call_app(*args)
    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result, words)


def test_an_out_dir_that_is_a_file_is_refused_before_the_session(tmp_path: Path) -> None:
    """With a window, screenshots are the folder's only files: a file there would otherwise end the session at the
    first `s`."""
    (tmp_path / "notes").write_text("")
    result = call_app("live", "--source", SAMPLE_CLIP, "--out-dir", tmp_path / "notes")
    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result, f"--out-dir {tmp_path / 'notes'} is a file, not a folder")


def test_bench_runs_the_benchmarks_with_their_own_options() -> None:
    result = call_app("bench", "speed")
    assert result.returncode == EXIT_USAGE
    assert_one_line_error(result, "argument BENCHMARK: invalid choice: 'speed'", "'real'")
    assert result.stderr.endswith("(python -m app bench --help lists the options)\n")  # as the user called it


def test_version_names_the_installed_package(capsys):
    import importlib.metadata

    from app.cli import build_parser

    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"emosmooth {importlib.metadata.version('emosmooth')}"
