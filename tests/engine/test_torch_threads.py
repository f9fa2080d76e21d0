"""Torch threads from the cores actually free (engine/threads.py, issue 18 item 5)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
import torch

from engine import threads
from engine.cli import main as cli_main
from engine.errors import ConfigError
from engine.threads import ThreadPacer, ThreadPolicy, busy_seconds, choose_threads
from session_support import tiny_config, tiny_trainer

STAT = """cpu  900 0 300 5000 0 0 0 0 0 0
cpu0 100 10 50 4000 20 5 5 0 0 0
cpu1 700 0 200 1000 0 0 0 30 0 0
intr 123 0 0
"""


@pytest.fixture
def four_of_eight_cores(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 4, 6}, raising=False)
    monkeypatch.setattr(threads, "cpu_quota", lambda: None)
    for var in ("LOCAL_WORLD_SIZE", "WORLD_SIZE", threads.ENV, "OMP_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)


def test_the_busy_time_of_this_process_cpus_is_read_from_proc_stat():
    hz = os.sysconf("SC_CLK_TCK")
    assert busy_seconds(STAT, {0}) == pytest.approx((100 + 10 + 50 + 5 + 5) / hz)  # no idle, iowait
    assert busy_seconds(STAT, {1}) == pytest.approx((700 + 200 + 30) / hz)         # steal counts
    assert busy_seconds(STAT, {0, 1}) == pytest.approx(1100 / hz)
    assert busy_seconds(STAT, {5}) == 0.0


def test_threads_take_the_free_cores(four_of_eight_cores):
    auto = ThreadPolicy()
    assert choose_threads(auto, others=0.0) == 4
    assert choose_threads(auto, others=1.8) == 2     # 2.2 free: two threads
    assert choose_threads(auto, others=2.9) == 1     # 1.1 free
    assert choose_threads(auto, others=7.0) == 1     # never none
    assert choose_threads(auto, others=0.3) == 3     # a core 30 % busy is not free


def test_the_window_keeps_a_core_and_torchrun_processes_share(four_of_eight_cores, monkeypatch):
    window = ThreadPolicy(reserve=1)
    assert choose_threads(window, others=0.0) == 3
    assert choose_threads(window, others=2.0) == 1
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert choose_threads(ThreadPolicy(), others=0.0) == 2
    assert choose_threads(ThreadPolicy(), others=3.0) == 1   # the other rank's threads count


def test_a_containers_cpu_quota_limits_the_cores(four_of_eight_cores, monkeypatch):
    monkeypatch.setattr(threads, "cpu_quota", lambda: 1.5)
    assert threads.core_limit() == 2
    assert choose_threads(ThreadPolicy(), others=0.0) == 2


def test_the_user_fixes_the_count(four_of_eight_cores, monkeypatch):
    assert ThreadPolicy.from_setting("3") == ThreadPolicy(3)
    assert ThreadPolicy.from_setting("auto", reserve=1) == ThreadPolicy(None, 1)
    monkeypatch.setenv(threads.ENV, "2")
    assert ThreadPolicy.from_setting() == ThreadPolicy(2)
    assert choose_threads(ThreadPolicy.from_setting(), others=4.0) == 2   # whatever the load
    monkeypatch.delenv(threads.ENV)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert ThreadPolicy.from_setting() == ThreadPolicy(1)
    monkeypatch.setenv("WORLD_SIZE", "2")             # torchrun sets it to 1 itself
    assert ThreadPolicy.from_setting() == ThreadPolicy(None)
    for bad in ("many", "-1", "1.5"):
        with pytest.raises(ConfigError, match="positive count or 'auto'"):
            ThreadPolicy.from_setting(bad)


def test_another_process_keeping_a_core_busy_counts_and_this_one_does_not():
    load = threads.CoreLoad()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        load.others_busy()                       # a window with the burner at full speed
        time.sleep(0.6)
        with_burner = load.others_busy()
    finally:
        busy.kill()
        busy.wait()
    t0 = time.perf_counter()
    load.others_busy()
    while time.perf_counter() - t0 < 0.6:        # this process busy: not others' load
        pass
    own = time.process_time()
    alone = load.others_busy()
    assert with_burner >= 0.5                    # at least half a core for the burner
    # Without the burner, others' load is what the machine's other work is: at most the
    # cores there are; this process's own 0.6 s of work is not in it.
    assert 0.0 <= alone <= threads.usable_cores() and own > 0


def test_a_run_sets_its_threads_at_the_start_and_follows_the_load(monkeypatch):
    seen = []
    load = iter([0.0, 2.0, 2.0, 0.0, 0.0])
    monkeypatch.setattr(threads.LOAD, "others_busy", lambda: next(load))
    monkeypatch.setattr(threads, "core_limit", lambda: 2)
    monkeypatch.setattr(threads, "usable_cores", lambda: 2)
    monkeypatch.setattr(threads, "RECHECK_EVERY", 0.0)
    trainer = tiny_trainer(tiny_config("plain", epochs=4))
    real = type(trainer)._train_epoch
    trainer._train_epoch = lambda *a: seen.append(torch.get_num_threads()) or real(trainer, *a)
    with threads.using(ThreadPolicy()):
        trainer.run(lambda e: None, snapshots=False, checkpoints=False)
    assert seen == [2, 1, 1, 2]      # the load at the start, then at each epoch's end


def test_without_a_policy_runs_leave_the_threads_alone():
    assert threads.installed() is None
    torch.set_num_threads(1)
    try:
        pacer = ThreadPacer.for_this_process()
        pacer.epoch_ended()
        assert torch.get_num_threads() == 1 and pacer.policy is None
    finally:
        torch.set_num_threads(2)


def test_the_count_is_set_on_the_thread_that_trains():
    """The window trains on a thread of its own; torch's OpenMP count is per thread."""
    counts = {}

    def train():
        with threads.using(ThreadPolicy(1)):
            trainer = tiny_trainer(tiny_config("plain", epochs=1))
            trainer.run(lambda e: None, snapshots=False, checkpoints=False)
            counts["training thread"] = torch.get_num_threads()

    worker = threading.Thread(target=train)
    worker.start()
    worker.join()
    assert counts == {"training thread": 1}


def test_the_command_line_says_and_takes_the_thread_count(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    args = ["train", "--preset", "plain", "--epochs", "1", "--set", "data.limit=200",
            "--set", "model.hidden=[16]", "--device", "cpu", "--quiet"]
    assert cli_main([*args, "--out", str(tmp_path / "a.h5"), "--threads", "1"]) == 0
    assert "training [plain] on cpu (1 torch thread):" in capsys.readouterr().out
    monkeypatch.setenv(threads.ENV, "2")
    assert cli_main([*args, "--out", str(tmp_path / "b.h5")]) == 0
    assert "on cpu (2 torch threads):" in capsys.readouterr().out
    assert threads.installed() is None           # the command's policy ends with it
    assert cli_main([*args, "--out", str(tmp_path / "c.h5"), "--threads", "lots"]) == 2
    assert "threads must be a positive count or 'auto'" in capsys.readouterr().err
