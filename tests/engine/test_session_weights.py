"""Interactive weights at a bounded set of epochs: which are kept, where, and how every
epoch still replays (with the nearest earlier kept weights, saying which)."""

from __future__ import annotations

import shutil

import h5py
import numpy as np
import pytest

from engine.events import CheckpointSaved, EpochSnapshot
from engine.session import FORMAT_VERSION, Session, SessionWriter
from engine.jobs import resume_trainer
from engine.session.weights import kept_rows, nearest, set_bytes, slots_for, spacing
from session_support import FIXTURES, record_run, tiny_config

EPOCHS = 9


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def test_the_thinning_keeps_a_bounded_log_spaced_set_written_once_each():
    def log_set(rows, t):   # epochs 1 and round(2^(t j)), as rows (epoch - 1)
        js = range(1, int(np.log2(rows) / t) + 2)
        return sorted({0} | {round(2 ** (t * j)) - 1 for j in js if round(2 ** (t * j)) <= rows})

    for slots in range(1, 9):
        written = set()
        for rows in range(1, 600):
            kept = kept_rows(rows, slots)
            # brute force: every row while they fit, else the densest log spacing that fits
            t = 0 if rows <= slots else next(
                2.0 ** k for k in range(-6, 7) if len(log_set(rows, 2.0 ** k)) <= slots)
            assert kept == (list(range(rows)) if t == 0 else log_set(rows, t))
            assert spacing(rows, slots) == t and len(kept) <= slots
            if rows - 1 in kept:
                written.add(rows - 1)
            # a row kept later was written when it ended: nothing is ever written twice
            assert set(kept) <= written
        # how many sets a 600-epoch run writes: about the slots, and one per doubling
        assert len(written) <= 2 * slots + np.log2(600)
    assert kept_rows(40, 3) == [0, 3, 15] and kept_rows(9, 2) == [0, 3]
    assert kept_rows(40, 10) == [0, 1, 2, 3, 5, 7, 10, 15, 22, 31]
    assert kept_rows(5, 10) == [0, 1, 2, 3, 4] and kept_rows(0, 3) == []
    assert slots_for(4_000_000, 1_305_648) == 3 and slots_for(1, 10**9) == 1
    assert [nearest([1, 5, 9], e) for e in (1, 4, 5, 8, 9, 30)] == [1, 1, 5, 5, 9, 9]
    assert nearest([3, 5], 1) == 3 and nearest([], 4) is None


@pytest.fixture(scope="module")
def thinned(tmp_path_factory):
    """A run whose budget holds two sets of weights (of 9 epochs)."""
    path = tmp_path_factory.mktemp("weights") / "thin.h5"
    config = tiny_config(epochs=EPOCHS)
    probe, _ = record_run(tmp_path_factory.mktemp("probe") / "p.h5", tiny_config(epochs=1))
    one_set = set_bytes(probe.model.interactive_weights())
    trainer, rec = record_run(path, config, weights_budget=int(2.5 * one_set))
    return path, trainer, rec, one_set


