"""RBM stages: a deep belief network as greedy pretraining, unrolled into the deep autoencoder;
and the comparison of several pretrained encoders (RBM- vs autoencoder-pretrained vs random)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.config import OptimConfig
from engine.errors import ConfigError
from engine.events import RunStarted
from engine.pretraining import (Comparison, ComparisonTable, EncoderSource, GreedyPretraining,
                                classifier_config, comparison_table, decode_through,
                                encode_through, encoder_source)
from engine.jobs import job_from_session
from engine.session import Session, SessionWriter
from session_support import Recorder, dataset_for, fan_out, tiny_pretraining

RBM_STAGES = {"objective__corruption": "none", "objective__corruption_level": 0.0,
              "pretraining": {"kinds": ["rbm", "rbm"], "end_to_end_epochs": 0},
              "rbm": {"ais_chains": 10, "ais_steps": 50}}


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


@pytest.fixture(scope="module")
def dbn(tmp_path_factory):
    """A 784-32-16 DBN of 2 epochs a stage, recorded in ``job.path``."""
    cfg = tiny_pretraining(epochs=2, stages=(32, 16), **RBM_STAGES)
    job = GreedyPretraining(cfg, dataset_for(cfg))
    job.path = tmp_path_factory.mktemp("dbn") / "dbn.h5"
    rec = Recorder()
    with SessionWriter(job.path) as writer:
        assert job.run(fan_out(rec, writer)) == "completed"
    return job, rec


def test_every_stage_is_an_rbm_on_the_codes_of_the_one_before(dbn):
    job, rec = dbn
    runs = rec.by_run()
    assert list(runs) == ["stage-1", "stage-2", "stack"]
    plan = rec.events[0]
    assert [p.meta.get("kind") for p in plan.runs[:2]] == ["rbm", "rbm"]
    s1, s2 = (runs[f"stage-{k}"][0] for k in (1, 2))
    assert isinstance(s1, RunStarted) and s1.config.model.family == "rbm"
    assert s1.term_names == ("total", "free_energy", "nll_ais")
    assert s2.data.image_shape == (1, 1, 32) and s2.config.objective.likelihood == "bernoulli"
    probe = torch.from_numpy(dataset_for(job.config).images[dataset_for(job.config).probe_idx])
    with torch.no_grad():
        codes = job.stages[0].machine.hidden_probs(probe.flatten(1)).numpy()
    np.testing.assert_allclose(s2.data.probe_images.reshape(len(codes), 32), codes, atol=1e-6)


def test_the_stack_is_the_rbms_unrolled(dbn):
    """Hinton & Salakhutdinov: encoder layers W_k, decoder layers W_kᵀ — the same maps as
    the RBMs' p(h|v) upwards and E[v|h] downwards."""
    job, _ = dbn
    r1, r2 = job.stages
    stack = job.stacked.model
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        up = r2.machine.hidden_probs(r1.machine.hidden_probs(x.flatten(1)))
        down = r1.machine.visible_mean(r2.machine.visible_mean(up)).view(5, 1, 28, 28)
        torch.testing.assert_close(stack.encoder(x, sample=False).h, up, atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(stack.reconstruct(x), down, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(encode_through([r1, r2], x), up)
    torch.testing.assert_close(decode_through([r1, r2], up), down, atol=1e-6, rtol=1e-5)
    assert job.stacked.config.model.family == "autoencoder" and job.stacked.config.rbm is None


def test_the_cli_stage_kind_builds_a_dbn(tmp_path):
    from engine.cli.pretrain_cmd import config_from_pretrain_args
    from engine.cli import build_parser
    args = build_parser().parse_args(["pretrain", "--stages", "64,16", "--stage-kind", "rbm",
                                      "--out", str(tmp_path / "d.h5")])
    cfg = config_from_pretrain_args(args)
    assert cfg.pretraining.kinds == ("rbm", "rbm") and cfg.kinds() == ["deep belief network"]
    args = build_parser().parse_args(["pretrain", "--stage-kind", "rbm+sparse"])
    with pytest.raises(ConfigError) as err:
        config_from_pretrain_args(args)
    assert err.value.field == "--stage-kind[0]"


def test_rbm_versus_autoencoder_versus_random(dbn, tmp_path):
    """Three columns, each run differing from the others only in where its encoder starts."""
    job, _ = dbn
    path = job.path
    ae_cfg = tiny_pretraining(epochs=1, stages=(32, 16), objective__corruption="none",
                              objective__corruption_level=0.0)
    with SessionWriter(tmp_path / "ae.h5") as writer:
        assert GreedyPretraining(ae_cfg, dataset_for(ae_cfg)).run(writer) == "completed"
    with Session.open(path) as s:
        rbm_source = encoder_source(s)
    assert rbm_source.kind == "rbm" and "deep belief network" in rbm_source.description
    with Session.open(tmp_path / "ae.h5") as s:
        ae_source = encoder_source(s)
    assert ae_source.kind == "ae" and "stacked autoencoder" in ae_source.description
    template = classifier_config(rbm_source.config, OptimConfig(epochs=1, batch_size=50),
                                 device="cpu")
    cmp = Comparison([rbm_source, ae_source], [30], template, dataset=dataset_for(job.config))
    assert cmp.columns == ("rbm-pretrained", "ae-pretrained", "random")
    rec = Recorder()
    with SessionWriter(path, append=True) as writer:
        assert cmp.run(fan_out(rec, writer)) == "completed"
    starts = {rid: ev[0] for rid, ev in rec.by_run().items()}
    assert list(starts) == ["classifier-rbm-pretrained-30", "classifier-ae-pretrained-30",
                            "classifier-random-30"]
    assert [e.config.classifier.init for e in starts.values()] == ["pretrained", "pretrained",
                                                                   "random"]
    finals = {rid: ev[-1].final_val for rid, ev in rec.by_run().items()}
    table = ComparisonTable.from_finals(cmp, finals)
    text = table.format()
    assert "rbm-pretrained" in text and "ae-pretrained - random" in text
    with Session.open(path) as s:
        stored = comparison_table(s)
        assert stored.columns == ["rbm-pretrained", "ae-pretrained", "random"]
        for col in stored.columns:
            assert stored.accuracy[col] == table.accuracy[col]
        assert job_from_session(s, "finetune").columns == cmp.columns


def test_encoders_of_other_widths_or_data_are_refused(dbn):
    job, _ = dbn
    a = EncoderSource(state={}, config=job.stacked.config, description="a")
    other = tiny_pretraining(epochs=1, stages=(32, 8))
    b = EncoderSource(state={}, config=other, description="b")
    template = classifier_config(a.config, OptimConfig(epochs=1), device="cpu")
    with pytest.raises(ConfigError, match="the encoders differ") as err:
        Comparison([a, b], [30], template, dataset=dataset_for(job.config))
    assert err.value.field == "--versus"
    c = EncoderSource(state={}, config=job.stacked.config.with_overrides({"seed": 5}),
                      description="c")
    with pytest.raises(ConfigError, match="other data or another split"):
        Comparison([a, c], [30], template, dataset=dataset_for(job.config))
