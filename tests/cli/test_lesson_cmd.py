"""``python main.py lesson``: the list, a run end to end, kept runs, and clear errors."""

from __future__ import annotations

import json
import os

import pytest

from engine.cli import main as cli_main
from engine.lessons import bundled_folder

from tests.engine.session_support import single_torch_thread


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    """Tiny models on one torch thread (the command keeps a thread count set by the
    environment's OMP_NUM_THREADS)."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    with single_torch_thread():
        yield


def test_list_names_every_lesson(capsys):
    assert cli_main(["lesson", "--list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 13
    assert out[1].split()[:2] == ["2", "identity-risk"]


def test_a_lesson_runs_prints_its_numbers_and_keeps_its_runs(tmp_path, capsys):
    out_dir = tmp_path / "first"
    name = "what-is-an-autoencoder"
    assert cli_main(["lesson", name, "--tiny", "--out", str(out_dir), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "error_last_epoch" in text and "claim held" in text
    assert (out_dir / "undercomplete.h5").is_file()
    assert (out_dir / f"{name}.png").stat().st_size > 1000
    claim = json.loads((out_dir / "claim.json").read_text())
    assert claim["holds"] and claim["values"]["error_last_epoch"] < \
        claim["values"]["error_first_epoch"]
    stamp = (out_dir / "undercomplete.h5").stat().st_mtime_ns
    # the same command again (by number) trains nothing: the run is kept
    assert cli_main(["lesson", "1", "--tiny", "--out", str(out_dir), "--quiet"]) == 0
    again = capsys.readouterr().out
    assert again.count("kept (complete in its session)") == 1
    assert "0 run(s) trained, 1 kept" in again and "error_last_epoch" in again
    assert (out_dir / "undercomplete.h5").stat().st_mtime_ns == stamp


@pytest.mark.parametrize("argv, words", [
    (["lesson", "nope", "--out", "x"], "unknown lesson 'nope'"),
    (["lesson", "sparse"], "--out is needed"),
    (["lesson"], "name a lesson"),
])
def test_bad_input_is_one_line_not_a_traceback(argv, words, capsys):
    assert cli_main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_malformed_lesson_file_is_named(tmp_path, capsys):
    (tmp_path / "broken.json").write_text('{"number": 13, "title": }', encoding="utf-8")
    assert cli_main(["lesson", "--list", "--lessons-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "broken.json: is not valid JSON" in err and "Traceback" not in err


def test_an_out_folder_that_is_a_file_or_cannot_be_written(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert cli_main(["lesson", "sparse", "--tiny", "--out", str(afile)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    if os.geteuid() == 0:
        return   # root writes into read-only folders; the permission check cannot be seen
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert cli_main(["lesson", "sparse", "--tiny", "--out", str(ro / "x")]) == 2
        assert "cannot create the folder" in capsys.readouterr().err
    finally:
        ro.chmod(0o700)


def test_a_teachers_lesson_runs_without_code(tmp_path, capsys):
    data = json.loads((bundled_folder() / "sparse.json").read_text(encoding="utf-8"))
    data.update(number=20, title="Stronger sparsity")
    data["runs"][1]["overrides"]["objective.sparsity"] = 0.2
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "stronger-sparsity.json").write_text(json.dumps(data), encoding="utf-8")
    assert cli_main(["lesson", "--list", "--lessons-dir", str(folder)]) == 0
    assert "stronger-sparsity" in capsys.readouterr().out


#: Trains the first run of lesson 1 (tiny) into DIR and dies, as a SIGKILL would, at its
#: first step: the session exists, marked running, with no epoch and no checkpoint.
KILLED_BEFORE_FIRST_EPOCH = """
import os, sys, time
from pathlib import Path
from engine.events import StepMetrics
from engine.lessons import find_lesson, run_lesson
def die(event):
    if isinstance(event, StepMetrics):
        for _ in range(3000):   # the run's first commit is published on a background thread
            if (Path(sys.argv[1]) / "undercomplete.h5").exists():
                break
            time.sleep(0.01)
        os._exit(9)
run_lesson(find_lesson("1"), sys.argv[1], emit=die, tiny=True)
"""


def test_a_lesson_killed_before_its_first_epoch_is_continued_by_the_same_command(
        tmp_path, capsys):
    """Issue 21, item 15: it said "run 'main' has no checkpoint to resume from", exit 2;
    only --again finished it. A run with no checkpoint is simply trained again."""
    import subprocess
    import sys
    from pathlib import Path

    from engine.session import Session
    out_dir = tmp_path / "killed"
    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, "-c", KILLED_BEFORE_FIRST_EPOCH, str(out_dir)],
                       cwd=root, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(root)})
    assert r.returncode == 9, r.stderr
    with Session.open(out_dir / "undercomplete.h5") as s:
        assert s.run().status == "running" and s.run().checkpoint() is None
    capsys.readouterr()
    assert cli_main(["lesson", "1", "--tiny", "--out", str(out_dir), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "undercomplete: training" in text and "1 run(s) trained, 0 kept" in text
    assert "claim held" in text
    with Session.open(out_dir / "undercomplete.h5") as s:
        run = s.run()
        assert run.status == "completed" and run.epochs_trained == run.config.optim.epochs
        assert run.history["step"][0] == 1     # trained from the start, one history
