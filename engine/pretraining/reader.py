"""Reading pretraining files back, and finding the encoder a classifier starts from.

:func:`read_pretraining` opens a file written by
:class:`~engine.pretraining.storage.PretrainRecorder`; :func:`load_encoder_source`
accepts that or an ordinary session file (via :class:`engine.session.Session`)
and returns the trained autoencoder with the config that says which data it
was trained on. Every problem is a :class:`~engine.errors.SessionError`
naming the file.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np
import torch

from engine.checkpoint import load_module_arrays
from engine.events import DatasetInfo
from engine.session.loaders import (load_data, load_epochs, load_history,
                                    load_snapshot_epochs, load_table)
from engine.session.schema import EPOCH_META, require_attr, require_dataset
from engine.config import RunConfig
from engine.errors import ConfigError, SessionError
from engine.models import Autoencoder, build_autoencoder
from engine.pretraining.config import PretrainConfig
from engine.pretraining.storage import FORMAT_NAME, FORMAT_VERSION, SESSION_FORMAT
from engine.session.reader import open_h5_for_reading


def _fail(path: Path, problem: str) -> SessionError:
    return SessionError(f"{Path(path).name}: {problem}")

@contextmanager
def _reading(path: Path, doing: str, config_words: str):
    """Turn whatever a damaged file raises while reading into one SessionError."""
    try:
        yield
    except SessionError:
        raise
    except ConfigError as e:
        raise _fail(path, f"{config_words} is invalid: {e}") from None
    except Exception as e:  # noqa: BLE001 - a damaged file can fail in many ways
        first = str(e).splitlines()[0][:200] if str(e) else repr(e)
        raise _fail(path, f"cannot {doing}: the file is damaged or incomplete ({first})") from None



@dataclass
class StageRecord:
    """One stage as stored: its config, epoch-mean curves and final weights.

    Attributes
    ----------
    epochs : ``"epoch"`` -> (E,) int64; ``"train/<term>"``, ``"val/<term>"`` -> (E,) float64.
    model : the stage autoencoder's parameters (its checkpoint), by name.
    stack_recon : epoch -> (P, C, H, W) probe images through stages 1..k.
    features : (units, C, H, W) for stage 1, else None.
    """

    stage: int
    role: str
    kind: str
    outcome: str
    config: RunConfig
    epochs: dict[str, np.ndarray]
    model: dict[str, np.ndarray]
    stack_recon: dict[int, np.ndarray] = field(default_factory=dict)
    features: np.ndarray | None = None


@dataclass
class PretrainingFile:
    """A pretraining run read back (see :mod:`engine.pretraining.storage` for the layout)."""

    path: Path
    config: PretrainConfig
    status: str
    image_shape: tuple[int, int, int] | None
    stages: list[StageRecord]
    stacked_config: RunConfig | None
    stacked_model: dict[str, np.ndarray]
    stacked_features: np.ndarray | None
    has_comparison: bool = False    # a /finetune group (engine.pretraining.results)

    def stacked_autoencoder(self) -> Autoencoder:
        """The stacked autoencoder on the CPU; SessionError when the run never got there."""
        if self.stacked_config is None or not self.stacked_model:
            raise _fail(self.path, f"has no stacked autoencoder: the pretraining run "
                                   f"ended '{self.status}' before every stage completed")
        return autoencoder_from_arrays(self.path, self.stacked_config, self.image_shape,
                                       self.stacked_model)


def autoencoder_from_arrays(path: Path, config: RunConfig, image_shape: tuple[int, int, int],
                            arrays: dict[str, np.ndarray]) -> Autoencoder:
    """Build the config's autoencoder on the CPU and load stored weights into it."""
    with torch.random.fork_rng(devices=[]):
        model = build_autoencoder(tuple(image_shape), config.model, config.objective)
    try:
        load_module_arrays(model, arrays)
    except (ValueError, RuntimeError) as e:
        raise _fail(path, f"the stored weights do not fit the stored config: {e}") from None
    return model


def file_format(path: str | Path) -> str:
    """The ``format`` attribute of an HDF5 file, with clear errors for anything else."""
    path = Path(path)
    if not path.exists():
        raise _fail(path, "does not exist")
    try:
        with open_h5_for_reading(path) as f:
            fmt = f.attrs.get("format")
    except Exception:  # noqa: BLE001 - h5py reports bad files as several types
        raise _fail(path, "is not an HDF5 file (or is damaged), so neither a session nor "
                          "a pretraining run") from None
    if isinstance(fmt, bytes):
        fmt = fmt.decode()
    if fmt not in (FORMAT_NAME, SESSION_FORMAT):
        raise _fail(path, "is an HDF5 file but neither an Autoencoder Studio session nor "
                          "a pretraining run")
    return fmt


