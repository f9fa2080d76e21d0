"""Session size and disk writes: how a session grows with epochs and parameters (issue 18).

Each section trains for real, in this process, and prints figures measured in this run,
with the load average beside them. "before" is the earlier writing policy emulated by
the same writer (the weights of every epoch, the checkpoint at every epoch's end:
``weights_budget=inf, checkpoint_seconds=0``), run alternately with "after" (the defaults).
Bytes written are the process's own (``/proc/self/io``): ``write_bytes`` minus
``cancelled_write_bytes`` (pages dirtied and then deleted before they reached the disk),
and ``wchar`` (every byte passed to write calls, page cache or not) beside it.

- ``growth``: ``variational --set data.limit=1000``, 10 and 40 epochs: file size, the
  40/10 ratio (target <= 1.5), bytes written / file size (target <= 3), checkpoints written;
  the runs' events written as fast as the writer takes them (as where the run trains in
  seconds), and the 40-epoch run trained while written on this machine (at its load, more
  checkpoints: one per ~30 s of training).
- ``follow``: the 40-epoch run while another process follows the file as the window does
  (opens each new version, reads its new epochs, lets go): bytes written / file size,
  whole-file copies.
- ``export``: every epoch of the 40-epoch session exports (``export --epoch N --out
  --onnx``), and which epoch's weights each decodes with.
- ``default``: the default 30-epoch ``variational`` session (target <= 15 MB).
- ``share``: the training thread's time inside the writer, as a share of training.
- ``thinning``: which epochs to keep weights at — replay error (RMS pixel difference of
  decoded prior samples between an epoch's own weights and those it gets) and sets written,
  for several schemes at the same budget.
- ``conv``: a 7.6 M-parameter convolutional VAE on 64x64 RGB images (random blobs in a
  ``.npy``): the file after each epoch, its growth per epoch after the first ones, and a
  100-epoch session extrapolated (target <= 300 MB).

Run: ``python benchmarks/bench_session_size.py [--sections growth,follow,...] [--quick]``
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.data import load_dataset  # noqa: E402
from engine.events import CheckpointSaved, EpochSnapshot  # noqa: E402
from engine.presets import load_preset  # noqa: E402
from engine.session import Session, SessionWriter, layout  # noqa: E402
from engine.trainer import Trainer  # noqa: E402

BEFORE = {"weights_budget": 10**15, "checkpoint_seconds": 0.0}
AFTER: dict = {}
ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("growth", "follow", "export", "default", "share", "thinning", "conv")


def load() -> str:
    return "load average %.1f %.1f %.1f" % os.getloadavg()


def io_now() -> dict[str, int]:
    out = {}
    with open("/proc/self/io") as f:
        for line in f:
            k, v = line.split(":")
            out[k] = int(v)
    return out


class Measured:
    """One recorded run: file size, bytes written, checkpoints written, seconds.

    ``config`` is trained while it is written; or ``events`` (a run recorded before)
    are written as fast as the writer takes them: what the run writes on a machine
    where it trains in a few seconds (one checkpoint, at its end), whatever the load here.
    """

    def __init__(self, config, dataset, path: Path, listeners=(), events=None,
                 **writer_options):
        self.checkpoints = 0
        real = layout.write_checkpoint

        def counted(run, ck):
            self.checkpoints += 1
            real(run, ck)
        layout.write_checkpoint = counted
        try:
            a, t0 = io_now(), time.perf_counter()
            writer = SessionWriter(path, force=True, **writer_options)

            def emit(event):
                writer(event)
                for listener in listeners:
                    listener(event)
            if events is None:
                Trainer(config, dataset).run(emit)
            else:
                for event in events:
                    emit(event)
            writer.close()
            self.seconds = time.perf_counter() - t0
            b = io_now()
        finally:
            layout.write_checkpoint = real
        self.copies = writer.copies
        self.size = path.stat().st_size
        self.disk = (b["write_bytes"] - a["write_bytes"]
                     - (b["cancelled_write_bytes"] - a["cancelled_write_bytes"]))
        self.wchar = b["wchar"] - a["wchar"]

    def words(self) -> str:
        return (f"{self.size / 1e6:6.1f} MB, wrote {self.disk / 1e6:6.1f} MB "
                f"({self.disk / self.size:4.2f}x; wchar {self.wchar / self.size:4.2f}x), "
                f"{self.checkpoints} checkpoints, {self.seconds:5.1f} s")


def variational(epochs: int, **over):
    return load_preset("variational").with_overrides({"optim.epochs": epochs, "device": "cpu",
                                                      **over})


def recorded(config, dataset) -> list:
    """Every event of a run of ``config`` (trained once, nothing written)."""
    events = []
    Trainer(config, dataset).run(events.append)
    return events


def growth(tmp: Path, quick: bool) -> None:
    print(f"\n== growth: variational, data.limit=1000, 10 and 40 epochs ({load()})")
    data = load_dataset(variational(1, **{"data.limit": 1000}).data, 0)
    events = {e: recorded(variational(e, **{"data.limit": 1000}), data) for e in (10, 40)}
    print("  written as fast as the writer takes them (as on a machine where the run "
          "trains in seconds):")
    for name, options in (("before", BEFORE), ("after", AFTER)):
        runs = {e: Measured(None, None, tmp / f"{name}{e}.h5", events=ev, **options)
                for e, ev in events.items()}
        for e, m in runs.items():
            print(f"  {name:6} {e:2d} epochs: {m.words()}")
        print(f"  {name:6} 40/10 epochs size: {runs[40].size / runs[10].size:.2f}x "
              f"(target <= 1.5); 40 epochs wrote {runs[40].disk / runs[40].size:.2f}x its "
              f"size (target <= 3)   [{load()}]")
    m = Measured(variational(40, **{"data.limit": 1000}), data, tmp / "trained40.h5")
    print(f"  trained while written, here: {m.words()} ({m.disk / m.size:.2f}x: a "
          f"checkpoint per ~30 s of training)   [{load()}]")


FOLLOWER = """
import sys, time
from pathlib import Path
from engine.session.follow import FileWatch, open_released
path, stop = Path(sys.argv[1]), Path(sys.argv[2])
while not path.exists() and not stop.exists():
    time.sleep(0.01)
