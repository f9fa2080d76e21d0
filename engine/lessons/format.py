"""Lessons as data: one JSON file per claim of the course notes, read and checked here.

A lesson file (``resources/lessons/identity-risk.json``, or a file in a
teacher's own folder) says what the claim is, in the notes' words, how to
show it — runs, each a preset with ``--set``-style overrides, trained by one
of the existing jobs — which views show it, and which measurement of
:mod:`engine.lessons.claims` tells whether it held. ``docs/lessons.md``
describes every field with a worked example.

Everything a file can get wrong is a :class:`~engine.errors.ConfigError`
whose message names the file and whose ``field`` names the field
(``runs[1].preset``), so a teacher's typo is found without reading code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources as ir
from pathlib import Path
from typing import Any

from engine import fields as F
from engine.errors import ConfigError
from engine.fields import setting

#: The jobs a lesson's run can be: an ordinary run (``train``), a greedy layer-wise
#: pretraining (``pretrain``) or a pretrained-versus-random comparison (``compare``).
JOBS = ("train", "pretrain", "compare")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LABEL = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_TEXT = "a non-empty text"


@dataclass(frozen=True)
class LessonRun:
    """One run of a lesson: one session file, ``<label>.h5`` in the lesson's folder.

    Attributes
    ----------
    label : the run's name and its session's file stem (``overcomplete``).
    preset : the preset it starts from (``train`` and ``pretrain``; a ``compare``
        run starts from its source encoder's config and leaves it empty).
    overrides : dotted config fields and values, as ``--set`` takes them
        (``{"model.latent_dim": 1024}``); for a ``compare`` run they apply to the
        classifier runs (``classifier.labels``, ``optim.epochs``, ``seed``).
    job : ``train``, ``pretrain`` or ``compare`` (see :data:`JOBS`).
    tiny_overrides : applied on top of ``overrides`` for the tests' tiny,
        seeded configuration (little data, few epochs, small nets).
    sources : for a ``compare`` run, the labels of the earlier ``pretrain`` (or
        ``train``) runs whose encoders it compares with random initialisation.
    """

    label: str
    preset: str
    overrides: dict[str, Any] = field(default_factory=dict)
    job: str = setting("train", choices=JOBS)
    tiny_overrides: dict[str, Any] = field(default_factory=dict)
    sources: tuple[str, ...] = setting((), must="a list of earlier runs' labels")

    def settings(self, tiny: bool = False) -> dict[str, Any]:
        """The overrides to apply: ``overrides``, then ``tiny_overrides`` when ``tiny``."""
        return {**self.overrides, **(self.tiny_overrides if tiny else {})}

    @property
    def file_name(self) -> str:
        return f"{self.label}.h5"


@dataclass(frozen=True)
class Lesson:
    """A claim of the course notes, the runs that show it and the views to watch.

    Attributes
    ----------
    name : the file stem, a slug (``identity-risk``).
    number : its place in the course (1..).
    title, claim : the heading, and the claim in the notes' words.
    text : two to four sentences in the app's own words.
    formula : the objective or quantity at stake, as plain text.
    look_for : what to watch in the views.
    runs : the runs, in training order.
    views : keys of the window's view registry (``gui.views.code_views.VIEW_PANELS``).
    measure : the id of its measurement in :data:`engine.lessons.claims.MEASURES`.
    path : the file it was read from.
    """

    name: str = setting(check=False)
    number: int = setting(lo=1, must="a whole number from 1")
    title: str = setting(text=True)
    claim: str = setting(text=True)
    text: str = setting(text=True)
    formula: str = setting(text=True)
    look_for: str = setting(text=True)
    runs: tuple[LessonRun, ...] = setting(check=False)
    views: tuple[str, ...] = setting(check=False)
    measure: str = setting(check=False)
    path: Path | None = setting(None, check=False)

    def run(self, label: str) -> LessonRun:
        for r in self.runs:
            if r.label == label:
                return r
        raise KeyError(label)


# -- reading -------------------------------------------------------------------------------

def bundled_folder() -> Path:
    """``resources/lessons``, installed with the package."""
    return Path(str(ir.files("resources").joinpath("lessons")))


def read_lesson(path: str | Path) -> Lesson:
    """The lesson in one JSON file, checked.

    Raises
    ------
    ConfigError
        The file cannot be read, is not JSON, or a field is missing or wrong; the
        message names the file and ``field`` the field (``runs[0].preset``).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"lesson file {path}: cannot be read ({e.strerror or e})") from None
    except UnicodeDecodeError:
        raise ConfigError(f"lesson file {path}: is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"lesson file {path}: is not valid JSON (line {e.lineno}, column "
                          f"{e.colno}: {e.msg})") from None
    return lesson_from_dict(data, path)


def lesson_from_dict(data: Any, path: Path) -> Lesson:
    """A :class:`Lesson` from a file's parsed JSON; ConfigError as :func:`read_lesson`."""
    def bad(fld: str, problem: str) -> ConfigError:
        return ConfigError(f"{problem} (in lesson file {path})", fld)

    if not isinstance(data, dict):
        raise bad("", f"must hold a JSON object (got {type(data).__name__})")
    name = path.stem
    if not _SLUG.match(name):
        raise bad("", f"the file name '{name}' is the lesson's name: use lower-case letters, "
                      "digits and '-' (e.g. identity-risk.json)")
    _known_keys(data, [fi.name for fi in F.described(Lesson)][1:-1] + ["all_runs"], "lesson",
                "", bad)
    number = data.get("number")
    _checked(F.info(Lesson, "number"), number, "number", bad)
    texts = {}
    for fi in F.described(Lesson):
        if fi.get("text"):
            value = data.get(fi.name)
            if not isinstance(value, str) or not value.strip():
                raise bad(fi.name, f"must be {_TEXT}" + ("" if fi.name in data else " (missing)"))
            texts[fi.name] = value.strip()
    shared = data.get("all_runs", {})
    if not isinstance(shared, dict) or set(shared) - {"overrides", "tiny_overrides"}:
        raise bad("all_runs", "must be an object with 'overrides' and/or 'tiny_overrides'")
    for key in ("overrides", "tiny_overrides"):
        if not isinstance(shared.get(key, {}), dict):
            raise bad(f"all_runs.{key}", "must be an object of FIELD: VALUE")
    raw_runs = data.get("runs")
    if not isinstance(raw_runs, list) or not raw_runs:
        raise bad("runs", "must be a non-empty list of runs")
    runs: list[LessonRun] = []
    for i, raw in enumerate(raw_runs):
        runs.append(_run_from_dict(raw, f"runs[{i}]", shared, [r.label for r in runs], bad))
    views = data.get("views")
    if (not isinstance(views, list) or not views
            or not all(isinstance(v, str) and v for v in views)):
        raise bad("views", "must be a non-empty list of view names")
    measure = data.get("measure")
    if not isinstance(measure, str) or not measure:
        raise bad("measure", "must name the claim's measurement")
    from engine.lessons.claims import MEASURES
    if measure not in MEASURES:
        raise bad("measure", f"is not a known measurement (got {measure!r}; known: "
                             f"{', '.join(sorted(MEASURES))})")
    return Lesson(name=name, number=number, runs=tuple(runs), views=tuple(views),
                  measure=measure, path=path, **texts)


def _run_from_dict(raw: Any, where: str, shared: dict, earlier: list[str], bad) -> LessonRun:
    if not isinstance(raw, dict):
        raise bad(where, "must be an object with label, preset, overrides, job")
    _known_keys(raw, [fi.name for fi in F.described(LessonRun)], "run", f"{where}.", bad)
    label = raw.get("label")
    if not isinstance(label, str) or not _LABEL.match(label):
        raise bad(f"{where}.label", "must be a name of lower-case letters, digits, '.' and '-' "
                                    f"(it names the run's session file; got {label!r})")
    if label in earlier:
        raise bad(f"{where}.label", f"'{label}' is the label of an earlier run too")
    job = raw.get("job", "train")
    _checked(F.info(LessonRun, "job"), job, f"{where}.job", bad)
    preset = raw.get("preset", "")
    if not isinstance(preset, str) or (job != "compare" and not preset):
        raise bad(f"{where}.preset", "must name a preset (python main.py presets lists them)")
    if preset:
        from engine.presets import preset_names
        if preset not in preset_names():
            raise bad(f"{where}.preset", f"unknown preset '{preset}'; available: "
                                         f"{', '.join(preset_names())}")
    over = {}
    for key in ("overrides", "tiny_overrides"):
        value = raw.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(k, str) and k for k in value):
            raise bad(f"{where}.{key}", "must be an object of FIELD: VALUE, e.g. "
                                        '{"model.latent_dim": 1024}')
        over[key] = {**shared.get(key, {}), **value}
    sources = raw.get("sources", [])
    _checked(F.info(LessonRun, "sources"), sources, f"{where}.sources", bad)
    if job == "compare":
        if not sources:
            raise bad(f"{where}.sources", "a compare run needs the labels of the earlier "
                                          "runs whose encoders it compares")
        for s in sources:
            if s not in earlier:
                raise bad(f"{where}.sources", f"'{s}' is not the label of an earlier run "
                                              f"(earlier: {', '.join(earlier) or 'none'})")
    elif sources:
        raise bad(f"{where}.sources", "only a compare run has sources")
    run = LessonRun(label=label, preset=preset, overrides=over["overrides"], job=job,
                    tiny_overrides=over["tiny_overrides"], sources=tuple(sources))
    if job != "compare":
        _check_config(run, where, bad)
    return run


