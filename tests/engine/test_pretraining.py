"""Greedy layer-wise pretraining, its configs, the label budgets and the comparison."""

import json

import numpy as np
import pytest
import torch

from engine.checkpoint import module_arrays
from engine.config import OptimConfig, RunConfig
from engine.data.labels import ALL, labelled_subset, parse_budgets, resolve_budget
from engine.errors import ConfigError, SessionError
from engine.events import (EpochEnded, EpochSnapshot, JobStarted, RunFinished, RunOpened,
                           RunStarted, StepMetrics)
from engine.models import build_model
from engine.presets import load_preset
from engine.pretraining import (Comparison, ComparisonTable, EncoderSource, GreedyPretraining,
                                assemble_stacked, classifier_config, comparison_table,
                                decode_through, encode_through, encoder_source,
                                first_layer_features, stack_config, stage_config,
                                stage_objective)
from engine.pretraining.stages import code_likelihood, stage_widths
from engine.session import Session, SessionWriter
from session_support import (Recorder, dataset_for, fan_out,
                             tiny_pretraining, tiny_trainer)

# No corruption: a stage's encoder inputs are then exactly the codes of the one before.
CLEAN = {"objective__corruption": "none", "objective__corruption_level": 0.0}


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


@pytest.fixture(scope="module")
def mnist300():
    return dataset_for(tiny_pretraining())


@pytest.fixture(scope="module")
def pretrained(mnist300):
    """A finished 784-32-16 greedy job (2 epochs a stage, the stack as assembled)."""
    cfg = tiny_pretraining(epochs=2, stages=(32, 16), **CLEAN)
    p = GreedyPretraining(cfg, mnist300)
    rec = Recorder()
    seen = {}  # what stage 1's weights were when stage 2 began and when it ended

    def emit(event):
        rec(event)
        if isinstance(event, RunOpened) and event.run_id == "stage-2":
            seen["stage-2 opened"] = module_arrays(p.stages[0])
        if isinstance(event, RunOpened) and event.run_id == "stack":
            seen["stack opened"] = module_arrays(p.stages[0])
            seen["stack initial"] = module_arrays(p.stacked.model)

    assert p.run(emit) == "completed"
    return p, rec, seen


# -- greedy stacking ---------------------------------------------------------------

def test_stage_input_is_the_frozen_output_of_the_earlier_stages(pretrained, mnist300):
    p, rec, seen = pretrained
    stage1, stage2 = p.stages
    # Stage 1 did not change while stage 2 trained...
    for name, before in seen["stage-2 opened"].items():
        np.testing.assert_array_equal(before, seen["stack opened"][name], err_msg=name)
    # ...while stage 2 did train (so the comparison above could have failed).
    with torch.random.fork_rng(devices=[]):  # stage 2's initial weights, as its trainer drew them
        torch.manual_seed(p.config.seed)
        initial = build_model(stage_config(p.config, 2), (1, 1, 32))
    assert not np.allclose(initial.encoder.body.head.weight.detach().numpy(),
                           stage2.encoder.body.head.weight.detach().numpy())
    # Stage 2's images are stage 1's codes of the same images, with the same split.
    events = rec.by_run()
    start2 = events["stage-2"][0]
    assert isinstance(start2, RunStarted) and start2.data.image_shape == (1, 1, 32)
    probe = torch.from_numpy(mnist300.images[mnist300.probe_idx])
    with torch.no_grad():
        codes = stage1.encoder(probe, sample=False).h.numpy()
    assert start2.data.probe_images.shape == (8, 1, 1, 32)
    np.testing.assert_allclose(start2.data.probe_images.reshape(8, 32), codes, atol=1e-6)
    assert (start2.data.n_train, start2.data.n_val) == (mnist300.n_train, mnist300.n_val)
    np.testing.assert_array_equal(start2.data.probe_labels, mnist300.labels[mnist300.probe_idx])
    snap2 = [e for e in events["stage-2"] if isinstance(e, EpochSnapshot)][-1]
    np.testing.assert_allclose(snap2.images["probe_inputs"].reshape(8, 32), codes, atol=1e-6)


