"""SessionWriter -> Session round trips: what the trainer said is what the file holds."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import numpy as np
import pytest
import torch

import engine
from engine.events import (CheckpointSaved, EpochEnded, EpochSnapshot, RunFailed, StepMetrics)
from engine.session import Session, SessionError, SessionWriter
from engine.session import atomic
from session_support import (Recorder, fan_out, model_arrays, record_run, single_torch_thread,
                             tiny_config, tiny_trainer)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with single_torch_thread():
        yield


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    path = tmp_path_factory.mktemp("writer") / "run.h5"
    trainer, rec = record_run(path, tiny_config(epochs=3))
    return path, trainer, rec


def test_header_config_and_data_round_trip(recorded):
    path, trainer, _ = recorded
    with Session.open(path) as s:
        assert s.format_version == 1
        assert s.app_version == engine.__version__
        assert isinstance(s.created, datetime) and s.created.tzinfo is not None
        assert s.status == "completed"
        assert s.config.to_dict() == trainer.config.to_dict()
        info = trainer.dataset_info()
        assert s.data.image_shape == info.image_shape
        assert (s.data.n_train, s.data.n_val) == (info.n_train, info.n_val)
        np.testing.assert_array_equal(s.data.probe_images, info.probe_images)
        np.testing.assert_array_equal(s.data.probe_labels, info.probe_labels)
        np.testing.assert_array_equal(s.data.map_labels, info.map_labels)


def test_history_and_epoch_means_are_the_events(recorded):
    path, trainer, rec = recorded
    steps = rec.of(StepMetrics)
    ends = rec.of(EpochEnded)
    with Session.open(path) as s:
        h = s.history
        assert set(h) == set(trainer.term_names) | {"step", "epoch", "wall_time"}
        np.testing.assert_array_equal(h["step"], [e.step for e in steps])
        np.testing.assert_array_equal(h["epoch"], [e.epoch for e in steps])
        for term in trainer.term_names:
            np.testing.assert_array_equal(h[term], [e.terms[term] for e in steps])
        eh = s.epoch_history
        np.testing.assert_array_equal(eh["epoch"], [1, 2, 3])
        for part in ("train", "val"):
            assert list(eh[part]) == list(trainer.term_names)
            for term in trainer.term_names:
                want = [getattr(e, part)[term] for e in ends]
                np.testing.assert_array_equal(eh[part][term], want)


def test_snapshots_decoder_and_checkpoint_are_the_events(recorded):
    path, trainer, rec = recorded
    snaps = {e.epoch: e for e in rec.of(EpochSnapshot)}
    with Session.open(path) as s:
        assert s.snapshot_epochs == [1, 2, 3]
        for epoch, event in snaps.items():
            got = s.snapshot(epoch)
            for field in ("probe_inputs", "probe_recon", "probe_latent_mean",
                          "probe_latent_logvar", "map_latents", "map_latent_logvar", "kl_per_dim"):
                np.testing.assert_array_equal(getattr(got, field), getattr(event, field))
            assert got.step == event.step and got.stage is None
            assert set(got.decoder) == set(event.decoder)
            for k in event.decoder:
                np.testing.assert_array_equal(got.decoder[k], event.decoder[k])
        z = np.random.default_rng(0).standard_normal((5, trainer.config.model.latent_dim))
        with torch.no_grad():
            want = trainer.model.decode_mean(torch.from_numpy(z.astype(np.float32))).numpy()
        np.testing.assert_allclose(s.decoder(3).decode(z), want, rtol=1e-6, atol=1e-6)
        ck = s.checkpoint()
    last = rec.of(CheckpointSaved)[-1].checkpoint
    assert (ck.epoch, ck.step, ck.position) == (last.epoch, last.step, last.position)
    assert ck.optimizer_json == last.optimizer_json and ck.permutation is None
    for part in ("model", "optimizer", "rng"):
        a, b = getattr(ck, part), getattr(last, part)
        assert set(a) == set(b)
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
            assert a[k].dtype == b[k].dtype
    weights = model_arrays(trainer)
    for k in weights:
        np.testing.assert_array_equal(ck.model[k], weights[k])


def test_close_leaves_only_the_session_file(recorded):
    path, _, _ = recorded
    assert sorted(p.name for p in path.parent.iterdir()) == ["run.h5"]


def test_an_existing_file_is_never_replaced_without_force(tmp_path):
    path = tmp_path / "taken.h5"
    path.write_bytes(b"someone else's data")
    with pytest.raises(SessionError, match="taken.h5: already exists"):
        SessionWriter(path)
    assert path.read_bytes() == b"someone else's data"
    record_run(path, tiny_config(epochs=1), force=True)
    with Session.open(path) as s:
        assert s.epochs_trained == 1


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SessionError, match="folder .* does not exist"):
        SessionWriter(tmp_path / "nowhere" / "run.h5")


def test_snapshot_every_keeps_multiples_and_the_last_epoch(tmp_path):
    path = tmp_path / "thin.h5"
    record_run(path, tiny_config(epochs=3), snapshot_every=2)
    with Session.open(path) as s:
        assert s.snapshot_epochs == [2, 3]


def test_history_is_committed_mid_epoch_after_flush_rows(tmp_path):
    path = tmp_path / "rows.h5"
    trainer = tiny_trainer(tiny_config(epochs=1))
    writer = SessionWriter(path, flush_rows=2, background=False)
    seen = []

    def peek(event):
        if isinstance(event, StepMetrics) and event.step == 3:
            with Session.open(path) as s:
                seen.append(s.history["step"].tolist())

    trainer.run(fan_out(writer, peek))
    writer.close()
    assert seen == [[1, 2]]  # rows 1-2 on disk while epoch 1 was still running


def test_a_reader_of_an_old_version_keeps_it_unchanged(tmp_path):
    path = tmp_path / "live.h5"
    trainer = tiny_trainer(tiny_config(epochs=3))
    writer = SessionWriter(path)
    held = {}

    def open_after_epoch_one(event):
        if isinstance(event, CheckpointSaved) and event.checkpoint.epoch == 1:
            writer.wait()
            held["session"] = Session.open(path)
            held["recon"] = held["session"].snapshot(1).probe_recon.copy()

    trainer.run(fan_out(writer, open_after_epoch_one))
    writer.close()
    s = held["session"]
    assert s.snapshot_epochs == [1]  # the version it opened, untouched
    np.testing.assert_array_equal(s.snapshot(1).probe_recon, held["recon"])
    assert s.checkpoint().epoch == 1
    s.close()
    assert writer.copies >= 2  # the writer copied instead of reusing that version
    with Session.open(path) as s:
        assert s.snapshot_epochs == [1, 2, 3]


def test_the_kept_version_is_reused_without_copying(recorded):
    path, _, _ = recorded
    trainer = tiny_trainer(tiny_config(epochs=3))
    other = path.parent.parent / "copies.h5"
    with SessionWriter(other) as writer:
        trainer.run(writer)
    assert writer.copies == 1  # once, right after the header; every epoch after is in place


def test_checkpoints_are_paced_but_the_last_is_always_written(tmp_path):
    path = tmp_path / "paced.h5"
    trainer = tiny_trainer(tiny_config(epochs=3))
    writer = SessionWriter(path, checkpoint_share=1e-9, background=False)
    during = []

    def peek(event):
        if isinstance(event, EpochEnded) and event.epoch == 3:
            with Session.open(path) as s:
                during.append((s.epochs_trained, s.checkpoint().epoch))

    trainer.run(fan_out(writer, peek))
    writer.close()
    assert during == [(2, 1)]  # epoch 2 recorded, its checkpoint skipped as too costly
    with Session.open(path) as s:
        assert s.checkpoint().epoch == 3


def test_stage_tags_are_stored(tmp_path):
    path = tmp_path / "stage.h5"
    trainer = tiny_trainer(tiny_config(epochs=1))
    rec = Recorder()
    trainer.run(rec)
    with SessionWriter(path) as writer:
        for e in rec.events:
            if isinstance(e, (EpochSnapshot, CheckpointSaved)):
                e = dataclasses.replace(e, stage=2)
            writer(e)
    with Session.open(path) as s:
        assert s.snapshot(1).stage == 2
        assert s.checkpoint() is not None


def test_a_failing_disk_fails_the_run_with_a_session_error(tmp_path, monkeypatch):
    path = tmp_path / "full.h5"
    trainer = tiny_trainer(tiny_config(epochs=3))
    real_commit = atomic.AtomicH5File.commit
    calls = []

    def commit(self, change, fresh=False):
        calls.append(1)
        if len(calls) > 2:
            raise OSError(28, "No space left on device")
        real_commit(self, change, fresh)

    monkeypatch.setattr(atomic.AtomicH5File, "commit", commit)
    rec = Recorder()
    writer = SessionWriter(path)
    outcome = trainer.run(fan_out(rec, writer))
    writer.close()
    assert outcome == "failed"
    failed = rec.of(RunFailed)[-1]
    assert "full.h5" in failed.message and "No space left" in failed.message
    with Session.open(path) as s:  # the last good version is still there
        assert s.epochs_trained == 1
