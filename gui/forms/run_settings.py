"""Run settings: data, kind, architecture, objective, optimiser, device — from a preset.

Every edit rebuilds the config through :func:`~gui.forms.config_form.config_from_form`
(which ends in the engine's own ``RunConfig.validate()``); each invalid
value gets its reason in red under its field and Train is disabled until
the form is valid again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGridLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QScrollArea, QToolButton,
                               QVBoxLayout, QWidget)

from engine.config import LIKELIHOODS, OPTIMIZERS, RunConfig
from engine.validation import POINT_SOURCES
from engine.device import available_devices
from engine.presets import DEFAULT_PRESET, load_preset, preset_names
from gui.forms.config_form import GENERAL, FormValues, config_from_form, form_from_config, in_words
from gui.panels.draw_distribution import DrawDistributionPanel
from gui.forms.family_settings import FamilySettingsGroup
from gui.forms.pretrain_settings import PretrainSettingsGroup
from gui.forms.pretrain_form import KIND_NEEDS_CHECK
from gui.style import ERROR_STYLE
from gui.widgets.caption import caption_label
from gui.widgets.naming import named

SOURCES = [("Bundled MNIST (5,000 digits)", "mnist"), ("Sprites (procedural)", "sprites"),
           ("2-D points: two moons", "moons"), ("2-D points: concentric rings", "rings"),
           ("2-D points: spiral", "spiral"), ("2-D points: 8 Gaussians", "gaussians"),
           ("2-D points: draw your own", "drawn"),
           ("Data file or folder…", "file"), ("MNIST, all 60,000 (download)", "mnist-full"),
           ("Fashion-MNIST (download)", "fashion-mnist"), ("CIFAR-10 (download)", "cifar10")]
CORRUPTIONS = [("masking", "masking"), ("Gaussian noise", "gaussian"),
               ("salt and pepper", "salt_pepper")]
DATA_FILTER = "Images (*.npy *.npz *.h5 *.hdf5 *-idx3-ubyte *.idx);;All files (*)"


class RunSettingsPanel(QScrollArea):
    """The form that describes the next run.

    Signals
    -------
    validity_changed(bool) : the form became valid or invalid.
    """

    validity_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        named(self, "runSettingsPanel", "Run settings")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        body = QWidget()
        self.setWidget(body)
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(4, 4, 4, 4)
        self.error_labels: dict[str, QLabel] = {}
        #: config field -> the label of its row, which messages use instead of the field name
        self.field_labels: dict[str, str] = {}
        self.base = load_preset(DEFAULT_PRESET)
        self.errors: dict[str, str] = {}
        self._current: RunConfig | None = None
        self._loading = False
        self._build_preset_row()
        self._build_data_group()
        self._build_kind_group()
        self.family_group = FamilySettingsGroup(self._error_label)
        self._layout.addWidget(self.family_group)
        self.pretrain_group = PretrainSettingsGroup(self._error_label)
        self._layout.addWidget(self.pretrain_group)
        self._build_model_group()
        self._build_objective_group()
        self._build_optim_group()
        self.general_error = self._error_label(GENERAL)
        self._layout.addWidget(self.general_error)
        self._layout.addStretch(1)
        self.setMinimumWidth(300)
        self._connect_edits()
        self.preset_combo.setCurrentText(DEFAULT_PRESET)
        self.load_preset(DEFAULT_PRESET)

    # -- construction ---------------------------------------------------------------
    def _error_label(self, key: str) -> QLabel:
        label = named(QLabel(), f"error_{key or 'general'}".replace(".", "_"),
                      f"Problem with {key or 'the settings'}")
        label.setWordWrap(True)
        label.setStyleSheet(ERROR_STYLE)
        label.hide()
        self.error_labels[key] = label
        return label

    def _group(self, title: str, name: str) -> QGridLayout:
        box = named(QGroupBox(title), name, title)
        grid = QGridLayout(box)
        grid.setColumnStretch(1, 1)
        grid.setVerticalSpacing(3)
        self._layout.addWidget(box)
        return grid

    def _row(self, grid: QGridLayout, text: str, widget: QWidget, key: str | None) -> QLabel:
        """A labelled field and, under it, its (hidden) error label."""
        r = grid.rowCount()
        label = QLabel(text)
        label.setBuddy(widget)
        grid.addWidget(label, r, 0)
        grid.addWidget(widget, r, 1)
        if key is not None:
            grid.addWidget(self._error_label(key), r + 1, 0, 1, 2)
            self.field_labels[key] = text
        return label

    @staticmethod
    def _combo(name: str, accessible: str, items: list[tuple[str, str]]) -> QComboBox:
        combo = named(QComboBox(), name, accessible)
        for text, data in items:
            combo.addItem(text, data)
        return combo

    @staticmethod
    def _edit(name: str, accessible: str, tip: str, placeholder: str = "") -> QLineEdit:
        edit = named(QLineEdit(), name, accessible, tip)
        edit.setPlaceholderText(placeholder)
        return edit

    def _build_preset_row(self) -> None:
        grid = self._group("Start from", "presetGroup")
        self.preset_combo = self._combo("presetCombo", "Preset",
                                        [(n, n) for n in preset_names()])
        self._row(grid, "Preset", self.preset_combo, None)
        self.preset_description = caption_label("", "presetDescription", "Preset description",
                                                wrap=True, fixed_width=False)
        grid.addWidget(self.preset_description, grid.rowCount(), 0, 1, 2)
        self.kind_label = named(QLabel(), "kindSummary", "Autoencoder kind")
        grid.addWidget(self.kind_label, grid.rowCount(), 0, 1, 2)

    def _build_data_group(self) -> None:
        grid = self._group("Data", "dataGroup")
        self.source_combo = self._combo("dataSourceCombo", "Data source", SOURCES)
        # Sized by a short text, not the longest item: the panel is narrow.
        self.source_combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.source_combo.setMinimumContentsLength(14)
        self._row(grid, "Source", self.source_combo, "data.source")
        self.path_edit = self._edit("dataPathEdit", "Data file path",
                                    "A .npy, .npz, .h5, MNIST IDX file or a folder of images")
        self.browse_button = named(QToolButton(), "browseDataButton", "Browse for a data file")
        self.browse_button.setText("File…")
        self.browse_button.clicked.connect(lambda: self.browse_for_data())
        path_row = QWidget()
        h = QHBoxLayout(path_row)
        h.setContentsMargins(0, 0, 0, 0)
        self.folder_button = named(QToolButton(), "browseFolderButton", "Browse for a folder",
                                   "A folder of images (a subfolder per class, or all in one)")
        self.folder_button.setText("Folder…")
        self.folder_button.clicked.connect(lambda: self.browse_for_data(folder=True))
        self.path_edit.setMinimumWidth(40)  # the row must fit the narrow panel with two buttons
        h.addWidget(self.path_edit, 1)
        h.addWidget(self.browse_button)
        h.addWidget(self.folder_button)
        self.path_label = self._row(grid, "File", path_row, "data.path")
        self.path_row = path_row
        self.draw_panel = DrawDistributionPanel()
        grid.addWidget(self.draw_panel, grid.rowCount(), 0, 1, 2)
        grid.addWidget(self._error_label("data.points"), grid.rowCount(), 0, 1, 2)
        self.field_labels["data.points"] = "The drawing"
        self.limit_edit = self._edit("dataLimitEdit", "Image limit",
                                     "Use at most this many images (blank: all)", "all")
        self._row(grid, "Limit", self.limit_edit, "data.limit")
        self.image_size_edit = self._edit("dataImageSizeEdit", "Image size", "Every image's "
                                          "centre square resized to this side (blank: keep "
                                          "their size; photos of mixed sizes need one)", "own size")
        self.image_size_label = self._row(grid, "Image size", self.image_size_edit,
                                          "data.image_size")

    def _build_kind_group(self) -> None:
        grid = self._group("Kind (combine freely; none = plain)", "kindGroup")
        self.kind_box = grid.parentWidget()
        self.kind_checks = {}
        for i, (key, text, tip) in enumerate((
                ("sparse", "sparse", "L1 penalty on the code"),
                ("contractive", "contractive", "penalty on the encoder's Jacobian"),
                ("denoising", "denoising", "reconstruct clean images from corrupted inputs"),
                ("variational", "variational", "a VAE: stochastic code, KL to N(0, I)"))):
            box = named(QCheckBox(text), f"kind{key.title()}Check", f"{text} autoencoder", tip)
            self.kind_checks[key] = box
            grid.addWidget(box, i // 2, i % 2)

    def _build_model_group(self) -> None:
        grid = self._group("Architecture", "architectureGroup")
        self.architecture_box = grid.parentWidget()
        self.arch_combo = self._combo("architectureCombo", "Architecture",
                                      [("MLP (fully connected)", "mlp"),
                                       ("Convolutional", "conv")])
        self._row(grid, "Type", self.arch_combo, "model.architecture")
        self.hidden_edit = self._edit("hiddenWidthsEdit", "Hidden widths",
                                      "Encoder layer widths (conv: channels), e.g. 512, 256; "
                                      "the decoder mirrors them", "e.g. 512, 256")
        self._row(grid, "Hidden", self.hidden_edit, "model.hidden")
        self.latent_edit = self._edit("latentSizeEdit", "Latent size",
                                      "Dimensions of the code (2 draws the map directly)")
        self._row(grid, "Latent size", self.latent_edit, "model.latent_dim")

    def _build_objective_group(self) -> None:
        grid = self._group("Objective", "objectiveGroup")
        self.likelihood_combo = self._combo("likelihoodCombo", "Likelihood",
                                            [(n.title(), n) for n in LIKELIHOODS])
        self._row(grid, "Likelihood", self.likelihood_combo, "objective.likelihood")
        self.sparsity_edit = self._edit("sparsityEdit", "Lambda sparsity",
                                        "Weight of the L1 penalty on the code")
        self._row(grid, "λ sparsity", self.sparsity_edit, "objective.sparsity")
        self.contractive_edit = self._edit("contractiveEdit", "Lambda contractive",
                                           "Weight of the Jacobian penalty")
        self._row(grid, "λ contractive", self.contractive_edit, "objective.contractive")
        self.beta_edit = self._edit("betaEdit", "Beta", "Weight of the KL term (VAE)")
        self._row(grid, "β (KL weight)", self.beta_edit, "objective.beta")
        self.corruption_combo = self._combo("corruptionCombo", "Corruption type", CORRUPTIONS)
        self._row(grid, "Corruption", self.corruption_combo, "objective.corruption")
        self.level_edit = self._edit("corruptionLevelEdit", "Corruption level",
                                     "Masking / salt-and-pepper: fraction of pixels (0-1); "
                                     "Gaussian: noise std")
        self._row(grid, "Level", self.level_edit, "objective.corruption_level")

    def _build_optim_group(self) -> None:
        grid = self._group("Optimisation", "optimisationGroup")
        self.optimizer_combo = self._combo("optimizerCombo", "Optimiser",
                                           [(n, n) for n in OPTIMIZERS])
        self._row(grid, "Optimiser", self.optimizer_combo, "optim.optimizer")
        self.lr_edit = self._edit("learningRateEdit", "Learning rate", "e.g. 0.001 or 1e-3")
        self._row(grid, "Learning rate", self.lr_edit, "optim.lr")
        self.batch_edit = self._edit("batchSizeEdit", "Batch size", "Images per step")
        self._row(grid, "Batch size", self.batch_edit, "optim.batch_size")
        self.epochs_edit = self._edit("epochsEdit", "Epochs", "Passes over the training set")
        self.epochs_label = self._row(grid, "Epochs", self.epochs_edit, "optim.epochs")
        devices = available_devices()
        self.device_combo = self._combo("deviceCombo", "Device",
                                        [(f"auto ({devices[0]})", "auto")]
                                        + [(d, d) for d in devices])
        self.device_combo.setToolTip("Devices on this machine: " + ", ".join(devices))
        self._row(grid, "Device", self.device_combo, "device")
        self.seed_edit = self._edit("seedEdit", "Seed", "Same seed, same run")
        self._row(grid, "Seed", self.seed_edit, "seed")

    def _connect_edits(self) -> None:
        self.preset_combo.currentIndexChanged.connect(
            lambda _i: self.load_preset(self.preset_combo.currentData()))
        for combo in (self.source_combo, self.arch_combo, self.likelihood_combo,
                      self.corruption_combo, self.optimizer_combo, self.device_combo):
            combo.currentIndexChanged.connect(self._revalidate)
        for edit in (self.path_edit, self.limit_edit, self.image_size_edit, self.hidden_edit,
                     self.latent_edit,
                     self.sparsity_edit, self.contractive_edit, self.beta_edit, self.level_edit,
                     self.lr_edit, self.batch_edit, self.epochs_edit, self.seed_edit):
            edit.textChanged.connect(self._revalidate)
        for box in self.kind_checks.values():
            box.toggled.connect(self._revalidate)
        self.pretrain_group.changed.connect(self._revalidate)
        self.draw_panel.points_changed.connect(self._revalidate)
        self.family_group.changed.connect(self._revalidate)
        self.pretrain_group.toggled.connect(self._on_pretraining_toggled)
        self.pretrain_group.kind_chosen.connect(self._on_stage_kind_chosen)

    # -- values ---------------------------------------------------------------------
    def values(self) -> FormValues:
        """The form as entered."""
        k = self.kind_checks
        return FormValues(
            source=self.source_combo.currentData(), path=self.path_edit.text(),
            points=self.draw_panel.text(),
            limit=self.limit_edit.text(), image_size=self.image_size_edit.text(),
            sparse=k["sparse"].isChecked(),
            contractive=k["contractive"].isChecked(), denoising=k["denoising"].isChecked(),
            variational=k["variational"].isChecked(), architecture=self.arch_combo.currentData(),
            hidden=self.hidden_edit.text(), latent_dim=self.latent_edit.text(),
            likelihood=self.likelihood_combo.currentData(), sparsity=self.sparsity_edit.text(),
            contractive_weight=self.contractive_edit.text(), beta=self.beta_edit.text(),
            corruption=self.corruption_combo.currentData(),
            corruption_level=self.level_edit.text(),
            optimizer=self.optimizer_combo.currentData(), lr=self.lr_edit.text(),
            batch_size=self.batch_edit.text(), epochs=self.epochs_edit.text(),
            device=self.device_combo.currentData(), seed=self.seed_edit.text(),
            pretraining=self.pretrain_group.values(), family=self.family_group.values())

    def set_values(self, v: FormValues) -> None:
        self._loading = True
        try:
            for combo, value in ((self.source_combo, v.source), (self.arch_combo, v.architecture),
                                 (self.likelihood_combo, v.likelihood),
                                 (self.corruption_combo, v.corruption),
                                 (self.optimizer_combo, v.optimizer),
                                 (self.device_combo, v.device)):
                i = combo.findData(value)
                combo.setCurrentIndex(i if i >= 0 else 0)
            for edit, text in ((self.path_edit, v.path), (self.limit_edit, v.limit),
                               (self.image_size_edit, v.image_size),
                               (self.hidden_edit, v.hidden), (self.latent_edit, v.latent_dim),
                               (self.sparsity_edit, v.sparsity),
                               (self.contractive_edit, v.contractive_weight),
                               (self.beta_edit, v.beta), (self.level_edit, v.corruption_level),
                               (self.lr_edit, v.lr), (self.batch_edit, v.batch_size),
                               (self.epochs_edit, v.epochs), (self.seed_edit, v.seed)):
                edit.setText(text)
            for key, box in self.kind_checks.items():
                box.setChecked(getattr(v, key))
            self.pretrain_group.set_values(v.pretraining)
            self.family_group.set_values(v.family)
            self.draw_panel.set_text(v.points)
        finally:
            self._loading = False
        self._revalidate()

    def set_config(self, cfg: RunConfig) -> None:
        """Show ``cfg``; fields the form lacks keep ``cfg``'s values.

        The preset row follows too (an opened session showed the preset picked
        before it), without reloading the preset.
        """
        self.base = cfg
        index = self.preset_combo.findData(cfg.name)
        if index >= 0 and index != self.preset_combo.currentIndex():
            self.preset_combo.blockSignals(True)
            self.preset_combo.setCurrentIndex(index)
            self.preset_combo.blockSignals(False)
        self.preset_description.setText(cfg.description or f"Config '{cfg.name}'.")
        self.set_values(form_from_config(cfg))

    def load_preset(self, name: str) -> None:
        self.set_config(load_preset(name))

    def config(self) -> RunConfig | None:
        """The validated config, or None while a field is invalid."""
        return self._current

    def set_editable(self, editable: bool) -> None:
        """Lock the form while a run trains (its config is fixed for the run)."""
        self.widget().setEnabled(editable)

    def browse_for_data(self, folder: bool = False) -> None:
        path = (QFileDialog.getExistingDirectory(self, "Open a folder of images",
                                                 self.path_edit.text()) if folder else
                QFileDialog.getOpenFileName(self, "Open a data file", self.path_edit.text(),
                                            DATA_FILTER)[0])
        if path:
            self.source_combo.setCurrentIndex(self.source_combo.findData("file"))
            self.path_edit.setText(path)

    # -- validation -----------------------------------------------------------------
    def _revalidate(self, *_args) -> None:
        if self._loading:
            return
        v = self.values()
        self._enable_dependent_fields(v)
        cfg, errors = config_from_form(self.base, v)
        self._current, self.errors = cfg, errors
        for key, label in self.error_labels.items():
            text = errors.get(key)
            label.setText(in_words(text, self.field_labels) if text else "")
            label.setVisible(bool(text))
        unplaced = [in_words(m, self.field_labels) for k, m in errors.items()
                    if k not in self.error_labels]
        if unplaced:
            self.general_error.setText("\n".join(unplaced))
            self.general_error.show()
        self.kind_label.setText(f"Kind: <b>{cfg.kind_label()}</b>" if cfg
                                else "Kind: fix the fields marked in red")
        if cfg is not None:   # the preset's text, saying the data chosen
            self.preset_description.setText(cfg.description or f"Config '{cfg.name}'.")
        self.validity_changed.emit(cfg is not None)

    def _enable_dependent_fields(self, v: FormValues) -> None:
        self.path_row.setVisible(v.source == "file")
        self.path_label.setVisible(v.source == "file")
        self.draw_panel.setVisible(v.source == "drawn")
        for w in (self.image_size_edit, self.image_size_label):  # 2-D points have no size
            w.setVisible(v.source not in POINT_SOURCES + ("drawn",))
        self.sparsity_edit.setEnabled(v.sparse)
        self.contractive_edit.setEnabled(v.contractive)
        self.beta_edit.setEnabled(v.variational)
        self.corruption_combo.setEnabled(v.denoising)
        self.level_edit.setEnabled(v.denoising)
        # Pretraining mode: the stage fields replace Architecture and Epochs, and the
        # stages are deterministic one-layer MLP autoencoders.
        pre = v.pretraining.enabled
        self.architecture_box.setVisible(not pre)
        self.epochs_label.setVisible(not pre)
        self.epochs_edit.setVisible(not pre)
        self.kind_checks["variational"].setEnabled(not pre)
        # The kinds are an autoencoder's regularisers; a GAN or an RBM has its own group.
        autoencoder = v.family.family == "autoencoder"
        self.kind_box.setEnabled(autoencoder)
        self.kind_box.setToolTip("" if autoencoder else
                                 f"Kinds are autoencoder regularisers: a {v.family.family} "
                                 "uses none of them")
        self.pretrain_group.set_available(
            pre or (v.architecture == "mlp" and autoencoder),
            "Greedy layer-wise pretraining stacks fully connected layers of an autoencoder: "
            "choose an autoencoder preset with the MLP architecture to use it"
            if not autoencoder else
            "Greedy layer-wise pretraining stacks fully connected layers: choose the MLP "
            "architecture to use it")

    def _on_pretraining_toggled(self, on: bool) -> None:
        if on and self.kind_checks["variational"].isChecked():
            self.kind_checks["variational"].setChecked(False)  # stages are deterministic

    def _on_stage_kind_chosen(self, kind: str) -> None:
        """A stage kind needs its regulariser's strength: tick its Kind box for the user."""
        check = KIND_NEEDS_CHECK.get(kind)
        if check and not self.kind_checks[check].isChecked():
            self.kind_checks[check].setChecked(True)
