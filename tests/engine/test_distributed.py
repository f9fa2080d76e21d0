"""Two CPU processes with gloo train like one process on the same global batch.

One spawn of two ranks (an interpreter start each: a few seconds) runs every
scenario in turn: a run recorded by rank 0, its resume (by resume_trainer,
then by the command line's ``resume`` as torchrun runs it), a non-finite loss
on rank 1 only, a stop asked on rank 1 only, the value reads a step makes,
and a run streamed from a file (whose epoch order lives on the host, where
nccl could not broadcast it). The parent compares what each rank saved with
a one-process run of the same config.
"""

from __future__ import annotations

import json
import math
import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from engine.checkpoint import module_arrays
from engine.control import TrainingControl
from engine.distributed import Ranks
from engine.events import RunFailed, RunFinished
from engine.session import Session, SessionWriter
from engine.jobs import resume_trainer
from engine.trainer import Trainer
from host_syncs import reads_while_training
from session_support import (Recorder, StopAfter, single_torch_thread, tiny_config,
                             tiny_trainer)

# 271 training images in batches of 45: every batch splits unevenly (23 + 22) and the last
# holds one image, so rank 1 has none there: the weighting is exercised on every step.
CONFIG = dict(preset="plain", epochs=2, data__limit=301, data__val_fraction=0.1,
              optim__batch_size=45, model__hidden=[24], model__latent_dim=6)
STEPS_PER_EPOCH = 7
NAN_STEP = 3    # rank 1's loss turns NaN at this step (0-based: the 4th)
STOP_AFTER = 5  # rank 1 asks to stop before its 6th batch...
STOPPED_AT = 6  # ...which its request travels with: every rank stops after it
STREAMED = dict(data__source="file", data__limit=None, data__stream=True, data__workers=0)


def _streamed_config(folder: Path, device: str, stream: bool = True):
    """CONFIG on 301 digits read from a .npy file in ``folder`` (made by the parent)."""
    return tiny_config(**{**CONFIG, **STREAMED, "data__path": str(folder / "digits.npy"),
                          "data__stream": stream}, device=device)



def _rank(rank: int, port: int, folder: str, device: str = "cpu") -> None:
    """One rank: every scenario, each rank's results saved to ``folder``.

    ``device`` cuda runs it with nccl, one GPU a rank (tests/engine/test_cuda.py).
    """
    torch.set_num_threads(1)
    # What torchrun tells each process: a "cuda" run then trains on GPU number LOCAL_RANK.
    os.environ.update(WORLD_SIZE="2", RANK=str(rank), LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE="2")
    backend = "nccl" if device == "cuda" else "gloo"
    if device == "cuda":
        torch.cuda.set_device(rank)
    dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2)
    out = Path(folder)
    session = out / "run.h5"
    cfg = tiny_config(**CONFIG, device=device)
    result: dict = {}
    try:
        # 1. two epochs, rank 0 recording the session
        trainer = Trainer(cfg)
        writer = SessionWriter(session) if rank == 0 else None
        result["trained"] = trainer.run(writer or (lambda e: None))
        if writer is not None:
            writer.close()
        np.savez(out / f"weights-{rank}.npz", **module_arrays(trainer.model))
        dist.barrier()  # the file is complete before anyone resumes it
        # 2. one more epoch, resumed from the file on both ranks
        with Session.open(session) as s:
            resumed, until = resume_trainer(s.run(), 1)
        writer = SessionWriter(session, append=True) if rank == 0 else None
        result["resumed"] = resumed.run(writer or (lambda e: None), until_epoch=until)
        if writer is not None:
            writer.close()
        np.savez(out / f"resumed-{rank}.npz", **module_arrays(resumed.model))
        dist.barrier()
        # 2b. one more, through the command line's resume, as under torchrun
        from engine.cli import main as cli_main
        result["cli_resume"] = cli_main(["resume", str(session), "--epochs", "1", "--quiet"])
        # 3. a NaN loss on rank 1 alone
        failing = Trainer(cfg)
        if rank == 1:
            model = failing.model
            real_loss = type(model).loss

            def loss(self, batch, generator=None, training=True):
                terms = real_loss(self, batch, generator, training)
                if failing.step == NAN_STEP:
                    terms["total"] = terms["total"] * float("nan")
                return terms

            type(model).loss = loss  # this process only: the peer rank is untouched
        rec = Recorder()
        result["nan"] = failing.run(rec)
        result["nan_step"] = failing.step
        result["nan_weights_finite"] = all(
            np.isfinite(v).all() for v in module_arrays(failing.model).values())
        failed = rec.of(RunFailed)
        result["nan_event"] = [failed[0].term, failed[0].step] if failed else None
        if rank == 1:
            type(model).loss = real_loss
        # 4. a stop asked on rank 1 alone
        stopping = Trainer(cfg)
        rec = Recorder()
        control = StopAfter(STOP_AFTER) if rank == 1 else TrainingControl()
        result["stop"] = stopping.run(rec, control)
        result["stop_step"] = stopping.step
        finished = rec.of(RunFinished)
        result["stop_event"] = [finished[0].reason, finished[0].step] if finished else None
        # 5. the values a step reads on the host: the finite check's, carrying the stop flag
        counts, steps = reads_while_training(Trainer(cfg))
        result["reads"], result["read_steps"] = dict(counts), steps
        # 6. streamed from a file: the order is kept on the host
        streamed = Trainer(_streamed_config(out, device))
        result["streamed"] = streamed.run(lambda e: None)
        result["streamed_order_device"] = str(streamed.data_device)
        np.savez(out / f"streamed-{rank}.npz", **module_arrays(streamed.model))
    finally:
        (out / f"result-{rank}.json").write_text(json.dumps(result))
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn_two_ranks(folder: Path, device: str = "cpu") -> Path:
    """Run :func:`_rank` in two fresh processes; their results are in ``folder``."""
    from engine.data.mnist import load_mnist
    digits = np.round(load_mnist().images[:301, 0] * 255).astype(np.uint8)
    np.save(folder / "digits.npy", digits)
    mp.start_processes(_rank, args=(_free_port(), str(folder), device), nprocs=2, join=True,
                       start_method="spawn")
    return folder


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> Path:
    return spawn_two_ranks(tmp_path_factory.mktemp("ranks"))


