"""sweep end to end (real worker processes), its interruption and resumption, and compare."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.errors import ConfigError
from engine.session import Session
from engine.sweep.index import read_index
from engine.sweep.plan import parse_assignments, plan_runs, split_values
from engine.sweep.runner import threads_per_job
from engine.presets import load_preset

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--device", "cpu", "--set", "data.limit=300", "--set", "data.n_probe=16",
        "--set", "model.hidden=[32]", "--set", "optim.batch_size=64"]


def test_values_split_at_top_level_commas_and_name_the_runs():
    assert split_values("0.5,1,[2,3], 'a,b'") == ["0.5", "1", "[2,3]", "'a,b'"]
    axes, fixed = parse_assignments(["objective.beta=0.5,2", "model.hidden=[64],[32,16]",
                                     "optim.epochs=3"])
    assert fixed == {"optim.epochs": 3}
    runs = plan_runs(load_preset("variational"), axes)
    assert [r.name for r in runs] == ["beta=0.5_hidden=64", "beta=0.5_hidden=32-16",
                                      "beta=2_hidden=64", "beta=2_hidden=32-16"]
    assert runs[1].config.model.hidden == (32, 16) and runs[2].config.objective.beta == 2
    with pytest.raises(ConfigError, match="beta=-1"):
        plan_runs(load_preset("variational"), parse_assignments(["objective.beta=1,-1"])[0])
    with pytest.raises(ConfigError, match="twice"):
        parse_assignments(["objective.beta=1,1"])
    assert threads_per_job(2, cores=2) == 1 and threads_per_job(1, cores=2) == 2
    assert threads_per_job(4, cores=2) == 1


def test_a_sweep_end_to_end_interrupted_and_resumed(tmp_path, capsys):
    """Real processes: the sweep, Ctrl+C, the same command again with --jobs 2, compare."""
    out = tmp_path / "sweep"
    cmd = [sys.executable, "main.py", "sweep", "--preset", "vae-2d", "--set",
           "objective.beta=1,2", "--epochs", "25", "--out", str(out), *TINY]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    lines = []
    for line in proc.stdout:           # wait until the first run has finished an epoch
        lines.append(line)
        if "epoch 2/25" in line:
            break
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    text = "".join(lines) + rest
    assert proc.returncode == 130, text
    assert "interrupted: 0 of 2 runs complete" in text
    index = read_index(out)
    assert index.runs[0].status == "stopped" and index.runs[0].epochs >= 2
    assert index.runs[1].status == "planned" and not (out / index.runs[1].file).exists()
    stopped_at = index.runs[0].epochs
    with Session.open(out / index.runs[0].file) as s:
        before = s.run().history["total"][:stopped_at * 5].copy()
    # Again, with fewer epochs asked for nothing: the same plan continues where it stopped.
    r = subprocess.run(cmd + ["--quiet", "--jobs", "2"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 at a time, 1 torch thread each" in r.stdout
    assert "[1/2] beta=1: completed, 25 epochs" in r.stdout
    assert "[2/2] beta=2: completed, 25 epochs" in r.stdout
    assert "beta=1  train" in r.stdout                      # the summary table
    index = read_index(out)
    assert [(x.status, x.epochs) for x in index.runs] == [("completed", 25), ("completed", 25)]
    with Session.open(out / index.runs[0].file) as s:
        run = s.run()
        steps = run.history["step"]
        assert np.array_equal(steps, np.arange(1, len(steps) + 1))      # no gap, no repeat
        assert list(run.epoch_history["epoch"]) == list(range(1, 26))
        np.testing.assert_array_equal(run.history["total"][:len(before)], before)
    for entry, beta in zip(index.runs, (1, 2)):
        with Session.open(out / entry.file) as s:
            run = s.run()
            assert run.config.objective.beta == beta and run.config.data.limit == 300
            assert entry.final["val"]["total"] == pytest.approx(
                run.epoch_history["val"]["total"][-1])
    # Nothing left to do: a second call trains nothing and says so.
    args = ["sweep", "--preset", "vae-2d", "--set", "objective.beta=1,2", "--epochs", "25",
            "--out", str(out), "--quiet", *TINY]
    assert main(args) == 0
    assert "(2 already done)" in capsys.readouterr().out
    # Another plan in the same folder is refused, naming the way out.
    assert main([*args[:4], "objective.beta=3,4", *args[5:]]) == 2
    assert "--force" in capsys.readouterr().err
    # compare: each run's train and validation rows; the PNG is written.
    png = tmp_path / "cmp.png"
    assert main(["compare", str(out), "--png", str(png)]) == 0
    table = capsys.readouterr().out
    assert "beta=1  train" in table and "val" in table and "kl" in table.splitlines()[0]
    from PIL import Image
    with Image.open(png) as im:
        assert im.width > 800 and im.height > 600


KILLED_WORKER = """
import os, sys, time
from pathlib import Path
from engine.events import StepMetrics
from engine.presets import load_preset
from engine.session import SessionWriter
from engine.sweep.plan import parse_assignments, plan_runs
from engine.trainer import Trainer
folder, over = Path(sys.argv[1]), dict(a.split("=", 1) for a in sys.argv[2:])
base = load_preset("vae-2d").with_overrides({k: eval(v) for k, v in over.items()})
run = plan_runs(base, parse_assignments(["objective.beta=1,2"])[0])[0]
folder.mkdir()
writer = SessionWriter(folder / run.file_name)
def die(event):
    writer(event)
    if isinstance(event, StepMetrics):
        for _ in range(3000):   # the run's first commit is published on a background thread
            if (folder / run.file_name).exists():
                break
            time.sleep(0.01)
        os._exit(9)
