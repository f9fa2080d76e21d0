"""The interface every model family implements, and the registry keyed by ``model.family``.

The :class:`~engine.trainer.Trainer` drives batches, control, finite checks,
metrics, snapshots and checkpoints for any family; what differs between
families lives here, on the model (PyTorch-VAE's ``loss_function`` returning
named terms, nanoGPT's ``configure_optimizers``, pythae's overridable
training step):

- :meth:`Model.loss` — named scalar terms, ``total`` first; the names are
  the series names everywhere (plots, session, CLI).
- :meth:`Model.train_step` — how one batch updates the model. The default
  is one backward of ``total`` and one optimiser step; a family may use
  several optimisers, or updates that are no gradient of a loss.
- :meth:`Model.configure_optimizers` — named optimisers (the checkpoint keeps all).
- :meth:`Model.evaluate` and :meth:`Model.snapshot` — validation terms and
  what an epoch snapshot holds for the views, as named arrays.
- :attr:`Model.interactive_parts` — the submodules whose weights each
  snapshot carries, so the window can run a CPU copy (:func:`cpu_copy`);
  :attr:`Model.decoder_part` the one of them that turns codes into images
  (``decode_mean``), for the latent explorer, the samples and exports.
- :meth:`Model.draw_samples` — samples of its own distribution (a VAE's decoded
  prior codes, a GAN's g(z), an RBM's Gibbs chains), for sample quality.
- :meth:`Model.traits` — what its runs offer the views (an encoder,
  reconstructions, samples from a prior, a likelihood; :mod:`engine.models.traits`),
  so a view that does not apply says why instead of staying empty.
- :meth:`Model.describe` and :meth:`Model.report_lines` — what ``info`` says about
  a run of it; :attr:`Model.title` its name in sentences.
- :meth:`Model.validation_only_terms` — terms too costly for every step (an
  RBM's log-likelihood), computed by :meth:`Model.evaluate` alone.

The registry (:mod:`engine.models.registry`) finds a family by ``model.family``;
the rest of the app asks the class, not the name. Adding a family
is one model file, one line in :mod:`engine.models`, a preset and its tests
(``docs/families.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Iterable

import numpy as np
import torch
from torch import Tensor, nn

from engine.checkpoint import module_arrays
from engine.models.traits import ModelTraits
from engine.optim import make_optimizer

if TYPE_CHECKING:
    from engine.config import OptimConfig, RunConfig

EVAL_BATCH = 500


@dataclass
class Batch:
    """One batch on the training device.

    Attributes
    ----------
    x : (B, C, H, W) float32 images in [0, 1].
    y : (B,) int64 labels, for families that need them (else None).
    """

    x: Tensor
    y: Tensor | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass
class Probe:
    """The fixed images a snapshot is computed on, on the training device.

    Attributes
    ----------
    images : (P, C, H, W) the probe images shown every epoch.
    map_images : (M, C, H, W) the validation images whose codes form the latent map.
    """

    images: Tensor
    map_images: Tensor


class NonFiniteTerm(Exception):
    """A term (or the gradient norm, ``"gradient"``) became NaN or infinite."""

    def __init__(self, term: str):
        super().__init__(term)
        self.term = term


class StepContext:
    """What the trainer lends a family's :meth:`Model.train_step`.

    Attributes
    ----------
    generator : the step's generator on the training device (corruption,
        reparameterisation noise, sampling), seeded from the run's seed and the
        step (:mod:`engine.random_streams`).
    grad_clip : the max global gradient norm, or None.
    reduce : under torchrun, ``reduce(values, stop_asked)`` turns the (K,) stacked
        values of this rank's batch into the global batch's, the same on every
        rank, followed by the number of ranks asking to stop: (K + 1,)
        (``engine.distributed``); None when training alone.
    stop_asked : this rank asks to stop (sent along with the terms under torchrun).
    peers_stop : set by :meth:`finite` under torchrun: some rank asked to stop,
        so every rank stops before its next batch.
    """

    def __init__(self, generator: torch.Generator | None, grad_clip: float | None,
                 reduce: Callable[[Tensor, bool], Tensor] | None = None):
        self.generator = generator
        self.grad_clip = grad_clip
        self.reduce = reduce
        self.stop_asked = False
        self.peers_stop = False

    def finite(self, terms: dict[str, Tensor],
               parameters: Iterable[nn.Parameter] = ()) -> dict[str, float]:
        """The terms as floats after one device sync; clips the gradients when asked.

        Call it after ``backward()`` and before ``step()``: a non-finite term
        or gradient norm raises :class:`NonFiniteTerm` while the weights are
        still the last finite ones.
        """
        names = list(terms)
        checked = [terms[k].detach() for k in names]
        params = ([p for p in parameters if p.grad is not None]
                  if self.grad_clip is not None else [])
        if params:  # clipping needs the norm anyway: check it too
            norm = torch.nn.utils.get_total_norm([p.grad for p in params])
            checked.append(norm)
        stacked = torch.stack(checked)
        if self.reduce is not None:  # every rank checks the same values, so all stop together
            stacked = self.reduce(stacked, self.stop_asked)
        values = stacked.tolist()                   # the step's one device sync
        if self.reduce is not None:
            self.peers_stop = self.peers_stop or values.pop() > 0
        for name, v in zip(names + ["gradient"], values):
            if not math.isfinite(v):
                raise NonFiniteTerm(name)
        if params:
            torch.nn.utils.clip_grads_with_norm_(params, self.grad_clip, norm)
        return dict(zip(names, values))


class Model(nn.Module):
    """Base class of every model family (see the module docstring).

    Subclasses set :attr:`family`, build themselves in :meth:`from_config`
    and implement :meth:`term_names`, :meth:`loss` and :meth:`snapshot`.
    """

    family: ClassVar[str] = ""
    #: The family's name in a sentence ("GAN", "RBM"); :attr:`family` when unset.
    title: ClassVar[str] = ""
    #: The family trains on labelled batches (``Batch.y``).
    needs_labels: ClassVar[bool] = False
    #: Submodules whose weights each snapshot carries, for the window's CPU copy.
    interactive_parts: ClassVar[tuple[str, ...]] = ()
    #: The interactive part whose ``decode_mean(z)`` turns codes into images (an
    #: autoencoder's decoder, a GAN's generator), or None when codes decode to nothing.
    decoder_part: ClassVar[str | None] = None
    #: The kinds (sparse, contractive, denoising, variational) regularise this family's
    #: objective: the settings form's Kind box applies to it.
    takes_kinds: ClassVar[bool] = False
    #: Greedy layer-wise pretraining can stack this family's layers (an MLP's).
    stacks_greedily: ClassVar[bool] = False
    #: On a CPU copy (:func:`cpu_copy`), the interactive parts its weights lacked.
    missing_parts: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("title"):
            cls.title = cls.family

    @classmethod
    def from_config(cls, config: "RunConfig", image_shape: tuple[int, int, int],
                    n_classes: int | None = None) -> "Model":
        raise NotImplementedError

    @classmethod
    def training_indices(cls, config: "RunConfig", dataset) -> np.ndarray:
        """(n,) int64 indices of the images this run trains on: the training split."""
        return dataset.train_idx

    @classmethod
    def traits(cls, config: "RunConfig") -> ModelTraits:
        """What runs of this config offer the views (see :class:`ModelTraits`)."""
        return ModelTraits()

    @classmethod
    def describe(cls, config: "RunConfig") -> str:
        """The model in a few words, for ``info``: its layers, code and what it trains with."""
        m = config.model
        hidden = "-".join(str(x) for x in m.hidden)
        return f"{m.architecture} {hidden or 'no hidden layers'} -> {m.latent_dim}-d code"

    @classmethod
    def report_lines(cls, run) -> list[str]:
        """What ``info`` adds about a stored run of this family (``label:  words`` lines).

        ``run`` is a stored run (:class:`~engine.session.runs.SessionRun`: ``config``,
        ``epoch_history``, ``snapshot_epochs``, ``snapshot(epoch)``); the default adds none.
        """
        return []

    @classmethod
    def term_weights(cls, config: "RunConfig") -> dict[str, float]:
        """The factor with which each (unweighted) stored term enters ``total``.

        Terms are stored unweighted, in their natural units; a loss plot that
        shows what each term contributes plots ``weight * term`` ("λ·name").
        Terms not listed enter with weight 1 or not at all (``elbo``); the
        default is {}.
        """
        return {}

    # -- what a run reports ----------------------------------------------------------
    def term_names(self) -> tuple[str, ...]:
        """The names :meth:`loss` returns, in plotting order, ``total`` first."""
        raise NotImplementedError

    def validation_only_terms(self) -> tuple[str, ...]:
        """Terms of :meth:`term_names` that only :meth:`evaluate` computes.

        Too costly for every step (an RBM's log-likelihood needs its partition
        function): :meth:`train_step` leaves them out, so they have validation
        values at epoch ends and no training curve.
        """
        return ()

    def loss(self, batch: Batch, generator: torch.Generator | None = None,
             training: bool = True) -> dict[str, Tensor]:
        """Named scalar terms of one batch (per-image means), ``total`` first.

        ``training`` is False when evaluating: no parameter gradients are needed.
        """
        raise NotImplementedError

    def divergence_tips(self) -> list[str]:
        """What to try, beyond the learning rate and clipping, when a term diverges."""
        return []

    # -- how it trains -----------------------------------------------------------------
    def configure_optimizers(self, optim: "OptimConfig") -> dict[str, torch.optim.Optimizer]:
        """One optimiser over the trainable parameters, named ``model``."""
        return {"model": make_optimizer([p for p in self.parameters() if p.requires_grad],
                                        optim)}

    def train_step(self, batch: Batch, optimizers: dict[str, torch.optim.Optimizer],
                   ctx: StepContext) -> dict[str, float]:
        """One update: a backward of ``total``, the finite check, one optimiser step."""
        (opt,) = optimizers.values()
        terms = self.loss(batch, ctx.generator)
        opt.zero_grad(set_to_none=True)
        terms["total"].backward()
        values = ctx.finite(terms, self.parameters())
        opt.step()
        return values

    # -- what an epoch shows -----------------------------------------------------------
    def evaluate(self, batches: Iterable[Batch], generator: torch.Generator
                 ) -> tuple[dict[str, float], dict[str, np.ndarray]]:
        """Mean of every term over the batches, and arrays for the epoch's snapshot."""
        sums: dict[str, float] = {}
        n = 0
        with torch.no_grad():
            for batch in batches:
                for k, v in self.loss(batch, generator, training=False).items():
                    sums[k] = sums.get(k, 0.0) + float(v) * len(batch)
                n += len(batch)
        return ({k: v / n for k, v in sums.items()} if n else {}), {}

    def snapshot(self, probe: Probe, generator: torch.Generator
                 ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(images, arrays) of an epoch computed on the probe set; see ``EpochSnapshot``."""
        return {}, {}

    def draw_samples(self, n: int, generator: torch.Generator) -> Tensor | None:
        """n samples of the model's own distribution, (n, C, H, W), or None for a family that
        draws none (what sample quality scores, :mod:`engine.analysis.quality_probe`). Images
        lie in [0, 1]; 2-D points of Gaussian visible units may leave the unit square.

        ``generator`` is on the model's device and seeded by the caller.
        """
        return None

    def decode_sample(self, z: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """z (B, D) -> a sample of p(x|z), (B, C, H, W) in [0, 1].

        The default is ``decode_mean``: right for a family whose decoder is
        deterministic (a GAN's generator), so callers need no family test.
        """
        return self.decode_mean(z)

    def interactive_weights(self) -> dict[str, np.ndarray]:
        """The state of :attr:`interactive_parts`, by ``state_dict`` key."""
        out: dict[str, np.ndarray] = {}
        for part in self.interactive_parts:
            out.update({f"{part}.{k}": v for k, v in module_arrays(getattr(self, part)).items()})
        return out


def to_numpy(t: Tensor) -> np.ndarray:
    """A tensor as the float32 numpy array a snapshot carries (detached, on the CPU)."""
    return t.detach().cpu().numpy().astype(np.float32)


def batches_of(images: Tensor, device: torch.device, size: int = EVAL_BATCH,
               labels: Tensor | None = None) -> Iterable[Batch]:
    """``images`` (and labels) in batches, moved to ``device``."""
    for i in range(0, images.shape[0], size):
        x = images[i:i + size]
        y = None if labels is None else labels[i:i + size]
        if x.device != device:
            x = x.to(device, non_blocking=True)
            y = None if y is None else y.to(device, non_blocking=True)
        yield Batch(x, y)

