"""The GAN, the RBM, the point sets and the DBN from the command line, as a user runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

from engine.cli import main as cli_main
from engine.session import Session

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--set", "data.limit=300", "--set", "data.n_probe=16", "--quiet"]


def main_py(*args, timeout=180, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def in_process(capsys, *args) -> tuple[int, str, str]:
    """A quick command (info, export, a refused config) without a new interpreter."""
    code = cli_main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_new_presets_are_listed(capsys):
    code, out, _ = in_process(capsys, "presets")
    names = {line.split()[0] for line in out.splitlines()}
    assert code == 0
    assert {"gan", "gan-toy", "vae-toy", "rbm", "rbm-toy", "dbn-pretraining"} <= names


def test_an_rbm_trains_says_how_its_likelihood_is_estimated_and_exports(tmp_path, capsys):
    out = tmp_path / "rbm.h5"
    r = main_py("train", "--preset", "rbm", "--epochs", "2", *TINY, "--set",
                "model.latent_dim=24", "--set", "rbm.ais_steps=50", "--out", str(out))
    assert r.returncode == 0, r.stderr
    code, info, _ = in_process(capsys, "info", str(out))
    assert code == 0 and "bernoulli visible units x 24 hidden units, CD-1" in info
    assert "an AIS estimate (100 runs, 50 temperatures; ±3 standard errors" in info
    assert "nll_ais" in info
    code, _, err = in_process(capsys, "export", str(out), "--out", str(tmp_path / "fig"))
    assert code == 0, err
    assert {p.name for p in (tmp_path / "fig").iterdir()} == {
        "epoch0002_reconstructions.png", "epoch0002_samples.png"}


def test_a_gan_on_two_moons_exports_its_data_space(tmp_path, capsys):
    out = tmp_path / "gan.h5"
    r = main_py("train", "--preset", "gan-toy", "--epochs", "2", "--set", "data.source=moons",
                "--set", "data.n_points=500", "--quiet", "--out", str(out))
    assert r.returncode == 0, r.stderr
    code, info, _ = in_process(capsys, "info", str(out))
    assert "two moons" in info and "d_real" in info
    code, _, err = in_process(capsys, "export", str(out), "--out", str(tmp_path / "fig"))
    assert code == 0, err
    assert [p.name for p in (tmp_path / "fig").iterdir()] == ["epoch0002_data_space.png"]


def test_family_rules_name_the_field_and_exit_2(capsys):
    for args, field in ((["--preset", "rbm", "--set", "model.hidden=[32]"], "model.hidden"),
                        (["--preset", "gan", "--set", "data.source=spiral", "--set",
                          "model.architecture=conv", "--set", "model.hidden=[8]"],
                         "model.architecture"),
                        (["--preset", "rbm", "--set", "objective.likelihood=categorical"],
                         "objective.likelihood"),
                        (["--preset", "gan", "--set", "gan.d_steps=0"], "gan.d_steps")):
        code, _, err = in_process(capsys, "train", *args)
        assert code == 2, (args, err)
        assert field in err and len(err.strip().splitlines()) == 1, err


def test_a_dbn_against_an_autoencoder_stack_and_random(tmp_path, capsys):
    common = ["--stages", "32,16", "--epochs", "1", "--set", "data.limit=300", "--set",
              "data.n_probe=8", "--set", "optim.batch_size=50", "--quiet"]
    # A --set of the rbm section is checked against the RBM stages asked for.
    r = main_py("pretrain", *common, "--set", "rbm.ais_steps=20", "--stage-kind", "rbm",
                "--out", str(tmp_path / "dbn.h5"))
    assert r.returncode == 0, r.stderr
    assert "deep belief network (unrolled into a deep autoencoder) 1x28x28 -> 32-16" in r.stdout
    code, _, err = in_process(capsys, "pretrain", *common, "--out", str(tmp_path / "ae.h5"))
    assert code == 0, err
    table = tmp_path / "table.json"
    code, out, err = in_process(capsys, "finetune", str(tmp_path / "ae.h5"), "--versus",
                                str(tmp_path / "dbn.h5"), "--labels", "50", "--epochs", "1",
                                "--quiet", "--out", str(table))
    assert code == 0, err
    assert "versus the deep belief network 784-32-16, unrolled from dbn.h5" in out
    head = next(line for line in out.splitlines() if line.strip().startswith("labels"))
    assert head.split() == ["labels", "ae-pretrained", "rbm-pretrained", "random",
                            "ae-pretrained", "-", "random", "rbm-pretrained", "-", "random"]
    rows = json.loads(table.read_text())["rows"]
    assert set(rows[0]) >= {"ae-pretrained_accuracy", "rbm-pretrained_accuracy",
                            "random_accuracy"}
    with Session.open(tmp_path / "ae.h5") as s:
        assert {"classifier-ae-pretrained-50", "classifier-rbm-pretrained-50",
                "classifier-random-50"} <= set(s.runs)
    code, _, err = in_process(capsys, "finetune", str(tmp_path / "ae.h5"), "--versus",
                              str(tmp_path / "nope.h5"))
    assert code == 2 and "nope.h5" in err
