"""export with every target in one call, and its refusals (in-process, as python main.py)."""

from __future__ import annotations

import pytest

from engine.cli import main
from tests.cli.test_session_cli import TINY, one_error_line


@pytest.fixture(scope="module")
def conv_session(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "conv.h5"
    assert main(["train", "--preset", "conv-vae", "--epochs", "2", "--out", str(path),
                 "--set", "model.hidden=[4,8]", *TINY]) == 0
    return path


def test_every_target_in_one_call(conv_session, tmp_path, capsys):
    ort = pytest.importorskip("onnxruntime")
    import numpy as np
    from engine.session import Session
    capsys.readouterr()
    code = main(["export", str(conv_session), "--out", str(tmp_path / "png"), "--gif",
                 str(tmp_path / "l.gif"), "--onnx", str(tmp_path / "decoder.onnx"), "--csv",
                 str(tmp_path / "h.csv"), "--script", str(tmp_path / "run.py"),
                 "--tensorboard", str(tmp_path / "tb"), "--epoch", "1"])
    assert code == 0
    printed = capsys.readouterr().out
    for name in ("epoch0001_reconstructions.png", "l.gif", "decoder.onnx", "encoder.onnx",
                 "h.csv", "run.py", "run_data.pt", "tensorboard --logdir"):
        assert name in printed
    assert (tmp_path / "tb" / "conv").is_dir()
    with Session.open(conv_session) as s:   # a conv decoder, epoch 1's, in onnxruntime
        run = s.run()
        z = np.random.default_rng(1).standard_normal((3, run.config.model.latent_dim))
        got = ort.InferenceSession(str(tmp_path / "decoder.onnx")).run(
            None, {"z": z.astype(np.float32)})[0]
        np.testing.assert_allclose(got, run.decoder(1).decode(z), atol=2e-6)


def test_refusals_name_the_problem(conv_session, tmp_path, capsys):
    capsys.readouterr()
    assert main(["export", str(conv_session)]) == 2
    assert "nothing to export" in one_error_line(capsys)
    assert main(["export", str(conv_session), "--csv", str(tmp_path / "h.csv"),
                 "--epoch", "9"]) == 2
    assert "saved epochs: 1..2" in one_error_line(capsys)
    assert main(["compare", str(tmp_path / "missing.h5")]) == 2
    assert "nothing to compare" in one_error_line(capsys)
    assert main(["sweep", "--preset", "vae-2d", "--set", "objective.beta=1", "--out",
                 str(tmp_path / "s")]) == 2
    assert "sweeps nothing" in one_error_line(capsys)
