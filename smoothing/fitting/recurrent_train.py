"""Training the RNN, LSTM and GRU smoothers (and their offline bidirectional twins) in torch on labelled sequences
with random drops, both gap modes mixed.

The torch loop replays exactly the steps the numpy smoother takes (smoothing.smoothers.recurrent.step_program), feeding
the model's own belief back without a face, so the exported weights behave the same at run time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from smoothing.base import NOMINAL_FRAME_PERIOD_S, NUM_CLASSES
from smoothing.fitting.hmm_fit import MAX_FIT_SWITCH_RATIO
from smoothing.fitting.sequences import Sequences, drop_mask
from smoothing.fitting.synthetic import beats_raw_on_noisy_streams
from smoothing.registry import create, run_online
from smoothing.smoothers.bidirectional import CELL_ARRAYS, DIRECTIONS, OFFLINE_INPUT_SIZE, offline_features
from smoothing.smoothers.cells import CELL_WEIGHT_NAMES, INPUT_SIZE, LOG_PROB_FLOOR, NumpyCell, log_probs, scale_dt
from smoothing.smoothers.recurrent import GAP_MODES, step_program

HIDDEN_SIZE: int = 64
MAX_TRAIN_DROP_RATE: float = 0.5  # train on 0-50% drops so that 30% sits inside the range seen
VALIDATION_DROP_RATE: float = 0.3
BATCH_SIZE: int = 16
LEARNING_RATE: float = 3e-3
FINE_TUNE_LEARNING_RATE: float = 1e-3  # starting from trained weights: a third of the rate keeps what they know
GRADIENT_CLIP: float = 1.0
# Weight of the flicker penalty (mean L1 change of the belief per step) against the cross-entropy: cross-entropy
# alone gives honest but flickering beliefs (2-3x the truth's switches).
STABILITY_WEIGHT: float = 3.0  # chosen on validation: 2 flickered 1.4-1.5x, 5 gave 1.05x at a worse CE
# torch's cell (online, stepped) and layer (offline, bidirectional) of each kind; numpy mirrors their weight layouts.
CELLS: dict[str, type[nn.Module]] = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
LAYERS: dict[str, type[nn.Module]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


@dataclass
class Batch:
    """Padded step programs: inputs (B, S, 7) log-probs, (B, S) scaled dt, has-face, targets (-1: no loss), valid
    (False on padding), reset (state back to initial before the step) and arrived (a frame that arrived, not one
    the recursive mode filled in)."""

    evidence: torch.Tensor
    dt: torch.Tensor
    face: torch.Tensor
    target: torch.Tensor
    valid: torch.Tensor
    reset: torch.Tensor
    arrived: torch.Tensor

    def flicker_links(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(linked, counted) pairs of consecutive steps for the flicker penalty: linked are both real steps with no
        reset between them; counted are the linked ones that end at an arrived frame, so that the recursive mode's
        filled-in steps, which change the belief too, do not dilute the cost of a frame's flicker (by 13% at 30%
        drops, 28% at 50%, per step) and that mode flickers no more than the time-aware one trained beside it."""
        linked = (self.valid[:, 1:] & self.valid[:, :-1] & ~self.reset[:, 1:]).float()
        return linked, linked * self.arrived[:, 1:]


Stream = tuple[np.ndarray, np.ndarray, np.ndarray]  # (probs, t, labels) of the frames that arrived
StreamSteps = tuple[np.ndarray, ...]  # one stream's (evidence, scaled dt, has-face, target, reset, arrived) per step


def dropped_streams(sequences: Sequences, indices, drop_rates, rng: np.random.Generator) -> list[Stream]:
    """(probs, t, labels) of each indexed sequence with drop_mask's drops at its rate, drawn in order from rng."""
    streams = []
    for index, rate in zip(indices, drop_rates, strict=True):
        probs, t, labels, _ = sequences.sequence(int(index))
        keep = drop_mask(t, rate, rng)
        streams.append((probs[keep], t[keep], labels[keep]))
    return streams


