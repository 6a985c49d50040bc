"""Face detection and emotion classification: models.load_classifier() is the contract; its (N, 7) outputs follow
smoothing.labels.CLASSES, the label set every 7-vector of the product shares."""

from models.labels import FACE_SIZE

__all__ = ["FACE_SIZE", "load_classifier"]


def load_classifier(path=None):
    """Returns the shipped EmotionClassifier; imported lazily so that `import models` stays free of torch."""
    from models.classifier import load_classifier as _load

    return _load(path)
