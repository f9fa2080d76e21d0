"""The command-line edges a new user ran into (issue 21, item 8), through the command."""

from __future__ import annotations

import json
import shutil
import sys

import h5py
import numpy as np
import pytest

from engine.cli import main

TINY = ["--device", "cpu", "--quiet", "--set", "data.limit=300", "--set", "data.n_probe=16",
        "--set", "model.hidden=[32]", "--set", "optim.batch_size=64"]


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


@pytest.fixture(scope="module")
def two_sessions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("edges")
    paths = [folder / "a.h5", folder / "b.h5"]
    for path, beta in zip(paths, (1, 4)):
        assert main(["train", "--preset", "vae-2d", "--epochs", "1", "--out", str(path),
                     "--set", f"objective.beta={beta}", *TINY]) == 0
    return paths


def error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_compare_twice_in_one_folder_replaces_its_own_figure(two_sessions, tmp_path,
                                                              monkeypatch, capsys):
    """It printed its table, then failed on its own comparison.png ('already exists; pass
    --force', exit 2). A figure it drew of the same runs is replaced; any other file of
    that name is still refused."""
    monkeypatch.chdir(tmp_path)
    runs = [str(p) for p in two_sessions]
    assert main(["compare", *runs]) == 0
    first = (tmp_path / "comparison.png").stat().st_mtime_ns
    capsys.readouterr()
    assert main(["compare", *runs]) == 0
    out = capsys.readouterr().out
    assert "comparison.png" in out and "replaced" in out
    assert (tmp_path / "comparison.png").stat().st_mtime_ns != first
    # A comparison of other runs, or a picture of the user's, is not replaced unasked.
    assert main(["compare", runs[0]]) == 2
    line = error_line(capsys)
    assert "comparison.png" in line and "--force" in line
    from PIL import Image
    Image.new("RGB", (8, 8)).save(tmp_path / "mine.png")
    assert main(["compare", *runs, "--png", "mine.png"]) == 2
    line = error_line(capsys)
    assert "mine.png" in line and "--force" in line
    assert Image.open(tmp_path / "mine.png").size == (8, 8)
    assert main(["compare", *runs, "--png", "mine.png", "--force"]) == 0


def test_export_checks_every_format_before_writing_any(two_sessions, tmp_path, monkeypatch,
                                                       capsys):
    """``--csv h.csv --onnx d.onnx`` without the export extra wrote the CSV, then failed."""
    monkeypatch.setitem(sys.modules, "onnx", None)      # as if the extra were not installed
    csv, onnx = tmp_path / "h.csv", tmp_path / "d.onnx"
    assert main(["export", str(two_sessions[0]), "--csv", str(csv), "--onnx", str(onnx)]) == 2
    line = error_line(capsys)
    assert "onnx" in line and "pip install" in line
    assert not csv.exists() and not onnx.exists()
    # A target that exists is found before the others are written, too.
    gif = tmp_path / "taken.gif"
    gif.write_bytes(b"GIF89a")
    figures = tmp_path / "figures"
    assert main(["export", str(two_sessions[0]), "--csv", str(csv), "--out", str(figures),
                 "--gif", str(gif)]) == 2
    assert "taken.gif" in error_line(capsys)
    assert not csv.exists() and not figures.exists()
    # With nothing in the way, every format is written.
    monkeypatch.delitem(sys.modules, "onnx")
    assert main(["export", str(two_sessions[0]), "--csv", str(csv), "--out", str(figures)]) == 0
    assert csv.is_file() and any(figures.glob("epoch0001_*.png"))


def test_a_misspelt_preset_gets_a_did_you_mean(capsys):
    assert main(["train", "--preset", "variatonal", *TINY]) == 2
    line = error_line(capsys)
    assert "unknown preset 'variatonal'" in line and "did you mean variational?" in line


def test_resume_of_a_complete_run_says_how_to_add_epochs(two_sessions, capsys):
    assert main(["resume", str(two_sessions[0])]) == 2
    line = error_line(capsys)
    assert "error: --epochs" not in line
    assert "run 'main' is complete (1 epoch)" in line
    assert f"python main.py resume {two_sessions[0]} --epochs N adds N more" in line


def test_a_remedy_about_a_data_field_names_the_set_option(tmp_path, capsys):
    """'Set key to the one to use' left the user to guess the option."""
    path = tmp_path / "two.h5"
    with h5py.File(path, "w") as f:
        f["first"] = np.zeros((20, 8, 8), np.uint8)
        f["second"] = np.zeros((20, 8, 8), np.uint8)
    assert main(["train", "--set", f"data.path={path}", *TINY]) == 2
    line = error_line(capsys)
    assert "several datasets could be the images" in line and "--set data.key=" in line
    assert main(["train", "--set", f"data.path={path}", "--set", "data.key=third",
                 *TINY]) == 2
    assert "--set data.key=" in error_line(capsys)


def test_the_start_line_of_one_epoch_says_one_epoch(two_sessions, tmp_path, capsys):
    path = tmp_path / "more.h5"
    shutil.copyfile(two_sessions[0], path)
    capsys.readouterr()
    assert main(["resume", str(path), "--epochs", "1", "--quiet"]) == 0
    start = next(x for x in capsys.readouterr().out.splitlines() if "training [" in x)
    assert start.endswith(", epoch 2"), start


def test_a_preset_description_follows_the_data(tmp_path, capsys):
    """The plain preset's text still said 'on MNIST' after --set data.source=sprites."""
    def description(*sets) -> str:
        capsys.readouterr()
        assert main(["config", "--preset", "plain", *sets]) == 0
        return json.loads(capsys.readouterr().out)["description"]

    assert "on MNIST" in description()
    text = description("--set", "data.source=sprites")
    assert "MNIST" not in text and "on procedural sprites" in text
    mine = tmp_path / "mine.npy"
    np.save(mine, np.zeros((20, 8, 8), np.uint8))
    text = description("--set", f"data.path={mine}")
    assert "MNIST" not in text and "on mine.npy" in text
    # A description that names no data gains a sentence that does.
    text = description("--preset", "sparse", "--set", "data.source=moons")
    assert text.endswith("(2-D points).") and "two moons" in text
