"""`python -m models.training.train` end to end on a tiny corpus: a teacher, a student distilled from it, and a resumed
run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import models.training.train as train_module
from models.classifier import load_classifier
from models.training.train import KD_TEMPERATURE, KD_WEIGHT, LABEL_SMOOTHING, STATE_FILE, batch_loss, main


def test_a_teacher_and_a_student_distilled_from_it_give_checkpoints_the_app_loads(tiny_corpus, tmp_path):
    teacher, student = tmp_path / "teacher.pt", tmp_path / "student.pt"
    assert main([*tiny_corpus.args, "--run-dir", str(tmp_path / "t"), "--widths", "8", "16", "--epochs", "1",
                 "--out", str(teacher)]) == 0  # fmt: skip
    assert main([*tiny_corpus.args, "--run-dir", str(tmp_path / "s"), "--widths", "4", "8", "--epochs", "1",
                 "--teacher", str(teacher), "--out", str(student)]) == 0  # fmt: skip
    classifier = load_classifier(student, precision="float32")
    assert classifier.meta["teacher"] == str(teacher) and classifier.meta["widths"] == [4, 8]
    assert {"publictest", "publictest_ferplus", "wild nhfi"} <= set(classifier.meta["validation"])
    probs = classifier.predict(np.zeros((2, 48, 48), np.uint8))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)


def test_a_run_cut_after_its_first_epoch_resumes_there_and_ends_as_an_uncut_run_does(
    tiny_corpus, tmp_path, monkeypatch
):
    args = [*tiny_corpus.args, "--widths", "4", "8", "--epochs", "2"]
    assert main([*args, "--run-dir", str(tmp_path / "whole"), "--out", str(tmp_path / "whole.pt")]) == 0
    validate, calls = train_module.validate, []

    def cut_at_the_second_epoch(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the session ends mid-run
        return validate(*a, **k)

    monkeypatch.setattr(train_module, "validate", cut_at_the_second_epoch)
    with pytest.raises(KeyboardInterrupt):
        main([*args, "--run-dir", str(tmp_path / "cut"), "--out", str(tmp_path / "cut.pt")])
    assert len(torch.load(tmp_path / "cut" / STATE_FILE, weights_only=False)["history"]) == 1
    monkeypatch.setattr(train_module, "validate", validate)
    assert main([*args, "--run-dir", str(tmp_path / "cut"), "--resume", "--out", str(tmp_path / "cut.pt")]) == 0
    whole, resumed = load_classifier(tmp_path / "whole.pt", "float32"), load_classifier(tmp_path / "cut.pt", "float32")
    for a, b in zip(whole.model.state_dict().values(), resumed.model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_the_loss_is_smoothed_cross_entropy_and_with_a_teacher_mostly_the_softened_teacher():
    logits = torch.tensor([[2.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0]])
    truth = torch.eye(7)[[0]]
    smoothed = (1 - LABEL_SMOOTHING) * truth + LABEL_SMOOTHING / 7
    ce = -(smoothed * torch.log_softmax(logits, 1)).sum()
    torch.testing.assert_close(batch_loss(logits, truth, None), ce)
    teacher = torch.softmax(torch.tensor([[1.0, 1.0, 0, 0, 0, 0, 0]]) / KD_TEMPERATURE, 1)
    kd = -(teacher * torch.log_softmax(logits / KD_TEMPERATURE, 1)).sum() * KD_TEMPERATURE**2
    torch.testing.assert_close(batch_loss(logits, truth, teacher), KD_WEIGHT * kd + (1 - KD_WEIGHT) * ce)


def test_a_bad_data_path_is_one_error_line(tmp_path, capsys):
    assert main(["--run-dir", str(tmp_path), "--data", str(tmp_path / "absent.npz")]) == 2
    assert capsys.readouterr().err.startswith("error: dataset not found")


def test_the_teacher_s_targets_are_reused_only_for_the_same_teacher(tiny_corpus, tmp_path):
    from models.classifier import save_checkpoint
    from models.network import EmoNet
    from models.training.corpus import build_corpus
    from models.training.train import teacher_targets

    corpus = build_corpus(tiny_corpus.data, tiny_corpus.votes, tiny_corpus.wild)
    paths = []
    for seed in (1, 2):
        torch.manual_seed(seed)
        paths.append(tmp_path / f"teacher{seed}.pt")
        save_checkpoint(EmoNet((4, 8)), 1.0, {}, paths[-1])
    first = teacher_targets(paths[0], corpus, tmp_path)
    np.testing.assert_array_equal(teacher_targets(paths[0], corpus, tmp_path), first)  # read back
    assert not np.allclose(teacher_targets(paths[1], corpus, tmp_path), first)  # another teacher: computed anew


@pytest.mark.parametrize(
    ("option", "value"), [("--epochs", "0"), ("--vote-weight", "3"), ("--widths", "0"), ("--init", "absent.pt")]
)
def test_impossible_options_are_usage_errors_before_any_data_is_read(tmp_path, option, value, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--run-dir", str(tmp_path), "--data", str(tmp_path / "never-read.npz"), option, value])
    assert stop.value.code == 2 and option in capsys.readouterr().err


def test_an_unreadable_saved_state_is_one_line_saying_so(tiny_corpus, tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / STATE_FILE).write_text("garbage\n")
    code = main([*tiny_corpus.args, "--run-dir", str(tmp_path / "run"), "--widths", "4", "8", "--epochs", "1",
                 "--resume"])  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'run' / STATE_FILE} cannot be resumed from")


def test_an_output_that_is_a_folder_is_refused_before_training(tmp_path, capsys):
    code = main(["--run-dir", str(tmp_path / "run"), "--out", str(tmp_path), "--data", str(tmp_path / "x.npz")])
    assert code == 2 and "is a folder" in capsys.readouterr().err
