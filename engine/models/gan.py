"""The GAN family: an implicit generative model, a generator g(z) and a discriminator D(x).

"Generative models are explicit (variational autoencoders) or implicit
(GANs)" (lecture notes). A GAN's generator maps z ~ N(0, I) to an image as
a VAE's decoder does, but nothing maps an image back: there is no encoder,
no reconstruction and no likelihood or bound on it to report. What trains
the generator is a second network, the discriminator, which learns to tell
real images from generated ones (Goodfellow et al., 2014).

Both players are built like the autoencoder's parts: the generator like its
decoder (MLP or transposed convolutions, ``model.hidden`` mirrored, a
sigmoid output so images lie in [0, 1]), the discriminator like its encoder
(``model.hidden``, leaky ReLU units as in DCGAN, one logit out). The
convolutional players are DCGAN's (Radford et al., 2016; ``conv.py``): strided
convolutions, batch normalisation, ReLU in the generator (``model.activation``),
leaky ReLU in the discriminator, N(0, 0.02) initial weights. DCGAN's tanh
output makes images in [-1, 1]; the app's images are in [0, 1], where the
same curve is the sigmoid (sigmoid(2a) = (tanh(a) + 1) / 2).

Losses, per image, with l = D's logit and D = sigmoid(l):

- discriminator ``total``: ``-log D(x) - log(1 - D(g(z)))`` = softplus(-l_real)
  + softplus(l_fake), i.e. -V(D, g) of the minimax game; at the optimal
  discriminator it is log 4 - 2 JSD(p_data || p_g).
- ``generator``: the non-saturating ``-log D(g(z))`` = softplus(-l_fake), whose
  gradient stays large while the discriminator wins (the minimax generator
  loss log(1 - D(g(z))) saturates then).
- ``d_real``, ``d_fake``: mean D(x) on the real batch and D(g(z)) on the generated one.

One trainer step updates the discriminator on a fresh batch; every k-th
step (``gan.d_steps``) the generator too — Algorithm 1 of the paper. The
count of discriminator updates is a buffer, so a checkpoint resumes the
alternation where it stopped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.fields import check, setting
from engine.settings import SectionSettings, family_settings
from engine.data.toy2d import GENERATED_POINTS, MAP_SIDE, grid_points, is_point_data
from engine.models.base import Batch, Model, ModelTraits, Probe, to_numpy
from engine.models.conv import ConvDecoder, ConvEncoder, dcgan_init
from engine.models.mlp import MLPDecoder, MLPEncoder
from engine.models.registry import register
from engine.optim import make_optimizer

if TYPE_CHECKING:
    from engine.config import OptimConfig, RunConfig

@family_settings("gan")
@dataclass(frozen=True)
class GanConfig(SectionSettings):
    """How a GAN's two players train (config section ``gan``; absent: these defaults).

    ``d_steps`` is Goodfellow et al.'s k (Algorithm 1): every step updates the
    discriminator on a fresh batch, every k-th step the generator too. Adam's
    ``adam_beta1`` is 0.5 for both players as in DCGAN (the usual 0.9 lets their
    momentum chase each other). ``instance_noise`` (Sønderby et al., 2016) blurs
    the real and generated images alike until they overlap, so a discriminator on
    a small data set cannot win outright and starve the generator of gradient;
    Goodfellow et al.'s MNIST discriminator used dropout (``d_dropout``) too.
    """

    families = ("gan",)
    used_for = "model.family gan"
    title = "GAN: two players"
    note = ("A GAN: a generator (the decoder's architecture) and a discriminator (the "
            "encoder's), trained against each other. The kinds above are autoencoder "
            "regularisers: a GAN uses none of them.")

    d_steps: int = setting(1, lo=1, hi=100, label="k (D steps per G step)", form="family",
                           help="Discriminator updates per generator update")
    d_lr: float | None = setting(None, lo=0.0, hi=10.0, lo_open=True, label="Discriminator lr",
                                 form="family", help="Blank: the learning rate below")
    adam_beta1: float = setting(0.5, lo=0.0, hi=0.999)
    instance_noise: float = setting(0.0, lo=0.0, hi=1.0, label="Instance noise", form="family",
                                    help="Std of noise added to every image D sees")
    d_dropout: float = setting(0.0, lo=0.0, hi=0.9, label="D dropout", form="family",
                               help="Dropout after each discriminator layer")

    @classmethod
    def check_run(cls, cfg: "RunConfig") -> None:
        check(not cfg.model.variational, "model.variational",
              "false for a GAN (its generator has no encoder to make stochastic)",
              cfg.model.variational)


SAMPLES = 64          # generated images in every snapshot (the same z each epoch)
MAP_SAMPLES = 500     # prior samples drawn as the latent map: a GAN encodes no data
D_ACTIVATION = "leaky_relu"


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """-log D(x) - log(1 - D(g(z))), batch mean; logits (B,) each."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: Tensor) -> Tensor:
    """The non-saturating generator loss -log D(g(z)), batch mean; logits (B,)."""
    return F.softplus(-fake_logits).mean()


