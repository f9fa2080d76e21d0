"""How many torch threads a training process takes: the cores actually free, never more.

Torch's default is a thread per core. On a machine that is busy with other
work (a laptop with a browser open, a shared server) that team of threads
waits on each other for cores other processes hold: beside two busy
processes on a 2-core machine, two threads trained a small VAE 2-3x slower
than one (``benchmarks/bench_threads.py``). So each run counts the cores
that are free — the cores this process may use (CPU affinity, a container's
CPU quota) less what other processes kept busy over the last moments — and
takes that many threads, less one for the window's GUI thread when there is
a window. It looks again at each epoch's end (reading ``/proc/stat`` costs
tens of microseconds) and follows the load as it changes.

The count is set on the thread that trains (torch's OpenMP threads are set
per calling thread), by :class:`ThreadPacer` in ``Trainer.run``, according
to the process's :class:`ThreadPolicy`:

- the command line and the window install one (:func:`installed`) that
  follows the free cores, or keeps the count the user fixed with
  ``--threads N`` or the environment variable ``STUDIO_THREADS=N`` (an
  ``OMP_NUM_THREADS`` set outside torchrun counts too);
- with none installed (the engine used as a library, the tests, a sweep's
  worker that was given its share) runs leave torch's threads as they are.

Seeded runs give the same numbers bit for bit at the same thread count;
different counts add in a different order (differences of about 1e-7 in a
step's terms). Fix the count for bitwise repeatability.
"""

from __future__ import annotations

import math
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import torch

from engine.device import usable_cores
from engine.errors import ConfigError

#: The environment variable that fixes the torch thread count ("auto" follows the load).
ENV = "STUDIO_THREADS"
#: A core counts as free when at least 1 - SLACK of it was idle.
SLACK = 0.25
#: The shortest window the load is averaged over (s), and the longest one still used.
MIN_WINDOW, STALE_AFTER = 0.1, 60.0
#: Seconds between two re-evaluations inside a run (at epoch ends).
RECHECK_EVERY = 1.0


@dataclass(frozen=True)
class ThreadPolicy:
    """How the runs of a process choose their torch threads.

    Attributes
    ----------
    fixed : the count the user set; None to follow the free cores.
    reserve : cores left to other work of this process (the window's GUI thread).
    """

    fixed: int | None = None
    reserve: int = 0

    @classmethod
    def from_setting(cls, value: str | int | None = None, reserve: int = 0) -> "ThreadPolicy":
        """The policy for ``value`` (a count or "auto"); None reads the environment.

        Raises
        ------
        ConfigError
            For a value that is neither a positive count nor "auto".
        """
        if value is None:
            value = os.environ.get(ENV)
        if value is None and "OMP_NUM_THREADS" in os.environ and "WORLD_SIZE" not in os.environ:
            value = os.environ["OMP_NUM_THREADS"]   # torchrun sets it to 1 itself: not a choice
        if value is None or str(value).strip().lower() in ("", "auto", "0"):
            return cls(None, reserve)
        try:
            count = int(value)
        except ValueError:
            count = 0
        if count < 1:
            raise ConfigError(f"threads must be a positive count or 'auto', not {value!r}",
                              "threads")
        return cls(count, reserve)


_policy: ThreadPolicy | None = None


def installed(policy: ThreadPolicy | None = None) -> ThreadPolicy | None:
    """The process's policy; with an argument, install it and return the one it replaces."""
    global _policy
    if policy is None:
        return _policy
    before, _policy = _policy, policy
    return before


def uninstall() -> None:
    """Back to no policy: runs leave torch's threads as they are (the engine as a library)."""
    global _policy
    _policy = None


@contextmanager
def using(policy: ThreadPolicy | None) -> Iterator[None]:
    """Install ``policy`` for a block (a command), then restore the policy and thread count."""
    global _policy
    before, threads = _policy, torch.get_num_threads()
    _policy = policy
    try:
        yield
    finally:
        _policy = before
        torch.set_num_threads(threads)


# -- measuring the load ----------------------------------------------------------------------
def cpu_quota() -> float | None:
    """Cores a container's CPU quota allows (cgroup v2, then v1); None when unlimited."""
    try:
        with open("/sys/fs/cgroup/cpu.max") as f:
            quota, period = f.read().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        with open("/sys/fs/cgroup/cpu/cpu.cfs_quota_us") as f:
            quota = int(f.read())
        with open("/sys/fs/cgroup/cpu/cpu.cfs_period_us") as f:
            period = int(f.read())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def core_limit() -> int:
    """Cores this process may use: its affinity, bounded by a container's quota."""
    quota = cpu_quota()
    cores = usable_cores()
    return max(1, min(cores, math.ceil(quota))) if quota else cores


