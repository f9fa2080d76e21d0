"""How a panel subscribes to the :class:`~gui.run.model.RunModel`: napari's pattern, where a
layer's controls connect to the layer's events themselves, with nothing in between.

A panel that follows the model mixes in :class:`FollowsModel` and overrides the
``on_<event>`` methods of the events it needs; :meth:`FollowsModel.follow` connects
exactly those (a panel that draws nothing per step never hears ``metrics``). The
events and their arguments are the model's (:class:`~gui.run.model.RunModel`).

:class:`DrawsWhenShown` adds what a costly view wants on top: the position is
remembered, and drawn once per pass of the event loop and only while the panel is on
screen; a panel on a hidden tab catches up when it is shown.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer

#: the model's events a follower may override, as ``on_<name>``
EVENTS = ("reset", "run_added", "run_changed", "metrics", "validation", "snapshot_added",
          "position", "job_started")


class FollowsModel:
    """Mixin: ``follow(model)`` connects the ``on_<event>`` methods a subclass overrides.

    Attributes
    ----------
    run_model : the followed :class:`~gui.run.model.RunModel` (None before :meth:`follow`).
    """

    run_model = None

    def follow(self, model) -> None:
        """Subscribe to ``model``'s events (those this class has an ``on_<event>`` for)."""
        self.run_model = model
        for name in EVENTS:
            if hasattr(self, f"on_{name}"):
                getattr(model, name).connect(getattr(self, f"on_{name}"))


class DrawsWhenShown(FollowsModel):
    """Mixin for a QWidget view of one epoch (see the module docstring).

    The subclass provides ``set_run(run)``, ``show_epoch(run, epoch)`` and
    ``clear(why)`` (the code views' interface, :class:`~gui.panels.code_view.CodeViewPanel`)
    and calls :meth:`_init_following` in its ``__init__``.

    Attributes
    ----------
    pending : ``(run, epoch)`` the model asks for and the view has not drawn yet.
    """

    pending = None
    _drawn_key: tuple | None = None

    def _init_following(self) -> None:
        self._follow_timer = QTimer(self, singleShot=True, interval=0)
        self._follow_timer.timeout.connect(self.catch_up)

    # -- the model's events ---------------------------------------------------------------
    def on_reset(self) -> None:
        self.pending, self._drawn_key = None, None
        self.clear("")

    def on_run_added(self, run) -> None:
        """Say at once whether the view applies to the new run (cheap; no epoch yet)."""
        if run.is_classifier or run.config is None:
            return
        if self.pending is None or self.pending[0] is not run:
            self.set_run(run)
            self._drawn_key = None

    def on_position(self, run, epoch: int) -> None:
        self.pending = (run, epoch)
        self._schedule_catch_up()

    # -- drawing --------------------------------------------------------------------------
    def follows_off_screen(self) -> bool:
        """Whether the view draws while hidden (e.g. a drawing whose marker shows elsewhere)."""
        return False

    def catch_up(self, hidden_too: bool = False) -> None:
        """Draw the pending position now if the view is on screen (``hidden_too``: anyway)."""
        if self.pending is None:
            return
        if not (hidden_too or self.isVisible() or self.follows_off_screen()):
            return   # showEvent catches up
        if self.run_model is not None and not self.run_model.may_build_decoders:
            self._follow_timer.start(50)   # a trainer is being built (it seeds torch's RNG): later
            return
        run, epoch = self.pending
        try:
            key = (run.run_id, epoch, run.snapshot(epoch).step)
        except Exception:  # noqa: BLE001 - the view says nothing of an epoch it cannot read
            return
        if key == self._drawn_key:
            return
        self._drawn_key = key
        try:
            self.show_epoch(run, epoch)
        except Exception as e:  # noqa: BLE001 - a damaged epoch: this view says so, not all
            self.clear(f"Epoch {epoch} cannot be shown here: {e}")

    def _schedule_catch_up(self) -> None:
        if self.pending is not None and not self._follow_timer.isActive():
            self._follow_timer.start(0)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        self._schedule_catch_up()
