"""RNN, LSTM and GRU smoothers run in numpy (torch's per-call overhead exceeds the math of one 7-class step).

Each step sees the log-probabilities, the scaled dt and a has-face flag. Without evidence (no face, or a frame
filled in for a dropped one) the input is the model's own last belief, with has-face 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from smoothing.base import MAX_GAP_S, NOMINAL_FRAME_PERIOD_S, NUM_CLASSES, SmootherBase, relax_to_prior
from smoothing.param_files import PARAMS_DIR, ParamsError, read_params
from smoothing.registry import register
from smoothing.smoothers.bidirectional import BidirectionalModel
from smoothing.smoothers.cells import CELL_WEIGHT_NAMES, INPUT_SIZE, NumpyCell, log_probs, scale_dt

GAP_MODES: tuple[str, ...] = ("time-aware", "recursive")


def step_input(evidence: np.ndarray, dt: float, has_face: bool, frame_period_s: float) -> np.ndarray:
    """The (9,) input of one step; evidence is the frame's probabilities, or the model's own belief without a face."""
    x = np.empty(INPUT_SIZE)
    x[:NUM_CLASSES] = log_probs(evidence)
    x[NUM_CLASSES] = scale_dt(dt, frame_period_s)
    x[NUM_CLASSES + 1] = 1.0 if has_face else 0.0
    return x


def params_path(kind: str) -> Path:
    return PARAMS_DIR / f"{kind}.npz"


def load_cell(kind: str, path: str | Path | None = None) -> tuple[NumpyCell, dict]:
    """The shipped cell weights and the options they were trained with (frame period)."""
    path = Path(path) if path is not None else params_path(kind)
    data = read_params(path, f"{kind} parameters", ("kind", "frame_period_s", *CELL_WEIGHT_NAMES))
    if str(data["kind"]) != kind:
        raise ParamsError(f"{path} holds a {data['kind']} cell, not {kind}")
    cell = NumpyCell(kind, *(data[name] for name in CELL_WEIGHT_NAMES))
    return cell, {"frame_period_s": float(data["frame_period_s"])}


def fill_in_steps(dt: float, frame_period_s: float) -> tuple[int, float]:
    """Recursive mode: how many frames went missing in a gap of dt, and the dt left for the real step."""
    missing = max(round(dt / frame_period_s) - 1, 0)
    return missing, dt - missing * frame_period_s


@dataclass
class StepProgram:
    """The steps RecurrentSmoother.update takes over a stream of arrived frames, for batched training."""

    frames: np.ndarray  # the arrived frame each step belongs to, -1 for a filled-in frame
    dt: np.ndarray  # seconds fed to the step
    has_face: np.ndarray
    reset: np.ndarray  # the state returns to its initial value before this step (a gap over max_gap_s)


def step_program(
    t: np.ndarray,
    has_face: np.ndarray,
    gap: str,
    frame_period_s: float = NOMINAL_FRAME_PERIOD_S,
    max_gap_s: float = MAX_GAP_S,
) -> StepProgram:
    """Replays update()'s decisions (fill-ins, skipped duplicates, resets) without running the cell."""
    frames, dts, faces, resets = [], [], [], []
    previous, pending_reset = None, False
    for i, (ti, face) in enumerate(zip(t, has_face, strict=True)):
        dt = 0.0 if previous is None else max(float(ti) - previous, 0.0)
        previous = float(ti)
        if dt > max_gap_s:
            dt, pending_reset = 0.0, True
        if not face and dt == 0:
            continue
        if gap == "recursive":
            missing, dt = fill_in_steps(dt, frame_period_s)
            frames += [-1] * missing
            dts += [frame_period_s] * missing
            faces += [False] * missing
            resets += [False] * missing
        frames.append(i)
        dts.append(dt)
        faces.append(bool(face))
        resets.append(pending_reset)
        pending_reset = False
    return StepProgram(
        np.array(frames, dtype=np.int64), np.array(dts), np.array(faces, dtype=bool), np.array(resets, dtype=bool)
    )


