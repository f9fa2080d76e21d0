"""Version 1 files, made by the previous release (``tests/fixtures``): they open, replay,
export and inform like version 2 files, refuse new training with one clear line, and
today's trainer reproduces the numbers they hold.

- ``v1-vae-2d.h5``: vae-2d, 3 epochs, data.limit=200, n_probe=8, hidden [16], batch 50.
- ``v1-denoising.h5``: denoising, latent 8, 2 epochs, and a /finetune comparison at
  50 labels (2 epochs).
- ``v1-pretraining.h5``: stacked-pretraining, stages 16,4, 2 epochs a stage, 1 epoch
  end to end, and a /finetune comparison at 50,all labels (2 epochs).
"""

from __future__ import annotations

import hashlib
import shutil

import h5py
import numpy as np
import pytest
import torch
from PIL import Image

from engine.cli import main
from engine.config import RunConfig
from engine.data.labels import labelled_subset
from engine.decoding import LatentDecoder
from engine.events import EpochEnded, RunOpened, StepMetrics
from engine.pretraining import GreedyPretraining, comparison_table, encoder_source
from engine.session import FORMAT_VERSION, Session, SessionError, SessionWriter
from engine.jobs import resume_trainer
from engine.trainer import Trainer
from session_support import FIXTURES, Recorder

FILES = ["v1-vae-2d.h5", "v1-denoising.h5", "v1-pretraining.h5"]
CLASSIFIERS_DENOISING = ["classifier-pretrained-50", "classifier-random-50"]
CLASSIFIERS_PRETRAINING = ["classifier-pretrained-50", "classifier-pretrained-180",
                           "classifier-random-50", "classifier-random-180"]
EXPECTED = {
    "v1-vae-2d.h5": dict(runs=["main"], jobs=[], primary="main", epochs={"main": 3}),
    "v1-denoising.h5": dict(runs=["main", *CLASSIFIERS_DENOISING], jobs=["finetune"],
                            primary="main", epochs={"main": 2}),
    "v1-pretraining.h5": dict(runs=["stage-1", "stage-2", "stack", *CLASSIFIERS_PRETRAINING],
                              jobs=["pretrain", "finetune"], primary="stack",
                              epochs={"stage-1": 2, "stage-2": 2, "stack": 1}),
}


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def fixture_copy(tmp_path):
    def make(name):
        path = tmp_path / name
        shutil.copyfile(FIXTURES / name, path)
        return path
    return make


@pytest.mark.parametrize("name", FILES)
def test_each_fixture_opens_and_every_run_reads(name):
    want = EXPECTED[name]
    with Session.open(FIXTURES / name) as s:
        assert s.format_version == 1 and s.app_version == "0.1.0"
        assert list(s.runs) == want["runs"] and list(s.jobs) == want["jobs"]
        assert s.primary == want["primary"] and s.run().run_id == want["primary"]
        for run_id, run in s.runs.items():
            assert run.status == "completed" and run.data.n_classes == 10
            if run.role == "classifier":
                continue  # see test_the_comparisons_are_classifier_runs
            cfg = run.config
            assert cfg.model.family == "autoencoder" and cfg.data.limit == 200
            assert run.epochs_trained == want["epochs"][run_id]
            n_steps = run.epochs_trained * run.steps_per_epoch
            assert run.history["step"].tolist() == list(range(1, n_steps + 1))
            assert run.snapshot_epochs == list(range(1, run.epochs_trained + 1))
            p, shape, d = len(run.data.probe_images), run.data.image_shape, cfg.model.latent_dim
            assert p == 8
            for epoch in run.snapshot_epochs:
                snap = run.snapshot(epoch)
                assert snap.epoch == epoch and snap.step == epoch * run.steps_per_epoch
                for image in ("probe_inputs", "probe_recon"):
                    img = snap.images[image]
                    assert img.shape == (p, *shape) and img.dtype == np.float32
                    assert 0.0 <= img.min() and img.max() <= 1.0
                assert snap.arrays["probe_latent_mean"].shape == (p, d)
                assert snap.arrays["map_latents"].shape == (len(run.data.map_labels), d)
                if cfg.model.variational:
                    assert snap.arrays["probe_latent_logvar"].shape == (p, d)
                    assert snap.arrays["kl_per_dim"].shape == (d,)
                if run.role == "stage":
                    recon = snap.images["stack_recon"]
                    assert recon.shape == (p, 1, 28, 28) and 0 <= recon.min() <= recon.max() <= 1
                assert snap.weights and all(k.startswith("decoder.") for k in snap.weights)
                decoder = run.decoder(epoch)
                z = np.random.default_rng(epoch).standard_normal((5, d))
                images = decoder.decode(z)
                assert images.shape == (5, *shape) and images.dtype == np.float32
                assert 0.0 <= images.min() and images.max() <= 1.0
            ck = run.checkpoint()
            assert ck.epoch == run.epochs_trained and ck.optimizers and "model" in ck.optimizers


