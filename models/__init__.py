"""Face detection and emotion classification: models.load_classifier() and models.CLASSES are the contract."""

from models.labels import CLASSES, FACE_SIZE, NUM_CLASSES

__all__ = ["CLASSES", "FACE_SIZE", "NUM_CLASSES", "load_classifier"]


def load_classifier(path=None):
    """Returns the shipped EmotionClassifier; imported lazily so that `import models` stays free of torch."""
    from models.classifier import load_classifier as _load

    return _load(path)
