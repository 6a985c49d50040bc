"""Stops: the signal a stop came from survives a library that re-raises it bare, and a cut video's line reads once."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

import app.errors
from app.batch.folder import cut_message
from app.batch.folder_jobs import Outcome
from app.errors import Stopped, received_stop, stop_code, stop_handler, stop_word


def test_a_bare_interrupt_after_the_handler_saw_sigterm_is_that_sigterm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray's wait turns the handler's Stopped into a bare KeyboardInterrupt: the command must still say
    "terminated" and exit 143, not "interrupted" and 130."""
    monkeypatch.setattr(app.errors, "_received_stops", [])  # this process's record, not the other tests'
    assert isinstance(received_stop(KeyboardInterrupt()), KeyboardInterrupt)  # no handler saw one: as it is
    handler = stop_handler()
    with pytest.raises(Stopped):
        handler(signal.SIGTERM, None)
    stop = received_stop(KeyboardInterrupt())
    assert (stop_word(stop), stop_code(stop)) == ("terminated", 143)
    assert received_stop(Stopped(signal.SIGINT)).signum == signal.SIGINT  # a Stopped keeps its own signal


def test_a_cut_videos_message_loses_whichever_stop_word_it_starts_with() -> None:
    """A Ray task is stopped by an interrupt whatever signal the command got; the line says the stop once."""
    for word in ("interrupted", "terminated"):
        outcome = Outcome(Path("d.mov"), 130, f"{word}; 35 frames were written to d.csv")
        assert cut_message(outcome) == "35 frames were written to d.csv"
