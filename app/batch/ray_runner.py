"""A folder's videos as Ray tasks (`video FOLDER --ray [ADDRESS]`): on a local Ray instance, or on a running cluster.

On a cluster every node reads and writes the videos itself, so the folder (and --weights, when given) must lie on a
filesystem shared by all nodes at the same path (paths are made absolute before they are sent), and emosmooth, at the
same version, must be installed in the Python every node's `ray start` runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from itertools import islice
from pathlib import Path
from types import ModuleType
from typing import Any

from app.batch.folder_jobs import STOP_CODES, FolderStopped, Outcome, Runner, run_folder_job
from app.batch.video import VideoJob
from app.errors import EXIT_ERROR, AppError, received_stop

TASK_CPUS = 1  # one video per CPU Ray grants: Ray schedules by this count, so a task must not use more cores
TASK_THREADS = TASK_CPUS  # torch threads per task: more would oversubscribe the cores Ray gives other tasks
TASK_RETRIES = 0  # a video that crashed its worker would crash it again; --resume redoes one lost with its node
WAIT_S = 0.5  # ray.wait returns this often, so that Ctrl+C and SIGTERM reach the driver's Python promptly
STOP_GRACE_S = 10.0  # after a stop, how long the cancelled tasks get to close their videos' outputs whole
CONNECT_TIMEOUT_S = 5.0  # a head on a reachable network answers a TCP connection well within this
# HTTP/2's client preface and an empty SETTINGS frame: a gRPC server (a Ray head) answers with its own SETTINGS frame
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
HTTP2_FRAME_HEADER = 9  # bytes: length (3), type (1), flags (1), stream (4)
HTTP2_SETTINGS = 4  # the frame type
TLS_ENV = "RAY_USE_TLS"  # a head behind TLS answers only after a handshake
AUTH_MODE_ENV = "RAY_AUTH_MODE"  # Ray sends its token to an address given explicitly only when this says "token"
AUTH_HINT = f" (a head with token authentication needs {AUTH_MODE_ENV}=token and its token here)"
RAY_LOG_LEVEL = logging.ERROR  # Ray's own INFO and WARNING lines would break up our lines and the progress bar


def ray_runner(address: str | None, workers: int | None) -> Runner:
    """A runner on a local Ray instance (address None) with `workers` CPUs, or on the cluster at `address`, with at
    most `workers` videos in flight (None: as many as the cluster has CPUs)."""
    try:
        import ray
    except ImportError as error:
        raise AppError(f"--ray needs Ray, not installed here ({error}): pip install -r requirements.txt") from None

    def run(jobs: Sequence[VideoJob], weights: str | None) -> Iterator[Outcome]:
        connect(ray, address, workers)
        try:
            yield from run_tasks(ray, jobs, weights, workers)
        finally:
            with kept_sigterm_handler():  # a SIGTERM while Ray shuts down must still end the command in its line
                ray.shutdown()  # on a cluster this only disconnects the driver; a local instance stops with it

    return run


@contextlib.contextmanager
def kept_sigterm_handler() -> Iterator[None]:
    """Puts the app's own SIGTERM handler back after Ray's calls that replace it (init and shutdown set one that
    exits, or that leaves the signal's default, without closing the outputs or writing the folder's summary)."""
    main = threading.current_thread() is threading.main_thread()
    sigterm = signal.getsignal(signal.SIGTERM) if main else None
    try:
        yield
    finally:
        if main and sigterm is not None:
            signal.signal(signal.SIGTERM, sigterm)


def connect(ray: ModuleType, address: str | None, workers: int | None) -> None:
    """Starts the local instance or joins the cluster, quietly, keeping the app's own SIGTERM handler."""
    quiet = {"log_to_driver": False, "logging_level": RAY_LOG_LEVEL}
    try:
        with kept_sigterm_handler():
            if address is None:  # "local": a new instance even when RAY_ADDRESS names a cluster
                ray.init(address="local", num_cpus=workers, include_dashboard=False, **quiet)
            else:
                check_reachable(address)
                ray.init(address=address, **quiet)
    except AppError:
        raise
    except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError...: each one line
        if address is None:
            raise AppError(f"cannot start a local Ray instance: {first_line(error)}") from None
        hint = AUTH_HINT if AUTH_MODE_ENV not in os.environ else ""
        raise AppError(f"cannot connect to the Ray cluster at {address}: {first_line(error)}{hint}") from None


