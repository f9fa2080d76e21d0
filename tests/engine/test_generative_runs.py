"""A GAN and an RBM behave as every run does: seeded CPU runs repeat, a stop mid-epoch then
resume equals the uninterrupted run (the discriminator-step count and the persistent chains
are in the checkpoint), and a process killed with SIGKILL leaves a session that opens and
resumes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.control import TrainingControl
from engine.events import StepMetrics
from engine.session import Session, SessionWriter
from engine.jobs import resume_trainer
from session_support import (Recorder, fan_out, model_arrays, read_everything, tiny_config, tiny_trainer)

ROOT = Path(__file__).resolve().parents[2]
CASES = {
    "gan-k2": {"model.family": "gan", "gan.d_steps": 2, "gan.instance_noise": 0.1,
               "gan.d_dropout": 0.2},
    "rbm-persistent": {"model.family": "rbm", "model.hidden": [], "model.latent_dim": 12,
                       "rbm.persistent": True, "rbm.chains": 16, "rbm.cd_k": 2,
                       "optim.optimizer": "sgd", "optim.lr": 0.05},
}


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def config(case: str, epochs: int = 2):
    return tiny_config("plain", epochs=epochs, model__latent_dim=2).with_overrides(CASES[case])


def steps_of(events) -> list[dict]:
    return [e.terms for e in events if isinstance(e, StepMetrics)]


@pytest.mark.parametrize("case", list(CASES))
def test_seeded_runs_repeat_and_the_seed_matters(case):
    cfg = config(case, epochs=1)
    a, b, c = Recorder(), Recorder(), Recorder()
    tiny_trainer(cfg).run(a)
    tiny_trainer(cfg).run(b)
    tiny_trainer(cfg.with_overrides({"seed": 1})).run(c)
    assert steps_of(a.events) == steps_of(b.events) != steps_of(c.events)


@pytest.mark.parametrize("case", list(CASES))
def test_a_stop_mid_epoch_then_resume_is_the_uninterrupted_run(case, tmp_path):
    cfg = config(case)
    straight = tiny_trainer(cfg)
    straight.run(lambda e: None)
    path = tmp_path / "run.h5"
    control = TrainingControl()

    def stop_at_step_7(event):
        if isinstance(event, StepMetrics) and event.step == 7:   # epoch 2, mid-way
            control.stop()

    with SessionWriter(path) as writer:
        assert tiny_trainer(cfg).run(fan_out(writer, stop_at_step_7), control) == "stopped"
    with Session.open(path) as s:
        ck = s.run().checkpoint()
        assert ck.position > 0
        trainer, until = resume_trainer(s.run(), None, device="cpu")
    with SessionWriter(path, append=True) as writer:
        assert trainer.run(writer, until_epoch=until) == "completed"
    for k, w in model_arrays(straight).items():   # incl. d_updates, chains, updates
        np.testing.assert_array_equal(model_arrays(trainer)[k], w, err_msg=k)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
@pytest.mark.parametrize("preset,extra", [
    ("gan-toy", ["--set", "data.n_points=600"]),
    ("rbm", ["--set", "data.limit=400", "--set", "model.latent_dim=16",
             "--set", "rbm.persistent=true", "--set", "rbm.chains=16"]),
])
def test_sigkill_leaves_a_session_that_opens_and_resumes(preset, extra, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    path = tmp_path / "run.h5"
    cmd = [sys.executable, str(ROOT / "main.py"), "train", "--preset", preset, "--quiet",
           "--device", "cpu", "--epochs", "10000", "--out", str(path), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env, cwd=tmp_path)
    try:
        for line in proc.stdout:   # the writer commits an epoch before its line is printed
            if line.startswith("epoch 2/"):
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    assert read_everything(path) >= 1
    with Session.open(path) as s:          # resumed here: one interpreter start less
        trainer, until = resume_trainer(s.run(), 1, device="cpu")
    with SessionWriter(path, append=True) as writer:
        assert trainer.run(writer, until_epoch=until) == "completed"
    with Session.open(path) as s:
        run = s.run()
        assert run.status == "completed"
        assert run.history["step"].tolist() == list(range(1, run.last_step + 1))