def _load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def _one_process(epochs: int, device: str = "cpu"):
    """The same config in this process: its history and final weights."""
    with single_torch_thread():
        trainer = Trainer(tiny_config(**{**CONFIG, "epochs": epochs}, device=device))
        rec = Recorder()
        trainer.run(rec)
    return rec, module_arrays(trainer.model)


def test_both_ranks_hold_identical_weights(two_ranks):
    for name in ("weights", "resumed"):
        a, b = _load(two_ranks / f"{name}-0.npz"), _load(two_ranks / f"{name}-1.npz")
        assert set(a) == set(b)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k], err_msg=f"{name}: {k}")


def test_the_session_is_written_once_with_every_step(two_ranks):
    results = [json.loads((two_ranks / f"result-{r}.json").read_text()) for r in (0, 1)]
    assert [r["trained"] for r in results] == ["completed", "completed"]
    assert [r["resumed"] for r in results] == ["completed", "completed"]
    assert [r["cli_resume"] for r in results] == [0, 0]
    with Session.open(two_ranks / "run.h5") as s:
        assert list(s.runs) == ["main"]
        run = s.run()
        assert run.status == "completed" and run.epochs_trained == 4
        np.testing.assert_array_equal(run.history["step"], np.arange(1, 4 * STEPS_PER_EPOCH + 1))
        np.testing.assert_array_equal(run.epoch_history["epoch"], [1, 2, 3, 4])
        np.testing.assert_array_equal(run.epoch_history["step"], [7, 14, 21, 28])
        assert run.checkpoint().step == 4 * STEPS_PER_EPOCH


def test_the_loss_equals_one_process_on_the_same_global_batch(two_ranks):
    check_loss_equals_one_process(two_ranks, "cpu")


def check_loss_equals_one_process(two_ranks: Path, device: str) -> None:
    rec, weights = _one_process(epochs=3, device=device)
    single = [e.terms["total"] for e in rec.events if type(e).__name__ == "StepMetrics"]
    with Session.open(two_ranks / "run.h5") as s:
        run = s.run()
        np.testing.assert_allclose(run.history["total"][:len(single)], single, rtol=2e-5)
        ends = [e.val["total"] for e in rec.events if type(e).__name__ == "EpochEnded"]
        np.testing.assert_allclose(run.epoch_history["val"]["total"][:3], ends, rtol=2e-5)
    resumed = _load(two_ranks / "resumed-0.npz")
    for k, v in weights.items():
        np.testing.assert_allclose(resumed[k], v, rtol=0, atol=2e-5, err_msg=k)


