"""The emotion label set: the order of every 7-vector a smoother takes and gives, which the classifier is trained to
emit and every output file names. It lives with the Smoother protocol, so that smoothing needs nothing of models."""

CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # FER2013's order
NUM_CLASSES: int = len(CLASSES)
