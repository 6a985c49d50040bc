"""Temporal smoothers that turn per-frame emotion probabilities into a stable, honest belief.

create(name) gives one smoother per tracked face; smooth_offline(name, probs, t) smooths a whole recording.
Importing this package does not import torch.
"""

# isort: off
# Importing registers the smoothers (registry.ORDER orders them for available() and the live app's keys 1-8).
# (smoothing.fitting.changepoint is not registered: retired on real faces, see its docstring; the synthetic benchmark's
# change-point oracle still uses its filter.)
from smoothing.smoothers import baselines, hmm, recurrent  # noqa: F401

# isort: on
from smoothing.base import CLASSES, Smoother
from smoothing.param_files import ParamsError
from smoothing.registry import DEFAULT_SMOOTHER, available, check_loadable, create, smooth_offline

__all__ = [
    "CLASSES",
    "DEFAULT_SMOOTHER",
    "ParamsError",
    "Smoother",
    "available",
    "check_loadable",
    "create",
    "smooth_offline",
]