def test_snapshots_read_back_what_version_1_stored():
    path = FIXTURES / "v1-vae-2d.h5"
    with Session.open(path) as s, h5py.File(path, "r") as f:
        run = s.run()
        for epoch in run.snapshot_epochs:
            raw = f[f"snapshots/{epoch:06d}"]
            snap = run.snapshot(epoch)
            np.testing.assert_array_equal(snap.images["probe_recon"], raw["probe_recon"][()])
            np.testing.assert_array_equal(snap.arrays["map_latents"], raw["map_latents"][()])
            for k, v in raw["decoder"].items():
                np.testing.assert_array_equal(snap.weights[f"decoder.{k}"], v[()])
        # The decoder of the last epoch is the stored model's decoder.
        ck = run.checkpoint()
        model = Trainer(run.config).model
        model.load_state_dict({k: torch.from_numpy(v) for k, v in ck.model.items()})
        z = np.random.default_rng(0).standard_normal((4, 2)).astype(np.float32)
        np.testing.assert_allclose(run.decoder(3).decode(z),
                                   model.decode_mean(torch.from_numpy(z)).numpy(),
                                   rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,classifiers,names", [
    ("v1-denoising.h5", CLASSIFIERS_DENOISING, ["50"]),
    ("v1-pretraining.h5", CLASSIFIERS_PRETRAINING, ["50", "all"]),
])
def test_the_comparisons_are_classifier_runs(name, classifiers, names):
    path = FIXTURES / name
    with Session.open(path) as s, h5py.File(path, "r") as f:
        job = s.jobs["finetune"]
        assert [p.run_id for p in job.plan] == classifiers
        source = s.run()
        for run_id in classifiers:
            run = s.runs[run_id]
            _, init, budget = run_id.split("-")
            raw = f[f"finetune/runs/{init}/{budget}"]
            assert (run.role, run.job_id) == ("classifier", "finetune")
            cfg = run.config
            assert cfg.model.family == "classifier" and cfg.classifier.init == init
            assert cfg.classifier.labels == int(budget) and not cfg.classifier.freeze
            assert cfg.model.hidden == source.config.model.hidden
            assert (cfg.optim.epochs, cfg.optim.batch_size) == (2, 32)
            assert LatentDecoder.available(cfg) is False
            # The accuracy and loss curves, epoch by epoch, as version 1 stored them.
            eh = run.epoch_history
            np.testing.assert_array_equal(eh["epoch"], raw["epoch"][()])
            assert eh["epoch"].tolist() == [1, 2] and run.epochs_trained == 2
            for part in ("train", "val"):
                np.testing.assert_array_equal(eh[part]["accuracy"], raw[f"{part}_accuracy"][()])
                np.testing.assert_array_equal(eh[part]["total"], raw[f"{part}_loss"][()])
            snap = run.snapshot(2)
            np.testing.assert_array_equal(snap.arrays["confusion"], raw["confusion"][()])
            assert snap.arrays["confusion"].sum() == run.data.n_val
            assert run.checkpoint() is None
            # The labelled images were the ones today's budgets choose.
            ds_labels = Trainer(cfg).dataset
            want = labelled_subset(ds_labels.labels, ds_labels.train_idx, int(budget),
                                   cfg.seed, 10)
            np.testing.assert_array_equal(np.sort(raw["train_idx"][()]), want)
        table = comparison_table(s)
        np.testing.assert_array_equal(table.budgets, f["finetune/table/budgets"][()])
        for init in ("pretrained", "random"):
            np.testing.assert_array_equal(table.accuracy[init],
                                          f[f"finetune/table/{init}_accuracy"][()])
        assert table.budget_names == names and table.epochs == 2 and not table.frozen


