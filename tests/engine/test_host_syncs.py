"""A training step reads values on the host once per optimiser update, and no more.

On a GPU every read waits for the device (issue 22, finding 4): the finite
check's one read per update is the only one a step makes. A GAN's two
players are two updates, each with its own check; its count of
discriminator updates is a Python number beside the checkpointed buffer.
"""

from __future__ import annotations

import pytest
import torch

from engine.events import CheckpointSaved
from engine.models.base import StepContext
from host_syncs import counting_host_reads, reads_while_training
from session_support import Recorder, StopAfter, single_torch_thread, tiny_config, tiny_trainer


@pytest.mark.parametrize("preset", ["plain", "variational", "denoising", "conv-vae", "rbm"])
def test_one_host_read_per_step(preset):
    layers = ({"model__hidden": [], "rbm__ais_chains": 4, "rbm__ais_steps": 20}
              if preset == "rbm" else {})    # an RBM has one layer; a cheap log Z
    trainer = tiny_trainer(tiny_config(preset, epochs=1, data__limit=200,
                                       optim__batch_size=50, **layers))
    with single_torch_thread():
        counts, steps = reads_while_training(trainer)
    assert steps == 4
    assert dict(counts) == {"base.py:finite tolist": steps}, counts


def test_a_gan_reads_once_per_players_update():
    cfg = tiny_config("gan", epochs=1, data__limit=200, optim__batch_size=50,
                      gan__d_steps=2)
    trainer = tiny_trainer(cfg)
    with single_torch_thread():
        counts, steps = reads_while_training(trainer)
    # Four discriminator updates, every second one followed by the generator's.
    assert dict(counts) == {"base.py:finite tolist": steps + steps // 2}, counts


def test_a_resumed_gan_counts_its_discriminator_updates_on():
    """The Python count beside the buffer is read from the checkpoint once, then kept."""
    cfg = tiny_config("gan", epochs=2, data__limit=200, optim__batch_size=50,
                      gan__d_steps=3)
    with single_torch_thread():
        whole = tiny_trainer(cfg)
        whole.run(lambda e: None)
        rec = Recorder()
        tiny_trainer(cfg).run(rec, StopAfter(5))
        resumed = tiny_trainer(cfg, checkpoint=rec.of(CheckpointSaved)[-1].checkpoint)
        assert resumed.model._d_count is None          # set aside by the load
        with counting_host_reads() as counts:
            resumed.run(lambda e: None)
    assert counts["gan.py:train_step __int__"] == 1    # once, after the load
    assert int(resumed.model.d_updates) == resumed.model._d_count == whole.step
    for k, v in whole.model.state_dict().items():
        torch.testing.assert_close(resumed.model.state_dict()[k], v, rtol=0, atol=0, msg=k)


def test_the_stop_flag_travels_in_the_reduce_of_the_terms():
    """Under torchrun: (K,) terms and this rank's stop request in one vector, one read."""
    sent = []

    def reduce(values, stop):
        sent.append((values.clone(), stop))
        return torch.cat([values, torch.tensor([1.0 if stop else 0.0])])

    ctx = StepContext(None, None, reduce=reduce)
    terms = {"total": torch.tensor(2.0), "kl": torch.tensor(0.5)}
    with counting_host_reads() as counts:
        assert ctx.finite(terms) == {"total": 2.0, "kl": 0.5}
        assert not ctx.peers_stop
        ctx.stop_asked = True
        ctx.finite(terms)
    assert ctx.peers_stop
    assert [s for _, s in sent] == [False, True]
    assert dict(counts) == {"base.py:finite tolist": 2}
