"""Sample quality of runs: the feature space, the shipped classifier, the per-epoch arrays,
each checked against an independent computation (scipy's sqrtm, brute-force neighbours)."""

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch

from engine.analysis.digit_features import load_feature_net, read_meta, weights_path
from engine.analysis.quality_probe import (ARRAY, DATA_SPACE, DIGITS, REAL_ARRAY,
                                           SampleQualityProbe, feature_space, is_score,
                                           scored)
from engine.analysis.sample_quality import precision_recall
from engine.config import DataConfig
from engine.data import load_dataset, load_mnist
from engine.presets import load_preset
from engine.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def _script():
    spec = importlib.util.spec_from_file_location(
        "train_digit_features", ROOT / "scripts" / "train_digit_features.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fid_scipy(a, b):
    """pytorch-fid's formula: scipy's general square root of the covariance product."""
    mu1, mu2 = a.mean(0), b.mean(0)
    c1, c2 = np.atleast_2d(np.cov(a.T)), np.atleast_2d(np.cov(b.T))
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2)
                 - 2 * np.trace(np.real(_sqrtm(c1 @ c2))))


def _sqrtm(m):
    with warnings.catch_warnings():   # singular for dead feature units: the value holds
        warnings.simplefilter("ignore")
        return scipy.linalg.sqrtm(m)


def _brute_pr(real, fake, k=3):
    def radii(x):
        d = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
        np.fill_diagonal(d, np.inf)
        return np.sort(d, axis=1)[:, k - 1]

    def covered(q, pts, r):
        return (np.sqrt(((q[:, None] - pts[None]) ** 2).sum(-1)) <= r[None]).any(1)
    return covered(fake, real, radii(real)).mean(), covered(real, fake, radii(fake)).mean()


# -- which feature space ------------------------------------------------------------------------

def test_feature_space_is_data_space_for_points_digit_features_for_mnist_else_none():
    assert feature_space("gaussians", (1, 1, 2)).name == DATA_SPACE
    assert feature_space("drawn", (1, 1, 2)).name == DATA_SPACE
    assert feature_space("file", (1, 1, 2)).name == DATA_SPACE     # any 2-D points
    assert feature_space("mnist", (1, 28, 28)).name == DIGITS
    assert feature_space("mnist", (1, 32, 32)).name == DIGITS      # resized digits
    assert feature_space("mnist-full", (1, 28, 28)).name == DIGITS
    assert not feature_space("fashion-mnist", (1, 28, 28)).available
    assert not feature_space("mnist", (1, 1, 256)).available       # a greedy stage's codes
    for source, shape, word in (("sprites", (1, 32, 32), "sprites are not digits"),
                                ("file", (3, 64, 64), "not MNIST digits")):
        space = feature_space(source, shape)
        assert not space.available and word in space.why_not
        assert "not available" in space.why_not
    assert "Inception" in feature_space("mnist", (1, 28, 28)).words()


# -- the shipped classifier -----------------------------------------------------------------------

def test_the_shipped_classifier_is_small_and_reaches_its_stated_held_out_accuracy():
    path = weights_path()
    assert path.is_file() and path.stat().st_size < 400_000
    meta = read_meta()
    assert meta["test_accuracy"] >= 0.95 and meta["n_test"] == 1000
    data = load_mnist()
    _, test = _script().split(data.labels, meta["seed"])
    net = load_feature_net()
    with torch.no_grad():
        logits = net(torch.from_numpy(data.images[test]))
    accuracy = float((logits.argmax(1).numpy() == data.labels[test]).mean())
    assert accuracy == pytest.approx(meta["test_accuracy"], abs=1e-4)   # the stated number
    with np.load(path, allow_pickle=False) as f:                        # no pickle inside
        assert all(f[k].dtype != object for k in f.files)


