"""The emotion label set shared by the classifier, the smoothers and every output file."""

CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES: int = len(CLASSES)
FACE_SIZE: int = 48  # FER2013 crops are 48x48 grey; the CNN is trained and run at this size
