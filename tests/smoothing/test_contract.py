"""The contract every registered smoother keeps (benchmarks, the app and outside tools rely on it)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import smoothing
from models.roots import REPO
from smoothing import registry
from smoothing.base import NUM_CLASSES, Smoother, SmootherBase
from smoothing.fitting.synthetic import as_updates, synthetic_stream

EXPECTED_NAMES = {"none", "ema", "window-mode", "window-mean", "hmm", "rnn", "lstm", "gru"}
CONFIGS = [(name, {}) for name in sorted(EXPECTED_NAMES)] + [
    ("rnn", {"gap": "recursive"}),
    ("lstm", {"gap": "recursive"}),
    ("gru", {"gap": "recursive"}),
]
HUGE_GAP_S = 1e6


def config_id(config) -> str:
    name, options = config
    return name + "".join(f"-{v}" for v in options.values())


@pytest.fixture(params=CONFIGS, ids=config_id)
def config(request):
    return request.param


@pytest.fixture(scope="module")
def stream():
    probs, t, _ = synthetic_stream(12.0, seed=5)
    keep = np.random.default_rng(0).random(len(t)) > 0.3
    return as_updates(probs[keep]), t[keep]


def assert_distribution(belief: np.ndarray) -> None:
    assert belief.shape == (NUM_CLASSES,)
    assert np.all(np.isfinite(belief)) and np.all(belief >= 0)
    assert belief.sum() == pytest.approx(1.0, abs=1e-9)


def test_registered_names():
    assert set(smoothing.available()) == EXPECTED_NAMES
    assert smoothing.CLASSES == ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_the_order_is_explicit_simplest_first_and_a_new_smoother_comes_last(monkeypatch):
    assert smoothing.available() == list(registry.ORDER)
    assert smoothing.DEFAULT_SMOOTHER in smoothing.available()
    monkeypatch.setattr(registry, "_REGISTRY", {"extra": object, **registry._REGISTRY})  # registered first
    assert smoothing.available() == [*registry.ORDER, "extra"]


def test_every_smoother_shares_one_base_and_fills_only_its_hooks():
    for name in smoothing.available():
        smoother = smoothing.create(name)
        assert isinstance(smoother, SmootherBase) and isinstance(smoother, Smoother)
        assert type(smoother).update is SmootherBase.update and type(smoother).predict is SmootherBase.predict
    with pytest.raises(TypeError, match="SmootherBase"):
        registry.register("not-a-smoother")(object)


def test_unknown_name_lists_available():
    with pytest.raises(ValueError, match="window-mode") as error:
        smoothing.create("kalman")
    assert all(name in str(error.value) for name in smoothing.available())


def test_outputs_are_distributions(config, stream):
    name, options = config
    smoother = smoothing.create(name, **options)
    assert isinstance(smoother, Smoother)
    rows, t = stream
    for row, ti in zip(rows, t, strict=True):
        assert_distribution(smoother.update(row, ti))
        assert_distribution(smoother.predict(ti + 0.5))


def test_first_frames_without_face_give_the_prior(config):
    name, options = config
    smoother = smoothing.create(name, **options)
    prior = smoother.predict(0.0)
    assert_distribution(prior)
    np.testing.assert_allclose(smoother.update(None, 0.0), prior, atol=1e-12)
    assert_distribution(smoother.update(None, 0.1))


def fed(config, stream, count: int):
    """A fresh smoother of the config that has seen the stream's first `count` frames."""
    name, options = config
    smoother = smoothing.create(name, **options)
    rows, t = stream
    for row, ti in zip(rows[:count], t[:count], strict=True):
        smoother.update(row, ti)
    return smoother


def test_no_face_keeps_a_distribution_mid_stream(config, stream):
    smoother = fed(config, stream, 30)
    t = stream[1]
    for k in range(1, 20):
        assert_distribution(smoother.update(None, t[29] + k * 0.07))


def test_no_time_passing_never_crashes(config, stream):
    name, options = config
    smoother = smoothing.create(name, **options)
    rows, t = stream
    faces = [row for row in rows if row is not None]
    belief = smoother.update(faces[0], 10.0)
    np.testing.assert_allclose(smoother.update(None, 10.0), belief, atol=1e-12)  # duplicate, no face: nothing new
    np.testing.assert_allclose(smoother.predict(9.0), belief, atol=1e-12)  # a time before the last update
    assert_distribution(smoother.update(faces[1], 10.0))  # duplicate time with a face
    assert_distribution(smoother.update(faces[2], 4.0))  # the clock jumped back
    assert_distribution(smoother.update(faces[3], 4.07))  # and runs on from there


@pytest.mark.parametrize(
    "bad",
    [np.full(NUM_CLASSES, np.nan), np.array([0.5, -0.1, 0.2, 0.2, 0.1, 0.05, 0.05]), np.ones(6) / 6, np.zeros(7)],
    ids=["nan", "negative", "wrong-shape", "all-zero"],
)
def test_invalid_probabilities_raise(config, bad):
    name, options = config
    with pytest.raises(ValueError):
        smoothing.create(name, **options).update(bad, 0.0)


