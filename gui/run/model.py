"""What the window shows, with no Qt: the runs of a session, their series, the replay position.

napari's pattern: a plain model with events, views that subscribe. The
:class:`RunModel` holds every run of the session on display — a plain run,
the stages and stack of a greedy job, the classifier runs of a comparison —
fed either by live events (from :class:`~gui.run.worker.Worker`, through the
controller) or by an opened :class:`~engine.session.Session`. Panels
connect to its :class:`EventHook` attributes and read what they need.
Each run is a :class:`~gui.run.state.RunState` (its series, saved epochs
and the caches of what views read from them).

Runs of a job lie one after another on shared axes: a training run's
``step_offset`` and ``epoch_offset`` say where it starts (the sum of the
runs before it). They are data here, set once when a run starts; nothing
downstream shifts numbers. The replay position is a *global* epoch
(``epoch_offset + epoch``) over the training runs; classifier runs are
shown apart (the fine-tuning views) and have no place on those axes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from engine.events import (CheckpointSaved, EpochEnded, EpochSnapshot, JobStarted, RunFailed,
                           RunFinished, RunOpened, RunPlan, RunStarted)
from engine.session import MAIN_RUN, Session, SessionRun
from engine.session.weights import DEFAULT_BUDGET as DEFAULT_WEIGHTS_BUDGET
from gui.run.coalescing import MetricsBatch
from gui.run.state import CLASSIFIER, RunState


#: the roles of a greedy job's runs, shown by the job's own views
STAGE_ROLES = ("stage", "stack")


class EventHook:
    """A list of callbacks: ``connect(fn)``, ``disconnect(fn)``, ``emit(*args)``."""

    def __init__(self):
        self._callbacks: list[Callable] = []

    def connect(self, fn: Callable) -> None:
        self._callbacks.append(fn)

    def disconnect(self, fn: Callable) -> None:
        self._callbacks.remove(fn)

    def emit(self, *args) -> None:
        for fn in list(self._callbacks):
            fn(*args)


class RunModel:
    """The runs on display and the replay position (see the module docstring).

    Events
    ------
    reset() : everything was replaced (a new run, an opened session, nothing).
    run_added(run) : a run joined (live RunStarted of a new run, or while loading).
    run_changed(run) : its status, epoch means or weights changed.
    metrics(run, batch) : a MetricsBatch of a live run (steps within the run).
    validation(run, step, values) : epoch-end validation terms at a run's step.
    snapshot_added(run, epoch) : a new saved epoch.
    position(run, epoch) : the views should now show this epoch of this run.
    job_started(job) : a live job began (a JobStarted); runs of an earlier job of the same
        id with another plan are gone from the model.
    problem(text) : a view could not show what the model asked for (e.g. a damaged epoch).
    """

    def __init__(self):
        for name in ("reset", "run_added", "run_changed", "metrics", "validation",
                     "snapshot_added", "position", "job_started", "problem"):
            setattr(self, name, EventHook())
        self.runs: dict[str, RunState] = {}
        self.plan: list[RunPlan] = []
        self.jobs: dict[str, tuple[str, list[str]]] = {}   # job id -> (spec, its run ids)
        self.job_title = ""
        self.session_path: Path | None = None
        self.current: tuple[str, int] | None = None
        self._live_run = MAIN_RUN
        #: False while a trainer is being built on the training thread: building a
        #: decoder draws from torch's global RNG, which the trainer seeds then.
        self.may_build_decoders = True
        #: bytes of weights per run the session keeps, and so the window (the preferences')
        self.weights_budget = DEFAULT_WEIGHTS_BUDGET

    # -- what is shown -----------------------------------------------------------------
    def training_runs(self) -> list[RunState]:
        return [r for r in self.runs.values() if not r.is_classifier and r.config is not None]

    def classifier_runs(self) -> list[RunState]:
        return [r for r in self.runs.values() if r.is_classifier and r.config is not None]

    @property
    def shows_stages(self) -> bool:
        """Whether a greedy job is on display (its stages and stack take the job's views)."""
        return any(p.role in STAGE_ROLES for p in self.plan) or any(
            r.plan.role in STAGE_ROLES for r in self.runs.values())

    def pixel_probes(self):
        """The probe images in pixels, (P, C, H, W): stage 1's, or any run's on the images
        (None before a run)."""
        for r in self.training_runs():
            if r.plan.role != "stage" or int(r.plan.meta.get("stage", 1)) == 1:
                return r.data.probe_images
        return None

    def timeline(self) -> list[int]:
        """Every saved epoch of the training runs, as global epochs."""
        return sorted(r.epoch_offset + e for r in self.training_runs() for e in r.epochs)

    def locate(self, global_epoch: int) -> tuple[RunState, int] | None:
        """The run and its own epoch at a global epoch (None when nothing is saved there)."""
        for r in self.training_runs():
            e = global_epoch - r.epoch_offset
            if e in r.epochs:
                return r, e
        return None

    def select(self, global_epoch: int) -> None:
        """Show a global epoch in every view."""
        found = self.locate(global_epoch)
        if found is not None:
            run, epoch = found
            self.current = (run.run_id, epoch)
            self.position.emit(run, epoch)

    def describe(self, global_epoch: int) -> str:
        """``"epoch 4"``, or ``"stage 2 · epoch 3"`` inside a job."""
        found = self.locate(global_epoch)
        if found is None:
            return f"epoch {global_epoch}"
        run, epoch = found
        several = len(self.training_runs()) > 1
        text = f"{short_name(run.plan)} · epoch {epoch}" if several else f"epoch {epoch}"
        preview = run.live.get(epoch)
        if preview is not None and preview.preview:   # slow motion: the epoch in progress
            text += f", step {preview.step:,} (in progress)"
        return text

    @property
    def live_run(self) -> RunState | None:
        """The run the live events go to now (None before it starts)."""
        return self.runs.get(self._live_run)

    @property
    def shown_run(self) -> RunState | None:
        """The run at the replay position, else the last training run."""
        if self.current and self.current[0] in self.runs:
            return self.runs[self.current[0]]
        runs = self.training_runs()
        return runs[-1] if runs else None

    def planned_steps(self) -> int:
        """Steps of every planned training run together (for the loss plot's axis)."""
        runs = self.training_runs()
        if not runs:
            return 0
        spe = runs[-1].steps_per_epoch
        total = 0
        for p in self.plan or [r.plan for r in runs]:
            if p.role == CLASSIFIER:
                continue
            r = self.runs.get(p.run_id)
            if r is not None and r.config is not None:
                total = max(total, r.step_offset + r.planned_epochs * r.steps_per_epoch)
            else:
                total += int(p.meta.get("epochs", 0)) * spe
        return total

    # -- filling it ---------------------------------------------------------------------
    def clear(self) -> None:
        self.runs.clear()
        self.plan = []
        self.jobs = {}
        self.job_title = ""
        self.session_path = None
        self.current = None
        self._live_run = MAIN_RUN
        self.reset.emit()

    def load_session(self, session: Session) -> None:
        """Show every run of an opened session; the position goes to the primary run's end."""
        self.runs.clear()
        self.current = None
        self.session_path = session.path
        jobs = list(session.jobs.values())
        self.plan = [p for job in jobs for p in job.plan]
        self.jobs = {job.job_id: (job.spec_json, [p.run_id for p in job.plan]) for job in jobs}
        self.job_title = jobs[0].title if jobs else ""
        self.reset.emit()
        for stored in session.runs.values():
            self.add_stored_run(stored)
        primary = self.runs.get(session.primary)
        if primary is not None and not primary.is_classifier and primary.epochs:
            self.current = (primary.run_id, primary.epochs[-1])
            self.position.emit(primary, primary.epochs[-1])

    def add_stored_run(self, stored: SessionRun) -> RunState:
        """Show a run read from a session file (placed after the training runs before it)."""
        run = self._add(RunPlan(stored.run_id, stored.title, stored.role, stored.meta))
        run.config, run.data, run.stored = stored.config, stored.data, stored
        run.term_names = tuple(stored.term_names)
        run.steps_per_epoch = stored.steps_per_epoch
        run.planned_epochs = stored.config.optim.epochs
        run.stored_epochs = list(stored.snapshot_epochs)
        run.last_step, run.last_epoch = stored.last_step, stored.epochs_trained
        run.status, run.message = stored.status, stored.status_message
        eh = stored.epoch_history
        for part, store in (("train", run.train), ("val", run.val)):
            for term, values in eh.get(part, {}).items():
                store[term] = {int(e): float(v) for e, v in zip(eh["epoch"], values)}
        self._place(run)
        self.run_added.emit(run)
        return run

    def on_event(self, event) -> None:
        """A live event from the training thread (already on the GUI thread)."""
        if isinstance(event, MetricsBatch):
            run = self.runs.get(self._live_run)
            if run is not None:
                run.last_step = int(event.steps[-1])
                self.metrics.emit(run, event)
        elif isinstance(event, EpochEnded):
            run = self.runs[self._live_run]
            run.last_epoch, run.last_step = event.epoch, event.step
            for part, store in (("train", run.train), ("val", run.val)):
                for term, v in getattr(event, part).items():
                    store.setdefault(term, {})[event.epoch] = float(v)
            self.validation.emit(run, event.step, event.val)
            self.run_changed.emit(run)
        elif isinstance(event, EpochSnapshot):
            run = self.runs[self._live_run]
            run.add_live_snapshot(event, self.weights_budget)
            self.snapshot_added.emit(run, event.epoch)
        elif isinstance(event, CheckpointSaved):
            run = self.runs[self._live_run]
            run.weights = event.checkpoint.model
        elif isinstance(event, RunStarted):
            self._started(event)
        elif isinstance(event, (RunFinished, RunFailed)):
            run = self.runs.get(self._live_run)
            if run is not None:
                run.status = event.reason if isinstance(event, RunFinished) else "failed"
                run.message = event.message if isinstance(event, RunFailed) else None
                self.run_changed.emit(run)
        elif isinstance(event, JobStarted):
            self._job_started(event)
        elif isinstance(event, RunOpened):
            self._live_run = event.run_id

    def _job_started(self, job: JobStarted) -> None:
        spec, ids = self.jobs.get(job.job_id, (job.spec_json, []))
        if spec != job.spec_json:  # the same job again, asked otherwise: it replaces the old
            for run_id in ids:
                self.runs.pop(run_id, None)
            self.plan = [p for p in self.plan if p.run_id not in ids]
        self.jobs[job.job_id] = (job.spec_json, [p.run_id for p in job.runs])
        known = {p.run_id for p in self.plan}
        self.plan += [p for p in job.runs if p.run_id not in known]
        self.job_title = self.job_title or job.title
        self.job_started.emit(job)

    def _started(self, ev: RunStarted) -> None:
        run = self.runs.get(self._live_run)
        if run is not None and run.config is not None:  # a resume: retrain from its start
            run.drop_after(ev.start_epoch - 1, ev.start_step)
            run.planned_epochs, run.status = ev.total_epochs, "running"
            run.config = ev.config
            self.run_changed.emit(run)
            return
        plan = next((p for p in self.plan if p.run_id == self._live_run),
                    RunPlan(self._live_run, ev.config.name, "run"))
        run = self._add(plan)
        run.config, run.data, run.term_names = ev.config, ev.data, tuple(ev.term_names)
        run.steps_per_epoch, run.planned_epochs = ev.steps_per_epoch, ev.total_epochs
        run.status = "running"
        self._place(run)
        self.run_added.emit(run)

    def _add(self, plan: RunPlan) -> RunState:
        run = self.runs[plan.run_id] = RunState(plan=plan)
        return run

    def _place(self, run: RunState) -> None:
        """Lay a training run after the training runs before it."""
        if run.is_classifier:
            return
        before = [r for r in self.training_runs() if r is not run]
        if before:
            last = before[-1]
            run.step_offset = last.step_offset + last.last_step
            run.epoch_offset = last.epoch_offset + last.last_epoch


def short_name(plan: RunPlan) -> str:
    """``stage 2``, ``stack``, ``pretrained 100`` — for labels on shared axes."""
    if plan.role == "stage":
        return f"stage {plan.meta.get('stage', plan.run_id.rsplit('-', 1)[-1])}"
    if plan.role == CLASSIFIER:
        return f"{plan.meta.get('init', '')} {plan.meta.get('budget', '')}".strip()
    return "stack" if plan.role == "stack" else plan.title