def stream_steps(
    probs: np.ndarray, t: np.ndarray, labels: np.ndarray, gap: str, period_s: float = NOMINAL_FRAME_PERIOD_S
) -> tuple[StreamSteps, np.ndarray]:
    """The steps the online smoother takes over one stream of arrived frames (probs' first 7 columns are the
    classifier's), as arrays, and the frame each step belongs to (-1 for a filled-in one)."""
    program = step_program(t, ~np.isnan(probs[:, 0]), gap, period_s)
    frames, faces = program.frames, program.has_face
    evidence = np.zeros((len(frames), NUM_CLASSES))
    evidence[faces] = log_probs(probs[frames[faces], :NUM_CLASSES])
    target = np.where(frames >= 0, labels[np.maximum(frames, 0)], -1)
    return (evidence, scale_dt(program.dt, period_s), faces, target, program.reset, frames >= 0), frames


def padded_batch(programs: list[StreamSteps]) -> Batch:
    """Streams' steps padded to the longest into one Batch."""
    steps = max(len(p[0]) for p in programs)
    batch = Batch(
        torch.zeros(len(programs), steps, NUM_CLASSES),
        torch.zeros(len(programs), steps),
        torch.zeros(len(programs), steps, dtype=torch.bool),
        torch.full((len(programs), steps), -1, dtype=torch.long),
        torch.zeros(len(programs), steps, dtype=torch.bool),
        torch.zeros(len(programs), steps, dtype=torch.bool),
        torch.zeros(len(programs), steps, dtype=torch.bool),
    )
    for b, (evidence, dts, faces, target, reset, arrived) in enumerate(programs):
        n = len(target)
        batch.evidence[b, :n] = torch.from_numpy(evidence).float()
        batch.dt[b, :n] = torch.from_numpy(dts).float()
        batch.face[b, :n] = torch.from_numpy(faces)
        batch.target[b, :n] = torch.from_numpy(target.astype(np.int64))
        batch.valid[b, :n] = True
        batch.reset[b, :n] = torch.from_numpy(reset)
        batch.arrived[b, :n] = torch.from_numpy(arrived)
    return batch


def make_batch(
    sequences: Sequences, indices, drop_rates, gaps, rng: np.random.Generator, period_s: float = NOMINAL_FRAME_PERIOD_S
) -> Batch:
    streams = dropped_streams(sequences, indices, drop_rates, rng)
    return padded_batch([stream_steps(*stream, gap, period_s)[0] for stream, gap in zip(streams, gaps, strict=True)])


class TorchSmoother(nn.Module):
    """The trainable twin of smoothing.smoothers.cells.NumpyCell: a cell and a linear head over 7 emotions."""

    def __init__(self, kind: str, hidden: int = HIDDEN_SIZE, input_size: int = INPUT_SIZE) -> None:
        super().__init__()
        self.kind = kind
        self.cell = CELLS[kind](input_size, hidden)
        self.head = nn.Linear(hidden, NUM_CLASSES)

    def step_input(self, batch: Batch, s: int, own: torch.Tensor) -> torch.Tensor:
        """(B, input_size) inputs of step s: the frame's log-probabilities, or the net's own belief without a face,
        the scaled dt and the has-face flag (a subclass may append more)."""
        face = batch.face[:, s, None]
        return torch.cat([torch.where(face, batch.evidence[:, s], own), batch.dt[:, s, None], face.float()], dim=1)

    def forward(self, batch: Batch) -> torch.Tensor:
        """(B, S, 7) logits after each step."""
        size, steps = batch.dt.shape
        hidden = self.cell.hidden_size
        h = torch.zeros(size, hidden)
        c = torch.zeros(size, hidden)
        logits = self.head(h)
        prior_logits = logits
        outputs = []
        for s in range(steps):
            reset = batch.reset[:, s, None]
            if reset.any():
                h, c = torch.where(reset, 0.0, h), torch.where(reset, 0.0, c)
                logits = torch.where(reset, prior_logits, logits)
            own = torch.log_softmax(logits, dim=1).clamp_min(LOG_PROB_FLOOR).detach()
            x = self.step_input(batch, s, own)
            if self.kind == "lstm":
                h_new, c_new = self.cell(x, (h, c))
                c = torch.where(batch.valid[:, s, None], c_new, c)
            else:  # rnn and gru keep h only
                h_new = self.cell(x, h)
            h = torch.where(batch.valid[:, s, None], h_new, h)
            logits = self.head(h)
            outputs.append(logits)
        return torch.stack(outputs, dim=1)

    def exported_parameters(self) -> dict[str, nn.Parameter]:
        """The parameters under the names smoothing.smoothers.recurrent.load_cell reads."""
        return {
            "weight_ih": self.cell.weight_ih,
            "weight_hh": self.cell.weight_hh,
            "bias_ih": self.cell.bias_ih,
            "bias_hh": self.cell.bias_hh,
            "head_weight": self.head.weight,
            "head_bias": self.head.bias,
        }

    def export(self) -> dict[str, np.ndarray]:
        return {name: value.detach().numpy().astype(np.float32) for name, value in self.exported_parameters().items()}


