"""precision=bfloat16: training steps under bf16 autocast, everything else float32."""

import numpy as np
import pytest
import torch

from engine.errors import ConfigError
from engine.events import CheckpointSaved, EpochEnded
from session_support import (Recorder, StopAfter, single_torch_thread, tiny_config,
                             tiny_trainer)



def _run(cfg, control=None, checkpoint=None):
    trainer = tiny_trainer(cfg, checkpoint=checkpoint)
    seen = []
    layer = trainer.model.decoder.net[0]
    handle = layer.register_forward_hook(
        lambda m, i, out: seen.append((torch.is_grad_enabled(), out.dtype)))
    rec = Recorder()
    with single_torch_thread():
        trainer.run(rec, control)
    handle.remove()
    return trainer, rec, seen


def test_bf16_trains_in_bf16_and_validates_in_float32():
    cfg = tiny_config("variational", epochs=2, precision="bfloat16")
    trainer, rec, seen = _run(cfg)
    assert {dtype for grad, dtype in seen if grad} == {torch.bfloat16}       # training steps
    assert {dtype for grad, dtype in seen if not grad} == {torch.float32}    # validation
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    _, rec32, _ = _run(cfg.with_overrides({"precision": "float32"}))
    bf16, fp32 = rec.of(EpochEnded)[-1].val, rec32.of(EpochEnded)[-1].val
    for k in fp32:  # the same run to bf16's precision: 8 bits of mantissa, float32 sums
        assert bf16[k] == pytest.approx(fp32[k], rel=0.02, abs=0.5), k


def test_a_bf16_run_resumes_exactly():
    cfg = tiny_config("denoising", epochs=2, precision="bfloat16")
    whole, _, _ = _run(cfg)
    _, rec, _ = _run(cfg, StopAfter(6))
    ck = rec.of(CheckpointSaved)[-1].checkpoint
    assert (ck.epoch, ck.position) == (1, 1)
    resumed, _, _ = _run(cfg, checkpoint=ck)
    for (k, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


def test_an_unknown_precision_is_refused_at_its_field():
    with pytest.raises(ConfigError) as e:
        tiny_config("plain", precision="float16")
    assert e.value.field == "precision" and "bfloat16" in str(e.value)
