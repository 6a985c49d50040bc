"""The training corpus: which faces, in which framings, with which targets, drawn how often."""

from __future__ import annotations

import numpy as np
import pytest

from models.training.corpus import BALANCE_POWER, VOTE_WEIGHT, balanced_weights, build_corpus, mixed_targets
from tests.models.conftest import SPLITS, STILLS


def test_a_fer_face_target_is_half_its_label_and_half_the_crowd_unless_the_crowd_is_unusable():
    labels = np.array([0, 3])
    votes = np.array([[0, 0, 0, 10, 0, 0, 0], [0, 0, 0, 5, 0, 0, 5]])
    targets = mixed_targets(labels, votes, usable=np.array([True, False]))
    np.testing.assert_allclose(targets[0], [1 - VOTE_WEIGHT, 0, 0, VOTE_WEIGHT, 0, 0, 0])
    np.testing.assert_allclose(targets[1], np.eye(7)[3])  # unusable votes: the label alone


def test_square_root_balancing_draws_a_rare_class_more_often_but_not_as_often_as_a_common_one():
    labels = np.array([0] * 100 + [1] * 4)
    weights = balanced_weights(labels)
    assert weights.sum() == pytest.approx(1.0)
    per_face_ratio = weights[100] / weights[0]
    assert per_face_ratio == pytest.approx((100 / 4) ** BALANCE_POWER)
    share_of_rare = weights[100:].sum()
    assert 4 / 104 < share_of_rare < 0.5


def test_the_corpus_holds_fer_training_in_two_framings_and_the_wild_stills_not_held_out(tiny_corpus):
    corpus = build_corpus(tiny_corpus.data, tiny_corpus.votes, tiny_corpus.wild)
    from_fer = corpus.origin == "fer2013"
    assert from_fer.sum() == SPLITS["training"]
    assert 0 < (~from_fer).sum() < STILLS  # the held-out groups are missing
    assert corpus.faces.shape == corpus.alternative.shape == (len(corpus), 48, 48)
    np.testing.assert_allclose(corpus.targets.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(corpus.targets[~from_fer].argmax(axis=1), corpus.labels[~from_fer])


def test_without_stills_the_corpus_is_fer_training_alone(tiny_corpus):
    corpus = build_corpus(tiny_corpus.data, tiny_corpus.votes, tiny_corpus.wild, stills=False)
    assert len(corpus) == SPLITS["training"] and (corpus.origin == "fer2013").all()
    assert corpus.weights.sum() == pytest.approx(1.0)


def test_with_no_weight_on_the_crowd_a_target_is_the_label_alone():
    votes = np.array([[0, 0, 0, 5, 0, 0, 5]])
    np.testing.assert_allclose(mixed_targets(np.array([3]), votes, np.array([True]), vote_weight=0.0), np.eye(7)[[3]])


def test_the_corpus_takes_the_crowd_share_it_is_given(tiny_corpus):
    corpus = build_corpus(tiny_corpus.data, tiny_corpus.votes, tiny_corpus.wild, vote_weight=0.0)
    from_fer = corpus.origin == "fer2013"
    np.testing.assert_array_equal(corpus.targets[from_fer], np.eye(7)[corpus.labels[from_fer]])
