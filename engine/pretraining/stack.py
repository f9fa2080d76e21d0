"""Stacking trained stages: codes as the next stage's data, and the deep autoencoder.

Stage k of a greedy stack is a one-layer :class:`~engine.models.Autoencoder`
(an MLP with ``hidden=()``). Its input is the code of stage k - 1 for every
image, computed once with the earlier stages frozen, and handed to the
ordinary :class:`~engine.trainer.Trainer` as a :class:`Dataset` of
``(N, 1, 1, D)`` "images". The stacked autoencoder is an ordinary MLP
Autoencoder (``hidden = widths[:-1]``) whose linear layers are copied from
the stages: encoder layers in stage order, decoder layers in reverse.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor, nn

from engine.config import RunConfig
from engine.data import Dataset
from engine.likelihoods import GaussianLikelihood
from engine.models import Autoencoder, Encoder, build_model

ENCODE_BATCH = 1000


@torch.no_grad()
def encode_images(encoder: Encoder, images: np.ndarray | Tensor,
                  device: torch.device | str = "cpu") -> np.ndarray:
    """Deterministic codes of images: the code activations h (the mean for a VAE).

    Parameters
    ----------
    encoder : any encoder; evaluated with ``sample=False`` and no corruption.
    images : (N, C, H, W) float32.

    Returns
    -------
    (N, D) float32 numpy array.
    """
    x_all = torch.as_tensor(images)
    out = []
    for i in range(0, x_all.shape[0], ENCODE_BATCH):
        x = x_all[i:i + ENCODE_BATCH].to(device)
        out.append(encoder(x, sample=False).h.float().cpu())
    if not out:
        return np.zeros((0, encoder.latent_dim), np.float32)
    return torch.cat(out).numpy()


def encode_dataset(encoder: Encoder, dataset: Dataset, stage: int,
                   device: torch.device | str = "cpu") -> Dataset:
    """The data set of stage ``stage``: the codes of ``dataset`` under a frozen encoder.

    Parameters
    ----------
    encoder : the previous stage's encoder (its weights are only read).
    dataset : the previous stage's data set, images (N, C, H, W).
    stage : the number of the stage that will train on the codes.

    Returns
    -------
    Dataset
        images (N, 1, 1, D) float32 (D the encoder's code size) with the
        *same* labels, train/validation split and probe indices, so every
        stage validates on the same images and shows the same probes.
    """
    codes = encode_images(encoder, dataset.images, device)
    return Dataset(
        images=np.ascontiguousarray(codes.reshape(len(codes), 1, 1, -1)),
        labels=dataset.labels, factors=dataset.factors, factor_names=dataset.factor_names,
        label_names=dataset.label_names,
        source=f"{dataset.source} -> codes for stage {stage}",
        train_idx=dataset.train_idx, val_idx=dataset.val_idx, probe_idx=dataset.probe_idx)


def linear_layers(module: nn.Module) -> list[nn.Linear]:
    """The nn.Linear layers of a module, in the order they are applied."""
    return [m for m in module.modules() if isinstance(m, nn.Linear)]


@torch.no_grad()
def assemble_stacked(config: RunConfig, stages: Sequence[Autoencoder]) -> Autoencoder:
    """The deep autoencoder whose layers are the stages' layers.

    Parameters
    ----------
    config : the stacked RunConfig (:func:`~engine.pretraining.stages.stack_config`):
        an MLP with ``hidden = widths[:-1]``, ``latent_dim = widths[-1]``.
    stages : the trained one-layer stage autoencoders (or RBMs: their W and Wᵀ,
        see :meth:`~engine.models.rbm.RBM.unrolled`), stage 1 first.

    Returns
    -------
    Autoencoder on the CPU. Its encoder equals the composition of the
    stage encoders (an RBM's: p(h|v)) exactly. Its decoder applies stage n's decoder, then the
    activation, then stage n-1's, ..., then stage 1's; with sigmoid codes
    (Bernoulli stages) the activation is exactly the mean each stage
    decodes to, so the decoder equals the composition too. With tanh or
    relu codes (Gaussian stages) the activation squashes each intermediate
    reconstruction into the code range: close to the composition and only
    a starting point for fine-tuning.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # every weight is overwritten; this only keeps RNG untouched
        deep = build_model(config, stages[0].image_shape)
    enc, dec = linear_layers(deep.encoder), linear_layers(deep.decoder)
    if len(enc) != len(stages) or len(dec) != len(stages):
        raise ValueError(f"{len(stages)} stages do not fit a model with {len(enc)} encoder "
                         f"layers and {len(dec)} decoder layers")
    for i, stage in enumerate(stages):
        s_enc, s_dec = stage_layers(stage)
        _copy_linear(enc[i], s_enc)
        _copy_linear(dec[len(stages) - 1 - i], s_dec)
    return deep


def stage_layers(stage) -> tuple[nn.Linear, nn.Linear]:
    """A stage's encoder and decoder layer: an autoencoder's own, an RBM's unrolled (W, Wᵀ)."""
    unrolled = getattr(stage, "unrolled", None)
    if unrolled is not None:
        return unrolled()
    (s_enc,), (s_dec,) = linear_layers(stage.encoder), linear_layers(stage.decoder)
    return s_enc, s_dec


def _copy_linear(dst: nn.Linear, src: nn.Linear) -> None:
    if dst.weight.shape != src.weight.shape:
        raise ValueError(f"layer shapes differ: {tuple(src.weight.shape)} cannot replace "
                         f"{tuple(dst.weight.shape)}")
    dst.weight.copy_(src.weight.detach().to(dst.weight.device))
    dst.bias.copy_(src.bias.detach().to(dst.bias.device))


@torch.no_grad()
def encode_through(stages: Sequence[Autoencoder], x: Tensor) -> Tensor:
    """Codes (B, D_k) of images x (B, C, H, W) through stages 1..k in turn."""
    h = x
    for stage in stages:
        p = next(stage.parameters())
        h = stage.encoder(h.to(p.device), sample=False).h
    return h


@torch.no_grad()
def decode_through(stages: Sequence[Autoencoder], h: Tensor) -> Tensor:
    """Images (B, C, H, W) in [0, 1] from codes h (B, D_k): decoders k, k-1, ..., 1.

    Each intermediate decoder's *mean* is the next one's input: sigmoid of
    the logits for a Bernoulli stage, the raw output for a Gaussian one
    (not clamped to [0, 1], since tanh and relu codes live elsewhere).
    """
    for stage in reversed(stages[1:]):
        p = next(stage.parameters())
        params = stage.decoder(h.to(p.device)).flatten(1)
        lik = stage.likelihood
        h = params if isinstance(lik, GaussianLikelihood) else lik.mean(params)
    first = stages[0]
    p = next(first.parameters())
    return first.likelihood.mean(first.decoder(h.to(p.device)))


def first_layer_features(state: dict[str, np.ndarray],
                         image_shape: tuple[int, int, int]) -> np.ndarray | None:
    """Each first-layer unit's input weights as an image: the feature grid.

    Parameters
    ----------
    state : a model's weights by ``state_dict`` key (an autoencoder or a
        classifier: its encoder's first layer must be linear on the
        flattened pixels, an MLP; or an RBM: W, one row per hidden unit).
    image_shape : (C, H, W).

    Returns
    -------
    (units, C, H, W) float32 raw weights (signed; scale per unit to display),
    or None for an encoder whose first layer is not linear on the pixels (conv).
    """
    pixels = int(np.prod(image_shape))
    rbm = state.get("machine.weight")          # an RBM's hidden units: the rows of W
    if rbm is not None and np.ndim(rbm) == 2 and np.shape(rbm)[1] == pixels:
        return np.asarray(rbm, np.float32).reshape(-1, *image_shape)
    weights = [w for key, w in state.items()
               if key.startswith("encoder.") and key.endswith("weight")]
    if any(np.ndim(w) != 2 for w in weights):
        return None  # a conv encoder (its linear head may still happen to have `pixels` inputs)
    for w in weights:
        if np.shape(w)[1] == pixels:
            return np.asarray(w, np.float32).reshape(-1, *image_shape)
    return None
