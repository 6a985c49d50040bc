"""Where the leave-one-source-out fits live: for each source of real clips, the parameters fitted without it.

The real benchmark scores each source's clips with the fit that never saw them (`python -m smoothing.fitting.train
--loso` writes the fits), since the clips that judge a smoother in use are other ones.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from smoothing.param_files import PARAMS_DIR
from smoothing.smoothers.cells import CELL_KINDS

LOSO_DIR = PARAMS_DIR / "loso"
FITTED_ON_REAL: tuple[str, ...] = ("hmm", *CELL_KINDS)


def source_slug(source: str) -> str:
    """'CK+' -> 'ckplus': a folder name for a source."""
    return re.sub(r"[^a-z0-9]+", "-", source.lower().replace("+", "plus")).strip("-")


def fold_params(name: str, source: str, offline: bool = False, root: Path = LOSO_DIR) -> Path:
    """The parameter file of `name` fitted without `source` (the offline twin's for a recurrent cell offline)."""
    suffix = "-offline" if offline else ""
    return root / f"without-{source_slug(source)}" / f"{name}{suffix}.npz"


def has_fold_params(name: str, offline: bool = False, root: Path = LOSO_DIR) -> bool:
    if name not in FITTED_ON_REAL:
        return False
    suffix = "-offline" if offline else ""
    return any(root.glob(f"without-*/{name}{suffix}.npz"))


def fold_options(name: str, source: str, offline: bool = False, root: Path = LOSO_DIR) -> dict[str, Any]:
    """create() options that load the fit made without `source`."""
    path = fold_params(name, source, offline, root)
    if not path.is_file():
        raise FileNotFoundError(f"no leave-one-source-out fit {path}; run `python -m smoothing.fitting.train --loso`")
    return {"offline_params": path} if offline else {"params": path}
