"""Options and output shared by the training commands (train, resume, pretrain, finetune)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import torch
from tqdm import tqdm

from engine.config import RunConfig, parse_value
from engine.control import TrainingControl
from engine.distributed import is_main_process, launched_by_torchrun
from engine.errors import ConfigError
from engine.events import (EpochEnded, Event, JobStarted, RunFailed, RunFinished, RunOpened,
                           RunStarted, StepMetrics)
from engine.presets import DEFAULT_PRESET, described_for_data, load_preset
from engine.session.weights import DEFAULT_BUDGET as DEFAULT_WEIGHTS_BUDGET


def add_run_options(p: argparse.ArgumentParser, epochs_help: str = "epochs to train") -> None:
    """--epochs, --device, --seed: the options every training command takes."""
    p.add_argument("--epochs", type=int, help=epochs_help)
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the config's)")
    p.add_argument("--seed", type=int, help="random seed (default: the config's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only epoch lines")


def add_session_options(p: argparse.ArgumentParser) -> None:
    """--weights-budget: what a session keeps for replay's interactive views."""
    p.add_argument("--weights-budget", type=float, metavar="MB",
                   default=DEFAULT_WEIGHTS_BUDGET / 1e6,
                   help="megabytes of model weights each run keeps for the interactive "
                        "views of replay, at a thinning set of epochs (the last epoch's are in "
                        "its checkpoint besides; an epoch between decodes with the nearest "
                        f"earlier); default {DEFAULT_WEIGHTS_BUDGET / 1e6:g}")


def weights_budget(args: argparse.Namespace) -> int:
    """--weights-budget in bytes (checked)."""
    mb = getattr(args, "weights_budget", DEFAULT_WEIGHTS_BUDGET / 1e6)
    if not mb >= 0 or mb == float("inf"):
        raise ConfigError(f"must be a number of megabytes >= 0 (got {mb:g})", "--weights-budget")
    return int(mb * 1e6)


