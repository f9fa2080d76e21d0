"""What every view of the Code views tab shares: the interface the binders call, and the
one line that says why a view does not apply.

A view is a :class:`CodeViewPanel`: ``set_run(run)`` when a run comes on display
(the view decides whether it applies: family, data, the arrays the snapshots carry),
``show_epoch(run, epoch)`` for the epoch the replay slider or the live run shows
(it reads ``run.snapshot(epoch)`` and ``run.cpu_model(epoch)``), ``clear(why)`` and
``save_png(path)``. In the main window each view follows the run model itself
(:meth:`~gui.run.following.FollowsModel.follow`: the model's run and position, drawn
while on screen); the lessons window feeds the same panels
(:data:`gui.views.code_views.VIEW_PANELS`) one run each.

A view that does not apply shows its reason in place of its plots, never empty axes.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedLayout, QVBoxLayout, QWidget

from engine.data.toy2d import is_point_data
from engine.models import family_class
from gui.run.following import DrawsWhenShown
from gui.style import cache_axes
from gui.widgets.naming import named

NO_RUN = "Nothing on display yet: train a run or open a session."
NOT_AUTOENCODER = "{view} is a view of an autoencoder's code; a {family} has none."
OLD_SESSION = ("This session was written before {view} existed: its snapshots have no "
               "{array} (train the run again to see it).")
NO_EPOCH = "Appears after the first epoch."


class CodeViewPanel(DrawsWhenShown, QWidget):
    """Base of the code views (see the module docstring).

    Subclasses set :attr:`view_name`, :attr:`object_name`, :attr:`title`, build their
    widgets into :attr:`body`, and override :meth:`why_not` (the reason the view does
    not apply to a run, or ``""``), :meth:`prepare` (a run that applies) and
    :meth:`draw` (one epoch; a missing array raises KeyError, shown as an old session).

    Attributes
    ----------
    run : the run on display (None before one).
    epoch : the epoch drawn last (None before one).
    reason : the label that says why the view is empty.
    """

    view_name: ClassVar[str] = ""
    #: what the shown epoch decodes or encodes with, when not its own weights (see
    #: :meth:`~gui.run.state.RunState.weights_note`): said in the caption
    weights_words: str = ""
    object_name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: the snapshot array whose absence means "an old session" (see :data:`OLD_SESSION`)
    needs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, self.object_name, self.title)
        self.reason = named(QLabel(NO_RUN), f"{self.object_name}Reason",
                            f"Why {self.title.lower()} shows nothing")
        self.reason.setWordWrap(True)
        self.reason.setAlignment(Qt.AlignCenter)
        self.reason.setStyleSheet("color:#666; padding: 12px;")
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        self._stack = QStackedLayout(self)
        self._stack.addWidget(self.reason)
        self._stack.addWidget(self.body)
        self.run = None
        self.epoch: int | None = None
        self.applies = False
        self._init_following()

    # -- the interface ------------------------------------------------------------------
    def set_run(self, run) -> None:
        """A run is on display: decide whether the view applies, prepare it if so."""
        self.run, self.epoch = run, None
        why = self.why_not(run) if run is not None and run.config is not None else NO_RUN
        self.applies = not why
        if why:
            self.clear(why)
            return
        self.prepare(run)
        self._say(NO_EPOCH)

    def show_epoch(self, run, epoch: int) -> None:
        """Show ``epoch`` of ``run`` (live or stored)."""
        if run is not self.run:
            self.set_run(run)
        if not self.applies:
            return
        snap = run.snapshot(epoch)
        missing = [a for a in self.needs if a not in snap.arrays and a not in snap.images]
        if missing:
            self._say(OLD_SESSION.format(view=self.title.lower(), array=missing[0]))
            return
        self.epoch = epoch
        # On screen first: some panels (the latent explorer) draw only what is visible.
        self._stack.setCurrentWidget(self.body)
        self.draw(run, epoch, snap)

    def clear(self, why: str = "") -> None:
        """Show nothing but ``why`` (a view that does not apply, or no run)."""
        self.epoch = None
        self.reset_plots()
        self._say(why or NO_RUN)

    def save_png(self, path: str | Path) -> bool:
        return self.grab().save(str(path), "PNG")

    @property
    def showing(self) -> bool:
        """Whether the view shows data (not its reason)."""
        return self._stack.currentWidget() is self.body

    # -- for subclasses -----------------------------------------------------------------
    def why_not(self, run) -> str:
        """Why this view does not apply to ``run`` ("" when it does)."""
        return ""

    def prepare(self, run) -> None:
        """A run the view applies to (before its first epoch)."""

    def draw(self, run, epoch: int, snapshot) -> None:
        """Draw one epoch."""

    def reset_plots(self) -> None:
        """Forget what is drawn."""

    def _say(self, text: str) -> None:
        self.reason.setText(text)
        self._stack.setCurrentWidget(self.reason)


# -- what applies to whom ---------------------------------------------------------------

def epoch_words(epoch: int | None, weights_words: str = "") -> str:
    """``"epoch 7: "``, or ``"epoch 7 (decoding with the weights of epoch 1): "``."""
    if epoch is None:
        return ""
    return f"epoch {epoch} ({weights_words}): " if weights_words else f"epoch {epoch}: "


def autoencoder_reason(run, view: str) -> str:
    """"" for a run with an autoencoder's code, else why ``view`` does not apply (in the
    family's words, ``ModelTraits.missing["code"]``)."""
    traits = family_class(run.config).traits(run.config)
    if traits.autoencoder_code:
        return ""
    return NOT_AUTOENCODER.format(view=view, family=traits.missing.get(
        "code", run.config.model.family))


def images_reason(run, view: str) -> str:
    """"" for image data, else why ``view`` (made for images) does not apply."""
    if is_point_data(run.data.image_shape):
        return (f"{view} is drawn for images; this run's data are 2-D points (see the Data "
                "space view).")
    return ""


def points_reason(run, view: str) -> str:
    if not is_point_data(run.data.image_shape):
        return (f"{view} is drawn for 2-D point data (two moons, rings, spiral, 8 Gaussians); "
                "this run's data are images.")
    return ""


def quiet_plot(plot, mouse: bool = False) -> None:
    """The code views' plot style: cached axes, plain numbers (no "×0.001" prefix that
    reads like a unit), no auto-range button, and the mouse off unless asked."""
    cache_axes(plot)
    for side in ("left", "bottom"):
        plot.getAxis(side).enableAutoSIPrefix(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=mouse, y=mouse)
