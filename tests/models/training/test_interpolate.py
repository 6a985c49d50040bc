"""The weight-space ensemble: the shipped classifier is the average of a base and its fine-tune, so the average must
be exact, and the command must refuse two networks that cannot be averaged."""

from __future__ import annotations

import pytest
import torch

from models.classifier import WeightsError, load_checkpoint, save_checkpoint
from models.network import EmoNet
from models.training.interpolate import interpolated, main

SMALL = (4, 8, 8, 8)


def _net(seed: int, widths: tuple[int, ...] = SMALL) -> EmoNet:
    torch.manual_seed(seed)
    net = EmoNet(widths)
    for module in net.modules():  # BatchNorm statistics that differ, so the test sees them averaged too
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    return net.eval()


def test_half_way_is_the_mean_of_every_weight_and_statistic():
    base, tuned = _net(0), _net(1)
    mixed = interpolated(base, tuned, 0.5).state_dict()
    for name, value in tuned.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(mixed[name], (base.state_dict()[name] + value) / 2)
        else:
            assert torch.equal(mixed[name], value)


def test_the_ends_are_the_two_networks():
    base, tuned = _net(0), _net(1)
    faces = torch.rand(3, 1, 48, 48)
    with torch.inference_mode():
        torch.testing.assert_close(interpolated(base, tuned, 0.0)(faces), base(faces))
        torch.testing.assert_close(interpolated(base, tuned, 1.0)(faces), tuned(faces))


def test_networks_of_different_widths_are_refused():
    with pytest.raises(WeightsError, match="differ"):
        interpolated(_net(0), _net(1, (4, 8, 8, 16)), 0.5)


def test_the_command_writes_a_calibrated_checkpoint(tiny_corpus, tmp_path):
    paths = []
    for seed in (0, 1):
        path = tmp_path / f"net{seed}.pt"
        save_checkpoint(_net(seed), 1.0, {"vote_weight": 0.0}, path)
        paths.append(path)
    out = tmp_path / "mixed.pt"
    data = ["--data", str(tiny_corpus.data), "--votes", str(tiny_corpus.votes)]
    assert main(["--base", str(paths[0]), "--tuned", str(paths[1]), "--out", str(out), *data]) == 0
    checkpoint, _ = load_checkpoint(out)
    assert checkpoint["meta"]["interpolation"]["alpha"] == 0.5
    assert checkpoint["temperature"] > 0


def test_a_missing_checkpoint_is_one_error_line(tmp_path, capsys):
    missing = str(tmp_path / "no.pt")
    assert main(["--base", missing, "--tuned", missing, "--out", str(tmp_path / "o.pt")]) == 2
    assert capsys.readouterr().err.startswith("error: weights not found")