def load_exported(model: TorchSmoother | TorchBidirectional, weights: dict[str, np.ndarray]) -> None:
    """Copies exported weights (the names export() writes) back into a torch twin, to fine-tune it."""
    with torch.no_grad():
        for name, parameter in model.exported_parameters().items():
            if name not in weights:
                raise ValueError(f"initial weights lack {name}")
            parameter.copy_(torch.from_numpy(np.asarray(weights[name], dtype=np.float32)))


def total_variation(logits: torch.Tensor, linked: torch.Tensor, counted: torch.Tensor | None = None) -> torch.Tensor:
    """L1 change of the belief summed over linked consecutive steps, per counted step (by default every linked one):
    the differentiable stand-in for flicker."""
    probs = torch.softmax(logits, dim=-1)
    change = (probs[:, 1:] - probs[:, :-1]).abs().sum(dim=-1)
    counted = linked if counted is None else counted
    return (change * linked).sum() / counted.sum().clamp_min(1)


def switch_counts(logits: torch.Tensor, target: torch.Tensor, scored: torch.Tensor) -> tuple[int, int]:
    """Label switches of the argmax and of the truth between consecutive scored steps (frames with a face)."""
    guesses, truths = 0, 0
    for row_logits, row_target, row_scored in zip(logits, target, scored, strict=True):
        guess = row_logits[row_scored].argmax(dim=-1)
        truth = row_target[row_scored]
        guesses += int((guess[1:] != guess[:-1]).sum())
        truths += int((truth[1:] != truth[:-1]).sum())
    return guesses, truths


def batch_loss(model: TorchSmoother, batch: Batch, stability: float = STABILITY_WEIGHT) -> tuple[torch.Tensor, dict]:
    """Cross-entropy over the frames that arrived (filled-in steps carry no label) plus the flicker penalty."""
    logits = model(batch)
    mask = batch.target >= 0
    cross_entropy = nn.functional.cross_entropy(logits[mask], batch.target[mask])
    loss = cross_entropy + stability * total_variation(logits, *batch.flicker_links())
    switches, truth_switches = switch_counts(logits.detach(), batch.target, mask & batch.face)
    return loss, {"cross_entropy": cross_entropy.item(), "switch_ratio": switches / max(truth_switches, 1)}


def validation_scores(model: TorchSmoother, sequences: Sequences, seed: int) -> dict[str, dict]:
    """Cross-entropy and switch ratio at VALIDATION_DROP_RATE drops, per gap mode, with fixed drops."""
    scores = {}
    with torch.no_grad():
        for gap in GAP_MODES:
            rng = np.random.default_rng(seed)
            indices = np.arange(len(sequences))
            batch = make_batch(sequences, indices, [VALIDATION_DROP_RATE] * len(indices), [gap] * len(indices), rng)
            scores[gap] = batch_loss(model, batch)[1]
    return scores


class EpochSelection:
    """Keeps the epoch with the lowest validation cross-entropy among those that flicker at most max_switch_ratio
    times as often as the truth and read the noisy check streams better than the raw label (the steadiest epoch
    that reads them if none flickers little enough, then the best of the rest), as the HMM's fit does."""

    def __init__(self, max_switch_ratio: float = MAX_FIT_SWITCH_RATIO) -> None:
        self.max_switch_ratio = max_switch_ratio
        self.key: tuple[int, float] = (3, np.inf)
        self.weights: dict[str, np.ndarray] | None = None
        self.summary: dict = {}

    def offer(self, epoch: int, cross_entropy: float, switch_ratio: float, weights, beats_raw: bool = True) -> None:
        if not beats_raw:
            key = (2, cross_entropy)
        elif switch_ratio <= self.max_switch_ratio:
            key = (0, cross_entropy)
        else:
            key = (1, switch_ratio)
        if key < self.key:
            self.key, self.weights = key, weights()
            self.summary = {"epoch": epoch, "cross_entropy": cross_entropy, "switch_ratio": switch_ratio,
                            "beats_raw_on_noisy_streams": beats_raw}  # fmt: skip


