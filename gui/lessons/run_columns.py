"""A lesson's runs side by side: one column per run, one row per view, one slider for all.

Each run of a lesson is an ordinary session file (``lesson_paths``). A
:class:`RunColumn` follows its file as the compare window's runs and the
main window's :class:`~gui.run.follower.SessionFollower` do: a
:class:`~engine.session.follow.FileWatch` tells a new commit from the
file's identity, the newest version is read (:func:`open_released`, no
handle kept) and merged into the column's own Qt-free
:class:`~gui.run.model.RunModel` (:func:`merge_session`). The same code
shows a run that trains now — its epochs appear as the trainer commits
them — and a run saved long ago.

:class:`LessonColumns` lays the lesson's views (``make_view(name)`` for
each name of ``lesson.views``) in a grid, a column per run, and moves them
all with one :class:`~gui.panels.replay_timeline.ReplayTimelinePanel`; a
run that has no snapshot at that epoch shows its nearest earlier one
(:meth:`gui.run.state.RunState.nearest_epoch`, as in the compare window).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGridLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout,
                               QWidget)

from engine.errors import StudioError
from engine.export.compared import run_colour
from engine.session.follow import FileWatch, open_released
from gui.views.code_views import VIEW_PANELS
from gui.lessons.finetuning_view import FineTuningView
from gui.panels.replay_timeline import ReplayTimelinePanel
from gui.run.model import RunModel
from gui.run.state import RunState
from gui.run.follower import merge_session
from gui.widgets.caption import caption_label
from gui.widgets.naming import named
from gui.widgets.markup import escaped

COLUMN_WIDTH = 300     # the narrowest a run's column gets (four runs fit 1366 pixels beside
                       # the explanation; more scroll sideways)
VIEW_HEIGHT = 190      # the least height of one view row
REASON_HEIGHT = 56     # ... of a row where no run's view applies (each says why, in a line)

#: The views a lesson may name: the code views' registry and the lessons' own.
LESSON_VIEWS: dict[str, type] = {**VIEW_PANELS, FineTuningView.view_name: FineTuningView}


def view_title(name: str) -> str:
    """The heading of a view's row: its panel's title (``identity_probe`` -> ``Identity
    probe`` for a name no panel has)."""
    cls = LESSON_VIEWS.get(name)
    if cls is not None and getattr(cls, "title", ""):
        return cls.title
    words = name.replace("_", " ")
    return words[:1].upper() + words[1:]


def shown_run(model: RunModel, primary: str) -> RunState | None:
    """The run a column shows: the session's primary run, or, when it has no saved epoch
    (a greedy stack trained end to end for 0 epochs), the last training run that has one."""
    run = model.runs.get(primary)
    if run is not None and run.epochs:
        return run
    with_epochs = [r for r in model.training_runs() if r.epochs]
    return with_epochs[-1] if with_epochs else run


class RunColumn:
    """One run of a lesson, read from its session file (see the module docstring).

    Attributes
    ----------
    path, label, colour : its file, its name (the file stem), its colour in every view.
    model : its own :class:`RunModel`; ``state`` the session's primary run in it (None
        until the file holds a run).
    views : view name -> the panel showing this run.
    shown : the epoch its views show (None: nothing yet).
    problem : why the file cannot be read now, or None.
    """

    def __init__(self, path: Path, index: int, views: dict[str, QWidget]):
        self.path = Path(path)
        self.label = self.path.stem
        self.colour = run_colour(index)
        self.model = RunModel()
        self.state: RunState | None = None
        self.views = views
        self.shown: int | None = None
        self.problem: str | None = None
        self.watch = FileWatch(self.path)
        self._loaded = False
        self.dirty = True
        self._given: RunState | None = None     # the state the views were set_run with

    @property
    def epochs(self) -> list[int]:
        return self.state.epochs if self.state is not None else []

    @property
    def status(self) -> str:
        """``planned`` (no file yet), ``running``, ``completed``, ``stopped``, ``failed``."""
        return self.state.status if self.state is not None else "planned"

    def refresh(self, force: bool = False) -> bool:
        """Read the file again when a commit replaced it (or ``force``). True when it changed."""
        if not (self.watch.changed() or force or not self._loaded):
            return False
        if not self.path.exists():
            changed = self.state is not None
            self.model.clear()
            self.state, self._loaded, self.problem = None, False, None
            return changed
        try:
            session = open_released(self.path)
        except StudioError as e:        # half-written by a crash, or damaged: say why
            self.problem = str(e)
            return True
        self.problem = None
        if self._loaded:
            merge_session(self.model, session)
        else:
            self.model.load_session(session)
            self._loaded = True
        self.state = shown_run(self.model, session.primary)
        return True

    def show(self, epoch: int | None) -> list[str]:
        """Show the run's nearest saved epoch to ``epoch`` in each view; problems, in words.

        Views are drawn only when that epoch differs from the one shown or the file changed
        (``dirty``): a commit of one run does not redraw the others.
        """
        state = self.state
        e = None if epoch is None or state is None else state.nearest_epoch(epoch)
        if e == self.shown and not self.dirty and e is not None:
            return []
        self.dirty = False
        if state is None or e is None:
            why = self.problem or ("not trained yet" if state is None else "no epoch saved yet")
            for view in self.views.values():
                view.clear(why)
            self.shown = None
            return [f"{self.label}: {self.problem}"] if self.problem else []
        problems = []
        if state is not self._given:
            for view in self.views.values():
                view.set_run(state)
            self._given = state
        for name, view in self.views.items():
            try:
                view.show_epoch(state, e)
            except (StudioError, KeyError, ValueError) as err:
                view.clear(f"cannot show epoch {e}: {err}")
                problems.append(f"{self.label}: the {view_title(name).lower()} view cannot "
                                f"show epoch {e} ({err})")
        self.shown = e
        return problems

    def heading(self) -> str:
        """Rich text: colour, label, kind, latent size and how far it has trained."""
        state = self.state
        what = "not trained yet"
        if state is not None and state.config is not None:
            cfg = state.config
            what = (f"{cfg.kind_label()}, latent {cfg.model.latent_dim} · "
                    f"{state.status} · epoch {state.last_epoch} of {state.planned_epochs}")
        elif self.problem:
            what = "cannot be read now"
        return (f"<b style='color:{self.colour}'>■</b> <b>{escaped(self.label)}</b> "
                f"<span style='color:#555'>{what}</span>")


class _RowsThatFit(QGridLayout):
    """The views' grid: as tall as the scroll area's viewport, at least its minimum.

    Its wrapped labels would otherwise make the scroll area ask it, through
    height-for-width, for the height every view would like (a screen and a half),
    and the last row would scroll away.
    """

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return False


class LessonColumns(QWidget):
    """The grid of a lesson's views, a column per run, and the one replay slider.

    Signals
    -------
    problem(str) : something could not be read or shown (for the window's message strip).
    """

    problem = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "lessonRuns", "The lesson's runs and views")
        self.grid_holder = QWidget()
        self.scroll = named(QScrollArea(), "lessonRunsScroll", "The lesson's runs")
        self.scroll.setWidgetResizable(True)
        self.timeline = ReplayTimelinePanel()
        self.timeline.describe = self._describe
        self.timeline.epoch_selected.connect(self.select_epoch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.timeline)
        self.columns: list[RunColumn] = []
        self.headings: list[QLabel] = []
        self.view_names: tuple[str, ...] = ()
        #: True while a trainer is being built on the training thread: it seeds torch's
        #: global generator then, and nothing here may draw from it (best effort: the
        #: views build their CPU models on the meta device, see engine.models.cpu_copy).
        self.hold = False
        self.grid: QGridLayout | None = None

    # -- building -----------------------------------------------------------------------
    def set_runs(self, paths: list[Path], view_names: tuple[str, ...]) -> None:
        """One column per session path, each with a panel per view name (replaces all)."""
        # A new holder: the scroll area destroys the old one, with its views, at once.
        self.grid_holder = QWidget()
        grid = _RowsThatFit(self.grid_holder)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setHorizontalSpacing(8)
        self.view_names = tuple(view_names)
        self.columns, self.headings = [], []
        for j, path in enumerate(paths):
            heading = named(QLabel(), f"lessonRunHeading{j}", f"Run {j + 1} of the lesson")
            heading.setTextFormat(Qt.RichText)
            heading.setWordWrap(True)
            heading.setMinimumWidth(COLUMN_WIDTH)
            grid.addWidget(heading, 0, j)
            views = {}
            for i, name in enumerate(self.view_names):
                if j == 0:
                    grid.addWidget(caption_label(view_title(name), f"lessonViewTitle_{name}",
                                                 view_title(name)), 1 + 2 * i, 0, 1,
                                   len(paths))
                view = self._make_view(name)
                # The rows share the height the window has (a view's own wish, e.g. a long
                # caption at a column's width, would push the last row off screen); below
                # these minimums the grid scrolls instead.
                view.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Ignored)
                view.setMinimumSize(COLUMN_WIDTH, VIEW_HEIGHT)
                grid.addWidget(view, 2 + 2 * i, j)
                views[name] = view
            self.columns.append(RunColumn(path, j, views))
            self.headings.append(heading)
        self.grid = grid
        self.scroll.setWidget(self.grid_holder)
        if not self.refresh(force=True):     # no file yet: say so in every view
            self.timeline.set_epochs([])
            self.select_epoch(None)

    def _make_view(self, name: str) -> QWidget:
        try:
            return LESSON_VIEWS[name]()
        except KeyError:    # a lesson file naming a view this version does not have
            label = caption_label(f"No view called '{name}' in this version of the app.",
                                  "lessonUnknownView", "Unknown view", wrap=True)
            label.clear = lambda why="": None
            label.set_run = lambda run: None
            label.show_epoch = lambda run, epoch: None
            return label

    # -- following the files --------------------------------------------------------------
    def epochs(self) -> list[int]:
        """Every saved epoch of any run (the slider's positions)."""
        return sorted({e for c in self.columns for e in c.epochs})

    def refresh(self, force: bool = False) -> bool:
        """Read the files that changed; show what is new. True when anything changed."""
        if self.hold and not force:
            return False
        changed = [c for c in self.columns if c.refresh(force)]
        if not changed:
            return False
        for c in changed:
            c.dirty = True
        epochs = self.epochs()
        at = self.timeline.current_epoch
        following = at is None or not self.timeline.epochs or at == self.timeline.epochs[-1]
        # At the end, the slider follows the newest epoch; a run that trains after the
        # others shows its own newest there (its nearest earlier one), so the columns
        # that changed are drawn again even when the slider does not move.
        self.timeline.set_epochs(epochs, select=None if following else at)
        if not epochs:
            self.select_epoch(None)
        return True

    def select_epoch(self, epoch: int | None) -> None:
        """Show ``epoch`` in every run (each at its nearest saved epoch)."""
        problems = []
        for c in self.columns:
            problems += c.show(epoch)
        self._update_headings()
        if problems:
            self.problem.emit("; ".join(problems))

    def _update_headings(self) -> None:
        for column, heading in zip(self.columns, self.headings):
            heading.setText(column.heading())
        self._fit_rows()

    def _fit_rows(self) -> None:
        """Share the height among the rows that show data, equally; a row where no run's
        view shows data (each says why it does not apply, e.g. samples of 2-D points) keeps
        a line or two. Below :data:`VIEW_HEIGHT` a row the grid scrolls instead.

        Equal shares are set, not left to the grid: it would give a view that wraps text
        (height-for-width) what it asks and squeeze the others to their minimum."""
        if self.grid is None:
            return
        rows = [(name, self.views(name)) for name in self.view_names]
        showing = [any(getattr(v, "showing", True) for v in views) for _, views in rows]
        width = max((h.width() for h in self.headings), default=COLUMN_WIDTH)
        fixed = max((h.heightForWidth(width) for h in self.headings), default=0)
        fixed += sum(self.grid.itemAtPosition(1 + 2 * i, 0).sizeHint().height()
                     for i in range(len(rows)))
        fixed += sum(REASON_HEIGHT for s in showing if not s)
        m = self.grid.contentsMargins()
        fixed += self.grid.verticalSpacing() * 2 * len(rows) + m.top() + m.bottom()
        n = max(1, sum(showing))
        share = max(VIEW_HEIGHT, (self.scroll.viewport().height() - fixed) // n)
        for (name, views), show in zip(rows, showing):
            for v in views:
                v.setFixedHeight(share if show else REASON_HEIGHT)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_rows()

    def _describe(self, epoch: int) -> str:
        """``epoch 12``, and where runs without that epoch are shown instead."""
        behind = []
        for c in self.columns:
            e = None if c.state is None else c.state.nearest_epoch(epoch)
            if e is not None and e != epoch:
                behind.append(f"{c.label} at {e}")
        return f"epoch {epoch}" + (f" ({', '.join(behind)})" if behind else "")

    def views(self, name: str) -> list[QWidget]:
        """The panels of view ``name``, one per run (for tests and exports)."""
        return [c.views[name] for c in self.columns if name in c.views]
