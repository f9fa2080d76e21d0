"""The one job runner: a run or an orchestration into a session file, new or continued.

Every caller that trains — the window, the CLI commands, lessons, sweeps — does
the same three things, and does them here:

1. **what to run**: :func:`new_job` (a config, or an orchestration already built:
   greedy pretraining, a comparison) or :func:`continue_job` (a session file: its
   unfinished job where it stopped, else a run from its checkpoint — the one call
   of :func:`~engine.jobs.resume.resume_trainer`);
2. **where the events go**: :func:`run_job` hands every event to the session
   writer first, then to the caller's sink (a progress printer, the window's
   worker, a lesson's listener), so whoever hears of an epoch can rely on it being
   on disk;
3. **closing**: the writer is closed however the job ends.

A job is a plain ``job(emit, control) -> outcome`` callable, built lazily: it
loads its data when called, on the thread that trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

from engine.config import RunConfig
from engine.control import TrainingControl
from engine.events import Emit, Event, RunFailed, RunFinished, RunOpened
from engine.jobs.resume import resume_trainer
from engine.jobs.stored import job_from_session, unfinished_job
from engine.pretraining.greedy import GreedyPretraining
from engine.session import Session
from engine.trainer import Trainer

#: ``job(emit, control)`` trains and returns ``'completed'``, ``'stopped'`` or ``'failed'``.
Job = Callable[[Emit, TrainingControl], str]


class Orchestration(Protocol):
    """Several ordinary runs into one session, continued from a ``previous`` session
    (:class:`~engine.pretraining.GreedyPretraining`, :class:`~engine.pretraining.Comparison`)."""

    def run(self, emit: Emit, control: TrainingControl | None = None, previous=None, *,
            snapshots: bool = True, checkpoints: bool = True) -> str: ...



@dataclass(frozen=True)
class JobResult:
    """How a job ended.

    Attributes
    ----------
    outcome : ``completed``, ``stopped`` or ``failed`` — a job that returned
        ``completed`` after one of its runs failed or stopped says so.
    message : the failure's message (empty unless failed).
    """

    outcome: str
    message: str = ""


def orchestration(plan) -> Orchestration | None:
    """The orchestration ``plan`` stands for: itself, or greedy pretraining for a config
    with a ``pretraining`` section; None for a config of one ordinary run."""
    if isinstance(plan, RunConfig):
        if plan.pretraining is None:
            return None
        return GreedyPretraining(plan)
    return plan


def new_job(plan, *, snapshots: bool = True, checkpoints: bool = True) -> Job:
    """A job that trains ``plan`` from its start.

    Parameters
    ----------
    plan : a :class:`RunConfig` (one :class:`~engine.trainer.Trainer` run, or a greedy
        pretraining for a config with a ``pretraining`` section), or an orchestration
        already built.
    snapshots, checkpoints : whether the runs build snapshots and checkpoints (work nobody
        records is not done; under torchrun every rank does the same work).
    """
    def job(emit: Emit, control: TrainingControl) -> str:
        several = orchestration(plan)
        if several is not None:
            return several.run(emit, control, snapshots=snapshots, checkpoints=checkpoints)
        return Trainer(plan).run(emit, control, snapshots=snapshots, checkpoints=checkpoints)
    return job


def continue_job(path: str | Path, *, epochs: int | None = None, run_id: str | None = None,
                 device: str | None = None, plan=None) -> Job:
    """A job that continues the session at ``path`` where it stopped.

    Which work continues:

    - ``plan`` an orchestration (or a pretraining config): it runs with the session as
      ``previous`` — its completed runs are kept, the interrupted one resumes from its
      checkpoint, the rest train;
    - else, with neither ``run_id`` nor ``epochs``, the session's unfinished job
      (rebuilt from the spec it stored), if it has one;
    - else the run ``run_id`` (default: the file's main run) from its checkpoint, for
      ``epochs`` more epochs (None: up to the epochs its config asks for), on ``device``
      (None: the run's own). The events follow a ``RunOpened`` naming that run.

    Raises
    ------
    SessionError
        When the job is called: a damaged file, data that changed since, a checkpoint that does not load, a job
        this version cannot continue.
    """
    def job(emit: Emit, control: TrainingControl) -> str:
        with Session.open(path) as session:
            several = orchestration(plan) if plan is not None else None
            if several is None and plan is None and run_id is None and epochs is None:
                job_id = unfinished_job(session)
                if job_id is not None:
                    several = job_from_session(session, job_id)
            if several is not None:
                return several.run(emit, control, previous=session)
            run = session.run(run_id)
            trainer, until = resume_trainer(run, epochs, device)
        emit(RunOpened(job_id="", run_id=run.run_id))   # the run the events go to
        return trainer.run(emit, control, until_epoch=until)
    return job


def run_job(job: Job, emit: Emit | None = None, control: TrainingControl | None = None, *,
            writer=None, on_writer_failed: Callable[[str], None] | None = None) -> JobResult:
    """Run ``job``: every event to ``writer`` first, then to ``emit``; ``writer`` closed
    at the end, however the job ends.

    Parameters
    ----------
    job : from :func:`new_job`, :func:`continue_job`, or any ``job(emit, control)``.
    emit : the caller's sink (None: nobody listens but the writer).
    control : pause/resume/stop (None: a fresh one).
    writer : a :class:`~engine.session.SessionWriter` (or None: not recorded).
    on_writer_failed : what to do when the writer raises (a full disk): None lets the
        error end the job (the CLI, lessons, sweeps); a callable is told the problem and
        the job goes on unsaved (the window, where a run should not die for its file).

    Returns
    -------
    JobResult
    """
    control = control or TrainingControl()
    recorder = _Recorder(writer, on_writer_failed)
    watch = _OutcomeWatch()

    def both(event: Event) -> None:
        recorder(event)   # first: when the sink hears of an epoch, it is on disk
        watch(event)
        if emit is not None:
            emit(event)

    try:
        # Stopped before it began (the window closed at once): nothing to train or record.
        outcome = "stopped" if control.stop_requested else job(both, control)
    finally:
        recorder.close()
    return watch.result(outcome)


class _Recorder:
    """The writer, dropped (and the caller told) when it fails, if the caller asked so."""

    def __init__(self, writer, on_failed: Callable[[str], None] | None):
        self.writer, self.on_failed = writer, on_failed

    def __call__(self, event: Event) -> None:
        if self.writer is None:
            return
        try:
            self.writer(event)
        except Exception as e:  # noqa: BLE001 - e.g. disk full: see on_writer_failed
            if self.on_failed is None:
                raise
            self.writer = None
            self.on_failed(f"{type(e).__name__}: {e}")

    def close(self) -> None:
        writer, self.writer = self.writer, None
        if writer is None:
            return
        try:
            writer.close()
        except Exception as e:  # noqa: BLE001
            if self.on_failed is None:
                raise
            self.on_failed(f"{type(e).__name__}: {e}")


class _OutcomeWatch:
    """The last failure or stop seen: how a job of several runs really ended."""

    def __init__(self) -> None:
        self.failed, self.stopped = "", False

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFailed):
            self.failed = event.message
        elif isinstance(event, RunFinished) and event.reason == "stopped":
            self.stopped = True

    def result(self, outcome: str | None) -> JobResult:
        if outcome == "completed" and (self.failed or self.stopped):
            outcome = "failed" if self.failed else "stopped"
        return JobResult(outcome or "failed", self.failed)
