"""The Trainer: events, reproducibility, pause/resume/stop, divergence, validation."""

import threading
import time

import numpy as np
import pytest
import torch

from engine.config import RunConfig
from engine.control import TrainingControl
from engine.data import load_dataset
from engine.events import (CheckpointSaved, EpochEnded, EpochSnapshot, RunFailed, RunFinished,
                           RunStarted, StepMetrics)
from engine.trainer import Trainer


def tiny(**over) -> RunConfig:
    base = {"data.limit": 300, "data.n_probe": 16, "model.hidden": [32], "model.latent_dim": 4,
            "optim.epochs": 2, "optim.batch_size": 50, "device": "cpu"}
    base.update(over)
    return RunConfig().with_overrides(base)


@pytest.fixture(scope="module")
def mnist300():
    return load_dataset(tiny().data, 0)


def run(cfg, dataset, control=None, until=None):
    events = []
    outcome = Trainer(cfg, dataset).run(events.append, control, until)
    return outcome, events


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def test_event_sequence_and_contents(mnist300):
    cfg = tiny(**{"model.variational": True, "objective.sparsity": 0.01})
    outcome, events = run(cfg, mnist300)
    assert outcome == "completed"
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    start = events[0]
    assert start.term_names == ("total", "recon", "kl", "elbo", "sparsity")
    steps = of(events, StepMetrics)
    assert len(steps) == 2 * start.steps_per_epoch == 2 * 6
    assert [s.step for s in steps] == list(range(1, 13))
    assert all(set(s.terms) == set(start.term_names) for s in steps)
    ends = of(events, EpochEnded)
    assert [e.epoch for e in ends] == [1, 2]
    assert set(ends[0].val) == set(start.term_names)
    snaps = of(events, EpochSnapshot)
    assert [s.epoch for s in snaps] == [1, 2]
    s = snaps[-1]
    recon = s.images["probe_recon"]
    assert set(s.images) == {"probe_inputs", "probe_recon", "identity_inputs", "identity_recon"}
    assert recon.shape == (16, 1, 28, 28) and recon.dtype == np.float32
    assert 0 <= recon.min() and recon.max() <= 1
    a = s.arrays
    assert a["probe_latent_mean"].shape == (16, 4) and a["probe_latent_logvar"].shape == (16, 4)
    assert a["map_latents"].shape == (mnist300.n_val, 4)
    assert a["map_latent_logvar"].shape == (mnist300.n_val, 4)
    assert a["kl_per_dim"].shape == (4,) and np.all(a["kl_per_dim"] >= 0)
    # The snapshot carries the encoder and decoder (the window's CPU copy) and nothing else.
    assert s.weights and {k.split(".")[0] for k in s.weights} == {"encoder", "decoder"}
    assert any(k.endswith("weight") for k in s.weights)
    # the epoch's train means are the sample-weighted means of its steps
    first = [st.terms["recon"] for st in steps[:6]]
    sizes = [50] * 5 + [mnist300.n_train - 250]
    assert ends[0].train["recon"] == pytest.approx(np.average(first, weights=sizes))
    assert len(of(events, CheckpointSaved)) == 2


def test_snapshot_codes_and_kl_are_the_models_on_the_validation_set(mnist300):
    cfg = tiny(**{"model.variational": True, "optim.epochs": 1})
    trainer = Trainer(cfg, mnist300)
    events = []
    trainer.run(events.append)
    snap = of(events, EpochSnapshot)[-1]
    val = torch.from_numpy(mnist300.images[mnist300.val_idx])
    with torch.no_grad():
        code = trainer.model.encoder(val, sample=False)
    np.testing.assert_allclose(snap.arrays["map_latents"], code.mean.numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(snap.arrays["map_latent_logvar"], code.logvar.numpy(),
                               rtol=1e-5, atol=1e-6)
    # kl_per_dim is the validation set's mean KL(q(z|x) || N(0, I)) per dimension.
    q = torch.distributions.Normal(code.mean, (0.5 * code.logvar).exp())
    kl = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).mean(0)
    np.testing.assert_allclose(snap.arrays["kl_per_dim"], kl.numpy(), rtol=1e-4, atol=1e-6)
    # ...and its sum is the validation "kl" term of that epoch.
    assert of(events, EpochEnded)[-1].val["kl"] == pytest.approx(float(kl.sum()), rel=1e-4)


