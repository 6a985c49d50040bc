"""A smoother's parameter file that is missing, damaged or incomplete is one error naming the file, raised when the
smoother is built."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import smoothing
import smoothing.smoothers.bidirectional
import smoothing.smoothers.hmm
from smoothing.param_files import ParamsError, read_params


def test_a_good_file_gives_its_arrays(tmp_path: Path) -> None:
    path = tmp_path / "p.npz"
    np.savez(path, beta=np.float64(0.5), generator=np.zeros((7, 7)))
    arrays = read_params(path, "HMM parameters", ("beta", "generator"))
    assert float(arrays["beta"]) == 0.5 and arrays["generator"].shape == (7, 7)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, ("HMM parameters not found", "python -m smoothing.fitting.train")),
        (b"not an npz", ("cannot read HMM parameters", "damaged")),
        (b"", ("cannot read HMM parameters", "damaged")),
    ],
)
def test_a_missing_or_damaged_file_is_named(tmp_path: Path, content: bytes | None, words: tuple[str, ...]) -> None:
    path = tmp_path / "hmm.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ParamsError) as raised:
        read_params(path, "HMM parameters", ("beta",))
    message = str(raised.value)
    assert str(path) in message and "\n" not in message
    assert all(word in message for word in words)


def test_a_file_without_the_arrays_asked_for_names_them(tmp_path: Path) -> None:
    path = tmp_path / "p.npz"
    np.savez(path, beta=np.float64(0.5))
    with pytest.raises(ParamsError, match="no generator, class_prior"):
        read_params(path, "HMM parameters", ("beta", "generator", "class_prior"))


def test_building_a_smoother_reads_its_files_and_the_offline_check_reads_the_offline_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    smoothing.check_loadable("lstm", offline=True)  # the shipped files
    monkeypatch.setattr(smoothing.smoothers.bidirectional, "PARAMS_DIR", tmp_path)  # where the offline twin is sought
    smoothing.check_loadable("lstm")  # online only: the offline file is not needed
    with pytest.raises(ParamsError, match="offline lstm parameters not found"):
        smoothing.check_loadable("lstm", offline=True)
    monkeypatch.setattr(smoothing.smoothers.hmm, "DEFAULT_HMM_PARAMS", tmp_path / "hmm.npz")
    with pytest.raises(ParamsError, match="HMM parameters not found"):
        smoothing.check_loadable("hmm")


def test_a_file_is_read_once_and_again_when_it_changes(tmp_path: Path) -> None:
    """Every new face's smoother reads its file: the arrays are kept (read-only, shared), until the file changes."""
    path = tmp_path / "p.npz"
    np.savez(path, beta=np.float64(0.5))
    first, second = read_params(path, "HMM parameters", ("beta",)), read_params(path, "HMM parameters", ("beta",))
    assert first["beta"] is second["beta"] and not first["beta"].flags.writeable
    np.savez(path, beta=np.float64(0.75), generator=np.zeros((7, 7)))  # a re-fit writes the same path
    assert float(read_params(path, "HMM parameters", ("beta", "generator"))["beta"]) == 0.75
    path.write_bytes(b"damaged later")
    with pytest.raises(ParamsError, match="damaged"):
        read_params(path, "HMM parameters", ("beta",))
