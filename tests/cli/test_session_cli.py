"""train --out, resume, info and export, called as ``engine.cli.main([...])`` (in-process:
the same parser and code path as ``python main.py``, without a new interpreter per call)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.session import FORMAT_VERSION, Session

TINY = ["--device", "cpu", "--quiet", "--set", "data.limit=300", "--set", "data.n_probe=16",
        "--set", "model.hidden=[32]", "--set", "optim.batch_size=64"]


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


@pytest.fixture(scope="module")
def session_2d(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "run2d.h5"
    assert main(["train", "--preset", "vae-2d", "--epochs", "2", "--out", str(path), *TINY]) == 0
    return path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: "), err
    return err[0]


def test_train_out_writes_a_session(session_2d):
    with Session.open(session_2d) as s:
        assert s.format_version == FORMAT_VERSION and list(s.runs) == ["main"]
        run = s.run()
        assert run.epochs_trained == 2 and run.status == "completed"
        assert run.snapshot_epochs == [1, 2] and run.config.name == "vae-2d"


def test_an_existing_session_is_not_overwritten_without_force(session_2d, capsys):
    before = session_2d.read_bytes()
    capsys.readouterr()
    code = main(["train", "--preset", "vae-2d", "--epochs", "1", "--out", str(session_2d), *TINY])
    assert code == 2
    line = one_error_line(capsys)
    assert session_2d.name in line and "--force" in line
    assert session_2d.read_bytes() == before


def test_force_replaces(tmp_path):
    path = tmp_path / "again.h5"
    path.write_text("old")
    assert main(["train", "--preset", "plain", "--epochs", "1", "--force", "--out", str(path),
                 *TINY]) == 0
    with Session.open(path) as s:
        assert s.run().config.name == "plain" and s.run().epochs_trained == 1


def test_info_prints_kind_data_epochs_terms_and_size(session_2d, capsys):
    capsys.readouterr()
    assert main(["info", str(session_2d)]) == 0
    out = capsys.readouterr().out
    assert "kind:      variational" in out
    assert "270 train / 30 validation images 1x28x28" in out
    assert re.search(r"epochs:\s+2 of 2 \(completed\)", out)
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()
            if line.startswith("  ") and not line.strip().startswith("term")}
    assert set(rows) == {"total", "recon", "kl", "elbo"}
    with Session.open(session_2d) as s:
        want = s.run().epoch_history["val"]["total"][-1]
    assert float(rows["total"][1]) == pytest.approx(want, rel=1e-5)
    assert re.search(r"size:\s+[\d.]+ (KB|MB)", out)


def test_resume_continues_in_the_same_file(tmp_path, capsys):
    path = tmp_path / "more.h5"
    assert main(["train", "--preset", "variational", "--epochs", "1", "--out", str(path),
                 *TINY]) == 0
    assert main(["resume", str(path), "--epochs", "2", "--quiet"]) == 0
    assert "epoch 3/3" in capsys.readouterr().out
    with Session.open(path) as s:
        run = s.run()
        assert list(s.runs) == ["main"] and run.status == "completed"
        assert run.epochs_trained == 3 and run.snapshot_epochs == [1, 2, 3]
        assert run.history["step"].tolist() == list(range(1, 3 * 5 + 1))
        assert run.config.optim.epochs == 3


def test_resume_without_epochs_finishes_a_stopped_run_and_then_asks_for_epochs(tmp_path,
                                                                              capsys):
    from engine.control import TrainingControl
    from engine.events import StepMetrics
    from engine.presets import load_preset
    from engine.session import SessionWriter
    from engine.trainer import Trainer
    cfg = load_preset("variational").with_overrides({
        "data.limit": 300, "data.n_probe": 16, "model.hidden": [32], "optim.batch_size": 64,
        "device": "cpu", "optim.epochs": 3})
    path = tmp_path / "stopped.h5"
    control = TrainingControl()

    def stop_at_step_7(event):
        if isinstance(event, StepMetrics) and event.step == 7:
            control.stop()

    with SessionWriter(path) as writer:
        Trainer(cfg).run(lambda e: (writer(e), stop_at_step_7(e)), control)
    capsys.readouterr()
    assert main(["resume", str(path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "epochs 2-3" in out and "epoch 3/3" in out
    with Session.open(path) as s:
        assert s.run().status == "completed" and s.run().epochs_trained == 3
        assert s.run().history["step"].tolist() == list(range(1, 16))
    assert main(["resume", str(path)]) == 2
    line = one_error_line(capsys)
    assert "--epochs" in line and "run 'main' is complete (3 epochs)" in line


def test_resume_and_info_of_one_run_of_a_file(tmp_path, capsys):
    from engine.events import RunOpened
    from engine.session import SessionWriter
    path = tmp_path / "two.h5"
    assert main(["train", "--preset", "plain", "--epochs", "1", "--out", str(path),
                 *TINY]) == 0
    with Session.open(path) as s:
        cfg = s.run().config
    from engine.trainer import Trainer
    with SessionWriter(path, append=True) as writer:
        writer(RunOpened("", "second"))
        Trainer(cfg.with_overrides({"seed": 4})).run(writer)
    assert main(["resume", str(path), "--run", "second", "--epochs", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["info", str(path), "--run", "second"]) == 0
    out = capsys.readouterr().out
    assert "run:       'second'" in out and re.search(r"epochs:\s+2 of 2 \(completed\)", out)
    assert "runs:      2 in this file" in out
    with Session.open(path) as s:
        assert s.runs["main"].epochs_trained == 1 and s.runs["second"].epochs_trained == 2
    assert main(["info", str(path), "--run", "third"]) == 2
    assert "has no run 'third' (it has: main, second)" in one_error_line(capsys)


def test_a_misspelt_field_suggests_the_right_one(capsys):
    capsys.readouterr()
    assert main(["train", "--set", "model.latnet_dim=8", *TINY]) == 2
    line = one_error_line(capsys)
    assert "unknown config field 'model.latnet_dim'" in line
    assert "did you mean model.latent_dim?" in line


def test_export_writes_reconstructions_samples_and_manifold(session_2d, tmp_path, capsys):
    out = tmp_path / "figures"
    assert main(["export", str(session_2d), "--out", str(out), "--scale", "1"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["epoch0002_manifold.png", "epoch0002_reconstructions.png",
                     "epoch0002_samples.png"]
    recon = np.asarray(Image.open(out / "epoch0002_reconstructions.png"))
    # 16 probe images, nothing corrupted: one band of original | reconstruction rows of 16
    # columns (an "input" row would only repeat the originals), titled on the left.
    grid_width = 16 * 30 + 2
    assert recon.shape[0] == 2 * 30 + 2 and recon.shape[1] > grid_width + 40
    strip = recon[:, :recon.shape[1] - grid_width]
    for top in (2, 32):                      # each row's title: dark text on white
        assert (strip[top:top + 28] < 128).sum() > 20
    w, h = Image.open(out / "epoch0002_manifold.png").size   # the 20 x 20 grid and its axes
    assert w > 20 * 28 and h > 20 * 28
    capsys.readouterr()
    assert main(["export", str(session_2d), "--out", str(out)]) == 2  # would overwrite
    assert "--force" in one_error_line(capsys)
    assert main(["export", str(session_2d), "--out", str(out), "--epoch", "1", "--force"]) == 0
    assert (out / "epoch0001_samples.png").exists()


def test_export_of_an_unknown_epoch_is_an_error(session_2d, tmp_path, capsys):
    capsys.readouterr()
    assert main(["export", str(session_2d), "--out", str(tmp_path), "--epoch", "9"]) == 2
    assert "no snapshot for epoch 9" in one_error_line(capsys)


@pytest.mark.parametrize("command", [["info"], ["resume", "--epochs", "1"],
                                     ["export", "--out", "figs"]])
def test_bad_files_give_one_line_naming_the_file(tmp_path, capsys, command):
    bad = tmp_path / "notes.h5"
    bad.write_text("not a session")
    capsys.readouterr()
    args = [command[0], str(bad), *command[1:]]
    assert main(args) == 2
    line = one_error_line(capsys)
    assert "notes.h5" in line and "not an HDF5 file" in line
    assert bad.read_text() == "not a session"


def _damaged_copy(source, target, edit):
    import shutil

    import h5py
    shutil.copyfile(source, target)
    with h5py.File(target, "r+") as f:
        edit(f)
    return target


@pytest.mark.parametrize("command", [["info"], ["resume", "--epochs", "1"],
                                     ["export", "--out", "figs"],
                                     ["finetune", "--labels", "100"]])
def test_a_format_attribute_that_is_an_array_gives_one_line(session_2d, tmp_path, capsys,
                                                            command):
    import numpy as np
    bad = _damaged_copy(session_2d, tmp_path / "array.h5",
                        lambda f: f.attrs.__setitem__("format", np.array([1, 2, 3])))
    capsys.readouterr()
    assert main([command[0], str(bad), *command[1:]]) == 2
    line = one_error_line(capsys)
    assert "array.h5" in line and "'format' attribute is not text" in line


def test_info_of_an_epoch_table_without_terms(session_2d, tmp_path, capsys):
    import numpy as np

    def keep_index_columns(f):
        old = f["runs/main/epochs"][()]
        meta = np.zeros(len(old), [("epoch", "<i8"), ("step", "<i8"), ("wall_time", "<f8")])
        for name in meta.dtype.names:
            meta[name] = old[name]
        del f["runs/main/epochs"]
        f["runs/main/epochs"] = meta

    bad = _damaged_copy(session_2d, tmp_path / "noterms.h5", keep_index_columns)
    capsys.readouterr()
    assert main(["info", str(bad)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"epochs:\s+2 of 2 \(completed\)", out)
    assert "last logged values (step 10, its epoch table holds no loss terms)" in out
    assert re.search(r"^  total\s+[\d.]+\s+-$", out, re.MULTILINE)


def test_out_on_a_read_only_file_system_is_one_line_before_any_training(tmp_path, capsys,
                                                                        monkeypatch):
    import builtins
    import errno

    from engine.session import writer as writer_module
    real_open = builtins.open

    def read_only(path, mode="r", *args, **kwargs):
        if str(path).startswith(str(tmp_path)) and mode != "rb":
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(writer_module, "open", read_only, raising=False)
    capsys.readouterr()
    assert main(["train", "--preset", "plain", "--out", str(tmp_path / "run.h5"), *TINY]) == 2
    out, err = capsys.readouterr()
    assert "epoch" not in out and err.count("\n") == 1
    assert "run.h5: cannot write the session" in err and "read-only file system" in err
    assert list(tmp_path.iterdir()) == []


def test_resume_of_a_checkpoint_with_nan_weights_says_the_file_is_damaged(session_2d,
                                                                         tmp_path, capsys):
    """Found by a test no one here wrote: it was refused as 'Training diverged... lower the
    learning rate', which sends the user the wrong way."""
    def poison(f):
        g = f["runs/main/checkpoint/model"]
        g[sorted(g)[0]][...] = float("nan")

    bad = _damaged_copy(session_2d, tmp_path / "nan.h5", poison)
    before = bad.read_bytes()
    capsys.readouterr()
    assert main(["resume", str(bad), "--epochs", "1"]) == 2
    line = one_error_line(capsys)
    assert "nan.h5" in line and "NaN or infinite values: the file is damaged" in line
    assert "cannot be resumed" in line and "learning rate" not in line
    assert bad.read_bytes() == before


