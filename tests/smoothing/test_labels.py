"""The label set every 7-vector follows: FER2013's order, which the classifier was trained on."""

import smoothing
from smoothing.labels import CLASSES, NUM_CLASSES


def test_classes_are_the_fer2013_order() -> None:
    assert CLASSES == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    assert NUM_CLASSES == len(CLASSES) == 7


def test_smoothing_names_the_same_classes() -> None:
    assert smoothing.CLASSES is CLASSES
