"""The Qt-free pieces of the pretraining views: the form, code tiles, mosaics, the worker's axis."""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.presets import load_preset
from gui.forms.config_form import config_from_form, form_from_config
from gui.panels.mosaic import MosaicRow, code_tile_shape, codes_as_tiles, row_mosaic
from gui.forms.pretrain_form import KINDS, STAGE_EPOCHS, WIDTHS


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
    no_noise = dataclasses.replace(v, kinds={**v.kinds, "denoising": False})
    _, errors = config_from_form(base, no_noise)
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


def test_the_run_model_lays_a_jobs_runs_on_one_axis():
    """Offsets are data of the run model: each run starts where the one before it ended."""
    from engine.events import (DatasetInfo, EpochEnded, JobStarted, RunOpened, RunPlan,
                               RunStarted)
    from gui.run.model import RunModel
    cfg = load_preset("stacked-pretraining")
    data = DatasetInfo(source="x", image_shape=(1, 28, 28), n_train=100, n_val=10,
                       probe_images=np.zeros((2, 1, 28, 28), np.float32), probe_labels=None,
                       map_labels=None, map_factors=None)
    model = RunModel()
    model.on_event(JobStarted("pretrain", "pretrain", "t", "{}", (
        RunPlan("stage-1", "s1", "stage", {"epochs": 2}), RunPlan("stage-2", "s2", "stage",
                                                                  {"epochs": 2}))))
    for run_id, steps in (("stage-1", 35), ("stage-2", 35)):
        model.on_event(RunOpened("pretrain", run_id))
        model.on_event(RunStarted(config=cfg, device="cpu", n_parameters=1, term_names=("total",),
                                  data=data, steps_per_epoch=steps, start_epoch=1, start_step=0,
                                  total_epochs=2))
        for epoch in (1, 2):
            model.on_event(EpochEnded(epoch=epoch, step=epoch * steps, train={"total": 1.0},
                                      val={"total": 2.0}, wall_time=0.1, samples_per_sec=1.0))
    s1, s2 = model.runs["stage-1"], model.runs["stage-2"]
    assert (s1.step_offset, s1.epoch_offset) == (0, 0)
    assert (s2.step_offset, s2.epoch_offset) == (70, 2)
    assert model.planned_steps() == 140
