"""Each export format read back by its own tool: ONNX in onnxruntime against PyTorch, TensorBoard
events with tensorboard's reader, the CSV with the csv module, the GIF with Pillow, and the
exported script run against the session it came from."""

from __future__ import annotations

import csv
import runpy
import subprocess
import sys

import numpy as np
import pytest
import torch

from engine.checkpoint import load_module_arrays
from engine.errors import SessionError
from engine.models import build_model
from engine.session import Session
from engine.export.script import export_script
from engine.export.csv_tables import export_csv
from engine.export.latent_gif import export_gif, latent_frames
from tests.engine.session_support import record_run, single_torch_thread, tiny_config


@pytest.fixture(scope="module")
def vae_session(tmp_path_factory):
    path = tmp_path_factory.mktemp("exports") / "vae.h5"
    with single_torch_thread():
        record_run(path, tiny_config("vae-2d", epochs=3))
    return path


def test_onnx_decoder_and_encoder_match_pytorch(vae_session, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    from engine.export.onnx_model import export_onnx
    with Session.open(vae_session) as s:
        run = s.run()
        paths = export_onnx(run, 2, tmp_path / "decoder.onnx")
        assert [p.name for p in paths] == ["decoder.onnx", "encoder.onnx"]
        z = np.random.default_rng(0).standard_normal((7, 2)).astype(np.float32)
        got = ort.InferenceSession(str(paths[0])).run(None, {"z": z})[0]
        np.testing.assert_allclose(got, run.decoder(2).decode(z), atol=2e-6)
        assert not np.allclose(got, run.decoder(3).decode(z), atol=1e-4)  # epoch 2's decoder
        # The encoder is the checkpoint's (the last epoch): compare with that model.
        model = build_model(run.config, run.data.image_shape)
        load_module_arrays(model, run.checkpoint().model)
        x = run.data.probe_images[:5]
        mean, logvar = ort.InferenceSession(str(paths[1])).run(None, {"image": x})
        with torch.no_grad():
            code = model.encoder(torch.from_numpy(x), sample=False)
        np.testing.assert_allclose(mean, code.mean.numpy(), atol=2e-5)
        np.testing.assert_allclose(logvar, code.logvar.numpy(), atol=2e-5)
        with pytest.raises(SessionError, match="--force"):
            export_onnx(run, None, tmp_path / "decoder.onnx")


@pytest.mark.parametrize("over", [{"model.family": "gan"},
                                  {"model.family": "rbm", "model.hidden": []}],
                         ids=["gan", "rbm"])
def test_onnx_of_a_gan_or_an_rbm_is_its_decode_mean(over, tmp_path):
    """A GAN's generator, an RBM's E[v|h]; neither has an encoder module to export."""
    ort = pytest.importorskip("onnxruntime")
    from engine.export.onnx_model import export_onnx
    path = tmp_path / "run.h5"
    with single_torch_thread():
        record_run(path, tiny_config("plain", epochs=1, model__latent_dim=3).with_overrides(over))
    with Session.open(path) as s:
        run = s.run()
        paths = export_onnx(run, None, tmp_path / "decoder.onnx")
        assert [p.name for p in paths] == ["decoder.onnx"]
        z = np.random.default_rng(1).uniform(0, 1, (4, 3)).astype(np.float32)
        got = ort.InferenceSession(str(paths[0])).run(None, {"z": z})[0]
        np.testing.assert_allclose(got, run.decoder(1).decode(z), atol=2e-6)


def test_tensorboard_events_hold_every_term_and_the_reconstructions(vae_session, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from engine.export.tensorboard_events import export_tensorboard
    with Session.open(vae_session) as s:
        run = s.run()
        folder = export_tensorboard(run, tmp_path)
        acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "images": 0})
        acc.Reload()
        tags = acc.Tags()
        for term in run.term_names:
            assert f"train/{term}" in tags["scalars"] and f"val/{term}" in tags["scalars"]
        total = acc.Scalars("train/total")
        np.testing.assert_array_equal([e.step for e in total], run.history["step"])
        np.testing.assert_allclose([e.value for e in total], run.history["total"], rtol=1e-6)
        val = acc.Scalars("val/recon")
        assert [e.step for e in val] == list(run.epoch_history["step"])
        np.testing.assert_allclose([e.value for e in val], run.epoch_history["val"]["recon"],
                                   rtol=1e-6)
        assert len(acc.Images("reconstructions")) == len(run.snapshot_epochs)
        with pytest.raises(SessionError, match="--force"):
            export_tensorboard(run, tmp_path)
        assert export_tensorboard(run, tmp_path, force=True) == folder
        assert len(list(folder.glob("events.out.tfevents.*"))) == 1  # replaced, not doubled


