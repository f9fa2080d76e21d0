"""Running a lesson: its runs as ordinary sessions, then its claim measured and drawn.

Nothing here trains: an ordinary run is a :class:`~engine.trainer.Trainer`
run, a ``pretrain`` run the :class:`~engine.pretraining.GreedyPretraining`
job, a ``compare`` run the :class:`~engine.pretraining.Comparison` job,
each recorded into ``<out_dir>/<label>.h5`` — a
:class:`~engine.jobs.RunFolder`, the folder of resumable runs sweeps use too,
trained through the one job runner. A run whose session already holds it complete, with
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
from engine.errors import SessionError, StudioError
from engine.events import Emit
from engine.jobs.folder import COMPLETE, NEW, OTHER, RunFolder, StoredRun, same_settings
from engine.lessons.format import Lesson, LessonRun
from engine.presets import load_preset

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


def _stored(folder: RunFolder, run: LessonRun, planned: RunConfig | None) -> StoredRun:
    """What the run's session holds; a file of other settings (the lesson changed, or
    the tiny configuration ran there) is trained anew, like a missing or damaged one."""
    stored = folder.stored(run.file_name, planned)
    return StoredRun(NEW) if stored.state == OTHER else stored


def lesson_done(lesson: Lesson, out_dir: str | Path, tiny: bool = False) -> bool:
    """Whether every run of the lesson is complete in ``out_dir`` with its settings."""
    folder = RunFolder(out_dir)
    for run, path in zip(lesson.runs, lesson_paths(lesson, out_dir)):
        planned = None if run.job == "compare" else run_config(run, tiny)
        if _stored(folder, run, planned).state != COMPLETE:
            return False
        if run.job == "compare" and not _compare_matches(run, path, lesson, out_dir, tiny):
            return False
    return True


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
    folder = RunFolder(out_dir)
    folder.prepare("the lesson's sessions")
    paths = lesson_paths(lesson, out_dir)
    result = LessonResult(lesson=lesson, outcome="completed", paths=paths)
    for i, (run, path) in enumerate(zip(lesson.runs, paths)):
        if control.stop_requested:
            result.outcome = "stopped"
            break
        planned = None if run.job == "compare" else run_config(run, tiny)
        stored = _stored(folder, run, planned)
        if stored.state != NEW and run.job == "compare" and (
                set(run.sources) & set(result.trained)
                or not _compare_matches(run, path, lesson, out_dir, tiny)):
            stored = StoredRun(NEW)   # its encoders were trained anew, or it compared others
        if stored.state == COMPLETE and not again:
            emit(LessonRunOpened(lesson.name, run.label, i, len(paths), path, kept=True))
            result.kept.append(run.label)
            continue
        emit(LessonRunOpened(lesson.name, run.label, i, len(paths), path, kept=False))
        plan = planned if run.job != "compare" else _comparison(lesson, run, out_dir, tiny)
        trained = folder.train(run.file_name, plan, StoredRun(NEW) if again else stored, emit,
                               control)
        result.trained.append(run.label)
        if trained.outcome != "completed":
            result.outcome, result.message = trained.outcome, trained.message
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


def _comparison(lesson: Lesson, run: LessonRun, out_dir: Path, tiny: bool):
    """The ``compare`` run's job: classifiers on its sources' encoders."""
    from engine.pretraining import Comparison
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
    return stored is not None and same_settings(stored, template)