class Generator(nn.Module):
    """z (B, D) -> images (B, C, H, W) in [0, 1]: the decoder's body with a sigmoid."""

    def __init__(self, body: nn.Module):
        super().__init__()
        self.body = body

    def forward(self, z: Tensor) -> Tensor:
        return torch.sigmoid(self.body(z))


class SeededDropout(nn.Module):
    """Dropout whose masks come from a given generator (``nn.Dropout`` draws from torch's
    global one, which would make a run irreproducible and its resume inexact)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = float(p)
        self.generator: torch.Generator | None = None

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape, generator=self.generator, device=x.device) >= self.p
        return x * keep / (1.0 - self.p)


class Discriminator(nn.Module):
    """x (B, C, H, W) -> logits (B,): the encoder's body with one output.

    With ``dropout`` > 0 a :class:`SeededDropout` follows each hidden activation.
    """

    def __init__(self, body: nn.Module, dropout: float = 0.0):
        super().__init__()
        if dropout > 0:
            _add_dropout(body, dropout)
        self.body = body
        self.dropouts = [m for m in body.modules() if isinstance(m, SeededDropout)]

    def draw_from(self, generator: torch.Generator | None) -> None:
        """The generator the dropout masks of the next passes come from."""
        for m in self.dropouts:
            m.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)[:, 0]


@register
class GAN(Model):
    """Generator and discriminator, built from a run config (see the module docstring).

    Parameters
    ----------
    image_shape : (C, H, W)
    config : the run (``model`` architecture, ``gan`` settings).
    """

    family = "gan"
    title = "GAN"
    interactive_parts = ("generator",)
    decoder_part = "generator"

    def __init__(self, image_shape: tuple[int, int, int], config: "RunConfig"):
        super().__init__()
        m = config.model
        self.image_shape = tuple(image_shape)
        self.latent_dim = m.latent_dim
        self.settings = config.gan_settings
        if m.architecture == "conv":  # DCGAN's players
            decoder = ConvDecoder(self.image_shape, tuple(m.hidden), m.latent_dim,
                                  m.activation, 1, batch_norm=True)
            encoder = ConvEncoder(self.image_shape, tuple(m.hidden), 1, D_ACTIVATION,
                                  batch_norm=True)
            dcgan_init(decoder)
            dcgan_init(encoder)
        else:
            decoder = MLPDecoder(self.image_shape, tuple(m.hidden), m.latent_dim,
                                 m.activation, 1)
            encoder = MLPEncoder(self.image_shape, tuple(m.hidden), 1, D_ACTIVATION)
        self.generator = Generator(decoder)
        self.discriminator = Discriminator(encoder, self.settings.d_dropout)
        # Discriminator updates so far: every d_steps-th one is followed by a generator update.
        # The buffer goes into checkpoints; the Python count beside it is what a step reads
        # (reading the buffer on a GPU would wait for the device every step). Loading a
        # state sets the count aside, to be read from the buffer once.
        self.register_buffer("d_updates", torch.zeros((), dtype=torch.int64))
        self._d_count: int | None = 0
        self.register_load_state_dict_post_hook(_forget_d_count)

    @classmethod
    def from_config(cls, config, image_shape, n_classes=None) -> "GAN":
        return cls(image_shape, config)

    @classmethod
    def traits(cls, config) -> ModelTraits:
        return ModelTraits(
            generative="implicit", encoder=False, reconstructs=False, prior_samples=True,
            continuous_code=True,
            likelihood="none: an implicit model draws samples but cannot evaluate p(x), "
                       "so there is no ELBO or log-likelihood to plot",
            code=f"z ∈ R^{config.model.latent_dim} from N(0, I); no encoder: no image has "
                 "a code",
            sampler="g(z), z ~ N(0, I)",
            missing={
                "code": "GAN (it has no encoder)",
                "reconstructions": "a GAN has no encoder, nothing maps an image back to a "
                                   "code; its generator only maps z to x.",
                "likelihood": "A GAN is an implicit model: it can draw samples but cannot "
                              "say how likely an image is — no ELBO, no log-likelihood. "
                              "Its curves are the two players' losses.",
                "encoder": "A GAN has no encoder, so no image has a code: the map shows "
                           "z drawn from the prior N(0, I), coloured by how real the "
                           "discriminator finds g(z)."})

    @classmethod
    def describe(cls, config) -> str:
        m, g = config.model, config.gan_settings
        hidden = "-".join(str(x) for x in m.hidden) or "no hidden"
        return (f"{m.architecture} generator {m.latent_dim}-d z -> {hidden} -> x, "
                f"discriminator x -> {hidden} -> 1, {g.d_steps} discriminator step(s) per "
                "generator step")

    # -- the Model interface -------------------------------------------------------------
    def term_names(self) -> tuple[str, ...]:
        return ("total", "generator", "d_real", "d_fake")

    def prior(self, n: int, generator: torch.Generator | None, device) -> Tensor:
        """(n, D) codes z ~ N(0, I)."""
        return torch.randn((n, self.latent_dim), generator=generator, device=device)

    def loss(self, batch: Batch, generator=None, training: bool = True) -> dict[str, Tensor]:
        """Both players' losses on one batch and one draw of z (no update)."""
        fake = self.generator(self.prior(len(batch), generator, batch.x.device))
        real_logits, fake_logits = self.judge(batch.x, generator), self.judge(fake, generator)
        return {"total": discriminator_loss(real_logits, fake_logits),
                "generator": generator_loss(fake_logits),
                "d_real": torch.sigmoid(real_logits).mean(),
                "d_fake": torch.sigmoid(fake_logits).mean()}

    def configure_optimizers(self, optim: "OptimConfig") -> dict[str, torch.optim.Optimizer]:
        """One optimiser per player (the discriminator's at ``gan.d_lr``)."""
        g = self.settings
        d_optim = optim if g.d_lr is None else _with_lr(optim, g.d_lr)
        return {"discriminator": _optimizer(self.discriminator.parameters(), d_optim,
                                            g.adam_beta1),
                "generator": _optimizer(self.generator.parameters(), optim, g.adam_beta1)}

    def judge(self, x: Tensor, generator: torch.Generator | None) -> Tensor:
        """The discriminator's logits (B,) for images x, through ``gan.instance_noise``."""
        s = self.settings.instance_noise
        if s > 0:
            x = x + s * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        self.discriminator.draw_from(generator)
        return self.discriminator(x)

    def train_step(self, batch: Batch, optimizers, ctx) -> dict[str, float]:
        """A discriminator update on this batch; every ``d_steps``-th also a generator update."""
        d_opt, g_opt = optimizers["discriminator"], optimizers["generator"]
        x, n = batch.x, len(batch)
        g = ctx.generator
        with torch.no_grad():
            fake = self.generator(self.prior(n, g, x.device))
        real_logits, fake_logits = self.judge(x, g), self.judge(fake, g)
        d_loss = discriminator_loss(real_logits, fake_logits)
        d_opt.zero_grad(set_to_none=True)
        d_loss.backward()
        with torch.no_grad():
            terms = {"total": d_loss, "generator": generator_loss(fake_logits),
                     "d_real": torch.sigmoid(real_logits).mean(),
                     "d_fake": torch.sigmoid(fake_logits).mean()}
        values = ctx.finite(terms, self.discriminator.parameters())
        d_opt.step()
        if self._d_count is None:
            self._d_count = int(self.d_updates)  # once after a load
        self.d_updates += 1
        self._d_count += 1
        if self._d_count % self.settings.d_steps:
            return values  # the generator's turn comes after k discriminator updates
        # The generator's update, against the discriminator just improved: fresh z, and
        # no gradients for the discriminator's weights (only through its input).
        for p in self.discriminator.parameters():
            p.requires_grad_(False)
        try:
            fake = self.generator(self.prior(n, g, x.device))
            g_loss = generator_loss(self.judge(fake, g))
            g_opt.zero_grad(set_to_none=True)
            g_loss.backward()
        finally:
            for p in self.discriminator.parameters():
                p.requires_grad_(True)
        values["generator"] = ctx.finite({"generator": g_loss},
                                         self.generator.parameters())["generator"]
        g_opt.step()
        return values

    def divergence_tips(self) -> list[str]:
        return ["or give the discriminator a lower learning rate (gan.d_lr)"]

    def evaluate(self, batches, generator):
        """Both players' losses on the validation set, without the discriminator's dropout."""
        was_training = self.training
        self.eval()
        try:
            return super().evaluate(batches, generator)
        finally:
            self.train(was_training)

    @torch.no_grad()
    def snapshot(self, probe: Probe, generator):
        """Samples of fixed codes, the discriminator's view, and for 2-D data its map.

        ``generator`` is seeded the same every epoch (the trainer's probe
        generator), so the snapshot's z — and so its samples — are the same
        codes each epoch: replay shows them turn into digits.
        """
        device = probe.images.device
        z = self.prior(SAMPLES, generator, device)
        z_map = self.prior(MAP_SAMPLES, generator, device)
        samples = self.generator(z)
        arrays = {
            "sample_latents": to_numpy(z),
            "sample_d_fake": to_numpy(torch.sigmoid(self.discriminator(samples))),
            # No encoder: the latent map shows prior samples, scored by the discriminator.
            "map_latents": to_numpy(z_map),
            "map_d_fake": to_numpy(torch.sigmoid(self.discriminator(self.generator(z_map)))),
            "probe_d_real": to_numpy(torch.sigmoid(self.discriminator(probe.images))),
        }
        if is_point_data(self.image_shape):
            points = self.generator(self.prior(GENERATED_POINTS, generator, device))
            grid = torch.from_numpy(grid_points(MAP_SIDE)).to(device).view(-1, 1, 1, 2)
            arrays["generated_points"] = to_numpy(points.flatten(1))
            arrays["real_points"] = to_numpy(probe.map_images.flatten(1))
            arrays["disc_map"] = to_numpy(torch.sigmoid(self.discriminator(grid))).reshape(
                MAP_SIDE, MAP_SIDE)
            return {}, arrays
        return {"samples": to_numpy(samples)}, arrays

    # -- using a trained model -------------------------------------------------------------
    @torch.no_grad()
    def draw_samples(self, n: int, generator: torch.Generator) -> Tensor:
        """g(z) of n codes z ~ N(0, I), (n, C, H, W)."""
        device = next(self.generator.parameters()).device
        return self.generator(self.prior(n, generator, device))

    @torch.no_grad()
    def decode_mean(self, z: Tensor) -> Tensor:
        """z (B, D) -> generated images (B, C, H, W) in [0, 1].

        In eval mode: a batch-normalised generator then uses its running
        statistics, so an image depends on its own z alone, not on the batch.
        """
        was_training = self.generator.training
        self.generator.eval()
        try:
            return self.generator(z)
        finally:
            self.generator.train(was_training)


def _add_dropout(body: nn.Module, p: float) -> None:
    """Put a dropout layer after every activation of the Sequentials in ``body`` (in place)."""
    for module in list(body.modules()):
        if isinstance(module, nn.Sequential):
            layers = []
            for layer in module:
                layers.append(layer)
                if isinstance(layer, nn.LeakyReLU):
                    layers.append(SeededDropout(p))
            module._modules = {str(i): m for i, m in enumerate(layers)}


def _with_lr(optim: "OptimConfig", lr: float) -> "OptimConfig":
    return dataclasses.replace(optim, lr=lr)


def _optimizer(params, optim: "OptimConfig", beta1: float) -> torch.optim.Optimizer:
    """The configured optimiser; Adam and AdamW with ``beta1`` (see ``gan.adam_beta1``)."""
    opt = make_optimizer(params, optim)
    if optim.optimizer in ("adam", "adamw"):
        for group in opt.param_groups:
            group["betas"] = (beta1, group["betas"][1])
    return opt


def _forget_d_count(module: nn.Module, incompatible_keys) -> None:
    """After a state is loaded, the Python update count is read from the buffer again."""
    if isinstance(module, GAN):
        module._d_count = None
