"""Data larger than memory: images that stay in a .npy or HDF5 file, read a batch at a time.

The streamed images must be the numbers the in-memory path makes of the same
file, and a streamed run must train on the same batches in the same order.
"""

from __future__ import annotations

import pickle

import h5py
import numpy as np
import pytest

from engine.checkpoint import module_arrays
from engine.data import files, load_dataset, load_file
from engine.data.arrays import as_images
from engine.data.streamed import FileImages
from engine.errors import DataError
from engine.trainer import Trainer
from session_support import Recorder, StopAfter, single_torch_thread, tiny_config


def _raw(kind: str, n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(0)
    if kind == "uint8":
        return rng.integers(0, 256, (n, 12, 10), dtype=np.uint8)
    if kind == "uint16-rgba":
        return rng.integers(0, 4000, (n, 9, 7, 4), dtype=np.uint16)
    if kind == "float-nchw":
        return rng.normal(3.0, 2.0, (n, 3, 8, 8))  # float64 outside [0, 1]: min-max scaled
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["uint8", "uint16-rgba", "float-nchw"])
@pytest.mark.parametrize("container", ["npy", "h5"])
def test_streamed_rows_equal_the_loaded_array(tmp_path, kind, container, monkeypatch):
    raw = _raw(kind)
    if container == "npy":
        path, key = tmp_path / "x.npy", None
        np.save(path, raw)
    else:
        path, key = tmp_path / "x.h5", "images"
        with h5py.File(path, "w") as f:
            f.create_dataset(key, data=raw, chunks=(8, *raw.shape[1:]))
    # A scan in pieces must find the same range as a look at the whole array.
    monkeypatch.setattr("engine.data.streamed.SCAN_BYTES", raw[0].nbytes * 3)
    whole = as_images(raw, path)
    images = FileImages(path, key)
    assert images.shape == whole.shape and len(images) == len(whole)
    assert images.nbytes == whole.nbytes
    for idx in (np.array([5, 0, 39, 5, 17]), np.arange(3, 30, 2), np.array([], np.int64)):
        np.testing.assert_array_equal(images[idx], whole[idx])
    np.testing.assert_array_equal(images[10:20], whole[10:20])
    sub = images.subset(np.array([30, 2, 7]))
    np.testing.assert_array_equal(sub[np.array([2, 0])], whole[[7, 30]])
    again = pickle.loads(pickle.dumps(sub))  # what a DataLoader worker gets
    assert len(pickle.dumps(sub)) < 2000  # a path and some numbers, not the data
    np.testing.assert_array_equal(again[np.arange(3)], whole[[30, 2, 7]])
    with pytest.raises(TypeError, match="streamed"):
        np.asarray(images)
    images.release()


def test_load_file_streams_when_asked_or_when_the_data_does_not_fit(tmp_path, monkeypatch):
    path = tmp_path / "x.npy"
    np.save(path, _raw("uint8"))
    assert isinstance(load_file(path).images, np.ndarray)               # default: load
    assert isinstance(load_file(path, stream=True).images, FileImages)
    assert isinstance(load_file(path, stream=None).images, np.ndarray)  # auto: it fits
    monkeypatch.setattr(files, "fits_in_memory", lambda nbytes: False)
    assert isinstance(load_file(path, stream=None).images, FileImages)  # auto: too large
    assert isinstance(load_file(path, stream=False).images, np.ndarray)


def test_streaming_refuses_what_cannot_stay_in_its_file(tmp_path):
    np.savez(tmp_path / "x.npz", images=_raw("uint8"))
    with pytest.raises(DataError, match=r"x\.npz: only \.npy and \.h5/\.hdf5 files and folders "
                                        r"of images can be streamed\. Save the images with "
                                        r"numpy\.save"):
        load_file(tmp_path / "x.npz", stream=True)
    bad = np.full((4, 5, 5), 0.5)
    bad[2, 1, 1] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(DataError, match="1 NaN and 0 infinite"):
        load_file(tmp_path / "nan.npy", stream=True)
    np.save(tmp_path / "flat.npy", np.zeros((4, 784)))
    with pytest.raises(DataError, match="rank 2"):
        load_file(tmp_path / "flat.npy", stream=True)


def _digits_file(tmp_path, container: str):
    """The first 400 bundled digits as uint8, with labels, in a .npy or a chunked .h5."""
    from engine.data.mnist import load_mnist
    digits = load_mnist()
    raw = np.round(digits.images[:400, 0] * 255).astype(np.uint8)
    if container == "npy":
        np.save(tmp_path / "d.npy", raw)
        return tmp_path / "d.npy"
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f.create_dataset("images", data=raw, chunks=(32, 28, 28))
        f.create_dataset("labels", data=digits.labels[:400])
    return tmp_path / "d.h5"


def _train(cfg, control=None, checkpoint=None):
    trainer = Trainer(cfg, checkpoint=checkpoint)
    rec = Recorder()
    trainer.run(rec, control)
    return trainer, rec


@pytest.mark.parametrize("container,workers", [("npy", 0), ("h5", 1)])
def test_a_streamed_run_trains_like_the_run_in_memory(tmp_path, container, workers):
    path = _digits_file(tmp_path, container)
    base = tiny_config("denoising", epochs=2, data__source="file", data__path=str(path),
                       data__limit=None, data__n_probe=8, optim__batch_size=48)
    with single_torch_thread():
        loaded, rec_loaded = _train(base.with_overrides({"data.stream": False}))
        streamed_cfg = base.with_overrides({"data.stream": True, "data.workers": workers})
        streamed, rec_streamed = _train(streamed_cfg)
    assert streamed.data.streamed and not loaded.data.streamed
    steps = [e for e in rec_streamed.events if type(e).__name__ == "StepMetrics"]
    same = [e for e in rec_loaded.events if type(e).__name__ == "StepMetrics"]
    assert len(steps) == len(same) == 2 * 8
    assert [e.terms for e in steps] == [e.terms for e in same]    # the same batches, in order
    a, b = module_arrays(loaded.model), module_arrays(streamed.model)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    np.testing.assert_array_equal(rec_streamed.events[0].data.probe_images,
                                  rec_loaded.events[0].data.probe_images)



def test_a_streamed_run_stopped_mid_epoch_resumes_exactly(tmp_path):
    path = _digits_file(tmp_path, "npy")
    cfg = tiny_config("variational", epochs=2, data__source="file", data__path=str(path),
                      data__limit=None, data__n_probe=8, optim__batch_size=48,
                      data__stream=True, data__workers=0)
    with single_torch_thread():
        whole, rec_whole = _train(cfg)
        first, rec = _train(cfg, StopAfter(11))           # stops 3 batches into epoch 2
        ck = [e for e in rec.events if type(e).__name__ == "CheckpointSaved"][-1].checkpoint
        assert (ck.epoch, ck.position) == (1, 3)
        second, _ = _train(cfg, checkpoint=ck)
    a, b = module_arrays(whole.model), module_arrays(second.model)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_the_bundled_data_stays_in_memory_even_when_stream_is_set():
    ds = load_dataset(tiny_config("plain", data__stream=True).data, 0)
    assert isinstance(ds.images, np.ndarray)


def test_the_default_worker_count_keeps_a_core_for_training():
    from engine.data.training_data import default_workers
    assert default_workers(1) == default_workers(2) == 0
    assert default_workers(4) == 2 and default_workers(16) == 4
