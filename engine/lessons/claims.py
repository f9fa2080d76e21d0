"""One measurement per lesson: the numbers behind its claim, and whether it held.

``measure_claim(lesson, paths)`` runs the lesson's measurement (``lesson.measure``,
a key of :data:`MEASURES`) on its sessions, one per run in the lesson's order,
and returns a :class:`ClaimResult`: the values, whether the claim held with
its margin, and a sentence that says it in words. Each measurement names its
runs by position (the order of the lesson file), so a teacher's lesson can
reuse a measurement with runs of other settings.

The margins are fixed here, so "held" means the same for every run of a
lesson; a claim that did not hold is reported as such, never adjusted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from engine.analysis.identity_probe import NOISE_IMAGES, identity_ratio
from engine.analysis.latent_usage import active_units
from engine.analysis.sparsity import NEAR_ZERO, near_zero_fraction
from engine.corruption import corrupt
from engine.errors import ConfigError
from engine.lessons import measures as m
from engine.session import Session


@dataclass(frozen=True)
class ClaimResult:
    """``values``: the numbers by name; ``holds``: the claim held with its margin;
    ``sentence``: the numbers and the verdict in words."""

    values: dict[str, float]
    holds: bool
    sentence: str


MEASURES: dict[str, Callable[[Sequence[Path]], ClaimResult]] = {}


def measure(name: str, runs: int):
    """Register a measurement that reads ``runs`` sessions (at least)."""
    def register(fn):
        def checked(paths: Sequence[Path]) -> ClaimResult:
            if len(paths) < runs:
                raise ConfigError(f"the measurement '{name}' needs {runs} runs (got "
                                  f"{len(paths)})", "runs")
            return fn(list(paths))
        checked.runs = runs
        checked.__doc__ = fn.__doc__
        MEASURES[name] = checked
        return fn
    return register


def measure_claim(lesson, paths: Sequence[Path]) -> ClaimResult:
    """The lesson's measurement on its sessions (one per run, in order).

    Raises
    ------
    ConfigError
        The runs are not what the measurement reads (a teacher's lesson that names a
        measurement for other runs: a VAE's claim on plain runs, points for images).
    SessionError
        A session that cannot be read.
    """
    try:
        return MEASURES[lesson.measure](paths)
    except ConfigError:
        raise
    except (KeyError, IndexError, ValueError, ZeroDivisionError, TypeError) as e:
        raise ConfigError(f"cannot be computed from the lesson's runs ({type(e).__name__}: "
                          f"{e}); check that its runs are the ones this measurement "
                          f"compares (docs/lessons.md)", "measure") from None


def _verdict(holds: bool) -> str:
    return "the claim held" if holds else "the claim did NOT hold this time"


# -- 1. what an autoencoder is --------------------------------------------------------------

@measure("reconstruction_improves", 1)
def reconstruction_improves(paths):
    """Validation reconstruction error (MSE per pixel) after the first and the last epoch,
    from the probe snapshots: it must fall by at least 10%."""
    with Session.open(paths[0]) as s:
        run = s.run()
        x = run.data.probe_images
        first, last = run.snapshot_epochs[0], run.snapshot_epochs[-1]
        err = [float(np.mean((run.snapshot(e).images["probe_recon"] - x) ** 2))
               for e in (first, last)]
    holds = err[1] < 0.9 * err[0]
    return ClaimResult({"error_first_epoch": err[0], "error_last_epoch": err[1],
                        "first_epoch": first, "last_epoch": last}, holds,
                       f"reconstruction error {err[0]:.4f} after epoch {first}, {err[1]:.4f} "
                       f"after epoch {last} (mean squared error per pixel): "
                       f"{_verdict(holds)} (it must fall by 10%)")


# -- 2. the identity risk --------------------------------------------------------------------

def _identity(path: Path) -> tuple[float, float, float]:
    """(identity ratio, noise reconstruction error, digit reconstruction error) at a run's
    last snapshot: :func:`~engine.analysis.identity_probe.identity_ratio` (the share of
    the noise it does not copy: near 0 copies its input), the mean ``identity_error``
    over the probe's noise images, and the mean ``probe_error``."""
    with Session.open(path) as s:
        run = s.run()
        arrays = m.last_snapshot(run).arrays
        noise = m.snapshot_array(run, "identity_error")[:NOISE_IMAGES]
        digits = m.snapshot_array(run, "probe_error")
        m.snapshot_array(run, "identity_flat_error")
    return identity_ratio(arrays), float(noise.mean()), float(digits.mean())


@measure("identity_risk", 2)
def identity_risk(paths):
    """Runs: undercomplete, overcomplete. The identity probe's noise images (never seen in
    training) reconstructed; the identity ratio is the share of the noise a model does not
    copy (its error over that of a flat grey image). The overcomplete one must copy: its
    ratio at most 70% of the undercomplete one's."""
    (r_u, n_u, d_u), (r_o, n_o, d_o) = _identity(paths[0]), _identity(paths[1])
    ratio = r_o / r_u
    holds = ratio < 0.7
    return ClaimResult({"identity_ratio_undercomplete": r_u, "identity_ratio_overcomplete": r_o,
                        "noise_error_undercomplete": n_u, "noise_error_overcomplete": n_o,
                        "digit_error_undercomplete": d_u, "digit_error_overcomplete": d_o,
                        "over_under": ratio}, holds,
                       f"noise not copied (identity ratio) overcomplete / undercomplete = "
                       f"{r_o:.3f} / {r_u:.3f} = {ratio:.2f}; noise-reconstruction error "
                       f"{n_o:.4f} / {n_u:.4f}, digits {d_o:.4f} / {d_u:.4f}: "
                       f"{_verdict(holds)} (the overcomplete one copies noise: below 0.7)")


# -- 3. regularisation instead of a bottleneck ------------------------------------------------

@measure("identity_removed", 2)
def identity_removed(paths):
    """Runs: the plain overcomplete one, then regularised ones of the same size. Each
    regulariser must raise the identity ratio (the share of noise not copied) by 25%."""
    labels = [p.stem for p in paths]
    found = [_identity(p) for p in paths]
    base = found[0][0]
    values = {f"identity_ratio_{lab}": f[0] for lab, f in zip(labels, found)}
    values.update({f"noise_error_{lab}": f[1] for lab, f in zip(labels, found)})
    values.update({f"digit_error_{lab}": f[2] for lab, f in zip(labels, found)})
    rises = {lab: f[0] / base for lab, f in zip(labels[1:], found[1:])}
    values.update({f"rise_{lab}": r for lab, r in rises.items()})
    holds = all(r > 1.25 for r in rises.values())
    words = ", ".join(f"{lab} {found[i + 1][0]:.3f} (x{r:.2f})"
                      for i, (lab, r) in enumerate(rises.items()))
    return ClaimResult(values, holds,
                       f"share of the noise not copied (identity ratio): {labels[0]} "
                       f"{base:.3f}; {words}: {_verdict(holds)} (each regulariser must raise "
                       f"it by 25%)")


# -- 4. sparse --------------------------------------------------------------------------------

@measure("sparsity", 2)
def sparsity(paths):
    """Runs: λ = 0, λ > 0. Fraction of code activations with |h| < NEAR_ZERO over the
    validation images of the last snapshot's map: the penalty must raise it by 0.1."""
    fr = []
    for p in paths[:2]:
        with Session.open(p) as s:
            codes = m.snapshot_array(s.run(), "map_latents")
        fr.append(float(near_zero_fraction(codes).mean()))
    holds = fr[1] > fr[0] + 0.1
    return ClaimResult({"zero_fraction_without": fr[0], "zero_fraction_with": fr[1]}, holds,
                       f"fraction of code activations at zero (|h| < {NEAR_ZERO}): "
                       f"{fr[0]:.2f} without the L1 penalty, {fr[1]:.2f} with it: "
                       f"{_verdict(holds)} (it must rise by 0.1)")


# -- 5. contractive ---------------------------------------------------------------------------

@measure("contractive", 2)
def contractive(paths):
    """Runs: plain, contractive. Mean ‖∂h/∂x‖_F over the probe images of the last
    snapshot (``jacobian_frobenius``): the penalty must lower it to 70% of the plain one's."""
    norms = []
    for p in paths[:2]:
        with Session.open(p) as s:
            norms.append(float(m.snapshot_array(s.run(), "jacobian_frobenius").mean()))
    ratio = norms[1] / norms[0]
    holds = ratio < 0.7
    return ClaimResult({"jacobian_norm_plain": norms[0], "jacobian_norm_contractive": norms[1],
                        "ratio": ratio}, holds,
                       f"Jacobian norm ‖∂h/∂x‖_F plain {norms[0]:.3f}, contractive "
                       f"{norms[1]:.3f} (x{ratio:.2f}): {_verdict(holds)} (below x0.7)")


# -- 6. denoising -----------------------------------------------------------------------------

@measure("denoising", 2)
def denoising(paths):
    """Runs: plain, denoising. Validation images corrupted as the denoiser was trained
    (same kind and level, a fixed seed), reconstructed, compared with the clean images:
    the denoiser's error must be at most 80% of the plain one's."""
    with Session.open(paths[1]) as s:
        o = s.run().config.objective
        kind, level = o.corruption, o.corruption_level
    errs = []
    for p in paths[:2]:
        with Session.open(p) as s:
            run = s.run()
            model = m.final_model(run)
            clean = m.held_out_images(run)
            noisy = corrupt(clean, kind, level, torch.Generator().manual_seed(0))
            with torch.no_grad():
                errs.append(float((model.reconstruct(noisy) - clean).pow(2).mean()))
    ratio = errs[1] / errs[0]
    holds = ratio < 0.8
    return ClaimResult({"error_plain": errs[0], "error_denoising": errs[1], "ratio": ratio,
                        "corruption_level": level}, holds,
                       f"corrupted digits ({kind} {level:g}) against the clean originals: "
                       f"plain {errs[0]:.4f}, denoising {errs[1]:.4f} (x{ratio:.2f}): "
                       f"{_verdict(holds)} (below x0.8)")


# -- 7. cost functions are likelihoods -----------------------------------------------------

@measure("likelihoods", 1)
def likelihoods(paths):
    """Runs: one per likelihood. Bits per pixel of the validation images, each model's
    output distribution discretised to the 256 grey levels: every one finite and below
    8 (a uniform guess), so they are on one scale and can be compared."""
    from engine.likelihoods import discrete_nll_bits
    values, words = {}, []
    for p in paths:
        with Session.open(p) as s:
            run = s.run()
            model = m.final_model(run)
            x = m.held_out_images(run)
            with torch.no_grad():
                code = model.encoder(x, sample=False)
                bits = float(discrete_nll_bits(model.likelihood, x, model.decoder(code.z)).mean())
            name = run.config.objective.likelihood
            values[f"bits_per_pixel_{name}"] = bits
            values[f"recon_nats_{name}"] = m.last_val(run, "recon")
            words.append(f"{name} {bits:.3f}")
    bits = [v for k, v in values.items() if k.startswith("bits")]
    holds = all(math.isfinite(b) and 0 < b < 8 for b in bits)
    return ClaimResult(values, holds,
                       "negative log-likelihood of the validation digits in bits per pixel "
                       f"(8-bit grey levels; 8 = a uniform guess): {', '.join(words)}: "
                       f"{_verdict(holds)} (every one finite and below 8)")


# -- 8. stochastic encoders and decoders ------------------------------------------------------

@measure("stochastic_codes", 2)
def stochastic_codes(paths):
    """Runs: a VAE, an RBM. The VAE's q(z|x) has a spread: its mean standard deviation on
    the probe images lies between 0 and 1 (narrower than the prior N(0, I), wider than a
    point); the RBM's p(h|v) is random too: the mean standard deviation √(p(1−p)) of its
    hidden units on the probe images is above 0.05."""
    with Session.open(paths[0]) as s:
        run = s.run()
        snap = run.snapshot(run.snapshot_epochs[-1])
        sd = float(np.exp(0.5 * snap.arrays["probe_latent_logvar"].astype(np.float64)).mean())
    with Session.open(paths[1]) as s:
        run = s.run()
        snap = run.snapshot(run.snapshot_epochs[-1])
        p = snap.arrays["probe_hidden"].astype(np.float64)
        rbm_sd = float(np.sqrt(p * (1 - p)).mean())
        recon = m.last_val(run, "total")
    holds = 0 < sd < 1 and rbm_sd > 0.05
    return ClaimResult({"vae_posterior_std": sd, "rbm_hidden_std": rbm_sd,
                        "rbm_recon_nll": recon}, holds,
                       f"the VAE's q(z|x) has mean standard deviation {sd:.3f} (the prior's is "
                       f"1); the RBM's p(h|v) leaves each hidden unit a standard deviation of "
                       f"{rbm_sd:.3f} on average: {_verdict(holds)} (both encoders are "
                       f"distributions: 0 < {sd:.2f} < 1 and {rbm_sd:.2f} > 0.05)")


# -- 9. pretrain without labels, refine with backprop ----------------------------------------

def _accuracies(path: Path) -> dict[str, float]:
    """column -> final validation accuracy of a comparison session (one budget)."""
    from engine.pretraining.comparison import comparison_table
    with Session.open(path) as s:
        table = comparison_table(s)
    if table is None:
        raise ConfigError(f"{path} holds no pretrained-versus-random comparison", "runs")
    return {col: float(v[0]) for col, v in table.accuracy.items()}


@measure("pretraining_gain", 2)
def pretraining_gain(paths):
    """Runs: the pretraining, then one comparison per classifier seed. The pretrained
    encoder must beat the random one in every seed."""
    accs = [_accuracies(p) for p in paths[1:]]
    pre = np.array([a["pretrained"] for a in accs])
    rnd = np.array([a["random"] for a in accs])
    gain = 100 * (pre - rnd)
    holds = bool(np.all(gain > 0))
    values = {"pretrained_mean": float(pre.mean()), "random_mean": float(rnd.mean()),
              "gain_points_mean": float(gain.mean()), "gain_points_min": float(gain.min()),
              "gain_points_max": float(gain.max()), "seeds": float(len(accs))}
    return ClaimResult(values, holds,
                       f"validation accuracy pretrained {100 * pre.mean():.1f}% versus random "
                       f"{100 * rnd.mean():.1f}% over {len(accs)} seeds (gain "
                       f"{gain.min():+.1f} to {gain.max():+.1f} points): {_verdict(holds)} "
                       f"(pretrained ahead in every seed)")


# -- 10. greedy layer-wise, the alternative to RBMs -------------------------------------------

@measure("greedy_vs_rbm", 3)
def greedy_vs_rbm(paths):
    """Runs: the autoencoder stack, the RBM stack (DBN), the comparison of both with random.
    Both pretrainings must beat random initialisation."""
    acc = _accuracies(paths[2])
    ae, dbn, rnd = acc.get("ae-pretrained"), acc.get("rbm-pretrained"), acc["random"]
    holds = ae > rnd and dbn > rnd
    return ClaimResult({"ae_accuracy": ae, "dbn_accuracy": dbn, "random_accuracy": rnd}, holds,
                       f"validation accuracy: autoencoder stack {100 * ae:.1f}%, RBM stack "
                       f"{100 * dbn:.1f}%, random {100 * rnd:.1f}%: {_verdict(holds)} (both "
                       f"pretrainings ahead of random)")


# -- 11. explicit versus implicit generative models -------------------------------------------

def _modes_covered(points: np.ndarray, source: str, noise: float | None) -> tuple[int, float]:
    """(modes with at least 2% of the points within 3 noise std of them, fraction of points
    near any mode) for the 8 Gaussians."""
    from engine.data.toy2d import DEFAULT_NOISE, _PLACEMENT, to_data_space
    angle = 2 * np.pi * np.arange(8) / 8
    centres = to_data_space(source, np.stack([np.cos(angle), np.sin(angle)], 1))
    radius = 3 * (DEFAULT_NOISE[source] if noise is None else noise) / _PLACEMENT[source][2]
    d = np.linalg.norm(points[:, None, :] - centres[None], axis=2)
    near = d.min(1) < radius
    counts = np.bincount(d.argmin(1)[near], minlength=8)
    return int((counts >= 0.02 * len(points)).sum()), float(near.mean())


def _chance_near(source: str, noise: float | None) -> float:
    """The fraction of data space within 3 noise std of a mode: what points spread
    uniformly over the square would score (a 200 x 200 grid of them)."""
    g = (np.arange(200) + 0.5) / 200
    grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    return _modes_covered(grid, source, noise)[1]


@measure("explicit_implicit", 2)
def explicit_implicit(paths):
    """Runs: a VAE, a GAN, on the same 2-D data and latent size. The VAE gives a bound on
    log p(x) (its ELBO, finite) and reconstructs; the GAN gives neither, yet it generates:
    the share of its samples within 3 noise std of a mode must be 3 times what points
    spread uniformly would score (whether it covers every mode or collapses onto a few)."""
    with Session.open(paths[0]) as s:
        run = s.run()
        elbo = m.last_val(run, "elbo")
        snap = run.snapshot(run.snapshot_epochs[-1])
        d = run.config.data
        vae_modes, vae_near = _modes_covered(snap.arrays["generated_points"], d.source,
                                             d.point_noise)
        probe = run.data.probe_images.reshape(len(run.data.probe_images), -1)
        recon = float(np.mean((snap.arrays["recon_points"] - probe) ** 2))
    with Session.open(paths[1]) as s:
        run = s.run()
        snap = run.snapshot(run.snapshot_epochs[-1])
        gan_terms = set(run.epoch_history.get("val", {})) | set(run.epoch_history.get("train", {}))
        gan_modes, gan_near = _modes_covered(snap.arrays["generated_points"], d.source,
                                             d.point_noise)
    chance = _chance_near(d.source, d.point_noise)
    gan_bound = bool(gan_terms & {"elbo", "recon", "nll_exact", "nll_ais"})
    holds = math.isfinite(elbo) and not gan_bound and gan_near >= 3 * chance
    collapse = "; fewer modes than the VAE: mode collapse" if gan_modes < vae_modes else ""
    return ClaimResult({"vae_elbo": elbo, "vae_recon_error": recon, "vae_modes": vae_modes,
                        "vae_on_data": vae_near, "gan_modes": gan_modes, "gan_on_data": gan_near,
                        "uniform_on_data": chance, "gan_has_likelihood": float(gan_bound)},
                       holds,
                       f"VAE: ELBO {elbo:.3f} nats per point (a bound on log p(x)), "
                       f"reconstruction error {recon:.5f}, samples on {vae_modes} of 8 modes "
                       f"({100 * vae_near:.0f}% near one); GAN: no likelihood, no "
                       f"reconstruction, samples on {gan_modes} of 8 modes ({100 * gan_near:.0f}% "
                       f"near one, uniform points {100 * chance:.0f}%{collapse}): "
                       f"{_verdict(holds)} (a bound only from the VAE; the GAN's samples on the "
                       f"data at 3 times chance)")


# -- 12. the VAE's tension ---------------------------------------------------------------

@measure("beta_tension", 2)
def beta_tension(paths):
    """Runs: VAEs with growing β. The number of active units (variance over the map's
    validation images of the mean code above 0.01, Burda et al.) must be smaller at the largest β than at the
    smallest, and the KL must fall as β grows."""
    rows = []
    for p in paths:
        with Session.open(p) as s:
            run = s.run()
            act = int(active_units(m.snapshot_array(run, "map_latents")).sum())
            rows.append((run.config.objective.beta, act, m.last_val(run, "kl"),
                         m.last_val(run, "recon")))
    rows.sort()
    values = {}
    for beta, act, kl, rec in rows:
        values[f"active_units_beta_{beta:g}"] = act
        values[f"kl_beta_{beta:g}"] = kl
        values[f"recon_beta_{beta:g}"] = rec
    kls = [r[2] for r in rows]
    holds = rows[-1][1] < rows[0][1] and all(b < a for a, b in zip(kls, kls[1:]))
    words = "; ".join(f"β {b:g}: {a} active units, KL {k:.1f}, recon {r:.1f}"
                      for b, a, k, r in rows)
    return ClaimResult(values, holds, f"{words} (nats per image): {_verdict(holds)} (fewer "
                                      f"active units and less KL as β grows)")
