"""Runs of several sessions side by side: what the ``compare`` command and the window's
comparison show, with no Qt.

:meth:`ComparedRuns.open` takes session files and sweep folders (every run
of a sweep, labelled with its swept values); each file contributes its
primary run. The runs keep reading their snapshots on demand. What differs
between them — the data, the image size, the latent size, the family — is
stated in :meth:`ComparedRuns.differences`, so a view can say what does not
compare instead of drawing it wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import SessionError
from engine.session.reader import Session
from engine.session.runs import SessionRun

#: One colour per run (Okabe–Ito, then tab10's others): readable for colour-blind eyes.
RUN_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
               "#000000", "#8c564b", "#7f7f7f", "#bcbd22"]


def run_colour(i: int) -> str:
    return RUN_COLOURS[i % len(RUN_COLOURS)]


@dataclass
class ComparedRun:
    """One run in the comparison.

    Attributes
    ----------
    label : what the views call it (the file's name, or its swept values ``beta=0.5``).
    run : the run (its session stays open for reading, or released).
    values : the swept field -> value of a sweep's run, else empty.
    """

    label: str
    run: SessionRun
    values: dict = field(default_factory=dict)
    colour: str = ""

    @property
    def path(self) -> Path:
        return self.run.path

    def final(self, part: str) -> dict[str, float]:
        """The last epoch's means: ``part`` is ``train`` or ``val``."""
        return {t: float(v[-1]) for t, v in self.run.epoch_history.get(part, {}).items()
                if len(v)}

    def measures(self) -> dict[str, float]:
        """The research measures at the run's end (MIG, DCI, FactorVAE, I(x; z)), read once:
        :func:`engine.export.research_summary.final_measures`, the keys it has of
        :data:`~engine.export.research_summary.MEASURE_KEYS`."""
        if "_measures" not in self.__dict__:
            from engine.export.research_summary import MEASURE_KEYS, final_measures
            try:
                got = final_measures(self.run)
            except SessionError:
                got = {}
            self.__dict__["_measures"] = {k: got[k] for k in MEASURE_KEYS if k in got}
        return self.__dict__["_measures"]


class ComparedRuns:
    """The runs on display side by side (see the module docstring).

    Attributes
    ----------
    runs : in the order given (a sweep's in its index order).
    swept : the swept fields, when the runs come from one sweep.
    problems : what could not be opened (path: why); the others are shown.
    """

    def __init__(self, runs: list[ComparedRun], swept: list[str] | None = None,
                 problems: list[str] | None = None):
        self.runs = runs
        self.swept = list(swept or [])
        self.problems = list(problems or [])

    @classmethod
    def open(cls, paths: list[str | Path]) -> "ComparedRuns":
        """Open session files and sweep folders.

        Raises
        ------
        SessionError
            When nothing could be opened (the message says why for each path).
        """
        from engine.sweep.index import read_index
        runs, problems, swept = [], [], []
        for p in map(Path, paths):
            if p.is_dir():
                try:
                    index = read_index(p)
                except SessionError as e:
                    problems.append(str(e))
                    continue
                swept += [f for f in index.fields if f not in swept]
                missing = []
                for entry in index.runs:
                    if not (p / entry.file).exists():
                        missing.append(entry.name)
                        continue
                    try:
                        session = Session.open(p / entry.file)
                    except SessionError as e:
                        problems.append(str(e))
                        continue
                    runs.append(ComparedRun(entry.name, session.run(), dict(entry.values)))
                if missing:
                    problems.append(f"{p}: {len(missing)} run(s) not trained yet "
                                    f"({', '.join(missing[:4])}{', …' if len(missing) > 4 else ''})")
            else:
                try:
                    session = Session.open(p)
                except SessionError as e:
                    problems.append(str(e))
                    continue
                runs.append(ComparedRun(p.stem, session.run()))
        if not runs:
            raise SessionError("nothing to compare: " + "; ".join(problems or ["no sessions"]))
        _unique_labels(runs)
        for i, r in enumerate(runs):
            r.colour = run_colour(i)
        return cls(runs, swept, problems)

    def release(self) -> None:
        """Let writers replace the files: each read opens the newest version (see Session)."""
        for r in self.runs:
            r.run.session.release()

    def close(self) -> None:
        for r in self.runs:
            r.run.session.close()

    def __enter__(self) -> "ComparedRuns":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- what they have in common ---------------------------------------------------------
    def term_names(self) -> list[str]:
        """Every run's terms, in the first run's order, then the others'."""
        out: list[str] = []
        for r in self.runs:
            out += [t for t in r.run.term_names if t not in out]
        return out

    def same_probes(self) -> bool:
        """Do all runs reconstruct the same probe images (same data, split and seed)?"""
        first = self.runs[0].run.data.probe_images
        return all(r.run.data.probe_images.shape == first.shape
                   and np.array_equal(r.run.data.probe_images, first) for r in self.runs[1:])

    def epochs(self) -> list[int]:
        """Every saved epoch of any run, sorted."""
        return sorted({e for r in self.runs for e in r.run.snapshot_epochs})

    def differences(self) -> list[str]:
        """What differs between the runs and so does not compare, in words."""
        notes = []

        def differ(key):
            values = [key(r) for r in self.runs]
            return len(set(values)) > 1, values

        diff, families = differ(lambda r: r.run.config.model.family)
        if diff:
            notes.append("the runs are of different model families ("
                         + ", ".join(sorted(set(families))) + "): only the terms they share "
                         "are overlaid")
        diff, shapes = differ(lambda r: tuple(r.run.data.image_shape))
        if diff:
            notes.append("the images differ in size (" + ", ".join(
                sorted({"x".join(map(str, s)) for s in shapes})) + "): each run's "
                "reconstructions are shown with its own originals")
        elif not self.same_probes():
            notes.append("the runs reconstruct different probe images (other data, split or "
                         "seed): each run's row shows its own originals above it")
        diff, _ = differ(lambda r: r.run.data.source)
        if diff:
            notes.append("the runs train on different data: their loss values are not on "
                         "one scale")
        diff, dims = differ(lambda r: r.run.config.model.latent_dim)
        if diff:
            notes.append("latent sizes differ (" + ", ".join(map(str, sorted(set(dims))))
                         + "): maps of more than two dimensions show their first two "
                         "principal components, and KL per dimension has more bars")
        return notes

    # -- the table ------------------------------------------------------------------------------
    def table(self) -> str:
        """Final terms per run, a training row and a validation row each, as text."""
        terms = self.term_names()
        head = ["run", "", "epochs", *terms]
        rows = []
        for r in self.runs:
            for part, name in (("train", "train"), ("val", "val")):
                values = r.final(part)
                if part == "val" and not values:
                    continue
                rows.append([r.label if part == "train" else "", name,
                             str(r.run.epochs_trained) if part == "train" else "",
                             *(f"{values[t]:.5g}" if t in values else "–" for t in terms)])
        widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                           for i, (c, w) in enumerate(zip(row, widths))).rstrip()
                 for row in [head, *rows]]
        return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])

    def measure_names(self) -> list[str]:
        """The research measures any run has, in the summary's order."""
        from engine.export.research_summary import MEASURE_KEYS
        return [k for k in MEASURE_KEYS if any(k in r.measures() for r in self.runs)]

    def measures_table(self) -> str:
        """The research measures at each run's end as text ("" when no run has any)."""
        from engine.export.research_summary import MEASURE_WORDS
        names = self.measure_names()
        if not names:
            return ""
        head = ["run", *(MEASURE_WORDS[k] for k in names)]
        rows = [[r.label, *(f"{r.measures()[k]:.3f}" if k in r.measures() else "–"
                            for k in names)] for r in self.runs]
        widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
        lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                           for i, (c, w) in enumerate(zip(row, widths))).rstrip()
                 for row in [head, *rows]]
        return "\n".join(["research measures at each run's end (I(x; z) in nats):",
                          lines[0], "-" * len(lines[0]), *lines[1:]])


def _unique_labels(runs: list[ComparedRun]) -> None:
    """Runs of files with the same name get their folder in the label too."""
    seen: dict[str, int] = {}
    for r in runs:
        seen[r.label] = seen.get(r.label, 0) + 1
    for r in runs:
        if seen[r.label] > 1 and not r.values:
            r.label = f"{r.path.parent.name}/{r.path.stem}"
