"""The shipped emotion classifier: face crops in, calibrated 7-class probabilities out."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from models.image import to_grey, to_uint8
from models.int8 import INT8_KEY, engine_available, quantized_from_state
from models.labels import FACE_SIZE
from models.network import EmoNet, fuse_batchnorm
from smoothing.labels import NUM_CLASSES

DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "emonet.pt"
CHECKPOINT_FORMAT = "emosmooth-emonet-v1"
PRIOR_KEY = "prior"  # the checkpoint entry holding the per-class log-prior shift to video (models.training.prior)


class WeightsError(RuntimeError):
    """The weights file is missing, unreadable or not an EmoNet checkpoint."""


def flip_averaged_logits(model: nn.Module, faces: torch.Tensor) -> torch.Tensor:
    """Averages logits over each face and its mirror image in one batch: steadier and about 1 point better."""
    both = torch.cat([faces, torch.flip(faces, dims=(3,))])
    logits = model(both)
    return 0.5 * (logits[: len(faces)] + logits[len(faces) :])


# faces per forward pass when scoring many: bounds memory, not results (all 3,589 PublicTest faces in one pass took
# 1.75 GB; the Training split's 28,709 would take about 12)
LOGITS_BATCH = 512


def network_logits(model: nn.Module, faces: np.ndarray) -> np.ndarray:
    """(N, 7) flip-averaged float logits of a network (float or int8) on (N, 48, 48) uint8 faces, in eval mode; a
    network with other (N, D) outputs gets those (models.training.embeddings reads EmoNet's pooled features so)."""
    model.eval()
    return batched_logits(model, faces)


def batched_logits(model: nn.Module, faces: np.ndarray) -> np.ndarray:
    """network_logits for a network already in eval mode (switching costs ~70 us, 4% of a face's prediction)."""
    out = []
    with torch.inference_mode():
        for start in range(0, len(faces), LOGITS_BATCH):
            batch = torch.from_numpy(np.ascontiguousarray(faces[start : start + LOGITS_BATCH])).unsqueeze(1)
            batch = batch.float().div_(255).contiguous(memory_format=torch.channels_last)
            out.append(flip_averaged_logits(model, batch).float().numpy())
    return np.concatenate(out) if out else np.zeros((0, NUM_CLASSES), dtype=np.float32)


def save_checkpoint(model: EmoNet, temperature: float, meta: dict, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.float() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "config": model.config,
            "state_dict": state,
            "temperature": temperature,
            "meta": meta,
        },
        path,
    )


