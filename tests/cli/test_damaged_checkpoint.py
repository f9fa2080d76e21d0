"""A damaged checkpoint is refused before anything is loaded (issue 21, items 12 and 13).

Every array of a checkpoint is checked against what the model and its optimisers
expect — shape, dtype, finiteness, missing and unexpected keys — so ``resume`` says
which file and which array is wrong, exits 2, and leaves the file as it was (byte for
byte: its run status too); ``info`` shows what it can and names the damage.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from engine.cli import main
from engine.session import Session

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--device", "cpu", "--quiet", "--set", "data.limit=300", "--set", "data.n_probe=16",
        "--set", "model.hidden=[32]", "--set", "optim.batch_size=64"]
CK = "runs/main/checkpoint"
ADAM = f"{CK}/optimizers/model"


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


@pytest.fixture(scope="module")
def vae_session(tmp_path_factory):
    path = tmp_path_factory.mktemp("damaged") / "vae.h5"
    assert main(["train", "--preset", "variational", "--epochs", "1", "--out", str(path),
                 *TINY]) == 0
    return path


def _replace(f: h5py.File, name: str, value) -> None:
    del f[name]
    f[name] = value


def _with_json(f: h5py.File, edit) -> None:
    meta = json.loads(f[CK].attrs["optimizer_json"])
    edit(meta)
    f[CK].attrs["optimizer_json"] = json.dumps(meta)


def _first_weight(f: h5py.File) -> str:
    return f"{CK}/model/" + sorted(f[f"{CK}/model"])[0]


#: name -> (how the file is damaged, words the refusal must hold)
DAMAGES = {
    "a 0-d exp_avg": (lambda f: _replace(f, f"{ADAM}/state/0/exp_avg", np.float32(1.5)),
                      ["model/state/0/exp_avg", "shape ()"]),
    "a missing exp_avg": (lambda f: f.__delitem__(f"{ADAM}/state/3/exp_avg"),
                          ["model/state/3", "exp_avg", "missing"]),
    "an exp_avg_sq with NaN": (
        lambda f: f[f"{ADAM}/state/1/exp_avg_sq"].__setitem__((), np.nan),
        ["model/state/1/exp_avg_sq", "NaN or infinite"]),
    "a float64 exp_avg": (
        lambda f: _replace(f, f"{ADAM}/state/2/exp_avg",
                           f[f"{ADAM}/state/2/exp_avg"][()].astype(np.float64)),
        ["model/state/2/exp_avg", "float64", "float32"]),
    "a step of shape (1,)": (
        lambda f: _replace(f, f"{ADAM}/state/0/step", np.array([8.0], np.float32)),
        ["model/state/0/step", "shape (1,)"]),
    "an unexpected state array": (
        lambda f: f.__setitem__(f"{ADAM}/state/0/momentum", np.zeros(3, np.float32)),
        ["model/state/0/momentum", "unexpected"]),
    "a 0-d weight": (lambda f: _replace(f, _first_weight(f), np.float32(0.5)),
                     ["shape ()"]),
    "an integer weight": (
        lambda f: _replace(f, _first_weight(f), f[_first_weight(f)][()].astype(np.int32)),
        ["int32", "float"]),
    "param_groups of another size": (
        lambda f: _with_json(f, lambda m: m["model"]["param_groups"][0]["params"].pop()),
        ["param_groups", "parameters"]),
}


def damaged_copy(source: Path, target: Path, edit) -> Path:
    shutil.copyfile(source, target)
    with h5py.File(target, "r+") as f:
        edit(f)
    return target


@pytest.mark.parametrize("damage", list(DAMAGES))
def test_resume_refuses_a_damaged_checkpoint_and_leaves_the_file_as_it_was(
        vae_session, tmp_path, capsys, damage):
    edit, words = DAMAGES[damage]
    bad = damaged_copy(vae_session, tmp_path / "bad.h5", edit)
    before = bad.read_bytes()
    capsys.readouterr()
    assert main(["resume", str(bad), "--epochs", "1", "--quiet"]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bad.h5: "), err
    for word in words + ["cannot be resumed"]:
        assert word in lines[0], (word, lines[0])
    assert "epoch 2" not in out                      # refused before any training
    assert bad.read_bytes() == before                # never written: its status unchanged
    # info shows the rest of the file and names the damage, exit 2.
    assert main(["info", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert "epochs:    1 of 1 (completed)" in out and "checkpoint: damaged" in out
    assert err.count("\n") == 1 and words[0] in err
    with Session.open(bad) as s:
        assert s.run().status == "completed"


def test_the_undamaged_session_still_resumes(vae_session, tmp_path, capsys):
    good = tmp_path / "good.h5"
    shutil.copyfile(vae_session, good)
    assert main(["info", str(good)]) == 0
    assert main(["resume", str(good), "--epochs", "1", "--quiet"]) == 0
    with Session.open(good) as s:
        assert s.run().epochs_trained == 2 and s.run().status == "completed"


def test_the_segfault_of_the_issue_is_a_refusal(vae_session, tmp_path):
    """As the fault harness found it: a 0-d exp_avg crashed the fused Adam step (exit 139)
    after the file had been marked as training; now one line, exit 2, the file untouched."""
    bad = damaged_copy(vae_session, tmp_path / "s.h5",
                       lambda f: _replace(f, f"{ADAM}/state/0/exp_avg", np.float32(1.5)))
    before = bad.read_bytes()
    r = subprocess.run([sys.executable, "main.py", "resume", str(bad), "--epochs", "1",
                        "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and "s.h5" in r.stderr and "exp_avg" in r.stderr
    assert "Traceback" not in r.stderr and "diverged" not in r.stdout + r.stderr
    assert bad.read_bytes() == before
