"""Continuing a job stored in a session: rebuild it from its spec, find what is left.

A job's ``JobStarted.spec_json`` holds everything needed to run it again:
the pretraining config, or the comparison's source, budgets and classifier
settings. ``resume`` (CLI and window) rebuilds the job here and runs it with
the session as ``previous``: finished runs are kept, the interrupted one
continues from its checkpoint, the rest train.
"""

from __future__ import annotations

from pathlib import Path

from engine.config import RunConfig
from engine.data.labels import parse_budgets
from engine.errors import SessionError
from engine.pretraining.comparison import Comparison, encoder_source
from engine.pretraining.greedy import GreedyPretraining


def unfinished_job(session) -> str | None:
    """The id of a job with a planned run not yet completed (the last such), or None."""
    left = None
    for job_id, job in session.jobs.items():
        runs = session.runs
        if any(p.run_id not in runs or runs[p.run_id].status != "completed" for p in job.plan):
            left = job_id
    return left


def job_from_session(session, job_id: str):
    """The job ``job_id`` of an open session, ready for ``run(emit, control, previous=session)``.

    Raises
    ------
    SessionError
        For a job of a kind this version cannot run, or a source that is gone.
    """
    job = session.jobs[job_id]
    spec = job.spec
    if job.kind == "pretrain":
        return GreedyPretraining(RunConfig.from_dict(spec) if isinstance(spec, dict)
                                 else RunConfig.from_json(job.spec_json))
    if job.kind == "finetune" and "template" in spec:
        sources = [_source(session, src) for src in spec.get("sources") or
                   [spec.get("source", {})]]
        # The spec keeps the budgets as asked ("100", "all"): numbers again here.
        budgets = parse_budgets(",".join(str(b) for b in spec.get("budgets", [])))
        return Comparison(sources, budgets, RunConfig.from_dict(spec["template"]))
    raise SessionError(f"{Path(session.path).name}: the job '{job_id}' ({job.kind}) was "
                       "written by an earlier version and cannot be continued; run it again")


def _source(session, src: dict):
    """The encoder a comparison's spec names: a run of this session or of another file."""
    file = Path(src.get("file") or session.path)
    if file.resolve() == Path(session.path).resolve():
        return encoder_source(session, src.get("run") or None)
    from engine.session import Session
    with Session.open(file) as other:
        return encoder_source(other, src.get("run") or None)
