"""Pretrained versus random initialisation, per label budget: a short orchestrator of classifier runs.

"After the autoencoder is trained, the decoder is removed and replaced with
a classification layer." For each label budget the *same* labelled subset,
settings, head initialisation and batch order are used twice — every run
is an ordinary :class:`~engine.trainer.Trainer` run of the ``classifier``
family with the same seed: once with the encoder's trained weights
(``init_weights``), once with the same layers left at their random
initialisation. The only difference between the two runs is where the
encoder's weights start.

Several encoders can be compared at once — an autoencoder stack and a deep
belief network of the same widths, trained on the same data — each a
column of its own beside ``random`` (``rbm-pretrained``, ``ae-pretrained``);
every run still differs from the others only in where its encoder starts.

The table is read from the runs' final validation accuracy, live or from a
session (:func:`comparison_table`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from engine.config import ClassifierConfig, OptimConfig, RunConfig
from engine.control import TrainingControl
from engine.data import Dataset, load_dataset
from engine.data.labels import ALL, resolve_budget
from engine.errors import ConfigError, DataError, SessionError
from engine.events import Emit, JobStarted, RunOpened, RunPlan
from engine.models import family_class
from engine.models.classifier import encoder_weights
from engine.trainer import Trainer

JOB_ID = "finetune"
INITS = ("pretrained", "random")
#: The settings of every classifier run unless asked otherwise.
DEFAULT_OPTIM = OptimConfig(epochs=30, batch_size=32, lr=1e-3)


@dataclass
class EncoderSource:
    """A trained autoencoder and what it was trained on.

    Attributes
    ----------
    state : its weights by ``state_dict`` key (the classifier copies ``encoder.*``).
    config : its RunConfig; ``config.data`` and ``config.seed`` rebuild the
        same images and train/validation split.
    description : e.g. ``"stacked autoencoder 784-256-64 (run 'stack') from stack.h5"``.
    file, run_id : where it was read from (None / "" when it came from memory).
    kind : what pretrained it, for a column's name: ``ae`` (autoencoders) or ``rbm``
        (a deep belief network: a stack of RBMs, unrolled).
    """

    state: dict[str, np.ndarray]
    config: RunConfig
    description: str
    file: Path | None = None
    run_id: str = ""
    kind: str = "ae"


def encoder_source(session, run_id: str | None = None) -> EncoderSource:
    """The trained autoencoder of a session's run (default: its primary run).

    Raises
    ------
    SessionError
        When that run is no autoencoder or has saved no weights.
    """
    run = session.run(run_id)
    traits = family_class(run.config).traits(run.config)
    if not traits.classifier_encoder:
        hint = traits.missing.get("classifier_encoder", "")
        hint = f" — {hint}" if hint else ""
        raise SessionError(f"{session.path.name}: run '{run.run_id}' is a "
                           f"{run.config.model.family}, not an autoencoder: choose the run "
                           f"whose encoder to use (it has: {', '.join(session.runs)}){hint}")
    ck = run.checkpoint()
    if ck is None:
        raise SessionError(f"{session.path.name}: run '{run.run_id}' has no saved weights (it "
                           "ended before its first epoch)")
    sizes = "-".join(str(w) for w in (int(np.prod(run.data.image_shape)),)
                     + tuple(run.config.model.hidden) + (run.config.model.latent_dim,))
    job = session.jobs.get(run.job_id) if run.job_id else None
    kinds = job.spec.get("pretraining", {}).get("kinds", []) if job and job.kind == "pretrain" \
        else []
    dbn = run.role == "stack" and bool(kinds) and set(kinds) == {"rbm"}
    what = (f"deep belief network {sizes}, unrolled" if dbn else f"stacked autoencoder {sizes}"
            if run.role == "stack"
            else f"{run.config.kind_label()} autoencoder ({run.config.name}, epoch {ck.epoch})")
    return EncoderSource(state=ck.model, config=run.config,
                         description=f"{what} from {session.path.name}",
                         file=session.path, run_id=run.run_id, kind="rbm" if dbn else "ae")


def column_names(sources: Sequence[EncoderSource]) -> list[str]:
    """The table's column of each source: ``pretrained`` for one, else by what pretrained
    it (``rbm-pretrained``, ``ae-pretrained``; numbered when two are alike)."""
    if len(sources) == 1:
        return ["pretrained"]
    names = [f"{s.kind}-pretrained" for s in sources]
    return [f"{n}-{names[:i].count(n) + 1}" if names.count(n) > 1 else n
            for i, n in enumerate(names)]


def classifier_config(source: RunConfig, optim: OptimConfig = DEFAULT_OPTIM, *,
                      labels: int | None = None, init: str = "pretrained",
                      freeze: bool = False, seed: int | None = None,
                      device: str | None = None, encoder: str = "") -> RunConfig:
    """The RunConfig of a classifier on ``source``'s encoder (its data, split and layers)."""
    return dataclasses.replace(
        source, name=f"{source.name} classifier", pretraining=None,
        seed=source.seed if seed is None else seed,
        device=source.device if device is None else device,
        model=dataclasses.replace(source.model, family="classifier"), optim=optim,
        classifier=ClassifierConfig(labels=labels, freeze=freeze, init=init,
                                    encoder=encoder)).validate()