def read_pretraining(path: str | Path) -> PretrainingFile:
    """Read a pretraining file: config, every stage's curves and weights, the stack."""
    path = Path(path)
    if file_format(path) != FORMAT_NAME:
        raise _fail(path, "is a session of an ordinary run, not a pretraining run")
    with _reading(path, "read the pretraining run", "the stored config"):
        with open_h5_for_reading(path) as f:
            version = int(f.attrs.get("format_version", 0))
            if version > FORMAT_VERSION:
                raise _fail(path, f"was written by a newer Autoencoder Studio (pretraining "
                                  f"format {version}); update the app to open it")
            config = PretrainConfig.from_dict(json.loads(f["config"].attrs["json"]))
            stages = [_read_stage(path, g) for _, g in
                      sorted(f["stages"].items(), key=lambda kv: int(kv[0]))]
            stacked_cfg, stacked, feats = None, {}, None
            if "stacked" in f:
                s = f["stacked"]
                stacked_cfg = RunConfig.from_json(s.attrs["json"])
                stacked = _arrays(s["model"])
                feats = s["features"][()] if "features" in s else None
            status = f.attrs.get("status", "running")
            has_comparison = "finetune" in f
            shape = None
            if "stages/1/data" in f:  # stage 1 saw the images themselves
                shape = tuple(int(d) for d in f["stages/1/data"].attrs["image_shape"])
    return PretrainingFile(path=path, config=config, status=str(status), image_shape=shape,
                           stages=stages,
                           stacked_config=stacked_cfg, stacked_model=stacked,
                           stacked_features=feats, has_comparison=has_comparison)


def _arrays(group: h5py.Group) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = np.asarray(obj[()])

    group.visititems(visit)
    return out


def _read_stage(path: Path, g: h5py.Group) -> StageRecord:
    epochs = load_table(path, g, "epochs", EPOCH_META)
    return StageRecord(
        stage=int(g.attrs["stage"]), role=str(g.attrs["role"]), kind=str(g.attrs["kind"]),
        outcome=str(g.attrs["outcome"]),
        config=RunConfig.from_json(g["config"].attrs["json"]),
        epochs={k: v for k, v in epochs.items() if k == "epoch" or "/" in k},
        model=_arrays(g["checkpoint/model"]) if "checkpoint/model" in g else {},
        stack_recon={int(k): v[()] for k, v in g["stack_recon"].items()}
        if "stack_recon" in g else {},
        features=g["features"][()] if "features" in g else None)


# -- replaying a pretraining run ---------------------------------------------------------

@dataclass
class StageFrame:
    """One saved epoch of a stage: its probe inputs (noisy when denoising) and outputs."""

    epoch: int          # within the stage
    step: int           # within the stage
    inputs: np.ndarray  # (P, ...) the stage's probe inputs as fed (images or codes)
    recon: np.ndarray   # (P, ...) the stage's reconstructions


@dataclass
class StageReplay:
    """What the window needs to replay one stage (steps and epochs counted within it).

    Attributes
    ----------
    history : per-step table, ``"step"``, ``"epoch"``, ``"wall_time"`` and one column per term.
    epochs : :func:`engine.session.loaders.load_epochs`'s dict (``"val"``: term -> (E,)).
    data : the stage's probe set (images for stage 1, codes for the later stages).
    frames : stage epoch -> :class:`StageFrame`.
    stack_recon : stage epoch -> probe images through stages 1..k.
    """

    stage: int
    role: str
    kind: str
    likelihood: str
    outcome: str
    width: int
    input_dim: int
    config: RunConfig
    data: DatasetInfo
    history: dict[str, np.ndarray]
    epochs: dict
    frames: dict[int, StageFrame]
    stack_recon: dict[int, np.ndarray]
    features: np.ndarray | None

    @property
    def last_step(self) -> int:
        """The stage's last logged step (its steps on the run's shared axis)."""
        for steps in (self.history.get("step", ()), self.epochs.get("step", ())):
            if len(steps):
                return int(steps[-1])
        return 0

    @property
    def last_epoch(self) -> int:
        epochs = self.epochs.get("epoch", ())
        return int(epochs[-1]) if len(epochs) else 0


