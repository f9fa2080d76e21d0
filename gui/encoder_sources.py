"""Where a classifier's encoder comes from: the run on display, or a file.

A *source* is a zero-argument function returning an
:class:`~engine.pretraining.EncoderSource` (the autoencoder and its config);
it runs on the comparison's thread, so reading a file never blocks the
window. :func:`current_run` describes the trained encoder the window shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from engine.errors import SessionError, StudioError
from engine.pretraining import EncoderSource, first_layer_features, load_encoder_source
from engine.pretraining.reader import autoencoder_from_arrays, file_format
from engine.pretraining.storage import FORMAT_NAME
from gui.pretrain_display import PretrainDisplay, StackedResult
from gui.run_record import RunRecord

SourceLoader = Callable[[], EncoderSource]


def file_source(path: str | Path) -> SourceLoader:
    """The encoder of a session or pretraining file (read when the comparison starts)."""
    return lambda: load_encoder_source(path)


def stacked_source(result: StackedResult, path: Path | None) -> SourceLoader:
    """The stack a pretraining run just built, from memory (no file read)."""
    def load() -> EncoderSource:
        model = autoencoder_from_arrays(path or Path("pretraining run"), result.config,
                                        result.image_shape, result.arrays)
        return EncoderSource(model=model, config=result.config,
                             description=result.description + " (this pretraining run)")
    return load


def session_features(path: str | Path) -> tuple[np.ndarray | None, str]:
    """First-layer features (units, C, H, W) of a session's encoder, and a caption.

    None (with the reason as caption) for a convolutional encoder or a file
    without weights: features are a picture of an MLP's first layer.
    """
    try:
        source = load_encoder_source(path)
    except StudioError as e:
        return None, f"No first-layer features: {e}"
    if source.config.model.architecture != "mlp":
        return None, ("First-layer features are an MLP's input weights; this run's encoder "
                      "is convolutional.")
    features = first_layer_features(source.model, source.model.image_shape)
    return features, f"The {source.description}: first layer, {len(features)} units"


@dataclass
class CurrentRun:
    """The run on display, as an encoder source.

    Attributes
    ----------
    description : what the user reads, e.g. ``"stacked autoencoder 784-256-64"``.
    load : builds the encoder (on the worker thread).
    save_to : the file the comparison is stored in (``/finetune``): the pretraining
        file or the run's session file; None when the run has no file.
    session : the ordinary session file of the run, or None.
    """

    description: str
    load: SourceLoader
    save_to: Path | None = None
    session: Path | None = None


def current_run(pretraining: PretrainDisplay, record: RunRecord | None) -> CurrentRun | None:
    """The trained encoder on display: a finished pretraining stack, or a saved run."""
    if pretraining.active:
        res, path = pretraining.result, pretraining.path
        if res is None:
            return None
        saved = path if path is not None and path.exists() else None
        return CurrentRun(f"{res.description} from this pretraining run",
                          stacked_source(res, saved), save_to=saved)
    path = Path(record.session_path) if record and record.session_path else None
    if path is None or not path.exists():
        return None
    return CurrentRun(f"{record.config.kind_label()} autoencoder ({record.config.name}) "
                      f"from {path.name}", file_source(path), save_to=path, session=path)


def is_pretraining_file(path: str | Path) -> bool:
    """True for a file written by a pretraining run (False for anything else, even damaged)."""
    try:
        return file_format(path) == FORMAT_NAME
    except SessionError:
        return False
