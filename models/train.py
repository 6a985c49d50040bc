"""Trains EmoNet on FER2013 Training, selects the epoch on PublicTest, calibrates, and ships the weights.

python -m models.train [--data NPZ] [--targets labels|votes|both] [--crops fer|aligned] [--epochs N]
                       [--init CHECKPOINT] [--max-lr LR] [--device auto|cpu|cuda] [--out PATH]

--targets labels trains on FER2013's one label per face and selects on those; votes on the FER+ crowd's vote
distributions (models.ferplus; images it leaves out are not trained on), selecting on PublicTest's FER+ majority;
both on the mean of the two (a face's one-hot label and its vote distribution, weighted alike), selecting on the
mean of the two accuracies. The temperature is fitted to the same targets on PublicTest. --crops aligned draws
each face half of the time as the product frames it in a video (models.fer_crops), else as FER2013 framed it.
--init fine-tunes a trained checkpoint (one-cycle peak FINE_TUNE_MAX_LR) instead of starting at random.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from models.calibration import expected_calibration_error, fit_temperature, softmax
from models.classifier import DEFAULT_WEIGHTS, WeightsError, flip_averaged_logits, load_checkpoint, save_checkpoint
from models.data import DEFAULT_DATA, SELECT_SPLIT, TRAIN_SPLIT, FaceDataset, load_split
from models.fer_crops import CROPS, cached_aligned_faces
from models.ferplus import DEFAULT_VOTES, NO_MAJORITY, load_votes, majority_labels, vote_distribution
from models.network import EmoNet

SEED = 20261123
BATCH_SIZE = 128
EPOCHS_GPU = 80
EPOCHS_CPU = 30
MAX_LR = 0.1
FINE_TUNE_MAX_LR = 0.01  # from trained weights (--init): a tenth of the peak, so that a short run adapts, not restarts
WEIGHT_DECAY = 5e-4
MOMENTUM = 0.9
LABEL_SMOOTHING = 0.1
EVAL_BATCH = 512
TARGETS = ("labels", "votes", "both")


def training_targets(kind: str, labels: np.ndarray, votes_path: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Which faces of a split are trained on and their targets: class indices for labels, else (N, 7) float32
    distributions."""
    if kind == "labels":
        return np.ones(len(labels), dtype=bool), labels
    votes, usable = load_votes(votes_path, split)
    if len(votes) != len(labels):
        raise ValueError(f"{split}: {len(votes)} rows of votes for {len(labels)} faces")
    targets = vote_distribution(votes[usable])
    if kind == "both":
        targets = (targets + np.eye(targets.shape[1])[labels[usable]]) / 2
    return usable, targets.astype(np.float32)


def selection_labels(kind: str, labels: np.ndarray, votes_path: str, split: str) -> list[np.ndarray]:
    """The label sets whose mean accuracy chooses the epoch (NO_MAJORITY: a face that does not count)."""
    if kind == "labels":
        return [labels]
    votes, usable = load_votes(votes_path, split)
    majority = np.where(usable, majority_labels(votes), NO_MAJORITY)
    return [majority] if kind == "votes" else [labels, majority]


def mean_accuracy(logits: np.ndarray, label_sets: list[np.ndarray]) -> float:
    predicted = logits.argmax(axis=1)
    return float(np.mean([(predicted == y)[y != NO_MAJORITY].mean() for y in label_sets]))


def evaluation_logits(model: nn.Module, faces: np.ndarray, device: torch.device) -> np.ndarray:
    """Flip-averaged logits, as the shipped classifier computes them."""
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(faces), EVAL_BATCH):
            batch = torch.from_numpy(faces[start : start + EVAL_BATCH]).unsqueeze(1).float().div_(255).to(device)
            out.append(flip_averaged_logits(model, batch).float().cpu().numpy())
    return np.concatenate(out)


