"""Samples: new images decoded from codes drawn from the prior N(0, I) (a VAE's, a GAN's).

The same seed is kept across epochs, so replaying the timeline shows the
same codes turn into better images; Refresh draws a new set. "Mean" shows the
likelihood's mean E[x|z] of each code; "Sample of p(x|z)" one draw from it
(Bernoulli pixels are 0 or 1, Gaussian ones noisy, Categorical ones one of K
levels): the decoder is a distribution. On the Training tab the panel follows the run
model (:mod:`gui.run.following`); what it shows follows the family's
:class:`~engine.models.ModelTraits` (samples, or why there are none).
"""

from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPushButton, QSpinBox,
                               QVBoxLayout, QWidget)

from engine.data.toy2d import is_point_data
from engine.decoding import LatentDecoder
from engine.models import family_class
from engine.tiles import grid_shape, tile, to_display
from gui.run.following import FollowsModel
from gui.widgets.image_pane import ImagePane
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

NOT_VARIATIONAL = ("This run is not variational, so it has no prior to sample: tick "
                   "'variational' in the run settings and train to see samples.")
POINT_SAMPLES = "For 2-D points the samples are the orange points in data space."
NO_RUN = "Samples from the prior N(0, I) appear here after the first epoch of a variational run."


class SamplesPanel(FollowsModel, QWidget):
    """A grid of prior samples from the displayed epoch's decoder."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "samplesPanel", "Samples")
        self.pane = named(ImagePane(), "samplesImage", "Samples from the prior")
        self.count_spin = named(QSpinBox(), "sampleCountSpin", "Number of samples")
        self.count_spin.setRange(1, 256)
        self.count_spin.setValue(36)
        self.refresh_button = named(QPushButton("Refresh"), "refreshSamplesButton",
                                    "Draw new samples", "Draw a new set of codes from the prior")
        self.draw_combo = named(QComboBox(), "sampleDrawCombo", "Show the mean or a sample",
                                "Mean: E[x|z] of each code; sample: one draw from p(x|z)")
        # Short items: the panel may be 160 pixels wide; the caption says what each is.
        self.draw_combo.addItem("mean", False)
        self.draw_combo.addItem("sampled", True)
        self.draw_combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.caption = caption_label(NO_RUN, "samplesCaption", "Samples caption", wrap=True)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Samples"))
        controls.addWidget(self.count_spin)
        controls.addWidget(self.draw_combo)
        controls.addStretch(1)
        controls.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.caption)
        layout.addWidget(self.pane, 1)
        self.seed = 0
        self.decoder: LatentDecoder | None = None
        self.variational = False
        self.epoch: int | None = None
        self.refresh_button.clicked.connect(self.refresh)
        self.count_spin.valueChanged.connect(self._draw)
        self.draw_combo.currentIndexChanged.connect(lambda _i: self._draw())
        self.images = None
        self.clear()

    def clear(self) -> None:
        """No run on display (before the first one, after New run)."""
        self.set_variational(False)
        self.caption.setText(NO_RUN)

    @property
    def showing(self) -> bool:
        """Whether samples are drawn (not the reason there are none): Export figure."""
        return self.variational and self.images is not None

    def set_variational(self, variational: bool, reason: str = NOT_VARIATIONAL) -> None:
        """A new run: samples need codes from a prior N(0, I) (a VAE's, a GAN's);
        ``reason`` says why there are none otherwise."""
        self.variational = variational
        self.decoder = None
        self.pane.set_image(None)
        self.images = None
        self.refresh_button.setEnabled(variational)
        self.count_spin.setEnabled(variational)
        self.draw_combo.setEnabled(variational)
        self.caption.setText("Samples appear after the first epoch." if variational
                             else reason)

    def show_decoder(self, decoder: LatentDecoder | None, epoch: int | None = None) -> None:
        """Draw samples with ``decoder`` (the displayed epoch's)."""
        self.decoder, self.epoch = decoder, epoch
        self._draw()

    # -- following the run model (the Training tab) -------------------------------
    def on_reset(self) -> None:
        self.pane.setVisible(True)
        self.clear()

    def on_run_added(self, run) -> None:
        if run.is_classifier or self.run_model.shows_stages:
            return
        traits = family_class(run.config).traits(run.config)
        points = is_point_data(run.data.image_shape)
        self.pane.setVisible(not points)
        if points:
            self.set_variational(False, POINT_SAMPLES)
        else:
            self.set_variational(traits.prior_samples,
                                 traits.missing.get("samples", NOT_VARIATIONAL))

    def on_position(self, run, epoch: int) -> None:
        if not self.run_model.shows_stages:
            self.show_decoder(run.decoder(epoch) if self.run_model.may_build_decoders
                              else None, epoch)

    @property
    def drawing_samples(self) -> bool:
        """Whether the pane shows samples of p(x|z) (else their means)."""
        return bool(self.draw_combo.currentData())

    def set_drawing_samples(self, on: bool) -> None:
        self.draw_combo.setCurrentIndex(1 if on else 0)

    def refresh(self) -> None:
        """New codes from the prior."""
        self.seed += 1
        self._draw()

    def _draw(self) -> None:
        if not self.variational or self.decoder is None:
            return
        n = self.count_spin.value()
        draw = self.drawing_samples
        self.images = self.decoder.sample(n, seed=self.seed, draw=draw)
        self.pane.set_image(tile(to_display(self.images), grid_shape(n)[1], pad=1))
        where = f"epoch {self.epoch}, " if self.epoch is not None else ""
        kept = getattr(self.decoder, "weights_epoch", None)
        if self.epoch is not None and kept not in (None, self.epoch):
            where += f"decoding with the weights of epoch {kept}, "
        what = "one draw x ~ p(x|z) each" if draw else "the mean E[x|z] of each"
        self.caption.setText(f"{n} codes z ~ N(0, I), {what} ({where}draw {self.seed + 1})")
