"""The weight-space ensemble: the shipped classifier is the average of a base and its fine-tune, so the average must
be exact, and the command must refuse two networks that cannot be averaged."""

from __future__ import annotations

import pytest
import torch

from models.classifier import WeightsError, load_checkpoint, save_checkpoint
from models.network import EmoNet
from models.training.interpolate import interpolated, main, uniform_soup

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


def test_a_soup_of_fine_tunes_is_the_plain_mean_of_each_weight_and_statistic():
    nets = [_net(seed) for seed in (1, 2, 3)]
    soup = uniform_soup(nets).state_dict()
    for name, value in soup.items():
        if value.is_floating_point():
            torch.testing.assert_close(value, sum(net.state_dict()[name] for net in nets) / 3)


def test_a_soup_of_one_is_that_network():
    net = _net(1)
    assert uniform_soup([net]) is net


def test_networks_of_different_widths_are_refused():
    with pytest.raises(WeightsError, match="differ"):
        interpolated(_net(0), _net(1, (4, 8, 8, 16)), 0.5)


def test_the_command_writes_a_calibrated_checkpoint(tiny_corpus, tmp_path):
    paths = []
    for seed in (0, 1, 2):
        path = tmp_path / f"net{seed}.pt"
        save_checkpoint(_net(seed), 1.0, {"vote_weight": 0.0}, path)
        paths.append(path)
    out = tmp_path / "mixed.pt"
    data = ["--data", str(tiny_corpus.data), "--votes", str(tiny_corpus.votes)]
    assert main(["--base", str(paths[0]), "--tuned", *map(str, paths[1:]), "--out", str(out), *data]) == 0
    checkpoint, mixed = load_checkpoint(out)
    assert checkpoint["meta"]["interpolation"]["alpha"] == 0.5
    assert [t["path"] for t in checkpoint["meta"]["interpolation"]["tuned"]] == list(map(str, paths[1:]))
    assert "soup of its 2 fine-tunes" in checkpoint["meta"]["recipe"]
    assert checkpoint["temperature"] > 0
    nets = [load_checkpoint(path)[1] for path in paths]
    expected = interpolated(nets[0], uniform_soup(nets[1:]), 0.5).state_dict()
    for name, value in mixed.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, expected[name])


def test_fine_tunes_on_different_targets_are_refused(tiny_corpus, tmp_path, capsys):
    paths = []
    for seed, vote_weight in ((0, 0.0), (1, 0.0), (2, 0.5)):
        path = tmp_path / f"net{seed}.pt"
        save_checkpoint(_net(seed), 1.0, {"vote_weight": vote_weight}, path)
        paths.append(path)
    data = ["--data", str(tiny_corpus.data), "--votes", str(tiny_corpus.votes)]
    assert main(["--base", str(paths[0]), "--tuned", *map(str, paths[1:]), "--out", str(tmp_path / "o.pt"), *data]) == 2
    assert "different targets" in capsys.readouterr().err


def test_a_missing_checkpoint_is_a_usage_error_before_any_data_is_read(tmp_path, capsys):
    missing = str(tmp_path / "no.pt")
    with pytest.raises(SystemExit) as stop:
        main(["--base", missing, "--tuned", missing, "--out", str(tmp_path / "o.pt"), "--data", "never-read.npz"])
    assert stop.value.code == 2 and f"no such file: {missing}" in capsys.readouterr().err


def test_a_damaged_checkpoint_is_one_error_line(tiny_corpus, tmp_path, capsys):
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(b"not a checkpoint")
    data = ["--data", str(tiny_corpus.data), "--votes", str(tiny_corpus.votes)]
    assert main(["--base", str(damaged), "--tuned", str(damaged), "--out", str(tmp_path / "o.pt"), *data]) == 2
    assert capsys.readouterr().err.startswith("error: ")
