"""Greedy layer-wise pretraining, the classifier on the code, and the comparison."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from engine.checkpoint import module_arrays
from engine.config import ModelConfig, ObjectiveConfig, RunConfig
from engine.data import Dataset, load_dataset
from engine.errors import ConfigError
from engine.events import EpochSnapshot, RunStarted
from engine.models import build_autoencoder
from engine.presets import load_preset
from engine.pretraining import (Classifier, ClassifierConfig, ClassifierTrainer,
                                GreedyPretrainer, PretrainConfig, PretrainRecorder,
                                StackReconstruction, StageCompleted, StageStarted, accuracy,
                                compare_initialisations, confusion_matrix, decode_through,
                                encode_through, export_stage_session, labelled_subset,
                                load_encoder_source, read_pretraining)
from engine.pretraining.results import read_comparison_h5, write_comparison_h5


def tiny_base(**over) -> RunConfig:
    base = {"data.limit": 300, "data.n_probe": 8, "optim.batch_size": 50, "device": "cpu"}
    base.update(over)
    return RunConfig().with_overrides(base)


@pytest.fixture(scope="module")
def mnist300():
    return load_dataset(tiny_base().data, 0)


@pytest.fixture(scope="module")
def pretrained(mnist300):
    """A finished 784-32-16 greedy run with its events."""
    cfg = PretrainConfig(base=tiny_base(), widths=(32, 16), stage_epochs=2)
    events = []
    snapshots = {}  # stage -> arrays of every stage-1 parameter, seen at each stage's end

    def emit(event):
        events.append(event)
        if isinstance(event, StageCompleted):
            snapshots[event.stage] = module_arrays(p.stages[0].model)

    p = GreedyPretrainer(cfg, mnist300)
    assert p.run(emit) == "completed"
    return p, events, snapshots


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


# -- greedy stacking ---------------------------------------------------------------

def test_stage_input_is_the_frozen_output_of_the_earlier_stages(pretrained, mnist300):
    p, events, snapshots = pretrained
    stage1, stage2 = (s.model for s in p.stages)
    # Stage 1 did not change while stage 2 trained...
    for name, before in snapshots[1].items():
        np.testing.assert_array_equal(before, snapshots[2][name], err_msg=name)
    # ...while stage 2 did train (so the comparison above could have failed).
    start2 = of(events, RunStarted)[1]
    assert start2.stage == 2
    # Stage 2's images are stage 1's codes of the same probe images.
    probe = torch.from_numpy(mnist300.images[mnist300.probe_idx])
    with torch.no_grad():
        codes = stage1.encoder(probe, sample=False).h.numpy()
    assert start2.data.probe_images.shape == (8, 1, 1, 32)
    np.testing.assert_allclose(start2.data.probe_images.reshape(8, 32), codes, atol=1e-6)
    assert (start2.data.n_train, start2.data.n_val) == (mnist300.n_train, mnist300.n_val)
    snap2 = [e for e in of(events, EpochSnapshot) if e.stage == 2][-1]
    np.testing.assert_allclose(snap2.probe_inputs.reshape(8, 32), codes, atol=1e-6)


def test_stage_weights_change_only_in_their_own_stage(mnist300):
    cfg = PretrainConfig(base=tiny_base(), widths=(16, 8), stage_epochs=1)
    p = GreedyPretrainer(cfg, mnist300)
    seen = {}

    def emit(event):
        if isinstance(event, RunStarted) and event.stage == 2:
            seen["stage1_at_start_of_2"] = module_arrays(p.stages[0].model)

    p.run(emit)
    after = module_arrays(p.stages[0].model)
    for name, arr in seen["stage1_at_start_of_2"].items():
        np.testing.assert_array_equal(arr, after[name])
    with torch.random.fork_rng():  # stage 2's initial weights, as its trainer drew them
        torch.manual_seed(cfg.base.seed)
        initial = build_autoencoder((1, 1, 16), cfg.stage_config(2).model,
                                    cfg.stage_config(2).objective)
    w0 = initial.encoder.body.head.weight.detach().numpy()
    assert not np.allclose(w0, p.stages[1].model.encoder.body.head.weight.detach().numpy())


def test_stacked_encoder_is_the_composition_of_the_stage_encoders(pretrained):
    p, _, _ = pretrained
    s1, s2 = (s.model for s in p.stages)
    x = torch.rand(5, 1, 28, 28)
    with torch.no_grad():
        by_hand = s2.encoder(s1.encoder(x, sample=False).h, sample=False).h
        stacked = p.stacked.encoder(x, sample=False).h
    torch.testing.assert_close(stacked, by_hand, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(encode_through([s1, s2], x), by_hand)
    # With sigmoid codes (Bernoulli stages) the mirrored decoder is exact too.
    torch.testing.assert_close(p.stacked.reconstruct(x), decode_through([s1, s2], by_hand),
                               atol=1e-6, rtol=1e-5)


def test_events_are_tagged_by_stage_and_histories_kept_apart(pretrained):
    p, events, _ = pretrained
    trainer_events = [e for e in events if type(e).__module__ == "engine.events"]
    assert {e.stage for e in trainer_events} == {1, 2}
    done = of(events, StageCompleted)
    assert [d.stage for d in done] == [1, 2] and all(d.outcome == "completed" for d in done)
    assert done[0].features.shape == (32, 1, 28, 28) and done[1].features is None
    for d, res in zip(done, p.stages):
        assert list(d.history["epoch"]) == [1, 2] == res.history.epochs
    assert p.stages[0].history.train["recon"] != p.stages[1].history.train["recon"]
    starts = of(events, StageStarted)
    assert [(s.step_offset, s.epoch_offset) for s in starts] == [(0, 0), (12, 2)]
    assert (starts[1].input_dim, starts[1].width, starts[1].likelihood) == (32, 16, "bernoulli")
    recon = of(events, StackReconstruction)
    assert [(r.stage, r.epoch) for r in recon] == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert recon[-1].probe_recon.shape == (8, 1, 28, 28)


def test_end_to_end_finetuning_starts_from_the_stack(mnist300):
    cfg = PretrainConfig(base=tiny_base(), widths=(16, 8), stage_epochs=1, finetune_epochs=1)
    p = GreedyPretrainer(cfg, mnist300)
    events = []
    assert p.run(events.append) == "completed"
    start = [e for e in of(events, RunStarted) if e.stage == 3][0]
    assert json.loads(start.config_json)["model"]["hidden"] == [16]
    assert p.finetune is not None and p.finetune.history.epochs == [1]
    # The stacked model moved away from the greedy weights during the end-to-end pass.
    greedy = p.stages[0].model.encoder.body.head.weight.detach()
    assert not torch.allclose(p.stacked.encoder.body.body[1].weight, greedy.cpu())


# -- config --------------------------------------------------------------------------

@pytest.mark.parametrize("change,needle", [
    ({"widths": (0, 4)}, "widths[0]"),
    ({"widths": ()}, "widths"),
    ({"kinds": ("plain",)}, "kinds"),
    ({"kinds": ("sparse", "plain")}, "kinds[0]"),
    ({"kinds": ("plain", "fancy")}, "kinds[1]"),
    ({"code_activation": "linear"}, "code_activation"),
    ({"stage_epochs": 0}, "stage_epochs"),
    ({"finetune_epochs": -1}, "finetune_epochs"),
])
def test_invalid_pretrain_settings_name_the_field(change, needle):
    cfg = dataclasses.replace(PretrainConfig(base=tiny_base(), widths=(8, 4)), **change)
    with pytest.raises(ConfigError) as err:
        cfg.validate()
    assert needle in str(err.value)


def test_tanh_codes_refuse_clipping_noise_in_later_stages():
    base = tiny_base(**{"objective.corruption": "gaussian", "objective.corruption_level": 0.1})
    cfg = PretrainConfig(base=base, widths=(8, 4), code_activation="tanh")
    with pytest.raises(ConfigError, match="kinds\\[1\\].*masking"):
        cfg.validate()
    assert cfg.stage_config(2).objective.likelihood == "gaussian"
    assert PretrainConfig(base=base, widths=(8, 4)).stage_config(2).objective.likelihood \
        == "bernoulli"


def test_the_preset_round_trips_and_bad_sections_name_the_field():
    run = load_preset("stacked-pretraining")
    assert run.kinds()[0] == "stacked"
    cfg = PretrainConfig.from_run_config(run)
    assert cfg.widths == (256, 64) and cfg.code_activation == "sigmoid"
    assert cfg.stage_kind(1) == "denoising"
    d = cfg.to_dict()
    assert PretrainConfig.from_dict(json.loads(json.dumps(d))).to_dict() == d
    assert "pretraining" not in RunConfig().to_dict()  # ordinary configs unchanged
    for over, needle in [({"model.activation": "relu"}, "model.activation"),
                         ({"pretraining": {"bogus": 1}}, "pretraining.bogus"),
                         ({"pretraining": {"kinds": ["plain"]}}, "pretraining.kinds")]:
        with pytest.raises(ConfigError) as err:
            run.with_overrides(over)
        assert needle in str(err.value)


def test_stage_kinds_select_the_shared_regularisers():
    base = tiny_base(**{"objective.sparsity": 0.1, "objective.corruption": "masking",
                        "objective.corruption_level": 0.2})
    cfg = PretrainConfig(base=base, widths=(8, 4), kinds=("denoising", "sparse"))
    o1, o2 = cfg.stage_objective(1), cfg.stage_objective(2)
    assert (o1.corruption, o1.sparsity) == ("masking", 0.0)
    assert (o2.corruption, o2.sparsity) == ("none", 0.1)
    assert cfg.stage_config(1).kinds() == ["denoising"]


# -- the classifier ------------------------------------------------------------------

def _autoencoder(variational=False, latent=6):
    torch.manual_seed(0)
    return build_autoencoder((1, 28, 28), ModelConfig(hidden=(16,), latent_dim=latent,
                                                      variational=variational),
                             ObjectiveConfig())


def test_the_classifier_head_replaces_the_decoder():
    ae = _autoencoder()
    clf = Classifier.from_autoencoder(ae, 10)
    names = [n for n, _ in clf.named_parameters()]
    assert names and not any("decoder" in n for n in names)
    assert clf.head.in_features == 6 and clf.head.out_features == 10
    x = torch.rand(3, 1, 28, 28)
    assert clf(x).shape == (3, 10)
    with torch.no_grad():  # a copy: training the classifier leaves the autoencoder alone
        clf.encoder.body.head.weight.add_(1.0)
    assert not torch.equal(clf.encoder.body.head.weight, ae.encoder.body.head.weight)


def test_a_vae_classifier_reads_the_mean():
    ae = _autoencoder(variational=True)
    clf = Classifier.from_autoencoder(ae, 4)
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        mean = clf.encoder(x, sample=False).mean
        torch.testing.assert_close(clf(x), clf.head(mean))
        torch.testing.assert_close(clf(x), clf(x))  # no sampling


def test_freezing_freezes_the_encoder_and_trains_the_head(mnist300):
    idx = labelled_subset(mnist300.labels, mnist300.train_idx, 60, seed=0)
    cfg = ClassifierConfig(epochs=2, batch_size=20, lr=1e-2, freeze=True, device="cpu")
    clf = Classifier.from_autoencoder(_autoencoder(), 10)
    trainer = ClassifierTrainer(clf, mnist300, idx, cfg)
    enc0, head0 = module_arrays(clf.encoder), module_arrays(clf.head)
    assert trainer.run(lambda e: None) == "completed"
    for name, arr in module_arrays(clf.encoder).items():
        np.testing.assert_array_equal(arr, enc0[name], err_msg=name)
    assert not np.allclose(module_arrays(clf.head)["weight"], head0["weight"])
    # Without --freeze the encoder trains too.
    clf2 = Classifier.from_autoencoder(_autoencoder(), 10)
    ClassifierTrainer(clf2, mnist300, idx, dataclasses.replace(cfg, freeze=False)).run(
        lambda e: None)
    assert not np.allclose(module_arrays(clf2.encoder)["body.head.weight"],
                           enc0["body.head.weight"])


def test_accuracy_and_confusion_against_a_hand_count():
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.5, 0.0, 2.0],
                           [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    labels = torch.tensor([0, 1, 1, 2, 2])  # predictions 0, 1, 2, 0, 2: three right
    assert accuracy(logits, labels) == pytest.approx(3 / 5)
    cm = confusion_matrix(np.array([0, 1, 2, 0, 2]), labels.numpy(), 3)
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 1, 1], [1, 0, 1]])


def test_the_trainer_scores_validation_labels_correctly():
    # Images are 2 "pixels"; with identity encoder and head the logits are the pixels.
    val_x = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]], np.float32)
    val_y = np.array([0, 1, 1, 1, 0])  # argmax 0, 1, 0, 1, 0: four of five right
    images = np.concatenate([val_x, val_x]).reshape(10, 1, 1, 2)
    labels = np.concatenate([val_y, val_y]).astype(np.int64)
    ds = Dataset(images=images, labels=labels, factors=None, factor_names=(),
                 label_names=None, source="crafted", train_idx=np.arange(5, 10),
                 val_idx=np.arange(5), probe_idx=np.arange(2))
    ae = build_autoencoder((1, 1, 2), ModelConfig(hidden=(), latent_dim=2), ObjectiveConfig())
    clf = Classifier.from_autoencoder(ae, 2)
    trainer = ClassifierTrainer(clf, ds, ds.train_idx, ClassifierConfig(epochs=1, device="cpu"))
    with torch.no_grad():
        for lin in (clf.encoder.body.head, clf.head):
            lin.weight.copy_(torch.eye(2))
            lin.bias.zero_()
    loss, acc, pred = trainer.evaluate(trainer.x_val, trainer.y_val)
    assert acc == pytest.approx(4 / 5)
    np.testing.assert_array_equal(pred, [0, 1, 0, 1, 0])
    right, wrong = np.log(1 + np.exp(-1.0)), np.log(1 + np.exp(1.0))
    assert loss == pytest.approx((4 * right + wrong) / 5, rel=1e-5)


# -- label budgets and the comparison ----------------------------------------------

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


def test_comparison_uses_the_same_labels_for_both_initialisations(pretrained, mnist300):
    p, _, _ = pretrained
    events = []
    res = compare_initialisations(p.stacked, mnist300, [30, "all"],
                                  ClassifierConfig(epochs=1, device="cpu"), events.append)
    t = res.table
    assert list(t.budgets) == [30, mnist300.n_train] and res.budget_names == ["30", "all"]
    for budget in t.budgets:
        pre, rnd = res.runs[("pretrained", budget)], res.runs[("random", budget)]
        np.testing.assert_array_equal(pre.train_idx, rnd.train_idx)
        assert len(pre.history["val_accuracy"]) == 1
        assert pre.confusion.shape == (10, 10) and pre.confusion.sum() == mnist300.n_val
    assert np.all((t.pretrained_accuracy >= 0) & (t.random_accuracy <= 1))
    assert "pretrained" in res.format_table() and "all (270)" in res.format_table()
    assert type(events[-1]).__name__ == "ComparisonTable"


# -- files ---------------------------------------------------------------------------

def test_the_run_file_holds_every_stage_as_a_session(pretrained, mnist300, tmp_path):
    from engine.session import Session
    p, events, _ = pretrained
    path = tmp_path / "run.h5"
    with PretrainRecorder(path) as rec:
        for e in events:  # replay the recorded events into the recorder
            rec(e)
    run = read_pretraining(path)
    assert run.status == "completed" and [s.stage for s in run.stages] == [1, 2]
    assert run.config.widths == (32, 16) and run.image_shape == (1, 28, 28)
    assert list(run.stages[0].epochs["epoch"]) == [1, 2]
    assert sorted(run.stages[1].stack_recon) == [1, 2]
    src = load_encoder_source(path)
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(src.model.encoder(x, sample=False).h,
                               p.stacked.encoder(x, sample=False).h)
    with Session.open(export_stage_session(path, 2, tmp_path / "s2.h5")) as s:
        assert s.epochs_trained == 2 and s.data.image_shape == (1, 1, 32)
    res = compare_initialisations(src.model, mnist300, [20], ClassifierConfig(epochs=1,
                                                                              device="cpu"))
    write_comparison_h5(path, res, src.description)
    back = read_comparison_h5(path)
    assert back["budget_names"] == ["20"]
    np.testing.assert_allclose(back["table"]["pretrained_accuracy"],
                               res.table.pretrained_accuracy)
    assert read_pretraining(path).stages[0].stage == 1  # the run is still readable


def test_an_ordinary_session_is_an_encoder_source(mnist300, tmp_path):
    from engine.session import SessionWriter
    from engine.trainer import Trainer
    cfg = tiny_base(**{"model.hidden": [16], "model.latent_dim": 4, "optim.epochs": 1})
    trainer = Trainer(cfg, mnist300)
    with SessionWriter(tmp_path / "plain.h5") as writer:
        trainer.run(writer)
    src = load_encoder_source(tmp_path / "plain.h5")
    assert src.config == cfg and "plain" in src.description
    for name, arr in module_arrays(trainer.model).items():
        np.testing.assert_array_equal(module_arrays(src.model)[name], arr)
    # The window keeps the session on display open while it reads the weights again.
    from engine.session import Session
    with Session.open(tmp_path / "plain.h5"):
        assert load_encoder_source(tmp_path / "plain.h5").config == cfg
