"""Temporal smoothers that turn per-frame emotion probabilities into a stable, honest belief.

create(name) gives one smoother per tracked face; smooth_offline(name, probs, t) smooths a whole recording.
Importing this package does not import torch.
"""

from smoothing import baselines, hmm, recurrent  # noqa: F401  (importing registers the smoothers)
from smoothing.base import CLASSES, Smoother
from smoothing.registry import available, create, smooth_offline

__all__ = ["CLASSES", "Smoother", "available", "create", "smooth_offline"]