def read_stage_replays(path: str | Path) -> list[StageReplay]:
    """Every stored stage of a pretraining file, with what the window replays.

    Raises SessionError for a missing, foreign or damaged file.
    """
    path = Path(path)
    if file_format(path) != FORMAT_NAME:
        raise _fail(path, "is a session of an ordinary run, not a pretraining run")
    with _reading(path, "replay the pretraining run", "a stage's stored config"):
        with open_h5_for_reading(path) as f:
            if "stages" not in f:
                return []
            return [_read_stage_replay(path, g) for _, g in
                    sorted(f["stages"].items(), key=lambda kv: int(kv[0]))]


def _read_stage_replay(path: Path, g: h5py.Group) -> StageReplay:
    config = RunConfig.from_json(g["config"].attrs["json"])
    data = load_data(path, g)
    history = load_history(path, g)
    terms = [k for k in history if k not in ("step", "epoch", "wall_time")]
    epochs = load_epochs(path, g, terms)
    p_shape = data.probe_images.shape
    frames: dict[int, StageFrame] = {}
    for epoch, name in sorted(load_snapshot_epochs(path, g).items()):
        s = g["snapshots"][name]
        arr = lambda n: require_dataset(path, s, n, "f", shape=p_shape)[()].astype(  # noqa: E731
            np.float32, copy=False)
        frames[epoch] = StageFrame(epoch=epoch, step=int(require_attr(path, s, "step", int)),
                                   inputs=arr("probe_inputs"), recon=arr("probe_recon"))
    stack = {int(k): np.asarray(v[()], np.float32) for k, v in g["stack_recon"].items()} \
        if "stack_recon" in g else {}
    text = lambda name, default="": str(g.attrs.get(name, default))  # noqa: E731
    return StageReplay(
        stage=int(g.attrs["stage"]), role=text("role", "layer"), kind=text("kind"),
        likelihood=text("likelihood"), outcome=text("outcome", "completed"),
        width=int(g.attrs.get("width", 0)), input_dim=int(g.attrs.get("input_dim", 0)),
        config=config, data=data, history=history, epochs=epochs, frames=frames,
        stack_recon=stack, features=g["features"][()] if "features" in g else None)


# -- the encoder a classifier starts from ---------------------------------------------

@dataclass
class EncoderSource:
    """A trained autoencoder and what it was trained on.

    Attributes
    ----------
    model : the autoencoder on the CPU (the classifier copies its encoder).
    config : its RunConfig; ``config.data`` and ``config.seed`` rebuild the
        same images and train/validation split.
    description : e.g. ``"stacked autoencoder 784-256-64 from run.h5"``.
    """

    model: Autoencoder
    config: RunConfig
    description: str


def load_encoder_source(path: str | Path) -> EncoderSource:
    """The trained autoencoder of a pretraining file or of an ordinary session file.

    Raises
    ------
    SessionError
        For a missing, damaged or foreign file, or one with no trained weights.
    """
    path = Path(path)
    if file_format(path) == FORMAT_NAME:
        run = read_pretraining(path)
        model = run.stacked_autoencoder()
        widths = "-".join(str(w) for w in (int(np.prod(model.image_shape)),) + tuple(
            run.config.widths))
        return EncoderSource(model=model, config=run.stacked_config,
                             description=f"stacked autoencoder {widths} from {path.name}")
    from engine.session import Session  # the session engineer's reader
    with Session.open(path) as s:
        ck = s.checkpoint()
        if ck is None:
            raise _fail(path, "has no saved weights (the run ended before its first epoch)")
        model = autoencoder_from_arrays(path, s.config, s.data.image_shape, ck.model)
        return EncoderSource(model=model, config=s.config,
                             description=f"{s.config.kind_label()} autoencoder "
                                         f"({s.config.name}, epoch {ck.epoch}) from {path.name}")


def export_stage_session(path: str | Path, stage: int, out: str | Path) -> Path:
    """Copy ``/stages/<stage>`` of a pretraining file out as an ordinary session file.

    Each stage group has the layout of a session file's root, so the copy
    opens with :meth:`engine.session.Session.open` for replay like any run.
    """
    path, out = Path(path), Path(out)
    file_format(path)
    try:
        with open_h5_for_reading(path) as src:
            g = src.get(f"stages/{stage}")
            if not isinstance(g, h5py.Group):
                raise _fail(path, f"has no stage {stage}")
            with h5py.File(out, "w", locking=False) as dst:
                for name in g:
                    src.copy(g[name], dst, name=name)
                for key, value in g.attrs.items():
                    dst.attrs[key] = value
    except SessionError:
        raise
    except Exception as e:  # noqa: BLE001
        raise _fail(path, f"cannot export stage {stage}: {e}") from None
    return out
