"""The CUDA path: run where a GPU is (scripts/gpu_check.sh runs them); skipped without one.

The same behaviour the CPU tests check, on the GPU: a run records a session
that reopens and resumes on the CPU, resumes exactly (conv models too, the
64x64 DCGAN among them: deterministic cuDNN, no TF32), trains the same with the data kept on the
host, streams through pinned memory, trains in bf16, reads values on the
host once per step, decomposes the Jacobian spectra on the CPU, and, with
two GPUs, runs as two nccl ranks (streamed data too) like one process.

``STUDIO_CUDA_TESTS_ON=cpu`` runs them on the CPU instead (those that need
a GPU skip): ``scripts/gpu_check.sh --dry-run`` checks the tests themselves
that way.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch

from engine.checkpoint import module_arrays
from engine.device import resolve_device
from engine.events import CheckpointSaved, EpochEnded, StepMetrics
from engine.session import Session, SessionWriter
from engine.jobs import resume_trainer
from engine.trainer import Trainer
from session_support import Recorder, StopAfter, fan_out, tiny_config

DEVICE = os.environ.get("STUDIO_CUDA_TESTS_ON", "cuda")
ON_GPU = DEVICE.startswith("cuda")
pytestmark = pytest.mark.skipif(ON_GPU and not torch.cuda.is_available(),
                                reason="no CUDA GPU here")
needs_gpu = pytest.mark.skipif(not ON_GPU, reason="what it checks happens on a GPU only")


def _train(cfg, control=None, checkpoint=None, emit=None):
    trainer = Trainer(cfg, checkpoint=checkpoint)
    rec = Recorder()
    trainer.run(fan_out(rec, emit) if emit else rec, control)
    return trainer, rec


def _same_weights(a: Trainer, b: Trainer) -> None:
    x, y = module_arrays(a.model), module_arrays(b.model)
    for k in x:
        np.testing.assert_array_equal(x[k], y[k], err_msg=k)


@needs_gpu
def test_auto_picks_the_gpu_with_exact_numerics():
    assert resolve_device("auto").type == "cuda"
    Trainer(tiny_config("conv-vae", epochs=1, device=DEVICE))
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32


def test_a_gpu_run_records_a_session_that_opens_on_the_cpu(tmp_path):
    cfg = tiny_config("vae-2d", epochs=2, device=DEVICE)
    with SessionWriter(tmp_path / "gpu.h5") as writer:
        trainer, rec = _train(cfg, emit=writer)
    assert rec.events[0].device.startswith(DEVICE)
    assert trainer.data.index_device.type == DEVICE     # the set lives on the GPU
    assert all(np.isfinite(e.terms["total"]) for e in rec.of(StepMetrics))
    with Session.open(tmp_path / "gpu.h5") as s:
        run = s.run()
        assert run.epochs_trained == 2
        image = run.decoder(2).decode(np.zeros((1, 2), np.float32))   # a CPU copy
        assert image.shape[-2:] == (28, 28)


@pytest.mark.parametrize("preset", ["plain", "variational"])
def test_a_gpu_session_resumes_on_the_cpu(tmp_path, preset):
    """Stopped mid-epoch on the GPU, finished on the CPU: the same batches in the same
    order; weights as the GPU would have them, to float rounding (no noise: plain), or
    trained on with the CPU's own noise draws (variational)."""
    cfg = tiny_config(preset, epochs=2, device=DEVICE)
    whole, _ = _train(cfg)
    with SessionWriter(tmp_path / "gpu.h5") as writer:
        _train(cfg, StopAfter(6), emit=writer)
    with Session.open(tmp_path / "gpu.h5") as s:
        trainer, until = resume_trainer(s.run(), None, device="cpu")
    rec = Recorder()
    assert trainer.run(rec, until_epoch=until) == "completed"
    assert trainer.step == whole.step and trainer.device.type == "cpu"
    assert all(np.isfinite(e.terms["total"]) for e in rec.of(StepMetrics))
    if preset == "plain":
        for k, v in module_arrays(whole.model).items():
            np.testing.assert_allclose(module_arrays(trainer.model)[k], v, rtol=0, atol=1e-4,
                                       err_msg=k)


#: The 64x64 colour GAN with its four strided layers and batch norm, thinner and on fewer sprites.
SMALL_DCGAN = {"data__n_sprites": 300, "model__hidden": [8, 16, 32, 64], "optim__batch_size": 32}


@pytest.mark.parametrize("preset, smaller", [
    ("denoising", {}), ("conv-vae", {}),
    pytest.param("dcgan-64", SMALL_DCGAN, marks=needs_gpu)])   # a minute on a CPU
def test_a_gpu_run_resumes_exactly(preset, smaller):
    """Deterministic cuDNN and no TF32: convolutions and batch norm repeat bit for bit."""
    cfg = tiny_config(preset, epochs=2, device=DEVICE, **smaller)
    whole, _ = _train(cfg)
    _, rec = _train(cfg, StopAfter(7))
    resumed, _ = _train(cfg, checkpoint=rec.of(CheckpointSaved)[-1].checkpoint)
    _same_weights(whole, resumed)