watch, seen, reads = FileWatch(path), set(), 0
while not stop.exists():
    if watch.changed():
        s = open_released(path)             # as gui/run/follower.py: read, then let go
        run = s.run()
        for e in run.snapshot_epochs[-3:]:
            if e not in seen:
                run.snapshot(e)
                seen.add(e)
        if run.snapshot_epochs:
            run.decoder(run.snapshot_epochs[-1])
        reads += 1
    time.sleep(float(sys.argv[3]))
print(reads)
"""


def follow(tmp: Path, quick: bool) -> None:
    print(f"\n== follow: the 40-epoch run while another process follows the file ({load()})")
    config = variational(40, **{"data.limit": 1000})
    data = load_dataset(config.data, 0)
    for interval in (0.5, 0.05):   # the window's poll, and a reader ten times as eager
        for name, options in (("before", BEFORE), ("after", AFTER)):
            path, stop = tmp / f"follow-{name}-{interval}.h5", tmp / "stop"
            stop.unlink(missing_ok=True)
            path.unlink(missing_ok=True)
            env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
            child = subprocess.Popen([sys.executable, "-c", FOLLOWER, str(path), str(stop),
                                      str(interval)], env=env, stdout=subprocess.PIPE, text=True)
            m = Measured(config, data, path, **options)
            stop.touch()
            reads = child.communicate(timeout=120)[0].strip()
            print(f"  {name:6} poll {interval:4.2f} s: {m.words()}, {m.copies} whole-file "
                  f"copies, {reads} reads by the follower")


def export(tmp: Path, quick: bool) -> None:
    from engine.cli import main as cli
    import contextlib
    import io
    path = tmp / "trained40.h5"
    if not path.exists():
        Measured(variational(40, **{"data.limit": 1000}), None, path)
    with Session.open(path) as s:
        run = s.run()
        epochs = run.snapshot_epochs if not quick else run.snapshot_epochs[::7]
        kept = run.weight_epochs
        used = {e: run.weights_epoch_for(e) for e in epochs}
    print(f"\n== export: {len(epochs)} epochs of the 40-epoch session, weights kept at "
          f"{kept} ({load()})")
    failed, t0 = [], time.perf_counter()
    for e in epochs:
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            rc = cli(["export", str(path), "--epoch", str(e), "--out", str(tmp / "png"),
                      "--onnx", str(tmp / f"e{e}.onnx"), "--force"])
        ok = rc == 0 and (tmp / f"e{e}.onnx").exists() and \
            (tmp / "png" / f"epoch{e:04d}_reconstructions.png").exists()
        if not ok:
            failed.append(e)
    print(f"  exported {len(epochs) - len(failed)} of {len(epochs)} epochs in "
          f"{time.perf_counter() - t0:.0f} s (failed: {failed or 'none'}); decoded with the "
          f"weights of: " + ", ".join(f"{e}->{k}" for e, k in used.items() if e != k))


def default(tmp: Path, quick: bool) -> None:
    print(f"\n== default: the 30-epoch variational session ({load()})")
    config = load_preset("variational").with_overrides({"device": "cpu"})
    events = recorded(config, load_dataset(config.data, 0))
    for name, options in (("before", BEFORE), ("after", AFTER)):
        m = Measured(None, None, tmp / f"default-{name}.h5", events=events, **options)
        print(f"  {name:6}: {m.words()} (target <= 15 MB)")
    with Session.open(tmp / "default-after.h5") as s:
        print(f"  weights kept at epochs {s.run().weight_epochs}")


def share(tmp: Path, quick: bool) -> None:
    rounds = 1 if quick else 3
    print(f"\n== share: the default preset's training thread inside the writer, {rounds} "
          f"alternating rounds ({load()})")
    config = load_preset("variational").with_overrides({"device": "cpu"})
    data = load_dataset(config.data, 0)
    results = {"before": [], "after": []}
    for r in range(rounds):
        for name in (("before", "after") if r % 2 == 0 else ("after", "before")):
            options = BEFORE if name == "before" else AFTER
            spent = [0.0]
            writer = SessionWriter(tmp / f"share-{name}.h5", force=True, **options)

            def timed(event):
                t = time.perf_counter()
                writer(event)
                spent[0] += time.perf_counter() - t
            t0 = time.perf_counter()
            Trainer(config, data).run(timed)
            t = time.perf_counter()
            writer.close()
            spent[0] += time.perf_counter() - t
            total = time.perf_counter() - t0
            results[name].append(spent[0] / total)
            print(f"  round {r + 1} {name:6}: {spent[0]:.2f} s of {total:.1f} s in the writer "
                  f"({spent[0] / total:.1%})")
    for name, shares in results.items():
        print(f"  {name:6}: median {np.median(shares):.1%} of training time   [{load()}]")


def thinning(tmp: Path, quick: bool) -> None:
    from engine.decoding import LatentDecoder
    from engine.session import weights as kept_weights
    epochs = 40 if quick else 100
    config = variational(epochs, **{"data.limit": 1000})
    print(f"\n== thinning: which epochs keep weights, variational, data.limit=1000 ({load()})")
    sets = {}
    Trainer(config, load_dataset(config.data, 0)).run(
        lambda e: sets.__setitem__(e.epoch, e.weights) if isinstance(e, EpochSnapshot) else None)
    z = np.random.default_rng(0).standard_normal((64, config.model.latent_dim)).astype("f4")
    images = {e: LatentDecoder(config, (1, 28, 28), w).decode(z) for e, w in sets.items()}
    one = kept_weights.set_bytes(sets[1]) / 1e6

    # Each scheme: the kept rows once a run has ``rows`` snapshots, from those kept before.
    def doubling(keep, rows, k):           # rows 0, d, 2d ...: evenly spaced, d doubling
        d = 1
        while (rows - 1) // d + 1 > k:
            d *= 2
        return set(range(0, rows, d))

    def first_k(keep, rows, k):
        return set(range(min(rows, k)))

    def latest_geometric(keep, rows, k):   # the latest and 1, 3, 7 ... rows back from it
        return {rows - 2 ** i for i in range(k) if rows - 2 ** i >= 0}

    def log_spaced(keep, rows, k):         # the writer's: epochs 1, 2, 4, 8 ... / 1, 4, 16 ...
        return set(kept_weights.kept_rows(rows, k))

    def hybrid(keep, rows, k):             # half the slots log-spaced, half evenly spaced
        return log_spaced(keep, rows, (k + 1) // 2) | doubling(keep, rows, k // 2 or 1)

    def even_replacing(keep, rows, k):     # the latest always; drop the row of least gap
        keep = set(keep) | {rows - 1}
        while len(keep) > k:
            order = sorted(keep)
            keep.discard(min((order[i + 1] - order[i - 1], order[i])
                             for i in range(1, len(order) - 1))[1])
        return keep

    for k, at in ((3, 40), (3, epochs), (6, epochs)):
        for name, scheme in (("log-spaced (the writer's)", log_spaced), ("doubling", doubling),
                             ("hybrid", hybrid), ("first k", first_k),
                             ("latest + 2^i back", latest_geometric),
                             ("latest + even, replacing", even_replacing)):
            written, keep = 0, set()
            for rows in range(1, at + 1):
                keep = scheme(keep, rows, k)
                written += (rows - 1) in keep
            keep_epochs = sorted({r + 1 for r in keep} | {at})   # + the checkpoint's
            err = [np.sqrt(np.mean((images[e] - images[kept_weights.nearest(keep_epochs, e)])
                                   ** 2)) for e in range(1, at + 1)]
            print(f"  {at:3d} epochs, {k} slots, {name:26}: replay error mean "
                  f"{np.mean(err):.4f} max {np.max(err):.4f}; sets written {written:2d} ({written * one:5.1f} MB); "
                  f"kept {keep_epochs}")


def conv(tmp: Path, quick: bool) -> None:
    epochs = 4 if quick else 6
    rng = np.random.default_rng(0)
    n, side = 96, 64
    yy, xx = np.mgrid[0:side, 0:side] / side
    images = np.zeros((n, side, side, 3), np.float32)
    for i in range(n):   # a few soft coloured blobs and a little noise: photo-like statistics
        for _ in range(4):
            cy, cx, r = rng.uniform(0, 1, 2).tolist() + [rng.uniform(0.05, 0.3)]
            blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
            images[i] += blob[..., None] * rng.uniform(0, 1, 3)
    images = np.clip(images / images.max(axis=(1, 2, 3), keepdims=True)
                     + rng.normal(0, 0.03, images.shape), 0, 1)
    np.save(tmp / "photos.npy", (images * 255).astype(np.uint8))
    config = load_preset("conv-vae").with_overrides({
        "model.hidden": [64, 128, 256], "model.latent_dim": 128, "optim.epochs": epochs,
        "optim.batch_size": 32, "data.source": "file", "data.path": str(tmp / "photos.npy"),
        "device": "cpu"})
    params = sum(p.numel() for p in Trainer(config).model.parameters())
    print(f"\n== conv: {params / 1e6:.2f} M-parameter conv VAE, {n} RGB images 64x64, "
          f"{epochs} epochs ({load()})")
    sizes = []
    path = tmp / "conv.h5"

    def size_after(event):
        if isinstance(event, CheckpointSaved):
            sizes.append(path.stat().st_size)
    m = Measured(config, None, path, listeners=[size_after], background=False)
    growth = np.diff(sizes)
    steady = float(np.median(growth[2:])) if len(growth) > 2 else float(growth[-1])
    print("  file after each epoch: " + ", ".join(f"{s / 1e6:.1f}" for s in sizes) + " MB")
    print(f"  final {m.words()}")
    print(f"  growth per epoch after the first ones: {steady / 1e6:.2f} MB")
    with Session.open(path) as s:
        one = 2 * params / 1e6
        print(f"  weights kept at epochs {s.run().weight_epochs}; one set {one:.1f} MB")
    at100 = m.size + (100 - epochs) * steady
    print(f"  100 epochs, extrapolated: {at100 / 1e6:.0f} MB with the default budget "
          f"(target <= 300 MB); {(at100 + 2 * one * 1e6) / 1e6:.0f} MB with "
          f"--weights-budget 50 (3 sets)   [{load()}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sections", default=",".join(SECTIONS),
                    help=f"comma-separated, of: {', '.join(SECTIONS)}")
    ap.add_argument("--quick", action="store_true", help="fewer rounds, epochs and exports")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"bench_session_size: {torch.get_num_threads()} torch thread(s), {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sections.split(","):
            globals()[name.strip()](Path(tmp), args.quick)


if __name__ == "__main__":
    main()
