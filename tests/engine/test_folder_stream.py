"""Folders of photos: indexed without decoding, streamed in workers, mixed sizes, bad files."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from PIL import Image

from engine.config import DataConfig
from engine.data import load_dataset, load_file
from engine.data.folder import FolderImages
from engine.errors import DataError
from engine.events import RunStarted
from engine.session import Session, SessionWriter
from engine.trainer import Trainer
from session_support import Recorder, single_torch_thread, tiny_config


def mixed_photos(folder, n: int = 24, seed: int = 0):
    """RGB JPEGs and PNGs of several sizes, plus RGBA, palette, grey and 16-bit grey images."""
    rng = np.random.default_rng(seed)
    folder.mkdir(exist_ok=True)
    sizes = [(40, 30), (33, 47), (64, 64), (20, 90), (128, 72)]
    for i in range(n):
        w, h = sizes[i % len(sizes)]
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        kind = i % 6
        if kind == 0:
            Image.fromarray(rgb).save(folder / f"{i:03d}.jpg", quality=90)
        elif kind == 1:
            Image.fromarray(rgb).save(folder / f"{i:03d}.png")
        elif kind == 2:
            rgba = np.concatenate([rgb, rng.integers(0, 256, (h, w, 1), dtype=np.uint8)], -1)
            Image.fromarray(rgba).save(folder / f"{i:03d}.png")
        elif kind == 3:
            Image.fromarray(rgb).convert("P").save(folder / f"{i:03d}.gif")
        elif kind == 4:
            Image.fromarray(rgb[..., 0]).save(folder / f"{i:03d}.png")           # L
        else:
            deep = rng.integers(0, 65536, (h, w), dtype=np.uint16)
            Image.fromarray(deep).save(folder / f"{i:03d}.png")                  # I;16
    return folder


def test_a_folder_of_mixed_photos_loads_at_one_size_in_colour(tmp_path):
    folder = mixed_photos(tmp_path / "photos")
    images = load_file(folder, size=32).images
    assert images.shape == (24, 3, 32, 32) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    # A grey image in a colour set is grey RGB; an RGBA one is composited over black.
    grey = images[4]
    np.testing.assert_array_equal(grey[0], grey[1])
    rgba = np.asarray(Image.open(folder / "002.png"))
    over_black = fit_centre(rgba[..., :3].astype(np.float32) * (rgba[..., 3:] / 255.0), 32)
    assert np.abs(images[2] - over_black).mean() < 0.02
    with pytest.raises(DataError, match="images differ in size.*data.image_size"):
        load_file(folder)


def fit_centre(hwc: np.ndarray, size: int) -> np.ndarray:
    from engine.data.resize import fit_float
    return fit_float((hwc / 255.0).transpose(2, 0, 1)[None].astype(np.float32), size)[0]


def test_a_streamed_folder_gives_the_loaded_numbers_and_pickles_small(tmp_path):
    folder = mixed_photos(tmp_path / "photos", n=12)
    loaded = load_file(folder, size=24).images
    streamed = load_file(folder, size=24, stream=True).images
    assert isinstance(streamed, FolderImages) and streamed.shape == loaded.shape
    idx = np.array([7, 0, 11, 3])
    np.testing.assert_array_equal(streamed[idx], loaded[idx])
    sub = pickle.loads(pickle.dumps(streamed.subset(np.array([5, 1]))))   # what a worker gets
    np.testing.assert_array_equal(sub[np.arange(2)], loaded[[5, 1]])
    assert len(pickle.dumps(streamed)) < 200 * 12          # file names, not pixels


def test_indexing_a_folder_reads_names_not_images(tmp_path, monkeypatch):
    folder = tmp_path / "many"
    folder.mkdir()
    px = np.zeros((8, 8, 3), np.uint8)
    for i in range(300):
        Image.fromarray(px).save(folder / f"{i:04d}.png")
    opened = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    images = load_file(folder, size=8, stream=True).images
    assert len(images) == 300
    assert len(opened) <= 64            # the colour sample's headers, never all 300 images


def test_a_folder_of_mixed_sizes_trains_streamed_at_32(tmp_path):
    """Done when (issue 18): probe images 3x32x32 from a streamed folder of mixed RGB photos."""
    folder = mixed_photos(tmp_path / "photos", n=40)
    cfg = tiny_config("variational", epochs=1, data__source="file", data__path=str(folder),
                      data__limit=None, data__image_size=32, data__stream=True,
                      data__workers=1, data__n_probe=8, optim__batch_size=16)
    out = tmp_path / "run.h5"
    with single_torch_thread(), SessionWriter(out) as writer:
        trainer = Trainer(cfg)
        rec = Recorder()
        assert trainer.data.streamed and trainer.data.stored_dtype == np.uint8
        assert trainer.run(lambda e: (rec(e), writer(e))) == "completed"
    started = rec.of(RunStarted)[0]
    assert started.data.image_shape == (3, 32, 32)
    assert started.data.probe_images.shape == (8, 3, 32, 32)
    with Session.open(out) as s:
        run = s.run()
        assert run.data.image_shape == (3, 32, 32)
        assert run.snapshot(1).images["probe_recon"].shape == (8, 3, 32, 32)


def test_unreadable_files_are_named(tmp_path):
    folder = mixed_photos(tmp_path / "photos", n=6)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    (folder / "empty.png").write_bytes(b"")
    with pytest.raises(DataError) as info:
        load_file(folder, size=16)
    msg = str(info.value)
    assert "2 files cannot be read as images" in msg and "broken.jpg" in msg
    assert "empty.png" in msg and "Remove or replace them" in msg
    # Streamed, the batch that meets one stops the run naming it (files are never skipped).
    images = load_file(folder, size=16, stream=True).images
    bad = images.files.index(str(folder / "broken.jpg"))
    with pytest.raises(DataError, match="broken.jpg: cannot read the image"):
        images[np.array([0, bad])]


def test_a_streamed_folder_run_stops_with_the_bad_file_named(tmp_path):
    folder = mixed_photos(tmp_path / "photos", n=30)
    cfg = tiny_config("plain", epochs=1, data__source="file", data__path=str(folder),
                      data__limit=None, data__image_size=16, data__stream=True,
                      data__workers=0, data__n_probe=2, optim__batch_size=8)
    trainer = Trainer(cfg)
    ds = trainer.dataset
    assert not set(ds.probe_idx) & set(ds.train_idx)
    for i in ds.train_idx:                            # the training images become unreadable
        open(ds.images.files[i], "wb").close()
    rec = Recorder()
    with single_torch_thread():
        status = trainer.run(rec)
    assert status == "failed"
    assert "cannot read the image" in rec.events[-1].message
    assert "Remove or replace the file" in rec.events[-1].message


def test_stream_true_is_accepted_for_folders_through_the_config(tmp_path):
    folder = mixed_photos(tmp_path / "photos", n=10)
    ds = load_dataset(DataConfig(source="file", path=str(folder), image_size=16, stream=True,
                                 n_probe=4), 0)
    assert isinstance(ds.images, FolderImages) and ds.image_shape == (3, 16, 16)


def test_a_folder_slow_to_decode_streams_by_default(tmp_path, monkeypatch):
    """It fits in memory, but decoding it all before the first step would delay the run."""
    import engine.data.folder as folder_module
    folder = mixed_photos(tmp_path / "photos", n=10)
    assert isinstance(load_file(folder, size=16, stream=None).images, np.ndarray)
    monkeypatch.setattr(folder_module, "WHOLE_DECODE_SECONDS", 0.0)
    assert isinstance(load_file(folder, size=16, stream=None).images, FolderImages)
    assert isinstance(load_file(folder, size=16, stream=False).images, np.ndarray)
