"""Bad session files: each gives a SessionError that names the file and the problem,
and nothing is ever written to them."""

from __future__ import annotations

import hashlib
import json
import shutil

import h5py
import numpy as np
import pytest

from engine.session import FORMAT_VERSION, Session, SessionError, SessionWriter
from session_support import record_run, tiny_config


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


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
        for run in s.runs.values():
            for epoch in run.snapshot_epochs:
                run.snapshot(epoch)
                run.decoder(epoch)
            run.checkpoint()


RUN = "runs/main"


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


@pytest.mark.parametrize("marker", [np.array([1, 2, 3]),
                                    np.array([b"autoencoder-studio-session"] * 2),
                                    np.float64(2.0)], ids=["ints", "strings", "number"])
def test_a_format_attribute_that_is_not_text(copy, marker):
    """Found by a fuzzer: an array here once raised numpy's 'truth value of an array'."""
    def edit(f):
        f.attrs["format"] = marker
    path = copy(edit)
    assert_rejected(path, "'format' attribute is not text", "damaged")
    with pytest.raises(SessionError, match="'format' attribute is not text"):
        SessionWriter(path, append=True)   # continuing it sniffs the format the same way


def test_an_epoch_table_with_only_its_index_columns_opens(copy):
    """Found by a fuzzer: /epochs with epoch/step/wall_time only (no loss terms)."""
    def edit(f):
        old = f[f"{RUN}/epochs"][()]
        meta = np.zeros(len(old), [("epoch", "<i8"), ("step", "<i8"), ("wall_time", "<f8")])
        for name in meta.dtype.names:
            meta[name] = old[name]
        del f[f"{RUN}/epochs"]
        f[f"{RUN}/epochs"] = meta
    with Session.open(copy(edit)) as s:
        run = s.run()
        assert run.epochs_trained == 2
        assert run.epoch_history["train"] == {} and run.epoch_history["val"] == {}
        assert run.term_names[0] == "total"   # from the step history


def test_newer_format_version(copy):
    def edit(f):
        f.attrs["format_version"] = 99
    assert_rejected(copy(edit), "newer", "format 99", "Update the app")


@pytest.mark.parametrize("group", ["runs", "jobs", f"{RUN}/data", f"{RUN}/history",
                                   f"{RUN}/epochs", f"{RUN}/snapshots"])
def test_missing_groups(copy, group):
    def edit(f):
        del f[group]
    assert_rejected(copy(edit), f"/{group}", "missing")


def test_missing_config(copy):
    def edit(f):
        del f[RUN].attrs["config"]
    assert_rejected(copy(edit), "'config'", f"/{RUN}", "missing")


def test_missing_snapshot_index(copy):
    def edit(f):
        del f[f"{RUN}/snapshots/epoch"]
    assert_rejected(copy(edit), f"/{RUN}/snapshots/epoch", "missing")


def test_a_snapshot_quantity_with_too_few_epochs(copy):
    def edit(f):
        name = f"{RUN}/snapshots/images/probe_recon"
        one = f[name][:1]
        del f[name]
        f[name] = one
    assert_rejected(copy(edit), f"/{RUN}/snapshots/images/probe_recon", "1 epochs",
                    "snapshot index 2")


def test_a_missing_snapshot_image_is_refused_by_export(copy, tmp_path):
    from engine.export.figures import export_epoch

    def edit(f):
        del f[f"{RUN}/snapshots/images/probe_recon"]
    path = copy(edit)
    with Session.open(path) as s:
        with pytest.raises(SessionError) as err:
            export_epoch(s.run(), None, tmp_path / "figures")
    message = str(err.value)
    assert message.startswith("bad.h5:") and "snapshots/images/probe_recon" in message
    assert "missing" in message and not (tmp_path / "figures").exists()


def test_wrong_shape(copy):
    def edit(f):
        name = f"{RUN}/snapshots/images/probe_recon"
        del f[name]
        f[name] = np.zeros((2, 3, 3), np.uint8)
    assert_rejected(copy(edit), f"/{RUN}/snapshots/images/probe_recon", "shape (2, 3, 3)")


def test_wrong_image_dtype(copy):
    def edit(f):
        name = f"{RUN}/snapshots/images/probe_recon"
        floats = f[name][()].astype(np.float32)
        del f[name]
        f[name] = floats
    assert_rejected(copy(edit), f"/{RUN}/snapshots/images/probe_recon", "dtype float32")


def test_wrong_dtype(copy):
    def edit(f):
        rows = f[f"{RUN}/history"][()]
        dtype = [(n, "S8" if n == "total" else rows.dtype[n]) for n in rows.dtype.names]
        del f[f"{RUN}/history"]
        f[f"{RUN}/history"] = np.zeros(len(rows), dtype=dtype)
    assert_rejected(copy(edit), "'total'", f"/{RUN}/history", "dtype")


