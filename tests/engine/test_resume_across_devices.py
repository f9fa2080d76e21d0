"""A session trained on one kind of device resumes on another (issue 22, finding 1).

A CUDA generator's state is 16 bytes and a CPU one's 5,056, and each
refuses the other, so a checkpoint that kept the generator's state could
only resume on the kind of device that wrote it. The random streams are now
derived from the seed, the epoch and the step (engine/random_streams.py):
the checkpoint holds nothing device-specific. These tests build checkpoints
as a CUDA run of an earlier version stored them and resume them here; a
CPU checkpoint of an earlier version continues its own generator
(tests/engine/test_version1.py resumes a real one exactly).
"""

from __future__ import annotations

import dataclasses
import struct

import numpy as np
import pytest
import torch

from engine.checkpoint import module_arrays
from engine.events import CheckpointSaved
from engine.random_streams import (NOISE, ORDER, SCHEME, ContinuedStream, RandomStreams,
                                   stream_seed)
from engine.session import Session, SessionWriter
from engine.jobs import resume_trainer
from session_support import (Recorder, StopAfter, single_torch_thread, tiny_config,
                             tiny_trainer)

#: What torch.cuda's generator.get_state() returns: its seed and Philox offset, 16 bytes.
CUDA_STATE = np.frombuffer(struct.pack("<Qq", 0, 4 * 7), np.uint8).copy()
#: What a CPU run of an earlier version stored: the 5,056-byte Mersenne Twister state.
OLD_CPU_STATE = torch.Generator().manual_seed(7).get_state().numpy().copy()


def _as_stored_by(state: np.ndarray):
    """A listener filter: every checkpoint written with ``state`` as its generator state."""
    def replace(event):
        if isinstance(event, CheckpointSaved):
            ck = dataclasses.replace(event.checkpoint, rng={"train": state})
            return CheckpointSaved(ck)
        return event
    return replace


@pytest.fixture(scope="module")
def uninterrupted():
    """Denoising: fresh corruption noise every step, so the noise stream is exercised."""
    cfg = tiny_config("denoising", epochs=2)
    with single_torch_thread():
        trainer = tiny_trainer(cfg)
        trainer.run(lambda e: None)
    return cfg, module_arrays(trainer.model)


def test_a_session_with_a_cuda_generator_state_resumes_on_the_cpu_exactly(tmp_path,
                                                                          uninterrupted):
    cfg, whole = uninterrupted
    path = tmp_path / "run.h5"
    stored = CUDA_STATE
    as_stored = _as_stored_by(stored)
    with single_torch_thread():
        with SessionWriter(path) as writer:
            tiny_trainer(cfg).run(lambda e: writer(as_stored(e)), StopAfter(7))  # mid-epoch 2
        with Session.open(path) as s:
            assert len(s.run().checkpoint().rng["train"]) == len(stored)
            trainer, until = resume_trainer(s.run(), None, device="cpu")
        trainer.run(lambda e: None, until_epoch=until)
    assert trainer.step == 10
    for k, v in whole.items():
        np.testing.assert_array_equal(module_arrays(trainer.model)[k], v, err_msg=k)


def test_an_earlier_cpu_checkpoint_continues_its_own_generator(uninterrupted):
    """Resumed where its state fits, the old single generator goes on: the order and the
    noise continue as the earlier trainer drew them, and the next checkpoint keeps it."""
    cfg, _ = uninterrupted
    rec = Recorder()
    with single_torch_thread():
        first = tiny_trainer(cfg)
        first.run(rec, StopAfter(first.steps_per_epoch))   # at the start of epoch 2
        ck = dataclasses.replace(rec.of(CheckpointSaved)[-1].checkpoint,
                                 rng={"train": OLD_CPU_STATE})
        resumed = tiny_trainer(cfg, checkpoint=ck)
        assert isinstance(resumed.streams, ContinuedStream)
        again = Recorder()
        resumed.run(again)
    saved = again.of(CheckpointSaved)[-1].checkpoint.rng["train"]
    assert saved.shape == OLD_CPU_STATE.shape and not np.array_equal(saved, OLD_CPU_STATE)
    assert ck.position == 0 and ck.epoch == 1
    g = torch.Generator().manual_seed(7)           # what it drew: the epoch 2 order first
    expected = torch.randperm(len(resumed.train_idx), generator=g)
    np.testing.assert_array_equal(resumed.permutation.numpy(), expected.numpy())


def test_a_checkpoint_holds_no_generator_state():
    rec = Recorder()
    with single_torch_thread():
        tiny_trainer(tiny_config("variational", epochs=1)).run(rec, StopAfter(3))
    ck = rec.of(CheckpointSaved)[-1].checkpoint
    assert list(ck.rng) == ["train"]
    np.testing.assert_array_equal(ck.rng["train"], SCHEME)   # the scheme's name, not a state
    assert ck.rng["train"].tobytes().startswith(b"derived")
    assert ck.permutation.dtype == np.int64 and ck.position == 3


def test_the_epoch_order_is_drawn_on_the_cpu_whatever_the_device():
    streams = RandomStreams(seed=3, device=torch.device("cpu"))
    first, again = streams.epoch_order(1, 50), streams.epoch_order(1, 50)
    assert first.device.type == "cpu"
    torch.testing.assert_close(first, again)                  # (seed, epoch) fixes it
    assert sorted(first.tolist()) == list(range(50))
    assert not torch.equal(first, streams.epoch_order(2, 50))  # shuffled each epoch
    assert not torch.equal(first, RandomStreams(4, torch.device("cpu")).epoch_order(1, 50))


def test_derived_seeds_differ_by_stream_step_rank_and_seed():
    seeds = {stream_seed(s, kind, i, *rank) for s in (0, 1) for kind in (ORDER, NOISE)
             for i in range(200) for rank in ((), (0,), (1,))}
    assert len(seeds) == 2 * 2 * 200 * 3
    assert all(0 <= x < 2**63 for x in seeds)
    # A step's noise is the same draw again when the run resumes at that step.
    streams = RandomStreams(0, torch.device("cpu"))
    a = torch.rand(4, generator=streams.step_noise(17))
    torch.rand(9, generator=streams.step_noise(18))
    torch.testing.assert_close(torch.rand(4, generator=streams.step_noise(17)), a)
