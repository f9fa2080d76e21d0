"""Device and thread choices: the cores this process may use, shared under torchrun."""

import os

import pytest
import torch

from engine import device
from engine.device import resolve_device, torch_threads, usable_cores


@pytest.fixture
def four_of_eight_cores(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 2, 4, 6}, raising=False)
    monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)


def test_threads_follow_the_affinity_not_the_machine(four_of_eight_cores):
    assert usable_cores() == 4
    assert torch_threads() == 4
    assert torch_threads(reserve=1) == 3   # the window keeps a core for its GUI thread


def test_torchrun_processes_on_one_machine_share_its_cores(four_of_eight_cores, monkeypatch):
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert torch_threads() == 2
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "8")
    assert torch_threads() == 1            # never none


def test_auto_prefers_cuda_then_mps(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert device.available_devices()[:3] == ["cuda", "cuda:0", "cuda:1"]
    assert resolve_device("auto") == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")