def test_csv_is_the_loss_table(vae_session, tmp_path):
    with Session.open(vae_session) as s:
        run = s.run()
        path = export_csv(run, tmp_path / "history.csv")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(run.history["step"])
    assert [int(r["step"]) for r in rows] == list(run.history["step"])
    assert [float(r["kl"]) for r in rows] == list(run.history["kl"])     # exact, not rounded
    ends = [r for r in rows if r["val_total"]]
    assert [int(r["step"]) for r in ends] == list(run.epoch_history["step"])
    assert [float(r["val_total"]) for r in ends] == list(run.epoch_history["val"]["total"])


def test_gif_has_a_frame_per_epoch_and_the_map_moves(vae_session, tmp_path):
    from PIL import Image
    with Session.open(vae_session) as s:
        run = s.run()
        path = export_gif(run, tmp_path / "latent.gif")
        frames = latent_frames(run)
    with Image.open(path) as gif:
        assert gif.n_frames == len(run.snapshot_epochs) == 3
        pictures = []
        for i in range(gif.n_frames):
            gif.seek(i)
            pictures.append(np.asarray(gif.convert("RGB")).astype(int))
    assert pictures[0].shape == frames[0].shape
    assert pictures[0].shape[1] > pictures[0].shape[0]                # map | manifold
    assert np.abs(pictures[0] - pictures[-1]).sum() > 0                 # training shows


def _first_epoch(run):
    eh = run.epoch_history
    return {part: {t: float(v[0]) for t, v in eh[part].items()} for part in ("train", "val")}


def _parse(line: str) -> dict:
    """'epoch 1/1  train total 5 recon 4 | val total 6 ...' -> {'train': .., 'val': ..}"""
    train, val = line.split("train ", 1)[1].split(" | val ")
    out = {}
    for part, text in (("train", train), ("val", val.split("  (")[0])):
        words = text.split()
        out[part] = {words[i]: float(words[i + 1]) for i in range(0, len(words), 2)}
    return out


def test_the_exported_script_reproduces_the_first_epoch_in_a_subprocess(vae_session, tmp_path):
    with Session.open(vae_session) as s:
        run = s.run()
        script, data = export_script(run, tmp_path / "run.py")
        expected = _first_epoch(run)
    text = script.read_text()
    assert "engine" not in text.replace("Autoencoder Studio", "") and "import torch" in text
    r = subprocess.run([sys.executable, str(script), "--epochs", "1"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120,
                       env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    got = _parse(next(ln for ln in r.stdout.splitlines() if ln.startswith("epoch 1/1")))
    for part in ("train", "val"):
        assert set(got[part]) == set(expected[part])
        for term, value in expected[part].items():
            assert got[part][term] == pytest.approx(value, rel=1e-6, abs=1e-7), (part, term)


@pytest.mark.parametrize("preset,overrides", [
    ("denoising", {"objective.corruption": "masking"}),
    ("sparse", {"optim.grad_clip": 1.0, "optim.optimizer": "sgd", "optim.lr": 0.01}),
    ("contractive", {"model.hidden": []}),                       # the closed-form Jacobian
    ("contractive", {"objective.contractive_estimator": "projection",
                     "objective.projections": 2}),
    ("plain-gaussian", {"objective.corruption": "salt_pepper",
                        "objective.corruption_level": 0.2, "model.code_activation": "tanh"}),
    ("categorical-vae", {"objective.levels": 4, "optim.optimizer": "rmsprop"}),
    ("conv-vae", {"model.hidden": [4, 8], "data.limit": 130, "optim.batch_size": 32}),
])
def test_the_script_reproduces_each_kind_of_objective(tmp_path, monkeypatch, preset, overrides):
    cfg = tiny_config(preset, epochs=1, **{k.replace(".", "__"): v for k, v in overrides.items()})
    with single_torch_thread():
        record_run(tmp_path / "s.h5", cfg)
        with Session.open(tmp_path / "s.h5") as s:
            script, _ = export_script(s.run(), tmp_path / "run.py")
            expected = _first_epoch(s.run())
        lines = []
        monkeypatch.setattr(sys, "argv", ["run.py", "--epochs", "1"])
        monkeypatch.setattr("builtins.print", lambda *a, **k: lines.append(" ".join(map(str, a))))
        runpy.run_path(str(script), run_name="__main__")
    got = _parse(next(ln for ln in lines if ln.startswith("epoch 1/1")))
    for part in ("train", "val"):
        for term, value in expected[part].items():
            assert got[part][term] == pytest.approx(value, rel=1e-6, abs=1e-6), (part, term)


def test_script_refuses_runs_it_cannot_rebuild(tmp_path):
    from tests.engine.session_support import tiny_pretraining, fan_out, Recorder
    from engine.pretraining.greedy import GreedyPretraining
    from engine.session import SessionWriter
    with single_torch_thread(), SessionWriter(tmp_path / "stack.h5") as w:
        GreedyPretraining(tiny_pretraining()).run(fan_out(Recorder(), w))
    with Session.open(tmp_path / "stack.h5") as s:
        with pytest.raises(SessionError, match="plain run"):
            export_script(s.run("stage-2"), tmp_path / "run.py")
