"""`python -m benchmarks [real|detection|latency|quality|folder] [--quick] [--out DIR] [--data DIR]`: runs the
benchmarks and writes their reports; `python -m benchmarks soak --minutes N` runs the soak, never part of `all`."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from app.arguments import positive_float
from app.errors import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CommandLineParser
from benchmarks.report import DEFAULT_RESULTS_DIR, Report, run_metadata, write_report
from models.roots import REPO

QUICK_RESULTS_DIR = REPO / "out" / "benchmarks-quick"  # smoke results never overwrite the committed ones
NOT_IN_ALL = ("soak",)  # an hour of real-time running is no `make bench` step
DATA_BENCHMARKS = ("real", "detection", "all")  # the ones --data (a real clips folder) is for


def runners(
    data: Path | None = None, minutes: float | None = None, period_s: float | None = None
) -> dict[str, Callable[[bool], Report]]:
    """Benchmark name -> run(quick); imported lazily so one benchmark's imports never slow the other."""
    from functools import partial

    from benchmarks import detection, folder, latency, quality, real, soak

    return {
        "real": partial(real.run, data_dir=data) if data else real.run,
        "detection": partial(detection.run, data_dir=data) if data else detection.run,
        "latency": latency.run,
        "quality": quality.run,
        "folder": folder.run,
        "soak": partial(soak.run, minutes=minutes, period_s=period_s),
    }


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The benchmarks' options, shared by `python -m benchmarks` and `emosmooth bench`."""
    parser.add_argument(
        "which",
        nargs="?",
        choices=["real", "detection", "latency", "quality", "folder", "soak", "all"],
        default="all",
        metavar="BENCHMARK",
        help="real, detection, latency, quality, folder, soak or all (default: all but soak)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run under a minute: few repeats, few sequences")
    parser.add_argument(
        "--out", type=Path, help=f"results folder (default {DEFAULT_RESULTS_DIR}; with --quick {QUICK_RESULTS_DIR})"
    )
    parser.add_argument(
        "--data", type=Path, help="real clips folder for `real` and `detection` (default ../shared/data/real)"
    )
    parser.add_argument(
        "--minutes", type=positive_float, metavar="N", help="soak: minutes of running (default 60; --quick: 0.05)"
    )
    parser.add_argument(
        "--sample-seconds", type=positive_float, metavar="S", help="soak: seconds per sample (default 60; --quick: 1)"
    )
    return parser


def main(argv: list[str] | None = None, prog: str = "python -m benchmarks") -> int:
    """`prog` is how the user called it (`emosmooth bench` too), for the usage line."""
    return run(add_arguments(CommandLineParser(prog=prog, description=__doc__)).parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Runs the chosen benchmarks and writes their reports; the exit code."""
    if args.data is not None and args.which not in DATA_BENCHMARKS:
        print(f"error: --data names the real clips of {' and '.join(DATA_BENCHMARKS[:-1])}; {args.which} reads none",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if (args.minutes is not None or args.sample_seconds is not None) and args.which != "soak":
        print("error: --minutes and --sample-seconds are the soak's (python -m benchmarks soak)", file=sys.stderr)
        return EXIT_USAGE
    out = args.out or (QUICK_RESULTS_DIR if args.quick else DEFAULT_RESULTS_DIR)
    try:
        out.mkdir(parents=True, exist_ok=True)  # fail before minutes of measuring, not after
    except OSError as error:
        print(f"error: cannot write results to {out}: {error.strerror or error}", file=sys.stderr)
        return EXIT_ERROR
    table = runners(args.data, args.minutes, args.sample_seconds)
    from smoothing.fitting.real_sequences import DEFAULT_REAL_DIR  # loads torch: after the arguments are checked

    names = [name for name in table if name not in NOT_IN_ALL] if args.which == "all" else [args.which]
    for name in names:
        if (
            name in ("real", "detection")
            and args.which == "all"
            and args.data is None
            and not DEFAULT_REAL_DIR.is_dir()
        ):
            print(f"{name}: skipped, no real clips at {DEFAULT_REAL_DIR} (--data DIR names another folder)")
            continue
        start = time.perf_counter()
        meta = run_metadata(args.quick)
        try:
            report = table[name](args.quick)
            meta["seconds"] = round(time.perf_counter() - start, 1)
            paths = write_report(report, meta, out)
        except (OSError, ValueError, RuntimeError) as error:  # missing data, unwritable folder, a peer gone wrong
            print(f"error: {name} benchmark: {error}", file=sys.stderr)
            return EXIT_ERROR
        print(report.markdown)
        print(f"{name}: {meta['seconds']:.0f} s, wrote {', '.join(str(p) for p in paths)}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
