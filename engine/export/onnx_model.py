"""``export --onnx``: a run's decoder (and encoder) as ONNX files, for any ONNX runtime.

The decoder of a chosen epoch takes codes and gives mean images — the same
numbers the window's explorer draws (:class:`~engine.decoding.LatentDecoder`);
the encoder takes images and gives the code (a VAE: the mean and
log-variance of q(z|x)). Snapshots keep only the decoder of each epoch, so
the encoder comes from the run's checkpoint: the weights of its last epoch.

Both are exported with ``torch.onnx.export`` (the torch.export-based
exporter, which needs the ``onnx`` and ``onnxscript`` packages of the
``export`` extra) with a free batch axis.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import torch
from torch import Tensor, nn

from engine.checkpoint import load_module_arrays
from engine.decoding import LatentDecoder
from engine.extras import require
from engine.models import build_model, cpu_copy
from engine.session.runs import SessionRun
from engine.session.schema import fail

OPSET = 18


class MeanDecoder(nn.Module):
    """z (B, D) float32 -> mean images (B, C, H, W) in [0, 1]: the family's ``decode_mean``
    (an autoencoder's decoder and likelihood mean, a GAN's generator, an RBM's E[v|h]).

    Only the family's :attr:`~engine.models.Model.decoder_part` is registered here: the
    exporter sees its weights, not the rest of the model (built on the meta device).
    """

    def __init__(self, model):
        super().__init__()
        part = type(model).decoder_part
        self.add_module(part, getattr(model, part))
        self._decode = model.decode_mean

    def forward(self, z: Tensor) -> Tensor:
        return self._decode(z)


class CodeEncoder(nn.Module):
    """x (B, C, H, W) in [0, 1] -> the code (B, D); a VAE's: (mean, logvar), each (B, D)."""

    def __init__(self, model):
        super().__init__()
        self.encoder = model.encoder
        self.variational = bool(model.variational)

    def forward(self, x: Tensor):
        code = self.encoder(x, sample=False)
        return (code.mean, code.logvar) if self.variational else code.h


def encoder_path(decoder_path: Path) -> Path:
    """Where the encoder goes beside ``decoder.onnx``: ``encoder.onnx`` (else ``NAME-encoder.onnx``)."""
    stem = decoder_path.stem
    name = stem.replace("decoder", "encoder") if "decoder" in stem else f"{stem}-encoder"
    return decoder_path.with_name(name + decoder_path.suffix)


def check_onnx(run: SessionRun, path: str | Path, force: bool = False) -> None:
    """Raise what :func:`export_onnx` would refuse, before anything is written (the
    encoder beside it is checked once its checkpoint is read, still before writing)."""
    require("onnx", "--onnx")
    require("onnxscript", "--onnx")
    path, cfg = Path(path), run.config
    if not LatentDecoder.available(cfg):
        raise fail(run.path, f"run '{run.run_id}' is a {cfg.model.family}: it has no decoder "
                             "to export")
    if not run.snapshot_epochs:
        raise fail(run.path, f"run '{run.run_id}' has no saved epoch yet: nothing to export")
    if path.exists() and not force:
        raise fail(path, "already exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise fail(path, f"cannot write here: the folder {path.parent} does not exist")


def export_onnx(run: SessionRun, epoch: int | None, path: str | Path,
                force: bool = False) -> list[Path]:
    """Write the decoder of ``epoch`` (default: the last saved) and the encoder as ONNX.

    Returns
    -------
    The files written: the decoder at ``path``, then the encoder (see :func:`encoder_path`)
    when the run has a checkpoint.

    Raises
    ------
    SessionError
        No decoder or snapshot, an unknown epoch, a file that exists (without ``force``).
    MissingExtra
        ``onnx``/``onnxscript`` are not installed.
    """
    path = Path(path)
    cfg = run.config
    check_onnx(run, path, force)
    epoch = run.snapshot_epochs[-1] if epoch is None else epoch
    shape = tuple(run.data.image_shape)
    decoder = MeanDecoder(cpu_copy(cfg, shape, run.snapshot(epoch).weights))
    ck = run.checkpoint()
    targets = [(path, decoder, torch.zeros(2, cfg.model.latent_dim), ["z"], ["image"])]
    if ck is not None:
        with torch.random.fork_rng(devices=[]):
            model = build_model(cfg, shape, run.data.n_classes)
        load_module_arrays(model, ck.model)
    if ck is not None and isinstance(getattr(model, "encoder", None), nn.Module):
        # An autoencoder's encoder (a GAN has none; an RBM's p(h|v) is no module of its own).
        outputs = ["mean", "logvar"] if cfg.model.variational else ["code"]
        targets.append((encoder_path(path), CodeEncoder(model.eval()),
                        torch.zeros(2, *shape), ["image"], outputs))
    for target, *_ in targets:
        if target.exists() and not force:
            raise fail(target, "already exists; pass --force to overwrite it")
    if not path.parent.is_dir():
        raise fail(path, f"cannot write here: the folder {path.parent} does not exist")
    for target, module, example, inputs, outputs in targets:
        _export(module.eval(), example, target, inputs, outputs)
    return [t[0] for t in targets]


def _export(module: nn.Module, example: Tensor, target: Path, inputs: list[str],
            outputs: list[str]) -> None:
    batch = torch.export.Dim("batch")
    # The exporter reports its progress and optional components it skips (torchvision)
    # through logging and warnings: none of it is the user's business here.
    onnx_log = logging.getLogger("torch.onnx")
    level = onnx_log.level
    onnx_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (example,), str(target), input_names=inputs,
                              output_names=outputs, dynamic_shapes=({0: batch},),
                              opset_version=OPSET, external_data=False, verbose=False)
    except Exception as e:  # noqa: BLE001 - the exporter fails in many ways; say which
        target.unlink(missing_ok=True)
        raise fail(target, f"the ONNX export failed: {type(e).__name__}: "
                           f"{str(e).splitlines()[0][:300] if str(e) else ''}") from None
    finally:
        onnx_log.setLevel(level)
