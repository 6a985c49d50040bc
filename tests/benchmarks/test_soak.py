"""The soak harness on a run of a few seconds (every sample field, outputs written then removed, the report files),
and its target rules on hand-made samples; the hour-long run itself is the lead's, not the suite's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import soak
from benchmarks.__main__ import NOT_IN_ALL, add_arguments, runners
from benchmarks.report import Report, run_metadata, write_report

SAMPLE_FIELDS = {
    "minute", "rss_mib", "open_fds", "threads_native", "threads_python", "frames", "processed_fps",
    "latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "dropped_share", "load_1min",
}  # fmt: skip
MINUTE_PERIOD_S = 60.0
HOUR_OF_SAMPLES = 60
MIN_LIVE_THREADS = 2  # the loop and the capture thread


@pytest.fixture(scope="module")
def report() -> Report:
    if not soak.has_proc():
        pytest.skip("the soak reads /proc/self: Linux only")
    return soak.run(quick=True)


def test_every_sample_has_every_field(report: Report) -> None:
    samples = report.data["samples"]
    expected = soak.QUICK_SECONDS / soak.QUICK_PERIOD_S
    assert expected - 1 <= len(samples) <= expected + 1
    for sample in samples:
        assert set(sample) == SAMPLE_FIELDS
        assert sample["rss_mib"] > 0 and sample["open_fds"] > 0
        assert sample["threads_native"] >= sample["threads_python"] >= MIN_LIVE_THREADS
        assert sample["frames"] > 0 and sample["processed_fps"] > 0
        assert 0 <= sample["latency_p50_ms"] <= sample["latency_p95_ms"] <= sample["latency_p99_ms"]
        assert 0 <= sample["dropped_share"] <= 1
    minutes = [sample["minute"] for sample in samples]
    assert minutes == sorted(minutes) and minutes[-1] * soak.S_PER_MIN >= soak.QUICK_SECONDS
    assert sum(sample["frames"] for sample in samples) == report.data["totals"]["processed"]


def test_the_outputs_were_written_and_removed(report: Report) -> None:
    outputs = report.data["outputs"]
    assert set(outputs["bytes"]) == {soak.LIVE_CSV, soak.LIVE_VIDEO}
    assert all(size > 0 for size in outputs["bytes"].values())
    assert outputs["removed"] and not Path(outputs["folder"]).exists()


def test_the_report_writes_json_markdown_and_the_plot(report: Report, tmp_path: Path) -> None:
    assert len(report.data["targets"]) == 4
    assert all(isinstance(t["pass"], bool) for t in report.data["targets"])
    assert "first and last halves" in report.markdown and "middle sample" in report.markdown
    paths = write_report(report, run_metadata(True), tmp_path)
    data = json.loads((tmp_path / "soak.json").read_text())
    assert data["meta"]["cpu_count"] >= 1 and data["meta"]["load_average_at_start"] is not None
    assert data["samples"] and data["settings"]["smoother"] == soak.DEFAULT_SMOOTHER
    assert sorted(p.name for p in paths) == ["soak-over-time.png", "soak.json", "soak.md"]


def samples(rss: list[float], fds: list[int] | None = None, threads: list[int] | None = None) -> list[dict[str, Any]]:
    """One sample a minute with these figures; counts steady unless given."""
    count = len(rss)
    fds = fds or [10] * count
    threads = threads or [8] * count
    return [
        {"minute": float(m + 1), "rss_mib": r, "open_fds": f, "threads_native": t}
        for m, r, f, t in zip(range(count), rss, fds, threads, strict=True)
    ]


def passes(targets: list[dict[str, Any]]) -> dict[str, bool]:
    return {t["target"].split(":")[0].split(" growth")[0]: t["pass"] for t in targets}


def test_rss_growth_of_4_percent_passes_and_6_misses() -> None:
    reference, _ = soak.warmup_index(HOUR_OF_SAMPLES, MINUTE_PERIOD_S)
    assert reference == 4  # the sample ending minute 5
    steady = [100.0] * HOUR_OF_SAMPLES
    grown = [*steady[:-1], 104.0]
    assert passes(soak.check_targets(samples(grown), reference, 10.0, 10.0))["RSS"]
    leaked = [*steady[:-1], 106.0]
    assert not passes(soak.check_targets(samples(leaked), reference, 10.0, 10.0))["RSS"]
    warming = [50.0] * reference + steady[reference:]  # growth before minute 5 is warm-up, not a leak
    assert passes(soak.check_targets(samples(warming), reference, 10.0, 10.0))["RSS"]


def test_any_growth_in_open_files_or_threads_misses() -> None:
    rss = [100.0] * HOUR_OF_SAMPLES
    fds = [10] * (HOUR_OF_SAMPLES - 1) + [11]
    result = passes(soak.check_targets(samples(rss, fds=fds), 4, 10.0, 10.0))
    assert not result["open files"] and result["threads"]
    threads = [8] * (HOUR_OF_SAMPLES - 1) + [9]
    result = passes(soak.check_targets(samples(rss, threads=threads), 4, 10.0, 10.0))
    assert result["open files"] and not result["threads"]
    fewer = [8] * (HOUR_OF_SAMPLES - 1) + [7]  # a pool thread that ends is no leak
    assert passes(soak.check_targets(samples(rss, threads=fewer), 4, 10.0, 10.0))["threads"]


def test_p99_windows_are_ten_minutes_or_halves_and_allow_20_percent() -> None:
    first, last, rule = soak.latency_windows(HOUR_OF_SAMPLES, MINUTE_PERIOD_S)
    assert (first, last) == (slice(0, 10), slice(50, 60)) and "10 minutes" in rule
    first, last, rule = soak.latency_windows(12, MINUTE_PERIOD_S)
    assert (first, last) == (slice(0, 6), slice(6, 12)) and "halves" in rule
    first, last, _ = soak.latency_windows(1, MINUTE_PERIOD_S)
    assert first == last == slice(0, 1)
    rss = samples([100.0] * HOUR_OF_SAMPLES)
    assert passes(soak.check_targets(rss, 4, 10.0, 11.9))["p99 latency, last window over first"]
    assert not passes(soak.check_targets(rss, 4, 10.0, 12.1))["p99 latency, last window over first"]
    assert passes(soak.check_targets(rss, 4, 10.0, 5.0))["p99 latency, last window over first"]  # faster is fine
    assert not passes(soak.check_targets(rss, 4, None, 5.0))["p99 latency, last window over first"]


def test_a_window_pools_the_frames_of_its_samples() -> None:
    import numpy as np

    latencies, ends = np.arange(10, dtype=float), [3, 6, 10]
    assert soak.window_frames(latencies, ends, slice(0, 1)).tolist() == [0, 1, 2]
    assert soak.window_frames(latencies, ends, slice(1, 3)).tolist() == [3, 4, 5, 6, 7, 8, 9]
    assert soak.window_frames(latencies, [], slice(0, 1)).size == 0


def test_short_runs_measure_growth_from_the_middle_sample() -> None:
    assert soak.warmup_index(2, MINUTE_PERIOD_S)[0] == 0
    assert soak.warmup_index(9, MINUTE_PERIOD_S)[0] == 4
    assert soak.warmup_index(10, MINUTE_PERIOD_S) == (4, "the sample at minute 5")


def test_soak_is_a_command_but_not_part_of_all() -> None:
    import argparse

    args = add_arguments(argparse.ArgumentParser()).parse_args(["soak", "--minutes", "2", "--sample-seconds", "30"])
    assert (args.which, args.minutes, args.sample_seconds) == ("soak", 2.0, 30.0)
    assert "soak" in runners() and "soak" in NOT_IN_ALL
    assert soak.settings_for(False) == soak.Settings(duration_s=3600.0, period_s=60.0)
    assert soak.settings_for(True) == soak.Settings(duration_s=soak.QUICK_SECONDS, period_s=soak.QUICK_PERIOD_S)
    assert soak.settings_for(False, 2.0) == soak.Settings(duration_s=120.0, period_s=60.0)
    with pytest.raises(SystemExit):
        add_arguments(argparse.ArgumentParser()).parse_args(["soak", "--minutes", "0"])


def test_without_proc_the_soak_refuses_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(soak, "PROC_SELF", tmp_path / "no-proc")
    with pytest.raises(RuntimeError, match="Linux only"):
        soak.run(quick=True)
