"""The live view: the picture is covered only by boxes and labels that stay inside it, the panel holds each face's
label, bars and timeline, and the whole view follows the window's size."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from app.engine.results import FaceResult, FrameResult
from app.live.view import (
    BACKGROUND,
    FONT,
    GRACE_S,
    MAX_PANEL_FACES,
    PAD,
    SMALL_FONT,
    TITLE_LINE,
    FaceTrails,
    Layout,
    LiveView,
    Status,
    TextStamps,
    copy_outside,
    place_label,
)
from app.output.colours import CLASS_COLOURS
from models.face_detector import Detection
from smoothing.labels import CLASSES

HAPPY, SAD, NEUTRAL = (CLASSES.index(name) for name in ("happy", "sad", "neutral"))
FRAME_SIZE = (640, 480)
PATCH_PIXELS = 40
STATUS = Status(
    camera_fps=30.0, shown_fps=30.0, processed_fps=12.5, latency_ms=80.0, dropped_share=0.58, smoother="hmm"
)


def peaked(index: int, top: float = 0.88) -> np.ndarray:
    probs = np.full(7, (1 - top) / 6)
    probs[index] = top
    return probs


def face(track: int, x: int = 200, y: int = 150, size: int = 120, raw: int = HAPPY, shown: int = NEUTRAL) -> FaceResult:
    return FaceResult(Detection(x, y, size, size, 0.9), peaked(raw), track, peaked(shown, 0.7))


def frame() -> np.ndarray:
    """A mid-grey picture: every class colour and the panel's dark grey stand out from it."""
    return np.full((FRAME_SIZE[1], FRAME_SIZE[0], 3), 128, np.uint8)


def render(view: LiveView, faces: list[FaceResult], t: float = 1.0, **options) -> tuple[np.ndarray, Layout]:
    result = FrameResult(int(t * 30), t, faces)
    view.add(result, t)
    size = options.pop("size", None)
    shown = view.render(frame(), result, t, options.pop("status", STATUS), size, **options)
    layout, _ = view._background(size or view.default_size(FRAME_SIZE), FRAME_SIZE, len(view.trails.tracks))
    return shown, layout


def picture_of(shown: np.ndarray, layout: Layout) -> np.ndarray:
    x, y, w, h = layout.video
    return shown[y : y + h, x : x + w]


def has_colour(image: np.ndarray, colour: tuple[int, int, int]) -> bool:
    """Whether a patch of that colour is drawn: more pixels than anti-aliased text's edges happen to hit."""
    return int(np.all(image == colour, axis=-1).sum()) > PATCH_PIXELS


def test_a_label_goes_above_the_box_then_below_then_inside_and_never_past_the_sides() -> None:
    area = (0, 0, 640, 480)
    assert place_label((100, 100, 80, 80), (90, 20), area) == (100, 80)  # room above
    assert place_label((100, 0, 80, 80), (90, 20), area) == (100, 80)  # touching the top: below
    assert place_label((100, 0, 80, 480), (90, 20), area) == (100, 0)  # as tall as the picture: inside
    assert place_label((600, 100, 40, 40), (90, 20), area) == (550, 80)  # at the right edge: pulled in
    assert place_label((-30, 100, 80, 80), (90, 20), area) == (0, 80)


def test_the_label_of_a_face_touching_the_top_edge_is_inside_the_picture() -> None:
    shown, layout = render(LiveView(), [face(0, y=0)])
    picture = picture_of(shown, layout)
    label_rows = np.all(picture == CLASS_COLOURS[NEUTRAL], axis=-1).any(axis=1)
    box_bottom = round(120 * layout.video[3] / FRAME_SIZE[1])
    assert label_rows[box_bottom + 4 : box_bottom + 12].all()  # the filled tab just below the box
    assert layout.video[1] == 0 and not has_colour(shown[:, layout.panel_x :][:1], CLASS_COLOURS[NEUTRAL])


def test_the_picture_is_covered_only_by_the_box_and_its_label() -> None:
    shown, layout = render(LiveView(), [face(0)])
    picture = picture_of(shown, layout)
    scale = layout.video[3] / FRAME_SIZE[1]
    untouched = np.ones(picture.shape[:2], bool)
    x0, y0, x1, y1 = (round(v * scale) for v in (200 - 2, 150 - 30, 320 + 80, 270 + 2))  # box and the tab above it
    untouched[y0:y1, x0:x1] = False
    assert np.all(picture[untouched] == 128)
    assert has_colour(picture, CLASS_COLOURS[NEUTRAL])  # box and tab in the smoothed class's colour


