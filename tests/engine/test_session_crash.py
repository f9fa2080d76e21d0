"""Killing the writing process at any moment leaves a session file that opens.

Two tests:

- A real ``python main.py train --out`` subprocess killed with SIGKILL at
  random moments (fixed seed), several times. After each kill the file must
  not exist yet (killed before the first commit) or open and read
  completely, holding every epoch but at most the last one printed.
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
from session_support import Recorder, single_torch_thread, tiny_config, tiny_trainer

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL") or not hasattr(os, "fork"),
                                reason="needs SIGKILL and fork (POSIX)")

# One torch thread: fast epochs, and no thread pool to trip over when forking.
CHILD_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
             "PYTHONPATH": str(ROOT)}


def read_everything(path: Path) -> int:
    """Open and read the whole session; returns the number of completed epochs."""
    with Session.open(path) as s:
        for epoch in s.snapshot_epochs:
            s.snapshot(epoch)
            s.decoder(epoch)
        s.checkpoint()
        return s.epochs_trained


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
    assert max(recorded, default=0) >= 1, "no kill happened after an epoch was recorded"


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
            for e in s.snapshot_epochs:
                s.snapshot(e); s.decoder(e)
            s.checkpoint()
            print(f"{kind}:{n} killed={killed} epochs={s.epochs_trained}", flush=True)
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