Trainer(run.config).run(die)
"""


def test_a_sweep_run_killed_before_its_first_epoch_is_trained_again(tmp_path):
    """Issue 21, item 15 (the sweep side): a run file with no checkpoint is trained anew by
    the same command, not refused."""
    out = tmp_path / "sweep"
    fixed = {"device": "'cpu'", "data.limit": "300", "data.n_probe": "16",
             "model.hidden": "[32]", "optim.batch_size": "64", "optim.epochs": "2"}
    r = subprocess.run([sys.executable, "-c", KILLED_WORKER, str(out),
                        *(f"{k}={v}" for k, v in fixed.items())], cwd=ROOT,
                       capture_output=True, text=True, timeout=300,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 9, r.stderr
    with Session.open(out / "beta=1.h5") as s:
        assert s.run().status == "running" and s.run().checkpoint() is None
    r = subprocess.run([sys.executable, "main.py", "sweep", "--preset", "vae-2d", "--set",
                        "objective.beta=1,2", "--epochs", "2", "--out", str(out), "--quiet",
                        *TINY], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[1/2] beta=1: completed, 2 epochs" in r.stdout
    index = read_index(out)
    assert [(x.status, x.epochs) for x in index.runs] == [("completed", 2), ("completed", 2)]


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")   # an orphan's zombie nobody reaps is dead


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.timeout(400)   # five interpreters start, one after another, on a busy machine
def test_workers_die_with_their_sweep_and_the_same_command_sees_each_file(tmp_path):
    """Issue 21, item 16: killing the sweep's process group (a terminal closing, a job
    scheduler) left its worker training as an orphan; the same command then skipped that
    run ("another process is training it") and sweep.json kept saying 'planned'. Now the
    worker stops with its sweep, keeping its epochs, and the same command continues it."""
    out = tmp_path / "sweep"
    epochs = 8
    cmd = [sys.executable, "main.py", "sweep", "--preset", "vae-2d", "--set",
           "objective.beta=1,2", "--epochs", str(epochs), "--out", str(out), *TINY]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    sweep = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env=env, start_new_session=True)  # its own group
    try:
        for line in sweep.stdout:
            if f"epoch 2/{epochs}" in line:
                break
        workers = _children(sweep.pid)
        assert workers, "no worker process found"
        os.killpg(sweep.pid, signal.SIGKILL)     # what closing the terminal does to a job
        sweep.wait(timeout=30)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    deadline = time.monotonic() + 120
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(_alive, workers))
    with Session.open(out / "beta=1.h5") as s:      # stopped with its sweep, epochs kept
        run = s.run()
        assert run.status == "stopped" and 2 <= run.epochs_trained < epochs
    r = subprocess.run(cmd + ["--quiet"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "another process" not in r.stdout
    assert f"[1/2] beta=1: completed, {epochs} epochs" in r.stdout
    index = read_index(out)
    assert [(x.status, x.epochs) for x in index.runs] == [("completed", epochs)] * 2
    with Session.open(out / "beta=1.h5") as s:
        steps = s.run().history["step"]
        assert np.array_equal(steps, np.arange(1, len(steps) + 1))   # no gap, no repeat


@pytest.mark.skipif(sys.platform.startswith("win"), reason="no flock")
def test_a_run_another_process_holds_is_reported_as_it_is_and_the_sweep_is_not_done(
        tmp_path):
    """The index said 'planned' for a run another process was training, and the sweep
    exited 0. Now the index keeps what the file and the lock say, and the exit code is 1
    (the sweep is not done) until the same command finds the run free."""
    import fcntl

    from engine.sweep.runner import SweepRunner, base_identity, new_index, prepare_folder
    base = load_preset("vae-2d").with_overrides({
        "device": "cpu", "data.limit": 300, "data.n_probe": 16, "model.hidden": [32],
        "optim.batch_size": 64, "optim.epochs": 1})
    axes, _ = parse_assignments(["objective.beta=1,2"])
    runs = plan_runs(base, axes)
    out = tmp_path / "held"

    def sweep(lines):
        index = prepare_folder(out, new_index(base_identity(base), axes, runs), False)
        return SweepRunner(out, index, runs, quiet=True, say=lines.append,
                           lock_wait_s=0.5).run()

    fd = os.open(out.mkdir() or out / ".beta=1.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)          # another process trains beta=1
    try:
        lines = []
        outcome = sweep(lines)
    finally:
        os.close(fd)
    assert outcome.exit_code == 1
    assert any("beta=1: skipped: another process is training it" in x for x in lines), lines
    assert "held by another process (beta=1)" in lines[-1]
    entry = read_index(out).runs[0]
    assert entry.status == "running" and entry.message == "another process is training it"
    assert read_index(out).runs[1].status == "completed"
    lines = []
    assert sweep(lines).exit_code == 0         # free again: the same call finishes it
    assert [r.status for r in read_index(out).runs] == ["completed", "completed"]
