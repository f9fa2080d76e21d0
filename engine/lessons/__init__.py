"""Lessons: every claim of the course notes as an experiment that shows it.

A lesson is data (``resources/lessons/*.json``, or a teacher's own folder;
the format is in ``docs/lessons.md``): the claim in the notes' words, a few
sentences, the formula, what to look for, its runs (presets with overrides,
trained by the existing jobs) and the views that show it.

- :mod:`.format` — :class:`Lesson`, :class:`LessonRun`, reading and checking files.
- :mod:`.runner` — :func:`run_lesson`: the runs as ordinary sessions (kept when
  already complete), then the claim measured and drawn.
- :mod:`.claims` — one measurement per lesson (:func:`measure_claim`);
  :mod:`.disentanglement_claim` lesson 13's (MIG against β).
- :mod:`.figure` — :func:`lesson_figure`, one PNG that shows the effect.
"""

from engine.lessons.claims import MEASURES, ClaimResult, measure_claim
from engine.lessons import disentanglement_claim  # noqa: F401  (registers lesson 13's measure)
from engine.lessons.figure import lesson_figure
from engine.lessons.format import (JOBS, Lesson, LessonRun, bundled_folder, find_lesson,
                                   load_lessons, read_lesson)
from engine.lessons.runner import (LessonResult, LessonRunOpened, lesson_done, lesson_paths,
                                   run_config, run_lesson)

__all__ = ["JOBS", "MEASURES", "ClaimResult", "Lesson", "LessonResult", "LessonRun",
           "LessonRunOpened", "bundled_folder", "find_lesson", "lesson_done", "lesson_figure",
           "lesson_paths", "load_lessons", "measure_claim", "read_lesson", "run_config",
           "run_lesson"]
