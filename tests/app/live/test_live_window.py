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

from app.live.view import PAD, Layout, LiveView
from models.roots import REPO
from tests.conftest import SAMPLE_CLIP, read_frames

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
SETTLE_S = 1.0  # lets a few frames through after a key (10 or more at 10+ fps, on a busy machine too)
WINDOW_NAME = "^EmoSmooth$"
TOGGLE_TRIES = 3
TOGGLE_SETTLE_S = 1.0  # a redraw follows a toggle at once; a press X dropped is caught by the check and repeated
HELP_DARKER = 0.8  # the help box darkens the picture's top-left corner to well below this share of its brightness
COLOURED_SPREAD = 60  # max - min channel: class colours are far above, greys (text, background) at 0


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


def screenshot(display: str, out: Path) -> np.ndarray:
    """Presses s until a new screenshot is written, and reads it."""
    before = set(out.glob("screenshot_*.png"))
    assert press_until(display, "s", lambda: set(out.glob("screenshot_*.png")) - before, SCREENSHOT_TIMEOUT_S)
    time.sleep(0.5)  # the PNG is written in one call, but let it land
    (new,) = sorted(set(out.glob("screenshot_*.png")) - before)[:1]
    return cv2.imread(str(new))


def toggle(display: str, key: str, out: Path, check) -> np.ndarray:
    """Presses a toggling key once, and again only if a screenshot shows that X dropped the press."""
    for _ in range(TOGGLE_TRIES):
        press(display, key)
        time.sleep(TOGGLE_SETTLE_S)
        shot = screenshot(display, out)
        if check(shot):
            return shot
    raise AssertionError(f"key {key} had no visible effect in {TOGGLE_TRIES} presses")


def smoothed_bars(shot: np.ndarray) -> np.ndarray:
    """The panel's 'smoothed' bar column of the first face."""
    frame_size = tuple(read_frames(SAMPLE_CLIP)[0].shape[1::-1])
    layout = Layout.of((shot.shape[1], shot.shape[0]), frame_size, 1)
    bars_y, bar_x, bar_w = LiveView._bar_geometry(layout, 0)
    x0 = bar_x + bar_w + layout.scaled(PAD)
    return shot[bars_y : bars_y + 7 * layout.bar_row, x0 : layout.panel_x + layout.panel_w]


def coloured(image: np.ndarray) -> float:
    """Share of strongly coloured pixels (class colours; not the greys of text and background)."""
    channels = image.astype(int)
    return float(((channels.max(axis=2) - channels.min(axis=2)) > COLOURED_SPREAD).mean())


def test_keys_switch_smoother_help_raw_only_fullscreen_screenshot_and_quit(
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
        plain = screenshot(display, out)
        frame = read_frames(SAMPLE_CLIP)[0]
        assert plain.shape == (*LiveView.default_size(frame.shape[1::-1])[::-1], 3)  # the picture and the panel
        layout = Layout.of(plain.shape[1::-1], frame.shape[1::-1], 1)
        corner = (slice(0, layout.video[3] // 4), slice(0, layout.video[2] // 4))  # the help box's corner
        assert coloured(smoothed_bars(plain)) > 0.02  # the smoothed bars are drawn

        helped = toggle(display, "h", out, lambda s: s[corner].mean() < HELP_DARKER * plain[corner].mean())
        toggle(display, "h", out, lambda s: s[corner].mean() > HELP_DARKER * plain[corner].mean())
        raw = toggle(display, "r", out, lambda s: coloured(smoothed_bars(s)) == 0)  # raw only: no smoothed bars
        assert helped.shape == raw.shape == plain.shape
        press(display, "f")  # fullscreen needs a window manager to take effect; here the app must carry on
        time.sleep(SETTLE_S)
        screenshot(display, out)
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
    shots = sorted(out.glob("screenshot_*.png"))
    assert all(f"screenshot: {shot}" in stdout.splitlines() for shot in shots)

    with (tmp_path / "live.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    smoothers = [row["smoother"] for row in rows]
    assert smoothers[0] == "hmm" and smoothers[-1] == "ema"  # the key switched the smoother live
    index = int(shots[0].stem.split("_")[1])
    assert [r for r in rows if int(r["frame"]) == index]  # a screenshot is of a processed frame


FULLSCREEN_CHECK = """
from pathlib import Path
import cv2, numpy as np
from app.live.session import WINDOW_NAME, LiveSession, create_window
session = LiveSession(None, None, 30.0, Path("."))
create_window()
states = []
for press in range(3):
    if press:
        session.handle_key(ord("f"))
    cv2.imshow(WINDOW_NAME, np.zeros((480, 640, 3), np.uint8))
    cv2.waitKey(50)
    states.append(cv2.getWindowProperty(WINDOW_NAME, cv2.WND_PROP_FULLSCREEN))
print(states)
"""


def test_f_asks_for_fullscreen_and_back(display: str) -> None:
    """The window's fullscreen state as the window system has it (without a window manager, as under Xvfb, the
    window keeps its size: what is checked is that f asks for fullscreen and a second f leaves it)."""
    env = {**os.environ, "DISPLAY": display, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", FULLSCREEN_CHECK], env=env, capture_output=True, text=True, timeout=START_TIMEOUT_S
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[0.0,", "1.0,", "0.0]"]