@pytest.mark.parametrize("bad", [float("nan"), np.datetime64("2026-12-05T10:00"), "2.0", None, True])
def test_a_time_that_is_not_a_finite_number_of_seconds_raises(config, bad):
    name, options = config
    with pytest.raises(ValueError, match="time must be"):
        smoothing.create(name, **options).update(np.full(NUM_CLASSES, 1 / NUM_CLASSES), bad)


def test_huge_gap_relaxes_to_prior(config, stream):
    name, options = config
    prior = smoothing.create(name, **options).predict(0.0)
    smoother = smoothing.create(name, **options)
    rows, t = stream
    for row, ti in zip(rows, t, strict=True):
        smoother.update(row, ti)
    assert not np.allclose(smoother.predict(t[-1]), prior, atol=1e-3)
    np.testing.assert_allclose(smoother.predict(t[-1] + HUGE_GAP_S), prior, atol=1e-9)
    np.testing.assert_allclose(smoother.update(None, t[-1] + HUGE_GAP_S), prior, atol=1e-9)


def test_a_frame_without_face_gets_the_belief_predict_said(config, stream):
    """The app writes a missed face's row from update(None, t) and a dropped frame's from predict(t): one value."""
    smoother = fed(config, stream, 40)
    t = stream[1]
    for later in (0.03, 0.4, 2.5, 7.0):  # within a frame, a stall, past max_gap_s
        np.testing.assert_array_equal(smoother.predict(t[39] + later), smoother.update(None, t[39] + later))


def test_predict_changes_no_state(config, stream):
    name, options = config
    plain, probed = smoothing.create(name, **options), smoothing.create(name, **options)
    rows, t = stream
    for row, ti in zip(rows, t, strict=True):
        probed.predict(ti + 0.3)
        probed.predict(ti + 2.0)
        np.testing.assert_array_equal(plain.update(row, ti), probed.update(row, ti))


def test_reset_forgets_everything(config, stream):
    name, options = config
    rows, t = stream
    fresh = smoothing.create(name, **options)
    reused = smoothing.create(name, **options)
    for row, ti in zip(rows[:40], t[:40] + 100.0, strict=True):
        reused.update(row, ti)
    reused.reset()
    for row, ti in zip(rows, t, strict=True):
        np.testing.assert_array_equal(fresh.update(row, ti), reused.update(row, ti))


def test_smooth_offline_shapes_and_rows(config):
    name, options = config
    probs, t, _ = synthetic_stream(8.0, seed=9)
    out = smoothing.smooth_offline(name, probs, t, **options)
    assert out.shape == probs.shape
    for row in out:
        assert_distribution(row)


@pytest.mark.parametrize(
    ("value", "words"), [(np.inf, "NaN or infinity"), (-0.1, "negative values"), (0.0, "sum to zero")]
)
def test_smooth_offline_checks_each_face_row_as_update_does(config, value, words):
    """Every smoother, the recurrent nets' look-ahead passes too, refuses what update() refuses, naming the row."""
    name, options = config
    probs, t, _ = synthetic_stream(3.0, seed=1)
    probs = probs.copy()
    probs[5] = value if value == 0.0 else probs[5]
    probs[5, 0] = value
    with pytest.raises(ValueError, match=f"row 5: probs .*{words}"):
        smoothing.smooth_offline(name, probs, t, **options)


def test_smooth_offline_takes_times_in_seconds_only():
    """A datetime64 or timedelta64 array would be cast to its unit's count: 33 ms read as 33 s."""
    probs, t, _ = synthetic_stream(3.0, seed=1)
    with pytest.raises(ValueError, match="t must be numbers of seconds, got timedelta64"):
        smoothing.smooth_offline("hmm", probs, (t * 1000).astype("timedelta64[ms]"))


def test_smooth_offline_rejects_partial_nan_rows():
    probs, t, _ = synthetic_stream(3.0, seed=1)
    probs = probs.copy()
    probs[3, 2] = np.nan
    with pytest.raises(ValueError, match="partly NaN"):
        smoothing.smooth_offline("ema", probs, t)


@pytest.mark.parametrize("name", ["none", "ema", "window-mode", "window-mean"])
def test_offline_without_look_ahead_equals_online(name):
    probs, t, _ = synthetic_stream(8.0, seed=11)
    smoother = smoothing.create(name)
    online = np.array([smoother.update(row, ti) for row, ti in zip(as_updates(probs), t, strict=True)])
    np.testing.assert_allclose(smoothing.smooth_offline(name, probs, t), online, atol=1e-12)


def test_importing_the_package_does_not_import_torch():
    """The app imports smoothing per face stream; torch would add seconds of start-up for nothing."""
    code = "import sys, smoothing; smoothing.create('hmm'); smoothing.create('lstm'); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout.strip() == "False"