def test_a_table_that_is_not_a_table(copy):
    def edit(f):
        del f[f"{RUN}/epochs"]
        f[f"{RUN}/epochs"] = np.arange(3.0)
    assert_rejected(copy(edit), f"/{RUN}/epochs", "dtype")


def test_steps_out_of_order(copy):
    def edit(f):
        rows = f[f"{RUN}/history"][()]
        rows["step"] = rows["step"][::-1]
        f[f"{RUN}/history"][:] = rows
    assert_rejected(copy(edit), f"/{RUN}/history", "not increasing")


def _edit_config(f, change):
    cfg = json.loads(f[RUN].attrs["config"])
    change(cfg)
    del f[RUN].attrs["config"]
    f[RUN].attrs["config"] = np.bytes_(json.dumps(cfg).encode())


def test_invalid_config(copy):
    def edit(f):
        _edit_config(f, lambda c: c["model"].__setitem__("latent_dim", -3))
    assert_rejected(copy(edit), "config of /runs/main is invalid", "model.latent_dim")


def test_weights_that_do_not_fit_the_config(copy):
    def edit(f):  # the stored weights are for 32 units
        _edit_config(f, lambda c: c["model"].__setitem__("hidden", [48]))
    message = assert_rejected(copy(edit), "not fit")
    assert "32" in message or "48" in message


def test_snapshot_weights_that_do_not_fit_the_decoder(copy):
    def edit(f):
        ds = f[f"{RUN}/snapshots/weights"]
        layout = json.loads(ds.attrs["layout"])
        i = next(i for i, (name, _) in enumerate(layout) if name.startswith("decoder."))
        name, shape = layout[i]
        layout[i] = [name, [shape[0] + 1, *shape[1:]]]   # one row more than the decoder has
        layout[i + 1] = [layout[i + 1][0],
                         [max(1, int(np.prod(layout[i + 1][1])) - int(np.prod(shape[1:]) or 1))]]
        ds.attrs["layout"] = json.dumps(layout).encode()
    assert_rejected(copy(edit), "epoch 1", "does not fit")


def test_snapshot_weights_whose_layout_does_not_add_up(copy):
    def edit(f):
        ds = f[f"{RUN}/snapshots/weights"]
        layout = json.loads(ds.attrs["layout"])
        ds.attrs["layout"] = json.dumps(layout[1:]).encode()   # one parameter less
    assert_rejected(copy(edit), "weights holds", "its layout")


def test_a_checkpoint_weight_of_the_wrong_shape(copy):
    def edit(f):
        g = f[f"{RUN}/checkpoint/model"]
        name = sorted(g)[0]
        del g[name]
        g[name] = np.zeros((2, 2), np.float32)
    assert_rejected(copy(edit), f"/{RUN}/checkpoint/model", "shape (2, 2)")


def test_a_checkpoint_with_non_finite_weights(copy):
    def edit(f):
        g = f[f"{RUN}/checkpoint/model"]
        name = sorted(g)[0]
        g[name][...] = np.nan
    assert_rejected(copy(edit), f"/{RUN}/checkpoint/model", "NaN", "cannot be resumed")


def test_optimizer_state_for_a_missing_parameter(copy):
    def edit(f):
        f[f"{RUN}/checkpoint/optimizers/model/state/99/exp_avg"] = np.zeros(3, np.float32)
    assert_rejected(copy(edit), "state/99", "belongs to no parameter")


def test_an_optimiser_the_model_does_not_use(copy):
    def edit(f):
        f[f"{RUN}/checkpoint/optimizers/critic/state/0/exp_avg"] = np.zeros(3, np.float32)
    assert_rejected(copy(edit), "'critic'")


def test_unknown_epoch_unknown_run_and_closed_session(good):
    s = Session.open(good)
    with pytest.raises(SessionError,
                       match="run 'main' has no snapshot for epoch 7 .saved epochs: 1..2"):
        s.run().snapshot(7)
    with pytest.raises(SessionError, match="good.h5: has no run 'stack' .it has: main."):
        s.run("stack")
    s.close()
    with pytest.raises(SessionError, match="closed"):
        s.run().snapshot(1)


def test_a_file_with_no_run_yet(copy):
    def edit(f):
        del f[RUN]
    assert_rejected(copy(edit), "holds no run yet")


def test_a_primary_that_names_no_run_falls_back_to_the_first(copy):
    def edit(f):
        del f.attrs["primary"]
        f.attrs["primary"] = np.bytes_(b"gone")
    with Session.open(copy(edit)) as s:
        assert s.primary == "main" and s.run().run_id == "main"


def test_continuing_a_bad_file_is_refused_and_leaves_it_alone(copy, tmp_path):
    newer = copy(lambda f: f.attrs.__setitem__("format_version", FORMAT_VERSION + 1))
    text = tmp_path / "text.h5"
    text.write_text("not a session")
    for path in (newer, text):
        before = digest(path)
        with pytest.raises(SessionError, match=path.name):
            SessionWriter(path, append=True)
        assert digest(path) == before
        assert sorted(p.name for p in path.parent.glob(path.name + ".*")) == []