def test_a_nan_on_one_rank_stops_every_rank_at_that_step(two_ranks):
    results = [json.loads((two_ranks / f"result-{r}.json").read_text()) for r in (0, 1)]
    for r in results:
        assert r["nan"] == "failed"
        assert r["nan_step"] == NAN_STEP       # no rank took the poisoned step
        assert r["nan_weights_finite"]
    assert results[0]["nan_event"] == ["total", NAN_STEP]   # rank 0 reports it
    assert results[1]["nan_event"] is None                  # the others report nothing


def test_a_stop_on_one_rank_stops_every_rank_at_the_same_batch(two_ranks):
    results = [json.loads((two_ranks / f"result-{r}.json").read_text()) for r in (0, 1)]
    assert [r["stop"] for r in results] == ["stopped", "stopped"]
    assert [r["stop_step"] for r in results] == [STOPPED_AT, STOPPED_AT]
    assert results[0]["stop_event"] == ["stopped", STOPPED_AT]


def test_a_step_reads_values_once_under_torchrun(two_ranks):
    """The terms' reduce carries the stop flag: no all-reduce and read of its own a step."""
    for r in (0, 1):
        result = json.loads((two_ranks / f"result-{r}.json").read_text())
        assert result["read_steps"] == STEPS_PER_EPOCH
        assert result["reads"] == {"base.py:finite tolist": STEPS_PER_EPOCH}


def test_two_ranks_train_streamed_data_like_one_process_in_memory(two_ranks):
    check_streamed_equals_one_process(two_ranks, "cpu")


def check_streamed_equals_one_process(two_ranks: Path, device: str) -> None:
    results = [json.loads((two_ranks / f"result-{r}.json").read_text()) for r in (0, 1)]
    assert [r["streamed"] for r in results] == ["completed", "completed"]
    assert [r["streamed_order_device"] for r in results] == ["cpu", "cpu"]
    a, b = _load(two_ranks / "streamed-0.npz"), _load(two_ranks / "streamed-1.npz")
    with single_torch_thread():
        loaded = tiny_trainer(_streamed_config(two_ranks, device, stream=False))
        loaded.run(lambda e: None)
    for k, v in module_arrays(loaded.model).items():
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        np.testing.assert_allclose(a[k], v, rtol=0, atol=2e-5, err_msg=k)


def test_the_order_is_broadcast_on_the_ranks_device_then_moved_to_the_data(monkeypatch):
    """nccl takes CUDA tensors only, and streamed or host-kept data wants its order on
    the host: the broadcast must see the rank's device, the data its own. "meta"
    stands here for a device other than the rank's."""
    trainer = tiny_trainer(tiny_config("plain", epochs=1))
    seen = []
    monkeypatch.setattr(dist, "broadcast", lambda t, src: seen.append(t.device))
    trainer.ranks = Ranks(0, 2, torch.device("cpu"), seed=0)
    trainer.data_device = torch.device("meta")
    order = trainer._epoch_order(1)
    assert seen == [torch.device("cpu")]
    assert order.device.type == "meta" and order.shape == (trainer.data.n_train,)


def test_a_collective_refuses_a_tensor_off_the_ranks_device():
    ranks = Ranks(0, 2, torch.device("cpu"), seed=0)
    with pytest.raises(RuntimeError, match="this rank trains on cpu"):
        ranks.on_own_device(torch.zeros(3, device="meta"))


def test_each_rank_takes_its_share_of_a_batch():
    ranks = [Ranks(r, 3, torch.device("cpu"), seed=0) for r in range(3)]
    idx = torch.arange(10, 20)
    shards = [rk.shard(idx) for rk in ranks]
    assert sorted(torch.cat(shards).tolist()) == idx.tolist()   # every row once
    for rk in ranks:
        rk.begin_step(0, len(idx))
    assert [rk.share for rk in ranks] == [0.4, 0.3, 0.3]
    assert math.isclose(sum(rk.share for rk in ranks), 1.0)
    # A batch smaller than the ranks: the rank without rows still steps, with no weight.
    tiny = torch.tensor([7])
    assert ranks[2].shard(tiny).tolist() == [7]
    ranks[2].begin_step(0, 1)
    assert ranks[2].share == 0.0
    # Each rank's noise differs, and is the same again for the same step (a resume).
    draws = [rk.begin_step(5, 10).initial_seed() for rk in ranks]
    assert len(set(draws)) == 3
    g = ranks[0].begin_step(5, 10)
    first = torch.rand(3, generator=g)
    g = ranks[0].begin_step(5, 10)
    torch.testing.assert_close(torch.rand(3, generator=g), first)