def test_digit_features_tell_mode_collapse_and_noise_from_real_digits():
    """Samples of one digit only: realistic (high precision) but covering a tenth of the data
    (low recall); uniform noise: FID far above real-versus-real, precision 0."""
    data = load_mnist()
    net = load_feature_net()
    rng = np.random.default_rng(0)
    real_idx = rng.choice(len(data.images), 600, replace=False)
    real_a, real_b = real_idx[:300], real_idx[300:]
    ones = np.flatnonzero(data.labels == 1)[:300]

    def feats(x):
        with torch.no_grad():
            return net.features(torch.from_numpy(np.asarray(x, np.float32))).double().numpy()
    fa, fb, f1 = feats(data.images[real_a]), feats(data.images[real_b]), feats(data.images[ones])
    noise = feats(rng.uniform(0, 1, (300, 1, 28, 28)))
    p_real, r_real = precision_recall(fa, fb)
    p_one, r_one = precision_recall(fa, f1)
    p_noise, _ = precision_recall(fa, noise)
    assert p_real > 0.8 and r_real > 0.8
    assert p_one > 0.8 and r_one < 0.35
    assert p_noise == 0.0
    assert _fid_scipy(fa, noise) > 20 * _fid_scipy(fa, fb)


# -- the probe's arrays ------------------------------------------------------------------------------

def test_the_probe_scores_2d_samples_as_scipy_and_brute_force_do():
    cfg = DataConfig(source="gaussians", n_points=800)
    ds = load_dataset(cfg, 0)
    take = lambda idx: torch.from_numpy(ds.images[idx])   # noqa: E731
    probe = SampleQualityProbe(load_preset("gan-toy"), ds, take, "cpu")
    fake = np.random.default_rng(1).uniform(0.2, 0.8, (200, 2)).astype(np.float32)
    arrays = probe.arrays(None, {"generated_points": fake}, torch.Generator())
    real = ds.images[ds.val_idx].reshape(-1, 2).astype(np.float64)
    n = len(real)
    want = [_fid_scipy(fake[:n].astype(np.float64), real), *_brute_pr(real, fake[:n])]
    np.testing.assert_allclose(arrays[ARRAY], want, rtol=1e-5, atol=1e-7)
    # Real training points against the same validation points: a near-perfect model.
    fid_real, p, r = arrays[REAL_ARRAY]
    assert fid_real < 0.05 * want[0] and p > 0.8 and r > 0.8


def _tiny(preset, **more):
    values = {"optim.epochs": 1, "optim.batch_size": 64, "data.n_probe": 16}
    values.update(more)
    return load_preset(preset).with_overrides(values)


def _last_snapshot(cfg):
    snaps = []
    Trainer(cfg).run(lambda e: snaps.append(e) if type(e).__name__ == "EpochSnapshot" else None)
    return snaps[-1].arrays


@pytest.mark.parametrize("preset", ["gan-toy", "vae-toy", "rbm-toy"])
def test_every_generative_family_on_points_has_its_scores_every_epoch(preset):
    arrays = _last_snapshot(_tiny(preset, **{"data.n_points": 400}))
    scores = arrays[ARRAY]
    assert scores.shape == (3,) and np.isfinite(scores).all()
    assert scores[0] >= 0 and 0 <= scores[1] <= 1 and 0 <= scores[2] <= 1
    # For points the samples scored are the snapshot's generated points: check it.
    real = arrays["real_points"][:40].astype(np.float64)   # validation points: 400 * 0.1
    fake = arrays["generated_points"][:40].astype(np.float64)
    assert scores[0] == pytest.approx(_fid_scipy(fake, real), rel=1e-4, abs=1e-7)


def test_a_vae_on_digits_is_scored_in_digit_features_and_a_plain_autoencoder_not_at_all():
    small = {"data.limit": 300, "model.hidden": [32]}
    arrays = _last_snapshot(_tiny("vae-2d", **small))
    assert np.isfinite(arrays[ARRAY]).all() and np.isfinite(arrays[REAL_ARRAY]).all()
    assert ARRAY not in _last_snapshot(_tiny("plain", **small))
    assert ARRAY not in _last_snapshot(_tiny("gan", **small, **{"data.source": "sprites",
                                                                 "data.n_sprites": 200}))


