"""SessionWriter -> Session round trips: what the trainer said is what the file holds."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import numpy as np
import pytest
import torch

import engine
from engine.checkpoint import load_module_arrays
from engine.events import (CheckpointSaved, EpochEnded, EpochSnapshot, JobStarted, RunFailed,
                           RunOpened, RunPlan, StepMetrics)
from engine.session import MAIN_RUN, Session, SessionError, SessionWriter
from engine.session import atomic
from session_support import (Recorder, fan_out, model_arrays, record_run,
                             tiny_config, tiny_trainer)


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    path = tmp_path_factory.mktemp("writer") / "run.h5"
    trainer, rec = record_run(path, tiny_config(epochs=3))
    return path, trainer, rec


def test_header_config_and_data_round_trip(recorded):
    path, trainer, _ = recorded
    with Session.open(path) as s:
        assert s.format_version == 3
        assert s.app_version == engine.__version__
        assert isinstance(s.created, datetime) and s.created.tzinfo is not None
        assert list(s.runs) == [MAIN_RUN] and s.primary == MAIN_RUN and s.jobs == {}
        run = s.run()
        assert run is s.runs[MAIN_RUN] and (run.role, run.job_id) == ("run", "")
        assert run.status == "completed" and run.status_message is None
        assert run.config == trainer.config
        assert run.steps_per_epoch == trainer.steps_per_epoch
        info = trainer.dataset_info()
        assert run.data.image_shape == info.image_shape
        assert (run.data.n_train, run.data.n_val) == (info.n_train, info.n_val)
        assert run.data.n_classes == info.n_classes == 10
        assert run.data.label_names == info.label_names
        np.testing.assert_array_equal(run.data.probe_images, info.probe_images)
        np.testing.assert_array_equal(run.data.probe_labels, info.probe_labels)
        np.testing.assert_array_equal(run.data.map_labels, info.map_labels)


def test_history_and_epoch_means_are_the_events(recorded):
    path, trainer, rec = recorded
    steps = rec.of(StepMetrics)
    ends = rec.of(EpochEnded)
    with Session.open(path) as s:
        run = s.run()
        assert run.term_names == list(trainer.term_names)
        assert (run.epochs_trained, run.last_step) == (3, steps[-1].step)
        h = run.history
        assert set(h) == set(trainer.term_names) | {"step", "epoch", "wall_time"}
        np.testing.assert_array_equal(h["step"], [e.step for e in steps])
        np.testing.assert_array_equal(h["epoch"], [e.epoch for e in steps])
        for term in trainer.term_names:
            np.testing.assert_array_equal(h[term], [e.terms[term] for e in steps])
        np.testing.assert_array_equal(h["wall_time"], [e.wall_time for e in steps])
        eh = run.epoch_history
        np.testing.assert_array_equal(eh["epoch"], [1, 2, 3])
        np.testing.assert_array_equal(eh["step"], [e.step for e in ends])
        for part in ("train", "val"):
            assert list(eh[part]) == list(trainer.term_names)
            for term in trainer.term_names:
                want = [getattr(e, part)[term] for e in ends]
                np.testing.assert_array_equal(eh[part][term], want)


def test_snapshots_decoder_and_checkpoint_are_the_events(recorded):
    path, trainer, rec = recorded
    snaps = {e.epoch: e for e in rec.of(EpochSnapshot)}
    with Session.open(path) as s:
        run = s.run()
        assert run.snapshot_epochs == [1, 2, 3]
        for epoch, event in snaps.items():
            got = run.snapshot(epoch)
            assert (got.epoch, got.step) == (event.epoch, event.step)
            # Images come back as float32 within half a grey level of what was shown...
            assert set(got.images) == set(event.images) == {"probe_inputs", "probe_recon",
                                                            "identity_inputs", "identity_recon"}
            for name, live in event.images.items():
                back = got.images[name]
                assert back.dtype == np.float32 and back.shape == live.shape
                assert np.abs(back - live).max() <= 0.5 / 255 + 1e-7, name
            # ...arrays and weights exactly as float16 rounds them.
            assert set(got.arrays) == set(event.arrays) == {
                "probe_latent_mean", "probe_latent_logvar", "map_latents", "map_latent_logvar",
                "kl_per_dim", "probe_error", "identity_error", "identity_flat_error",
                "jacobian_singular_values", "jacobian_frobenius", "mutual_information",
                "sample_quality", "sample_quality_real"}
            for part in ("arrays", "weights"):
                live, back = getattr(event, part), getattr(got, part)
                assert set(back) == set(live)
                for k in live:
                    assert back[k].dtype == np.float32
                    np.testing.assert_array_equal(
                        back[k], live[k].astype(np.float16).astype(np.float32), err_msg=k)
        # The stored decoder decodes like the model's own decoder with those weights.
        z = np.random.default_rng(0).standard_normal(
            (5, trainer.config.model.latent_dim)).astype(np.float32)
        stored = run.snapshot(3).weights
        decoder = copy.deepcopy(trainer.model.decoder)
        load_module_arrays(decoder, {k[len("decoder."):]: v for k, v in stored.items()
                                     if k.startswith("decoder.")})
        with torch.no_grad():
            want = trainer.model.likelihood.mean(decoder(torch.from_numpy(z))).numpy()
            live = trainer.model.decode_mean(torch.from_numpy(z)).numpy()
        np.testing.assert_allclose(run.decoder(3).decode(z), want, rtol=1e-5, atol=1e-6)
        assert np.abs(want - live).max() < 0.02  # float16 weights: close to the live decoder
        ck = run.checkpoint()
    last = rec.of(CheckpointSaved)[-1].checkpoint
    assert (ck.epoch, ck.step, ck.position) == (last.epoch, last.step, last.position)
    assert ck.optimizer_json.keys() == last.optimizer_json.keys() == {"model"}
    assert json.loads(ck.optimizer_json["model"]) == json.loads(last.optimizer_json["model"])
    assert ck.permutation is None and ck.epoch_sums == last.epoch_sums
    assert ck.wall_time == last.wall_time
    for a, b in [(ck.model, last.model), (ck.rng, last.rng),
                 (ck.optimizers["model"], last.optimizers["model"])]:
        assert set(a) == set(b) and a
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
        assert s.run().epochs_trained == 1


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(SessionError, match="folder .* does not exist"):
        SessionWriter(tmp_path / "nowhere" / "run.h5")


def test_snapshot_every_keeps_multiples_and_the_last_epoch(tmp_path):
    path = tmp_path / "thin.h5"
    record_run(path, tiny_config(epochs=3), snapshot_every=2)
    with Session.open(path) as s:
        assert s.run().snapshot_epochs == [2, 3]


def test_history_is_committed_mid_epoch_after_flush_rows(tmp_path):
    path = tmp_path / "rows.h5"
    trainer = tiny_trainer(tiny_config(epochs=1))
    writer = SessionWriter(path, flush_rows=2, background=False)
    seen = []

    def peek(event):
        if isinstance(event, StepMetrics) and event.step == 3:
            with Session.open(path) as s:
                seen.append(s.run().history["step"].tolist())

    trainer.run(fan_out(writer, peek))
    writer.close()
    assert seen == [[1, 2]]  # rows 1-2 on disk while epoch 1 was still running


def test_a_reader_of_an_old_version_keeps_it_unchanged(tmp_path):
    path = tmp_path / "live.h5"
    trainer = tiny_trainer(tiny_config(epochs=3))
    writer = SessionWriter(path, checkpoint_seconds=0)   # a checkpoint at every epoch
    held = {}

    def open_after_epoch_one(event):
        if isinstance(event, CheckpointSaved) and event.checkpoint.epoch == 1:
            writer.wait()
            held["session"] = Session.open(path)
            held["recon"] = held["session"].run().snapshot(1).images["probe_recon"].copy()

    trainer.run(fan_out(writer, open_after_epoch_one))
    writer.close()
    s = held["session"]
    run = s.run()
    assert run.snapshot_epochs == [1]  # the version it opened, untouched
    np.testing.assert_array_equal(run.snapshot(1).images["probe_recon"], held["recon"])
    assert run.checkpoint().epoch == 1
    s.close()
    assert writer.copies >= 2  # the writer copied instead of reusing that version
    with Session.open(path) as s:
        assert s.run().snapshot_epochs == [1, 2, 3]


def test_the_kept_version_is_reused_without_copying(recorded):
    path, _, _ = recorded
    trainer = tiny_trainer(tiny_config(epochs=3))
    other = path.parent.parent / "copies.h5"
    with SessionWriter(other) as writer:
        trainer.run(writer)
    assert writer.copies == 1  # once, right after the header; every epoch after is in place


def test_every_epochs_checkpoint_is_written_however_slow_writing_is(tmp_path, monkeypatch):
    """Found by a test no one here wrote: checkpoints paced by their wall-clock cost lagged
    the saved epochs by up to 5 epochs on a busy machine, so a kill cost 78 s of training.
    Here every checkpoint write is made slow, as on a loaded machine or a slow disk: the
    cadence is the training's (here every epoch), never the writing's."""
    import time

    from engine.session import layout
    real = layout.write_checkpoint

    def slow_write(run, ck):
        time.sleep(0.05)   # far more than the tiny epochs take
        real(run, ck)

    monkeypatch.setattr(layout, "write_checkpoint", slow_write)
    path = tmp_path / "slow.h5"
    writer = SessionWriter(path, checkpoint_seconds=0)
    during = []

    def peek(event):   # after the writer: once epoch k ends, epoch k-1 is on disk
        if isinstance(event, EpochEnded) and event.epoch > 1:
            with Session.open(path) as s:
                during.append((s.run().epochs_trained, s.run().checkpoint().epoch))

    tiny_trainer(tiny_config(epochs=4)).run(fan_out(writer, peek))
    writer.close()
    assert during == [(1, 1), (2, 2), (3, 3)]   # the checkpoint never lags the epochs
    with Session.open(path) as s:
        assert s.run().checkpoint().epoch == 4


def test_a_jobs_runs_are_stored_under_their_ids_with_the_plan(tmp_path):
    """JobStarted goes under /jobs, each RunOpened switches the run the events go to."""
    path = tmp_path / "job.h5"
    configs = {"first": tiny_config(epochs=1), "second": tiny_config(epochs=2, seed=5)}
    plan = (RunPlan("first", "the first run", "stage", {"stage": 1, "width": 32}),
            RunPlan("second", "the second run", "stack", {"finetune_epochs": 2}))
    job = JobStarted(job_id="pretrain", kind="pretrain", title="a job of two runs",
                     spec_json=json.dumps({"any": "spec"}), runs=plan)
    recs = {}
    with SessionWriter(path) as writer:
        writer(job)
        for run_id, cfg in configs.items():
            writer(RunOpened("pretrain", run_id))
            recs[run_id] = Recorder()
            tiny_trainer(cfg).run(fan_out(recs[run_id], writer))
    with Session.open(path) as s:
        assert list(s.runs) == ["first", "second"]
        assert s.primary == "second"  # the stack is the result of the file
        stored = s.jobs["pretrain"]
        assert (stored.kind, stored.title, stored.spec) == ("pretrain", "a job of two runs",
                                                           {"any": "spec"})
        assert stored.plan == list(plan)
        assert [r.run_id for r in s.job_runs("pretrain")] == ["first", "second"]
        for p in plan:
            run = s.runs[p.run_id]
            assert (run.title, run.role, run.meta, run.job_id) == (p.title, p.role, p.meta,
                                                                   "pretrain")
            assert run.config == configs[p.run_id] and run.status == "completed"
            steps = recs[p.run_id].of(StepMetrics)
            np.testing.assert_array_equal(run.history["step"], [e.step for e in steps])
            np.testing.assert_array_equal(run.history["total"],
                                          [e.terms["total"] for e in steps])
            assert run.snapshot_epochs == list(range(1, configs[p.run_id].optim.epochs + 1))
            last = recs[p.run_id].of(CheckpointSaved)[-1].checkpoint
            for k, v in last.model.items():
                np.testing.assert_array_equal(run.checkpoint().model[k], v)
        with pytest.raises(SessionError, match="has no run 'third' .it has: first, second."):
            s.run("third")


def test_a_job_is_published_with_its_first_run(tmp_path):
    """A session opens only once it holds a run, so a crash between a job's start and its
    first run leaves no file (rather than one that cannot be opened or resumed)."""
    job = JobStarted(job_id="pretrain", kind="pretrain", title="t", spec_json="{}",
                     runs=(RunPlan("stage-1", "stage 1", "stage"),))
    path = tmp_path / "job.h5"
    writer = SessionWriter(path, background=False)
    writer(job)
    writer(RunOpened("pretrain", "stage-1"))
    writer.wait()
    assert not path.exists()
    seen = []

    def peek(event):
        if type(event).__name__ == "RunStarted":
            with Session.open(path) as s:
                seen.append((list(s.runs), list(s.jobs), s.primary))

    tiny_trainer(tiny_config(epochs=1)).run(fan_out(writer, peek))
    writer.close()
    assert seen == [(["stage-1"], ["pretrain"], "stage-1")]
    never = tmp_path / "never.h5"
    with SessionWriter(never) as writer:
        writer(job)
        writer(RunOpened("pretrain", "stage-1"))
    assert not never.exists() and list(tmp_path.iterdir()) == [path]


def test_append_adds_a_run_and_keeps_the_others(recorded, tmp_path):
    path = tmp_path / "two.h5"
    path.write_bytes(recorded[0].read_bytes())
    with Session.open(path) as s:
        before = s.run()
        main_steps = before.history["step"].copy()
        main_recon = before.snapshot(3).images["probe_recon"]
    extra = tiny_config(epochs=1, seed=9)
    with SessionWriter(path, append=True) as writer:
        writer(RunOpened("", "extra"))
        tiny_trainer(extra).run(writer)
    with Session.open(path) as s:
        assert list(s.runs) == [MAIN_RUN, "extra"] and s.primary == MAIN_RUN
        np.testing.assert_array_equal(s.run().history["step"], main_steps)
        np.testing.assert_array_equal(s.run().snapshot(3).images["probe_recon"], main_recon)
        assert s.runs["extra"].config == extra and s.runs["extra"].epochs_trained == 1
    with pytest.raises(SessionError, match="missing.h5: does not exist"):
        SessionWriter(tmp_path / "missing.h5", append=True)


class _Disk:
    """Fault injection at the file system: files the session code opens in ``folder``
    fail as a full disk (ENOSPC on write) or a read-only mount (EROFS on open) once set."""

    def __init__(self, monkeypatch, folder):
        import builtins
        import errno
        import io
        import os

        from engine.session import writer as writer_module
        self.full = self.read_only = False
        disk = self
        real_open, real_unlink = builtins.open, os.unlink

        class File(io.FileIO):
            def write(self, data):
                if disk.full:
                    raise OSError(errno.ENOSPC, "No space left on device", self.name)
                return super().write(data)

        def inside(path) -> bool:
            return str(path).startswith(str(folder))

        def fake_open(path, mode="r", buffering=-1, *args, **kwargs):
            if not inside(path) or "b" not in mode:
                return real_open(path, mode, buffering, *args, **kwargs)
            if disk.read_only and mode != "rb":
                raise OSError(errno.EROFS, "Read-only file system", str(path))
            raw = File(path, mode.replace("b", ""))
            return raw if buffering == 0 else io.BufferedRandom(raw) if "+" in mode else \
                io.BufferedWriter(raw) if mode[0] in "wxa" else io.BufferedReader(raw)

        def fake_unlink(path, *args, **kwargs):
            if disk.read_only and inside(path):
                raise OSError(errno.EROFS, "Read-only file system", str(path))
            return real_unlink(path, *args, **kwargs)

        for module in (atomic, writer_module):
            monkeypatch.setattr(module, "open", fake_open, raising=False)
        monkeypatch.setattr(os, "unlink", fake_unlink)


def _fail_after_epoch(disk, epoch: int, how: str):
    def listener(event):
        if isinstance(event, EpochEnded) and event.epoch == epoch:
            setattr(disk, how, True)
    return listener


def test_a_full_disk_says_so_and_what_the_file_keeps(tmp_path, monkeypatch):
    """Found by a test no one here wrote: HDF5 reported a full disk as '<method 'append' of
    'list' objects> returned a result with an exception set'."""
    path = tmp_path / "full.h5"
    disk = _Disk(monkeypatch, tmp_path)
    rec = Recorder()
    writer = SessionWriter(path)
    outcome = tiny_trainer(tiny_config(epochs=5)).run(
        fan_out(rec, writer, _fail_after_epoch(disk, 2, "full")))
    writer.close()   # no second error from closing
    assert outcome == "failed"
    message = rec.of(RunFailed)[-1].message
    assert message.startswith(f"full.h5: the disk is full in {tmp_path} ("), message
    assert "python main.py resume full.h5" in message
    kept = int(message.split("keeps epochs 1-")[1].split(")")[0])
    with Session.open(path) as s:   # the last good version, as the message says
        assert s.run().epochs_trained == kept >= 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full.h5"]
    disk.full = False                # space freed: the run resumes to its end
    from engine.jobs import resume_trainer
    with Session.open(path) as s:
        trainer, until = resume_trainer(s.run(), None, "cpu")
    with SessionWriter(path, append=True) as again:
        again(RunOpened(job_id="", run_id=MAIN_RUN))
        assert trainer.run(again, until_epoch=until) == "completed"
    with Session.open(path) as s:
        assert s.run().epochs_trained == 5 and s.run().status == "completed"