class CoreLoad:
    """The cores other processes kept busy between two readings of the machine.

    Linux: the busy time of this process's CPUs (``/proc/stat``, one line per
    CPU) less this process's own CPU time. macOS: the 1-minute load average
    less this process's own use. Elsewhere (Windows) unknown: None.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = self._reading()

    @staticmethod
    def _reading() -> tuple[float, float | None, float]:
        """(wall s, busy s of this process's CPUs or None off Linux, this process's CPU s)."""
        wall, own = time.perf_counter(), time.process_time()
        try:
            cpus = set(os.sched_getaffinity(0))
            with open("/proc/stat") as f:
                text = f.read()
        except (AttributeError, OSError):
            return wall, None, own
        return wall, busy_seconds(text, cpus), own

    def others_busy(self) -> float | None:
        """Cores' worth of CPU that other processes used since the last call (>= 0), or None.

        Waits up to MIN_WINDOW when the last reading is too recent to say
        anything, and starts a fresh window when it is older than STALE_AFTER.
        """
        with self._lock:
            last = self._last
            if time.perf_counter() - last[0] > STALE_AFTER:
                last = self._reading()
            wait = MIN_WINDOW - (time.perf_counter() - last[0])
            if wait > 0:
                time.sleep(wait)
            now = self._reading()
            self._last = now
        wall = now[0] - last[0]
        own = (now[2] - last[2]) / wall
        if now[1] is not None and last[1] is not None:
            return max(0.0, (now[1] - last[1]) / wall - own)
        try:
            return max(0.0, os.getloadavg()[0] - own)   # macOS: a slower, coarser measure
        except (AttributeError, OSError):
            return None


def busy_seconds(stat: str, cpus: set[int]) -> float:
    """Seconds the CPUs ``cpus`` spent busy since boot, from the text of ``/proc/stat``.

    Busy is user, nice, system, irq, softirq and steal time; idle and iowait
    are not (guest time is inside user already).
    """
    names = {f"cpu{i}" for i in cpus}
    ticks = 0
    for line in stat.splitlines():
        name, _, rest = line.partition(" ")
        if name in names:
            user, nice, system, _idle, _iowait, irq, softirq, steal = map(
                int, (rest.split() + ["0"] * 8)[:8])
            ticks += user + nice + system + irq + softirq + steal
    return ticks / os.sysconf("SC_CLK_TCK")


LOAD = CoreLoad()  # its first reading is taken at import: the first run's window starts here


def free_cores(others: float | None = None) -> int:
    """Cores free for this process: its limit less other processes' load (at least 1).

    Parameters
    ----------
    others : cores' worth other processes use; None measures it (:class:`CoreLoad`).
    """
    limit = core_limit()
    if others is None:
        others = LOAD.others_busy()
    if others is None:  # nothing to measure with (Windows): the limit, as before
        return limit
    return max(1, min(limit, math.floor(usable_cores() - others + SLACK)))


def choose_threads(policy: ThreadPolicy, others: float | None = None) -> int:
    """Torch threads for one training process under ``policy`` (at least 1).

    Under torchrun the processes on one machine (``LOCAL_WORLD_SIZE``) share
    its cores: each takes at most its share, and the others' threads count
    as load.
    """
    if policy.fixed is not None:
        return policy.fixed
    share = core_limit() // max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))
    return max(1, min(share, free_cores(others)) - policy.reserve)


class ThreadPacer:
    """Sets the training thread's torch threads at a run's start and re-checks at epoch ends.

    Made by ``Trainer.run`` on the thread that trains. Does nothing when the
    process has no policy installed.
    """

    def __init__(self, policy: ThreadPolicy | None):
        self.policy = policy
        self.threads = torch.get_num_threads()
        self._checked = 0.0
        if policy is not None:
            self._apply()

    @classmethod
    def for_this_process(cls) -> "ThreadPacer":
        return cls(_policy)

    def epoch_ended(self) -> None:
        """Follow the load: choose again if the policy adapts and a second has passed."""
        if (self.policy is not None and self.policy.fixed is None
                and time.perf_counter() - self._checked >= RECHECK_EVERY):
            self._apply()

    def _apply(self) -> None:
        self._checked = time.perf_counter()
        threads = choose_threads(self.policy)
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
        self.threads = threads
