"""The live window for real: Xvfb as the display, xdotool as the user's keyboard, the sample clip as the camera."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.conftest import REPO, SAMPLE_CLIP, read_frames

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Xvfb is a Linux X server"),
    pytest.mark.skipif(
        shutil.which("Xvfb") is None or shutil.which("xdotool") is None,
        reason="needs Xvfb and xdotool (apt-get install -y xvfb xdotool)",
    ),
]

CLIP_FRAMES = 72
START_TIMEOUT_S = 60  # the app loads torch and the weights before its window opens
SCREENSHOT_TIMEOUT_S = 20
KEY_RETRY_S = 3  # a key sent while the window is still mapping or resizing can miss it; send it again
EXIT_TIMEOUT_S = 20
SETTLE_S = 2.5  # lets a few frames through after a key, on a busy machine too
WINDOW_NAME = "^EmoSmooth$"


@pytest.fixture
def display() -> Iterator[str]:
    """A fresh Xvfb display; Xvfb picks a free number itself and writes it to the pipe."""
    read_end, write_end = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()
    if not number:
        server.kill()
        pytest.skip("Xvfb did not start")
    yield f":{number}"
    server.terminate()
    server.wait(timeout=10)


def xdotool(display: str, *args: str) -> str:
    result = subprocess.run(
        ["xdotool", *args], env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=30
    )
    return result.stdout.strip()


def wait_for(condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def press(display: str, key: str) -> None:
    """Focuses the app's window, then types the key, as a user clicking into the window would."""
    for window in xdotool(display, "search", "--onlyvisible", "--name", WINDOW_NAME).split():
        xdotool(display, "windowfocus", "--sync", window)
    xdotool(display, "key", key)


def press_until(display: str, key: str, condition, timeout_s: float) -> bool:
    """Presses the key again every few seconds until the condition holds (X may drop a key sent mid-resize)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        press(display, key)
        if wait_for(condition, min(KEY_RETRY_S, deadline - time.monotonic())):
            return True
    return False


def test_keys_switch_smoother_save_a_screenshot_with_the_overlay_and_quit(
    display: str, tmp_path: Path, weights_path: Path
) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "DISPLAY": display, "PYTHONPATH": str(REPO)}
    app = subprocess.Popen(
        [
            *(sys.executable, "-m", "app", "live", "--source", str(SAMPLE_CLIP), "--loop", "--smoother", "hmm"),
            *("--out-dir", str(out), "--csv", str(tmp_path / "live.csv"), "--weights", str(weights_path)),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: xdotool(display, "search", "--onlyvisible", "--name", WINDOW_NAME), START_TIMEOUT_S)
        time.sleep(SETTLE_S)
        press(display, "2")  # smoother 2 of smoothing.available(): ema
        time.sleep(SETTLE_S)
        assert press_until(display, "s", lambda: any(out.glob("screenshot_*.png")), SCREENSHOT_TIMEOUT_S)
        press(display, "2")  # idempotent: the run ends on ema even if X dropped the first press
        press_until(display, "q", lambda: app.poll() is not None, EXIT_TIMEOUT_S)
        stdout, stderr = app.communicate(timeout=EXIT_TIMEOUT_S)
    except AssertionError as failure:
        app.kill()
        raise AssertionError(f"{failure}\nthe app's stderr:\n{app.communicate()[1]}") from None
    finally:
        if app.poll() is None:
            app.kill()
            app.communicate()
    assert app.returncode == 0, stderr
    shot = sorted(out.glob("screenshot_*.png"))[0]  # a retried press may have saved a second one
    assert f"screenshot: {shot}" in stdout.splitlines()

    with (tmp_path / "live.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    smoothers = [row["smoother"] for row in rows]
    assert smoothers[0] == "hmm" and smoothers[-1] == "ema"  # the key switched the smoother live

    index = int(shot.stem.split("_")[1])
    (row,) = [r for r in rows if int(r["frame"]) == index]  # the screenshot is of a processed frame
    x, y, w, h = (int(row[c]) for c in ("x", "y", "w", "h"))
    raw = read_frames(SAMPLE_CLIP)[index % CLIP_FRAMES]
    image = cv2.imread(str(shot))
    assert image.shape == raw.shape
    differs = np.any(image != raw, axis=2)
    assert differs[y : y + h, x : x + 2].mean() > 0.9  # the box's left edge
    assert differs[y : y + h // 2, x + w + 10 : x + w + 100].mean() > 0.3  # the bars beside it
    assert differs[:10].mean() > 0.9  # the status line
    assert not differs[60:300, : max(x - 10, 0)].any()  # left of the box the picture is the raw frame