def test_a_read_only_folder_is_refused_before_training(tmp_path, monkeypatch):
    disk = _Disk(monkeypatch, tmp_path)
    disk.read_only = True
    with pytest.raises(SessionError) as err:
        SessionWriter(tmp_path / "run.h5")
    assert str(err.value) == (f"run.h5: cannot write the session: {tmp_path} is on a "
                              f"read-only file system (nothing was written). Choose a "
                              f"folder you can write to")
    assert list(tmp_path.iterdir()) == []


def test_a_file_system_turning_read_only_mid_run_is_one_clear_error(tmp_path, monkeypatch):
    """Found by a test no one here wrote: the clean-up's unlink raised EROFS again, from
    writer.close() too."""
    path = tmp_path / "ro.h5"
    disk = _Disk(monkeypatch, tmp_path)
    rec = Recorder()
    writer = SessionWriter(path)
    outcome = tiny_trainer(tiny_config(epochs=4)).run(
        fan_out(rec, writer, _fail_after_epoch(disk, 2, "read_only")))
    writer.close()
    assert outcome == "failed"
    message = rec.of(RunFailed)[-1].message
    assert "is on a read-only file system (the session file keeps epochs 1-" in message
    disk.read_only = False
    with Session.open(path) as s:
        assert s.run().epochs_trained >= 1


def test_discarding_on_a_read_only_file_system_does_not_raise(tmp_path, monkeypatch):
    disk = _Disk(monkeypatch, tmp_path)
    (tmp_path / "x.h5.old").write_bytes(b"kept")
    disk.read_only = True
    atomic.AtomicH5File(tmp_path / "x.h5").discard()   # x.h5.tmp absent, .old unremovable
    assert (tmp_path / "x.h5.old").exists()