def add_config_options(p: argparse.ArgumentParser, default_preset: str = DEFAULT_PRESET) -> None:
    """--preset / --config / --set: where a new run's config comes from."""
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", default=default_preset,
                     help=f"a preset name (see 'presets'; default {default_preset})")
    src.add_argument("--config", type=Path, help="a run config JSON file")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a config field, e.g. --set model.latent_dim=2 (repeatable)")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The validated config named by --preset/--config with --set/--epochs/--device/--seed
    applied, its data path checked (see :func:`check_data_path`)."""
    return check_data_path(apply_overrides(named_config(args), args))


def check_data_path(cfg: RunConfig) -> RunConfig:
    """``cfg``, unless its data path would be ignored or does not exist.

    A path is read only by the file source (``--set data.path=...`` selects it);
    one beside another source would be silently ignored, so it is refused.

    Raises
    ------
    ConfigError
        A path beside another source (naming ``data.source``), or a path that
        does not exist (naming ``data.path``).
    """
    d = cfg.data
    if d.path is not None and d.source != "file":
        raise ConfigError(f"is '{d.source}', which reads no file, yet data.path is "
                          f"{d.path}: set data.source=file to train on that file (or leave "
                          f"data.path out)", "data.source")
    if d.source == "file" and not Path(d.path).exists():
        raise ConfigError(f"names {d.path}: no such file or folder. Check the path, or choose "
                          f"another file", "data.path")
    return cfg


def named_config(args: argparse.Namespace) -> RunConfig:
    """The config --preset or --config names, as it is (no --set applied yet)."""
    if getattr(args, "config", None):
        try:
            text = args.config.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read config file {args.config}: {e.strerror}",
                              "--config") from None
        return RunConfig.from_json(text)
    return load_preset(getattr(args, "preset", None) or DEFAULT_PRESET)


def apply_overrides(cfg: RunConfig, args: argparse.Namespace) -> RunConfig:
    over = {}
    for item in getattr(args, "set", []) or []:
        if "=" not in item:
            raise ConfigError(f"expects FIELD=VALUE (got {item!r})", "--set")
        key, value = item.split("=", 1)
        over[key.strip()] = parse_value(value.strip())
    if getattr(args, "epochs", None) is not None:
        over["optim.epochs"] = args.epochs
    if getattr(args, "device", None) is not None:
        over["device"] = args.device
    if getattr(args, "seed", None) is not None:
        over["seed"] = args.seed
    return described_for_data(cfg.with_overrides(over), cfg) if over else cfg


def _fmt_terms(terms: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.4g}" for k, v in terms.items())


class ProgressPrinter:
    """A listener that shows a progress bar and prints one summary line per epoch."""

    def __init__(self, quiet: bool = False, prefix: str = ""):
        self.quiet = quiet
        self.prefix = prefix
        self.bar: tqdm | None = None
        self.total_epochs = 0
        self.start_step = 0
        self.outcome: Event | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.total_epochs = event.total_epochs
            self.start_step = event.start_step
            epochs = event.total_epochs - event.start_epoch + 1
            where = event.device
            if where == "cpu":  # the run set them on this thread, just before it said so
                n = torch.get_num_threads()
                where += f" ({n} torch thread{'s' if n > 1 else ''})"
            self._write(f"{self.prefix}training [{event.config.kind_label()}] on {where}: "
                        f"{event.data.n_train} train / {event.data.n_val} validation images "
                        f"{'x'.join(map(str, event.data.image_shape))}, "
                        f"{event.n_parameters:,} parameters"
                        + (f", epoch {event.start_epoch}" if epochs == 1 else
                           f", epochs {event.start_epoch}-{event.total_epochs}" if epochs > 1
                           else ""))
            if epochs <= 0:
                self._write(f"{self.prefix}no epochs to train: kept as it starts")
            elif not self.quiet:
                self.bar = tqdm(total=max(epochs, 0) * event.steps_per_epoch, unit="step",
                                file=sys.stderr, dynamic_ncols=True, leave=False,
                                disable=None)  # no bar when stderr is not a terminal
        elif isinstance(event, StepMetrics):
            if self.bar is not None:
                self.bar.update(event.step - self.start_step - self.bar.n)
                self.bar.set_postfix_str(f"epoch {event.epoch} total {event.terms['total']:.4g} "
                                         f"{event.samples_per_sec:,.0f} samples/s", refresh=False)
        elif isinstance(event, EpochEnded):
            val = f" | val {_fmt_terms(event.val)}" if event.val else ""
            self._write(f"{self.prefix}epoch {event.epoch}/{self.total_epochs}  "
                        f"train {_fmt_terms(event.train)}{val}  "
                        f"({event.samples_per_sec:,.0f} samples/s)")
        elif isinstance(event, (RunFinished, RunFailed)):
            self.outcome = event
            if self.bar is not None:
                self.bar.close()
                self.bar = None
            if isinstance(event, RunFailed):
                print(f"{self.prefix}failed: {event.message}", file=sys.stderr)
            elif event.reason == "stopped":
                self._write(f"{self.prefix}stopped at epoch {event.epoch}, step {event.step}")

    def _write(self, line: str) -> None:
        try:
            if self.bar is not None:
                self.bar.write(line)
            else:
                print(line, flush=True)
        except BrokenPipeError:
            # Piped into a reader that has stopped (``| head``): train on, print no more.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class JobProgress:
    """A job's output: a heading per run, then that run's :class:`ProgressPrinter` lines.

    ``finals`` collects each run's final validation terms (run id -> terms).
    """

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.plan: dict[str, str] = {}
        self.printer = ProgressPrinter(quiet)
        self.run_id = ""
        self.outcome: Event | None = None
        self.finals: dict[str, dict[str, float]] = {}

    def __call__(self, event: Event) -> None:
        if isinstance(event, JobStarted):
            self.plan = {p.run_id: p.title for p in event.runs}
            print(f"{event.title}: {len(event.runs)} runs", flush=True)
        elif isinstance(event, RunOpened):
            self.run_id = event.run_id
            if not event.job_id:   # a run continued on its own: no job, no heading
                return
            n = list(self.plan).index(event.run_id) + 1 if event.run_id in self.plan else 0
            print(f"[{n}/{len(self.plan)}] {self.plan.get(event.run_id, event.run_id)}",
                  flush=True)
            self.printer = ProgressPrinter(self.quiet, prefix="  ")
        else:
            self.printer(event)
            if isinstance(event, (RunFinished, RunFailed)):
                self.outcome = event
            if isinstance(event, RunFinished):
                self.finals[self.run_id] = dict(event.final_val)


#: The exit status of a run stopped by Ctrl+C (128 + SIGINT, as shells report it).
INTERRUPTED = 130


class Interrupt:
    """Whether Ctrl+C was pressed (``asked``) during :func:`stop_on_interrupt`."""

    asked = False


@contextmanager
def stop_on_interrupt(control: TrainingControl):
    """Ctrl+C asks the trainer to stop cleanly (a second Ctrl+C aborts).

    Yields an :class:`Interrupt`; pass it to :func:`exit_code`. Under torchrun each
    rank gets Ctrl+C twice (from the terminal and forwarded by torchrun): the handler
    stays, the ranks stop together at one batch, and torchrun itself ends a rank that
    does not.
    """
    previous = signal.getsignal(signal.SIGINT)
    torchrun = launched_by_torchrun()
    interrupt = Interrupt()

    def handler(signum, frame):
        interrupt.asked = True
        if not control.stop_requested and is_main_process():
            print("\nstopping after this batch" + ("..." if torchrun else
                  " (Ctrl+C again to abort)..."), file=sys.stderr)
        control.stop()
        if not torchrun:
            signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, handler)
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)


def exit_code(outcome: Event | None, interrupt: Interrupt | None = None) -> int:
    """0 for a completed or stopped run, 1 for a failed one, 130 after Ctrl+C (the run is
    saved as stopped, and a script can tell it did not finish)."""
    if interrupt is not None and interrupt.asked:
        return INTERRUPTED
    return 1 if isinstance(outcome, RunFailed) else 0