def test_quality_every_k_scores_the_first_and_every_kth_epoch():
    snaps = []
    cfg = _tiny("gan-toy", **{"data.n_points": 300, "optim.epochs": 7, "quality_every": 3})
    Trainer(cfg).run(lambda e: snaps.append(e) if type(e).__name__ == "EpochSnapshot" else None)
    assert [s.epoch for s in snaps if is_score(s.arrays[ARRAY])] == [1, 3, 6]
    # Every epoch carries the arrays (a session stores each at every epoch): NaN between.
    assert all(np.isnan(s.arrays[ARRAY]).all() for s in snaps if s.epoch in (2, 4, 5, 7))
    # By default: 2-D points every epoch, images every 5th.
    assert [e for e in range(1, 13) if scored(load_preset("gan"), (1, 28, 28), e)] == [
        1, 5, 10]
    assert all(scored(load_preset("gan-toy"), (1, 1, 2), e) for e in range(1, 13))
    assert [e for e in range(1, 21) if scored(load_preset("rbm"), (1, 28, 28), e)] == [
        1, 10, 20]


def test_a_session_of_a_run_scored_every_third_epoch_reads_back(tmp_path):
    from engine.export.quality_words import quality_series
    from engine.session import Session, SessionWriter
    cfg = _tiny("gan-toy", **{"data.n_points": 300, "optim.epochs": 5, "quality_every": 3})
    with SessionWriter(tmp_path / "k3.h5") as writer:
        Trainer(cfg).run(writer)
    with Session.open(tmp_path / "k3.h5") as s:
        run = s.run()
        series = quality_series(run)
        assert series.epochs.tolist() == [1, 3]
        np.testing.assert_allclose(series.values[-1], run.snapshot(3).arrays[ARRAY])
        assert np.isnan(run.snapshot(4).arrays[ARRAY]).all()


def test_scoring_leaves_the_training_stream_alone_and_repeats_exactly():
    cfg = _tiny("gan-toy", **{"data.n_points": 400})
    trainer = Trainer(cfg)
    # The training streams are derived from (seed, step), so what scoring could disturb is
    # a generator someone else draws from: the global one, and the step noise's own.
    global_state = torch.get_rng_state().clone()
    noise = trainer.streams.step_noise(5)
    noise_state = noise.get_state().clone()
    first = trainer.snapshot(1).arrays[ARRAY]
    assert torch.equal(torch.get_rng_state(), global_state)
    assert torch.equal(noise.get_state(), noise_state)
    np.testing.assert_array_equal(trainer.snapshot(1).arrays[ARRAY], first)


def test_missing_classifier_weights_leave_the_run_training_without_scores(monkeypatch, tmp_path):
    import engine.analysis.digit_features as digit_features
    monkeypatch.setattr(digit_features, "weights_path", lambda: tmp_path / "gone.npz")
    arrays = _last_snapshot(_tiny("vae-2d", **{"data.limit": 300, "model.hidden": [32]}))
    assert ARRAY not in arrays and "map_latents" in arrays


def test_draw_samples_of_each_family():
    from engine.models import build_model
    g = torch.Generator().manual_seed(0)
    for preset, shape in (("vae-2d", (1, 28, 28)), ("gan", (1, 28, 28)), ("rbm", (1, 28, 28)),
                          ("rbm-toy", (1, 1, 2))):
        cfg = load_preset(preset)
        model = build_model(cfg, shape).eval()
        x = model.draw_samples(5, g)
        assert x.shape == (5, *shape) and torch.isfinite(x).all()
        if shape != (1, 1, 2):   # a Gaussian RBM's points may leave the unit square
            assert float(x.min()) >= 0 and float(x.max()) <= 1
    plain = build_model(load_preset("plain"), (1, 28, 28))
    assert plain.draw_samples(5, g) is None
