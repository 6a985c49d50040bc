"""What the classifier knows of FER2013 beyond the label set (smoothing.labels): its face size and class counts."""

FACE_SIZE: int = 48  # FER2013 crops are 48x48 grey; the CNN is trained and run at this size
# FER2013 Training's class counts (28,709 faces): the prior the classifier learned under. Peers' faces and real
# video have other shares, which is why the real-fitted HMM does not divide by it (smoothing/fitting/hmm_real_fit.py).
FER2013_TRAINING_COUNTS: tuple[int, ...] = (3995, 436, 4097, 7215, 4830, 3171, 4965)