def check_reachable(address: str) -> None:
    """A connection to the head first: where nothing listens, or something other than a Ray head answers (a web
    server, the dashboard's port given by mistake), ray.init retries for minutes, printing warnings. A head speaks
    gRPC, so it answers HTTP/2's opening with a SETTINGS frame (unless TLS wraps it, when only the connection is
    checked)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():  # "auto" and other forms Ray resolves itself
        return
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S) as connection:
            if os.environ.get(TLS_ENV, "").lower() in ("1", "true"):
                return
            connection.sendall(HTTP2_PREFACE)
            answer = read_bytes(connection, HTTP2_FRAME_HEADER)
    except OSError as error:
        raise AppError(f"cannot connect to the Ray cluster at {address}: {error.strerror or error}") from None
    if len(answer) < HTTP2_FRAME_HEADER or answer[3] != HTTP2_SETTINGS:
        raise AppError(
            f"cannot connect to the Ray cluster at {address}: something answers there, but not a Ray head (a head "
            "listens on 6379 unless `ray start --port` set another; 8265 is its dashboard's)"
        )


def read_bytes(connection: socket.socket, count: int) -> bytes:
    """Up to `count` bytes, fewer where the other end closes or says nothing within the connection's timeout."""
    data = b""
    while len(data) < count:
        try:
            chunk = connection.recv(count - len(data))
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


def run_tasks(ray: ModuleType, jobs: Sequence[VideoJob], weights: str | None, workers: int | None) -> Iterator[Outcome]:
    """Each job as a task, at most `workers` in flight, outcomes yielded as tasks finish; on a stop (or when the
    caller stops reading) the tasks still running are cancelled and given STOP_GRACE_S to close their outputs."""
    task = ray.remote(num_cpus=TASK_CPUS, max_retries=TASK_RETRIES)(run_folder_job)
    weights = str(Path(weights).resolve()) if weights else None
    window = workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    waiting = (absolute(job) for job in jobs)
    in_flight: dict[Any, VideoJob] = {}

    def submit(more: int) -> None:
        for job in islice(waiting, more):
            in_flight[task.remote(job, weights, TASK_THREADS)] = job

    submit(window)
    try:
        while in_flight:
            done, _ = ray.wait(list(in_flight), num_returns=1, timeout=WAIT_S)
            for ref in done:
                job = in_flight.pop(ref)
                submit(1)
                yield outcome(ray, ref, job)
    except KeyboardInterrupt as stop:  # Ray's wait turns the handler's Stopped into a bare KeyboardInterrupt
        signum = getattr(received_stop(stop), "signum", signal.SIGINT)
        raise FolderStopped(signum, stop_in_flight(ray, in_flight)) from None
    finally:  # the caller leaving early (GeneratorExit) too: nothing may run on after the command ends
        stop_in_flight(ray, in_flight)


def stop_in_flight(ray: ModuleType, in_flight: dict[Any, VideoJob]) -> list[Outcome]:
    """Cancels the tasks still running, gives them STOP_GRACE_S to close their outputs whole, and returns the
    outcomes of those the stop cut short; in_flight is emptied."""
    refs = list(in_flight)
    for ref in refs:
        ray.cancel(ref)  # not forced: a KeyboardInterrupt in the task, which closes its outputs whole
    done, _ = ray.wait(refs, num_returns=len(refs), timeout=STOP_GRACE_S) if refs else ([], [])
    cut = [outcome(ray, ref, in_flight[ref]) for ref in done]
    in_flight.clear()
    return [result for result in cut if result.code in STOP_CODES]


def absolute(job: VideoJob) -> VideoJob:
    """The job with absolute paths: a task's working folder, on another node above all, is not the driver's."""
    paths = {name: getattr(job, name) for name in ("path", "csv", "video", "timeline", "summary")}
    return replace(job, **{name: path.resolve() if path is not None else None for name, path in paths.items()})


def outcome(ray: ModuleType, ref: Any, job: VideoJob) -> Outcome:
    """The task's outcome; a task that died (its worker crashed or was killed, its node lost) fails its video alone."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as error:
        return Outcome(job.path, EXIT_ERROR, f"Ray task failed: {type(error).__name__}: {first_line(error)}")


def first_line(error: BaseException) -> str:
    """The first non-empty line of an error's text: Ray's errors carry tracebacks and advice over many lines."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