@dataclass(frozen=True)
class EpochScore:
    """One epoch's validation as the selection reads it (cross-entropy, switch ratio) and as the log describes it."""

    cross_entropy: float
    switch_ratio: float
    described: str
    beats_raw: bool = True  # on the noisy check streams (checked for the online cells)


TrainLoss = Callable[[nn.Module, np.ndarray, np.random.Generator], torch.Tensor]  # (model, indices, rng) -> loss
Validation = Callable[[nn.Module], EpochScore]


def descend(model: nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """One optimizer step with the gradient norm clipped to GRADIENT_CLIP, against the recurrent cells' rare
    exploding gradients."""
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), GRADIENT_CLIP)
    optimizer.step()


def fit_epochs(
    twin: Callable[[], TorchSmoother | TorchBidirectional],
    init: dict[str, np.ndarray] | None,
    train_size: int,
    epochs: int,
    seed: int,
    train_loss: TrainLoss,
    validate: Validation,
    label: str,
    log: Callable[[str], None],
) -> tuple[dict[str, np.ndarray], dict]:
    """The epoch loop both trainers share (Adam on a cosine schedule over shuffled batches, EpochSelection after each
    epoch), so that they differ only in their model, their batch loss and their validation."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = twin()
    if init is not None:
        load_exported(model, init)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE if init is None else FINE_TUNE_LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    selection = EpochSelection()
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(train_size)
        for first in range(0, len(order), BATCH_SIZE):
            descend(model, optimizer, train_loss(model, order[first : first + BATCH_SIZE], rng))
        schedule.step()
        model.eval()
        score = validate(model)
        selection.offer(epoch, score.cross_entropy, score.switch_ratio, model.export, score.beats_raw)
        log(f"{label} epoch {epoch + 1}/{epochs}: validation {score.described} ({time.perf_counter() - start:.0f} s)")
    return selection.weights, selection.summary


def cell_beats_raw(kind: str, weights: dict[str, np.ndarray]) -> bool:
    """Whether the numpy smoother these weights make reads the noisy check streams better than the raw label does,
    in every gap mode."""
    cell = NumpyCell(kind, *(weights[name] for name in CELL_WEIGHT_NAMES))
    return all(
        beats_raw_on_noisy_streams(lambda probs, t, gap=gap: run_online(create(kind, cell=cell, gap=gap), probs, t))
        for gap in GAP_MODES
    )


def online_epoch_score(scores: dict[str, dict]) -> EpochScore:
    """Mean cross-entropy over the gap modes but the worst one's switch ratio: neither mode may flicker."""
    cross_entropy = float(np.mean([v["cross_entropy"] for v in scores.values()]))
    switch_ratio = float(max(v["switch_ratio"] for v in scores.values()))
    described = ", ".join(f"{g} CE {v['cross_entropy']:.4f} x{v['switch_ratio']:.2f}" for g, v in scores.items())
    return EpochScore(cross_entropy, switch_ratio, described)