def test_weights_are_kept_at_the_thinned_epochs_and_the_last(thinned):
    path, _, rec, one_set = thinned
    live = {e.epoch: e.weights for e in rec.of(EpochSnapshot)}
    with h5py.File(path) as f:
        snaps = f["runs/main/snapshots"]
        assert snaps["weights"].shape == (2, one_set // 2)       # the pool: two slots
        held = sorted(int(e) for e in snaps["weights_epoch"][()] if e)
    # 9 snapshots, 2 slots: rows 0 and 3 (epochs 1 and 4; 1, 2, 4, 8 would be 4 sets)
    assert held == [1, 4]
    with Session.open(path) as s:
        run = s.run()
        assert run.snapshot_epochs == list(range(1, EPOCHS + 1))
        assert run.weight_epochs == [1, 4, 9]    # and the last, in the checkpoint
        for epoch in run.snapshot_epochs:
            snap = run.snapshot(epoch)
            kept = 1 if epoch < 4 else 4 if epoch < 9 else 9
            assert snap.weights_epoch == (None if epoch == kept else kept)
            assert run.weights_epoch_for(epoch) == kept
            assert run.decoder(epoch).weights_epoch == kept
            assert snap.images and snap.arrays   # every epoch replays in every view
            for k, w in live[kept].items():   # float16 in a slot, float32 in the checkpoint
                want = w if kept == EPOCHS else w.astype(np.float16).astype(np.float32)
                np.testing.assert_array_equal(snap.weights[k], want, err_msg=k)


def test_the_last_epoch_decodes_with_the_checkpoints_weights_when_no_slot_holds_it(
        tmp_path):
    path = tmp_path / "last.h5"
    trainer, rec = record_run(path, tiny_config(epochs=3), weights_budget=1)   # one slot
    with Session.open(path) as s:
        run = s.run()
        assert run.weight_epochs == [1, 3]     # the pool's one slot, and the checkpoint
        got = run.snapshot(3).weights
        assert got and run.snapshot(3).weights_epoch is None
        final = rec.of(CheckpointSaved)[-1].checkpoint.model
        assert set(got) == set(rec.of(EpochSnapshot)[-1].weights)
        for k in got:
            np.testing.assert_array_equal(got[k], final[k])   # float32, exact
        assert run.snapshot(2).weights_epoch == 1


def test_a_longer_run_does_not_grow_by_its_weights(tmp_path):
    """Four times the epochs: the file grows by the small per-epoch arrays only."""
    sizes = {}
    for epochs in (4, 16):
        path = tmp_path / f"e{epochs}.h5"
        trainer, rec = record_run(path, tiny_config(epochs=epochs), weights_budget=250_000)
        one_set = set_bytes(rec.of(EpochSnapshot)[0].weights)
        sizes[epochs] = path.stat().st_size
        with h5py.File(path) as f:
            assert f["runs/main/snapshots/weights"].shape[0] == slots_for(250_000, one_set)
    with h5py.File(tmp_path / "e16.h5") as f:
        images = sum(ds.id.get_storage_size() for ds in f["runs/main/snapshots/images"].values())
        arrays = sum(ds.id.get_storage_size() for ds in f["runs/main/snapshots/arrays"].values())
    per_epoch = (images + arrays) / 16
    # 12 more epochs add their small arrays (and table rows), not 12 sets of weights
    assert sizes[16] - sizes[4] < 12 * per_epoch + 60_000
    assert sizes[16] - sizes[4] < 12 * one_set / 2


def test_a_resume_frees_the_slots_it_retrains_and_continues_the_thinning(tmp_path, thinned):
    path = tmp_path / "resumed.h5"
    config = tiny_config(epochs=EPOCHS)
    _, _, _, one_set = thinned
    budget = int(2.5 * one_set)
    from session_support import StopAfter, tiny_trainer
    trainer = tiny_trainer(config)
    with SessionWriter(path, weights_budget=budget, checkpoint_seconds=0) as writer:
        trainer.run(writer, StopAfter(5 * trainer.steps_per_epoch + 2))  # stopped in epoch 6
    with Session.open(path) as s:
        assert s.run().weight_epochs == [1, 4]   # stopped mid-epoch: no checkpoint epoch
        trainer, until = resume_trainer(s.run(), None)
    with SessionWriter(path, append=True, weights_budget=budget) as writer:
        assert trainer.run(writer, until_epoch=until) == "completed"
    with Session.open(path) as s, Session.open(thinned[0]) as straight:
        assert s.run().weight_epochs == straight.run().weight_epochs == [1, 4, 9]
        for e in (1, 4, 9):
            for k, w in straight.run().snapshot(e).weights.items():
                np.testing.assert_array_equal(s.run().snapshot(e).weights[k], w, err_msg=k)


def test_a_format_2_file_replays_every_epoch_and_becomes_format_3_when_continued(tmp_path):
    path = tmp_path / "v2.h5"
    shutil.copy(FIXTURES / "v2-vae.h5", path)
    with Session.open(path) as s:
        run = s.run()
        assert s.format_version == 2 and run.weight_epochs == run.snapshot_epochs == [1, 2, 3]
        before = {e: run.snapshot(e).weights for e in run.snapshot_epochs}
        assert all(run.snapshot(e).weights_epoch is None for e in (1, 2, 3))
        z = np.zeros((2, run.config.model.latent_dim), np.float32)
        decoded = run.decoder(2).decode(z)
        trainer, until = resume_trainer(run, 3)
    with SessionWriter(path, append=True, weights_budget=1) as writer:   # one slot
        assert trainer.run(writer, until_epoch=until) == "completed"
    with Session.open(path) as s:
        run = s.run()
        assert s.format_version == FORMAT_VERSION == 3
        assert run.snapshot_epochs == [1, 2, 3, 4, 5, 6]
        # the three old rows became slots; the thinning keeps row 0 only, then the last
        assert run.weight_epochs == [1, 6]
        np.testing.assert_array_equal(run.decoder(2).decode(z), run.decoder(1).decode(z))
        assert run.decoder(2).weights_epoch == 1
        for k, w in before[1].items():
            np.testing.assert_array_equal(run.snapshot(1).weights[k], w)
    assert decoded.shape == (2, 1, 28, 28)


def test_a_run_read_while_another_writer_continues_its_file_never_mislabels_weights(tmp_path):
    """The window's Continue: the shown session is released, a writer adds epochs and
    reuses the pool's slots; reading an old epoch then gets the weights the file holds now
    and says whose they are (a slot once epoch 4's holds epoch 16's)."""
    path = tmp_path / "continued.h5"
    config = tiny_config(epochs=4)
    trainer, rec = record_run(path, config, weights_budget=1)
    one_set = set_bytes(rec.of(EpochSnapshot)[0].weights)
    budget = int(2.5 * one_set)
    path.unlink()
    trainer, rec = record_run(path, config, weights_budget=budget)
    session = Session.open(path)
    run = session.run()
    assert run.weight_epochs == [1, 4]
    session.release()                       # as the window does before training into it
    trainer, until = resume_trainer(run, 12)
    more = []
    with SessionWriter(path, append=True, weights_budget=budget) as writer:
        trainer.run(lambda e: (writer(e), more.append(e)), until_epoch=until)
    with h5py.File(path) as f:
        assert sorted(int(e) for e in f["runs/main/snapshots/weights_epoch"][()] if e) \
            == [1, 16]                      # epoch 4's slot now holds epoch 16
    snap = run.snapshot(4)                  # the run object read before the writer went on
    assert snap.weights_epoch == 1 and run.weight_epochs == [1]   # of the epochs it knows
    first = rec.of(EpochSnapshot)[0].weights
    for k, w in first.items():
        np.testing.assert_array_equal(snap.weights[k], w.astype(np.float16).astype(np.float32))
    session.close()