def test_stacked_encoder_is_the_composition_of_the_stage_encoders(pretrained):
    p, _, seen = pretrained
    s1, s2 = p.stages
    stacked = p.stacked.model
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        by_hand = s2.encoder(s1.encoder(x, sample=False).h, sample=False).h
        code = stacked.encoder(x, sample=False).h
    torch.testing.assert_close(code, by_hand, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(encode_through([s1, s2], x), by_hand)
    # With sigmoid codes (Bernoulli stages) the mirrored decoder is exact too.
    torch.testing.assert_close(stacked.reconstruct(x), decode_through([s1, s2], by_hand),
                               atol=1e-6, rtol=1e-5)
    # The stack's run starts from exactly the assembled layers, and (0 end-to-end epochs)
    # keeps them.
    assembled = module_arrays(assemble_stacked(stack_config(p.config), [s1, s2]))
    for k, v in assembled.items():
        np.testing.assert_array_equal(seen["stack initial"][k], v, err_msg=k)
        np.testing.assert_array_equal(module_arrays(stacked)[k], v, err_msg=k)


def test_the_job_plan_and_each_runs_events(pretrained):
    p, rec, _ = pretrained
    job = rec.events[0]
    assert isinstance(job, JobStarted) and (job.job_id, job.kind) == ("pretrain", "pretrain")
    assert RunConfig.from_json(job.spec_json) == p.config
    assert [r.run_id for r in job.runs] == ["stage-1", "stage-2", "stack"]
    assert [r.role for r in job.runs] == ["stage", "stage", "stack"]
    meta2 = job.runs[1].meta
    assert (meta2["input_dim"], meta2["width"], meta2["likelihood"]) == (32, 16, "bernoulli")
    assert [e.run_id for e in rec.of(RunOpened)] == ["stage-1", "stage-2", "stack"]
    by_run = rec.by_run()
    for run_id in ("stage-1", "stage-2"):
        events = by_run[run_id]
        assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
        # Steps and epochs count per run, from 1.
        assert [e.step for e in events if isinstance(e, StepMetrics)] == list(range(1, 13))
        assert [e.epoch for e in events if isinstance(e, EpochEnded)] == [1, 2]
        snaps = [e for e in events if isinstance(e, EpochSnapshot)]
        assert [s.epoch for s in snaps] == [1, 2]
        assert all(s.images["stack_recon"].shape == (8, 1, 28, 28) for s in snaps)
    train1 = [e for e in by_run["stage-1"] if isinstance(e, EpochEnded)][-1].train["recon"]
    train2 = [e for e in by_run["stage-2"] if isinstance(e, EpochEnded)][-1].train["recon"]
    assert train1 != train2
    # The last stack reconstruction of stage k is the probe through stages 1..k and back.
    probe = torch.from_numpy(by_run["stage-1"][0].data.probe_images)
    for k, run_id in ((1, "stage-1"), (2, "stage-2")):
        last = [e for e in by_run[run_id] if isinstance(e, EpochSnapshot)][-1]
        stages = p.stages[:k]
        want = decode_through(stages, encode_through(stages, probe)).numpy()
        np.testing.assert_allclose(last.images["stack_recon"], want, atol=1e-6)
    # The stack kept as assembled: a run of no epochs, still with its checkpoint.
    stack = by_run["stack"]
    assert [type(e).__name__ for e in stack] == ["RunStarted", "CheckpointSaved", "RunFinished"]


def test_first_layer_features_are_the_first_stage_weights(pretrained):
    p, _, _ = pretrained
    state = module_arrays(p.stacked.model)
    features = first_layer_features(state, (1, 28, 28))
    assert features.shape == (32, 1, 28, 28) and features.dtype == np.float32
    w = p.stages[0].encoder.body.head.weight.detach().numpy()
    np.testing.assert_array_equal(features.reshape(32, 784), w)
    # A conv encoder's first layer is no picture of the pixels, even when its linear head
    # happens to read as many features as there are pixels (4x14x14 = 16x7x7 = 784).
    for channels in ([4], [8, 16], [32]):
        conv = RunConfig().with_overrides({"model.architecture": "conv",
                                           "model.hidden": channels})
        state = module_arrays(build_model(conv, (1, 28, 28)))
        assert first_layer_features(state, (1, 28, 28)) is None, channels


def test_end_to_end_finetuning_starts_from_the_stack(mnist300):
    cfg = tiny_pretraining(epochs=1, stages=(16, 8), end_to_end_epochs=1, **CLEAN)
    p = GreedyPretraining(cfg, mnist300)
    rec = Recorder()
    initial = {}

    def emit(event):
        rec(event)
        if isinstance(event, RunOpened) and event.run_id == "stack":
            initial.update(module_arrays(p.stacked.model))

    assert p.run(emit) == "completed"
    start = rec.by_run()["stack"][0]
    assert start.config == stack_config(cfg) and start.config.model.hidden == (16,)
    assert start.config.pretraining is None and start.total_epochs == 1
    assembled = module_arrays(assemble_stacked(stack_config(cfg), p.stages))
    for k, v in assembled.items():
        np.testing.assert_array_equal(initial[k], v, err_msg=k)
    ends = [e for e in rec.by_run()["stack"] if isinstance(e, EpochEnded)]
    assert [e.epoch for e in ends] == [1]
    # The stacked model moved away from the greedy weights during the end-to-end pass.
    greedy = p.stages[0].encoder.body.head.weight.detach()
    assert not torch.allclose(p.stacked.model.encoder.body.body[1].weight, greedy.cpu())


# -- config --------------------------------------------------------------------------

@pytest.mark.parametrize("change,field", [
    ({"model.hidden": [0]}, "model.hidden[0]"),
    ({"model.hidden": [600]}, "model.hidden[0]"),
    ({"model.hidden": [8, 8, 8, 8, 8, 8]}, "model.hidden"),
    ({"pretraining.kinds": ["plain"]}, "pretraining.kinds"),
    ({"pretraining.kinds": ["sparse", "plain"]}, "pretraining.kinds[0]"),
    ({"pretraining.kinds": ["plain", "fancy"]}, "pretraining.kinds[1]"),
    ({"pretraining.kinds": ["plain", "shared+sparse"]}, "pretraining.kinds[1]"),
    ({"model.code_activation": "linear"}, "model.code_activation"),
    ({"model.activation": "relu"}, "model.activation"),
    ({"model.variational": True}, "model.variational"),
    ({"model.architecture": "conv"}, "model.architecture"),
    ({"model.family": "classifier"}, "model.family"),
    ({"optim.epochs": 0}, "optim.epochs"),
    ({"pretraining.end_to_end_epochs": -1}, "pretraining.end_to_end_epochs"),
])
def test_invalid_pretrain_settings_name_the_field(change, field):
    with pytest.raises(ConfigError) as err:
        tiny_pretraining(stages=(8, 4)).with_overrides(change)
    assert err.value.field == field, str(err.value)


def test_tanh_codes_refuse_clipping_noise_in_later_stages():
    tanh = {"model.activation": "tanh", "model.code_activation": "tanh"}
    with pytest.raises(ConfigError) as err:
        tiny_pretraining(stages=(8, 4)).with_overrides(
            {**tanh, "objective.corruption": "gaussian", "objective.corruption_level": 0.1})
    assert err.value.field == "pretraining.kinds[1]" and "masking" in err.value.problem
    ok = tiny_pretraining(stages=(8, 4)).with_overrides(tanh)  # the preset masks: fits tanh
    assert stage_config(ok, 1).objective.likelihood == "bernoulli"  # pixels
    assert stage_config(ok, 2).objective.likelihood == "gaussian" == code_likelihood("tanh")
    sig = tiny_pretraining(stages=(8, 4))
    assert stage_config(sig, 2).objective.likelihood == "bernoulli" == code_likelihood("sigmoid")


def test_the_preset_round_trips_and_bad_sections_name_the_field():
    run = load_preset("stacked-pretraining")
    assert run.kinds()[0] == "stacked"
    assert stage_widths(run) == (256, 64) and run.model.code_activation == "sigmoid"
    assert run.pretraining.stage_kind(1) == "denoising"
    d = run.to_dict()
    assert RunConfig.from_dict(json.loads(json.dumps(d))).to_dict() == d
    assert "pretraining" not in RunConfig().to_dict()  # ordinary configs unchanged
    for over, field in [({"model.activation": "relu"}, "model.activation"),
                        ({"pretraining": {"bogus": 1}}, ""),
                        ({"pretraining": {"kinds": ["plain"]}}, "pretraining.kinds")]:
        with pytest.raises(ConfigError) as err:
            run.with_overrides(over)
        assert err.value.field == field
        if not field:
            assert "unknown config field 'pretraining.bogus'" in str(err.value)


def test_stage_kinds_select_the_shared_regularisers():
    cfg = tiny_pretraining(stages=(8, 4), objective__sparsity=0.1,
                           objective__corruption="masking", objective__corruption_level=0.2,
                           pretraining__kinds=["denoising", "sparse"],
                           pretraining__end_to_end_epochs=3)
    o1, o2 = stage_objective(cfg, 1), stage_objective(cfg, 2)
    assert (o1.corruption, o1.corruption_level, o1.sparsity) == ("masking", 0.2, 0.0)
    assert (o2.corruption, o2.corruption_level, o2.sparsity) == ("none", 0.0, 0.1)
    s1 = stage_config(cfg, 1)
    assert s1.kinds() == ["denoising"] and s1.pretraining is None
    assert (s1.model.hidden, s1.model.latent_dim) == ((), 8)
    assert stage_config(cfg, 2).model.latent_dim == 4
    assert s1.optim == cfg.optim  # each stage trains optim.epochs
    # "shared" (the default) keeps every regulariser the objective sets.
    shared = cfg.with_overrides({"pretraining.kinds": []})
    assert stage_objective(shared, 2).sparsity == 0.1
    assert stage_objective(shared, 2).corruption == "masking"
    # The stack's own run: the whole MLP with every shared regulariser, finetune epochs.
    stack = stack_config(cfg)
    assert stack.model == cfg.model and stack.objective == cfg.objective
    assert stack.optim.epochs == 3 and stack.pretraining is None


# -- label budgets ---------------------------------------------------------------------

def test_label_subsets_are_class_balanced_nested_and_seeded():
    labels = np.repeat(np.arange(10), 60)
    labels[:57] = 9  # class 0 keeps only 3 images
    train_idx = np.arange(0, 600, 1)
    a = labelled_subset(labels, train_idx, 100, seed=1)
    assert len(a) == 100 and len(set(a)) == 100 and set(a) <= set(train_idx)
    counts = np.bincount(labels[a], minlength=10)
    assert counts[0] == 3 and counts[1:].min() >= 10 and counts.max() - counts[1:].min() <= 1
    b = labelled_subset(labels, train_idx, 100, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, labelled_subset(labels, train_idx, 100, seed=2))
    assert set(a) <= set(labelled_subset(labels, train_idx, 300, seed=1))
    balanced = np.repeat(np.arange(10), 60)
    even = np.bincount(balanced[labelled_subset(balanced, train_idx, 105, 0)])
    assert sorted(even) == [10] * 5 + [11] * 5


def test_budgets_parse_and_resolve_with_errors_naming_the_option():
    assert parse_budgets("100, 1000,all") == [100, 1000, ALL]
    for bad in ("0", "ten", "5,-1", ""):
        with pytest.raises(ConfigError) as err:
            parse_budgets(bad)
        assert err.value.field == "--labels"
    assert resolve_budget(ALL, 270) == 270 and resolve_budget(30, 270) == 30
    with pytest.raises(ConfigError) as err:
        resolve_budget(271, 270)
    assert err.value.field == "classifier.labels" and "270" in err.value.problem


# -- the comparison ----------------------------------------------------------------------

def test_comparison_runs_both_initialisations_per_budget(pretrained, mnist300):
    p, _, _ = pretrained
    source = EncoderSource(state=module_arrays(p.stacked.model), config=p.stacked.config,
                           description="the stack of a test")
    template = classifier_config(source.config, OptimConfig(epochs=1, batch_size=50),
                                 device="cpu")
    job = Comparison(source, [30, "all"], template, dataset=mnist300)
    assert job.budgets == [30, mnist300.n_train] and job.budget_names == ["30", "all"]
    rec = Recorder()
    assert job.run(rec) == "completed"
    plan = rec.events[0]
    assert (plan.job_id, plan.kind) == ("finetune", "finetune")
    ids = ["classifier-pretrained-30", "classifier-random-30",
           f"classifier-pretrained-{mnist300.n_train}", f"classifier-random-{mnist300.n_train}"]
    assert [r.run_id for r in plan.runs] == ids == list(rec.by_run())
    finals = {}
    for rid, events in rec.by_run().items():
        start = events[0]
        cfg = start.config
        assert cfg.model.family == "classifier" and cfg.classifier.init == rid.split("-")[1]
        assert start.data.n_train == cfg.classifier.labels == int(rid.split("-")[2])
        assert start.term_names == ("total", "accuracy")
        snap = [e for e in events if isinstance(e, EpochSnapshot)][-1]
        confusion = snap.arrays["confusion"]
        assert confusion.shape == (10, 10) and confusion.sum() == mnist300.n_val
        end = [e for e in events if isinstance(e, EpochEnded)][-1]
        assert end.val["accuracy"] == pytest.approx(np.trace(confusion) / mnist300.n_val)
        finals[rid] = events[-1].final_val
    table = ComparisonTable.from_finals(job, finals)
    assert table.budgets == [30, mnist300.n_train] and not table.frozen and table.epochs == 1
    assert table.accuracy["pretrained"][1] == finals[ids[2]]["accuracy"]
    text = table.format()
    assert "pretrained" in text and "all (270)" in text and "fine-tuning everything" in text
    rows = table.to_dict()["rows"]
    assert [r["labels"] for r in rows] == ["30", "all"]
    assert rows[0]["random_accuracy"] == finals[ids[1]]["accuracy"]


# -- files -----------------------------------------------------------------------------

def test_the_session_holds_every_stage_and_the_stack_as_runs(mnist300, tmp_path):
    cfg = tiny_pretraining(epochs=2, stages=(32, 16), **CLEAN)
    p = GreedyPretraining(cfg, mnist300)
    path = tmp_path / "run.h5"
    with SessionWriter(path) as writer:
        assert p.run(writer) == "completed"
    with Session.open(path) as s:
        assert list(s.runs) == ["stage-1", "stage-2", "stack"] and s.primary == "stack"
        job = s.jobs["pretrain"]
        assert job.kind == "pretrain" and RunConfig.from_json(job.spec_json) == cfg
        assert all(r.status == "completed" and r.job_id == "pretrain" for r in s.runs.values())
        one, two, stack = (s.runs[k] for k in ("stage-1", "stage-2", "stack"))
        assert one.config == stage_config(cfg, 1) and two.config == stage_config(cfg, 2)
        assert stack.config == stack_config(cfg) and stack.role == "stack"
        assert one.data.image_shape == (1, 28, 28) and two.data.image_shape == (1, 1, 32)
        assert list(one.epoch_history["epoch"]) == [1, 2] == list(two.epoch_history["epoch"])
        assert two.snapshot_epochs == [1, 2]
        assert two.snapshot(2).images["stack_recon"].shape == (8, 1, 28, 28)
        # The stack is the file's encoder source, with the stack's weights.
        src = encoder_source(s)
        assert src.run_id == "stack" and "784-32-16" in src.description
        x = torch.rand(2, 1, 28, 28)
        model = build_model(src.config, (1, 28, 28))
        from engine.checkpoint import load_module_arrays
        load_module_arrays(model, src.state)
        torch.testing.assert_close(model.encoder(x, sample=False).h,
                                   p.stacked.model.encoder(x, sample=False).h)
        template = classifier_config(src.config, OptimConfig(epochs=1), device="cpu")
    job = Comparison(src, [20], template, dataset=mnist300)
    progress = Recorder()
    with SessionWriter(path, append=True) as writer:
        assert job.run(fan_out(writer, progress)) == "completed"
    finals = {rid: ev[-1].final_val for rid, ev in progress.by_run().items()}
    with Session.open(path) as s:
        assert list(s.runs)[:3] == ["stage-1", "stage-2", "stack"]
        assert set(s.jobs) == {"pretrain", "finetune"} and s.primary == "stack"
        back = comparison_table(s)
        want = ComparisonTable.from_finals(job, finals)
        assert back.budgets == want.budgets == [20] and back.budget_names == ["20"]
        assert back.accuracy == want.accuracy
        assert s.runs["stage-1"].epochs_trained == 2  # the job's runs are still there


def test_an_ordinary_session_is_an_encoder_source(mnist300, tmp_path):
    cfg = tiny_pretraining().with_overrides({"pretraining": None, "model.hidden": [16],
                                             "model.latent_dim": 4,
                                             "objective.corruption": "none",
                                             "objective.corruption_level": 0.0})
    trainer = tiny_trainer(cfg)
    with SessionWriter(tmp_path / "plain.h5") as writer:
        trainer.run(writer)
    with Session.open(tmp_path / "plain.h5") as s:
        src = encoder_source(s)
        # The window keeps the session on display open while another reads it.
        with Session.open(tmp_path / "plain.h5") as again:
            assert encoder_source(again).config == cfg
    assert src.config == cfg and src.run_id == "main" and "plain" in src.description
    assert src.file == tmp_path / "plain.h5"
    for name, arr in module_arrays(trainer.model).items():
        np.testing.assert_array_equal(src.state[name], arr)
    # A classifier run is no encoder source.
    clf = classifier_config(cfg, OptimConfig(epochs=1), labels=20)
    with SessionWriter(tmp_path / "clf.h5") as writer:
        tiny_trainer(clf).run(writer)
    with Session.open(tmp_path / "clf.h5") as s:
        with pytest.raises(SessionError, match="is a classifier, not an autoencoder"):
            encoder_source(s)


def test_the_old_name_finetune_epochs_is_read_as_end_to_end_epochs(tmp_path):
    """Files, lessons and --set written before the rename keep working; what is written
    uses the new name."""
    from engine.cli import build_parser
    from engine.cli.pretrain_cmd import config_from_pretrain_args
    from engine.lessons import read_lesson, run_config
    old = json.loads(load_preset("stacked-pretraining").to_json())
    old["pretraining"] = {"kinds": [], "finetune_epochs": 2}
    cfg = RunConfig.from_dict(old)
    assert cfg.pretraining.end_to_end_epochs == 2
    assert "finetune_epochs" not in cfg.to_json() and '"end_to_end_epochs": 2' in cfg.to_json()
    assert cfg.with_overrides({"pretraining.finetune_epochs": 3}).pretraining \
        .end_to_end_epochs == 3
    with pytest.raises(ConfigError) as err:   # checked under its new name
        cfg.with_overrides({"pretraining.finetune_epochs": -1})
    assert err.value.field == "pretraining.end_to_end_epochs"
    lesson = {"number": 31, "title": "Old", "claim": "c", "text": "An old lesson file.",
              "formula": "E", "look_for": "x", "views": ["reconstructions"],
              "measure": "reconstruction_improves",
              "runs": [{"label": "a", "preset": "stacked-pretraining", "job": "pretrain",
                        "overrides": {"pretraining.finetune_epochs": 1}},
                       {"label": "b", "preset": "stacked-pretraining", "job": "pretrain"}]}
    (tmp_path / "old.json").write_text(json.dumps(lesson), encoding="utf-8")
    assert run_config(read_lesson(tmp_path / "old.json").runs[0]).pretraining \
        .end_to_end_epochs == 1
    for argv in (["--set", "pretraining.finetune_epochs=4"], ["--finetune-epochs", "4"],
                 ["--end-to-end-epochs", "4"]):
        args = build_parser().parse_args(["pretrain", *argv])
        assert config_from_pretrain_args(args).pretraining.end_to_end_epochs == 4, argv
