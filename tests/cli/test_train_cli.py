"""The headless command line, run as a user would: a subprocess of main.py."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--set", "data.limit=300", "--set", "model.hidden=[32]", "--set", "model.latent_dim=4"]


def main_py(*args, timeout=120):
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_presets_lists_each_with_a_description():
    r = main_py("presets")
    assert r.returncode == 0
    lines = r.stdout.strip().splitlines()
    names = {line.split()[0] for line in lines}
    assert {"plain", "sparse", "contractive", "denoising", "variational", "sprites-vae-2d"} <= names
    assert all(len(line.split(None, 2)) == 3 for line in lines)


def test_train_prints_every_term_per_epoch():
    r = main_py("train", "--preset", "variational", "--epochs", "2", "--seed", "3", *TINY)
    assert r.returncode == 0, r.stderr
    epoch_lines = [line for line in r.stdout.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/2", "2/2"]
    for term in ("total", "recon", "kl", "elbo"):
        assert f" {term} " in epoch_lines[-1]
    assert "| val " in epoch_lines[-1]


def test_sprites_preset_trains():
    r = main_py("train", "--preset", "sprites-vae-2d", "--epochs", "1",
                "--set", "data.n_sprites=300", "--set", "model.hidden=[8,8]")
    assert r.returncode == 0, r.stderr
    assert "epoch 1/1" in r.stdout


def in_process(capsys, *args) -> tuple[int, str]:
    """Exit status and standard error of ``main.py ARGS`` run in this process (argparse's
    refusals raise SystemExit): the refusals below without a torch import each."""
    from main import main
    try:
        code = main(list(args))
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


def test_bad_options_give_one_line_and_exit_2(capsys):
    cases = [
        ("train", "--preset", "nope"),
        ("train", "--epochs", "0"),
        ("train", "--set", "model.latent_dim=9000"),
        ("train", "--device", "cuda:7"),
        ("train", "--set", "data.source=file", "--set", "data.path=/no/such/file.npy"),
        ("train", "--bogus"),
    ]
    for args in cases:
        code, stderr = in_process(capsys, *args)
        assert code == 2, (args, stderr)
        err = stderr.strip().splitlines()
        assert err and err[-1].startswith(("error:", "usage:", "python main.py: error")), (args, err)
        assert "Traceback" not in stderr
    # ... and as a user runs it: one line naming the field, from a process of its own
    r = main_py("train", "--set", "model.latent_dim=9000")
    assert r.returncode == 2
    assert "model.latent_dim" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_diverging_run_exits_1_with_its_remedy():
    r = main_py("train", "--preset", "plain-gaussian", "--epochs", "2", *TINY,
                "--set", "optim.optimizer=sgd", "--set", "optim.lr=5.0",
                "--set", "model.activation=elu")
    assert r.returncode == 1
    assert "non-finite" in r.stderr and "learning rate" in r.stderr


def test_ctrl_c_stops_cleanly_saves_the_run_and_exits_130(tmp_path):
    import signal
    path = tmp_path / "interrupted.h5"
    proc = subprocess.Popen([sys.executable, "main.py", "train", "--preset", "plain", *TINY,
                             "--epochs", "10000", "--quiet", "--out", str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while True:   # wait for an epoch to be reported, then press Ctrl+C
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        if line.startswith("epoch "):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "stopping after this batch" in err and "Traceback" not in err
    assert "stopped at epoch" in out and f"session: {path}" in out
    from engine.session import Session
    with Session.open(path) as s:
        assert s.run().status == "stopped" and s.run().epochs_trained >= 1
