"""The int8 classifier: what the app runs by default where the CPU has the kernels, and how close it stays to the
float32 network it was made from."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.classifier import DEFAULT_WEIGHTS, WeightsError, load_classifier, save_checkpoint
from models.int8 import INT8_KEY, engine_available
from models.network import EmoNet
from models.training.data import DEFAULT_DATA, SELECT_SPLIT, load_split
from models.training.quantize import quantize

needs_engine = pytest.mark.skipif(not engine_available(), reason="this torch build has no x86 int8 engine")
needs_weights = pytest.mark.skipif(not DEFAULT_WEIGHTS.is_file(), reason="shipped weights missing")
MIN_LABEL_AGREEMENT = 0.95  # the shipped pair agrees on 97.7% of PublicTest (python -m models.training.quantize)


@needs_engine
@needs_weights
def test_the_shipped_classifier_runs_in_int8_by_default():
    assert load_classifier().precision == "int8"
    assert load_classifier(precision="float32").precision == "float32"


@needs_engine
@needs_weights
@pytest.mark.skipif(not DEFAULT_DATA.is_file(), reason="FER2013 not in ../shared")
def test_int8_and_float32_agree_on_real_faces():
    faces, _ = load_split(DEFAULT_DATA, SELECT_SPLIT)
    faces = faces[:: len(faces) // 400]  # the split is sorted by class: every class is sampled
    int8 = load_classifier(precision="int8").predict(faces)
    float32 = load_classifier(precision="float32").predict(faces)
    assert np.mean(int8.argmax(1) == float32.argmax(1)) >= MIN_LABEL_AGREEMENT
    np.testing.assert_allclose(int8.sum(axis=1), 1.0, atol=1e-5)


@needs_engine
def test_quantize_keeps_a_network_close_to_its_float_twin():
    torch.manual_seed(0)
    model = EmoNet().eval()
    faces = np.random.default_rng(0).integers(0, 256, (64, 48, 48), dtype=np.uint8)
    network = quantize(model, faces)
    x = torch.from_numpy(faces).unsqueeze(1).float() / 255
    with torch.inference_mode():
        spread = model(x).std().item()
        error = (network(x) - model(x)).abs().max().item()
    assert error < 0.1 * spread


def test_a_checkpoint_without_int8_weights_runs_in_float32(tmp_path):
    path = tmp_path / "float-only.pt"
    save_checkpoint(EmoNet(), 1.5, {}, path)
    assert load_classifier(path).precision == "float32"
    with pytest.raises(WeightsError, match="no int8 weights"):
        load_classifier(path, precision="int8")


@needs_engine
def test_int8_weights_of_another_architecture_are_a_one_line_error(tmp_path):
    path = tmp_path / "mismatch.pt"
    save_checkpoint(EmoNet(), 1.5, {}, path)
    checkpoint = torch.load(path, weights_only=True)
    checkpoint[INT8_KEY] = {"engine": "x86", "state_dict": {"body.0.weight": torch.zeros(1)}, "temperature": 1.0}
    torch.save(checkpoint, path)
    with pytest.raises(WeightsError, match="int8 weights do not match") as caught:
        load_classifier(path)
    assert "\n" not in str(caught.value)


@needs_engine
def test_quantize_command_reports_a_missing_dataset_in_one_line(tmp_path, capsys):
    from models.training.quantize import main

    path = tmp_path / "float-only.pt"
    save_checkpoint(EmoNet(), 1.5, {}, path)
    assert main(["--weights", str(path), "--data", str(tmp_path / "absent.npz")]) == 2
    assert capsys.readouterr().err.strip() == f"error: dataset not found: {tmp_path / 'absent.npz'}"


def test_the_int8_temperature_is_fitted_to_the_targets_the_float_one_was():
    from models.training.quantize import calibration_vote_weight

    assert calibration_vote_weight({"vote_weight": 0.25}) == 0.25  # the v3 recipe stores its setting
    assert calibration_vote_weight({}) == 0.0  # the shipped weights: FER2013's labels
    assert calibration_vote_weight({"targets": "both"}) == 0.5
