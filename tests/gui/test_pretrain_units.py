"""The Qt-free pieces of the pretraining views: the form, code tiles, mosaics, the worker's axis."""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.events import StepMetrics
from engine.presets import load_preset
from gui.config_form import config_from_form, form_from_config
from gui.mosaic import MosaicRow, code_tile_shape, codes_as_tiles, row_mosaic
from gui.pretrain_form import KINDS, STAGE_EPOCHS, WIDTHS


def test_form_round_trips_the_pretraining_preset_and_names_bad_stage_fields():
    base = load_preset("stacked-pretraining")
    v = form_from_config(base)
    assert v.pretraining.enabled and v.pretraining.widths == "256, 64"
    cfg, errors = config_from_form(base, v)
    assert not errors and cfg.to_dict() == base.to_dict()
    bad = dataclasses.replace(v.pretraining, widths="256, 0", stage_epochs="many")
    _, errors = config_from_form(base, dataclasses.replace(v, pretraining=bad))
    assert "Stage 2 width" in errors[WIDTHS] and STAGE_EPOCHS in errors
    # Denoising stages need a corruption: the reason points at the Kind box to tick.
    _, errors = config_from_form(base, dataclasses.replace(v, denoising=False))
    assert "tick 'denoising'" in errors[KINDS]
    off = dataclasses.replace(v, pretraining=dataclasses.replace(v.pretraining, enabled=False))
    cfg, errors = config_from_form(base, off)
    assert not errors and cfg.pretraining is None


def test_codes_become_square_tiles_in_display_range():
    assert code_tile_shape(256) == (16, 16) and code_tile_shape(32) == (4, 8)
    assert code_tile_shape(37)[0] > 1                   # a prime: padded, not a 1 x 37 stripe
    codes = np.linspace(-1, 1, 3 * 64, dtype=np.float32).reshape(3, 1, 1, 64)
    tiles = codes_as_tiles(codes, (-1.0, 1.0), target=32)
    assert tiles.shape == (3, 32, 32) and tiles.min() == 0.0 and tiles.max() == 1.0
    mosaic, centres = row_mosaic([MosaicRow("codes", tiles),
                                  MosaicRow("images", np.zeros((3, 28, 28)), gap_before=8)])
    assert mosaic.shape == (32 + 1 + 8 + 28, 3 * 33 - 1)
    assert [t for _, t in centres] == ["codes", "images"] and centres[1][0] == 32 + 1 + 8 + 14


def test_worker_lays_the_stages_on_one_axis():
    from engine.pretraining import PretrainConfig
    from engine.pretraining.events import StageStarted
    from gui.pretrain_worker import PretrainingWorker
    cfg = PretrainConfig.from_run_config(load_preset("stacked-pretraining"))
    worker = PretrainingWorker(cfg)
    seen = []
    worker.stage_event.connect(seen.append)
    worker._forward = seen.append                     # what would become signals
    worker._on_event(StageStarted(stage=2, n_stages=2, role="layer", input_dim=256, width=64,
                                  kind="denoising", likelihood="bernoulli", epochs=20,
                                  config_json="{}", step_offset=700, epoch_offset=20))
    worker._on_event(StepMetrics(epoch=1, step=3, batch=3, batches=35, terms={},
                                 samples_per_sec=1.0, wall_time=0.1, stage=2))
    assert (seen[-1].step, seen[-1].epoch, seen[-1].stage) == (703, 21, 2)
