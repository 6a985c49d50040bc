"""The live session as a stream another program follows (`--jsonl FILE|-`: a JSON line per frame, flushed at once),
and the user's own end of a run on a file (q, --max-frames), which is a quit, not a source that stopped."""

from __future__ import annotations

import csv
import json
import os
import select
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.engine.capture import LatestFrameCapture
from app.engine.pipeline import Pipeline
from app.engine.sources import VideoFileSource
from app.live.session import LiveSession
from models.roots import REPO
from smoothing.labels import CLASSES
from tests.app.cli_runner import call_app
from tests.app.live.test_session import CLIP_FRAMES, HappyClassifier
from tests.conftest import SAMPLE_CLIP

FIRST_LINE_TIMEOUT_S = 60  # the interpreter, torch and the weights load first
QUIT_AFTER_S = 0.5  # the clip plays 2.4 s in real time: q comes well before its end
FACE_KEYS = {"track", "box", "observed", "probs", "label", "smoothed", "smoothed_label"}


def test_json_lines_can_be_read_one_by_one_while_the_session_runs(tmp_path: Path, weights_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "app", "live", "--headless", "--source", str(SAMPLE_CLIP), "--jsonl", "-"]
    with subprocess.Popen(
        [*command, "--weights", str(weights_path)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    ) as session:  # fmt: skip
        readable, _, _ = select.select([session.stdout], [], [], FIRST_LINE_TIMEOUT_S)
        assert readable, "no line within the time allowed"
        first = json.loads(session.stdout.readline())
        assert session.poll() is None  # the clip is still playing: the line came as its frame did
        lines = [first, *(json.loads(line) for line in session.stdout)]
        stderr = session.stderr.read()
    assert session.returncode == 0, stderr
    assert "no window (--headless)" in stderr  # the run's own lines keep out of the stream
    frames = [line["frame"] for line in lines]
    assert frames == sorted(set(frames)) and lines[-1]["frame"] < CLIP_FRAMES
    for line in lines:
        assert line["smoother"] == "hmm" and line["t"] >= 0
        assert len(line["faces"]) == 1 or (line["dropped"] and not line["faces"])  # no track before the first face
        for face in line["faces"]:  # seen where analysed; predicted where analysis passed the frame over
            assert set(face) == FACE_KEYS and face["observed"] is not line["dropped"] and face["track"] == 0
            assert set(face["smoothed"]) == set(CLASSES) and (face["probs"] is None) is line["dropped"]
            assert sum(face["smoothed"].values()) == pytest.approx(1.0, abs=1e-4)
            assert face["smoothed_label"] == max(face["smoothed"], key=face["smoothed"].get)
    with (tmp_path / "out" / "live.csv").open(newline="") as file:
        assert [int(row["frame"]) for row in csv.DictReader(file)] == frames  # one line per frame of the CSV


def test_max_frames_on_a_file_is_the_users_end_exit_0_and_a_line_per_frame(tmp_path: Path, weights_path: Path) -> None:
    result = call_app(
        "live", "--headless", "--source", SAMPLE_CLIP, "--max-frames", "5", "--jsonl", "frames.jsonl",
        "--weights", weights_path, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr  # the file was not read to its end, and that is no fault
    assert result.stderr == ""
    lines = [json.loads(line) for line in (tmp_path / "frames.jsonl").read_text().splitlines()]
    assert sum(not line["dropped"] for line in lines) == 5  # the frames analysed; those passed over are predicted


def test_q_ends_a_run_on_a_file_as_the_users_quit(tmp_path: Path) -> None:
    source = VideoFileSource(SAMPLE_CLIP)
    capture = LatestFrameCapture(source, paced=True)
    live = LiveSession(Pipeline(HappyClassifier(), "ema"), capture, source.fps, tmp_path, window=False)
    threading.Timer(QUIT_AFTER_S, live.handle_key, (ord("q"),)).start()
    summary = live.run()
    source.close()
    assert summary.quit and summary.stopped_by is None
    assert summary.captured < CLIP_FRAMES and source.ended_early()  # cut short by q, which the live command accepts
