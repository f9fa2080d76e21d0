"""Following, in the window, a session that another process is writing.

``main.py train --out run.h5`` in a terminal, or a run on another machine
writing to a shared folder: opened in the window, the session is followed.
:class:`SessionFollower` looks at the file's identity a few times a second
(:class:`~engine.session.follow.FileWatch`, no open); when a commit has
replaced it, it reads the newest version and merges it into the window's
:class:`~gui.run.model.RunModel` (:func:`merge_session`): the new steps go
to the loss plot, the new epochs to the replay timeline — which follows
them while it sits on the newest — and the status to the status bar, which
says "following" while the run trains and when it ended.

Nothing is locked on either side: the writer never writes the published
file, and the follower keeps no file open between reads.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from engine.errors import StudioError
from engine.events import StepMetrics
from engine.session import Session
from engine.session.follow import FileWatch, open_released
from gui.run.coalescing import MetricsBatch
from gui.run.model import RunModel
from gui.run.state import RunState
from gui.widgets.naming import named

INTERVAL_MS = 500
QUIET_S = 120    # no commit for this long while 'running': the writer may have stopped


def merge_session(model: RunModel, session: Session) -> bool:
    """Bring ``model`` (showing an earlier version of ``session``'s file) up to date.

    Emits the model's events as live training would: ``metrics`` for new steps,
    ``validation`` and ``run_changed`` for new epochs, ``snapshot_added`` for new
    snapshots, ``run_added`` for new runs. A run that went back (resumed from an
    earlier checkpoint, which truncates it) reloads the whole session.

    Returns
    -------
    True when anything changed.
    """
    changed = False
    for stored in session.runs.values():
        run = model.runs.get(stored.run_id)
        if run is None:
            model.add_stored_run(stored)
            changed = True
            continue
        if stored.last_step < run.last_step or stored.epochs_trained < run.last_epoch:
            model.load_session(session)
            return True
        changed |= _merge_run(model, run, stored)
    return changed


def _merge_run(model: RunModel, run: RunState, stored) -> bool:
    before_step, before_epoch = run.last_step, run.last_epoch
    run.stored = stored
    h = stored.history
    new = np.asarray(h.get("step", ()), np.int64) > before_step
    changed = False
    if new.any():
        terms = {k: np.asarray(h[k][new], np.float64) for k in run.term_names if k in h}
        steps, epochs = h["step"][new], h["epoch"][new]
        wall = np.asarray(h["wall_time"][new], np.float64)
        last = StepMetrics(epoch=int(epochs[-1]), step=int(steps[-1]), batch=0, batches=0,
                           terms={k: float(v[-1]) for k, v in terms.items()},
                           samples_per_sec=0.0, wall_time=float(wall[-1]))
        run.last_step = int(steps[-1])
        model.metrics.emit(run, MetricsBatch(steps=steps, epochs=epochs, wall_time=wall,
                                             terms=terms, last=last))
        changed = True
    eh = stored.epoch_history
    for i, epoch in enumerate(eh["epoch"]):
        if epoch <= before_epoch:
            continue
        val = {t: float(v[i]) for t, v in eh["val"].items()}
        for part, store in (("train", run.train), ("val", run.val)):
            for term, values in eh.get(part, {}).items():
                store.setdefault(term, {})[int(epoch)] = float(values[i])
        run.last_epoch = int(epoch)
        model.validation.emit(run, int(eh["step"][i]), val)
        changed = True
    added = [e for e in stored.snapshot_epochs if e not in run.stored_epochs]
    run.stored_epochs = list(stored.snapshot_epochs)
    for e in added:
        model.snapshot_added.emit(run, e)
    status = (stored.status, stored.status_message)
    if changed or added or status != (run.status, run.message):
        run.status, run.message = status
        run.planned_epochs = max(run.planned_epochs, stored.config.optim.epochs)
        model.run_changed.emit(run)
        return True
    return False


class SessionFollower(QObject):
    """Follows the session the window shows (see the module docstring).

    Parameters
    ----------
    window : the :class:`~gui.windows.main_window.MainWindow`; the follower puts its label in the
        status bar and stops when the window shows something else or trains itself.
    """

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.label = named(QLabel(), "followLabel", "Following the session file")
        self.label.setStyleSheet("color:#0b3a5d;")
        window.statusBar().addWidget(self.label)
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.poll)
        self.watch: FileWatch | None = None
        self.ended_at: str | None = None
        window.controller.state_changed.connect(lambda _state: self._check_still_shown())

    @property
    def following(self) -> bool:
        return self.watch is not None

    def watch_session(self, session: Session) -> None:
        """Follow ``session``'s file from now on (the window has just shown it)."""
        session.release()      # a handle kept open would pin this version for the writer
        self.watch = FileWatch(session.path)
        self.ended_at = None
        self._update_label()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.watch = None
        self.label.setText("")

    def _runs(self) -> list[RunState]:
        return self.window.model.training_runs() + self.window.model.classifier_runs()

    def _check_still_shown(self) -> bool:
        w = self.window
        if self.watch is None:
            return False
        if w.controller.is_running() or w.model.session_path is None or \
                Path(w.model.session_path) != self.watch.path:
            self.stop()
            return False
        return True

    def poll(self) -> None:
        """Read the file again if a commit replaced it; refresh the status bar."""
        if not self._check_still_shown():
            return
        if self.watch.changed():
            try:
                session = open_released(self.watch.path)
            except StudioError as e:   # a damaged new version: say so, try again later
                self.label.setText(f"following {self.watch.path.name}: cannot read it now "
                                   f"({e})")
                return
            model = self.window.model
            running_before = any(r.status == "running" for r in self._runs())
            if merge_session(model, session):
                model.session_path = session.path
            running_now = any(r.status == "running" for r in self._runs())
            if running_before and not running_now:
                self.ended_at = datetime.fromtimestamp(self.watch.changed_at).strftime("%H:%M:%S")
                self.window.timeline_panel.flush_follow()
            primary = session.run()
            self.window.sessions.session_label.setText(f"Session: {session.path} ({primary.status})")
            if not running_now:
                self.window.update_can_continue()
        self._update_label()

    def _update_label(self) -> None:
        runs = self._runs()
        name = self.watch.path.name
        running = [r for r in runs if r.status == "running"]
        if running:
            r = running[-1]
            quiet = self.watch.quiet_seconds
            words = f"following {name}: epoch {r.last_epoch} of {r.planned_epochs}" + (
                f" · no new epoch for {quiet / 60:.0f} min (has the writer stopped?)"
                if quiet > QUIET_S else "")
            # Training in this window would write the file the other process writes.
            self.window.controls_panel.set_can_continue(False)
        else:
            last = runs[-1] if runs else None
            what = last.status if last is not None else "ended"
            when = f" at {self.ended_at}" if self.ended_at else ""
            words = f"{name}: the run ended ({what}){when}" if self.ended_at else ""
        self.label.setText(words)

