"""data.image_size: every image source made one square size (centre square, resized)."""

from __future__ import annotations

import gzip

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from engine.config import DataConfig, RunConfig
from engine.data import load_dataset, load_file
from engine.data.resize import centre_square, fit_float, fit_uint8
from engine.data.streamed import FileImages
from engine.errors import ConfigError


def _gradient_rgb(h: int, w: int) -> np.ndarray:
    """(h, w, 3) uint8: red rises left to right, green top to bottom, blue constant."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // max(1, w - 1), y * 255 // max(1, h - 1),
                     np.full_like(x, 90)], axis=-1).astype(np.uint8)


def test_the_centre_square_is_cut_from_the_longer_side_only():
    assert centre_square(40, 60) == (0, 10, 40)
    assert centre_square(61, 30) == (15, 0, 30)
    assert centre_square(32, 32) == (0, 0, 32)


def test_resizing_matches_an_independent_crop_and_interpolation():
    img = _gradient_rgb(30, 50)                                  # wide: 10 columns cut each side
    rows = img.transpose(2, 0, 1)[None]                          # (1, 3, 30, 50) uint8
    by_pillow = fit_uint8(rows, 15)[0].astype(np.float32) / 255
    crop = torch.from_numpy(rows[:, :, :, 10:40].astype(np.float32) / 255)
    want = F.interpolate(crop, size=(15, 15), mode="bilinear", antialias=True)[0].numpy()
    assert by_pillow.shape == (3, 15, 15)
    assert np.abs(by_pillow - want).max() <= 3 / 255              # Pillow in 8 bits vs torch
    by_torch = fit_float(rows.astype(np.float32) / 255, 15)[0]
    np.testing.assert_allclose(by_torch, want, atol=1e-6)
    # The crop kept the centre: the red ramp spans 10..39 of 0..49, not the whole width.
    assert 0.15 < by_torch[0, :, 0].mean() < 0.3 and 0.7 < by_torch[0, :, -1].mean() < 0.85
    # Orientation kept: green grows downwards, blue stays constant.
    assert by_torch[1, 0].mean() < 0.1 and by_torch[1, -1].mean() > 0.9
    np.testing.assert_allclose(by_torch[2], 90 / 255, atol=1e-6)
    # Enlarging works too, and keeps values in [0, 1].
    big = fit_float(np.random.default_rng(0).random((2, 1, 7, 9), dtype=np.float32), 20)
    assert big.shape == (2, 1, 20, 20) and 0 <= big.min() and big.max() <= 1


def _write_sources(tmp_path, raw: np.ndarray) -> dict:
    """The same (N, H, W, 3) uint8 images as .npy, .npz, .h5 and a folder of PNGs."""
    np.save(tmp_path / "x.npy", raw)
    np.savez(tmp_path / "x.npz", images=raw)
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f.create_dataset("images", data=raw, chunks=(4, *raw.shape[1:]))
    (tmp_path / "pngs").mkdir()
    for i, a in enumerate(raw):
        Image.fromarray(a).save(tmp_path / "pngs" / f"{i:03d}.png")
    return {k: tmp_path / k for k in ("x.npy", "x.npz", "x.h5", "pngs")}


def test_every_file_source_gives_the_same_resized_images(tmp_path):
    raw = np.random.default_rng(1).integers(0, 256, (12, 21, 33, 3), dtype=np.uint8)
    want = fit_uint8(raw.transpose(0, 3, 1, 2), 16).astype(np.float32) / 255
    for name, path in _write_sources(tmp_path, raw).items():
        images = load_file(path, size=16).images
        assert images.shape == (12, 3, 16, 16), name
        np.testing.assert_array_equal(images, want, err_msg=name)
    for name in ("x.npy", "x.h5", "pngs"):            # streamed: the same numbers
        images = load_file(tmp_path / name, stream=True, size=16).images
        assert not isinstance(images, np.ndarray) and images.shape == (12, 3, 16, 16)
        assert images.stored(np.arange(3)).dtype == np.uint8       # a batch crosses as uint8
        np.testing.assert_array_equal(images[np.array([5, 0, 11])], want[[5, 0, 11]])


def test_streamed_float_files_are_resized_like_loaded_ones(tmp_path):
    raw = np.random.default_rng(2).normal(2.0, 3.0, (9, 3, 20, 14))   # min-max scaled floats
    np.save(tmp_path / "f.npy", raw)
    loaded = load_file(tmp_path / "f.npy", size=10).images
    streamed = FileImages(tmp_path / "f.npy", size=10)
    assert streamed.stored_dtype == np.float32 and loaded.shape == (9, 3, 10, 10)
    np.testing.assert_array_equal(streamed[np.arange(9)], loaded)


def test_idx_and_the_bundled_sets_take_an_image_size(tmp_path):
    x = np.random.default_rng(3).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    with gzip.open(tmp_path / "t-images-idx3-ubyte.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + np.array(x.shape, ">u4").tobytes() + x.tobytes())
    assert load_file(tmp_path / "t-images-idx3-ubyte.gz", size=32).images.shape == (6, 1, 32, 32)
    mnist = load_dataset(DataConfig(source="mnist", image_size=32, limit=50), 0)
    assert mnist.image_shape == (1, 32, 32)                          # grey stays one channel
    sprites = load_dataset(DataConfig(source="sprites", n_sprites=40, sprite_size=64,
                                      sprite_colour=True, image_size=32), 0)
    assert sprites.image_shape == (3, 32, 32) and sprites.factor_names[-1] == "hue"


def test_colour_sprites_are_the_grey_ones_in_colour():
    grey = load_dataset(DataConfig(source="sprites", n_sprites=30), 4)
    colour = load_dataset(DataConfig(source="sprites", n_sprites=30, sprite_colour=True), 4)
    assert colour.image_shape == (3, 32, 32)
    np.testing.assert_array_equal(colour.factors[:, :5], grey.factors)
    # Each pixel is the grey sprite's coverage times the sprite's colour: max over RGB = grey.
    np.testing.assert_allclose(colour.images.max(axis=1), grey.images[:, 0], atol=1e-6)
    hues = colour.factors[:, 5]
    assert 0 <= hues.min() and hues.max() < 1 and len(np.unique(hues)) == 30


@pytest.mark.parametrize("value,words", [(3, "from 8 to 1024"), (5000, "from 8 to 1024"),
                                         (32.5, "from 8 to 1024"), ("64", "from 8 to 1024")])
def test_an_image_size_out_of_range_is_refused_naming_the_field(value, words):
    with pytest.raises(ConfigError) as info:
        RunConfig().with_overrides({"data.image_size": value})
    assert info.value.base_field == "data.image_size" and words in str(info.value)
    assert "square" in str(info.value)


def test_points_refuse_an_image_size():
    with pytest.raises(ConfigError, match="2-D points"):
        RunConfig().with_overrides({"data.source": "moons", "data.image_size": 32})
