"""Run settings: data, kind, architecture, objective, optimiser, device — from a preset.

The groups and their rows are generated from the config fields' descriptions
(:mod:`engine.fields`: label, help, choices, which group). Every edit rebuilds
the config through :func:`~gui.forms.config_form.config_from_form` (which
ends in the engine's own ``RunConfig.validate()``); each invalid
value gets its reason in red under its field and Train is disabled until
the form is valid again.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGridLayout, QGroupBox,
                               QLabel, QLineEdit, QScrollArea, QToolButton, QVBoxLayout,
                               QWidget)

from engine.config import RunConfig
from engine.device import available_devices
from engine.models import FAMILIES
from engine.presets import DEFAULT_PRESET, load_preset, preset_names
from gui.forms.config_form import (GENERAL, FormValues, config_from_form, form_fields,
                                   form_from_config, in_words, kinds, shown)
from gui.forms.field_widgets import (add_row, field_widget, form_grid, on_change, set_value,
                                    value_of)
from gui.forms.draw_distribution import DrawDistributionPanel
from gui.forms.family_settings import FamilySettingsGroup
from gui.forms.pretrain_settings import PretrainSettingsGroup
from gui.forms.pretrain_form import KIND_NEEDS_CHECK
from gui.style import ERROR_STYLE
from gui.widgets.caption import caption_label
from gui.widgets.frame import row_of
from gui.widgets.naming import named

#: The form's groups in order: a field's ``form`` metadata names its group (title, objectName).
GROUPS = {"Data": ("Data", "dataGroup"),
          "Kind": ("Kind (combine freely; none = plain)", "kindGroup"),
          "Architecture": ("Architecture", "architectureGroup"),
          "Objective": ("Objective", "objectiveGroup"),
          "Optimisation": ("Optimisation", "optimisationGroup")}
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
        #: dotted config key -> its widget, and the widgets of its row (shown or hidden)
        self.widgets: dict[str, QWidget] = {}
        self.rows: dict[str, list[QWidget]] = {}
        self.boxes: dict[str, QWidget] = {}
        self._build_preset_row()
        self._build_fields()
        self.source_combo = self.widgets["data.source"]
        self.architecture_box = self.boxes["Architecture"]
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
        self._layout.addWidget(box)
        return form_grid(box)

    def _row(self, grid: QGridLayout, text: str, widget: QWidget, key: str | None) -> QLabel:
        """A labelled field and, under it, its (hidden) error label."""
        if key is None:
            return add_row(grid, text, widget)
        self.field_labels[key] = text
        return add_row(grid, text, widget, self._error_label(key))

    def _build_preset_row(self) -> None:
        grid = self._group("Start from", "presetGroup")
        self.preset_combo = named(QComboBox(), "presetCombo", "Preset")
        for n in preset_names():
            self.preset_combo.addItem(n, n)
        self._row(grid, "Preset", self.preset_combo, None)
        self.preset_description = caption_label("", "presetDescription", "Preset description",
                                                wrap=True, fixed_width=False)
        grid.addWidget(self.preset_description, grid.rowCount(), 0, 1, 2)
        self.kind_label = named(QLabel(), "kindSummary", "Autoencoder kind")
        grid.addWidget(self.kind_label, grid.rowCount(), 0, 1, 2)

    def _build_fields(self) -> None:
        """Every group of described fields, the family's and pretraining's in between."""
        fields = form_fields()
        for group, (title, name) in GROUPS.items():
            if group == "Kind":
                self._build_kind_group(title, name)
                self.family_group = FamilySettingsGroup(self._error_label)
                self._layout.addWidget(self.family_group)
                self.pretrain_group = PretrainSettingsGroup(self._error_label)
                self._layout.addWidget(self.pretrain_group)
                continue
            grid = self._group(title, name)
            self.boxes[group] = grid.parentWidget()
            for key, fi in fields:
                if fi.get("form") == group:
                    self._build_field(grid, key, fi)

    def _build_field(self, grid: QGridLayout, key: str, fi) -> None:
        kind = fi.get("widget")
        if kind == "drawing":
            self.draw_panel = DrawDistributionPanel()
            grid.addWidget(self.draw_panel, grid.rowCount(), 0, 1, 2)
            grid.addWidget(self._error_label(key), grid.rowCount(), 0, 1, 2)
            self.field_labels[key] = fi.label
            self.widgets[key], self.rows[key] = self.draw_panel, [self.draw_panel]
            return
        devices = available_devices()
        w = field_widget(key, fi, [(f"auto ({devices[0]})", "auto")]
                         + [(d, d) for d in devices] if kind == "device" else None)
        if kind == "device":
            w.setToolTip("Devices on this machine: " + ", ".join(devices))
        if isinstance(w, QComboBox) and key == "data.source":
            # Sized by a short text, not the longest item: the panel is narrow.
            w.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            w.setMinimumContentsLength(14)
        if isinstance(w, QComboBox) and "off" in fi.meta:   # unticking the kind is "off"
            w.removeItem(w.findData(fi.get("off")))
        self.widgets[key] = w
        cell = self._path_row(w) if kind == "path" else w
        self.rows[key] = [self._row(grid, fi.label, cell, key), cell]

    def _path_row(self, edit: QLineEdit) -> QWidget:
        """The data path's edit with its File… and Folder… buttons."""
        self.path_edit = edit
        self.browse_button = named(QToolButton(), "browseDataButton", "Browse for a data file")
        self.browse_button.setText("File…")
        self.browse_button.clicked.connect(lambda: self.browse_for_data())
        self.folder_button = named(QToolButton(), "browseFolderButton", "Browse for a folder",
                                   "A folder of images (a subfolder per class, or all in one)")
        self.folder_button.setText("Folder…")
        self.folder_button.clicked.connect(lambda: self.browse_for_data(folder=True))
        edit.setMinimumWidth(40)  # the row must fit the narrow panel with two buttons
        return row_of(edit, self.browse_button, self.folder_button)

    def _build_kind_group(self, title: str, name: str) -> None:
        grid = self._group(title, name)
        self.kind_box = grid.parentWidget()
        self.kind_checks = {}
        for i, (key, tip) in enumerate(kinds()):
            box = named(QCheckBox(key), f"kind{key.title()}Check", f"{key} autoencoder", tip)
            self.kind_checks[key] = box
            grid.addWidget(box, i // 2, i % 2)

    def _connect_edits(self) -> None:
        self.preset_combo.currentIndexChanged.connect(
            lambda _i: self.load_preset(self.preset_combo.currentData()))
        for key, w in self.widgets.items():
            if w is not self.draw_panel:
                on_change(w, self._revalidate)
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
        return FormValues(
            {k: self.draw_panel.text() if w is self.draw_panel else value_of(w)
             for k, w in self.widgets.items()},
            {k: box.isChecked() for k, box in self.kind_checks.items()},
            self.pretrain_group.values(), self.family_group.values())

    def set_values(self, v: FormValues) -> None:
        self._loading = True
        try:
            for key, w in self.widgets.items():
                if w is self.draw_panel:
                    self.draw_panel.set_text(v.fields.get(key, ""))
                elif key in v.fields:
                    set_value(w, v.fields[key])
            for key, box in self.kind_checks.items():
                box.setChecked(bool(v.kinds.get(key)))
            self.pretrain_group.set_values(v.pretraining)
            self.family_group.set_values(v.family)
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
        for key, fi in form_fields():
            for w in self.rows.get(key, ()):
                w.setVisible(shown(fi, v.fields))
            need = fi.get("kind") or fi.get("needs")
            if need and key in self.widgets:
                self.widgets[key].setEnabled(bool(v.kinds.get(need)))
        # Pretraining mode: the stage fields replace Architecture and Epochs, and the
        # stages are deterministic one-layer MLP autoencoders.
        pre = v.pretraining.enabled
        self.architecture_box.setVisible(not pre)
        for w in self.rows["optim.epochs"]:
            w.setVisible(not pre)
        self.kind_checks["variational"].setEnabled(not pre)
        # The kinds are an autoencoder's regularisers; another family has its own group.
        family = FAMILIES.get(v.family.family)
        kinds = family is not None and family.takes_kinds
        self.kind_box.setEnabled(kinds)
        self.kind_box.setToolTip("" if kinds else
                                 f"Kinds are autoencoder regularisers: a {v.family.family} "
                                 "uses none of them")
        stackable = family is not None and family.stacks_greedily
        self.pretrain_group.set_available(
            pre or (v.fields.get("model.architecture") == "mlp" and stackable),
            "Greedy layer-wise pretraining stacks fully connected layers of an autoencoder: "
            "choose an autoencoder preset with the MLP architecture to use it"
            if not stackable else
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
