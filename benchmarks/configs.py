"""The configurations every quality benchmark runs, synthetic and real: the drop patterns and the smoothers' rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import smoothing
from smoothing.fitting.sequences import BURST_SHARE, STALL_SHARE
from smoothing.smoothers.cells import CELL_KINDS
from smoothing.smoothers.recurrent import GAP_MODES

MARKOV_ORACLE = "oracle (Markov)"  # true transition law, independent frames: benchmarks/oracle.py
CHANGEPOINT_ORACLE = "oracle (change-point)"  # true semi-Markov law and a per-face emission law: changepoint_oracle.py
ORACLES: tuple[str, ...] = (MARKOV_ORACLE, CHANGEPOINT_ORACLE)


@dataclass(frozen=True)
class DropPattern:
    """How frames go missing: the share dropped, and how much of it comes as long stalls and short bursts."""

    rate: float
    stall_share: float = STALL_SHARE
    burst_share: float = BURST_SHARE


SETTINGS: dict[str, DropPattern] = {
    "0% drops": DropPattern(0.0),
    "30% drops": DropPattern(0.3),
    "60% drops": DropPattern(0.6),
    # A busy machine: the same 30% lost, but nearly all of it in 0.5-3 s stalls and 2-6 frame bursts.
    "30% in stalls": DropPattern(0.3, stall_share=0.8, burst_share=0.2),
}


@dataclass(frozen=True)
class Config:
    """One row of the tables: a smoother, its options, and whether it runs online or over the whole recording."""

    label: str
    name: str
    options: dict[str, Any] = field(default_factory=dict)
    offline: bool = False


def configurations() -> list[Config]:
    """Every registered smoother online (the recurrent cells in both gap modes), every offline pass, and the oracles."""
    configs = []
    for name in smoothing.available():
        if name in CELL_KINDS:
            configs += [Config(f"{name} ({gap})", name, {"gap": gap}) for gap in GAP_MODES]
        else:
            configs.append(Config(name, name))
    configs += [
        Config(f"{name} offline", name, offline=True)
        for name in smoothing.available()
        if hasattr(smoothing.create(name), "smooth_offline")
    ]
    configs += [Config(label, label) for label in ORACLES]
    return configs
