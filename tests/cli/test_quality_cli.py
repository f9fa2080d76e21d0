"""A GAN's ``info`` reports FID and precision / recall; ``compare`` tables them (in-process CLI)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine.cli import main
from engine.session import Session

SMALL = ["--device", "cpu", "--quiet", "--set", "optim.batch_size=64", "--set",
         "data.n_probe=16"]


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    d = tmp_path_factory.mktemp("quality")
    out = {}
    for name, preset, more in (
            ("gan", "gan", ["--set", "data.limit=400", "--set", "model.hidden=[64]",
                            "--set", "quality_every=1"]),     # images: else every 5th
            ("gan-toy", "gan-toy", ["--set", "data.n_points=600"]),
            ("vae-toy", "vae-toy", ["--set", "data.n_points=600"]),
            ("plain", "plain", ["--set", "data.limit=300", "--set", "model.hidden=[32]"]),
            ("sprites-gan", "gan", ["--set", "data.source=sprites", "--set",
                                    "data.n_sprites=200", "--set", "model.hidden=[32]"])):
        out[name] = d / f"{name}.h5"
        assert main(["train", "--preset", preset, "--epochs", "2", "--out", str(out[name]),
                     *SMALL, *more]) == 0
    return out


def _quality_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.startswith("quality:")]
    assert len(lines) == 1, text
    return lines[0]


def test_a_gans_info_reports_fid_precision_and_recall_of_its_last_epoch(sessions, capsys):
    capsys.readouterr()
    assert main(["info", str(sessions["gan"])]) == 0
    out = capsys.readouterr().out
    line = _quality_line(out)
    m = re.search(r"epoch 2: FID ([\d.e+-]+) \(real images: ([\d.e+-]+)\), precision "
                  r"([\d.]+) \(([\d.]+)\), recall ([\d.]+) \(([\d.]+)\)", line)
    assert m, line
    with Session.open(sessions["gan"]) as s:
        fid, precision, recall = s.run().snapshot(2).arrays["sample_quality"]
        real = s.run().snapshot(2).arrays["sample_quality_real"]
    assert m.group(1) == f"{float(fid):.3g}" and m.group(2) == f"{float(real[0]):.3g}"
    assert m.group(3) == f"{float(precision):.2f}" and m.group(5) == f"{float(recall):.2f}"
    assert float(m.group(2)) < float(m.group(1))     # two epochs: far from real digits
    assert "not FID figures computed with Inception features" in out


def test_info_of_points_says_data_space_and_of_other_runs_why_not(sessions, capsys):
    capsys.readouterr()
    main(["info", str(sessions["gan-toy"])])
    out = capsys.readouterr().out
    assert "measured:  in data space" in out
    assert "(real points: " in _quality_line(out) and "real training points" in out
    main(["info", str(sessions["sprites-gan"])])
    line = _quality_line(capsys.readouterr().out)
    assert "not available" in line and "sprites are not digits" in line
    main(["info", str(sessions["plain"])])
    assert "quality:" not in capsys.readouterr().out     # no samples: nothing to say


def test_compare_tables_the_sample_quality_of_each_run(sessions, capsys, tmp_path):
    capsys.readouterr()
    assert main(["compare", str(sessions["gan-toy"]), str(sessions["vae-toy"]),
                 str(sessions["plain"]), "--no-png"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("sample quality at each run's last epoch"):]
    rows = {ln.split()[0]: ln.split() for ln in table.splitlines()[3:6]}
    assert set(rows) == {"gan-toy", "vae-toy", "plain"}
    for name in ("gan-toy", "vae-toy"):
        with Session.open(sessions[name]) as s:
            want = s.run().snapshot(2).arrays["sample_quality"]
        epoch, fid, p, r = rows[name][1:5]
        assert epoch == "2" and rows[name][5:] == ["data", "space"]
        np.testing.assert_allclose([float(fid), float(p), float(r)], want, rtol=2e-3,
                                   atol=6e-4)
    assert rows["plain"][-2:] == ["not", "available"]
