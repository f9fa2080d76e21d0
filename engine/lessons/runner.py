"""Running a lesson: its runs as ordinary sessions, then its claim measured and drawn.

Nothing here trains: an ordinary run is a :class:`~engine.trainer.Trainer`
run, a ``pretrain`` run the :class:`~engine.pretraining.GreedyPretraining`
job, a ``compare`` run the :class:`~engine.pretraining.Comparison` job,
each recorded by the ordinary :class:`~engine.session.SessionWriter` into
``<out_dir>/<label>.h5``. A run whose session already holds it complete, with
the same settings, is kept (not retrained); one stopped or killed part way
continues from its checkpoint, as ``resume`` would; one with other settings
(the lesson file changed, or the tiny configuration was run there) is
trained again. ``again=True`` retrains every run.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.config import RunConfig
from engine.control import TrainingControl
from engine.errors import ConfigError, SessionError, StudioError
from engine.events import Emit, Event, RunFailed, RunFinished, RunOpened
from engine.lessons.format import Lesson, LessonRun
from engine.presets import load_preset
from engine.sweep.plan import identity

CLAIM_FILE = "claim.json"


@dataclass(frozen=True)
class LessonRunOpened:
    """The events that follow (until the next one) belong to this run of the lesson.

    Emitted before each run, also for a run that is kept (``kept`` True: no training
    events follow, its session is complete).
    """

    lesson: str
    label: str
    index: int          # 0-based place in the lesson's runs
    total: int
    path: Path
    kept: bool


@dataclass
class LessonResult:
    """What :func:`run_lesson` did.

    Attributes
    ----------
    outcome : ``completed`` (every run done, claim measured), ``stopped`` or ``failed``.
    paths : the sessions, one per run, in order.
    trained, kept : labels trained in this call, and those already complete.
    claim : the measurement (None unless completed).
    figure : the PNG (None unless completed).
    message : why it failed, when it did.
    seconds : wall-clock time of this call.
    """

    lesson: Lesson
    outcome: str
    paths: list[Path]
    trained: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    claim: object | None = None
    figure: Path | None = None
    message: str = ""
    seconds: float = 0.0


def lesson_paths(lesson: Lesson, out_dir: str | Path) -> list[Path]:
    """One session per run, in the lesson's order: ``out_dir/<label>.h5``."""
    return [Path(out_dir) / r.file_name for r in lesson.runs]


def run_config(run: LessonRun, tiny: bool = False) -> RunConfig:
    """The validated config of a ``train`` or ``pretrain`` run (preset + overrides).

    Raises
    ------
    ConfigError
        An override a preset does not take, naming the field.
    """
    return load_preset(run.preset).with_overrides(run.settings(tiny))


def _same(a: RunConfig, b: RunConfig) -> bool:
    return identity(a) == identity(b)


def _complete_session(path: Path, planned: RunConfig | None) -> bool | None:
    """True: the session holds the planned run(s) complete; False: it holds them
    unfinished (resumable); None: nothing usable (missing, damaged, other settings)."""
    from engine.pretraining.jobs import unfinished_job
    from engine.session import Session
    if not path.is_file():
        return None
    try:
        with Session.open(path) as s:
            if planned is not None and planned.pretraining is not None:
                job = s.jobs.get("pretrain")
                if job is None or not _same(RunConfig.from_json(job.spec_json), planned):
                    return None
            elif planned is not None:
                if not _same(s.run().config, planned):
                    return None
            done = unfinished_job(s) is None and all(r.status == "completed"
                                                     for r in s.runs.values())
            if not done and planned is not None and planned.pretraining is None:
                # Killed before its first checkpoint: nothing to resume, train it anew.
                ck = s.run().checkpoint()
                if ck is None or not ck.optimizers:
                    return None
            return done
    except StudioError:
        return None


def lesson_done(lesson: Lesson, out_dir: str | Path, tiny: bool = False) -> bool:
    """Whether every run of the lesson is complete in ``out_dir`` with its settings."""
    for run, path in zip(lesson.runs, lesson_paths(lesson, out_dir)):
        planned = None if run.job == "compare" else run_config(run, tiny)
        if _complete_session(path, planned) is not True:
            return False
        if run.job == "compare" and not _compare_matches(run, path, lesson, out_dir, tiny):
            return False
    return True


def _prepare_folder(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} is a file, not a folder for the lesson's sessions",
                          "--out")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create the folder {out_dir}: {e.strerror or e}",
                          "--out") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write in {out_dir} (permission denied): choose another "
                          f"folder", "--out")