def _known_keys(data: dict, known: list[str], what: str, where: str, bad) -> None:
    """Refuse a key that is not a field of the lesson (or run), closest names first."""
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise bad(f"{where}{unknown[0]}", f"is not a {what} field"
                  f"{F.did_you_mean(unknown[0], known)} (the fields are: "
                  f"{', '.join(sorted(known))})")


def _checked(fi: F.FieldInfo, value: Any, where: str, bad) -> None:
    """Check ``value`` against its field's description, as the file's error."""
    try:
        F.check_value(fi, value, where)
    except ConfigError as e:
        raise bad(where, e.problem) from None


def _check_config(run: LessonRun, where: str, bad) -> None:
    """The preset takes the overrides (and the tiny ones), and a pretrain run is one."""
    from engine.config import RunConfig
    from engine.presets import load_preset
    base = load_preset(run.preset)
    for key, tiny in (("overrides", False), ("tiny_overrides", True)):
        try:
            cfg: RunConfig = base.with_overrides(run.settings(tiny))
        except ConfigError as e:
            raise bad(f"{where}.{key}" + (f".{e.field}" if e.field else ""), e.problem) from None
        if run.job == "pretrain" and cfg.pretraining is None:
            raise bad(f"{where}.preset", f"'{run.preset}' is no pretraining preset: a pretrain "
                                         "run needs one (stacked-pretraining, dbn-pretraining)")
        if run.job == "train" and cfg.pretraining is not None:
            raise bad(f"{where}.job", f"'{run.preset}' is a pretraining preset: use \"job\": "
                                      "\"pretrain\"")


