"""Chooses how the aligner frames a face, by measurement: raw accuracy of the shipped classifier on the real
development clips and on FER2013 PublicTest re-cropped the same way, for each candidate framing.

python -m models.training.framing [--real DIR] [--data NPZ] [--limit N] [--template] [--json PATH]
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.arguments import non_negative_int
from app.engine.sources import VideoFileSource
from app.engine.weights import load_weights
from app.errors import CommandLineParser
from models.align import FER_TEMPLATE, align_face, box_matrix, similarity, template, warp_to_crop
from models.face_detector import Detection, FaceDetector
from models.labels import FACE_SIZE
from models.training.data import DEFAULT_DATA, SELECT_SPLIT, load_split
from models.training.fer_crops import fer_detections
from models.training.script import run_script, writable_file
from smoothing.fitting.real_sequences import DEFAULT_REAL_DIR, UNSCORED, frame_labels, read_index, segments_of

PREDICT_BATCH = 512  # faces per classifier call: bounds memory, not results

Framing = Callable[[np.ndarray, Detection], np.ndarray]


def eyes_only(zoom: float) -> Framing:
    """Aligned by the two eyes alone (rotation, scale and shift exactly from them)."""

    def crop(frame: np.ndarray, detection: Detection) -> np.ndarray:
        if len(detection.landmarks) != len(FER_TEMPLATE):
            return warp_to_crop(frame, box_matrix(detection))
        return warp_to_crop(frame, similarity(np.array(detection.landmarks[:2]), template(zoom)[:2]))

    return crop


def five_points(zoom: float) -> Framing:
    return lambda frame, detection: align_face(frame, detection, zoom)


def box_only(frame: np.ndarray, detection: Detection) -> np.ndarray:
    """The detector's box resized, unrotated: what the Haar-era crop did."""
    return warp_to_crop(frame, box_matrix(detection))


FRAMINGS: dict[str, Framing] = {
    "box (no alignment)": box_only,
    **{f"eyes, zoom {zoom}": eyes_only(zoom) for zoom in (1.0, 1.1, 1.2)},
    **{f"5 points, zoom {zoom}": five_points(zoom) for zoom in (0.9, 1.0, 1.1, 1.2, 1.3)},
}


def measured_template(detections: list[Detection | None]) -> np.ndarray:
    """Median landmarks over the faces where YuNet found one, mirrored about the vertical centre line."""
    points = np.array([d.landmarks for d in detections if d is not None])
    median = np.median(points, axis=0)
    mirrored = median[[1, 0, 2, 4, 3]] * (-1, 1) + (FACE_SIZE - 1, 0)
    return np.round((median + mirrored) / 2, 1)


def predict_all(classifier, faces: np.ndarray) -> np.ndarray:
    """(N, 7) probabilities of any number of 48x48 faces, PREDICT_BATCH at a time."""
    return np.concatenate(
        [classifier.predict(faces[i : i + PREDICT_BATCH]) for i in range(0, len(faces), PREDICT_BATCH)]
    )


def fer_accuracy(classifier, faces: np.ndarray, labels: np.ndarray, detections: list[Detection | None]) -> dict:
    """Accuracy per framing on FER2013 faces re-cropped by their own landmarks (the original face where YuNet
    found none)."""
    out = {"faces": len(faces), "landmarks_found": float(np.mean([d is not None for d in detections]))}
    for name, framing in FRAMINGS.items():
        crops = np.stack([framing(f, d) if d is not None else f for f, d in zip(faces, detections, strict=True)])
        out[name] = float(np.mean(predict_all(classifier, crops).argmax(axis=1) == labels))
    out["original 48x48 faces"] = float(np.mean(predict_all(classifier, faces).argmax(axis=1) == labels))
    return out


def real_accuracy(classifier, real_dir: Path, limit: int) -> dict:
    """Accuracy per framing over the labelled frames with a face of the real clips (biggest face per frame)."""
    from tqdm import tqdm

    index = read_index(real_dir)
    names = [n for n, e in index.items() if e.get("segments")][: limit or None]
    detector = FaceDetector()
    correct = dict.fromkeys(FRAMINGS, 0)
    scored = labelled = 0
    for name in tqdm(names, desc="real clips", file=sys.stderr):
        segments = segments_of(index[name])
        detector.reset()
        crops: dict[str, list[np.ndarray]] = {k: [] for k in FRAMINGS}
        truth = []
        for _, t, frame in VideoFileSource(real_dir / name):
            label = frame_labels(np.array([t]), segments)[0]
            faces = detector.detect(frame)
            if label == UNSCORED:
                continue
            labelled += 1
            if not faces:
                continue
            main = max(faces, key=lambda d: d.w * d.h)
            for key, framing in FRAMINGS.items():
                crops[key].append(framing(frame, main))
            truth.append(label)
        scored += len(truth)
        for key in FRAMINGS:
            if truth:
                predicted = predict_all(classifier, np.stack(crops[key])).argmax(axis=1)
                correct[key] += int(np.sum(predicted == np.array(truth)))
    out = {"clips": len(names), "labelled_frames": labelled, "face_found": scored / max(labelled, 1)}
    out |= {key: correct[key] / max(scored, 1) for key in FRAMINGS}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = CommandLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL_DIR)
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--limit", type=non_negative_int, default=0, help="first N labelled clips only (0: all)")
    parser.add_argument("--template", action="store_true", help="print the measured FER2013 landmark template")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    def work() -> None:
        json_path = writable_file(args.json) if args.json else None
        classifier = load_weights(None)
        faces, labels = load_split(args.data, SELECT_SPLIT)
        detections = fer_detections(faces)
        if args.template:
            print("template (48x48 px):", measured_template(detections).tolist())
        report = {"publictest": fer_accuracy(classifier, faces, labels, detections)}
        print(json.dumps(report, indent=1), flush=True)
        if not args.skip_real:
            report["real"] = real_accuracy(classifier, args.real, args.limit)
            print(json.dumps(report["real"], indent=1))
        if json_path:
            json_path.write_text(json.dumps(report, indent=1) + "\n")

    return run_script(work)


if __name__ == "__main__":
    sys.exit(main())