def test_data_kept_on_the_host_trains_like_data_on_the_gpu(monkeypatch):
    cfg = tiny_config("plain", epochs=1, device=DEVICE)
    on_gpu, _ = _train(cfg)
    monkeypatch.setattr("engine.device.fits_on_device", lambda nbytes, device: False)
    on_host, _ = _train(cfg)
    assert on_host.data.index_device.type == "cpu"
    _same_weights(on_gpu, on_host)


def test_streaming_through_pinned_memory_trains_like_the_run_in_memory(tmp_path):
    from engine.data.mnist import load_mnist
    raw = np.round(load_mnist().images[:400, 0] * 255).astype(np.uint8)
    np.save(tmp_path / "d.npy", raw)
    cfg = tiny_config("plain", epochs=1, device=DEVICE, data__source="file",
                      data__path=str(tmp_path / "d.npy"), data__limit=None, data__n_probe=8)
    loaded, _ = _train(cfg.with_overrides({"data.stream": False}))
    streamed, _ = _train(cfg.with_overrides({"data.stream": True, "data.workers": 1}))
    assert streamed.data.streamed
    _same_weights(loaded, streamed)


def test_bf16_on_the_gpu_trains_close_to_float32():
    cfg = tiny_config("variational", epochs=2, device=DEVICE)
    _, fp32 = _train(cfg)
    _, bf16 = _train(cfg.with_overrides({"precision": "bfloat16"}))
    a, b = fp32.of(EpochEnded)[-1].val, bf16.of(EpochEnded)[-1].val
    for k in a:
        assert b[k] == pytest.approx(a[k], rel=0.02, abs=0.5), k


@needs_gpu
@pytest.mark.parametrize("preset", ["variational", "gan"])
def test_a_step_waits_for_the_gpu_once_per_update(preset):
    """torch's sync debug mode warns at every device sync: one per optimiser update."""
    cfg = tiny_config(preset, epochs=2, device=DEVICE, data__limit=200, optim__batch_size=50)
    trainer = Trainer(cfg)
    trainer.run(lambda e: None, until_epoch=1, snapshots=False, checkpoints=False)  # warm
    real = Trainer._train_epoch
    caught = []

    def watched(self, *args):
        torch.cuda.set_sync_debug_mode("warn")
        try:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                out = real(self, *args)
        finally:
            torch.cuda.set_sync_debug_mode("default")
        caught.extend(x for x in w if "synchroniz" in str(x.message))
        return out

    trainer._train_epoch = watched.__get__(trainer)
    before = trainer.step
    trainer.run(lambda e: None, snapshots=False, checkpoints=False)
    updates = trainer.step - before
    if preset == "gan":  # every d_steps-th discriminator update has the generator's after it
        updates += sum(i % cfg.gan_settings.d_steps == 0 for i in range(before + 1,
                                                                         trainer.step + 1))
    # The epoch's order copied to the GPU may add one at the epoch's start.
    assert updates <= len(caught) <= updates + 1, [str(x.message) for x in caught]


@needs_gpu
def test_the_jacobian_spectra_are_decomposed_on_the_cpu(monkeypatch):
    from engine.analysis.jacobian import snapshot_spectrum
    cfg = tiny_config("contractive", epochs=1, device=DEVICE)
    trainer, _ = _train(cfg)
    devices = []
    for name in ("svdvals", "eigvalsh"):
        real = getattr(torch.linalg, name)
        monkeypatch.setattr(torch.linalg, name,
                            lambda a, *k, _real=real: devices.append(a.device) or _real(a, *k))
    model = trainer.model.eval()
    on_gpu = snapshot_spectrum(model, trainer.probe.images)
    assert devices and {d.type for d in devices} == {"cpu"}
    on_cpu = snapshot_spectrum(model.to("cpu"), trainer.probe.images.cpu())
    torch.testing.assert_close(on_gpu, on_cpu, rtol=1e-3, atol=1e-5)


@needs_gpu
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="nccl ranks need two GPUs")
def test_two_nccl_ranks_train_like_one_gpu(tmp_path):
    from test_distributed import (check_loss_equals_one_process,
                                  check_streamed_equals_one_process, spawn_two_ranks,
                                  test_a_step_reads_values_once_under_torchrun,
                                  test_both_ranks_hold_identical_weights,
                                  test_the_session_is_written_once_with_every_step)
    folder = spawn_two_ranks(tmp_path, device="cuda")
    test_both_ranks_hold_identical_weights(folder)
    test_the_session_is_written_once_with_every_step(folder)
    test_a_step_reads_values_once_under_torchrun(folder)
    check_loss_equals_one_process(folder, "cuda")
    check_streamed_equals_one_process(folder, "cuda")   # the order kept on the host