def test_until_epoch_zero_trains_nothing_but_saves_a_checkpoint(mnist300):
    trainer = Trainer(tiny(), mnist300)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    events = []
    assert trainer.run(events.append, until_epoch=0) == "completed"
    assert [type(e) for e in events] == [RunStarted, CheckpointSaved, RunFinished]
    assert events[0].total_epochs == 0 and events[0].start_epoch == 1
    ck = events[1].checkpoint
    assert (ck.epoch, ck.step, ck.position) == (0, 0, 0)
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(v, before[k])
        np.testing.assert_array_equal(ck.model[k], v.numpy())
    assert events[2].reason == "completed" and events[2].step == 0


def test_init_weights_replace_part_of_the_initial_state(mnist300):
    from engine.errors import SessionError
    cfg = tiny(**{"optim.epochs": 1})
    fresh = Trainer(cfg, mnist300).model.state_dict()
    start = {k: np.full(v.shape, 0.01, np.float32) for k, v in fresh.items()
             if k.startswith("encoder.")}
    model = Trainer(cfg, mnist300, init_weights=start).model.state_dict()
    for k, v in model.items():
        if k in start:
            np.testing.assert_array_equal(v.numpy(), start[k])
        else:  # the rest keeps the seeded initialisation
            assert torch.equal(v, fresh[k]), k
    with pytest.raises(SessionError, match="do not fit"):
        Trainer(cfg, mnist300, init_weights={"encoder.body.head.weight": np.zeros((2, 2))})


def test_training_lowers_the_validation_loss(mnist300):
    _, events = run(tiny(**{"optim.epochs": 5}), mnist300)
    ends = of(events, EpochEnded)
    assert ends[-1].val["recon"] < 0.8 * ends[0].val["recon"]


def test_seeded_runs_are_reproducible_and_seed_matters(mnist300):
    cfg = tiny(**{"model.variational": True, "objective.corruption": "gaussian",
                  "objective.corruption_level": 0.2})
    a = [e.terms["total"] for e in run(cfg, mnist300)[1] if isinstance(e, StepMetrics)]
    b = [e.terms["total"] for e in run(cfg, mnist300)[1] if isinstance(e, StepMetrics)]
    c = [e.terms["total"] for e in run(cfg.with_overrides({"seed": 1}), mnist300)[1]
         if isinstance(e, StepMetrics)]
    assert a == b
    assert a != c


def test_stop_takes_effect_within_one_batch(mnist300):
    control = TrainingControl()
    events = []

    def emit(e):
        events.append(e)
        if isinstance(e, StepMetrics) and e.step == 3:
            control.stop()

    outcome = Trainer(tiny(), mnist300).run(emit, control)
    assert outcome == "stopped"
    assert of(events, StepMetrics)[-1].step == 3
    fin = events[-1]
    assert isinstance(fin, RunFinished) and fin.reason == "stopped" and fin.step == 3
    ck = of(events, CheckpointSaved)[-1].checkpoint
    assert (ck.step, ck.position, ck.epoch) == (3, 3, 0)


def test_pause_blocks_training_until_resume(mnist300):
    control = TrainingControl()
    steps = []

    def emit(e):
        if isinstance(e, StepMetrics):
            steps.append(e.step)
            if e.step == 2:
                control.pause()

    worker = threading.Thread(target=Trainer(tiny(), mnist300).run, args=(emit, control))
    worker.start()
    deadline = time.time() + 10
    while not steps or steps[-1] < 2:
        assert time.time() < deadline
        time.sleep(0.01)
    time.sleep(0.3)
    assert steps == [1, 2]  # nothing happens while paused
    control.resume()
    worker.join(10)
    assert not worker.is_alive() and steps == list(range(1, 13))


