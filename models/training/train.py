"""Trains an EmoNet on the corpus (models.training.corpus: FER2013 in both framings with label+crowd targets, and the
in-the-wild stills), as a teacher (a wider net) or as the shipped student distilled from a teacher's soft outputs.

python -m models.training.train --run-dir DIR [--widths 64 128 256 512] [--teacher CHECKPOINT] [--init CHECKPOINT]
                       [--epochs N] [--vote-weight W] [--without-stills] [--resume]
                       [--out PATH] [--data NPZ] [--votes NPZ] [--wild DIR] [--real DIR]

Every epoch ends with a checkpoint in DIR (`state.pt`, whole: net, optimiser, schedule and random state) and a
line of validation figures (models.training.validation); `--resume` goes on from the last whole epoch, so a run cut
short never starts over. The last epoch is kept (one-cycle ends on its best; no figure picks it), its temperature fitted
on PublicTest, and written to --out.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from app.arguments import positive_int
from app.errors import CommandLineParser
from models.classifier import load_checkpoint, network_logits, save_checkpoint
from models.network import DEFAULT_WIDTHS, EmoNet
from models.roots import file_sha256
from models.training.augment import augment
from models.training.calibration import expected_calibration_error, fit_temperature, softmax
from models.training.corpus import VOTE_WEIGHT, Corpus, build_corpus, mixed_targets
from models.training.data import DEFAULT_DATA, SELECT_SPLIT
from models.training.ferplus import DEFAULT_VOTES, load_votes
from models.training.script import existing_file, run_script, share, writable_file
from models.training.validation import load_validation, validate
from models.training.wild import DEFAULT_WILD
from smoothing.fitting.real_sequences import DEFAULT_REAL_DIR

SEED = 20261205
BATCH_SIZE = 128
EPOCHS = 20  # on 2 CPU cores: the student about 1 min an epoch, the 4x wider teacher about 4
MAX_LR = 0.1
FINE_TUNE_MAX_LR = 0.01  # from trained weights (--init): a tenth of the peak, so that a short run adapts, not restarts
WEIGHT_DECAY = 5e-4
MOMENTUM = 0.9
LABEL_SMOOTHING = 0.1
ALTERNATIVE_P = 0.5  # share of draws that show a FER2013 face as the app frames it
# Distillation (Hinton et al., 2015): the teacher's outputs softened by KD_TEMPERATURE carry which wrong classes a
# face resembles; KD_WEIGHT of the loss follows them, the rest the corpus's own targets.
TEACHER_DIGEST_CHARS = 16  # of the teacher checkpoint's sha256, stored beside its cached targets
KD_TEMPERATURE = 2.0
KD_WEIGHT = 0.7
TEACHER_TARGETS = "teacher_targets.npz"
STATE_FILE = "state.pt"
THREADS = 2


def soft_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return -(targets * F.log_softmax(logits.float(), dim=1)).sum(dim=1).mean()


def batch_loss(logits: torch.Tensor, truth: torch.Tensor, teacher: torch.Tensor | None) -> torch.Tensor:
    """Cross-entropy on the smoothed corpus targets, plus the distillation term where a teacher is given."""
    smoothed = (1 - LABEL_SMOOTHING) * truth + LABEL_SMOOTHING / truth.shape[1]
    loss = soft_cross_entropy(logits, smoothed)
    if teacher is None:
        return loss
    distilled = soft_cross_entropy(logits / KD_TEMPERATURE, teacher) * KD_TEMPERATURE**2
    return KD_WEIGHT * distilled + (1 - KD_WEIGHT) * loss


def teacher_targets(teacher_path: Path, corpus: Corpus, run_dir: Path) -> np.ndarray:
    """(N, 2, 7) the teacher's softened outputs on each face in both framings, computed once per run and teacher."""
    cached = run_dir / TEACHER_TARGETS
    teacher_digest = file_sha256(teacher_path)[:TEACHER_DIGEST_CHARS]
    if cached.is_file():
        with np.load(cached) as stored:
            if len(stored["targets"]) == len(corpus) and str(stored["teacher"]) == teacher_digest:
                return stored["targets"]
    _, teacher = load_checkpoint(teacher_path)
    teacher = teacher.to(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # as the teacher was trained
        both = [softmax(network_logits(teacher, faces), KD_TEMPERATURE) for faces in (corpus.faces, corpus.alternative)]
    targets = np.stack(both, axis=1).astype(np.float32)
    np.savez(cached, targets=targets, teacher=teacher_digest)
    return targets


def save_whole(obj: object, path: Path) -> None:
    """A checkpoint written whole or not at all: a run killed mid-write keeps its previous epoch."""
    unfinished = path.with_suffix(".partial")
    torch.save(obj, unfinished)
    unfinished.replace(path)


def saved_state(path: Path) -> dict:
    """The state a cut run left (net, optimiser, schedule, random state), or one ValueError if it is unreadable."""
    try:
        state = torch.load(path, weights_only=False)
        if not isinstance(state, dict) or not {"model", "optimizer", "scheduler", "history"} <= state.keys():
            raise ValueError("not a training state")
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, AttributeError, IndexError) as error:
        raise ValueError(f"{path} cannot be resumed from ({error}); delete it to start over") from None
    return state


