"""Cost of recording a run: training with and without a SessionWriter, in one process.

The same config (default: the default preset, ``variational``, all its
epochs) is trained from the same seed on the same already-loaded data,
once with only a no-op listener and once with a :class:`SessionWriter`
writing to a temporary folder. Rounds alternate (without, with, with,
without, ...) so drift in the machine's load hits both alike; medians are
reported. Because the difference of two noisy totals is itself noisy on a
shared machine, two direct measurements are reported too: the time the
training thread spends inside the writer (buffering events, the HDF5
writes of each commit) and the CPU time of the background thread that
publishes commits (fsync, renames, catch-up writes). The fastest
round of each kind is printed as well: on a busy machine it is the one
least disturbed by other work.

Run: ``python benchmarks/bench_session_overhead.py [--preset variational] [--epochs N]
[--rounds 3] [--device cpu] [--threads N] [--set FIELD=VALUE ...] [--snapshot-every K]
[--no-fsync] [--foreground]``
Target: overhead < 2% of training time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.config import parse_value  # noqa: E402
from engine.data import load_dataset  # noqa: E402
from engine.presets import DEFAULT_PRESET, load_preset  # noqa: E402
from engine.session import SessionWriter  # noqa: E402
from engine.trainer import Trainer  # noqa: E402


class TimedWriter:
    """Wraps a SessionWriter and adds up the seconds spent inside it."""

    def __init__(self, writer: SessionWriter):
        self.writer = writer
        self.seconds = 0.0

    def __call__(self, event) -> None:
        t = time.perf_counter()
        self.writer(event)
        self.seconds += time.perf_counter() - t

    def close(self) -> None:
        t = time.perf_counter()
        self.writer.close()
        self.seconds += time.perf_counter() - t


def train_once(config, dataset, out: Path | None, durable: bool, background: bool,
               snapshot_every: int | None) -> tuple[float, float, float, int]:
    """Train once, optionally recording to ``out``.

    Returns
    -------
    seconds for run() plus closing the writer, seconds the training thread
    spent inside the writer, CPU seconds of the publishing thread, file bytes.
    """
    trainer = Trainer(config, dataset)
    timed = None
    if out:
        timed = TimedWriter(SessionWriter(out, durable=durable, background=background,
                                          snapshot_every=snapshot_every))
    emit = timed if timed else (lambda event: None)
    t0 = time.perf_counter()
    trainer.run(emit)
    if timed:
        timed.close()
    total = time.perf_counter() - t0
    if not timed:
        return total, 0.0, 0.0, 0
    busy = timed.writer.publish_cpu_seconds if background else 0.0
    return total, timed.seconds, busy, out.stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default=DEFAULT_PRESET)
    ap.add_argument("--epochs", type=int, help="default: the preset's")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    ap.add_argument("--no-fsync", action="store_true", help="commit without fsync")
    ap.add_argument("--snapshot-every", type=int, metavar="K",
                    help="the writer keeps every K-th epoch's snapshot (default: all)")
    ap.add_argument("--foreground", action="store_true",
                    help="publish commits on the training thread, not in the background")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    over = {"device": args.device}
    if args.epochs:
        over["optim.epochs"] = args.epochs
    for item in args.set:
        key, value = item.split("=", 1)
        over[key] = parse_value(value)
    config = load_preset(args.preset).with_overrides(over)
    dataset = load_dataset(config.data, config.seed)
    print(f"{args.preset}: {config.optim.epochs} epochs, {dataset.n_train} train images, "
          f"device {args.device}, {torch.get_num_threads()} threads, "
          f"fsync {'off' if args.no_fsync else 'on'}", flush=True)
    without, with_, inside, busy = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = (False, True) if r % 2 == 0 else (True, False)
            for write in order:
                out = Path(tmp) / f"round{r}.h5" if write else None
                total, spent, cpu, size = train_once(config, dataset, out, not args.no_fsync,
                                                     not args.foreground, args.snapshot_every)
                (with_ if write else without).append(total)
                if write:
                    inside.append(spent)
                    busy.append(cpu)
                    print(f"  round {r + 1}: with writer {total:7.2f} s (training thread in "
                          f"writer {spent:.3f} s, publishing thread CPU {cpu:.3f} s, file "
                          f"{size / 1e6:.1f} MB)", flush=True)
                else:
                    print(f"  round {r + 1}: without     {total:7.2f} s", flush=True)
    a, b = statistics.median(without), statistics.median(with_)
    w, c = statistics.median(inside), statistics.median(busy)
    lo_a, lo_b = min(without), min(with_)
    print(f"median without writer: {a:.3f} s   (fastest {lo_a:.3f} s)")
    print(f"median with writer:    {b:.3f} s   (fastest {lo_b:.3f} s)")
    print(f"overhead (difference of medians): {(b - a) / a:+.2%}   "
          f"(of the fastest rounds: {(lo_b - lo_a) / lo_a:+.2%})")
    print(f"training thread inside the writer: {w:.3f} s = {w / a:.2%} of training time")
    print(f"publishing thread CPU (beside training): {c:.3f} s = {c / a:.2%}")


if __name__ == "__main__":
    main()
