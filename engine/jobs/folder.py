"""A folder of resumable runs: one session file per planned run, kept, continued or trained.

A lesson (``<out>/<label>.h5``) and a sweep (``<out>/beta=1.h5``) are both such a
folder. Called again, the same command must not retrain what is done, must
continue what was stopped or killed, and must not mistake a file of other
settings for the run it plans. :class:`RunFolder` answers, for each planned
run, what its file holds (:meth:`RunFolder.stored`), and trains it into that
file — anew, or continued — through the one job runner (:meth:`RunFolder.train`).
What to do with a file of other settings is the caller's: a lesson trains it
again, a sweep asks for ``--force``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.config import RunConfig
from engine.errors import ConfigError, StudioError
from engine.events import Emit
from engine.jobs.runner import JobResult, continue_job, new_job, run_job
from engine.jobs.stored import unfinished_job
from engine.session import Session, SessionWriter

NEW = "new"               # nothing to continue: no file, a damaged one, or no checkpoint yet
RESUMABLE = "resumable"   # stopped or killed part way: continues from its checkpoint
COMPLETE = "complete"     # done, with the planned settings: kept
OTHER = "other"           # a run of other settings


def identity(config: RunConfig) -> dict:
    """What makes two configs the same run: the config without the device and its
    description (words, which follow the data: see ``described_for_data``)."""
    d = config.to_dict()
    d.pop("device", None)
    d.pop("description", None)
    return d


def same_settings(a: RunConfig, b: RunConfig) -> bool:
    """The same run, epochs included (a lesson's runs)."""
    return identity(a) == identity(b)


def same_run(a: RunConfig, b: RunConfig) -> bool:
    """Whether a stored run can be continued as the planned one: the same config, whatever
    the device and the number of epochs (a sweep's runs: more epochs continue them)."""
    da, db = identity(a), identity(b)
    da["optim"].pop("epochs"), db["optim"].pop("epochs")
    return da == db


@dataclass(frozen=True)
class StoredRun:
    """What a folder's file holds for a planned run.

    Attributes
    ----------
    state : :data:`NEW`, :data:`RESUMABLE`, :data:`COMPLETE` or :data:`OTHER`.
    epochs_done : the epochs its checkpoint holds (a run of one config).
    note : why a file that is there is not used (damaged, cut short).
    """

    state: str
    epochs_done: int = 0
    note: str = ""


class RunFolder:
    """A folder holding one session file per planned run (see the module docstring).

    Parameters
    ----------
    path : the folder.
    option : the command-line option that named it, for messages.
    """

    def __init__(self, path: str | Path, option: str = "--out"):
        self.path = Path(path)
        self.option = option

    def prepare(self, purpose: str = "the runs' sessions") -> None:
        """Create the folder (and its parents).

        Raises
        ------
        ConfigError
            It is a file, cannot be made, or cannot be written in (named with ``option``).
        """
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"{self.path} is a file, not a folder for {purpose}", self.option)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"cannot create the folder {self.path}: {e.strerror or e}",
                              self.option) from None
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise ConfigError(f"cannot write in {self.path} (permission denied): choose "
                              f"another folder", self.option)

    def session(self, name: str) -> Path:
        """The session file of the run ``name`` (a file name, e.g. ``beta=1.h5``)."""
        return self.path / name

    def stored(self, name: str, planned=None,
               same: Callable[[RunConfig, RunConfig], bool] = same_settings) -> StoredRun:
        """What the file ``name`` holds for ``planned``.

        Parameters
        ----------
        name : the run's file name.
        planned : the run's :class:`RunConfig` (a pretraining config: its job), or None
            for a job whose settings the caller checks itself (a comparison).
        same : whether a stored config is the planned one (:func:`same_settings`, or
            :func:`same_run` where more epochs continue a run).
        """
        path = self.session(name)
        if not path.is_file():
            return StoredRun(NEW)
        try:
            with Session.open(path) as s:
                if planned is not None:
                    if planned.pretraining is not None:
                        job = s.jobs.get("pretrain")
                        stored = RunConfig.from_json(job.spec_json) if job else None
                    else:
                        stored = s.run().config
                    if stored is None or not same(stored, planned):
                        return StoredRun(OTHER)
                finished = unfinished_job(s) is None and all(r.status == "completed"
                                                             for r in s.runs.values())
                if planned is None or planned.pretraining is not None:
                    # A job: its runs keep, continue or train by themselves.
                    return StoredRun(COMPLETE if finished else RESUMABLE)
                ck = s.run().checkpoint()
                done = ck.epoch if ck is not None else 0
                if finished and done >= planned.optim.epochs:
                    return StoredRun(COMPLETE, done)
                if ck is None or not ck.optimizers:
                    return StoredRun(NEW)   # killed before its first checkpoint: train anew
                return StoredRun(RESUMABLE, done)
        except StudioError as e:   # damaged, or cut short: the run starts again
            return StoredRun(NEW, note=str(e))

    def train(self, name: str, plan, stored: StoredRun, emit: Emit | None = None,
              control=None, *, weights_budget: int | None = None) -> JobResult:
        """Train ``plan`` into the file ``name``: continued when ``stored`` is
        :data:`RESUMABLE`, else anew (the file replaced).

        Parameters
        ----------
        plan : a :class:`RunConfig` (a pretraining config: its greedy job), or an
            orchestration already built (a comparison).
        stored : what :meth:`stored` said of the file.
        emit : the caller's sink; the writer hears every event first.
        control : pause/resume/stop.
        weights_budget : bytes of weights the session keeps (None: the writer's default).

        Raises
        ------
        SessionError
            The file cannot be written (a full disk) or its checkpoint read back.
        """
        path = self.session(name)
        resume = stored.state == RESUMABLE
        if not resume:
            job = new_job(plan)
        elif isinstance(plan, RunConfig) and plan.pretraining is None:
            more = plan.optim.epochs - stored.epochs_done
            job = continue_job(path, epochs=more if more > 0 else None, device=plan.device,
                               plan=plan)
        else:
            job = continue_job(path, plan=plan)
        budget = {} if weights_budget is None else {"weights_budget": int(weights_budget)}
        writer = SessionWriter(path, append=resume, force=not resume, **budget)
        return run_job(job, emit, control, writer=writer)
