"""Pretrained versus random initialisation, per label budget: a short orchestrator of classifier runs.

"After the autoencoder is trained, the decoder is removed and replaced with
a classification layer." For each label budget the *same* labelled subset,
settings, head initialisation and batch order are used twice — every run
is an ordinary :class:`~engine.trainer.Trainer` run of the ``classifier``
family with the same seed: once with the encoder's trained weights
(``init_weights``), once with the same layers left at their random
initialisation. The only difference between the two runs is where the
encoder's weights start.

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
from engine.errors import DataError, SessionError
from engine.events import Emit, JobStarted, RunOpened, RunPlan
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
    """

    state: dict[str, np.ndarray]
    config: RunConfig
    description: str
    file: Path | None = None
    run_id: str = ""


def encoder_source(session, run_id: str | None = None) -> EncoderSource:
    """The trained autoencoder of a session's run (default: its primary run).

    Raises
    ------
    SessionError
        When that run is no autoencoder or has saved no weights.
    """
    run = session.run(run_id)
    if run.config.model.family != "autoencoder":
        raise SessionError(f"{session.path.name}: run '{run.run_id}' is a "
                           f"{run.config.model.family}, not an autoencoder: choose the run "
                           f"whose encoder to use (it has: {', '.join(session.runs)})")
    ck = run.checkpoint()
    if ck is None:
        raise SessionError(f"{session.path.name}: run '{run.run_id}' has no saved weights (it "
                           "ended before its first epoch)")
    what = ("stacked autoencoder " + "-".join(
        str(w) for w in (int(np.prod(run.data.image_shape)),) + tuple(run.config.model.hidden)
        + (run.config.model.latent_dim,)) if run.role == "stack"
        else f"{run.config.kind_label()} autoencoder ({run.config.name}, epoch {ck.epoch})")
    return EncoderSource(state=ck.model, config=run.config,
                         description=f"{what} from {session.path.name}",
                         file=session.path, run_id=run.run_id)


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
    source : the trained autoencoder.
    budgets : numbers of labelled images or ``"all"``.
    template : the classifier settings every run shares (see :func:`classifier_config`);
        its ``classifier.labels`` and ``init`` are set per run.
    dataset : the source's images, or None to load ``source.config.data``
        (with its seed: the split the encoder was trained with, so validation
        images were never seen).
    """

    def __init__(self, source: EncoderSource, budgets: Sequence[int | str],
                 template: RunConfig, dataset: Dataset | None = None,
                 inits: Sequence[str] = INITS):
        self.source = source
        self.template = template
        self.dataset = dataset if dataset is not None else load_dataset(
            source.config.data, source.config.seed)
        if self.dataset.labels is None:
            raise DataError(f"{self.dataset.source}: the images have no labels, so no "
                            "classifier can be trained. Choose a data set with labels")
        self.budget_names = [str(b) for b in budgets]
        self.budgets = list(dict.fromkeys(resolve_budget(b, self.dataset.n_train)
                                          for b in budgets))
        self.inits = tuple(inits)

    def configs(self) -> dict[str, RunConfig]:
        """run id -> config of every run, in training order."""
        out = {}
        for budget in self.budgets:
            for init in self.inits:
                c = self.template.classifier
                out[run_id(init, budget)] = dataclasses.replace(
                    self.template, name=f"{self.source.config.name} classifier {init} {budget}",
                    classifier=dataclasses.replace(c, labels=budget, init=init,
                                                   encoder=self.source.description)).validate()
        return out

    def plan(self) -> JobStarted:
        runs = tuple(RunPlan(rid, f"{cfg.classifier.init} encoder, {cfg.classifier.labels} "
                                  "labels", "classifier",
                             {"init": cfg.classifier.init, "budget": cfg.classifier.labels,
                              "epochs": cfg.optim.epochs})
                     for rid, cfg in self.configs().items())
        freeze = self.template.classifier.freeze
        spec = {"source": {"description": self.source.description,
                           "file": str(self.source.file or ""), "run": self.source.run_id},
                "budgets": self.budget_names, "template": self.template.to_dict()}
        return JobStarted(job_id=JOB_ID, kind="finetune",
                          title="pretrained versus random encoder"
                                + (" (linear probe)" if freeze else ""),
                          spec_json=json.dumps(spec), runs=runs)

    def run(self, emit: Emit, control: TrainingControl | None = None, previous=None,
            *, snapshots: bool = True, checkpoints: bool = True) -> str:
        """Train every run in turn; a stop or a failure ends the job there.

        ``previous`` is the session of this job interrupted earlier: its
        completed runs are kept, an interrupted one resumes from its checkpoint.
        """
        control = control or TrainingControl()
        emit(self.plan())
        start = encoder_weights(self.source.state)
        for rid, cfg in self.configs().items():
            done = previous.runs.get(rid) if previous is not None else None
            if done is not None and done.status == "completed":
                continue
            if control.stop_requested:  # asked during the last step of the run before
                return "stopped"
            ck = done.checkpoint() if done is not None else None
            ck = ck if ck is not None and ck.optimizers else None
            init = start if cfg.classifier.init == "pretrained" else None
            trainer = Trainer(cfg, self.dataset, checkpoint=ck, init_weights=init)
            emit(RunOpened(JOB_ID, rid))
            outcome = trainer.run(emit, control, snapshots=snapshots, checkpoints=checkpoints)
            if outcome != "completed":
                return outcome
        return "completed"


@dataclass
class ComparisonTable:
    """Validation accuracy per label budget (rows) for each initialisation; NaN where missing."""

    budgets: list[int]
    accuracy: dict[str, list[float]]
    frozen: bool
    epochs: int
    budget_names: list[str] | None = None   # as asked, e.g. ["100", "all"]

    @classmethod
    def from_finals(cls, comparison: "Comparison", finals: dict[str, dict[str, float]]
                    ) -> "ComparisonTable":
        """The table of a comparison just run: ``finals`` maps run ids to final validation terms."""
        acc = {init: [finals.get(run_id(init, b), {}).get("accuracy", float("nan"))
                      for b in comparison.budgets] for init in INITS}
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
                          **{f"{k}_accuracy": num(self.accuracy[k][i]) for k in INITS}}
                         for i, (n, b) in enumerate(zip(names, self.budgets))]}

    def format(self, budget_names: Sequence[str] | None = None) -> str:
        """The pretrained-vs-random table as text, accuracy in percent."""
        names = list(budget_names or self.budget_names or [str(b) for b in self.budgets])
        labels = [f"{n} ({b})" if n == ALL else n for n, b in zip(names, self.budgets)]
        mode = "linear probe (encoder frozen)" if self.frozen else "fine-tuning everything"
        w = max(len("labels"), *(len(x) for x in labels))
        lines = [f"validation accuracy, {mode}, {self.epochs} epochs:",
                 f"{'labels':>{w}}  {'pretrained':>10}  {'random':>8}  {'difference':>10}"]
        for i, label in enumerate(labels):
            p, r = (100 * self.accuracy[k][i] for k in INITS)
            lines.append(f"{label:>{w}}  {p:>9.1f}%  {r:>7.1f}%  {p - r:>+10.1f}")
        return "\n".join(lines)


def comparison_table(session, job_id: str = JOB_ID) -> ComparisonTable | None:
    """The table of a comparison stored in a session (None when it holds none)."""
    job = session.jobs.get(job_id)
    if job is None:
        return None
    runs = {r.run_id: r for r in session.job_runs(job_id)}
    budgets = list(dict.fromkeys(int(p.meta.get("budget", 0)) for p in job.plan))
    accuracy = {init: [_final_val(runs.get(run_id(init, b)), "accuracy") for b in budgets]
                for init in INITS}
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
