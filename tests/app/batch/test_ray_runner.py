"""`video FOLDER --ray` on a local Ray instance with 2 CPUs, as a user runs it: the same files as
local worker processes, a damaged file failed alone. (--resume picks the videos before any runner sees them, the
same for Ray as for local workers: tests/app/batch/test_folder.py.)"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import cv2
import pytest

from app.batch.video import VideoJob
from app.errors import EXIT_ERROR, EXIT_PARTIAL
from tests.app.cli_runner import call_app
from tests.app.test_cli import assert_one_line_error
from tests.conftest import SAMPLE_CLIP, read_frames, write_clip

ray = pytest.importorskip("ray", reason="Ray is not installed (requirements.txt pins it)")

RAY_CPUS = "2"  # two tasks at once, as the local run has two worker processes
SHORT_FRAMES = 40  # the second clip: mirrored and shorter than the sample, so that outputs swapped would show
GOOD = ("a", "b")
BAD_BYTES = 20_000
CANNOT_START = "cannot start a local Ray instance"
RUNS = {
    "local": ("--workers", RAY_CPUS),
    "ray": ("--ray", "--workers", RAY_CPUS),
}


def make_folder(folder: Path, short_clip: Path, bad: bytes) -> Path:
    shutil.copy(SAMPLE_CLIP, folder / "a.mp4")
    shutil.copy(short_clip, folder / "b.mp4")
    (folder / "bad.mp4").write_bytes(bad)
    return folder


def write_short_clip(path: Path) -> Path:
    """The sample's first frames, mirrored: a second clip unlike the first."""
    return write_clip(path, [cv2.flip(frame, 1) for frame in read_frames(SAMPLE_CLIP)[:SHORT_FRAMES]])


def skip_unless_ray_started(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode == EXIT_ERROR and CANNOT_START in result.stderr:
        pytest.skip(f"Ray cannot start here: {result.stderr.strip()}")


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory, weights_path: Path
) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """The same folder processed by two local workers and by two Ray tasks: each run's folder and result."""
    short_clip = write_short_clip(tmp_path_factory.mktemp("clips") / "short.mp4")
    bad = os.urandom(BAD_BYTES)
    done = {}
    for how, options in RUNS.items():
        folder = make_folder(tmp_path_factory.mktemp(how), short_clip, bad)
        result = call_app("video", folder, "--smoother", "hmm", *options, "--weights", weights_path)
        if how == "ray":
            skip_unless_ray_started(result)
        done[how] = (folder, result)
    return done


def test_ray_writes_the_same_rows_as_local_workers(runs: dict) -> None:
    names = [f"{stem}.csv" for stem in GOOD] + ["summary.csv"]
    ray_folder = runs["ray"][0]
    local_folder = runs["local"][0]
    for name in names:
        assert (ray_folder / name).read_bytes() == (local_folder / name).read_bytes(), f"{name}: ray != local"
    assert len((ray_folder / "summary.csv").read_text().splitlines()) == 1 + len(GOOD)  # one track each, and a header


def test_a_damaged_file_fails_alone_on_ray(runs: dict) -> None:
    folder, result = runs["ray"]
    assert result.returncode == EXIT_PARTIAL
    assert_one_line_error(result, "bad.mp4", "skipped")  # and no line of Ray's own on the terminal
    for stem in GOOD:
        assert f"{stem}.mp4: " in result.stdout
        assert (folder / f"{stem}.csv").is_file() and (folder / f"{stem}_complete.json").is_file()
    assert not (folder / "bad.csv").exists()


def test_a_task_whose_worker_dies_fails_its_video_alone(tmp_path: Path) -> None:
    """The driver's side of a crash: a RayError from the task becomes that video's one-line failure."""
    from app.batch.ray_runner import connect, outcome
    from app.errors import AppError

    try:
        connect(ray, None, 1)
    except AppError as error:
        pytest.skip(f"Ray cannot start here: {error}")

    def die() -> None:
        os._exit(1)

    try:
        crash = ray.remote(max_retries=0)(die).remote()
        video = tmp_path / "v.mp4"
        result = outcome(ray, crash, VideoJob(video, video.with_suffix(".csv")))
    finally:
        ray.shutdown()
    assert result.path == video and result.code == EXIT_ERROR
    assert result.message.startswith("Ray task failed: ") and "\n" not in result.message


def answering(reply: bytes) -> tuple[socket.socket, threading.Thread]:
    """A one-connection server on a free local port that reads the client's opening and sends `reply`."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(64)
            connection.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


@pytest.mark.parametrize(
    ("reply", "refused"),
    [(b"HTTP/1.0 400 Bad Request\r\n\r\n<!DOCTYPE html>", True),  # a web server: the dashboard's port, say
     (bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]), False)],  # HTTP/2's SETTINGS frame, as a head's gRPC answers
)  # fmt: skip
def test_an_address_where_something_other_than_a_ray_head_answers_is_refused_at_once(
    reply: bytes, refused: bool
) -> None:
    """ray.init retries such an address for minutes, printing Ray's own lines; the check takes a moment."""
    from app.batch.ray_runner import check_reachable
    from app.errors import AppError

    server, thread = answering(reply)
    address = f"127.0.0.1:{server.getsockname()[1]}"
    try:
        if refused:
            with pytest.raises(AppError, match=rf"^cannot connect to the Ray cluster at {address}: .*not a Ray head"):
                check_reachable(address)
        else:
            check_reachable(address)
    finally:
        thread.join(timeout=5)
        server.close()


def test_an_address_where_nothing_listens_is_refused_at_once() -> None:
    from app.batch.ray_runner import check_reachable
    from app.errors import AppError

    with socket.create_server(("127.0.0.1", 0)) as server:
        address = f"127.0.0.1:{server.getsockname()[1]}"
    with pytest.raises(AppError, match=rf"^cannot connect to the Ray cluster at {address}: "):
        check_reachable(address)
