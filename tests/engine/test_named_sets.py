"""Named data sets: fetched once into the cache with a checksum, or a clear message offline.

No test goes online: the sets' files are small fakes in the real formats (IDX,
CIFAR-10's binary records in a tar.gz), served from ``file://`` URLs or an
``http.server`` on localhost, with checksums computed here.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import tarfile
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from engine.config import DataConfig
from engine.data import load_dataset, named
from engine.data.named import NamedSet, RemoteFile, load_named, read_cifar_binary
from engine.errors import DataError


def _idx_bytes(arr: np.ndarray) -> bytes:
    head = bytes([0, 0, 8, arr.ndim]) + np.array(arr.shape, ">u4").tobytes()
    return gzip.compress(head + arr.astype(np.uint8).tobytes())


def _fake_mnist(folder: Path, n: int = 50) -> tuple[np.ndarray, np.ndarray, dict[str, bytes]]:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = rng.integers(0, 10, n, dtype=np.uint8)
    files = {"train-images-idx3-ubyte.gz": _idx_bytes(x), "train-labels-idx1-ubyte.gz":
             _idx_bytes(y)}
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return x, y, files


def _fake_set(files: dict[str, bytes], base_url: str, name: str = "mnist-full") -> NamedSet:
    """The real set's reader, with these files' checksums and URLs under ``base_url``."""
    real = named.NAMED_SETS[name]
    remote = tuple(RemoteFile(f.name, hashlib.sha256(files[f.name]).hexdigest(),
                              len(files[f.name]), (f"{base_url}/{f.name}",))
                   for f in real.files)
    return replace(real, files=remote)


def test_a_set_is_fetched_once_checked_and_read_from_the_cache(tmp_path):
    x, y, files = _fake_mnist(tmp_path / "server")
    fake = _fake_set(files, (tmp_path / "server").as_uri())
    cache = tmp_path / "cache" / "mnist-full"
    data = load_named("mnist-full", sets={"mnist-full": fake}, folder=cache, progress=False)
    assert data.images.shape == (50, 1, 28, 28) and data.label_names[3] == "3"
    np.testing.assert_array_equal(data.images[:, 0], x / np.float32(255))
    np.testing.assert_array_equal(data.labels, y)
    assert sorted(p.name for p in cache.iterdir()) == sorted(files)       # no .part left
    # The second time comes from the cache: the server can be gone.
    gone = replace(fake, files=tuple(replace(f, urls=("file:///nonexistent/x",))
                                     for f in fake.files))
    again = load_named("mnist-full", 32, sets={"mnist-full": gone}, folder=cache)
    assert again.images.shape == (50, 1, 32, 32)


def test_a_damaged_download_or_cached_file_is_refused(tmp_path):
    _, _, files = _fake_mnist(tmp_path / "server")
    fake = _fake_set(files, (tmp_path / "server").as_uri())
    wrong = replace(fake, files=(replace(fake.files[0], sha256="0" * 64), fake.files[1]))
    cache = tmp_path / "cache"
    with pytest.raises(DataError) as info:
        load_named("mnist-full", sets={"mnist-full": wrong}, folder=cache, progress=False)
    assert "SHA-256 is" in str(info.value) and "expected " + "0" * 64 in str(info.value)
    assert not (cache / "train-images-idx3-ubyte.gz").exists()   # never kept
    load_named("mnist-full", sets={"mnist-full": fake}, folder=cache, progress=False)
    with open(cache / "train-labels-idx1-ubyte.gz", "ab") as f:
        f.write(b"junk")
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.gz: its SHA-256 is .*Delete it"):
        load_named("mnist-full", sets={"mnist-full": fake}, folder=cache)


def test_offline_the_message_names_the_files_their_urls_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTOENCODER_STUDIO_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(named, "_TIMEOUT_S", 2)
    dead = {k: replace(s, files=tuple(replace(f, urls=("http://127.0.0.1:9/" + f.name,) + f.urls)
                                      for f in s.files))
            for k, s in named.NAMED_SETS.items()}
    monkeypatch.setattr(named, "NAMED_SETS", dead)
    monkeypatch.setattr(named.urllib.request, "urlopen", _refuse_all_but_localhost)
    with pytest.raises(DataError) as info:
        load_dataset(DataConfig(source="cifar10"), 0)
    msg = str(info.value)
    folder = tmp_path / "cache" / "cifar10"
    assert f"not in the cache folder {folder}" in msg and "could not be downloaded" in msg
    assert "cifar-10-binary.tar.gz (170.1 MB, SHA-256 c4a38c50" in msg
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz" in msg
    assert f"put it in {folder}" in msg and not any(folder.glob("*.part"))


def _refuse_all_but_localhost(url, timeout=None):
    import urllib.request
    if url.startswith("http://127.0.0.1"):
        return urllib.request.build_opener().open(url, timeout=timeout)
    raise OSError("no network in this test")


def _cifar_archive(n_per_batch: int = 6) -> tuple[bytes, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    buf, pixels, labels = io.BytesIO(), [], []
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for b in range(1, 3):
            x = rng.integers(0, 256, (n_per_batch, 3, 32, 32), dtype=np.uint8)
            y = rng.integers(0, 10, n_per_batch, dtype=np.uint8)
            records = np.concatenate([y[:, None], x.reshape(n_per_batch, -1)], axis=1)
            data = records.tobytes()
            info = tarfile.TarInfo(f"cifar-10-batches-bin/data_batch_{b}.bin")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            pixels.append(x)
            labels.append(y)
        info = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")   # not training data
        info.size = 3073
        tar.addfile(info, io.BytesIO(bytes(3073)))
    return buf.getvalue(), np.concatenate(pixels), np.concatenate(labels)


def test_cifar10_is_read_from_its_binary_records_through_a_mirror(tmp_path, monkeypatch):
    archive, x, y = _cifar_archive()
    served = tmp_path / "served" / "cifar10"
    served.mkdir(parents=True)
    (served / "cifar-10-binary.tar.gz").write_bytes(archive)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler,
                                directory=str(tmp_path / "served"))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        real = named.NAMED_SETS["cifar10"]
        fake = replace(real, files=(replace(real.files[0], sha256=hashlib.sha256(
            archive).hexdigest(), urls=("http://127.0.0.1:9/unreachable",)),))
        monkeypatch.setitem(named.NAMED_SETS, "cifar10", fake)
        monkeypatch.setenv("AUTOENCODER_STUDIO_DATA", str(tmp_path / "cache"))
        monkeypatch.setenv("AUTOENCODER_STUDIO_MIRROR", f"http://127.0.0.1:{server.server_port}")
        ds = load_dataset(DataConfig(source="cifar10", n_probe=4), 0)
    finally:
        server.shutdown()
    assert ds.image_shape == (3, 32, 32) and len(ds.images) == 12
    assert ds.label_names[0] == "airplane" and ds.n_classes == 10
    np.testing.assert_array_equal(ds.images, x / np.float32(255))       # channel planes kept
    np.testing.assert_array_equal(ds.labels, y)
    assert (tmp_path / "cache" / "cifar10" / "cifar-10-binary.tar.gz").read_bytes() == archive


def test_the_python_version_of_cifar_is_refused_not_unpickled(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"\x80\x04N."))
    (tmp_path / "c.tar.gz").write_bytes(buf.getvalue())
    with pytest.raises(DataError, match="binary version"):
        read_cifar_binary(tmp_path / "c.tar.gz")


def test_the_named_sets_carry_their_published_checksums():
    sums = {f.name: f.sha256 for s in named.NAMED_SETS.values() for f in s.files}
    assert sums["cifar-10-binary.tar.gz"].startswith("c4a38c50a1bc")
    assert {s.name for s in named.NAMED_SETS.values()} == {"mnist-full", "fashion-mnist",
                                                           "cifar10"}
    assert all(len(f.sha256) == 64 and f.urls for s in named.NAMED_SETS.values()
               for f in s.files)