def run_id(init: str, budget: int) -> str:
    return f"classifier-{init}-{budget}"


class Comparison:
    """Classifier runs from a pretrained and a random encoder, for each label budget.

    Parameters
    ----------
    source : the trained autoencoder, or several (each a column; the first one's
        config — architecture, data and split — is every run's).
    budgets : numbers of labelled images or ``"all"``.
    template : the classifier settings every run shares (see :func:`classifier_config`);
        its ``classifier.labels`` and ``init`` are set per run.
    dataset : the source's images, or None to load ``source.config.data``
        (with its seed: the split the encoder was trained with, so validation
        images were never seen).
    """

    def __init__(self, source: EncoderSource | Sequence[EncoderSource],
                 budgets: Sequence[int | str], template: RunConfig,
                 dataset: Dataset | None = None):
        self.sources = [source] if isinstance(source, EncoderSource) else list(source)
        if not self.sources:
            raise ValueError("a comparison needs at least one trained encoder")
        source = self.source = self.sources[0]
        for other in self.sources[1:]:
            _check_comparable(source, other)
        self.names = column_names(self.sources)
        #: The table's columns, in training order: each source's, then ``random``.
        self.columns = (*self.names, "random")
        self.template = template
        self.dataset = dataset if dataset is not None else load_dataset(
            source.config.data, source.config.seed)
        if self.dataset.labels is None:
            raise DataError(f"{self.dataset.source}: the images have no labels, so no "
                            "classifier can be trained. Choose a data set with labels")
        self.budget_names = [str(b) for b in budgets]
        self.budgets = list(dict.fromkeys(resolve_budget(b, self.dataset.n_train)
                                          for b in budgets))

    def configs(self) -> dict[str, RunConfig]:
        """run id -> config of every run, in training order."""
        out = {}
        pretrained = dict(zip(self.names, self.sources))
        for budget in self.budgets:
            for column in self.columns:
                c = self.template.classifier
                src = pretrained.get(column, self.source)
                init = "pretrained" if column in pretrained else "random"
                out[run_id(column, budget)] = dataclasses.replace(
                    self.template, name=f"{src.config.name} classifier {column} {budget}",
                    classifier=dataclasses.replace(c, labels=budget, init=init,
                                                   encoder=src.description)).validate()
        return out

    def _column_of(self, rid: str) -> str:
        return rid[len("classifier-"):].rsplit("-", 1)[0]

    def plan(self) -> JobStarted:
        runs = tuple(RunPlan(rid, f"{self._column_of(rid)} encoder, {cfg.classifier.labels} "
                                  "labels", "classifier",
                             {"init": self._column_of(rid), "budget": cfg.classifier.labels,
                              "epochs": cfg.optim.epochs})
                     for rid, cfg in self.configs().items())
        freeze = self.template.classifier.freeze
        described = [{"description": s.description, "file": str(s.file or ""),
                      "run": s.run_id, "kind": s.kind} for s in self.sources]
        spec = {"source": described[0], "budgets": self.budget_names,
                "template": self.template.to_dict(), "columns": list(self.columns)}
        if len(described) > 1:
            spec["sources"] = described
        title = (" versus ".join(self.names) + " versus random encoder"
                 if len(self.sources) > 1 else "pretrained versus random encoder")
        return JobStarted(job_id=JOB_ID, kind="finetune",
                          title=title + (" (linear probe)" if freeze else ""),
                          spec_json=json.dumps(spec), runs=runs)

    def run(self, emit: Emit, control: TrainingControl | None = None, previous=None,
            *, snapshots: bool = True, checkpoints: bool = True) -> str:
        """Train every run in turn; a stop or a failure ends the job there.

        ``previous`` is the session of this job interrupted earlier: its
        completed runs are kept, an interrupted one resumes from its checkpoint.
        """
        control = control or TrainingControl()
        emit(self.plan())
        starts = {name: encoder_weights(src.state) for name, src in zip(self.names, self.sources)}
        for rid, cfg in self.configs().items():
            done = previous.runs.get(rid) if previous is not None else None
            if done is not None and done.status == "completed":
                continue
            if control.stop_requested:  # asked during the last step of the run before
                return "stopped"
            ck = done.checkpoint() if done is not None else None
            ck = ck if ck is not None and ck.optimizers else None
            init = starts.get(self._column_of(rid))
            trainer = Trainer(cfg, self.dataset, checkpoint=ck, init_weights=init)
            emit(RunOpened(JOB_ID, rid))
            outcome = trainer.run(emit, control, snapshots=snapshots, checkpoints=checkpoints)
            if outcome != "completed":
                return outcome
        return "completed"