def train(args: argparse.Namespace) -> dict:
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    device = torch.device(
        "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device.replace("auto", "cpu")
    )
    epochs = args.epochs or (EPOCHS_GPU if device.type == "cuda" else EPOCHS_CPU)
    x_train, y_train = load_split(args.data, TRAIN_SPLIT)
    x_select, y_select = load_split(args.data, SELECT_SPLIT)
    aligned = cached_aligned_faces(args.data, TRAIN_SPLIT, x_train)[0] if args.crops == "aligned" else None
    trained, targets = training_targets(args.targets, y_train, args.votes, TRAIN_SPLIT)
    select_on = selection_labels(args.targets, y_select, args.votes, SELECT_SPLIT)
    calibrate_rows, calibrate_on = training_targets(args.targets, y_select, args.votes, SELECT_SPLIT)
    loader = DataLoader(
        FaceDataset(x_train[trained], targets, augment=True, aligned=None if aligned is None else aligned[trained]),
        batch_size=BATCH_SIZE,
        shuffle=True,
        drop_last=True,
        num_workers=args.workers,
        persistent_workers=args.workers > 0,
        generator=torch.Generator().manual_seed(SEED),
    )
    model = load_checkpoint(args.init)[1] if args.init else EmoNet()
    model = model.to(device).to(memory_format=torch.channels_last)
    max_lr = args.max_lr or (FINE_TUNE_MAX_LR if args.init else MAX_LR)
    optimizer = torch.optim.SGD(
        model.parameters(), lr=max_lr, momentum=MOMENTUM, nesterov=True, weight_decay=WEIGHT_DECAY
    )
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=max_lr, epochs=epochs, steps_per_epoch=len(loader)
    )
    criterion = nn.CrossEntropyLoss(label_smoothing=LABEL_SMOOTHING)
    amp_dtype = torch.bfloat16
    best = {"accuracy": -1.0}
    history = []
    print(
        f"training EmoNet on {len(targets)} faces ({args.targets}, {args.crops} crops), {epochs} epochs, "
        f"device {device}",
        flush=True,
    )
    for epoch in range(1, epochs + 1):
        model.train()
        started, total_loss, seen = time.time(), 0.0, 0
        for faces, labels in loader:
            faces = faces.to(device, non_blocking=True).to(memory_format=torch.channels_last)
            labels = labels.to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=amp_dtype):
                loss = criterion(model(faces), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total_loss += loss.item() * len(labels)
            seen += len(labels)
        logits = evaluation_logits(model, x_select, device)
        accuracy = mean_accuracy(logits, select_on)
        history.append(
            {"epoch": epoch, "loss": total_loss / seen, "select_accuracy": accuracy, "seconds": time.time() - started}
        )
        print(
            f"epoch {epoch:3d}/{epochs} loss {total_loss / seen:.4f} "
            f"{SELECT_SPLIT} acc {accuracy:.4f} ({time.time() - started:.0f} s)",
            flush=True,
        )
        if accuracy > best["accuracy"]:
            best = {
                "accuracy": accuracy,
                "epoch": epoch,
                "state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
            }
    model.load_state_dict(best["state"])
    logits = evaluation_logits(model, x_select, device)
    temperature = fit_temperature(logits[calibrate_rows], calibrate_on)
    ece_before = expected_calibration_error(softmax(logits), y_select)
    ece_after = expected_calibration_error(softmax(logits, temperature), y_select)
    if args.targets != "labels":
        majority = select_on[-1]
        counted = majority != NO_MAJORITY
        ece_majority = expected_calibration_error(softmax(logits[counted], temperature), majority[counted])
    meta = {
        "selected_epoch": best["epoch"],
        "epochs": epochs,
        "select_split": SELECT_SPLIT,
        "targets": args.targets,
        "crops": args.crops,
        "select_labels": {"labels": "FER2013", "votes": "FER+ majority", "both": "mean of FER2013 and FER+ majority"}[
            args.targets
        ],
        "select_accuracy": best["accuracy"],
        "temperature": temperature,
        "ece_before": ece_before,
        "ece_after": ece_after,
        **({"ece_after_ferplus_majority": ece_majority} if args.targets != "labels" else {}),
        "seed": SEED,
        "init": args.init,
        "max_lr": max_lr,
        "device": device.type,
        "history": history,
    }
    save_checkpoint(model.cpu(), temperature, meta, args.out)
    print(json.dumps({k: v for k, v in meta.items() if k != "history"}, indent=2))
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.train", description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="npz with x_/y_training and x_/y_publictest")
    parser.add_argument("--targets", default="labels", choices=TARGETS, help="FER2013 labels, FER+ votes or both")
    parser.add_argument("--crops", default="fer", choices=CROPS, help="FER2013's framing only, or also the product's")
    parser.add_argument("--votes", default=str(DEFAULT_VOTES), help="FER+ votes aligned with --data (--targets votes)")
    parser.add_argument("--epochs", type=int, default=0, help=f"default {EPOCHS_GPU} on GPU, {EPOCHS_CPU} on CPU")
    parser.add_argument(
        "--init", help="start from this checkpoint's float32 weights (a fine-tune) instead of at random"
    )
    parser.add_argument(
        "--max-lr", type=float, default=0.0, help=f"one-cycle peak (default {MAX_LR}, {FINE_TUNE_MAX_LR} with --init)"
    )
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--workers", type=int, default=1, help="augmentation worker processes")
    parser.add_argument("--out", default=str(DEFAULT_WEIGHTS), help="where the checkpoint is written")
    args = parser.parse_args(argv)
    try:
        train(args)
    except (FileNotFoundError, KeyError, ValueError, WeightsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