def test_stop_while_paused_ends_the_run(mnist300):
    control = TrainingControl()
    control.pause()
    result = []
    worker = threading.Thread(target=lambda: result.append(
        Trainer(tiny(), mnist300).run(lambda e: None, control)))
    worker.start()
    time.sleep(0.2)
    control.stop()
    worker.join(5)
    assert result == ["stopped"]


def test_non_finite_loss_fails_with_a_remedy_and_keeps_finite_weights(mnist300):
    cfg = tiny(**{"optim.optimizer": "sgd", "optim.lr": 5.0, "objective.likelihood": "gaussian",
                  "optim.epochs": 3, "model.activation": "elu"})
    trainer = Trainer(cfg, mnist300)
    events = []
    outcome = trainer.run(events.append)
    assert outcome == "failed"
    fail = events[-1]
    assert isinstance(fail, RunFailed)
    assert fail.term is not None and fail.term in fail.message
    assert "learning rate" in fail.message and "clipping" in fail.message
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    last = of(events, StepMetrics)
    assert not last or last[-1].step == fail.step


def test_gradient_clipping_bounds_the_update(mnist300):
    cfg = tiny(**{"optim.optimizer": "sgd", "optim.lr": 1.0, "optim.momentum": 0.0,
                  "optim.grad_clip": 0.01, "optim.epochs": 1})
    trainer = Trainer(cfg, mnist300)
    before = torch.cat([p.detach().flatten().clone() for p in trainer.model.parameters()])
    control = TrainingControl()

    def emit(e):
        if isinstance(e, StepMetrics):
            control.stop()

    trainer.run(emit, control)
    after = torch.cat([p.detach().flatten() for p in trainer.model.parameters()])
    # one SGD step with lr 1 moves the weights by exactly the clipped gradient norm
    assert (after - before).norm().item() == pytest.approx(0.01, rel=1e-3)


@pytest.mark.parametrize("over", [
    {"model.architecture": "conv", "model.hidden": [8, 16]},
    {"objective.likelihood": "categorical", "objective.levels": 4},
    {"objective.contractive": 0.1, "model.hidden": [16]},
    {"objective.contractive": 0.1, "objective.contractive_estimator": "projection"},
    {"objective.corruption": "salt_pepper", "objective.corruption_level": 0.1},
])
def test_every_kind_trains_headless(mnist300, over):
    outcome, events = run(tiny(**over, **{"optim.epochs": 1}), mnist300)
    assert outcome == "completed", [e for e in events if isinstance(e, RunFailed)]
    assert np.isfinite(of(events, EpochEnded)[0].val["total"])


def test_latent_decoder_matches_the_model_and_leaves_the_global_rng_alone(mnist300):
    from engine.decoding import LatentDecoder
    cfg = tiny(**{"model.variational": True, "optim.epochs": 1})
    trainer = Trainer(cfg, mnist300)
    _, events = run(cfg, mnist300)
    snap = of(events, EpochSnapshot)[-1]
    torch.manual_seed(123)
    state = torch.get_rng_state()
    decoder = LatentDecoder(cfg, mnist300.image_shape, snap.weights)
    assert torch.equal(torch.get_rng_state(), state)
    z = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    from engine.checkpoint import load_module_arrays
    load_module_arrays(trainer.model.decoder, {k[len("decoder."):]: v for k, v in
                                               snap.weights.items() if k.startswith("decoder.")})
    expected = trainer.model.decode_mean(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(decoder.decode(z), expected, rtol=1e-5, atol=1e-6)
    # the probe reconstructions of the snapshot are the decoded probe codes
    np.testing.assert_allclose(decoder.decode(snap.arrays["probe_latent_mean"]),
                               snap.images["probe_recon"], rtol=1e-4, atol=1e-5)
