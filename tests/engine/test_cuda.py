"""The CUDA path: run where a GPU is (scripts/gpu_check.sh runs them); skipped without one.

The same behaviour the CPU tests check, on the GPU: a run records a session
that reopens on the CPU, resumes exactly, trains the same with the data kept
on the host, streams through pinned memory, trains in bf16, and, with two
GPUs, runs as two nccl ranks like one process.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.checkpoint import module_arrays
from engine.device import resolve_device
from engine.events import CheckpointSaved, EpochEnded, StepMetrics
from engine.session import Session, SessionWriter
from engine.trainer import Trainer
from session_support import Recorder, StopAfter, fan_out, tiny_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")



def _train(cfg, control=None, checkpoint=None, emit=None):
    trainer = Trainer(cfg, checkpoint=checkpoint)
    rec = Recorder()
    trainer.run(fan_out(rec, emit) if emit else rec, control)
    return trainer, rec


def _same_weights(a: Trainer, b: Trainer) -> None:
    x, y = module_arrays(a.model), module_arrays(b.model)
    for k in x:
        np.testing.assert_array_equal(x[k], y[k], err_msg=k)


def test_auto_picks_the_gpu():
    assert resolve_device("auto").type == "cuda"


def test_a_gpu_run_records_a_session_that_opens_on_the_cpu(tmp_path):
    cfg = tiny_config("vae-2d", epochs=2, device="cuda")
    with SessionWriter(tmp_path / "gpu.h5") as writer:
        trainer, rec = _train(cfg, emit=writer)
    assert rec.events[0].device.startswith("cuda")
    assert trainer.data.index_device.type == "cuda"     # the set lives on the GPU
    assert all(np.isfinite(e.terms["total"]) for e in rec.of(StepMetrics))
    with Session.open(tmp_path / "gpu.h5") as s:
        run = s.run()
        assert run.epochs_trained == 2
        image = run.decoder(2).decode(np.zeros((1, 2), np.float32))   # a CPU copy
        assert image.shape[-2:] == (28, 28)


def test_a_gpu_run_resumes_exactly():
    cfg = tiny_config("denoising", epochs=2, device="cuda")
    whole, _ = _train(cfg)
    _, rec = _train(cfg, StopAfter(7))
    resumed, _ = _train(cfg, checkpoint=rec.of(CheckpointSaved)[-1].checkpoint)
    _same_weights(whole, resumed)


def test_data_kept_on_the_host_trains_like_data_on_the_gpu(monkeypatch):
    cfg = tiny_config("plain", epochs=1, device="cuda")
    on_gpu, _ = _train(cfg)
    monkeypatch.setattr("engine.device.fits_on_device", lambda nbytes, device: False)
    on_host, _ = _train(cfg)
    assert on_host.data.index_device.type == "cpu"
    _same_weights(on_gpu, on_host)


def test_streaming_through_pinned_memory_trains_like_the_run_in_memory(tmp_path):
    from engine.data.mnist import load_mnist
    raw = np.round(load_mnist().images[:400, 0] * 255).astype(np.uint8)
    np.save(tmp_path / "d.npy", raw)
    cfg = tiny_config("plain", epochs=1, device="cuda", data__source="file",
                      data__path=str(tmp_path / "d.npy"), data__limit=None, data__n_probe=8)
    loaded, _ = _train(cfg.with_overrides({"data.stream": False}))
    streamed, _ = _train(cfg.with_overrides({"data.stream": True, "data.workers": 1}))
    assert streamed.data.streamed
    _same_weights(loaded, streamed)


def test_bf16_on_the_gpu_trains_close_to_float32():
    cfg = tiny_config("variational", epochs=2, device="cuda")
    _, fp32 = _train(cfg)
    _, bf16 = _train(cfg.with_overrides({"precision": "bfloat16"}))
    a, b = fp32.of(EpochEnded)[-1].val, bf16.of(EpochEnded)[-1].val
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=0.02, abs=0.5), k


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="nccl ranks need two GPUs")
def test_two_nccl_ranks_train_like_one_gpu(tmp_path):
    from test_distributed import (check_loss_equals_one_process, spawn_two_ranks,
                                  test_both_ranks_hold_identical_weights,
                                  test_the_session_is_written_once_with_every_step)
    folder = spawn_two_ranks(tmp_path, device="cuda")
    test_both_ranks_hold_identical_weights(folder)
    test_the_session_is_written_once_with_every_step(folder)
    check_loss_equals_one_process(folder, "cuda")
