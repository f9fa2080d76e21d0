"""A data path is never silently ignored (issue 21, item 1), through the command.

``--set data.path=FILE`` trained on the bundled MNIST and exited 0 when
``data.source`` was left at the preset's. Setting a path selects the file
source; a source that reads no file beside a path is refused, naming
``data.source``; a path that does not exist is an error, exit 2, before anything
is written.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.cli import main
from engine.session import Session

TINY = ["--device", "cpu", "--quiet", "--epochs", "1", "--set", "model.hidden=[16]",
        "--set", "data.n_probe=8", "--set", "optim.batch_size=32"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def my_images(tmp_path):
    """120 random 12x12 grey images: not MNIST, and a shape MNIST does not have."""
    path = tmp_path / "mine.npy"
    rng = np.random.default_rng(0)
    np.save(path, (rng.random((120, 12, 12)) * 255).astype(np.uint8))
    return path


def error_line(capsys) -> str:
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "epoch" not in out, out
    return lines[0]


def test_a_data_path_selects_the_file_source(my_images, tmp_path, capsys):
    out = tmp_path / "mine.h5"
    assert main(["train", "--preset", "plain", "--set", f"data.path={my_images}",
                 "--out", str(out), *TINY]) == 0
    start = capsys.readouterr().out.splitlines()[0]
    assert "108 train / 12 validation images 1x12x12" in start, start
    with Session.open(out) as s:
        data = s.run().config.data
        assert data.source == "file" and data.path == str(my_images)


def test_a_path_that_does_not_exist_is_an_error_before_anything_is_written(tmp_path, capsys):
    out = tmp_path / "never.h5"
    assert main(["train", "--preset", "plain", "--set", "data.path=nofile.npy",
                 "--out", str(out), *TINY]) == 2
    line = error_line(capsys)
    assert "nofile.npy" in line and "no such file or folder" in line
    assert not out.exists()
    # A sweep refuses it before it plans a run or makes its folder.
    folder = tmp_path / "sweep"
    assert main(["sweep", "--preset", "plain", "--set", "data.path=nofile.npy",
                 "--set", "optim.lr=0.001,0.01", "--out", str(folder), *TINY]) == 2
    assert "nofile.npy" in error_line(capsys) and not folder.exists()


def test_a_source_that_reads_no_file_beside_a_path_is_refused_naming_data_source(
        my_images, tmp_path, capsys):
    assert main(["train", "--preset", "plain", "--set", f"data.path={my_images}",
                 "--set", "data.source=mnist", *TINY]) == 2
    line = error_line(capsys)
    assert "data.source" in line and "data.source=file" in line and "mnist" in line
    # The same from a config file that names a path but keeps the MNIST source.
    cfg = json.loads(plain_config_text(capsys))
    cfg["data"]["path"] = str(my_images)
    config = tmp_path / "mine.json"
    config.write_text(json.dumps(cfg))
    assert main(["train", "--config", str(config), *TINY]) == 2
    line = error_line(capsys)
    assert "data.source" in line and "data.path" in line and str(my_images) in line


def plain_config_text(capsys) -> str:
    """The plain preset's config as the 'config' command prints it."""
    capsys.readouterr()
    assert main(["config", "--preset", "plain"]) == 0
    return capsys.readouterr().out
