"""The classifier family: its terms against independent computations, freezing, and the
pretrained-versus-random comparison differing only in the encoder's starting weights."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import distributions as D

from engine.checkpoint import module_arrays
from engine.config import OptimConfig
from engine.data import Dataset
from engine.data.labels import labelled_subset
from engine.errors import ConfigError, DataError
from engine.models import Batch, Classifier, build_model
from engine.models.classifier import accuracy, encoder_weights
from engine.pretraining import Comparison, EncoderSource, classifier_config
from engine.trainer import Trainer
from session_support import Recorder, dataset_for, tiny_config, tiny_trainer


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def autoencoder_config(**over):
    return tiny_config("plain", epochs=1, model__hidden=[16], model__latent_dim=6,
                       optim__batch_size=50, **over)


def clf_config(labels=60, freeze=False, epochs=2, **over):
    return classifier_config(autoencoder_config(**over),
                             OptimConfig(epochs=epochs, batch_size=20, lr=1e-2),
                             labels=labels, freeze=freeze)


@pytest.fixture(scope="module")
def mnist300():
    return dataset_for(autoencoder_config())


def test_the_classifier_head_replaces_the_decoder():
    torch.manual_seed(0)
    clf = build_model(clf_config(), (1, 28, 28), n_classes=10)
    assert isinstance(clf, Classifier) and clf.needs_labels
    names = [n for n, _ in clf.named_parameters()]
    assert names and not any("decoder" in n for n in names)
    assert {n.split(".")[0] for n in names} == {"encoder", "head"}
    assert clf.head.in_features == 6 and clf.head.out_features == clf.n_classes == 10
    assert clf(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert clf.term_names() == ("total", "accuracy") and clf.interactive_parts == ()


def _logits_by_hand(state, x, code_activation=lambda u: u):
    """encoder MLP (one relu hidden layer) -> code -> linear head, from the raw weights."""
    t = {k: torch.from_numpy(v) for k, v in state.items()}
    h = torch.relu(x.flatten(1) @ t["encoder.body.body.1.weight"].T + t["encoder.body.body.1.bias"])
    out = h @ t["encoder.body.head.weight"].T + t["encoder.body.head.bias"]
    code = code_activation(out[:, : t["head.weight"].shape[1]])
    return code @ t["head.weight"].T + t["head.bias"]


@pytest.mark.parametrize("over,act", [({}, lambda u: u),
                                      ({"model__code_activation": "sigmoid"}, torch.sigmoid),
                                      ({"model__variational": True}, lambda u: u)])
def test_the_terms_equal_cross_entropy_and_accuracy_computed_independently(over, act):
    torch.manual_seed(0)
    clf = build_model(clf_config(**over), (1, 28, 28), n_classes=10)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(40, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (40,), generator=g)
    terms = clf.loss(Batch(x, y))
    assert list(terms) == ["total", "accuracy"]
    logits = _logits_by_hand(module_arrays(clf), x, act)  # a VAE's head reads the mean
    torch.testing.assert_close(terms["total"], F.cross_entropy(logits, y), rtol=1e-5, atol=1e-6)
    nll = -D.Categorical(logits=logits).log_prob(y).mean()
    torch.testing.assert_close(terms["total"], nll, rtol=1e-5, atol=1e-6)
    hits = sum(int(np.argmax(row) == label) for row, label in zip(logits.detach().numpy(),
                                                                   y.numpy()))
    assert float(terms["accuracy"]) == pytest.approx(hits / 40)
    # No sampling: the same logits every pass, for a VAE encoder too.
    torch.testing.assert_close(clf(x), clf(x))


def _crafted_dataset():
    """Images of 2 "pixels"; the first five are the validation set."""
    val_x = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]], np.float32)
    val_y = np.array([0, 1, 1, 1, 0])
    images = np.concatenate([val_x, val_x]).reshape(10, 1, 1, 2)
    labels = np.concatenate([val_y, val_y]).astype(np.int64)
    return Dataset(images=images, labels=labels, factors=None, factor_names=(),
                   label_names=None, source="crafted", train_idx=np.arange(5, 10),
                   val_idx=np.arange(5), probe_idx=np.arange(2))


def test_validation_accuracy_confusion_and_loss_against_a_hand_count():
    ds = _crafted_dataset()
    cfg = classifier_config(
        tiny_config("plain", model__hidden=[], model__latent_dim=2), OptimConfig(epochs=1))
    # Identity encoder and head: the logits are the pixels.
    eye = {"encoder.body.head.weight": np.eye(2, dtype=np.float32),
           "encoder.body.head.bias": np.zeros(2, np.float32),
           "head.weight": np.eye(2, dtype=np.float32), "head.bias": np.zeros(2, np.float32)}
    trainer = Trainer(cfg, ds, init_weights=eye)
    terms, arrays = trainer.model.evaluate(trainer.validation_batches(), torch.Generator())
    # argmax 0, 1, 0, 1, 0 against labels 0, 1, 1, 1, 0: four of five right.
    assert terms["accuracy"] == pytest.approx(4 / 5)
    np.testing.assert_array_equal(arrays["confusion"], [[2, 0], [1, 2]])  # rows: true class
    right, wrong = np.log(1 + np.exp(-1.0)), np.log(1 + np.exp(1.0))
    assert terms["total"] == pytest.approx((4 * right + wrong) / 5, rel=1e-5)
    # The same numbers as the epoch's validation terms and snapshot of a real run.
    rec = Recorder()
    Trainer(cfg.with_overrides({"optim.lr": 1e-9}), ds, init_weights=eye).run(rec)
    end = [e for e in rec.events if type(e).__name__ == "EpochEnded"][0]
    assert end.val["accuracy"] == pytest.approx(4 / 5)
    snap = [e for e in rec.events if type(e).__name__ == "EpochSnapshot"][0]
    np.testing.assert_array_equal(snap.arrays["confusion"], [[2, 0], [1, 2]])
    assert snap.images == {} and snap.weights == {}


def test_accuracy_helper_against_a_hand_count():
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.5, 0.0, 2.0],
                           [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    labels = torch.tensor([0, 1, 1, 2, 2])  # predictions 0, 1, 2, 0, 2: three right
    assert accuracy(logits, labels) == pytest.approx(3 / 5)
    assert accuracy(np.array([0, 1, 2, 0, 2]), labels.numpy()) == pytest.approx(3 / 5)
    assert np.isnan(accuracy(np.zeros((0, 3)), np.zeros(0, np.int64)))


def test_a_frozen_classifier_changes_only_its_head(mnist300):
    trainer = tiny_trainer(clf_config(freeze=True))
    (opt,) = trainer.optimizers.values()
    trained = [p for group in opt.param_groups for p in group["params"]]
    assert len(trained) == 2 and trained[0] is trainer.model.head.weight
    enc0, head0 = module_arrays(trainer.model.encoder), module_arrays(trainer.model.head)
    assert trainer.run(lambda e: None) == "completed"
    for name, arr in module_arrays(trainer.model.encoder).items():
        np.testing.assert_array_equal(arr, enc0[name], err_msg=name)
    assert not np.allclose(module_arrays(trainer.model.head)["weight"], head0["weight"])
    # Without freeze the encoder trains too.
    free = tiny_trainer(clf_config(freeze=False))
    free.run(lambda e: None)
    assert not np.allclose(module_arrays(free.model.encoder)["body.head.weight"],
                           enc0["body.head.weight"])


def test_a_classifier_trains_on_its_labelled_subset(mnist300):
    trainer = tiny_trainer(clf_config(labels=60))
    want = labelled_subset(mnist300.labels, mnist300.train_idx, 60, 0, 10)
    np.testing.assert_array_equal(trainer.train_idx, want)
    assert np.bincount(mnist300.labels[trainer.train_idx], minlength=10).tolist() == [6] * 10
    assert trainer.steps_per_epoch == 3 and trainer.dataset_info().n_train == 60
    np.testing.assert_array_equal(tiny_trainer(clf_config(labels=None)).train_idx,
                                  mnist300.train_idx)
    with pytest.raises(ConfigError) as err:
        tiny_trainer(clf_config(labels=mnist300.n_train + 1))
    assert err.value.field == "classifier.labels"


def test_no_classifier_without_labels():
    ds = _crafted_dataset()
    unlabelled = Dataset(images=ds.images, labels=None, factors=None, factor_names=(),
                         label_names=None, source="unlabelled.npy", train_idx=ds.train_idx,
                         val_idx=ds.val_idx, probe_idx=ds.probe_idx)
    cfg = classifier_config(tiny_config("plain", model__hidden=[], model__latent_dim=2),
                            OptimConfig(epochs=1))
    with pytest.raises(DataError, match="no labels"):
        Trainer(cfg, unlabelled)


def test_pretrained_and_random_runs_differ_only_in_the_encoders_start(mnist300, monkeypatch):
    import engine.pretraining.comparison as comparison
    source_trainer = tiny_trainer(autoencoder_config())
    source_trainer.run(lambda e: None)
    source = EncoderSource(state=module_arrays(source_trainer.model),
                           config=source_trainer.config, description="a test autoencoder")
    made = {}

    class Spy(Trainer):
        def __init__(self, config, *args, **kwargs):
            super().__init__(config, *args, **kwargs)
            made[(config.classifier.init, config.classifier.labels)] = self
            self.initial = module_arrays(self.model)
            self.seed = self.streams.seed
            self.orders = []

        def _train_epoch(self, epoch, emit, control):
            outcome = super()._train_epoch(epoch, emit, control)
            self.orders.append(self.permutation.cpu().numpy().copy())
            return outcome

    monkeypatch.setattr(comparison, "Trainer", Spy)
    template = classifier_config(source.config, OptimConfig(epochs=2, batch_size=20))
    job = Comparison(source, [40, 100], template, dataset=mnist300)
    assert job.run(lambda e: None) == "completed"
    assert sorted(made) == [("pretrained", 40), ("pretrained", 100), ("random", 40),
                            ("random", 100)]
    start = encoder_weights(source.state)
    assert start and all(k.startswith("encoder.") for k in start)
    for budget in (40, 100):
        pre, rnd = made[("pretrained", budget)], made[("random", budget)]
        # The same labelled subset, batch order and head initialisation...
        np.testing.assert_array_equal(pre.train_idx, rnd.train_idx)
        assert len(pre.train_idx) == budget
        assert pre.seed == rnd.seed
        assert len(pre.orders) == len(rnd.orders) == 2
        for a, b in zip(pre.orders, rnd.orders):
            np.testing.assert_array_equal(a, b)
        assert not np.array_equal(pre.orders[0], pre.orders[1])  # shuffled every epoch
        for k in pre.initial:
            if not k.startswith("encoder."):
                np.testing.assert_array_equal(pre.initial[k], rnd.initial[k], err_msg=k)
        # ...and only the encoder's start differs: trained weights versus random ones.
        for k, v in start.items():
            np.testing.assert_array_equal(pre.initial[k], v, err_msg=k)
            assert not np.allclose(rnd.initial[k], v), k
    # The larger budget keeps the smaller one's labels (nested subsets).
    assert set(made[("pretrained", 40)].train_idx) <= set(made[("pretrained", 100)].train_idx)


def test_training_a_classifier_leaves_its_source_weights_alone(mnist300):
    source_trainer = tiny_trainer(autoencoder_config())
    source_trainer.run(lambda e: None)
    state = module_arrays(source_trainer.model)
    kept = {k: v.copy() for k, v in state.items()}
    clf = tiny_trainer(clf_config(), init_weights=encoder_weights(state))
    for k, v in encoder_weights(state).items():
        np.testing.assert_array_equal(clf.model.state_dict()[k].numpy(), v)
    clf.run(lambda e: None)
    for k, v in kept.items():
        np.testing.assert_array_equal(state[k], v)