def test_a_version_1_pretraining_is_a_job_with_its_stack_as_encoder_source():
    with Session.open(FIXTURES / "v1-pretraining.h5") as s:
        job = s.jobs["pretrain"]
        assert job.kind == "pretrain" and [p.run_id for p in job.plan] == [
            "stage-1", "stage-2", "stack"]
        assert RunConfig.from_json(job.spec_json).pretraining.end_to_end_epochs == 1
        assert s.runs["stage-2"].data.image_shape == (1, 1, 16)
        assert s.runs["stage-2"].meta["kind"] == "denoising"
        src = encoder_source(s)
        assert src.run_id == "stack" and "784-16-4" in src.description
        assert set(src.state) == set(s.runs["stack"].checkpoint().model)


def test_export_works_on_a_version_1_session(tmp_path, capsys):
    out = tmp_path / "figures"
    assert main(["export", str(FIXTURES / "v1-vae-2d.h5"), "--out", str(out),
                 "--scale", "1"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["epoch0003_manifold.png", "epoch0003_reconstructions.png",
                     "epoch0003_samples.png"]
    # 8 probe images, nothing corrupted: one band of original | reconstruction rows of 16
    # columns, and a strip of row titles on the left.
    width, height = Image.open(out / "epoch0003_reconstructions.png").size
    assert height == 2 * 30 + 2 and width > 16 * 30 + 2
    w, h = Image.open(out / "epoch0003_manifold.png").size   # the 20 x 20 grid and its axes
    assert w > 20 * 28 and h > 20 * 28
    assert main(["export", str(FIXTURES / "v1-pretraining.h5"), "--run", "stage-1",
                 "--out", str(tmp_path / "stage1"), "--epoch", "1"]) == 0
    assert (tmp_path / "stage1" / "epoch0001_samples.png").exists()


@pytest.mark.parametrize("name", FILES)
def test_info_works_on_every_version_1_file(name, capsys):
    before = digest(FIXTURES / name)
    capsys.readouterr()
    assert main(["info", str(FIXTURES / name)]) == 0
    out = capsys.readouterr().out
    assert f"{name}: Autoencoder Studio session, format 1, written by 0.1.0" in out
    want = EXPECTED[name]
    primary = want["primary"]
    assert f"epochs:    {want['epochs'][primary]} of {want['epochs'][primary]} (completed)" in out
    if len(want["runs"]) > 1:
        listed = [line.split()[0].lstrip("*") for line in out.splitlines()
                  if line.startswith("  ") and "epochs" in line and "completed" in line]
        assert listed == want["runs"]
    if "finetune" in want["jobs"]:
        assert "fine-tuning comparison, validation accuracy" in out
    if name == "v1-pretraining.h5":
        assert "job:       greedy layer-wise pretraining" in out and "all (180)" in out
    assert digest(FIXTURES / name) == before


@pytest.mark.parametrize("name", FILES)
def test_version_1_files_refuse_new_training_with_one_clear_line(name, fixture_copy, capsys):
    path = fixture_copy(name)
    before = digest(path)
    with pytest.raises(SessionError) as err:
        SessionWriter(path, append=True)
    message = str(err.value)
    assert message.startswith(f"{name}: has session format 1") and "\n" not in message
    assert "new training cannot be added" in message
    capsys.readouterr()
    assert main(["resume", str(path), "--epochs", "1", "--quiet"]) == 2
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and err_lines[0] == f"error: {message}"
    assert digest(path) == before
    assert sorted(p.name for p in path.parent.iterdir()) == [name]  # no temporary file left


def test_a_version_1_session_is_an_encoder_source_for_finetune(fixture_copy, tmp_path,
                                                               capsys):
    path = fixture_copy("v1-vae-2d.h5")
    before = digest(path)
    capsys.readouterr()
    assert main(["finetune", str(path), "--labels", "20", "--epochs", "1", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "is a version 1 file, so the runs are not added to it" in out
    assert "validation accuracy, fine-tuning everything, 1 epochs" in out
    assert digest(path) == before
    new = tmp_path / "cmp.h5"
    assert main(["finetune", str(path), "--labels", "20", "--epochs", "1", "--quiet",
                 "--out", str(new)]) == 0
    with Session.open(new) as s:
        assert s.format_version == FORMAT_VERSION
        assert list(s.runs) == ["classifier-pretrained-20", "classifier-random-20"]
        assert s.runs["classifier-pretrained-20"].config.model.variational
    assert digest(path) == before


@pytest.fixture
def earlier_streams(monkeypatch):
    """Runs draw as the trainer of these files did: one generator, seeded once, for the
    order and the noise (today's are derived from (seed, epoch) and (seed, step),
    engine/random_streams.py; the v1 files' own checkpoints continue theirs)."""
    from engine.random_streams import ContinuedStream

    def one_generator(seed, device):
        return ContinuedStream(torch.Generator(device=device).manual_seed(seed))
    monkeypatch.setattr("engine.trainer.RandomStreams", one_generator)


def test_version_1_checkpoints_resume_in_memory_exactly(earlier_streams):
    """A v1 checkpoint loads (optimiser state and generator too): one more epoch equals
    epoch 4 of a run trained from scratch (drawing as the trainer of the file did).

    Today's Adam is torch's fused one; the v1 file's first three epochs were
    trained with the per-tensor loop, which rounds differently: equal to float
    tolerance. A checkpoint without its optimiser state or generator would be
    off by far more (a fresh Adam's first steps are lr-sized in every weight).
    """
    with Session.open(FIXTURES / "v1-vae-2d.h5") as s:
        run = s.run()
        trainer, until = resume_trainer(run, 1)
        cfg = run.config
    rec = Recorder()
    assert trainer.run(rec, until_epoch=until) == "completed" and until == 4
    scratch = Recorder()
    Trainer(cfg.with_overrides({"optim.epochs": 4})).run(scratch)
    assert [e.step for e in rec.of(StepMetrics)] == [13, 14, 15, 16]
    for resumed, fresh in zip(rec.of(StepMetrics), scratch.of(StepMetrics)[12:]):
        assert list(resumed.terms) == list(fresh.terms)
        np.testing.assert_allclose(list(resumed.terms.values()), list(fresh.terms.values()),
                                   rtol=1e-5)
    val, fresh_val = rec.of(EpochEnded)[0].val, scratch.of(EpochEnded)[3].val
    np.testing.assert_allclose(list(val.values()), list(fresh_val.values()), rtol=1e-5)


def test_todays_trainer_reproduces_the_old_trainers_numbers(earlier_streams):
    with Session.open(FIXTURES / "v1-vae-2d.h5") as s:
        run = s.run()
        cfg, stored, history = run.config, run.epoch_history, run.history
    rec = Recorder()
    assert Trainer(cfg).run(rec) == "completed"
    ends = rec.of(EpochEnded)
    assert [e.epoch for e in ends] == stored["epoch"].tolist() == [1, 2, 3]
    assert [e.step for e in ends] == stored["step"].tolist()
    for part in ("train", "val"):
        assert list(stored[part]) == ["total", "recon", "kl", "elbo"]
        for term, values in stored[part].items():
            np.testing.assert_allclose([getattr(e, part)[term] for e in ends], values,
                                       rtol=1e-5, err_msg=f"{part}/{term}")
    for term in ("total", "recon", "kl", "elbo"):
        np.testing.assert_allclose([e.terms[term] for e in rec.of(StepMetrics)],
                                   history[term], rtol=1e-5, err_msg=term)


def test_todays_greedy_pretraining_reproduces_the_old_stacks_numbers(earlier_streams):
    with Session.open(FIXTURES / "v1-pretraining.h5") as s:
        cfg = RunConfig.from_json(s.jobs["pretrain"].spec_json)
        stored = {r: s.runs[r].epoch_history for r in ("stage-1", "stage-2", "stack")}
    rec = Recorder()
    assert GreedyPretraining(cfg).run(rec, snapshots=False, checkpoints=False) == "completed"
    assert [e.run_id for e in rec.of(RunOpened)] == list(stored)
    for run_id, events in rec.by_run().items():
        ends = [e for e in events if isinstance(e, EpochEnded)]
        for part in ("train", "val"):
            for term, values in stored[run_id][part].items():
                np.testing.assert_allclose([getattr(e, part)[term] for e in ends], values,
                                           rtol=1e-5, err_msg=f"{run_id} {part}/{term}")