def test_export_of_a_denoising_run_shows_its_noisy_inputs_in_a_titled_row(tmp_path, capsys):
    path = tmp_path / "denoising.h5"
    assert main(["train", "--preset", "denoising", "--epochs", "1", "--out", str(path),
                 *TINY]) == 0
    out = tmp_path / "figures"
    assert main(["export", str(path), "--out", str(out), "--scale", "1"]) == 0
    recon = np.asarray(Image.open(out / "epoch0001_reconstructions.png"))
    assert recon.shape[0] == 3 * 30 + 2          # original | noisy input | reconstruction
    grid = recon[:, recon.shape[1] - (16 * 30 + 2):]
    original, noisy = grid[2:30, 2:30], grid[32:60, 2:30]
    assert not np.array_equal(original, noisy)   # masking noise: the input differs
    from engine.export.figures import row_titles
    assert row_titles(True) == ("original", "noisy input", "reconstruction")


def test_config_prints_a_preset_as_json_to_start_a_config_file_from(tmp_path, capsys):
    import json
    capsys.readouterr()
    assert main(["config", "--preset", "vae-2d", "--set", "model.latent_dim=3"]) == 0
    text = capsys.readouterr().out
    cfg = json.loads(text)
    assert cfg["name"] == "vae-2d" and cfg["model"]["latent_dim"] == 3
    assert cfg["model"]["variational"] is True
    my_run = tmp_path / "my_run.json"
    my_run.write_text(text)
    assert main(["train", "--config", str(my_run), "--epochs", "1", *TINY]) == 0
    assert "training [variational]" in capsys.readouterr().out
    assert main(["config", "--preset", "plain", "--out", str(my_run)]) == 2
    assert "--force" in one_error_line(capsys)          # never replaced unasked
    assert main(["config", "--preset", "plain", "--out", str(my_run), "--force"]) == 0
    assert json.loads(my_run.read_text())["name"] == "plain"
