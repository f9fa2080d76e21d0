"""Routes a run's data — live events or a session file — into the panels.

:class:`RunDisplay` owns the :class:`~gui.run_record.RunRecord` on screen
and keeps every panel on the same epoch: the replay timeline picks it, and
the reconstructions, latent map, explorer decoder, samples and the loss
plot's marker follow. It computes nothing itself.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine.config import RunConfig
from engine.errors import StudioError
from engine.events import EpochEnded, EpochSnapshot, RunStarted
from engine.session import Session
from gui.coalescing import MetricsBatch
from gui.panels.latent_explorer import LatentExplorerPanel
from gui.panels.loss_curves import LossCurvesPanel
from gui.panels.reconstructions import ReconstructionsPanel
from gui.panels.replay_timeline import ReplayTimelinePanel
from gui.panels.samples import SamplesPanel
from gui.run_record import RunRecord, SessionSnapshots, term_order

HISTORY_META = ("step", "epoch", "wall_time")


class RunDisplay(QObject):
    """Keeps the panels showing one run at one epoch.

    Signals
    -------
    epoch_shown(int) : the panels now show this epoch.
    problem(str) : something could not be shown (e.g. a damaged snapshot).
    run_shown : a run (live or opened) took over the panels.
    """

    epoch_shown = Signal(int)
    problem = Signal(str)
    run_shown = Signal()

    def __init__(self, loss: LossCurvesPanel, reconstructions: ReconstructionsPanel,
                 explorer: LatentExplorerPanel, samples: SamplesPanel,
                 timeline: ReplayTimelinePanel, parent: QObject | None = None):
        super().__init__(parent)
        self.loss, self.reconstructions, self.explorer = loss, reconstructions, explorer
        self.samples, self.timeline = samples, timeline
        self.record: RunRecord | None = None
        self.displayed_epoch: int | None = None
        timeline.epoch_selected.connect(self.show_epoch)

    # -- starting ---------------------------------------------------------------------
    def begin(self, record: RunRecord) -> None:
        """Show a new run from scratch (no epochs yet)."""
        self.release()
        self.record = record
        self.displayed_epoch = None
        self.loss.reset(record.term_names)
        self.reconstructions.set_run(record.data, record.denoising)
        self.explorer.set_run(record.config, record.data)
        self.samples.set_variational(record.config.model.variational)
        self.timeline.set_epochs([])
        self.run_shown.emit()

    def begin_live(self, ev: RunStarted, session_path) -> RunRecord:
        """A fresh run started training: a new record from its start event."""
        config = RunConfig.from_json(ev.config_json)
        record = RunRecord(config=config, data=ev.data,
                           term_names=term_order(config, ev.term_names),
                           session_path=session_path)
        self.begin(record)
        self.loss.plan_steps(ev.total_epochs * ev.steps_per_epoch)
        return record

    def continue_live(self, ev: RunStarted) -> None:
        """A resumed run started: drop what it will train again, keep the rest."""
        rec = self.record
        rec.drop_after(ev.start_epoch - 1)
        self.loss.truncate_after(ev.start_step)
        self.loss.plan_steps(ev.total_epochs * ev.steps_per_epoch)
        self.timeline.set_epochs(rec.epochs(), select=self.displayed_epoch)

    def load_session(self, session: Session) -> RunRecord:
        """Show an opened session: its history, validation curves and saved epochs."""
        h = session.history
        terms = term_order(session.config, [k for k in h if k not in HISTORY_META])
        record = RunRecord(config=session.config, data=session.data, term_names=terms,
                           stored=SessionSnapshots(session.path, session),
                           session_path=session.path)
        self.begin(record)
        if len(h.get("step", ())):
            self.loss.append_rows(h["step"], h["epoch"], {k: h[k] for k in terms})
        eh = session.epoch_history
        val = eh.get("val", {})
        for i, step in enumerate(eh.get("step", [])):
            self.loss.add_validation(int(step), {k: float(v[i]) for k, v in val.items()
                                                 if np.isfinite(v[i])})
        self.loss.redraw()
        self.timeline.set_epochs(record.epochs())
        return record

    def release(self) -> None:
        """Close the displayed session's file (it stays readable on demand)."""
        if self.record is not None and self.record.stored is not None:
            self.record.stored.release()

    # -- live events ------------------------------------------------------------------
    def on_metrics(self, batch: MetricsBatch) -> None:
        self.loss.append(batch)

    def on_epoch_ended(self, ev: EpochEnded) -> None:
        self.loss.add_validation(ev.step, ev.val)

    def on_snapshot(self, snap: EpochSnapshot) -> None:
        if self.record is None:
            return
        known = snap.epoch in self.timeline.epochs
        self.record.add_snapshot(snap)
        self.timeline.add_epoch(snap.epoch)     # a new epoch: the timeline follows the run
        if known and self.displayed_epoch == snap.epoch:  # retrained after a resume
            self.show_epoch(snap.epoch)

    # -- replay ------------------------------------------------------------------------
    def show_epoch(self, epoch: int) -> None:
        """Show ``epoch`` in every panel."""
        rec = self.record
        if rec is None:
            return
        try:
            snap = rec.snapshot(epoch)
        except (StudioError, KeyError) as e:
            self.problem.emit(f"Epoch {epoch} cannot be shown: {e}")
            return
        decoder = rec.decoder(epoch)
        self.displayed_epoch = epoch
        self.reconstructions.show_snapshot(snap)
        self.explorer.show_snapshot(snap, decoder)
        self.samples.show_decoder(decoder, epoch)
        self.loss.mark_epoch(snap.step, epoch)
        self.epoch_shown.emit(epoch)
