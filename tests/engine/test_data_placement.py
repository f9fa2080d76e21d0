"""Where a run's images are placed: what the GPU fit counts, uint8 until the device, pinned host
memory, and a streamed set's indices (issue 22 findings 3 and 7, issue 21 item 14)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from engine.config import DataConfig
from engine.data import load_dataset
from engine.data.training_data import TrainingData

ROOT = Path(__file__).resolve().parents[2]


def _held_bytes(data: TrainingData) -> int:
    """Bytes of every distinct tensor storage the TrainingData keeps."""
    seen, total = set(), 0
    for value in vars(data).values():
        for t in value if isinstance(value, tuple) else (value,):
            if isinstance(t, torch.Tensor):
                key = t.untyped_storage().data_ptr()
                if key not in seen:
                    seen.add(key)
                    total += t.untyped_storage().nbytes()
    return total


def test_the_device_fit_counts_everything_that_is_placed(monkeypatch):
    asked: list[int] = []
    monkeypatch.setattr("engine.device.fits_on_device",
                        lambda nbytes, device: asked.append(nbytes) or True)
    for cfg in (DataConfig(source="mnist", limit=1000), DataConfig(source="sprites",
                                                                    n_sprites=600)):
        ds = load_dataset(cfg, 0)
        asked.clear()
        data = TrainingData(ds, ds.train_idx, torch.device("cpu"), labels=True)
        assert len(asked) == 1 and _held_bytes(data) <= asked[0], cfg.source


def test_eight_bit_images_stay_uint8_until_the_device_divides_them(monkeypatch):
    monkeypatch.setattr("engine.device.fits_on_device", lambda nbytes, device: False)
    ds = load_dataset(DataConfig(source="mnist", limit=600), 0)
    data = TrainingData(ds, ds.train_idx, torch.device("cpu"), labels=True)
    assert data.stored_dtype == np.uint8 and data._train[0].dtype == torch.uint8
    assert not data.pinned                      # pinning is for a CUDA device only
    order = torch.randperm(data.n_train, generator=torch.Generator().manual_seed(0))
    batches = list(data.epoch([order[:50], order[50:130]]))
    want = ds.images[ds.train_idx[order[:50].numpy()]]
    assert batches[0][0].dtype == torch.float32
    np.testing.assert_array_equal(batches[0][0].numpy(), want)   # bit for bit
    val = torch.cat([x for x, _ in data.validation(64)]).numpy()
    np.testing.assert_array_equal(val, ds.images[ds.val_idx])
    # Sprites are antialiased floats: no uint8 can hold them, so they stay float32.
    sprites = load_dataset(DataConfig(source="sprites", n_sprites=100), 0)
    assert TrainingData(sprites, sprites.train_idx, torch.device("cpu"),
                        labels=False).stored_dtype == np.float32


def test_streamed_batches_cross_as_uint8(tmp_path, monkeypatch):
    raw = np.random.default_rng(0).integers(0, 256, (90, 12, 12), dtype=np.uint8)
    np.save(tmp_path / "x.npy", raw)
    ds = load_dataset(DataConfig(source="file", path=str(tmp_path / "x.npy"), stream=True,
                                 n_probe=4), 0)
    data = TrainingData(ds, ds.train_idx, torch.device("cpu"), labels=False, workers=0)
    crossing = []
    real = TrainingData._to_device
    monkeypatch.setattr(TrainingData, "_to_device",
                        lambda self, x, y: crossing.append(x.dtype) or real(self, x, y))
    idx = torch.arange(20)
    (x, _), = list(data.epoch([idx]))
    assert crossing == [torch.uint8] and x.dtype == torch.float32
    np.testing.assert_array_equal(x.numpy(), raw[ds.train_idx[:20]][:, None] / np.float32(255))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here")
def test_host_fallback_data_is_pinned_on_cuda(monkeypatch):
    monkeypatch.setattr("engine.device.fits_on_device", lambda nbytes, device: False)
    ds = load_dataset(DataConfig(source="mnist", limit=600), 0)
    data = TrainingData(ds, ds.train_idx, torch.device("cuda"), labels=True)
    assert data.pinned and data._train[0].is_pinned() and data._train[0].dtype == torch.uint8
    order = torch.randperm(data.n_train)
    (x, y), = list(data.epoch([order[:64]]))
    assert x.device.type == "cuda" and x.dtype == torch.float32
    np.testing.assert_array_equal(x.cpu().numpy(), ds.images[ds.train_idx[order[:64].numpy()]])


def _claims_a_billion(path: Path) -> Path:
    with h5py.File(path, "w") as f:      # 1.4 KB on disk: nothing is ever written
        f.create_dataset("images", shape=(10 ** 9, 28, 28), dtype="u1", chunks=(1, 28, 28))
    return path


def test_a_sparse_hdf5_claiming_a_billion_images_is_refused_and_limit_indexes_only_a_few(
        tmp_path):
    """Under a 3 GB address-space limit: refused with a message, not a MemoryError, and
    data.limit splits 30 images without an index array the size of the claimed set."""
    path = _claims_a_billion(tmp_path / "huge.h5")
    script = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        from engine.config import DataConfig
        from engine.data import load_dataset
        from engine.errors import DataError
        for stream in (None, True):
            try:
                load_dataset(DataConfig(source="file", path={str(path)!r}, stream=stream), 0)
                print("LOADED")
            except DataError as e:
                print("REFUSED", e)
        for stream in (None, True):
            d = load_dataset(DataConfig(source="file", path={str(path)!r}, limit=30,
                                        n_probe=4, stream=stream), 3)
            print("LIMITED", len(d.images), d.n_train + d.n_val, d.image_shape)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin"})
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stderr[-2000:]
    refused = [line for line in lines if line.startswith("REFUSED")]
    assert len(refused) == 2, out.stdout
    for line in refused:
        assert "huge.h5" in line and "1,000,000,000 images" in line
        assert "order of their indices" in line and "Set data.limit to" in line
    assert lines[2:] == ["LIMITED 30 30 (1, 28, 28)"] * 2
