"""Randomly damaged sessions: the reader raises SessionError or reads them, nothing else.

200 mutations of a real session file (fixed seed): a few bytes overwritten,
mostly in HDF5 metadata (superblock, object headers, B-trees, heaps —
where damage is most likely to derail a reader), sometimes anywhere, and
sometimes the file cut short. Each damaged file is opened and read
completely (every snapshot, every decoder, the checkpoint).
"""

from __future__ import annotations

import time

import h5py
import numpy as np
import pytest

from engine.session import SessionError
from session_support import read_everything, record_run, single_torch_thread, tiny_config

MUTATIONS = 200
SLOW_SECONDS = 5.0  # a reader that takes this long on a 200 KB file is stuck


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "sample.h5"
    with single_torch_thread():
        record_run(path, tiny_config(preset="vae-2d", epochs=2, data__limit=120,
                                     data__n_probe=4, model__hidden=[8]))
    return path


def raw_data_mask(path) -> np.ndarray:
    """True for every byte that is array data (the rest is HDF5 metadata or free space)."""
    mask = np.zeros(path.stat().st_size, dtype=bool)

    def visit(_, obj):
        if not isinstance(obj, h5py.Dataset):
            return
        offset = obj.id.get_offset()
        if offset is not None:
            mask[offset:offset + obj.id.get_storage_size()] = True
        elif obj.chunks:
            for i in range(obj.id.get_num_chunks()):
                info = obj.id.get_chunk_info(i)
                mask[info.byte_offset:info.byte_offset + info.size] = True

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    return mask




def test_damaged_files_only_ever_raise_session_error(sample, tmp_path):
    original = sample.read_bytes()
    metadata = np.flatnonzero(~raw_data_mask(sample))
    rng = np.random.default_rng(20261127)
    target = tmp_path / "damaged.h5"
    outcomes = {"read": 0, "SessionError": 0}
    for i in range(MUTATIONS):
        data = bytearray(original)
        if rng.random() < 0.1:
            data = data[: int(rng.integers(0, len(data)))]
        else:
            for _ in range(int(rng.integers(1, 4))):
                at = int(rng.choice(metadata)) if rng.random() < 0.8 else int(
                    rng.integers(0, len(data)))
                n = int(rng.integers(1, 5))
                data[at:at + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        target.write_bytes(bytes(data))
        start = time.perf_counter()
        try:
            read_everything(target)
            outcomes["read"] += 1
        except SessionError as e:
            assert str(e).startswith("damaged.h5:"), str(e)
            outcomes["SessionError"] += 1
        except Exception as e:  # noqa: BLE001 - the point of the test
            pytest.fail(f"mutation {i}: {type(e).__name__}: {e}")
        assert time.perf_counter() - start < SLOW_SECONDS, f"mutation {i} took too long"
    # The mutations really do break files (else the test would prove nothing).
    assert outcomes["SessionError"] >= MUTATIONS // 5, outcomes
