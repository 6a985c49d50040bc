"""Evaluates the shipped classifier on a FER2013-style split (accuracy, macro-F1, recall, confusion, ECE, both label
sets, latency), on the held-out in-the-wild stills per set, and on the real development clips' raw labels.

python -m models.training.evaluate [--data NPZ] [--split NAME] [--weights PATH] [--crops fer|aligned]
                                   [--limit N] [--json PATH] [--wild DIR] [--real DIR]

--crops aligned scores the faces re-framed as the product frames a face in a video (models.training.fer_crops) instead
of FER2013's own framing. The wild and real sections are skipped, with a line saying so, where their folders are absent.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from app.arguments import non_negative_int
from app.errors import CommandLineParser
from models.classifier import PRECISIONS, load_classifier
from models.training.calibration import expected_calibration_error, negative_log_likelihood, softmax
from models.training.data import DEFAULT_DATA, SELECT_SPLIT, load_split
from models.training.fer_crops import CROPS, cached_aligned_faces
from models.training.ferplus import DEFAULT_VOTES, NO_MAJORITY, load_votes, majority_labels
from models.training.real_crops import clip_logits, load_real_crops, raw_accuracy
from models.training.script import given_or_default, run_script, writable_file
from models.training.wild import DEFAULT_WILD, LABELS_FILE, SETS, load_wild
from smoothing.fitting.real_sequences import DEFAULT_REAL_DIR
from smoothing.fitting.real_sequences import LABELS_FILE as REAL_LABELS_FILE
from smoothing.labels import CLASSES, NUM_CLASSES

PREDICT_BATCH = 256
LATENCY_WARMUP = 20
LATENCY_REPEATS = 200
LATENCY_BATCH_SIZES = (1, 4)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Rows are true classes, columns predicted ones."""
    return np.bincount(labels * NUM_CLASSES + predicted, minlength=NUM_CLASSES**2).reshape(NUM_CLASSES, NUM_CLASSES)


def classification_metrics(labels: np.ndarray, probs: np.ndarray) -> dict:
    predicted = probs.argmax(axis=1)
    confusion = confusion_matrix(labels, predicted)
    support = confusion.sum(axis=1)
    predicted_count = confusion.sum(axis=0)
    true_positive = np.diag(confusion)
    recall = np.divide(true_positive, support, out=np.zeros(NUM_CLASSES), where=support > 0)
    precision = np.divide(true_positive, predicted_count, out=np.zeros(NUM_CLASSES), where=predicted_count > 0)
    f1 = np.divide(
        2 * precision * recall, precision + recall, out=np.zeros(NUM_CLASSES), where=(precision + recall) > 0
    )
    present = support > 0
    return {
        "accuracy": float((predicted == labels).mean()),
        "macro_f1": float(f1[present].mean()),
        "recall": dict(zip(CLASSES, recall.round(4).tolist(), strict=True)),
        "confusion": confusion.tolist(),
    }


def per_face_latency_ms(classifier, faces: np.ndarray) -> dict:
    """Median and p95 wall time per face of predict(), crops at their native size, after warm-up."""
    results = {}
    for batch_size in LATENCY_BATCH_SIZES:
        batch = [faces[i % len(faces)] for i in range(batch_size)]
        for _ in range(LATENCY_WARMUP):
            classifier.predict(batch)
        times = []
        for _ in range(LATENCY_REPEATS):
            started = time.perf_counter()
            classifier.predict(batch)
            times.append((time.perf_counter() - started) * 1000 / batch_size)
        results[f"batch{batch_size}"] = {"p50": float(np.median(times)), "p95": float(np.percentile(times, 95))}
    return results


SKIPPED = {"skipped": "--skip"}
SECTIONS = ("votes", "wild", "real")  # the sections --skip can leave out


def ferplus_metrics(
    votes_path: Path | None, split: str, rows: int, pick: np.ndarray, labels: np.ndarray, probs: np.ndarray
) -> dict:
    """Scores against the FER+ crowd's majority labels (models.training.ferplus) of the same faces, or says why it
    cannot."""
    if votes_path is None:
        return SKIPPED
    if not votes_path.is_file():
        return {"skipped": f"no FER+ votes at {votes_path}"}
    try:
        votes, usable = load_votes(votes_path, split)
    except KeyError:
        return {"skipped": f"no {split} split in {votes_path.name}"}
    if len(votes) != rows:
        return {"skipped": f"{votes_path.name} has {len(votes)} {split} rows, the faces {rows}"}
    votes, usable = votes[pick], usable[pick]
    majority = majority_labels(votes)
    scored = usable & (majority != NO_MAJORITY)
    report = {"faces": int(scored.sum()), "left_out": int((~scored).sum())}
    report.update(classification_metrics(majority[scored], probs[scored]))
    report["ece"] = expected_calibration_error(probs[scored], majority[scored])
    report["original_label_agreement"] = float((majority[scored] == labels[scored]).mean())
    return report