def train(args: argparse.Namespace) -> dict:
    torch.set_num_threads(THREADS)
    run_dir = Path(args.run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"--run-dir {run_dir} is a file; give a folder for the run's checkpoints")
    run_dir.mkdir(parents=True, exist_ok=True)
    corpus = build_corpus(args.data, args.votes, args.wild, args.vote_weight, stills=not args.without_stills)
    sets = load_validation(args.data, args.votes, args.wild, args.real)
    distill = teacher_targets(Path(args.teacher), corpus, run_dir) if args.teacher else None
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    model = load_checkpoint(args.init)[1] if args.init else EmoNet(tuple(args.widths))
    model = model.to(memory_format=torch.channels_last)
    max_lr = FINE_TUNE_MAX_LR if args.init else MAX_LR
    optimizer = torch.optim.SGD(model.parameters(), lr=max_lr, momentum=MOMENTUM, nesterov=True,
                                weight_decay=WEIGHT_DECAY)  # fmt: skip
    steps = len(corpus) // BATCH_SIZE
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, epochs=args.epochs,
                                                    steps_per_epoch=steps)  # fmt: skip
    history: list[dict] = []
    state_path = run_dir / STATE_FILE
    if args.resume and state_path.is_file():
        state = saved_state(state_path)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        history = state["history"]
        print(f"resuming after epoch {len(history)} of {args.epochs}", flush=True)
    faces = torch.from_numpy(np.stack([corpus.faces, corpus.alternative], axis=1))  # (N, 2, 48, 48) uint8
    targets = torch.from_numpy(corpus.targets)
    weights = torch.from_numpy(corpus.weights)
    soft_teacher = None if distill is None else torch.from_numpy(distill)
    print(f"training EmoNet {model.config['widths']} on {len(corpus)} faces for {args.epochs} epochs"
          f"{', distilled from ' + str(args.teacher) if args.teacher else ''}", flush=True)  # fmt: skip
    for epoch in range(len(history) + 1, args.epochs + 1):
        model.train()
        started, total = time.time(), 0.0
        order = torch.multinomial(weights, steps * BATCH_SIZE, replacement=True, generator=generator)
        for step in range(steps):
            index = order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]
            framing = (torch.rand(len(index), generator=generator) < ALTERNATIVE_P).long()
            batch = faces[index, framing].unsqueeze(1).float().div_(255)
            batch = augment(batch, generator).contiguous(memory_format=torch.channels_last)
            teacher = None if soft_teacher is None else soft_teacher[index, framing]
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = model(batch)
            loss = batch_loss(logits, targets[index], teacher)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item()
        with torch.autocast("cpu", dtype=torch.bfloat16):  # a quarter of the float32 cost; the figures move <0.1 point
            checked = validate(partial(network_logits, model), sets)
        history.append({"epoch": epoch, "loss": total / steps, "seconds": time.time() - started,
                        **checked["report"]})  # fmt: skip
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in history[-1].items()}), flush=True)
        save_whole({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "generator": generator.get_state(),
                    "torch_rng": torch.get_rng_state(), "history": history}, state_path)  # fmt: skip
    return finish(model, sets, history, args)


def finish(model: EmoNet, sets, history: list[dict], args: argparse.Namespace) -> dict:
    """The last epoch, its temperature fitted on PublicTest to the same label+crowd targets it trained on."""
    model.eval()
    logits = network_logits(model, sets.publictest)
    crowd, usable = load_votes(args.votes, SELECT_SPLIT)
    temperature = fit_temperature(logits, mixed_targets(sets.labels, crowd, usable, args.vote_weight))
    meta = {
        "recipe": "v3: FER2013 (both framings, label+crowd targets)"
        + ("" if args.without_stills else " and wild stills")
        + ", square-root balanced",
        "stills": not args.without_stills,
        "widths": model.config["widths"],
        "teacher": None if args.teacher is None else str(args.teacher),
        "init": None if args.init is None else str(args.init),
        "vote_weight": args.vote_weight,
        "epochs": args.epochs,
        "selected_epoch": len(history),
        "temperature": temperature,
        "ece_before": expected_calibration_error(softmax(logits), sets.labels),
        "ece_after": expected_calibration_error(softmax(logits, temperature), sets.labels),
        "seed": args.seed,
        "validation": history[-1] if history else {},
        "history": history,
    }
    save_checkpoint(model.float(), temperature, meta, args.out or Path(args.run_dir) / "final.pt")
    print(json.dumps({k: v for k, v in meta.items() if k != "history"}, indent=1), flush=True)
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = CommandLineParser(prog="python -m models.training.train", description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", required=True, help="per-epoch checkpoints and the teacher's targets go here")
    parser.add_argument(
        "--widths", type=positive_int, nargs="+", default=list(DEFAULT_WIDTHS), help="channels per stage"
    )
    parser.add_argument("--teacher", type=existing_file, help="distil from this checkpoint's outputs")
    parser.add_argument(
        "--init", type=existing_file, help=f"start from this checkpoint's weights (peak rate {FINE_TUNE_MAX_LR})"
    )
    parser.add_argument("--epochs", type=positive_int, default=EPOCHS)
    parser.add_argument(
        "--vote-weight", type=share, default=VOTE_WEIGHT, help="the FER+ crowd's share of a FER2013 face's target"
    )
    parser.add_argument("--resume", action="store_true", help="go on from the run directory's last whole epoch")
    parser.add_argument(
        "--seed", type=int, default=SEED, help="the draws, augmentation and dropout (fine-tunes of a model soup differ)"
    )
    parser.add_argument("--out", type=Path, help="the final checkpoint (default RUN_DIR/final.pt)")
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--votes", default=str(DEFAULT_VOTES))
    parser.add_argument("--wild", default=str(DEFAULT_WILD))
    parser.add_argument(
        "--without-stills", action="store_true", help="train on FER2013 alone (the stills' held-out part still checks)"
    )
    parser.add_argument("--real", default=str(DEFAULT_REAL_DIR))
    args = parser.parse_args(argv)

    def work() -> None:
        if args.out:
            writable_file(args.out)  # before the training, not after it
        train(args)

    return run_script(work)


if __name__ == "__main__":
    sys.exit(main())
