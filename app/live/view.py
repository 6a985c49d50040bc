"""The live view: the video on the left, covered only by each face's box and a compact label placed inside the frame,
and a panel on the right with, per face, the smoothed label in large type, raw and smoothed bars side by side and a
10 s timeline, then a legend and the status. It is drawn at whatever size the window has, from the pipeline's
per-frame results only; what does not change from frame to frame (names, axes, legend) is drawn once per size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from app.engine.results import FaceResult, FrameResult
from app.engine.tracker import TRACK_TIMEOUT_S
from app.output.colours import CLASS_COLOURS
from smoothing.labels import CLASSES, NUM_CLASSES

HISTORY_S = 10.0  # each face's timeline shows this many seconds
GRACE_S = TRACK_TIMEOUT_S  # a face that left keeps its (greyed) panel as long as its track may still come back
MAX_PANEL_FACES = 4  # faces with a panel of their own; the others are counted on one line
REFERENCE_HEIGHT = 480  # px; every size below is for a view this high and scales with the window
PANEL_RATIO = 0.8  # panel width per px of view height: 384 px beside 480, room for the names and two bar columns
MIN_VIEW_HEIGHT = 480  # a smaller camera picture is shown enlarged, so that the panel's text stays readable
# a larger one is shown reduced to a full-HD screen's height: an 8K picture beside its panel would make a window (and a
# recording) 13824 px wide, which no screen shows and video encoders refuse; fullscreen still fills a larger screen
MAX_VIEW_HEIGHT = 1080
MIN_WINDOW = (320, 240)  # a smaller window is drawn at the least size of its shape that is not, then scaled down
HINT_S = 3.0  # the "h: keys" hint shows this long after the start
STATUS_REFRESH_S = 0.5  # the status figures change every frame; a line that changes faster than this cannot be read
FONT = cv2.FONT_HERSHEY_SIMPLEX
SMALL_FONT = 0.42
LABEL_FONT = 0.55  # the compact label on the video
TITLE_FONT = 0.75  # a face's smoothed label in the panel
PAD = 6
LINE = 15  # a line of small text
TITLE_LINE = 26
STATUS_LINES = 3
BAR_ROW_MAX = 20  # a bar row stops growing here; a tall window leaves room below instead of fat bars
MIN_BAR_ROW = 9  # below this a row per class is unreadable: the section shows two stacked bars (raw, smoothed) instead
COMPACT_ROW_MAX = 14
TIMELINE_MAX = 34
NAME_WIDTH = 72  # px for the class names before the bars
SWATCH = 10  # px of a legend entry's colour square
BOX_THICKNESS = 2
MISSED_BOX_THICKNESS = 1  # a track whose face the newest analysed frame missed: still shown, but visibly less sure
BACKGROUND = (30, 30, 30)  # the panel, and the bars beside the video when the window is wider than the picture
LIGHT_TEXT = (235, 235, 235)
DIM_TEXT = (150, 150, 150)
RAW_BAR = (235, 235, 235)  # white: apart from every class colour, neutral's light grey included
LABEL_TEXT = (0, 0, 0)
GREYED_ALPHA = 0.35  # how much of a face's panel still shows once its face has left
OVERLAY_ALPHA = 0.3  # how much of the video shows through the help box


@dataclass(frozen=True)
class Status:
    """What the status lines report."""

    camera_fps: float
    shown_fps: float  # frames drawn: every captured one, predicted to its time, while analysis takes the newest
    processed_fps: float
    latency_ms: float
    dropped_share: float  # 0..1 of the frames captured
    smoother: str
    detector: str = "yunet"
    raw_only: bool = False
    paused: bool = False

    def lines(self) -> tuple[str, ...]:
        mode = " (raw only)" if self.raw_only else ""
        return (
            f"camera {self.camera_fps:.1f} fps, shown {self.shown_fps:.1f}, analysed {self.processed_fps:.1f}",
            f"latency {self.latency_ms:.0f} ms, dropped {100 * self.dropped_share:.0f}%"
            + ("  PAUSED" if self.paused else ""),
            f"smoother {self.smoother}{mode}, detector {self.detector}",
        )


Runs = deque[tuple[float, int]]  # (start time, class) of each stretch of one class, oldest first


def add_to_runs(runs: Runs, t: float, label: int) -> None:
    """A new run only when the class changes: a steady face is one run, however many frames it lasts."""
    if not runs or runs[-1][1] != label:
        runs.append((t, label))


def prune_runs(runs: Runs, since: float) -> None:
    """Forgets the runs that ended before `since`."""
    while len(runs) > 1 and runs[1][0] <= since:
        runs.popleft()


@dataclass
class FaceTrail:
    """One track as the panel shows it: its newest face, and the runs of its shown and raw classes."""

    face: FaceResult
    last_seen: float
    shown_runs: Runs = field(default_factory=deque)
    raw_runs: Runs = field(default_factory=deque)


class FaceTrails:
    """The faces of the recent frames by track, kept from each frame's result, so the panel needs nothing else."""

    def __init__(self, span_s: float = HISTORY_S, grace_s: float = GRACE_S) -> None:
        self.span_s = span_s
        self.grace_s = grace_s
        self.tracks: dict[int, FaceTrail] = {}
        self.newest_t = 0.0

    def add(self, result: FrameResult) -> None:
        self.newest_t = result.t
        for face in result.faces:
            if face.track is None:
                continue
            trail = self.tracks.setdefault(face.track, FaceTrail(face, result.t))
            trail.face, trail.last_seen = face, result.t
            add_to_runs(trail.shown_runs, result.t, face.shown_index)
            add_to_runs(trail.raw_runs, result.t, face.label_index)

    def prune(self, now: float) -> None:
        """Forgets what ended more than the span ago, and faces gone for longer than the grace period."""
        for track in list(self.tracks):
            trail = self.tracks[track]
            if now - trail.last_seen > self.grace_s:
                del self.tracks[track]
                continue
            prune_runs(trail.shown_runs, now - self.span_s)
            prune_runs(trail.raw_runs, now - self.span_s)

    def present(self, track: int) -> bool:
        """Whether the track's face is in the newest frame."""
        return self.tracks[track].last_seen >= self.newest_t