def wild_metrics(classifier, wild_dir: Path | None) -> dict:
    """Accuracy, macro-F1 and recall per set of the held-out stills (models.training.wild), framed as the app frames
    faces."""
    if wild_dir is None:
        return SKIPPED
    if not (wild_dir / LABELS_FILE).is_file():
        return {"skipped": f"no wild stills at {wild_dir}"}
    held = load_wild(wild_dir)
    held = held.part(held.held_out)
    probs = np.concatenate([classifier.predict(held.faces[s : s + PREDICT_BATCH])
                            for s in range(0, len(held.faces), PREDICT_BATCH)])  # fmt: skip
    return {name: {"faces": int((held.sets == name).sum()),
                   **classification_metrics(held.labels[held.sets == name], probs[held.sets == name])}
            for name in SETS if (held.sets == name).any()}  # fmt: skip


def real_metrics(classifier, real_dir: Path | None) -> dict:
    """Raw-label accuracy of the biggest face on every labelled frame of the real clips, per kind and source."""
    if real_dir is None:
        return SKIPPED
    if not (real_dir / REAL_LABELS_FILE).is_file():
        return {"skipped": f"no real clips at {real_dir}"}
    clips = load_real_crops(real_dir)
    return raw_accuracy(clips, clip_logits(classifier.predict, clips))  # the argmax of probabilities: the raw label


def evaluate(
    data: str | Path,
    split: str,
    weights: str | None = None,
    limit: int = 0,
    precision: str = "auto",
    votes: str | Path | None = DEFAULT_VOTES,
    crops: str = "fer",
    wild_dir: str | Path | None = DEFAULT_WILD,
    real_dir: str | Path | None = DEFAULT_REAL_DIR,
) -> dict:
    """Every figure of the classifier; a section whose path is None is left out."""
    faces, labels = load_split(data, split)
    if crops == "aligned":
        faces = cached_aligned_faces(data, split, faces)[0]
    rows, pick = len(labels), np.arange(len(labels))
    if limit:
        pick = np.linspace(0, len(labels) - 1, min(limit, len(labels))).astype(int)  # splits are sorted by class
        faces, labels = faces[pick], labels[pick]
    classifier = load_classifier(weights, precision)
    logits = np.concatenate(
        [classifier.logits(faces[s : s + PREDICT_BATCH]) for s in range(0, len(faces), PREDICT_BATCH)]
    )
    raw = softmax(logits)
    calibrated = softmax(logits, classifier.temperature)
    report = {"split": split, "crops": crops, "faces": len(labels), "precision": classifier.precision,
              "temperature": classifier.temperature}  # fmt: skip
    report.update(classification_metrics(labels, calibrated))
    report["ece_uncalibrated"] = expected_calibration_error(raw, labels)
    report["ece"] = expected_calibration_error(calibrated, labels)
    report["nll_uncalibrated"] = negative_log_likelihood(raw, labels)
    report["nll"] = negative_log_likelihood(calibrated, labels)
    report["ferplus"] = ferplus_metrics(votes and Path(votes), split, rows, pick, labels, calibrated)
    report["wild_held_out"] = wild_metrics(classifier, wild_dir and Path(wild_dir))
    report["real_clips"] = real_metrics(classifier, real_dir and Path(real_dir))
    report["latency_ms_per_face"] = per_face_latency_ms(classifier, faces)
    return report


def per_class_lines(metrics: dict, rows: str) -> list[str]:
    """Recall per class and the confusion matrix of one label set, as format_report prints them."""
    lines = [
        "recall        " + "  ".join(f"{name} {value:.3f}" for name, value in metrics["recall"].items()),
        f"confusion (rows {rows}, columns predicted)",
        "          " + "".join(f"{name[:8]:>9}" for name in CLASSES),
    ]
    for name, row in zip(CLASSES, metrics["confusion"], strict=True):
        lines.append(f"{name:>9} " + "".join(f"{count:9d}" for count in row))
    return lines