def test_the_panel_shows_each_face_with_smoothed_bars_and_its_timeline() -> None:
    view = LiveView()
    for step in range(30):
        shown, layout = render(view, [face(0, shown=SAD if step < 15 else HAPPY)], t=step / 10)
    panel = shown[:, layout.panel_x + 1 :]
    assert not np.all(panel == BACKGROUND, axis=-1).all()
    for colour in (CLASS_COLOURS[SAD], CLASS_COLOURS[HAPPY]):  # both runs are on the timeline
        assert has_colour(panel, colour)
    raw_only, _ = render(view, [face(0)], t=3.1, status=replace(STATUS, raw_only=True))
    above_legend = raw_only[: layout.legend_y, layout.panel_x :]
    assert not has_colour(above_legend, CLASS_COLOURS[NEUTRAL])  # no smoothed bar, title or band


def test_no_face_is_said_calmly_and_a_face_that_left_stays_greyed_for_its_grace_period() -> None:
    view = LiveView()
    empty, layout = render(view, [], t=0.0)
    render(view, [face(0)], t=1.0)
    left, _ = render(view, [], t=1.5)
    assert 0 in view.trails.tracks and not view.trails.present(0)
    panel = left[: layout.legend_y, layout.panel_x + 1 :]
    assert not has_colour(panel, CLASS_COLOURS[NEUTRAL])  # greyed: no full-strength colour
    gone, _ = render(view, [], t=1.0 + GRACE_S + 0.1)
    assert view.trails.tracks == {}
    assert np.array_equal(gone[:, layout.panel_x : layout.status_y], empty[:, layout.panel_x : layout.status_y])


def predicted(track: int, shown: int, x: int = 200, y: int = 150, size: int = 120) -> FaceResult:
    """A live track in a frame shown before it was analysed: its last box and a belief predicted to the frame."""
    return FaceResult(Detection(x, y, size, size, 0.9), None, track, peaked(shown, 0.7))


def edge_width(picture: np.ndarray, layout: Layout, colour: tuple[int, int, int]) -> int:
    """How many pixels thick the left edge of the box at x=200, y=150..270 is drawn."""
    scale = layout.video[3] / FRAME_SIZE[1]
    row = picture[round(210 * scale), round(190 * scale) : round(215 * scale)]
    return int(np.all(row == colour, axis=-1).sum())


def test_a_frame_shown_before_analysis_has_each_track_at_its_box_with_the_predicted_belief() -> None:
    view = LiveView()
    render(view, [face(0, raw=HAPPY, shown=NEUTRAL)], t=1.0)  # the newest analysed frame
    result = FrameResult(31, 1.03, predicted=[predicted(0, SAD)])
    shown = view.render(frame(), result, 1.03, STATUS)
    layout, _ = view._background(view.default_size(FRAME_SIZE), FRAME_SIZE, 1)
    picture = picture_of(shown, layout)
    assert has_colour(picture, CLASS_COLOURS[SAD]) and not has_colour(picture, CLASS_COLOURS[NEUTRAL])
    title = shown[: layout.scaled(TITLE_LINE), layout.panel_x :]
    assert has_colour(title, CLASS_COLOURS[SAD])  # the panel says what the picture says
    raw_only = view.render(frame(), result, 1.03, replace(STATUS, raw_only=True))
    assert has_colour(picture_of(raw_only, layout), CLASS_COLOURS[HAPPY])  # raw: the last sighting's


def test_a_track_the_newest_analysis_missed_is_drawn_with_a_thin_box() -> None:
    view = LiveView()
    layout, _ = view._background(view.default_size(FRAME_SIZE), FRAME_SIZE, 1)
    widths = []
    for analysed in ([face(0)], []):  # the face found by the newest analysis, then missed by it
        render(view, analysed, t=1.0 + 0.1 * len(widths))
        shown = view.render(frame(), FrameResult(40, 1.33, predicted=[predicted(0, SAD)]), 1.33, STATUS)
        widths.append(edge_width(picture_of(shown, layout), layout, CLASS_COLOURS[SAD]))
    seen, missed = widths
    assert missed < seen and missed > 0


def test_faces_beyond_the_panel_are_counted_on_one_line() -> None:
    view = LiveView()
    faces = [face(track, x=10 + 100 * track, size=90) for track in range(MAX_PANEL_FACES + 2)]
    shown, layout = render(view, faces)
    assert layout.sections == MAX_PANEL_FACES and layout.compact  # four faces at 480 px: two stacked bars each
    assert shown.shape[:2] == (480, LiveView.default_size(FRAME_SIZE)[0])


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (700, 300)])
def test_the_view_is_drawn_at_the_window_size_with_the_picture_whole(size: tuple[int, int]) -> None:
    shown, layout = render(LiveView(), [face(0)], size=size)
    assert shown.shape == (size[1], size[0], 3)
    x, y, w, h = layout.video
    assert x + w <= layout.panel_x and y + h <= size[1]
    assert w / h == pytest.approx(FRAME_SIZE[0] / FRAME_SIZE[1], rel=0.01)


