"""``python main.py lesson``: a claim of the course notes as an experiment, headless.

``lesson --list`` lists the lessons; ``lesson NAME --out DIR`` trains its
runs (each an ordinary session in DIR; complete ones are kept, ``--again``
retrains them), writes one PNG that shows the effect and prints the numbers
behind the claim and whether it held.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from engine.cli.common import INTERRUPTED, JobProgress, stop_on_interrupt
from engine.control import TrainingControl
from engine.errors import ConfigError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "lesson", help="run a lesson: a claim of the course notes shown by an experiment",
        description="Run a lesson: its runs train as sessions in --out (a run already "
                    "complete there is kept), then one PNG shows the effect and the numbers "
                    "behind the claim are printed, with whether it held. Lessons are JSON "
                    "files (docs/lessons.md); --lessons-dir adds a folder of your own.")
    p.add_argument("name", nargs="?", help="the lesson's name or number (see --list)")
    p.add_argument("--list", action="store_true", help="list the lessons and exit")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="the lesson's folder: its sessions, <name>.png and claim.json")
    p.add_argument("--again", action="store_true",
                   help="train every run again, even those already complete in --out")
    p.add_argument("--lessons-dir", type=Path, metavar="DIR",
                   help="a folder of lesson files to add to the bundled ones (a file with a "
                        "bundled lesson's name replaces it)")
    p.add_argument("--tiny", action="store_true",
                   help="the lesson's tiny configuration (seconds; what the tests run)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only epoch lines")
    p.set_defaults(run=run)


def run(args) -> int:
    from engine.lessons import find_lesson, load_lessons
    if args.list:
        for lesson in load_lessons(args.lessons_dir):
            runs = ", ".join(r.label for r in lesson.runs)
            print(f"{lesson.number:>2}  {lesson.name:<32} {lesson.title} ({runs})")
        return 0
    if not args.name:
        raise ConfigError("name a lesson (python main.py lesson --list lists them)", "NAME")
    lesson = find_lesson(args.name, args.lessons_dir)
    if args.out is None:
        raise ConfigError(f"is needed: the folder for the lesson's sessions, e.g. --out "
                          f"lessons/{lesson.name}", "--out")
    return _run(lesson, args)


class _LessonProgress:
    """A heading per lesson run, then the job's or run's own progress lines."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.job = JobProgress(quiet)

    def __call__(self, event) -> None:
        from engine.lessons import LessonRunOpened
        if isinstance(event, LessonRunOpened):
            state = "kept (complete in its session)" if event.kept else "training"
            print(f"({event.index + 1}/{event.total}) {event.label}: {state} -> {event.path}",
                  flush=True)
            self.job = JobProgress(self.quiet)
        else:
            self.job(event)


def _run(lesson, args) -> int:
    from engine.lessons import run_lesson
    print(f"Lesson {lesson.number}: {lesson.title}")
    for line in textwrap.wrap(f"“{lesson.claim}”", 96):
        print(f"  {line}")
    progress = _LessonProgress(args.quiet)
    control = TrainingControl()
    with stop_on_interrupt(control) as interrupt:
        result = run_lesson(lesson, args.out, emit=progress, control=control, tiny=args.tiny,
                            again=args.again)
    if result.outcome != "completed":
        print(f"lesson {result.outcome}"
              + (f": {result.message}" if result.message else "")
              + f"; the same command continues it ({len(result.trained)} run(s) trained, "
                f"{len(result.kept)} kept)")
        return INTERRUPTED if interrupt.asked else 1
    claim = result.claim
    print()
    for key, value in claim.values.items():
        print(f"  {key:<32} {value:.6g}")
    print()
    for line in textwrap.wrap(claim.sentence, 96):
        print(line)
    print(f"\nclaim {'held' if claim.holds else 'did not hold'}; figure: {result.figure}; "
          f"{len(result.trained)} run(s) trained, {len(result.kept)} kept, "
          f"{result.seconds:.1f} s")
    print("open the runs in the window: python main.py "
          + " ".join(str(p) for p in result.paths))
    return 0
