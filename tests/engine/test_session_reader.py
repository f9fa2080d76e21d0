"""Bad session files: each gives a SessionError that names the file and the problem,
and nothing is ever written to them."""

from __future__ import annotations

import hashlib
import json
import shutil

import h5py
import numpy as np
import pytest

from engine.session import Session, SessionError, SessionWriter
from session_support import record_run, single_torch_thread, tiny_config


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_torch_thread():
        yield


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    path = tmp_path_factory.mktemp("reader") / "good.h5"
    record_run(path, tiny_config(epochs=2))
    return path


@pytest.fixture
def copy(good, tmp_path):
    """A fresh copy of the good session to damage, named bad.h5."""
    def make(edit=None):
        path = tmp_path / "bad.h5"
        shutil.copyfile(good, path)
        if edit is not None:
            with h5py.File(path, "r+") as f:
                edit(f)
        return path
    return make


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_everything(path) -> None:
    with Session.open(path) as s:
        for epoch in s.snapshot_epochs:
            s.snapshot(epoch)
            s.decoder(epoch)
        s.checkpoint()


def assert_rejected(path, *words) -> str:
    """Reading fails with a SessionError naming the file and ``words``; the file is unchanged."""
    before = digest(path)
    with pytest.raises(SessionError) as err:
        read_everything(path)
    message = str(err.value)
    assert message.startswith(path.name + ":"), message
    for word in words:
        assert word in message, message
    assert digest(path) == before
    return message


def test_the_good_file_reads(good):
    read_everything(good)


def test_missing_file(tmp_path):
    with pytest.raises(SessionError, match="nothing.h5: does not exist"):
        Session.open(tmp_path / "nothing.h5")


def test_a_folder(tmp_path):
    with pytest.raises(SessionError, match="is a folder"):
        Session.open(tmp_path)


def test_not_hdf5(tmp_path):
    path = tmp_path / "notes.h5"
    path.write_text("these are my notes, not a session\n" * 20)
    assert_rejected(path, "not an HDF5 file")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.h5"
    path.write_bytes(b"")
    assert_rejected(path)


def test_truncated(good, tmp_path):
    path = tmp_path / "cut.h5"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    assert_rejected(path, "cut short")


def test_another_programs_hdf5(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["images"] = np.zeros((3, 4))
    assert_rejected(path, "not an Autoencoder Studio session")


def test_another_format_marker(copy):
    def edit(f):
        f.attrs["format"] = "someone-elses-format"
    assert_rejected(copy(edit), "another kind")


def test_newer_format_version(copy):
    def edit(f):
        f.attrs["format_version"] = 99
    assert_rejected(copy(edit), "newer", "format 99", "Update the app")


@pytest.mark.parametrize("group", ["config", "data", "history", "epochs", "snapshots"])
def test_missing_groups(copy, group):
    def edit(f):
        del f[group]
    assert_rejected(copy(edit), f"/{group}", "missing")


def test_missing_snapshot_array(copy):
    def edit(f):
        del f["snapshots/000001/probe_recon"]
    assert_rejected(copy(edit), "/snapshots/000001/probe_recon", "missing")


def test_wrong_shape(copy):
    def edit(f):
        del f["snapshots/000002/probe_recon"]
        f["snapshots/000002/probe_recon"] = np.zeros((3, 3), np.float32)
    assert_rejected(copy(edit), "/snapshots/000002/probe_recon", "shape (3, 3)")


def test_wrong_dtype(copy):
    def edit(f):
        rows = f["history"][()]
        dtype = [(n, "S8" if n == "total" else rows.dtype[n]) for n in rows.dtype.names]
        del f["history"]
        f["history"] = np.zeros(len(rows), dtype=dtype)
    assert_rejected(copy(edit), "'total'", "/history", "dtype")


def test_a_table_that_is_not_a_table(copy):
    def edit(f):
        del f["epochs"]
        f["epochs"] = np.arange(3.0)
    assert_rejected(copy(edit), "/epochs", "dtype")


def test_steps_out_of_order(copy):
    def edit(f):
        rows = f["history"][()]
        rows["step"] = rows["step"][::-1]
        f["history"][:] = rows
    assert_rejected(copy(edit), "/history", "not increasing")


def test_invalid_config(copy):
    def edit(f):
        cfg = json.loads(f["config"].attrs["json"])
        cfg["model"]["latent_dim"] = -3
        f["config"].attrs["json"] = json.dumps(cfg)
    assert_rejected(copy(edit), "config is invalid", "model.latent_dim")


def test_weights_that_do_not_fit_the_config(copy):
    def edit(f):
        cfg = json.loads(f["config"].attrs["json"])
        cfg["model"]["hidden"] = [48]  # the stored weights are for 32 units
        f["config"].attrs["json"] = json.dumps(cfg)
    message = assert_rejected(copy(edit), "not fit")
    assert "32" in message or "48" in message


def test_a_checkpoint_weight_of_the_wrong_shape(copy):
    def edit(f):
        g = f["checkpoint/model"]
        name = sorted(g)[0]
        del g[name]
        g[name] = np.zeros((2, 2), np.float32)
    assert_rejected(copy(edit), "/checkpoint/model", "shape (2, 2)")


def test_optimizer_state_for_a_missing_parameter(copy):
    def edit(f):
        f["checkpoint/optimizer/state/99/exp_avg"] = np.zeros(3, np.float32)
    assert_rejected(copy(edit), "state/99", "does not belong")


def test_unknown_epoch_and_closed_session(good):
    s = Session.open(good)
    with pytest.raises(SessionError, match="no snapshot for epoch 7 .saved epochs: 1..2"):
        s.snapshot(7)
    s.close()
    with pytest.raises(SessionError, match="closed"):
        s.snapshot(1)


def test_continuing_a_bad_file_is_refused_and_leaves_it_alone(copy, tmp_path):
    newer = copy(lambda f: f.attrs.__setitem__("format_version", 2))
    text = tmp_path / "text.h5"
    text.write_text("not a session")
    for path in (newer, text):
        before = digest(path)
        with pytest.raises(SessionError, match=path.name):
            SessionWriter(path, append=True)
        assert digest(path) == before
        assert sorted(p.name for p in path.parent.glob(path.name + ".*")) == []