@pytest.mark.parametrize("size", [(1024, 480), (1920, 1080), (683, 768), (960, 1080), (700, 1000), (320, 900)])
def test_the_panels_text_fits_its_width_in_any_window_shape(size: tuple[int, int]) -> None:
    """Type follows the window's height, but a tall, narrow window (a laptop's half screen) must not push the
    status lines past the panel's right edge."""
    layout = Layout.of(size, FRAME_SIZE, 1)
    for line in STATUS.lines():
        (width, _), _ = cv2.getTextSize(line, FONT, SMALL_FONT * layout.zoom, 1)
        assert layout.scaled(PAD) + width <= layout.panel_w, line


def test_a_huge_picture_gets_a_view_a_screen_can_show() -> None:
    """An 8K camera picture beside its panel would be 13824 px wide: no screen shows it, no encoder records it."""
    assert LiveView.default_size((7680, 7680)) == (1944, 1080)
    assert LiveView.default_size((320, 240)) == (1024, 480)  # a small one is enlarged so the panel stays readable


def test_help_and_hint_are_drawn_over_the_picture_only() -> None:
    view = LiveView([("1", "none"), ("2", "ema")])
    plain, layout = render(view, [face(0)])
    helped = view.render(frame(), FrameResult(30, 1.0, [face(0)]), 1.0, STATUS, show_help=True)
    hinted = view.render(frame(), FrameResult(30, 1.0, [face(0)]), 1.0, STATUS, show_hint=True)
    for drawn in (helped, hinted):
        assert not np.array_equal(picture_of(drawn, layout), picture_of(plain, layout))
        assert np.array_equal(drawn[:, layout.panel_x :], plain[:, layout.panel_x :])


def test_status_names_rates_latency_drops_smoother_and_detector() -> None:
    assert STATUS.lines() == (
        "camera 30.0 fps, shown 30.0, analysed 12.5",
        "latency 80 ms, dropped 58%",
        "smoother hmm, detector yunet",
    )


def test_trails_keep_one_run_per_stretch_of_a_class_over_the_last_ten_seconds() -> None:
    trails = FaceTrails()
    shown = [NEUTRAL] * 10 + [HAPPY] * 10 + [SAD] * 10  # 5 s of each, one frame every 0.5 s
    for step, label in enumerate(shown):
        trails.add(FrameResult(step, step * 0.5, [face(3, shown=label)]))
    trail = trails.tracks[3]
    assert list(trail.shown_runs) == [(0.0, NEUTRAL), (5.0, HAPPY), (10.0, SAD)]
    assert list(trail.raw_runs) == [(0.0, HAPPY)]  # the raw class never changed: one run
    trails.prune(now=15.5)  # 10 s back is 5.5: the neutral run ended before that
    assert list(trail.shown_runs) == [(5.0, HAPPY), (10.0, SAD)]


def test_a_word_is_stamped_exactly_as_puttext_draws_it() -> None:
    direct, stamped = np.full((60, 200, 3), BACKGROUND, np.uint8), np.full((60, 200, 3), BACKGROUND, np.uint8)
    cv2.putText(direct, "happy", (10, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.75, (235, 235, 235), 2, cv2.LINE_AA)
    stamps = TextStamps()
    for _ in range(2):  # drawn, then copied
        stamps.draw(stamped, "happy", (10, 40), 0.75, (235, 235, 235), BACKGROUND, 2)
        assert np.array_equal(stamped, direct)


def test_the_unchanging_parts_are_drawn_once_for_every_view_of_that_size() -> None:
    """A new view (the next file of a folder, a restarted stream) reuses what an earlier one drew."""
    first, second = LiveView(), LiveView()
    render(first, [face(0)], t=1.0)
    drawn = {key: background for key, (_, background) in first._backgrounds.items()}
    render(first, [face(0)], t=1.1)
    render(second, [face(0)], t=1.0)
    assert second._backgrounds is first._backgrounds
    assert all(first._backgrounds[key][1] is background for key, background in drawn.items())


def test_a_line_is_stamped_word_by_word_where_puttext_puts_it() -> None:
    direct, stamped = np.full((60, 300, 3), BACKGROUND, np.uint8), np.full((60, 300, 3), BACKGROUND, np.uint8)
    line = "surprise 0.87 #12"
    cv2.putText(direct, line, (10, 40), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (235, 235, 235), 1, cv2.LINE_AA)
    TextStamps().draw(stamped, line, (10, 40), 0.55, (235, 235, 235), BACKGROUND)
    ink = np.any(direct != BACKGROUND, axis=-1)
    assert (np.any(stamped != direct, axis=-1) & ink).mean() < 0.05  # at most a pixel's shift in a few glyphs
    assert TextStamps().width(line, 0.55) == pytest.approx(
        cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, 0.55, 1)[0][0], abs=2
    )


def test_copy_outside_leaves_the_picture_area_to_be_drawn() -> None:
    source = np.full((6, 8, 3), 7, np.uint8)
    target = np.zeros_like(source)
    copy_outside(target, source, (2, 1, 3, 4))  # x, y, w, h
    assert (target[1:5, 2:5] == 0).all()
    target[1:5, 2:5] = 7
    assert (target == source).all()
