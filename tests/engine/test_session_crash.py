"""Killing the writing process at any moment leaves a session file that opens.

Three tests:

- A real ``python main.py train --out`` subprocess killed with SIGKILL at
  random moments (fixed seed), several times. After each kill the file must
  not exist yet (killed before the first commit) or open and read
  completely, holding every epoch but at most the last one printed.
- A real ``python main.py pretrain --out`` (a job of several runs) killed
  with SIGKILL while its second stage trains: the file opens and reads, and
  ``python main.py resume`` completes the job in the same file without
  retraining the first stage.
- Kills at exact moments inside commits: a helper process records a run's
  events once, then for each kill point forks a child that replays them
  into a SessionWriter and SIGKILLs itself at the n-th HDF5 write, catch-up
  write, fsync, link or rename. The helper reopens the file after each.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from engine.session import Session
from engine.session.writer import CHECKPOINT_SECONDS
from session_support import (Recorder, histories_equal, read_everything, single_torch_thread,
                             tiny_config, tiny_trainer)

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL") or not hasattr(os, "fork"),
                                reason="needs SIGKILL and fork (POSIX)")

# One torch thread: fast epochs, and no thread pool to trip over when forking.
CHILD_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "PYTHONPATH": str(ROOT)}


def test_sigkill_of_a_training_process_never_corrupts_the_session(tmp_path):
    rng = np.random.default_rng(7)
    recorded = []
    for i, delay in enumerate([None, *rng.uniform(0.05, 1.2, size=3)]):
        path = tmp_path / f"run{i}.h5"
        cmd = [sys.executable, str(ROOT / "main.py"), "train", "--quiet", "--device", "cpu",
               "--set", "data.limit=500", "--set", "data.n_probe=16",
               "--set", "optim.batch_size=64", "--epochs", "10000", "--out", str(path)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True, env=CHILD_ENV, cwd=tmp_path)
        lines = []
        if delay is None:  # early: while it starts up or trains its first epoch
            time.sleep(float(rng.uniform(1.0, 3.0)))
        else:
            lines.append(proc.stdout.readline())  # "training [...]": the run has started
            time.sleep(float(delay))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        lines += out.splitlines()
        printed = [int(line.split()[1].split("/")[0]) for line in lines
                   if line.startswith("epoch ")]
        if not path.exists():
            assert not printed, f"kill {i}: epochs were reported but no file exists"
            continue
        epochs = read_everything(path)
        recorded.append(epochs)
        if printed:
            assert epochs >= printed[-1] - 1, f"kill {i}: printed {printed[-1]}, file {epochs}"
        with Session.open(path) as s:   # a resume starts from the last checkpoint...
            run = s.run()
            ck = run.checkpoint()
            walls = np.concatenate([[0.0], run.epoch_history["wall_time"]])
        # ...which is at most the larger of one epoch and about 30 s of training behind.
        lost = walls[-1] - (ck.wall_time if ck is not None else 0.0)
        assert lost <= max(CHECKPOINT_SECONDS, np.diff(walls).max(initial=0)) + 2, f"kill {i}"
        assert ck is None or ck.epoch <= epochs
        last = path
    assert max(recorded, default=0) >= 1, "no kill happened after an epoch was recorded"
    # The killed file resumes (from its checkpoint, or from the start without one).
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "resume", str(last),
                           "--epochs", "1", "--quiet"], capture_output=True, text=True,
                          env=CHILD_ENV, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with Session.open(last) as s:
        assert s.run().status == "completed" and s.run().checkpoint() is not None


def test_sigkill_during_pretraining_then_resume_completes_the_job(tmp_path):
    path = tmp_path / "stack.h5"
    epochs, e2e = 12, 1
    cmd = [sys.executable, str(ROOT / "main.py"), "pretrain", "--quiet", "--device", "cpu",
           "--set", "data.limit=300", "--set", "data.n_probe=8", "--set", "optim.batch_size=50",
           "--stages", "32,16", "--epochs", str(epochs), "--end-to-end-epochs", str(e2e),
           "--out", str(path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=CHILD_ENV, cwd=tmp_path)
    lines, in_stage_2, stage_2_epochs = [], False, 0
    try:
        for line in proc.stdout:  # wait until stage 2 is a few epochs in
            lines.append(line)
            in_stage_2 = in_stage_2 or line.startswith("[2/3]")
            stage_2_epochs += in_stage_2 and line.strip().startswith("epoch ")
            if stage_2_epochs >= 3:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert any(x.startswith("[2/3]") for x in lines), "".join(lines)
    read_everything(path)
    with Session.open(path) as s:
        assert list(s.runs) == ["stage-1", "stage-2"] and set(s.jobs) == {"pretrain"}
        first = s.runs["stage-1"]
        assert first.status == "completed" and first.epochs_trained == epochs
        second = s.runs["stage-2"]
        # the writer commits before the line is printed: epochs 1-2 are on disk
        assert second.status == "running" and 2 <= second.epochs_trained < epochs
        first_checkpoint = first.checkpoint()
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "resume", str(path),
                           "--quiet"], capture_output=True, text=True, env=CHILD_ENV,
                          cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[1/3]" not in done.stdout and "[2/3]" in done.stdout and "[3/3]" in done.stdout
    read_everything(path)
    with Session.open(path) as s:
        assert list(s.runs) == ["stage-1", "stage-2", "stack"] and s.primary == "stack"
        assert all(r.status == "completed" for r in s.runs.values())
        # Stage 1 was not retrained: the same history and the same final state.
        histories_equal(first, s.runs["stage-1"], skip=())
        ck = s.runs["stage-1"].checkpoint()
        assert ck.wall_time == first_checkpoint.wall_time
        for k, v in first_checkpoint.model.items():
            np.testing.assert_array_equal(ck.model[k], v)
        for run_id, n in (("stage-1", epochs), ("stage-2", epochs), ("stack", e2e)):
            run = s.runs[run_id]
            assert run.epochs_trained == n and run.snapshot_epochs == list(range(1, n + 1))
            # one row per step, contiguous across the kill (steps past the checkpoint retrained)
            assert run.history["step"].tolist() == list(range(1, n * 6 + 1))


CHILD = textwrap.dedent("""
    import os, pickle, signal, sys
    from pathlib import Path
    import numpy as np
    from engine.session import Session, SessionWriter, atomic

    events = pickle.loads(Path(sys.argv[1]).read_bytes())
    folder = Path(sys.argv[2])
    points = [(kind, int(n)) for kind, n in (p.split(":") for p in sys.argv[3:])]

    def arm(kind, n):
        count = [0]
        def hit():
            count[0] += 1
            if count[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
        def wrap(owner, name):
            real = getattr(owner, name)
            def wrapped(*a, **k):
                hit()
                return real(*a, **k)
            setattr(owner, name, wrapped)
        if kind == "write":
            wrap(atomic._RecordingFile, "write")
        else:  # os.pwrite (catch-up), os.fsync, os.link, os.replace
            wrap(atomic.os, kind)

    for i, (kind, n) in enumerate(points):
        path = folder / f"kill{i}.h5"
        pid = os.fork()
        if pid == 0:
            arm(kind, n)
            with SessionWriter(path) as writer:
                for e in events:
                    writer(e)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status)
        if not path.exists():
            print(f"{kind}:{n} killed={killed} absent", flush=True)
            continue
        with Session.open(path) as s:
            run = s.run()
            for e in run.snapshot_epochs:
                run.snapshot(e); run.decoder(e)
            run.checkpoint()
            print(f"{kind}:{n} killed={killed} epochs={run.epochs_trained}", flush=True)
        SessionWriter(path, append=True).close()  # leftovers do not stop a resume
""")


def test_kills_at_exact_moments_inside_commits(tmp_path):
    with single_torch_thread():
        trainer = tiny_trainer(tiny_config(epochs=3))
        rec = Recorder()
        trainer.run(rec)
    events = tmp_path / "events.pickle"
    events.write_bytes(pickle.dumps(rec.events))
    # About 130 HDF5 writes per epoch's commit: these points fall in every commit.
    points = ([f"write:{n}" for n in (1, 5, 20, 40, 90, 170, 260, 330, 400, 480)]
              + [f"pwrite:{n}" for n in (1, 10, 40)]
              + [f"fsync:{n}" for n in (1, 2, 4)]
              + [f"link:{n}" for n in (1, 2)]
              + [f"replace:{n}" for n in (1, 2, 3, 4, 6)])
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    done = subprocess.run([sys.executable, str(script), str(events), str(tmp_path), *points],
                          capture_output=True, text=True, env=CHILD_ENV, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    results = done.stdout.splitlines()
    assert len(results) == len(points), done.stdout + done.stderr[-2000:]
    killed = [r for r in results if "killed=True" in r]
    assert len(killed) >= len(points) // 2, results  # the kill points were really reached
    assert any("epochs=" in r for r in killed), results