class TextStamps:
    """Text drawn word by word from stamps: each word is rendered once per (size, colours) onto its own background and
    then copied. putText costs ~50 us a line and a copy ~1 us; the view's lines change every frame but their words
    (class names, two-decimal numbers, units) come from a small set, so almost every word is a copy."""

    LIMIT = 4096  # words kept (a few MB); then the cache starts afresh

    def __init__(self) -> None:
        self._stamps: dict[
            tuple[str, float, tuple[int, ...], tuple[int, ...], int], tuple[np.ndarray, int, int, int]
        ] = {}

    def _stamp(self, word: str, scale: float, colour: tuple[int, int, int], background: tuple[int, int, int],
               thickness: int) -> tuple[np.ndarray, int, int, int]:  # fmt: skip
        """(stamp, margin, rise from its top to the baseline, advance) of a word."""
        key = (word, scale, colour, background, thickness)
        found = self._stamps.get(key)  # one lookup: another view's thread may clear the cache in between
        if found is None:
            if len(self._stamps) >= self.LIMIT:
                self._stamps.clear()
            (width, height), baseline = cv2.getTextSize(word, FONT, scale, thickness)
            margin = thickness + 1
            stamp = np.full((height + baseline + 2 * margin, width + 2 * margin, 3), background, np.uint8)
            cv2.putText(stamp, word, (margin, margin + height), FONT, scale, colour, thickness, cv2.LINE_AA)
            found = self._stamps[key] = (stamp, margin, margin + height, width)
        return found

    def width(self, text: str, scale: float, thickness: int = 1) -> int:
        """How wide draw() makes the text."""
        return sum(self._stamp(word, scale, (0, 0, 0), (0, 0, 0), thickness)[3] for word in words_of(text))

    def draw(
        self,
        image: np.ndarray,
        text: str,
        origin: tuple[int, int],
        scale: float,
        colour: tuple[int, int, int],
        background: tuple[int, int, int],
        thickness: int = 1,
    ) -> None:
        """What cv2.putText would draw at `origin` (the left end of the baseline) on a uniform `background`."""
        x = origin[0]
        for word in words_of(text):
            stamp, margin, rise, advance = self._stamp(word, scale, colour, background, thickness)
            x0, y0 = x - margin, origin[1] - rise
            x1, y1 = x0 + stamp.shape[1], y0 + stamp.shape[0]
            cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, image.shape[1]), min(y1, image.shape[0])
            if cx1 > cx0 and cy1 > cy0:
                image[cy0:cy1, cx0:cx1] = stamp[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
            x += advance


def words_of(text: str) -> list[str]:
    """The words of a line, each after the first with its leading space, so that their widths add up."""
    words = text.split(" ")
    return [words[0], *(" " + word for word in words[1:])]


PALETTE = np.array([*CLASS_COLOURS, BACKGROUND], dtype=np.uint8)  # a class index, or BACKGROUND_INDEX, to BGR
BACKGROUND_INDEX = NUM_CLASSES


def paint_segments(image: np.ndarray, y0: int, y1: int, edges: np.ndarray, colours: np.ndarray) -> None:
    """Rows y0..y1-1 filled left to right: [edges[i], edges[i+1]) in PALETTE[colours[i]], edges non-decreasing; one
    array write for a whole bar or timeline instead of one rectangle per part."""
    if edges[-1] > edges[0]:
        image[y0:y1, edges[0] : edges[-1]] = np.repeat(PALETTE[colours], edges[1:] - edges[:-1], axis=0)


def place_label(
    box: tuple[int, int, int, int], tab: tuple[int, int], area: tuple[int, int, int, int]
) -> tuple[int, int]:
    """Top-left corner for a label tab of size (w, h) at a box (x, y, w, h), inside the area (x, y, w, h): above the
    box when there is room, else below it, else inside its top edge; never beyond the area's sides."""
    x, y, w, h = box
    ax, ay, aw, ah = area
    tab_w, tab_h = tab
    if y - tab_h >= ay:
        top = y - tab_h
    elif y + h + tab_h <= ay + ah:
        top = y + h
    else:
        top = max(ay, y)
    left = min(max(x, ax), ax + aw - tab_w)
    return max(left, ax), min(top, ay + ah - tab_h)


def copy_outside(target: np.ndarray, source: np.ndarray, rect: tuple[int, int, int, int]) -> None:
    """Copies source into target everywhere but the rect (x, y, w, h): a third less copying than the whole image
    when the rect is about to be overwritten anyway."""
    x, y, w, h = rect
    target[:y] = source[:y]
    target[y + h :] = source[y + h :]
    target[y : y + h, :x] = source[y : y + h, :x]
    target[y : y + h, x + w :] = source[y : y + h, x + w :]


def shade(image: np.ndarray, x0: int, y0: int, x1: int, y1: int, alpha: float) -> None:
    """Blends a rectangle (clipped to the image) toward the background, keeping `alpha` of what was there."""
    height, width = image.shape[:2]
    x0, x1, y0, y1 = max(0, x0), min(width, x1), max(0, y0), min(height, y1)
    if x1 > x0 and y1 > y0:
        region = image[y0:y1, x0:x1]
        region[:] = cv2.convertScaleAbs(region, alpha=alpha, beta=(1 - alpha) * BACKGROUND[0])


@dataclass(frozen=True)
class Layout:
    """Where everything goes in a view of one size: the video's rectangle, the panel's, and the face sections."""

    size: tuple[int, int]  # (width, height) of the whole view
    video: tuple[int, int, int, int]  # (x, y, w, h) of the picture, letterboxed in the space left of the panel
    panel_x: int
    panel_w: int
    zoom: float
    sections: int  # face sections drawn (at least 1, for the "no face" line)
    section_h: int
    compact: bool  # two stacked bars per section instead of a row per class, when a row per class does not fit
    bar_row: int
    timeline_h: int
    legend_y: int
    status_y: int

    @classmethod
    def of(cls, size: tuple[int, int], frame_size: tuple[int, int], faces: int) -> Layout:
        width, height = size
        panel_w = min(round(height * PANEL_RATIO), width // 2)
        # type scales with the height, but no more than the panel's width allows: in a tall, narrow window (a
        # laptop's half screen) text sized by the height alone ran past the panel's right edge
        zoom = min(height, panel_w / PANEL_RATIO) / REFERENCE_HEIGHT
        space_w = width - panel_w
        scale = min(space_w / frame_size[0], height / frame_size[1])
        video_w, video_h = max(1, round(frame_size[0] * scale)), max(1, round(frame_size[1] * scale))
        video = ((space_w - video_w) // 2, (height - video_h) // 2, video_w, video_h)
        status_y = height - round(STATUS_LINES * LINE * zoom) - round(PAD * zoom)
        legend_rows = len(legend_rows_of(panel_w, zoom))
        legend_y = status_y - round(legend_rows * LINE * zoom) - round(PAD * zoom)
        sections = min(max(faces, 1), MAX_PANEL_FACES)
        more_line = round(LINE * zoom) if faces > MAX_PANEL_FACES else 0
        section_h = (legend_y - more_line - round(PAD * zoom)) // sections
        fixed = round((TITLE_LINE + LINE + 3 * PAD + LINE) * zoom)  # title, column names, gaps, the time axis
        timeline_h = min(round(TIMELINE_MAX * zoom), max(4, (section_h - fixed) // 4))
        bar_row = min(round(BAR_ROW_MAX * zoom), (section_h - fixed - timeline_h) // NUM_CLASSES)
        compact = bar_row < MIN_BAR_ROW * zoom
        if compact:
            fixed = round((TITLE_LINE + 3 * PAD + LINE) * zoom)  # no column names: the rows are named "raw", "smoothed"
            bar_row = min(round(COMPACT_ROW_MAX * zoom), max(3, (section_h - fixed) // 4))
            timeline_h = min(round(TIMELINE_MAX * zoom), max(4, section_h - fixed - 2 * bar_row))
        return cls(
            size, video, space_w, panel_w, zoom, sections, section_h, compact, bar_row, timeline_h, legend_y, status_y
        )

    @property
    def bar_rows(self) -> int:
        return 2 if self.compact else NUM_CLASSES

    def scaled(self, value: float) -> int:
        return max(1, round(value * self.zoom))


def legend_rows_of(panel_w: int, zoom: float) -> list[list[int]]:
    """The classes of each legend row, as many per row as fit the panel's width."""
    rows: list[list[int]] = [[]]
    used = PAD * zoom
    for index, name in enumerate(CLASSES):
        (text_w, _), _ = cv2.getTextSize(name, FONT, SMALL_FONT * zoom, 1)
        entry = (SWATCH + 4 + 2 * PAD) * zoom + text_w
        if rows[-1] and used + entry > panel_w:
            rows.append([])
            used = PAD * zoom
        rows[-1].append(index)
        used += entry
    return rows


# What never changes for a size, kept for the whole process: a new view (the next file of a folder, a restarted
# stream) starts drawing at full speed, where drawing its background and words took 5-6 ms of its first frame.
SHARED_STAMPS = TextStamps()
SHARED_BACKGROUNDS: dict[tuple[tuple[int, int], tuple[int, int], int], tuple[Layout, np.ndarray]] = {}
MAX_BACKGROUNDS = 16  # (view size, picture size, faces) kept; more is a window being dragged to many sizes


class LiveView:
    """Draws the view; keeps each face's recent trail and, per window size, the parts that do not change."""

    def __init__(self, smoother_keys: Sequence[tuple[str, str]] = ()) -> None:
        self.trails = FaceTrails()
        self.smoother_keys = tuple(smoother_keys)  # (key, smoother name) pairs for the help
        self.stamps = SHARED_STAMPS
        self._status: tuple[tuple[str, ...], float, tuple[object, ...]] = ((), -np.inf, ())  # lines, when, mode
        self._backgrounds = SHARED_BACKGROUNDS

    @staticmethod
    def default_size(frame_size: tuple[int, int]) -> tuple[int, int]:
        """The view's size for a picture of that size: the picture MIN_VIEW_HEIGHT to MAX_VIEW_HEIGHT high, plus the
        panel."""
        height = min(max(frame_size[1], MIN_VIEW_HEIGHT), MAX_VIEW_HEIGHT)
        width = round(height * frame_size[0] / frame_size[1]) + round(height * PANEL_RATIO)
        return width + width % 2, height + height % 2  # even: video encoders halve the chroma resolution

    def add(self, result: FrameResult, now: float) -> None:
        """Takes in one processed frame's faces."""
        self.trails.add(result)
        self.trails.prune(now)

    def render(
        self,
        frame: np.ndarray,
        result: FrameResult,
        now: float,
        status: Status,
        size: tuple[int, int] | None = None,
        show_help: bool = False,
        show_hint: bool = False,
    ) -> np.ndarray:
        """The whole view of one frame at `size` (width, height), by default default_size(): each face of the
        result at its box, seen or predicted to the frame's time, and each track's panel with that belief."""
        frame_size = (frame.shape[1], frame.shape[0])
        tracks = sorted(self.trails.tracks)
        layout, background = self._background(size or self.default_size(frame_size), frame_size, len(tracks))
        view = np.empty_like(background)
        copy_outside(view, background, layout.video)  # the picture's own area is all written just below
        x, y, w, h = layout.video
        picture = view[y : y + h, x : x + w]  # scaled straight into the view; drawing on it stays inside it
        cv2.resize(frame, (w, h), dst=picture, interpolation=cv2.INTER_LINEAR)
        shown = result.shown_faces
        for face in shown:
            self._draw_face_on_video(picture, layout, face, w / frame_size[0], status.raw_only)
        current = {face.track: face for face in shown}
        for number, track in enumerate(tracks[:MAX_PANEL_FACES]):
            self._draw_section(view, layout, number, track, now, status.raw_only, current.get(track))
        if not tracks:
            self._text(
                view,
                "no face",
                (layout.panel_x + layout.scaled(PAD), layout.scaled(TITLE_LINE)),
                TITLE_FONT,
                layout,
                DIM_TEXT,
                1,
            )
        elif len(tracks) > MAX_PANEL_FACES:
            more = len(tracks) - MAX_PANEL_FACES
            top = layout.sections * layout.section_h + layout.scaled(LINE)
            self._text(
                view,
                f"+{more} more face{'s' * (more > 1)}: {self._summary(tracks[MAX_PANEL_FACES:])}",
                (layout.panel_x + layout.scaled(PAD), top),
                SMALL_FONT,
                layout,
                LIGHT_TEXT,
            )
        for line, text in enumerate(self._status_lines(status, now)):
            origin = (layout.panel_x + layout.scaled(PAD), layout.status_y + layout.scaled(LINE * (line + 1) - 4))
            self._text(view, text, origin, SMALL_FONT, layout, LIGHT_TEXT)
        if show_help:
            self._draw_help(view, layout)
        elif show_hint:
            self._draw_hint(view, layout)
        return view

    def _status_lines(self, status: Status, now: float) -> tuple[str, ...]:
        """The status text, with its figures refreshed every STATUS_REFRESH_S; a changed mode shows at once."""
        lines, when, mode = self._status
        new_mode = (status.smoother, status.detector, status.raw_only, status.paused)
        if new_mode != mode or not 0 <= now - when < STATUS_REFRESH_S:
            self._status = (status.lines(), now, new_mode)
        return self._status[0]

    def _raw(self, face: FaceResult) -> np.ndarray | None:
        """A face's raw probabilities; for a predicted face, those of its track's last sighting (None if forgotten)."""
        if face.observed:
            return face.probs
        trail = self.trails.tracks.get(face.track) if face.track is not None else None
        return trail.face.probs if trail is not None else None

    def _seen_last(self, face: FaceResult) -> bool:
        """Whether the face was in the newest analysed frame (not a track the detector has been missing)."""
        return face.observed or (face.track in self.trails.tracks and self.trails.present(face.track))

    def _summary(self, tracks: Sequence[int]) -> str:
        return ", ".join(f"#{track} {CLASSES[self.trails.tracks[track].face.shown_index]}" for track in tracks)

    def _text(
        self,
        image: np.ndarray,
        text: str,
        origin: tuple[int, int],
        font: float,
        layout: Layout,
        colour: tuple[int, int, int],
        thickness: int = 1,
        background: tuple[int, int, int] = BACKGROUND,
    ) -> None:
        """Text on a uniform background (the panel's, or a label's tab)."""
        self.stamps.draw(image, text, origin, font * layout.zoom, colour, background, thickness)

    def _background(self, size: tuple[int, int], frame_size: tuple[int, int], faces: int) -> tuple[Layout, np.ndarray]:
        """The layout and the unchanging drawing for this size and number of faces, made once."""
        sections = min(faces, MAX_PANEL_FACES + 1)  # more than the panel holds all look the same
        key = (size, frame_size, sections)
        found = self._backgrounds.get(key)  # one lookup: another view's thread may clear the cache in between
        if found is None:
            if len(self._backgrounds) > MAX_BACKGROUNDS:
                self._backgrounds.clear()
            layout = Layout.of(size, frame_size, faces)
            found = self._backgrounds[key] = (layout, self._draw_background(layout, faces))
        return found

    def _draw_background(self, layout: Layout, faces: int) -> np.ndarray:
        width, height = layout.size
        view = np.full((height, width, 3), BACKGROUND, np.uint8)
        px, pad = layout.panel_x, layout.scaled(PAD)
        cv2.line(view, (px, 0), (px, height), DIM_TEXT, 1)
        for number in range(layout.sections if faces else 0):
            top = number * layout.section_h
            bars_y, bar_x, bar_w = self._bar_geometry(layout, top)
            font = min(SMALL_FONT, SMALL_FONT * layout.bar_row / (BAR_ROW_MAX * layout.zoom) * 1.4)
            if layout.compact:
                names, font = ["raw", "smoothed"], SMALL_FONT * 0.9
            else:
                names = list(CLASSES)
                self._text(view, "raw", (bar_x, bars_y - layout.scaled(4)), SMALL_FONT, layout, DIM_TEXT)
                smoothed_x = bar_x + bar_w + pad
                self._text(view, "smoothed", (smoothed_x, bars_y - layout.scaled(4)), SMALL_FONT, layout, DIM_TEXT)
            for row, name in enumerate(names):
                row_bottom = bars_y + (row + 1) * layout.bar_row
                self._text(view, name, (px + pad, row_bottom - layout.scaled(3)), font, layout, LIGHT_TEXT)
            band_y, band_x0, band_x1 = self._timeline_geometry(layout, top)
            axis_y = band_y + layout.timeline_h + layout.scaled(LINE - 3)
            for seconds, anchor in ((HISTORY_S, 0.0), (HISTORY_S / 2, 0.5), (0.0, 1.0)):
                text = "now" if seconds == 0 else f"-{seconds:.0f} s"
                (text_w, _), _ = cv2.getTextSize(text, FONT, SMALL_FONT * layout.zoom, 1)
                x = round(band_x0 + anchor * (band_x1 - band_x0) - anchor * text_w)
                self._text(view, text, (x, axis_y), SMALL_FONT, layout, DIM_TEXT)
        y = layout.legend_y
        for row in legend_rows_of(layout.panel_w, layout.zoom):
            x = px + pad
            for index in row:
                size = layout.scaled(SWATCH)
                cv2.rectangle(view, (x, y + 2), (x + size, y + 2 + size), CLASS_COLOURS[index], -1)
                x += size + layout.scaled(4)
                self._text(view, CLASSES[index], (x, y + size + 1), SMALL_FONT, layout, LIGHT_TEXT)
                (text_w, _), _ = cv2.getTextSize(CLASSES[index], FONT, SMALL_FONT * layout.zoom, 1)
                x += text_w + 2 * pad
            y += layout.scaled(LINE)
        return view

    @staticmethod
    def _bar_geometry(layout: Layout, top: int) -> tuple[int, int, int]:
        """(top of the first bar row, x of the raw column, width of each column) of a section starting at top."""
        pad = layout.scaled(PAD)
        bars_y = top + layout.scaled(TITLE_LINE + PAD + (0 if layout.compact else LINE))
        bar_x = layout.panel_x + pad + layout.scaled(NAME_WIDTH)
        bar_w = (layout.panel_x + layout.panel_w - pad - bar_x - pad) // 2
        return bars_y, bar_x, bar_w

    @staticmethod
    def _timeline_geometry(layout: Layout, top: int) -> tuple[int, int, int]:
        """(top, left, right) of a section's timeline band."""
        pad = layout.scaled(PAD)
        bars_y, _, _ = LiveView._bar_geometry(layout, top)
        return (
            bars_y + layout.bar_rows * layout.bar_row + pad,
            layout.panel_x + pad,
            layout.panel_x + layout.panel_w - pad,
        )

    def _draw_face_on_video(
        self, picture: np.ndarray, layout: Layout, face: FaceResult, scale: float, raw_only: bool
    ) -> None:
        """The box (thin for a track the newest analysed frame missed) and a compact 'happy 0.91 #0' tab, placed where
        it fits inside the picture."""
        d = face.detection
        x, y, w, h = round(d.x * scale), round(d.y * scale), round(d.w * scale), round(d.h * scale)
        probs = self._raw(face) if raw_only else face.shown_probs
        if probs is None:  # raw only, and the track's last sighting already forgotten
            return
        index = int(np.argmax(probs))
        colour = CLASS_COLOURS[index]
        thickness = BOX_THICKNESS if self._seen_last(face) else MISSED_BOX_THICKNESS
        cv2.rectangle(picture, (x, y), (x + w, y + h), colour, layout.scaled(thickness))
        text = f"{CLASSES[index]} {probs[index]:.2f}" + ("" if face.track is None else f" #{face.track}")
        (text_w, text_h), baseline = cv2.getTextSize(text, FONT, LABEL_FONT * layout.zoom, 1)
        pad = layout.scaled(PAD // 2)
        tab = (text_w + 2 * pad, text_h + baseline + 2 * pad)
        left, top = place_label((x, y, w, h), tab, (0, 0, picture.shape[1], picture.shape[0]))
        cv2.rectangle(picture, (left, top), (left + tab[0], top + tab[1]), colour, -1)
        self._text(picture, text, (left + pad, top + pad + text_h), LABEL_FONT, layout, LABEL_TEXT, background=colour)

    def _draw_section(
        self,
        view: np.ndarray,
        layout: Layout,
        number: int,
        track: int,
        now: float,
        raw_only: bool,
        current: FaceResult | None = None,
    ) -> None:
        """One face's title, bars and timeline; greyed when its face is not in the newest frame. The raw bars are
        its last sighting's, the title and smoothed bars the belief of the frame shown (`current`, predicted to its
        time), else of the last sighting."""
        trail = self.trails.tracks[track]
        face = trail.face
        belief = current.belief if current is not None and current.belief is not None else face.belief
        top = number * layout.section_h
        pad = layout.scaled(PAD)
        px = layout.panel_x
        probs = face.probs if raw_only or belief is None else belief
        index = int(np.argmax(probs))
        title_y = top + layout.scaled(TITLE_LINE)
        cv2.rectangle(
            view,
            (px + pad, title_y - layout.scaled(16)),
            (px + pad + layout.scaled(12), title_y),
            CLASS_COLOURS[index],
            -1,
        )
        self._text(
            view,
            f"{CLASSES[index]} {probs[index]:.2f}",
            (px + pad + layout.scaled(20), title_y),
            TITLE_FONT,
            layout,
            LIGHT_TEXT,
            2,
        )
        present = self.trails.present(track)
        tag = f"#{track}" if present else f"#{track} not seen {now - trail.last_seen:.1f} s"
        tag_w = self.stamps.width(tag, SMALL_FONT * layout.zoom)  # right-aligned by the width it is drawn at
        self._text(view, tag, (px + layout.panel_w - pad - tag_w, title_y), SMALL_FONT, layout, DIM_TEXT)
        bars_y, bar_x, bar_w = self._bar_geometry(layout, top)
        gap = max(1, layout.bar_row // 6)
        smoothed = None if raw_only else belief
        if layout.compact:  # one bar of seven coloured parts per row: raw, then smoothed
            right = layout.panel_x + layout.panel_w - pad
            for row, values in enumerate((face.probs, smoothed)):
                if values is not None:
                    y0, y1 = bars_y + row * layout.bar_row + gap, bars_y + (row + 1) * layout.bar_row - gap
                    self._stacked_bar(view, values, bar_x, right, y0, y1)
        else:
            for row in range(NUM_CLASSES):
                y0, y1 = bars_y + row * layout.bar_row + gap, bars_y + (row + 1) * layout.bar_row - gap
                cv2.rectangle(view, (bar_x, y0), (bar_x + round(bar_w * float(face.probs[row])), y1), RAW_BAR, -1)
                if smoothed is not None:
                    x0 = bar_x + bar_w + pad
                    x1 = x0 + round(bar_w * float(smoothed[row]))
                    cv2.rectangle(view, (x0, y0), (x1, y1), CLASS_COLOURS[row], -1)
        self._draw_timeline(view, layout, top, trail, now, raw_only)
        if not present:
            shade(view, px + 1, top, px + layout.panel_w, top + layout.section_h, GREYED_ALPHA)

    @staticmethod
    def _stacked_bar(view: np.ndarray, values: np.ndarray, x0: int, x1: int, y0: int, y1: int) -> None:
        """A distribution as one bar of class-coloured parts, left to right in CLASSES order."""
        edges = np.round(x0 + np.concatenate([[0.0], np.cumsum(values)]) * (x1 - x0)).astype(int)
        paint_segments(view, y0, y1, edges, np.arange(NUM_CLASSES))

    @staticmethod
    def _draw_timeline(
        view: np.ndarray, layout: Layout, top: int, trail: FaceTrail, now: float, raw_only: bool
    ) -> None:
        """The shown class as a coloured band over the last HISTORY_S, newest on the right, and the raw class as a
        thin strip of ticks above it; nothing for the time since the face was last seen."""
        band_y, x0, x1 = LiveView._timeline_geometry(layout, top)
        ticks_h = max(2, layout.timeline_h // 3)
        rows = (
            (trail.raw_runs, band_y, band_y + ticks_h),
            (trail.raw_runs if raw_only else trail.shown_runs, band_y + ticks_h + 1, band_y + layout.timeline_h + 1),
        )
        for runs, y0, y1 in rows:
            starts, labels = zip(*runs, strict=True) if runs else ((), ())
            times = np.array([*starts, trail.last_seen])
            edges = np.clip(np.round(x1 - (now - times) * (x1 - x0) / HISTORY_S), x0, x1).astype(int)
            edges = np.concatenate([[x0], edges, [x1]])
            paint_segments(view, y0, y1, edges, np.array([BACKGROUND_INDEX, *labels, BACKGROUND_INDEX]))

    def _draw_help(self, view: np.ndarray, layout: Layout) -> None:
        """The keys, over the picture."""
        lines = [
            "keys",
            *(f"{key}  smoother {name}" for key, name in self.smoother_keys),
            "r  raw only (on/off)",
            "space  pause",
            "s  screenshot",
            "f  fullscreen (on/off)",
            "h  this help (on/off)",
            "q or Esc  quit",
        ]
        x, y, w, h = layout.video
        line = layout.scaled(LINE + 3)
        box_h = min(h, line * (len(lines) + 1))
        shade(view, x, y, x + w, y + box_h, OVERLAY_ALPHA)
        for number, text in enumerate(lines):
            overlay_text(view, text, (x + layout.scaled(2 * PAD), y + line * (number + 1)), SMALL_FONT * 1.2, layout)

    def _draw_hint(self, view: np.ndarray, layout: Layout) -> None:
        x, y, _, h = layout.video
        (text_w, text_h), _ = cv2.getTextSize("h: keys", FONT, SMALL_FONT * 1.2 * layout.zoom, 1)
        pad = layout.scaled(PAD)
        shade(view, x, y + h - text_h - 3 * pad, x + text_w + 2 * pad, y + h, OVERLAY_ALPHA)
        overlay_text(view, "h: keys", (x + pad, y + h - pad - pad // 2), SMALL_FONT * 1.2, layout)


def overlay_text(view: np.ndarray, text: str, origin: tuple[int, int], font: float, layout: Layout) -> None:
    """Light text over the shaded picture, drawn directly: the picture shows through the shade, so the background is
    not uniform and a stamp's flat background would show as a box around each word."""
    cv2.putText(view, text, origin, FONT, font * layout.zoom, LIGHT_TEXT, 1, cv2.LINE_AA)