def train_recurrent(
    kind: str,
    train: Sequences,
    validation: Sequences,
    epochs: int,
    seed: int,
    log=print,
    init=None,
    stability: float = STABILITY_WEIGHT,
) -> tuple[dict[str, np.ndarray], dict]:
    """Trains one cell with both gap modes mixed (fine-tunes `init`, exported weights, when given); returns the
    exported weights of the selected epoch and a summary."""

    def loss(model: TorchSmoother, indices: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        rates = rng.uniform(0.0, MAX_TRAIN_DROP_RATE, len(indices))
        gaps = [GAP_MODES[g] for g in rng.integers(0, len(GAP_MODES), len(indices))]
        return batch_loss(model, make_batch(train, indices, rates, gaps, rng), stability)[0]

    def validate(model: TorchSmoother) -> EpochScore:
        score = online_epoch_score(validation_scores(model, validation, seed + 1))
        beats_raw = cell_beats_raw(kind, model.export())
        return replace(score, described=f"{score.described}, noisy streams {'ok' if beats_raw else 'lost'}",
                       beats_raw=beats_raw)  # fmt: skip

    return fit_epochs(lambda: TorchSmoother(kind), init, len(train), epochs, seed, loss, validate, kind, log)


class TorchBidirectional(nn.Module):
    """The trainable twin of smoothing.smoothers.bidirectional.BidirectionalModel (one bidirectional layer and a
    head)."""

    def __init__(self, kind: str, hidden: int = HIDDEN_SIZE) -> None:
        super().__init__()
        self.kind = kind
        self.layer = LAYERS[kind](OFFLINE_INPUT_SIZE, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, NUM_CLASSES)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        hidden, _ = self.layer(packed)
        hidden, _ = nn.utils.rnn.pad_packed_sequence(hidden, batch_first=True, total_length=x.shape[1])
        return self.head(hidden)

    def exported_parameters(self) -> dict[str, nn.Parameter]:
        """The parameters under the names smoothing.smoothers.bidirectional.BidirectionalModel.load reads."""
        arrays = {"head_weight": self.head.weight, "head_bias": self.head.bias}
        for direction, suffix in zip(DIRECTIONS, ("", "_reverse"), strict=True):
            for name in CELL_ARRAYS:
                arrays[f"{direction}_{name}"] = getattr(self.layer, f"{name}_l0{suffix}")
        return arrays

    def export(self) -> dict[str, np.ndarray]:
        return {name: value.detach().numpy().astype(np.float32) for name, value in self.exported_parameters().items()}


def offline_batch(sequences: Sequences, indices, drop_rates, rng: np.random.Generator):
    """Padded (B, T, 10) inputs, (B, T) targets (-1 as padding) and lengths of dropped-frame recordings."""
    inputs, targets = [], []
    for probs, t, labels in dropped_streams(sequences, indices, drop_rates, rng):
        inputs.append(torch.from_numpy(offline_features(probs, t)).float())
        targets.append(torch.from_numpy(labels.astype(np.int64)))
    lengths = torch.tensor([len(x) for x in inputs])
    x = nn.utils.rnn.pad_sequence(inputs, batch_first=True)
    y = nn.utils.rnn.pad_sequence(targets, batch_first=True, padding_value=-1)
    return x, y, lengths


def offline_loss(
    model: TorchBidirectional, x: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor, stability=STABILITY_WEIGHT
) -> tuple[torch.Tensor, dict]:
    """The online loss for the offline twin: cross-entropy plus the flicker penalty."""
    logits = model(x, lengths)
    valid = y >= 0
    cross_entropy = nn.functional.cross_entropy(logits[valid], y[valid])
    linked = (valid[:, 1:] & valid[:, :-1]).float()
    loss = cross_entropy + stability * total_variation(logits, linked)
    switches, truth_switches = switch_counts(logits.detach(), y, valid & (x[..., -1] > 0))
    return loss, {"cross_entropy": cross_entropy.item(), "switch_ratio": switches / max(truth_switches, 1)}


def train_bidirectional(
    kind: str,
    train: Sequences,
    validation: Sequences,
    epochs: int,
    seed: int,
    log=print,
    init=None,
    stability: float = STABILITY_WEIGHT,
) -> tuple[dict[str, np.ndarray], dict]:
    """Trains the offline twin (fine-tunes `init` when given); returns the exported weights of the selected epoch
    and a summary."""
    fixed = np.arange(len(validation))
    validation_batch = offline_batch(
        validation, fixed, [VALIDATION_DROP_RATE] * len(fixed), np.random.default_rng(seed + 1)
    )

    def loss(model: TorchBidirectional, indices: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        batch = offline_batch(train, indices, rng.uniform(0.0, MAX_TRAIN_DROP_RATE, len(indices)), rng)
        return offline_loss(model, *batch, stability)[0]

    def validate(model: TorchBidirectional) -> EpochScore:
        with torch.no_grad():
            scores = offline_loss(model, *validation_batch)[1]
        described = f"CE {scores['cross_entropy']:.4f} switches x{scores['switch_ratio']:.2f}"
        return EpochScore(scores["cross_entropy"], scores["switch_ratio"], described)

    return fit_epochs(
        lambda: TorchBidirectional(kind), init, len(train), epochs, seed, loss, validate, f"{kind} offline", log
    )