def format_report(report: dict) -> str:
    lines = [
        f"split {report['split']}: {report['faces']} faces ({report['crops']} crops), {report['precision']} classifier",
        f"accuracy      {report['accuracy']:.4f}",
        f"macro-F1      {report['macro_f1']:.4f}",
        f"ECE           {report['ece']:.4f} "
        f"(uncalibrated {report['ece_uncalibrated']:.4f}, T={report['temperature']:.3f})",
        f"NLL           {report['nll']:.4f} (uncalibrated {report['nll_uncalibrated']:.4f})",
        *per_class_lines(report, "true"),
    ]
    ferplus = report["ferplus"]
    if "skipped" in ferplus:
        lines.append(f"FER+ majority labels: skipped ({ferplus['skipped']})")
    else:
        lines += [
            f"FER+ majority labels: {ferplus['faces']} faces with a strict majority ({ferplus['left_out']} left out)",
            f"accuracy      {ferplus['accuracy']:.4f}",
            f"macro-F1      {ferplus['macro_f1']:.4f}",
            f"ECE           {ferplus['ece']:.4f}",
            f"agreement     {ferplus['original_label_agreement']:.4f} (original labels equal to the majority)",
            *per_class_lines(ferplus, "FER+ majority"),
        ]
    wild = report["wild_held_out"]
    if "skipped" in wild:
        lines.append(f"wild stills: skipped ({wild['skipped']})")
    else:
        for name, metrics in wild.items():
            head = f"wild {name} (held out, {metrics['faces']} faces, app framing)"
            lines.append(f"{head}: accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}")
            lines.append(per_class_lines(metrics, "true")[0])
    real = report["real_clips"]
    if "skipped" in real:
        lines.append(f"real clips: skipped ({real['skipped']})")
    else:
        figures = ", ".join(
            f"{key} {value:.3f}" for key, value in real.items() if key not in ("all labelled", "frames")
        )
        lines.append(
            f"real clips, raw label: {real['all labelled']:.4f} of {real['frames']} labelled frames ({figures})"
        )
    for batch, figures in report["latency_ms_per_face"].items():
        lines.append(f"latency       {batch}: p50 {figures['p50']:.2f} ms/face, p95 {figures['p95']:.2f} ms/face")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = CommandLineParser(prog="python -m models.training.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", default=str(DEFAULT_DATA), help="npz laid out like fer2013.npz (x_<split>, y_<split>)"
    )
    parser.add_argument("--split", default=SELECT_SPLIT)
    parser.add_argument("--weights", default=None, help="checkpoint (default: the shipped models/weights/emonet.pt)")
    parser.add_argument("--votes", help=f"FER+ votes aligned with --data (default {DEFAULT_VOTES}, skipped if absent)")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS, help="auto: int8 where the CPU runs it")
    parser.add_argument("--crops", default="fer", choices=CROPS, help="FER2013's framing or the product's")
    parser.add_argument(
        "--limit", type=non_negative_int, default=0, help="evaluate on N faces spread over the split (0: all)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the report as JSON here")
    parser.add_argument(
        "--wild", help=f"in-the-wild stills, their held-out part (default {DEFAULT_WILD}, skipped if absent)"
    )
    parser.add_argument("--real", help=f"real labelled clips (default {DEFAULT_REAL_DIR}, skipped if absent)")
    parser.add_argument("--skip", nargs="+", choices=SECTIONS, default=[], help="leave these sections out")
    args = parser.parse_args(argv)

    def work() -> None:
        votes = None if "votes" in args.skip else given_or_default(args.votes, DEFAULT_VOTES, folder=False)
        wild = None if "wild" in args.skip else given_or_default(args.wild, DEFAULT_WILD, folder=True)
        real = None if "real" in args.skip else given_or_default(args.real, DEFAULT_REAL_DIR, folder=True)
        json_path = writable_file(args.json) if args.json else None
        report = evaluate(args.data, args.split, args.weights, args.limit, args.precision, votes, args.crops, wild,
                          real)  # fmt: skip
        print(format_report(report))
        if json_path:
            json_path.write_text(json.dumps(report, indent=2))

    return run_script(work)


if __name__ == "__main__":
    sys.exit(main())
