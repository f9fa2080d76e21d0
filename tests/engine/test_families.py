"""The contract every model family keeps, run for each family in the registry.

train -> SessionWriter -> Session.open -> snapshots (and the decoder where the family
has one) -> resume one more epoch -> export. A family added to ``engine.models``
is covered by these tests without a line here; one that needs settings of its own
gets them in ``EXTRA``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.checkpoint import load_module_arrays
from engine.decoding import LatentDecoder
from engine.events import EpochEnded, EpochSnapshot, RunOpened, StepMetrics
from engine.models import FAMILIES, Batch, cpu_copy, family_class
from engine.session import Session, SessionError, SessionWriter
from engine.jobs import resume_trainer
from engine.export.figures import export_epoch
from session_support import (Recorder, dataset_for, fan_out, tiny_config,
                             tiny_trainer)

#: Settings a family cannot train without (a classifier's label budget, an RBM's one layer).
EXTRA = {"classifier": {"classifier.labels": 100}, "rbm": {"model.hidden": []}}
#: Every family also trains on a 2-D point set (data space instead of images).
POINTS = {"data.source": "gaussians", "data.n_points": 400, "objective.likelihood": "gaussian",
          "objective.gaussian_std": 0.05}
#: More than one config for some families.
VARIANTS = {
    "autoencoder": {"autoencoder-variational": {"model.variational": True},
                    "autoencoder-points": {"model.variational": True, **POINTS}},
    "classifier": {"classifier-points": POINTS},
    "gan": {"gan-k2": {"gan.d_steps": 2}, "gan-conv": {"model.architecture": "conv",
                                                       "gan.d_dropout": 0.2},
            "gan-points": POINTS},
    "rbm": {"rbm-persistent-ais": {"model.latent_dim": 24, "rbm.persistent": True,
                                   "rbm.chains": 20, "rbm.ais_chains": 8,
                                   "rbm.ais_steps": 20, "rbm.cd_k": 2},
            "rbm-points": POINTS},
}


def cases():
    out = []
    for family in sorted(FAMILIES):
        over = {"model.family": family, **EXTRA.get(family, {})}
        out.append(pytest.param(over, id=family))
        for name, more in VARIANTS.get(family, {}).items():
            out.append(pytest.param({**over, **more}, id=name))
    return out


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def config_for(over):
    base = tiny_config("plain", epochs=2, model__latent_dim=2, optim__batch_size=50)
    return base.with_overrides(over)


@pytest.mark.parametrize("over", cases())
def test_the_model_interface(over):
    cfg = config_for(over)
    ds = dataset_for(cfg)
    trainer = tiny_trainer(cfg)
    model = trainer.model
    assert type(model) is family_class(cfg) and model.family == cfg.model.family
    names = model.term_names()
    assert names[0] == "total" and len(set(names)) == len(names)
    x = torch.from_numpy(ds.images[ds.train_idx[:10]])
    y = torch.from_numpy(ds.labels[ds.train_idx[:10]]) if model.needs_labels else None
    terms = model.loss(Batch(x, y), torch.Generator().manual_seed(0))
    assert tuple(terms) == names and all(t.ndim == 0 and torch.isfinite(t) for t in terms.values())
    optimizers = model.configure_optimizers(cfg.optim)
    assert optimizers and all(isinstance(o, torch.optim.Optimizer) for o in optimizers.values())
    for part in model.interactive_parts:
        assert isinstance(getattr(model, part), torch.nn.Module)
    weights = model.interactive_weights()
    assert all(k.split(".")[0] in model.interactive_parts for k in weights)
    copy = cpu_copy(cfg, ds.image_shape, weights, ds.n_classes)
    for k, v in weights.items():
        np.testing.assert_array_equal(copy.state_dict()[k].numpy(), v)


@pytest.mark.parametrize("over", cases())
def test_train_record_replay_resume_and_export(over, tmp_path):
    cfg = config_for(over)
    path = tmp_path / "run.h5"
    trainer = tiny_trainer(cfg)
    rec = Recorder()
    with SessionWriter(path) as writer:
        assert trainer.run(fan_out(rec, writer)) == "completed"
    spe = trainer.steps_per_epoch
    live = {e.epoch: e for e in rec.of(EpochSnapshot)}
    has_decoder = LatentDecoder.available(cfg)
    decoder_part = trainer.model.decoder_part
    assert has_decoder == (decoder_part is not None)
    assert decoder_part is None or decoder_part in trainer.model.interactive_parts
    evaluation_only = set(trainer.model.validation_only_terms())
    assert evaluation_only <= set(trainer.term_names) and "total" not in evaluation_only

    with Session.open(path) as s:
        run = s.run()
        assert run.config == cfg and run.status == "completed"
        assert run.term_names == list(trainer.term_names)
        assert run.data.n_train == len(trainer.train_idx)
        assert run.data.n_classes == dataset_for(cfg).n_classes
        assert run.history["step"].tolist() == list(range(1, 2 * spe + 1))
        ends = rec.of(EpochEnded)
        for which in ("train", "val"):
            for term in trainer.term_names:
                if which == "train" and term in evaluation_only:
                    # Computed at epoch ends only: no training value, NaN in the tables.
                    assert all(term not in e.train for e in ends)
                    assert np.isnan(run.epoch_history["train"][term]).all()
                    assert np.isnan(run.history[term]).all()
                    continue
                np.testing.assert_array_equal(run.epoch_history[which][term],
                                              [getattr(e, which)[term] for e in ends])
        assert run.snapshot_epochs == [1, 2]
        for epoch in run.snapshot_epochs:
            snap, event = run.snapshot(epoch), live[epoch]
            assert (set(snap.images), set(snap.arrays), set(snap.weights)) == (
                set(event.images), set(event.arrays), set(event.weights))
            for name, img in snap.images.items():
                assert img.ndim == 4 and img.dtype == np.float32
                assert 0.0 <= img.min() and img.max() <= 1.0
                assert np.abs(img - event.images[name]).max() <= 0.5 / 255 + 1e-7
            for part in ("arrays", "weights"):
                for name, a in getattr(snap, part).items():
                    b = np.asarray(getattr(event, part)[name])
                    want = b.astype(np.float16).astype(np.float32) if b.dtype.kind == "f" else b
                    np.testing.assert_array_equal(a, want, err_msg=name)
        if has_decoder:
            decoder = run.decoder(2)
            z = np.random.default_rng(0).standard_normal((6, cfg.model.latent_dim))
            images = decoder.decode(z)
            assert images.shape == (6, *run.data.image_shape) and images.dtype == np.float32
            assert 0.0 <= images.min() and images.max() <= 1.0
            # The decoder holds the snapshot's weights: the model decodes the same with them.
            model = trainer.model
            load_module_arrays(getattr(model, decoder_part), {
                k[len(decoder_part) + 1:]: v for k, v in run.snapshot(2).weights.items()
                if k.startswith(decoder_part + ".")})
            want = model.decode_mean(torch.from_numpy(z.astype(np.float32))).numpy()
            np.testing.assert_allclose(images, want, rtol=1e-5, atol=1e-6)
        else:
            with pytest.raises(SessionError, match=f"{cfg.model.family} has no decoder"):
                run.decoder(2)
        first_rows = {k: v.copy() for k, v in run.history.items()}
        more, until = resume_trainer(run, 1)
    assert until == 3

    with SessionWriter(path, append=True) as writer:
        writer(RunOpened(job_id="", run_id="main"))
        assert more.run(writer, until_epoch=until) == "completed"
    with Session.open(path) as s:
        run = s.run()
        assert list(s.runs) == ["main"] and run.status == "completed"
        # History continues: the same first two epochs, then contiguous steps.
        assert run.history["step"].tolist() == list(range(1, 3 * spe + 1))
        assert run.history["epoch"].tolist() == [e for e in (1, 2, 3) for _ in range(spe)]
        for k, v in first_rows.items():
            if k != "wall_time":
                np.testing.assert_array_equal(run.history[k][:2 * spe], v, err_msg=k)
        assert np.all(np.diff(run.history["wall_time"]) >= 0)
        assert run.epoch_history["epoch"].tolist() == [1, 2, 3]
        assert run.epochs_trained == 3 and run.config.optim.epochs == 3
        assert run.snapshot_epochs == [1, 2, 3]
        assert run.checkpoint().epoch == 3 and run.checkpoint().step == 3 * spe
        out = tmp_path / "figures"
        traits = family_class(cfg).traits(cfg)
        points = run.data.image_shape == (1, 1, 2)
        if points or traits.reconstructs or has_decoder:
            files = export_epoch(run, None, out, scale=1)
            names = [p.name for p in files]
            if points:  # 2-D points: data space is the picture
                assert names == ["epoch0003_data_space.png"]
            else:
                assert ("epoch0003_reconstructions.png" in names) == traits.reconstructs
                assert ("epoch0003_samples.png" in names) == (has_decoder or
                                                               "gibbs_samples" in snap.images)
            assert all(p.stat().st_size > 0 for p in files)
        else:
            with pytest.raises(SessionError, match="no reconstructions or samples"):
                export_epoch(run, None, out)
            assert not out.exists()


def test_every_family_is_exercised():
    ids = {p.id for p in cases()}
    assert set(FAMILIES) <= ids and {"autoencoder", "classifier", "gan", "rbm"} <= set(FAMILIES)
    assert "autoencoder-variational" in ids
    assert {f"{f}-points" for f in FAMILIES} <= ids | {"autoencoder-points"}


def test_steps_are_counted_per_run_and_continue_on_resume():
    """StepMetrics of a resumed trainer start after the checkpoint's step."""
    cfg = config_for({"model.family": "autoencoder"})
    first = tiny_trainer(cfg)
    rec = Recorder()
    first.run(rec, until_epoch=1)
    ck = rec.events[-2].checkpoint
    again = tiny_trainer(cfg, checkpoint=ck)
    rec2 = Recorder()
    again.run(rec2)
    start = rec2.events[0]
    assert (start.start_epoch, start.start_step, start.total_epochs) == (2, ck.step, 2)
    assert [e.step for e in rec2.of(StepMetrics)] == list(range(ck.step + 1,
                                                              2 * first.steps_per_epoch + 1))
