"""The one job runner: a run, or an orchestration of runs, into a session file, resumable.

- :mod:`.runner` — :func:`new_job` and :func:`continue_job` say what to train;
  :func:`run_job` trains it, every event to the session writer first and then to
  the caller, and closes the writer. The window, every CLI command, lessons and
  sweeps train through it.
- :mod:`.resume` — :func:`resume_trainer`, a trainer positioned at a run's
  checkpoint (called by :func:`continue_job` alone).
- :mod:`.stored` — a job stored in a session: the unfinished one, rebuilt from its spec.
- :mod:`.folder` — :class:`RunFolder`, a folder of resumable runs, one session
  each: what lessons and sweeps keep, continue or train.

The orchestrations themselves (greedy pretraining, the comparison) live in
:mod:`engine.pretraining`; this package runs them.
"""

from engine.jobs.folder import (COMPLETE, NEW, OTHER, RESUMABLE, RunFolder, StoredRun, identity,
                                same_run, same_settings)
from engine.jobs.resume import resume_trainer
from engine.jobs.runner import Job, JobResult, continue_job, new_job, orchestration, run_job
from engine.jobs.stored import job_from_session, unfinished_job

__all__ = ["COMPLETE", "NEW", "OTHER", "RESUMABLE", "Job", "JobResult", "RunFolder",
           "StoredRun", "continue_job", "identity", "job_from_session", "new_job",
           "orchestration", "resume_trainer", "run_job", "same_run", "same_settings",
           "unfinished_job"]
