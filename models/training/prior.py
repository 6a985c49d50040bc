"""The class prior of video: 7 numbers added to the classifier's calibrated log-probabilities, fitted on the real
development clips, because photo data sets do not share video's classes (a talking mouth is not surprise).

python -m models.training.prior [--weights PATH] [--real DIR] [--dry-run]

The shift maximises the class-balanced log-likelihood of the true label over the labelled frames (each class
weighs the same, so the clips' own mix of classes is not learned). It is reported leave-one-source-out: fitted
without a source (CK+, MEAD, ...), scored on it. It is written into the checkpoint, where load_classifier applies it
at either precision; it was fitted on the app's precision. It is written only where it generalises: where the
leave-one-source-out accuracy beats the classifier's own.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch

from app.errors import CommandLineParser
from models.classifier import DEFAULT_WEIGHTS, PRIOR_KEY, load_classifier
from models.training.real_crops import clip_logits, load_real_crops, raw_accuracy
from models.training.script import run_script
from smoothing.fitting.real_sequences import DEFAULT_REAL_DIR, UNSCORED
from smoothing.labels import NUM_CLASSES

MIN_SOURCES = 2  # a prior fitted without one source must have another to be fitted on


def fit_prior(scaled_logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(7,) log-prior shift, centred, maximising the class-balanced log-likelihood of the labels."""
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    present = counts > 0
    weights = torch.as_tensor(np.where(present, 1.0 / np.maximum(counts, 1), 0.0)[labels] / present.sum())
    z = torch.as_tensor(scaled_logits, dtype=torch.float64)
    y = torch.as_tensor(labels)
    bias = torch.zeros(NUM_CLASSES, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([bias], lr=0.5, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = -(torch.log_softmax(z + bias, dim=1)[torch.arange(len(y)), y] * weights).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    shift = bias.detach().numpy()
    return shift - shift.mean()


def labelled_rows(clips, logits: list[np.ndarray], sources: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """The scaled logits and labels of labelled frames with a face, of the clips from the given sources."""
    rows, labels = [], []
    for clip, z in zip(clips, logits, strict=True):
        if clip.source in sources:
            keep = (clip.labels != UNSCORED) & clip.has_face
            rows.append(z[keep])
            labels.append(clip.labels[keep])
    return np.concatenate(rows), np.concatenate(labels)


def leave_one_source_out(clips, logits: list[np.ndarray]) -> dict:
    """Accuracy per source with the prior fitted without it, and pooled over all labelled frames."""
    sources = sorted({clip.source for clip in clips})
    right = total = 0
    report: dict = {}
    for held in sources:
        bias = fit_prior(*labelled_rows(clips, logits, set(sources) - {held}))
        mine = [(clip, z) for clip, z in zip(clips, logits, strict=True) if clip.source == held]
        scores = raw_accuracy([c for c, _ in mine], [z for _, z in mine], bias)
        report[held] = {"accuracy": scores["all labelled"], "bias": bias.round(3).tolist()}
        right += scores["all labelled"] * scores["frames"]
        total += scores["frames"]
    report["pooled"] = right / total
    return report


def generalises(report: dict) -> bool:
    """Whether the prior, fitted without each source, reads that source better than no prior does."""
    return report["leave_one_source_out"]["pooled"] > report["without"]["all labelled"]


def main(argv: list[str] | None = None) -> int:
    parser = CommandLineParser(prog="python -m models.training.prior", description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=Path, default=DEFAULT_WEIGHTS, help="checkpoint, updated in place")
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL_DIR)
    parser.add_argument("--dry-run", action="store_true", help="report, do not write")
    args = parser.parse_args(argv)
    return run_script(lambda: fit_and_write(args.weights, args.real, args.dry_run))


def fit_and_write(weights: Path, real_dir: Path, dry_run: bool) -> None:
    """Fits the prior on the real clips, reports it, and writes it into the checkpoint where it generalises."""
    classifier = load_classifier(weights)
    clips = load_real_crops(real_dir)
    if len(sources := {clip.source for clip in clips}) < MIN_SOURCES:
        raise ValueError(
            f"{real_dir} has labelled clips of {len(sources)} source(s); leave-one-source-out needs {MIN_SOURCES}"
        )
    logits = [z / classifier.temperature for z in clip_logits(classifier.logits, clips)]
    bias = fit_prior(*labelled_rows(clips, logits, sources))
    report = {
        "precision": classifier.precision,
        "bias": bias.round(4).tolist(),
        "without": raw_accuracy(clips, logits),
        "in_sample": raw_accuracy(clips, logits, bias),
        "leave_one_source_out": leave_one_source_out(clips, logits),
    }
    print(json.dumps(report, indent=1))
    if not (kept := generalises(report)):
        print("not written: fitted without each source, the prior reads that source's frames no better than none")
    if kept and not dry_run:
        checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
        checkpoint[PRIOR_KEY] = {"bias": bias.tolist(), "report": report}
        torch.save(checkpoint, weights)


if __name__ == "__main__":
    sys.exit(main())
