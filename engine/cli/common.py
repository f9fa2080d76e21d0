"""Options and output shared by the training commands (train, resume, pretrain, finetune)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from engine.config import RunConfig, parse_value
from engine.control import TrainingControl
from engine.errors import ConfigError
from engine.events import EpochEnded, Event, RunFailed, RunFinished, RunStarted, StepMetrics
from engine.presets import DEFAULT_PRESET, load_preset


def add_run_options(p: argparse.ArgumentParser, epochs_help: str = "epochs to train") -> None:
    """--epochs, --device, --seed: the options every training command takes."""
    p.add_argument("--epochs", type=int, help=epochs_help)
    p.add_argument("--device", help="auto, cpu, cuda, cuda:N or mps (default: the config's)")
    p.add_argument("--seed", type=int, help="random seed (default: the config's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only epoch lines")


def add_config_options(p: argparse.ArgumentParser) -> None:
    """--preset / --config / --set: where a new run's config comes from."""
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", help=f"a preset name (see 'presets'; default {DEFAULT_PRESET})")
    src.add_argument("--config", type=Path, help="a run config JSON file")
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help="override a config field, e.g. --set model.latent_dim=2 (repeatable)")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The validated config named by --preset/--config with --set/--epochs/--device/--seed applied."""
    if getattr(args, "config", None):
        try:
            text = args.config.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read config file {args.config}: {e.strerror}") from None
        cfg = RunConfig.from_json(text)
    else:
        cfg = load_preset(getattr(args, "preset", None) or DEFAULT_PRESET)
    return apply_overrides(cfg, args)


def apply_overrides(cfg: RunConfig, args: argparse.Namespace) -> RunConfig:
    over = {}
    for item in getattr(args, "set", []) or []:
        if "=" not in item:
            raise ConfigError(f"--set expects FIELD=VALUE (got {item!r})")
        key, value = item.split("=", 1)
        over[key.strip()] = parse_value(value.strip())
    if getattr(args, "epochs", None) is not None:
        over["optim.epochs"] = args.epochs
    if getattr(args, "device", None) is not None:
        over["device"] = args.device
    if getattr(args, "seed", None) is not None:
        over["seed"] = args.seed
    return cfg.with_overrides(over) if over else cfg


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
            self._write(f"{self.prefix}training [{_kind(event.config_json)}] on {event.device}: "
                        f"{event.data.n_train} train / {event.data.n_val} validation images "
                        f"{'x'.join(map(str, event.data.image_shape))}, "
                        f"{event.n_parameters:,} parameters, epochs {event.start_epoch}-"
                        f"{event.total_epochs}")
            if not self.quiet:
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
        if self.bar is not None:
            self.bar.write(line)
        else:
            print(line, flush=True)


def _kind(config_json: str) -> str:
    return RunConfig.from_dict(json.loads(config_json)).kind_label()


@contextmanager
def stop_on_interrupt(control: TrainingControl):
    """Ctrl+C asks the trainer to stop cleanly (a second Ctrl+C aborts)."""
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        print("\nstopping after this batch (Ctrl+C again to abort)...", file=sys.stderr)
        control.stop()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def exit_code(outcome: Event | None) -> int:
    """0 for a completed or stopped run, 1 for a failed one."""
    return 1 if isinstance(outcome, RunFailed) else 0
