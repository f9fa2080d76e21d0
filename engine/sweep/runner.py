"""Training a sweep's runs: several worker processes at a time, torch's threads divided among them.

Two runs that each use every core are slower together than one after the
other on a small machine (their thread teams wait on each other), so each
of ``jobs`` processes gets ``cores // jobs`` torch threads. Each run is an
:mod:`engine.sweep.worker` process writing its own session; the runner
prints a line when a run starts and when it ends (and, unless quiet, the
runs' epoch lines), and rewrites the folder's index after every run.

Ctrl+C stops every running run after its current batch — each keeps its
epochs — and the index says what is done; the same command again skips
the completed runs and continues the others from their checkpoints.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import engine
from engine.errors import ConfigError, StudioError
from engine.jobs.folder import RunFolder, identity
from engine.session import Session
from engine.sweep.index import IndexedRun, SweepIndex, read_index
from engine.sweep.plan import SweepRun
from engine.sweep.worker import BUSY, LOCK_WAIT_S

INTERRUPTED = 130


@dataclass
class SweepOutcome:
    """How a sweep call ended: ``interrupted``, and the index as written."""

    index: SweepIndex
    interrupted: bool = False
    busy: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """130 after Ctrl+C; 1 when a run failed or another process holds one (the sweep
        is not done); else 0."""
        if self.interrupted:
            return INTERRUPTED
        return 1 if self.busy or any(r.status == "failed" for r in self.index.runs) else 0


def threads_per_job(jobs: int, cores: int | None = None) -> int:
    """torch threads for each of ``jobs`` processes sharing ``cores`` (at least one)."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, jobs))


def new_index(base_identity: dict, axes, runs: list[SweepRun]) -> SweepIndex:
    return SweepIndex(base=base_identity,
                      axes=[{"field": a.field, "values": list(a.values)} for a in axes],
                      runs=[IndexedRun(name=r.name, file=r.file_name, values=r.values)
                            for r in runs])


def prepare_folder(folder: Path, index: SweepIndex, force: bool) -> SweepIndex:
    """The index to continue in ``folder``: the stored one when it is this sweep's, else new.

    Raises
    ------
    ConfigError
        The folder holds another sweep (without ``force``, which removes that sweep's
        session files first), is a file, or cannot be made or written in.
    """
    RunFolder(folder).prepare("the sweep")
    try:
        old = read_index(folder)
    except StudioError:
        old = None
    if old is not None and not old.same_plan(index):
        if not force:
            raise ConfigError(f"{folder} already holds another sweep (of "
                              f"{', '.join(old.fields)} on other settings); choose another "
                              f"--out, or pass --force to replace it", "--out")
        for r in old.runs:
            (folder / r.file).unlink(missing_ok=True)
        old = None
    if old is not None:
        by_name = {r.name: r for r in old.runs}
        index.runs = [by_name.get(r.name, r) for r in index.runs]
    elif force:
        for r in index.runs:
            (folder / r.file).unlink(missing_ok=True)
    index.write(folder)
    return index


def read_result(path: Path, entry: IndexedRun) -> None:
    """Fill ``entry`` from the run's session file (status, epochs, final terms)."""
    try:
        with Session.open(path) as s:
            run = s.run()
            eh = run.epoch_history
            entry.status = run.status
            entry.epochs = run.epochs_trained
            entry.seconds = float(eh["wall_time"][-1]) if len(eh["wall_time"]) else 0.0
            entry.final = {part: {t: float(v[-1]) for t, v in eh[part].items() if len(v)}
                           for part in ("train", "val")}
            entry.message = run.status_message or ""
    except StudioError as e:
        entry.status, entry.message = "failed", str(e)


def terms_words(terms: dict) -> str:
    return " ".join(f"{k} {v:.4g}" for k, v in terms.items())