def load_lessons(folder: str | Path | None = None) -> list[Lesson]:
    """The bundled lessons and those of ``folder`` (a teacher's), sorted by number.

    A lesson in ``folder`` with the name of a bundled one replaces it, so a
    teacher can retune a lesson without touching the app.

    Raises
    ------
    ConfigError
        A file that does not read as a lesson (naming it and its field), a folder
        that is not one, or two lessons with one number.
    """
    found: dict[str, Lesson] = {}
    folders = [bundled_folder()]
    if folder is not None:
        folder = Path(folder)
        if not folder.is_dir():
            raise ConfigError(f"lessons folder {folder} does not exist or is not a folder",
                              "--lessons-dir")
        folders.append(folder)
    for f in folders:
        for path in sorted(f.glob("*.json")):
            lesson = read_lesson(path)
            found[lesson.name] = lesson
    lessons = sorted(found.values(), key=lambda le: (le.number, le.name))
    for a, b in zip(lessons, lessons[1:]):
        if a.number == b.number:
            raise ConfigError(f"lessons {a.path} and {b.path} both have number {a.number}; "
                              f"give one of them another number", "number")
    return lessons


def find_lesson(name: str, folder: str | Path | None = None) -> Lesson:
    """The lesson called ``name`` (its file stem) or numbered ``name``.

    Raises
    ------
    ConfigError
        When there is none: the message lists the known names.
    """
    lessons = load_lessons(folder)
    for lesson in lessons:
        if lesson.name == name or str(lesson.number) == str(name):
            return lesson
    raise ConfigError(f"unknown lesson '{name}'; the lessons are: "
                      f"{', '.join(le.name for le in lessons)} (python main.py lesson --list)")