def _check_comparable(first: EncoderSource, other: EncoderSource) -> None:
    """Two encoders compared in one table: the same layers, data, split and seed."""
    a, b = first.config, other.config
    layers = lambda c: (c.model.architecture, tuple(c.model.hidden), c.model.latent_dim,  # noqa: E731
                        c.model.activation, c.model.code_activation, c.model.variational)
    if layers(a) != layers(b):
        raise ConfigError(f"the encoders differ ({first.description}: {layers(a)}; "
                          f"{other.description}: {layers(b)}): compare encoders of the same "
                          "architecture, e.g. both pretrained with --stages 256,64",
                          "--versus")
    if a.data != b.data or a.seed != b.seed:
        raise ConfigError(f"{other.description} was trained on other data or another split "
                          f"(seed {b.seed}, data {b.data.source}) than {first.description} "
                          f"(seed {a.seed}, data {a.data.source}): its validation images may "
                          "be another's training images; train both with the same data and "
                          "seed", "--versus")


@dataclass
class ComparisonTable:
    """Validation accuracy per label budget (rows) for each column (the encoders' starts,
    ``random`` last); NaN where missing."""

    budgets: list[int]
    accuracy: dict[str, list[float]]
    frozen: bool
    epochs: int
    budget_names: list[str] | None = None   # as asked, e.g. ["100", "all"]

    @property
    def columns(self) -> list[str]:
        return list(self.accuracy)

    @classmethod
    def from_finals(cls, comparison: "Comparison", finals: dict[str, dict[str, float]]
                    ) -> "ComparisonTable":
        """The table of a comparison just run: ``finals`` maps run ids to final validation terms."""
        acc = {col: [finals.get(run_id(col, b), {}).get("accuracy", float("nan"))
                     for b in comparison.budgets] for col in comparison.columns}
        t = comparison.template
        return cls(budgets=list(comparison.budgets), accuracy=acc,
                   frozen=t.classifier.freeze, epochs=t.optim.epochs,
                   budget_names=_names(comparison.budget_names, comparison.budgets))

    def to_dict(self, budget_names: Sequence[str] | None = None) -> dict:
        """JSON-ready: one row per budget (NaN becomes null)."""
        names = list(budget_names or self.budget_names or [str(b) for b in self.budgets])
        num = lambda v: None if not np.isfinite(v) else float(v)  # noqa: E731
        return {"frozen": self.frozen, "epochs": self.epochs,
                "rows": [{"labels": n, "budget": b,
                          **{f"{k}_accuracy": num(self.accuracy[k][i]) for k in self.columns}}
                         for i, (n, b) in enumerate(zip(names, self.budgets))]}

    def format(self, budget_names: Sequence[str] | None = None) -> str:
        """The table as text, accuracy in percent; with one pretrained column, its
        difference to random, with several, each one's."""
        names = list(budget_names or self.budget_names or [str(b) for b in self.budgets])
        labels = [f"{n} ({b})" if n == ALL else n for n, b in zip(names, self.budgets)]
        mode = "linear probe (encoder frozen)" if self.frozen else "fine-tuning everything"
        w = max(len("labels"), *(len(x) for x in labels))
        cols = self.columns
        pre = [c for c in cols if c != "random"]
        diffs = ["difference"] if len(pre) == 1 else [f"{c} - random" for c in pre]
        widths = [max(8, len(c)) for c in cols] + [max(10, len(d)) for d in diffs]
        head = "  ".join(f"{c:>{k}}" for c, k in zip(cols + diffs, widths))
        lines = [f"validation accuracy, {mode}, {self.epochs} epochs:",
                 f"{'labels':>{w}}  {head}"]
        for i, label in enumerate(labels):
            acc = {c: 100 * self.accuracy[c][i] for c in cols}
            cells = [f"{acc[c]:>{k - 1}.1f}%" for c, k in zip(cols, widths)]
            cells += [f"{acc[c] - acc.get('random', np.nan):>+{k}.1f}"
                      for c, k in zip(pre, widths[len(cols):])]
            lines.append(f"{label:>{w}}  " + "  ".join(cells))
        return "\n".join(lines)


def comparison_table(session, job_id: str = JOB_ID) -> ComparisonTable | None:
    """The table of a comparison stored in a session (None when it holds none)."""
    job = session.jobs.get(job_id)
    if job is None:
        return None
    runs = {r.run_id: r for r in session.job_runs(job_id)}
    budgets = list(dict.fromkeys(int(p.meta.get("budget", 0)) for p in job.plan))
    columns = job.spec.get("columns") or list(INITS)
    accuracy = {col: [_final_val(runs.get(run_id(col, b)), "accuracy") for b in budgets]
                for col in columns}
    some = next(iter(runs.values()), None)
    cfg = some.config if some is not None else None
    return ComparisonTable(budgets=budgets, accuracy=accuracy,
                           frozen=bool(cfg and cfg.classifier and cfg.classifier.freeze),
                           epochs=cfg.optim.epochs if cfg else 0,
                           budget_names=_names(job.spec.get("budgets"), budgets))


def _names(names, budgets: list[int]) -> list[str] | None:
    """The budgets as asked ("all" kept), when they match the budgets run one to one."""
    names = [str(n) for n in names or []]
    return names if len(names) == len(budgets) else None


def _final_val(run, term: str) -> float:
    if run is None or run.status != "completed":
        return float("nan")
    values = run.epoch_history.get("val", {}).get(term)
    return float(values[-1]) if values is not None and len(values) else float("nan")