def run_lesson(lesson: Lesson, out_dir: str | Path, emit: Emit | None = None,
               control: TrainingControl | None = None, tiny: bool = False,
               again: bool = False) -> LessonResult:
    """Train the lesson's missing runs, then measure its claim and draw its figure.

    Parameters
    ----------
    lesson : the lesson.
    out_dir : its folder (created): one session per run, the figure
        ``<name>.png`` and ``claim.json`` (the numbers).
    emit : receives a :class:`LessonRunOpened` before each run, then that run's
        events (the trainer's, and a job's ``JobStarted``/``RunOpened``).
    control : pause/resume/stop for all runs; a stop ends the lesson there (the
        next call continues it).
    tiny : apply each run's ``tiny_overrides`` (the tests' configuration).
    again : retrain every run, even a complete one.

    Raises
    ------
    ConfigError
        The folder cannot be made or written, or an override is invalid.
    SessionError
        A session cannot be written (a full disk) or read back.
    """
    from engine.lessons.claims import measure_claim
    from engine.lessons.figure import lesson_figure
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    emit = emit or (lambda event: None)
    control = control or TrainingControl()
    _prepare_folder(out_dir)
    paths = lesson_paths(lesson, out_dir)
    result = LessonResult(lesson=lesson, outcome="completed", paths=paths)
    for i, (run, path) in enumerate(zip(lesson.runs, paths)):
        if control.stop_requested:
            result.outcome = "stopped"
            break
        planned = None if run.job == "compare" else run_config(run, tiny)
        state = _complete_session(path, planned)
        if state is not None and run.job == "compare" and (
                set(run.sources) & set(result.trained)
                or not _compare_matches(run, path, lesson, out_dir, tiny)):
            state = None   # its encoders were trained anew, or it compared others
        if state is True and not again:
            emit(LessonRunOpened(lesson.name, run.label, i, len(paths), path, kept=True))
            result.kept.append(run.label)
            continue
        emit(LessonRunOpened(lesson.name, run.label, i, len(paths), path, kept=False))
        resume = state is False and not again
        outcome, message = _train(lesson, run, path, planned, out_dir, tiny, resume, emit,
                                  control)
        result.trained.append(run.label)
        if outcome != "completed":
            result.outcome, result.message = outcome, message
            break
    if result.outcome == "completed":
        result.claim = measure_claim(lesson, paths)
        result.figure = lesson_figure(lesson, paths, out_dir / f"{lesson.name}.png",
                                      claim=result.claim)
        _write_claim(out_dir / CLAIM_FILE, lesson, result.claim, tiny)
    result.seconds = time.perf_counter() - t0
    return result


def _write_claim(path: Path, lesson: Lesson, claim, tiny: bool) -> None:
    data = {"lesson": lesson.name, "measure": lesson.measure, "tiny": tiny,
            "holds": bool(claim.holds), "sentence": claim.sentence,
            "values": {k: float(v) for k, v in claim.values.items()}}
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(data, indent=1, allow_nan=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as e:
        raise SessionError(f"cannot write {path}: {e.strerror or e}") from None


class _Outcome:
    """The last RunFinished/RunFailed seen: how a run or job ended, and why."""

    def __init__(self, emit: Emit):
        self.emit, self.failed, self.stopped = emit, "", False

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFailed):
            self.failed = event.message
        elif isinstance(event, RunFinished) and event.reason == "stopped":
            self.stopped = True
        self.emit(event)


def _train(lesson: Lesson, run: LessonRun, path: Path, planned: RunConfig | None,
           out_dir: Path, tiny: bool, resume: bool, emit: Emit, control) -> tuple[str, str]:
    """Train one run into ``path`` (continuing it when ``resume``); (outcome, message)."""
    from engine.session import Session, SessionWriter, resume_trainer
    from engine.trainer import Trainer
    watch = _Outcome(emit)
    writer = SessionWriter(path, append=resume, force=not resume)

    def both(event: Event) -> None:
        writer(event)   # first: when the GUI hears of an epoch, it is on disk
        watch(event)

    try:
        if run.job == "train":
            if resume:
                with Session.open(path) as s:
                    stored = s.run()
                    trainer, until = resume_trainer(stored, None, planned.device)
                    both(RunOpened(job_id="", run_id=stored.run_id))
            else:
                trainer, until = Trainer(planned), None
            outcome = trainer.run(both, control, until_epoch=until)
        else:
            job = _job(lesson, run, planned, out_dir, tiny)
            if resume:
                with Session.open(path) as previous:
                    outcome = job.run(both, control, previous=previous)
            else:
                outcome = job.run(both, control)
    finally:
        writer.close()
    if outcome == "completed" and (watch.failed or watch.stopped):
        outcome = "failed" if watch.failed else "stopped"
    return outcome, watch.failed


def _job(lesson: Lesson, run: LessonRun, planned: RunConfig | None, out_dir: Path,
         tiny: bool):
    from engine.pretraining import Comparison, GreedyPretraining
    if run.job == "pretrain":
        return GreedyPretraining(planned)
    sources, template = compare_plan(lesson, run, out_dir, tiny)
    budget = template.classifier.labels
    return Comparison(sources, [budget if budget is not None else "all"], template)


def compare_plan(lesson: Lesson, run: LessonRun, out_dir: str | Path, tiny: bool = False):
    """(encoder sources, classifier template) of a ``compare`` run, from the sessions of
    its sources in ``out_dir``.

    Raises
    ------
    SessionError
        A source session that is missing or holds no trained encoder.
    ConfigError
        An override the classifier config does not take.
    """
    from engine.pretraining.comparison import DEFAULT_OPTIM, classifier_config, encoder_source
    from engine.session import Session
    sources = []
    for label in run.sources:
        with Session.open(Path(out_dir) / lesson.run(label).file_name) as s:
            sources.append(encoder_source(s))
    template = classifier_config(sources[0].config, DEFAULT_OPTIM)
    settings = run.settings(tiny)
    if settings:
        template = template.with_overrides(settings)
    return sources, template


def _compare_matches(run: LessonRun, path: Path, lesson: Lesson, out_dir, tiny: bool) -> bool:
    """Whether a complete comparison session holds the comparison planned now."""
    from engine.session import Session
    try:
        _, template = compare_plan(lesson, run, out_dir, tiny)
        with Session.open(path) as s:
            job = s.jobs.get("finetune")
            stored = RunConfig.from_dict(job.spec["template"]) if job else None
    except StudioError:
        return False
    return stored is not None and _same(stored, template)