def to_face_batch(faces: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """Turns BGR or grey crops of any size, or a (N, 48, 48) array (any pixel dtype, as models.image.to_uint8 reads
    it), into a (N, 48, 48) uint8 batch."""
    if isinstance(faces, np.ndarray) and faces.ndim == 3 and faces.shape[1:] == (FACE_SIZE, FACE_SIZE):
        return np.ascontiguousarray(to_uint8(faces))
    batch = np.empty((len(faces), FACE_SIZE, FACE_SIZE), dtype=np.uint8)
    for i, crop in enumerate(faces):
        crop = np.asarray(crop)
        if crop.size == 0 or crop.ndim not in (2, 3):
            raise ValueError(f"face crop {i} has shape {crop.shape}; expected (H, W) grey or (H, W, 3) BGR")
        crop = to_grey(crop)
        shrinking = crop.shape[0] > FACE_SIZE or crop.shape[1] > FACE_SIZE
        batch[i] = cv2.resize(
            crop, (FACE_SIZE, FACE_SIZE), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        )
    return batch


PRECISIONS = ("auto", "int8", "float32")  # auto: the checkpoint's int8 weights where this CPU runs them


class EmotionClassifier:
    """Runs EmoNet on the CPU with flip averaging, the temperature fitted on held-out faces and the class prior of
    video (models.training.prior); `network` is the int8 twin (models.training.quantize) when there is one, else the
    float32 EmoNet with its BatchNorms folded."""

    def __init__(
        self,
        model: EmoNet,
        temperature: float = 1.0,
        meta: dict | None = None,
        network: nn.Module | None = None,
        precision: str = "float32",
        prior: np.ndarray | None = None,
    ) -> None:
        self.model = network if network is not None else fuse_batchnorm(model.eval())
        self.model = self.model.to(memory_format=torch.channels_last)
        self.temperature = float(temperature)
        self.meta = meta or {}
        self.precision = precision
        self.prior = np.zeros(NUM_CLASSES) if prior is None else np.asarray(prior, dtype=np.float64)

    def logits(self, faces: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """Uncalibrated flip-averaged logits, (N, 7)."""
        return batched_logits(self.model, to_face_batch(faces))

    def predict(self, faces: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """(N, 7) calibrated probabilities in smoothing.labels.CLASSES order; several faces go through in one batch."""
        z = self.logits(faces).astype(np.float64) / self.temperature + self.prior
        z -= z.max(axis=1, keepdims=True)
        probs = np.exp(z)
        return (probs / probs.sum(axis=1, keepdims=True)).astype(np.float32)


def load_checkpoint(path: str | Path) -> tuple[dict, EmoNet]:
    """The checkpoint dict and its float32 EmoNet; raises WeightsError with a one-line reason when it cannot."""
    path = Path(path)
    if path.is_dir():
        raise WeightsError(f"weights {path} is a folder, not a checkpoint file")
    if not path.is_file():
        raise WeightsError(f"weights not found: {path}")
    try:
        with warnings.catch_warnings():  # the int8 tensors' storage: torch's deprecation notices, for the pinned build
            warnings.simplefilter("ignore")
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a corrupt file
        reason = type(error).__name__
        raise WeightsError(f"cannot read weights {path}: not a PyTorch checkpoint, or corrupt ({reason})") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise WeightsError(f"{path} is not an EmoSmooth EmoNet checkpoint")
    try:
        config = checkpoint["config"]
        model = EmoNet(tuple(config["widths"]), config["num_classes"], config["dropout"])
        model.load_state_dict(checkpoint["state_dict"])
    except (RuntimeError, KeyError, TypeError, ValueError):  # a field missing or of the wrong shape or type
        raise WeightsError(f"{path} does not match the EmoNet architecture") from None
    return checkpoint, model.eval()


def load_classifier(path: str | Path | None = None, precision: str = "auto") -> EmotionClassifier:
    """Loads the shipped (or a given) checkpoint, in int8 when it has int8 weights this CPU runs (precision "auto"),
    or in the precision asked for; raises WeightsError with a one-line reason when it cannot."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    checkpoint, model = load_checkpoint(path)
    prior = checked_prior(checkpoint.get(PRIOR_KEY, {}), path)
    int8 = checkpoint.get(INT8_KEY)
    if int8 is not None and not isinstance(int8, dict):
        raise WeightsError(f"{path}: its int8 entry is not a set of int8 weights")
    if precision == "int8" and (int8 is None or not engine_available()):
        raise WeightsError(f"{path} has no int8 weights" if int8 is None else "this CPU has no int8 engine for them")
    if int8 is not None and precision != "float32" and engine_available():
        try:
            network = quantized_from_state(model, int8["state_dict"])
        except (RuntimeError, KeyError, TypeError):
            raise WeightsError(f"{path}: its int8 weights do not match the EmoNet architecture") from None
        temperature = checked_temperature(int8.get("temperature"), path)
        return EmotionClassifier(model, temperature, checkpoint.get("meta", {}), network, "int8", prior)
    temperature = checked_temperature(checkpoint.get("temperature", 1.0), path)
    return EmotionClassifier(model, temperature, checkpoint.get("meta", {}), prior=prior)


def checked_temperature(value: object, path: Path) -> float:
    """A checkpoint's calibration temperature: a number above 0 (0 or NaN would make every face unclassified)."""
    try:
        temperature = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        temperature = math.nan
    if not 0 < temperature < math.inf:
        raise WeightsError(f"{path}: its temperature is {value!r}, not a number above 0")
    return temperature


def checked_prior(entry: object, path: Path) -> np.ndarray | None:
    """A checkpoint's class prior of video: 7 finite numbers, or none."""
    bias = entry.get("bias") if isinstance(entry, dict) else entry
    if bias is None:
        return None
    try:
        values = np.asarray(bias, dtype=np.float64)
    except (TypeError, ValueError):
        values = np.full(0, np.nan)
    if values.shape != (NUM_CLASSES,) or not np.isfinite(values).all():
        raise WeightsError(f"{path}: its class prior is not {NUM_CLASSES} finite numbers")
    return values