class SweepRunner:
    """Runs the planned runs of one sweep folder (see the module docstring).

    Parameters
    ----------
    folder : the sweep folder (its index already prepared).
    runs : the planned runs, in index order.
    jobs : processes at a time.
    say : where progress lines go (``print`` by default).
    quiet : no epoch lines from the runs.
    lock_wait_s : how long a worker waits for a run another process holds.
    weights_budget : bytes of weights each run's session keeps (None: the writer's default).
    """

    def __init__(self, folder: Path, index: SweepIndex, runs: list[SweepRun], jobs: int = 1,
                 quiet: bool = False, say=print, poll_s: float = 0.1,
                 lock_wait_s: float = LOCK_WAIT_S, weights_budget: int | None = None):
        self.folder, self.index, self.runs = folder, index, runs
        self.weights_budget = weights_budget
        self.jobs = max(1, int(jobs))
        self.threads = threads_per_job(self.jobs)
        self.quiet, self.say, self.poll_s = quiet, say, poll_s
        self.lock_wait_s = lock_wait_s
        self._lines: queue.Queue = queue.Queue()
        self._interrupted = threading.Event()

    def todo(self) -> list[int]:
        """Indices of the runs still to train (completed ones are kept)."""
        out = []
        for i, r in enumerate(self.index.runs):
            path = self.folder / r.file
            if r.status == "completed" and path.exists():
                continue
            if path.exists():
                read_result(path, r)   # killed runs leave 'running' in the index
                if r.status == "completed":
                    continue
            out.append(i)
        return out

    def run(self) -> SweepOutcome:
        todo = self.todo()
        n = len(self.index.runs)
        done = n - len(todo)
        self.say(f"sweep of {', '.join(self.index.fields)}: {n} runs into {self.folder}"
                 + (f" ({done} already done)" if done else "")
                 + f"; {min(self.jobs, max(1, len(todo)))} at a time, {self.threads} torch "
                   f"thread{'s' if self.threads > 1 else ''} each")
        outcome = SweepOutcome(self.index)
        running: dict[int, tuple[subprocess.Popen, float]] = {}
        previous = signal.getsignal(signal.SIGINT)
        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            signal.signal(signal.SIGINT, lambda *_: self.interrupt(running))
        try:
            while todo or running:
                while todo and len(running) < self.jobs and not self._interrupted.is_set():
                    i = todo.pop(0)
                    running[i] = (self._start(i), time.perf_counter())
                self._drain()
                for i, (proc, t0) in list(running.items()):
                    if proc.poll() is not None:
                        del running[i]
                        proc.stdin.close()
                        self._drain()
                        self._finished(i, proc, outcome)
                if self._interrupted.is_set() and not running:
                    break
                time.sleep(self.poll_s)
        finally:
            if in_main:
                signal.signal(signal.SIGINT, previous)
            for proc, _ in running.values():   # only after an error in the runner itself
                proc.kill()
        outcome.interrupted = self._interrupted.is_set()
        self.index.write(self.folder)
        left = [r.name for r in self.index.runs if r.status != "completed"]
        if outcome.interrupted:
            self.say(f"interrupted: {n - len(left)} of {n} runs complete; the same command "
                     f"again continues the other {len(left)}")
        elif outcome.busy:
            self.say(f"{len(outcome.busy)} run(s) held by another process "
                     f"({', '.join(outcome.busy)}): the same command again continues them "
                     f"once it is done")
        return outcome

    def interrupt(self, running: dict) -> None:
        """Stop launching runs; ask each running one to stop after its batch (once)."""
        if self._interrupted.is_set():
            return
        self._interrupted.set()
        self.say("stopping: each running run saves its epochs (its file keeps them)...")
        for proc, _ in list(running.values()):
            try:
                proc.send_signal(signal.SIGINT)
            except OSError:
                pass

    # -- one run ---------------------------------------------------------------------------
    def _start(self, i: int) -> subprocess.Popen:
        entry, plan = self.index.runs[i], self.runs[i]
        entry.status = "running"
        self.index.write(self.folder)
        root = str(Path(engine.__file__).resolve().parents[1])
        env = dict(os.environ)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(self.threads)
        # A session of its own: the terminal's Ctrl+C reaches only the runner, which asks
        # each run to stop once (a second SIGINT would abort a run mid-commit).
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine.sweep.worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
            start_new_session=True)
        # The job, then the pipe stays open until the run ends: when this process ends in
        # any way, the pipe closes and the worker stops (see engine.sweep.worker).
        try:
            proc.stdin.write(json.dumps({"config": plan.config.to_dict(),
                                         "out": str(self.folder / entry.file),
                                         "threads": self.threads,
                                         "lock_wait_s": self.lock_wait_s,
                                         "weights_budget": self.weights_budget}) + "\n")
            proc.stdin.flush()
        except OSError:
            pass   # the worker is already gone: its exit code says why
        threading.Thread(target=self._read, args=(entry.name, proc), daemon=True).start()
        self.say(f"[{i + 1}/{len(self.index.runs)}] {entry.name}: started")
        return proc

    def _read(self, name: str, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            self._lines.put((name, line.rstrip("\n")))

    def _drain(self) -> None:
        while True:
            try:
                name, line = self._lines.get_nowait()
            except queue.Empty:
                return
            problem = line.startswith(("error:", "note:", "Traceback", "failed:"))
            if line and (problem or not self.quiet):
                self.say(f"  {name} | {line}")

    def _finished(self, i: int, proc: subprocess.Popen, outcome: SweepOutcome) -> None:
        entry = self.index.runs[i]
        path = self.folder / entry.file
        if proc.returncode == BUSY:
            # Its file says how far the other process is; the index says so too.
            if path.exists():
                read_result(path, entry)
            entry.message = "another process is training it"
            outcome.busy.append(entry.name)
            words = (f"skipped: another process is training it (its file says "
                     f"{entry.status}, {entry.epochs} epochs)")
        else:
            if path.exists():
                read_result(path, entry)
            else:
                entry.status = "failed" if proc.returncode else "planned"
                entry.message = f"the run ended (exit code {proc.returncode}) before its first epoch"
            final = entry.final.get("val") or entry.final.get("train") or {}
            part = "val" if entry.final.get("val") else "train"
            words = f"{entry.status}, {entry.epochs} epoch{'s' if entry.epochs != 1 else ''}" \
                    f" in {entry.seconds:.1f} s" + (f" — {part} {terms_words(final)}" if final
                                                    else "")
            if entry.status == "failed" and entry.message:
                words += f" ({entry.message})"
        self.index.write(self.folder)
        self.say(f"[{i + 1}/{len(self.index.runs)}] {entry.name}: {words}")


def base_identity(base) -> dict:
    """The plan's identity in the index: the base config without its device."""
    return identity(base)
