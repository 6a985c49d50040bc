"""Tests of the smoothing package."""

from smoothing.smoothers.cells import CELL_KINDS
from smoothing.smoothers.recurrent import GAP_MODES

# Every learned smoother the behaviour tests hold to, as shipped: the HMM, and each recurrent cell in each gap mode.
LEARNED: list[tuple[str, dict]] = [("hmm", {})] + [(kind, {"gap": gap}) for kind in CELL_KINDS for gap in GAP_MODES]
