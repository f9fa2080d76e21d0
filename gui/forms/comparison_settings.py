"""The fine-tuning tab's settings form: whose encoder, the label budgets, epochs, freezing.

:class:`ComparisonSettingsForm` builds the form of
:class:`~gui.panels.finetune_panel.FineTuningPanel` — the encoder source (the
run on display or a session file, and optionally another encoder to compare
with), the label budgets, the epochs, the freeze check, Run and Stop, the
progress bar and status line — and keeps the encoder source up to date. It
is a mixin of the panel, so the panel's controls stay its attributes
(``panel.budgets_edit``); running the comparison is the panel's.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox,
                               QLabel, QLineEdit, QProgressBar, QPushButton, QSpinBox,
                               QToolButton)

from gui.widgets.caption import caption_label
from gui.widgets.frame import row_of
from gui.widgets.naming import named

SOURCE_FILTER = "Session files (*.h5 *.hdf5);;All files (*)"
NO_CURRENT = "No trained run on display yet: train one (or open a session), or choose a file."


class ComparisonSettingsForm:
    """The settings of a comparison and its encoder source (a mixin of a QWidget).

    Attributes
    ----------
    current : the session file of the run on display (None: nothing trained shown).
    current_text : what the source row says of it.
    """

    current: Path | None
    current_text: str
    #: why the current source cannot be compared (no labels), or "" when it can
    current_refusal: str = ""

    def _build_settings(self) -> QGroupBox:
        box = named(QGroupBox("Classifier on the code"), "fineTuneSettingsGroup",
                    "Classifier on the code")
        box.setMinimumWidth(260)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.source_combo = named(QComboBox(), "encoderSourceCombo", "Encoder source",
                                  "Whose encoder the classifier starts from")
        self.source_combo.addItem("the run on display", "current")
        self.source_combo.addItem("a session or pretraining file", "file")
        form.addRow("Encoder", self.source_combo)
        self.source_label = caption_label(NO_CURRENT, "encoderSourceLabel",
                                          "Encoder source description", wrap=True,
                                          fixed_width=False)
        form.addRow(self.source_label)
        self.file_edit = named(QLineEdit(), "encoderFileEdit", "Encoder file",
                               "A session file (.h5) or a pretraining run")
        self.browse_button = named(QToolButton(), "browseEncoderButton",
                                   "Browse for an encoder file")
        self.browse_button.setText("Browse…")
        self.browse_button.clicked.connect(self.browse_for_source)
        self.file_row = row_of(self.file_edit, self.browse_button)
        form.addRow("File", self.file_row)
        self.file_row_label = form.labelForField(self.file_row)
        self.versus_edit = named(QLineEdit(), "versusFileEdit", "Versus another encoder",
                                 "Optional: another session of the same widths and data (e.g. "
                                 "a deep belief network beside an autoencoder stack), "
                                 "compared in a column of its own")
        self.versus_edit.setPlaceholderText("optional: e.g. a DBN's session")
        self.versus_button = named(QToolButton(), "browseVersusButton",
                                   "Browse for the encoder to compare with")
        self.versus_button.setText("Browse…")
        self.versus_button.clicked.connect(self.browse_for_versus)
        self.versus_row = row_of(self.versus_edit, self.versus_button)
        form.addRow("Versus", self.versus_row)
        self.budgets_edit = named(QLineEdit("100, 1000, all"), "labelBudgetsEdit",
                                  "Label budgets", "Labelled training images per run, "
                                  "class-balanced; 'all' is the whole training split")
        form.addRow("Labels", self.budgets_edit)
        self.epochs_spin = named(QSpinBox(), "classifierEpochsSpin", "Classifier epochs",
                                 "Epochs of each classifier run")
        self.epochs_spin.setRange(1, 10_000)
        self.epochs_spin.setValue(20)
        form.addRow("Epochs", self.epochs_spin)
        self.freeze_check = named(QCheckBox("Freeze the encoder (linear probe)"),
                                  "freezeEncoderCheck", "Freeze the encoder",
                                  "Train only the classification layer on the fixed code")
        form.addRow(self.freeze_check)
        self.run_button = named(QPushButton("Run comparison"), "runComparisonButton",
                                "Run the comparison", "Train classifiers from the pretrained "
                                "encoder and from random weights, for each label budget")
        self.stop_button = named(QPushButton("Stop"), "stopComparisonButton",
                                 "Stop the comparison", "Stop after the current batch")
        form.addRow(row_of(self.run_button, self.stop_button))
        self.progress = named(QProgressBar(), "comparisonProgress", "Comparison progress")
        self.progress.setFormat("ready")
        self.progress.setValue(0)
        form.addRow(self.progress)
        # Wraps, and takes the height its lines need (an Ignored policy cut them off).
        self.status = named(QLabel(""), "comparisonStatus", "Comparison status")
        self.status.setWordWrap(True)
        form.addRow(self.status)
        self.source_combo.currentIndexChanged.connect(self._update_source_row)
        self.file_edit.textChanged.connect(lambda _text: self._update_buttons())
        self.run_button.clicked.connect(self.run_comparison)
        self.stop_button.clicked.connect(self.stop)
        return box

    # -- the encoder source ----------------------------------------------------------------
    def set_current_run(self, path: Path | None, description: str = "",
                        data=None) -> None:
        """The session of the run on display (None: nothing trained is on display).

        ``data`` is its :class:`~engine.events.DatasetInfo`: data without labels cannot
        train a classifier, and Run comparison says so before anything starts.
        """
        self.current = path
        self.current_text = description or NO_CURRENT
        self.current_refusal = "" if path is None else no_labels_reason(data)
        self._update_source_row()

    def refusal(self) -> str:
        """Why the chosen encoder cannot be compared ("" when it can)."""
        if self.source_combo.currentData() == "current":
            return self.current_refusal
        text = self.file_edit.text().strip()
        if not text or not Path(text).exists():
            return ""      # said when Run is pressed (no file chosen, no such file)
        path = Path(text)
        key = (str(path.resolve()), path.stat().st_mtime_ns)
        if getattr(self, "_file_refusal", (None, ""))[0] != key:
            self._file_refusal = (key, file_refusal(path))
        return self._file_refusal[1]

    def browse_for_source(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Encoder from a session file",
                                              self.file_edit.text(), SOURCE_FILTER)
        if path:
            self.use_file(path)

    def browse_for_versus(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Another encoder to compare",
                                              self.versus_edit.text(), SOURCE_FILTER)
        if path:
            self.versus_edit.setText(path)

    def versus_paths(self) -> list[Path]:
        """The other encoders' session files to compare with (none when blank)."""
        text = self.versus_edit.text().strip()
        return [Path(text)] if text else []

    def use_file(self, path: str | Path) -> None:
        """Take the encoder from the file at ``path``."""
        self.source_combo.setCurrentIndex(self.source_combo.findData("file"))
        self.file_edit.setText(str(path))

    def _update_source_row(self, *_args) -> None:
        self._update_buttons()
        self._describe_source()

    def _describe_source(self) -> None:
        from_file = self.source_combo.currentData() == "file"
        self.file_row.setVisible(from_file)
        if self.file_row_label is not None:
            self.file_row_label.setVisible(from_file)
        if from_file:
            self.source_label.setText("A session file's encoder (its stack, for a pretraining "
                                      "run); the data and split are the ones it was trained "
                                      "on. The classifier runs are added to that file.")
        else:
            self.source_label.setText(self.current_text)


def no_labels_reason(data) -> str:
    """Why a run on ``data`` (a DatasetInfo) cannot train a classifier: "" when it can."""
    if data is None or data.n_classes is not None:
        return ""
    return (f"{data.source} has no labels, so no classifier can be trained on its code: "
            "train the autoencoder on labelled data (or choose a session file of one).")


def file_refusal(path: Path) -> str:
    """Why the encoder of the session at ``path`` cannot be compared ("" when it can, or
    when the file cannot be read: Run then names that problem)."""
    from engine.errors import StudioError
    from engine.session import Session
    try:
        with Session.open(path) as session:
            return no_labels_reason(session.run().data)
    except (StudioError, OSError):
        return ""
