"""The RBM family: a restricted Boltzmann machine trained by contrastive divergence.

"Greedy layer-wise pretraining: alternative to RBM" and "stochastic
encoders and decoders — this is what we saw in RBM" (lecture notes). An
RBM's encoder is p(h|v), its decoder p(v|h) (see
:mod:`engine.models.boltzmann`); ``model.latent_dim`` is the number of
hidden units and ``objective.likelihood`` the visible units' kind
(``bernoulli`` for grey values read as probabilities, ``gaussian`` with
σ = ``objective.gaussian_std`` for continuous data such as 2-D points).

Training follows the log-likelihood gradient
``-E_data[∂F/∂θ] + E_model[∂F/∂θ]``, with the model's expectation replaced
by the end of a k-step Gibbs chain (CD-k; ``rbm.cd_k``) started at the
batch, or at persistent chains that carry over from update to update
(persistent CD; ``rbm.persistent``, the chains a buffer so checkpoints keep
them). That update is no gradient of any loss (the chain's end depends on
θ and is held fixed): autograd only computes the two expectations, through
the surrogate ``mean F(v_data) - mean F(v_chain)``, and the optimiser takes
the step (momentum, weight decay and the finite check as for any family).

Terms, per image in nats:

- ``total``: the reconstruction cross-entropy after one Gibbs step
  v -> h ~ p(h|v) -> p(v|h), as the autoencoder's reconstruction term
  (Bernoulli cross-entropy or Gaussian negative log-likelihood) — the number
  RBM training is usually watched by, not what CD optimises.
- ``free_energy``: mean F(v); its training curve against the validation
  points shows overfitting when they part.
- ``nll_exact`` (<= 20 hidden units: all 2^H hidden states enumerated) or
  ``nll_ais`` (an AIS estimate of log Z): -log p(v) = F(v) + log Z on the
  validation set, at epoch ends only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from engine.fields import check, choice, setting
from engine.settings import SectionSettings, family_settings
from engine.validation import RBM_KIND, RBM_VISIBLE
from engine.data.toy2d import GENERATED_POINTS, MAP_SIDE, grid_points, is_point_data
from engine.likelihoods import BernoulliLikelihood, GaussianLikelihood
from engine.models.autoencoder import Code
from engine.models.base import Batch, Model, ModelTraits, Probe, batches_of, to_numpy
from engine.models.boltzmann import (EXACT_MAX_HIDDEN, BoltzmannMachine, ais_log_z,
                                     log_partition)
from engine.models.registry import register


@family_settings("rbm")
@dataclass(frozen=True)
class RbmConfig(SectionSettings):
    """How an RBM trains and is measured (config section ``rbm``: the rbm family, RBM stages)."""

    families = ("rbm",)
    used_for = "model.family rbm or a pretraining with rbm stages"
    title = "RBM: contrastive divergence"
    note = ("An RBM: Latent size is its number of hidden units, Likelihood its visible "
            "units (Bernoulli, or Gaussian with the std of the objective). The kinds "
            "above are autoencoder regularisers: an RBM uses none of them.")

    cd_k: int = setting(1, lo=1, hi=1000, label="CD steps k", form="family",
                        help="Gibbs steps per update (CD-k)")
    persistent: bool = setting(False, label="Persistent chains (PCD)", form="family",
                               help="Keep the chains between updates (persistent CD, "
                                    "Tieleman 2008) instead of starting each at the batch")
    chains: int = setting(100, lo=1, hi=10_000, label="Chains", form="family",
                          help="Persistent chains (and Gibbs samples shown)")
    ais_chains: int = setting(100, lo=2, hi=10_000, label="AIS runs", form="family",
                              help="Runs of annealed importance sampling for log p(x) "
                                   "(> 20 hidden units; below that it is exact)")
    ais_steps: int = setting(1000, lo=10, hi=1_000_000, label="AIS temperatures",
                             form="family", help="Intermediate temperatures of each AIS run")

    @classmethod
    def used_by(cls, cfg: "RunConfig") -> bool:
        stages = cfg.pretraining is not None and RBM_KIND in cfg.pretraining.kinds
        return super().used_by(cfg) or stages

    @classmethod
    def check_run(cls, cfg: "RunConfig") -> None:
        m = cfg.model
        check(m.architecture == "mlp", "model.architecture",
              "mlp for an RBM (every visible unit connects to every hidden unit)",
              m.architecture)
        check(len(m.hidden) == 0, "model.hidden", "empty for an RBM: it has one layer of "
              "hidden units, model.latent_dim of them", list(m.hidden))
        check(not m.variational, "model.variational", "false for an RBM", m.variational)
        choice(cfg.objective.likelihood, "objective.likelihood", RBM_VISIBLE)


GIBBS_SHOWN = 36       # chains whose samples each snapshot shows
GIBBS_STEPS = 100      # Gibbs sweeps from the probe images to those samples
POINT_CHAIN_STEPS = 200  # sweeps from uniform starts for the generated 2-D points
_AIS_SALT = 0xA15


class HiddenCode:
    """An RBM as an encoder (the greedy stack's interface): v -> p(h = 1 | v).

    Not a module: it reads the machine's weights, it holds none.
    """

    def __init__(self, machine: BoltzmannMachine):
        self.machine = machine
        self.latent_dim = machine.n_hidden

    def __call__(self, x: Tensor, generator: torch.Generator | None = None,
                 sample: bool = False) -> Code:
        p = self.machine.hidden_probs(x.flatten(1))
        return Code(z=p, h=p)


@register
class RBM(Model):
    """A restricted Boltzmann machine on images (or points) of ``image_shape``.

    Parameters
    ----------
    image_shape : (C, H, W); D = C*H*W visible units.
    config : ``model.latent_dim`` hidden units, ``objective.likelihood`` the
        visible kind, the ``rbm`` section for training and the likelihood estimate.
    """

    family = "rbm"
    title = "RBM"
    interactive_parts = ("machine",)
    decoder_part = "machine"

    def __init__(self, image_shape: tuple[int, int, int], config):
        super().__init__()
        self.image_shape = tuple(image_shape)
        self.latent_dim = config.model.latent_dim
        self.settings = config.rbm_settings
        o = config.objective
        visible = math.prod(self.image_shape)
        self.machine = BoltzmannMachine(visible, self.latent_dim, o.likelihood, o.gaussian_std)
        self.likelihood = (GaussianLikelihood(o.gaussian_std) if o.likelihood == "gaussian"
                           else BernoulliLikelihood())
        # Updates so far: the version of the weights a cached log Z belongs to.
        self.register_buffer("updates", torch.zeros((), dtype=torch.int64))
        if self.settings.persistent:
            start = torch.rand(self.settings.chains, visible)
            self.register_buffer("chains", start if o.likelihood == "gaussian"
                                 else torch.bernoulli(start))
        self.encoder = HiddenCode(self.machine)
        self._log_z: tuple[int, float, dict] | None = None

    @classmethod
    def from_config(cls, config, image_shape, n_classes=None) -> "RBM":
        return cls(image_shape, config)

    @classmethod
    def traits(cls, config) -> ModelTraits:
        exact = config.model.latent_dim <= EXACT_MAX_HIDDEN
        how = (f"exact: all 2^{config.model.latent_dim} hidden states summed" if exact else
               "an estimate: log Z by annealed importance sampling")
        # Its free energies are negative: a log axis would hide them.
        return ModelTraits(
            generative="explicit", encoder=True, reconstructs=True, prior_samples=False,
            log_loss=False,
            likelihood=f"log p(v) = -F(v) - log Z, {how} (the {cls.nll_name(config)} curve)",
            code=f"h ∈ {{0,1}}^{config.model.latent_dim}; the encoder p(h|v), the decoder "
                 "p(v|h)",
            sampler="Gibbs chains",
            missing={"samples": "An RBM's samples come from Gibbs chains, not from codes "
                                "drawn from N(0, I): see the Gibbs chains.",
                     "code": "RBM (its code is stochastic binary units)",
                     "classifier_encoder": "for an RBM's features, pretrain a deep belief "
                                           "network (python main.py pretrain --stage-kind "
                                           "rbm) and use its stack"})

    @classmethod
    def describe(cls, config) -> str:
        r = config.rbm_settings
        how = f"{'persistent ' if r.persistent else ''}CD-{r.cd_k}"
        return (f"{config.objective.likelihood} visible units x {config.model.latent_dim} "
                f"hidden units, {how}")

    @classmethod
    def report_lines(cls, run) -> list[str]:
        """log Z at the run's last epoch: exact, or AIS with its error bar."""
        eh = run.epoch_history
        if not len(eh["epoch"]):
            return []
        last = {k: float(v[-1]) for k, v in eh["val"].items()}
        exact = "nll_exact" in last
        arrays = ({} if exact or not run.snapshot_epochs else
                  run.snapshot(run.snapshot_epochs[-1]).arrays)
        z = log_partition(last, arrays)
        if z is None:
            return []
        if z.exact:
            return [f"log Z:     {z.log_z:.3f}, exact (all 2^{run.config.model.latent_dim} "
                    "hidden states)"]
        bar = (f"; ±3 standard errors {z.log_z - z.below:.2f} … {z.log_z + z.above:.2f}"
               if z.below is not None else "")
        s = run.config.rbm_settings
        return [f"log Z:     {z.log_z:.2f}, an AIS estimate ({s.ais_chains} runs, "
                f"{s.ais_steps} temperatures{bar}): nll_ais is an estimate"]

    @staticmethod
    def nll_name(config) -> str:
        return "nll_exact" if config.model.latent_dim <= EXACT_MAX_HIDDEN else "nll_ais"

    @property
    def exact(self) -> bool:
        return self.machine.n_hidden <= EXACT_MAX_HIDDEN

    # -- the Model interface -------------------------------------------------------------
    def term_names(self) -> tuple[str, ...]:
        return ("total", "free_energy", "nll_exact" if self.exact else "nll_ais")

    def validation_only_terms(self) -> tuple[str, ...]:
        return self.term_names()[2:]

    def reconstruction_nll(self, v: Tensor, generator) -> Tensor:
        """(B,) nats: v against p(v | h) for one h ~ p(h | v)."""
        h = self.machine.sample_hidden(v, generator)
        return self.likelihood.nll(v, self.machine.visible_params(h))

    def loss(self, batch: Batch, generator=None, training: bool = True) -> dict[str, Tensor]:
        """Every term of one batch (the log-likelihood computes log Z: costly)."""
        v = batch.x.flatten(1)
        with torch.no_grad():
            free = self.machine.free_energy(v)
            return {"total": self.reconstruction_nll(v, generator).mean(),
                    "free_energy": free.mean(),
                    self.term_names()[2]: free.mean() + self.log_z()}

    def train_step(self, batch: Batch, optimizers, ctx) -> dict[str, float]:
        """One CD-k (or persistent CD) update; see the module docstring."""
        (opt,) = optimizers.values()
        machine, k = self.machine, self.settings.cd_k
        v = batch.x.flatten(1)
        with torch.no_grad():
            start = self.chains if self.settings.persistent else v
            chain = machine.gibbs(start, k, ctx.generator)
            recon = self.reconstruction_nll(v, ctx.generator).mean()
        free = machine.free_energy(v)
        surrogate = free.mean() - machine.free_energy(chain).mean()
        opt.zero_grad(set_to_none=True)
        surrogate.backward()
        values = ctx.finite({"total": recon, "free_energy": free.detach().mean()},
                            self.parameters())
        opt.step()
        if self.settings.persistent:
            self.chains.copy_(chain)
        self.updates += 1
        return values

    def log_z(self) -> float:
        """log Z of the current weights: exact, or AIS (cached until the next update)."""
        version = int(self.updates)
        if self._log_z is not None and self._log_z[0] == version:
            return self._log_z[1]
        if self.exact:
            with torch.no_grad():
                value = float(self.machine.log_z_exact())
            info = {}
        else:
            g = torch.Generator(device=self.machine.weight.device)
            g.manual_seed(_AIS_SALT + version)
            s = self.settings
            est = ais_log_z(self.machine, s.ais_chains, s.ais_steps, g)
            value = est.log_z
            # The error bar as distances from the estimate: small numbers keep their
            # digits in a snapshot's float16 (log Z itself is val nll - val free_energy).
            info = {"log_z_below": value - est.lower, "log_z_above": est.upper - value}
        self._log_z = (version, value, info)
        return value

    def evaluate(self, batches, generator):
        """Validation terms (log Z once for all batches) and log Z with its error bar."""
        log_z = self.log_z()
        sums = {name: 0.0 for name in self.term_names()}
        n = 0
        with torch.no_grad():
            for batch in batches:
                v = batch.x.flatten(1)
                free = self.machine.free_energy(v)
                m = len(batch)
                sums["total"] += float(self.reconstruction_nll(v, generator).sum())
                sums["free_energy"] += float(free.sum())
                sums[self.term_names()[2]] += float(free.sum()) + log_z * m
                n += m
        if n == 0:
            return {}, {}
        return {k: v / n for k, v in sums.items()}, self._log_z_arrays()

    def divergence_tips(self) -> list[str]:
        return ["or use more Gibbs steps (rbm.cd_k) or persistent chains (rbm.persistent)"]

    @torch.no_grad()
    def snapshot(self, probe: Probe, generator):
        """Probe reconstructions, p(h|v) codes, Gibbs samples; data space for 2-D points."""
        m = self.machine
        v = probe.images.flatten(1)
        h = m.sample_hidden(v, generator)
        arrays = {"probe_hidden": to_numpy(m.hidden_probs(v)), "probe_hidden_sample": to_numpy(h),
                  "map_latents": to_numpy(torch.cat([m.hidden_probs(b.x.flatten(1)) for b in
                                                batches_of(probe.map_images, v.device)]))}
        if is_point_data(self.image_shape):
            start = torch.rand((GENERATED_POINTS, m.n_visible), generator=generator,
                               device=v.device)
            grid = torch.from_numpy(grid_points(MAP_SIDE)).to(v.device)
            log_p = -m.free_energy(grid) - self.log_z()
            arrays.update(self._log_z_arrays())
            arrays.update({"real_points": to_numpy(probe.map_images.flatten(1)),
                           "recon_points": to_numpy(m.visible_mean(h)),
                           "generated_points": to_numpy(m.gibbs(start, POINT_CHAIN_STEPS,
                                                                generator)),
                           "density_map": to_numpy(log_p).reshape(MAP_SIDE, MAP_SIDE)})
            return {}, arrays
        chains = m.gibbs(v[:GIBBS_SHOWN], GIBBS_STEPS - 1, generator)
        samples = m.visible_mean(m.sample_hidden(chains, generator))
        return ({"probe_inputs": self._images(v), "probe_recon": self._images(m.visible_mean(h)),
                 "gibbs_samples": self._images(samples)}, arrays)

    def _images(self, v: Tensor) -> np.ndarray:
        return to_numpy(v.clamp(0.0, 1.0)).reshape(-1, *self.image_shape)

    def _log_z_arrays(self) -> dict[str, np.ndarray]:
        """For AIS, how far its 3-standard-error bounds lie below and above the estimate
        of log Z, as 0-d arrays (nothing for an exact log Z, or before one)."""
        if self._log_z is None:
            return {}
        return {k: np.asarray(v, np.float32) for k, v in self._log_z[2].items()}

    # -- using a trained model: the stochastic decoder, the greedy stack's hooks -----------
    @torch.no_grad()
    def draw_samples(self, n: int, generator: torch.Generator) -> Tensor:
        """n Gibbs chains started from uniform noise, (n, C, H, W): for 2-D points the
        visible states after :data:`POINT_CHAIN_STEPS` sweeps (as the snapshot's generated
        points), for images E[v|h] after :data:`GIBBS_STEPS` (as the Gibbs samples shown)."""
        m = self.machine
        start = torch.rand((n, m.n_visible), generator=generator, device=m.weight.device)
        if is_point_data(self.image_shape):
            return m.gibbs(start, POINT_CHAIN_STEPS, generator).view(-1, *self.image_shape)
        chains = m.gibbs(start, GIBBS_STEPS - 1, generator)
        return m.visible_mean(m.sample_hidden(chains, generator)).clamp(0.0, 1.0).view(
            -1, *self.image_shape)

    @torch.no_grad()
    def decode_mean(self, h: Tensor) -> Tensor:
        """h (B, H) -> E[v | h] as images (B, C, H, W), clamped to [0, 1] for display."""
        return self.machine.visible_mean(h).clamp(0.0, 1.0).view(-1, *self.image_shape)

    def decoder(self, h: Tensor) -> Tensor:
        """h (B, H) -> the parameters of p(v | h) as images (logits, or Gaussian means)."""
        return self.machine.visible_params(h).view(-1, *self.image_shape)

    @torch.no_grad()
    def unrolled(self) -> tuple[nn.Linear, nn.Linear]:
        """The RBM as an autoencoder's layers: v -> p(h|v) and h -> p(v|h)'s parameters.

        Hinton & Salakhutdinov (2006) unroll a stack of RBMs into a deep
        autoencoder this way: the encoder layer has W (and c), the decoder
        layer Wᵀ (and b), scaled by 1/σ and σ for Gaussian visible units.
        """
        m = self.machine
        d, n = m.n_visible, m.n_hidden
        enc, dec = nn.Linear(d, n), nn.Linear(n, d)
        s = m.std if m.kind == "gaussian" else 1.0
        enc.weight.copy_(m.weight / s)
        enc.bias.copy_(m.hidden_bias)
        dec.weight.copy_(m.weight.t() * s)
        dec.bias.copy_(m.visible_bias)
        return enc, dec
