"""The research measures through the command line: a sprites VAE's ``info`` reports MIG, DCI
and the mutual information, ``export --traversals`` writes the grid and its GIF, and a
model without codes of the data or without factors reports none."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from engine.analysis.dci import dci
from engine.analysis.disentanglement import mig
from engine.analysis.mutual_information import mutual_information
from engine.cli import main
from engine.export.research_summary import final_measures
from engine.session import Session

SPRITES = ["--device", "cpu", "--quiet", "--set", "data.n_sprites=600",
           "--set", "data.n_probe=8", "--set", "model.hidden=[64]",
           "--set", "model.latent_dim=4", "--set", "optim.batch_size=64"]


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


@pytest.fixture(scope="module")
def sprites_vae(tmp_path_factory):
    path = tmp_path_factory.mktemp("research") / "sprites.h5"
    assert main(["train", "--preset", "sprites-vae-2d", "--epochs", "3", "--out", str(path),
                 *SPRITES]) == 0
    return path


def test_info_of_a_sprites_vae_reports_mig_dci_and_the_mutual_information(sprites_vae,
                                                                          capsys):
    capsys.readouterr()
    assert main(["info", str(sprites_vae)]) == 0
    out = capsys.readouterr().out
    mi = re.search(r"mutual information: I\(x; z\) = ([\d.]+) nats", out)
    mig_line = re.search(r"MIG ([\d.]+)  DCI disentanglement ([\d.]+), completeness "
                         r"([\d.]+), informativeness ([\d.]+)  FactorVAE score ([\d.]+)", out)
    assert mi and mig_line, out
    assert "disentanglement at epoch 3 (shape, scale, rotation, x, y; 60 validation" in out
    # the printed numbers are those of the stored codes, recomputed here
    with Session.open(sprites_vae) as s:
        run = s.run()
        arrays = run.snapshot(3).arrays
        factors = run.data.map_factors
    codes = np.asarray(arrays["map_latents"], np.float64)
    logvar = np.asarray(arrays["map_latent_logvar"], np.float64)
    seed = 0
    assert float(mi.group(1)) == pytest.approx(mutual_information(codes, logvar, seed), abs=0.02)
    assert float(mig_line.group(1)) == pytest.approx(mig(codes, factors)[0], abs=0.01)
    d = dci(codes, factors, seed=seed)
    assert float(mig_line.group(4)) == pytest.approx(d.informativeness, abs=0.02)
    # between two scorings the scores are NaN, and the summary reads the last scored epoch
    with Session.open(sprites_vae) as s:
        run = s.run()
        assert np.all(np.isnan(run.snapshot(2).arrays["disentanglement"]))
        assert final_measures(run)["scored_epoch"] == 3


def test_export_traversals_writes_the_grid_and_the_animation(sprites_vae, tmp_path, capsys):
    out = tmp_path / "trav.png"
    assert main(["export", str(sprites_vae), "--traversals", str(out), "--epoch", "2",
                 "--traversal-image", "1"]) == 0
    png, gif = Image.open(out), Image.open(out.with_suffix(".gif"))
    assert gif.n_frames == 2 * 9 - 2
    # four rows of 32-px sprites at twice the size, below a two-line header
    assert png.height > 4 * 64 and png.width > 9 * 64
    # again without --force: refused, nothing replaced
    before = out.read_bytes()
    assert main(["export", str(sprites_vae), "--traversals", str(out)]) == 2
    assert "--force" in capsys.readouterr().err and out.read_bytes() == before
    assert main(["export", str(sprites_vae), "--traversals", str(tmp_path / "p.gif"),
                 "--traversal-range", "posterior"]) == 0
    assert not (tmp_path / "p.png").exists() and (tmp_path / "p.gif").is_file()


def test_models_without_codes_or_factors_report_what_they_have(tmp_path, capsys):
    plain = tmp_path / "plain.h5"
    assert main(["train", "--preset", "sprites-vae-2d", "--epochs", "1", "--out", str(plain),
                 "--set", "model.variational=false", *SPRITES]) == 0
    digits = tmp_path / "digits.h5"
    assert main(["train", "--preset", "vae-2d", "--epochs", "1", "--out", str(digits),
                 "--device", "cpu", "--quiet", "--set", "data.limit=200",
                 "--set", "model.hidden=[32]"]) == 0
    gan = tmp_path / "gan.h5"
    assert main(["train", "--preset", "gan-toy", "--epochs", "1", "--out", str(gan),
                 "--device", "cpu", "--quiet", "--set", "data.n_points=300"]) == 0
    capsys.readouterr()
    main(["info", str(plain)])
    out = capsys.readouterr().out
    assert "MIG" in out and "mutual information" not in out     # no posterior: no I(x; z)
    main(["info", str(digits)])
    out = capsys.readouterr().out
    assert "mutual information" in out and "MIG" not in out     # digits have no factors
    main(["info", str(gan)])
    out = capsys.readouterr().out
    assert "MIG" not in out and "mutual information" not in out
    assert main(["export", str(gan), "--traversals", str(tmp_path / "g.png")]) == 2
    assert "no encoder" in capsys.readouterr().err
