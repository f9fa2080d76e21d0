"""``torchrun --nproc_per_node=2 main.py train``: two CPU processes, as a user runs them.

The equality of a two-rank run with a one-process run, and ``resume`` under
two ranks, are checked in tests/engine/test_distributed.py; here the launch
itself: one session, written by rank 0, printed once.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from engine.cli import main as cli_main
from engine.session import Session

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--set", "data.limit=300", "--set", "model.hidden=[16]", "--set", "model.latent_dim=4",
        "--set", "optim.batch_size=64", "--quiet"]


def torchrun(*args, timeout=180):
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                           "--nproc_per_node=2", "main.py", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_torchrun_trains_one_session(tmp_path):
    out = tmp_path / "run.h5"
    r = torchrun("train", "--preset", "plain", "--epochs", "2", *TINY, "--out", str(out))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert sum(line.startswith("training [plain] on cpu") for line in lines) == 1  # rank 0 alone
    assert sum(line.startswith("epoch 2/2") for line in lines) == 1
    assert lines[-1] == f"session: {out}"
    with Session.open(out) as s:
        run = s.run()
        assert run.epochs_trained == 2 and run.status == "completed"
        steps = 2 * -(-270 // 64)   # 270 training images, batches of 64, two epochs
        np.testing.assert_array_equal(run.history["step"], np.arange(1, steps + 1))


def test_other_commands_refuse_to_run_under_torchrun(monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    threads = torch.get_num_threads()  # the command sets them: keep this process's
    try:
        assert cli_main(["pretrain", "--preset", "stacked-pretraining"]) == 2
    finally:
        torch.set_num_threads(threads)
    err = capsys.readouterr().err
    assert "does not run under torchrun" in err and "python main.py pretrain" in err