class RecurrentSmoother(SmootherBase):
    """A trained cell run frame by frame; gap="time-aware" steps once with the real dt, gap="recursive" steps once
    per missing frame at frame_period_s (the camera's nominal period; by default the one trained with), feeding its
    own belief back (cost grows with the gap)."""

    kind = "rnn"

    def __init__(
        self,
        params: str | Path | None = None,
        gap: str = "time-aware",
        frame_period_s: float | None = None,
        max_gap_s: float = MAX_GAP_S,
        cell: NumpyCell | None = None,
        offline_params: str | Path | None = None,
    ) -> None:
        if gap not in GAP_MODES:
            raise ValueError(f"gap must be one of {GAP_MODES}, got {gap!r}")
        trained_period_s = NOMINAL_FRAME_PERIOD_S
        if cell is None:
            cell, meta = load_cell(self.kind, params)
            trained_period_s = meta["frame_period_s"]
        self.cell = cell
        self.gap = gap
        self.dt_unit_s = trained_period_s  # the dt input keeps the scale it was trained with, whatever the camera
        self.frame_period_s = trained_period_s if frame_period_s is None else float(frame_period_s)
        if self.frame_period_s <= 0:
            raise ValueError("frame_period_s must be positive")
        super().__init__(max_gap_s)
        self.offline_params = offline_params
        self.prior = self.cell.belief(self.cell.initial_state())
        self.reset()

    def restart(self) -> None:
        self.state = self.cell.initial_state()
        self.belief = self.prior.copy()
        self.silence_s = 0.0  # seconds since the last face frame

    def advance(self, state: np.ndarray, belief: np.ndarray, probs: np.ndarray | None, dt: float):
        """Runs the steps that bring (state, belief) to a frame dt later; returns the new pair, touching nothing."""
        if self.gap == "recursive":
            missing, dt = fill_in_steps(dt, self.frame_period_s)
            for _ in range(missing):
                state = self.cell.step(step_input(belief, self.frame_period_s, False, self.dt_unit_s), state)
                belief = self.cell.belief(state)
        evidence = belief if probs is None else probs
        state = self.cell.step(step_input(evidence, dt, probs is not None, self.dt_unit_s), state)
        return state, self.cell.belief(state)

    def step(self, p: np.ndarray | None, dt: float) -> np.ndarray:
        if dt > self.max_gap_s:
            self.state, self.belief = self.cell.initial_state(), self.prior.copy()
            dt = 0.0
        if p is not None or dt > 0:  # a repeated frame without a face brings neither time nor evidence
            self.state, self.belief = self.advance(self.state, self.belief, p, dt)
        self.silence_s = 0.0 if p is not None else self.silence_s + dt
        return self.shown(self.belief, self.silence_s)

    def peek(self, dt: float) -> np.ndarray:
        if dt > self.max_gap_s:
            return self.prior.copy()
        if dt == 0:
            return self.shown(self.belief, self.silence_s)
        return self.shown(self.advance(self.state, self.belief, None, dt)[1], self.silence_s + dt)

    def shown(self, belief: np.ndarray, silence_s: float) -> np.ndarray:
        """Without a face the net's belief is mixed toward the prior, as every smoother's is (base.relax_to_prior):
        fed its own belief for seconds, the fine-tuned nets drift to a confident neutral that no frame supports."""
        return relax_to_prior(belief, self.prior, silence_s, self.max_gap_s) if silence_s > 0 else belief.copy()

    def load_offline(self) -> BidirectionalModel:
        """The bidirectional twin of this model (smoothing.smoothers.bidirectional) that smooth_offline runs."""
        return BidirectionalModel.load(self.kind, self.offline_params)

    def smooth_offline(self, probs: np.ndarray, t: np.ndarray) -> np.ndarray:
        """A whole recording through load_offline()'s model."""
        return self.load_offline().smooth(probs, t)


@register("rnn")
class RNNSmoother(RecurrentSmoother):
    """Elman (tanh) RNN smoother."""

    kind = "rnn"


@register("lstm")
class LSTMSmoother(RecurrentSmoother):
    """LSTM smoother."""

    kind = "lstm"


@register("gru")
class GRUSmoother(RecurrentSmoother):
    """GRU smoother: the LSTM's gating with three gates and no cell state."""

    kind = "gru"
