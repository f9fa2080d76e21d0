"""The GUI's Qt-free pieces: coalescing, smoothing, projections, the settings form."""

from __future__ import annotations

import numpy as np

from engine.events import StepMetrics
from engine.presets import load_preset
from gui.run.coalescing import StepCoalescer
from gui.forms.config_form import config_from_form, form_from_config
from gui.panels.latent_projection import dims_projection, grid_points, pca_projection
from gui.panels.reconstructions import ReconLayout
from gui.run.series import SeriesBuffer, ema


def _step(i: int) -> StepMetrics:
    return StepMetrics(epoch=1, step=i, batch=i, batches=100, terms={"total": float(i)},
                       samples_per_sec=1.0, wall_time=i / 10)


def test_coalescer_batches_steps_by_time():
    now = [0.0]
    c = StepCoalescer(interval=1 / 30, clock=lambda: now[0])
    due = []
    for i in range(1, 301):          # 300 steps over one second
        now[0] = i / 300
        due.append(c.add(_step(i)))
        if due[-1]:
            c.take()
    assert 25 <= sum(due) <= 31      # about 30 batches a second, not 300
    batch = c.take()
    assert batch is None or batch.steps[-1] == 300


def test_coalescer_batch_holds_every_step_in_order():
    c = StepCoalescer(interval=10.0)
    for i in range(1, 6):
        c.add(_step(i))
    b = c.take()
    assert b.steps.tolist() == [1, 2, 3, 4, 5]
    assert b.terms["total"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert b.last.step == 5 and c.take() is None


def test_ema_matches_the_recurrence_and_continues_across_batches():
    rng = np.random.default_rng(0)
    y = rng.standard_normal(5000)
    w = 0.95
    ref = np.empty_like(y)
    s = y[0]
    for i, v in enumerate(y):
        s = w * s + (1 - w) * v
        ref[i] = s
    assert np.allclose(ema(y, w), ref)
    first = ema(y[:1234], w)
    assert np.allclose(np.concatenate([first, ema(y[1234:], w, first[-1])]), ref)


def test_series_buffer_grows():
    b = SeriesBuffer(capacity=2)
    for k in range(10):
        b.extend(np.array([k, k + 0.5]), np.array([1.0, 2.0]))
    assert len(b) == 20 and b.x[-1] == 9.5
    np.testing.assert_array_equal(b.x[::2], np.arange(10))


def test_projections_round_trip_on_the_plane():
    rng = np.random.default_rng(1)
    codes = rng.standard_normal((200, 6)) * np.arange(1, 7)
    hold = codes.mean(0)
    for proj in (pca_projection(codes, hold), dims_projection(6, 2, 4, hold)):
        pts = rng.standard_normal((5, 2))
        z = proj.to_latent(pts)
        assert np.allclose(proj.project(z), pts, atol=1e-5)
        # Off the plane, the codes keep the hold point's coordinates.
        off = z - hold - (proj.project(z) - proj.project(hold[None])) @ proj.basis
        assert np.allclose(off, 0, atol=1e-5)
    pca = pca_projection(codes, hold)
    assert abs(pca.basis[0, 5]) > 0.9     # the widest dimension comes first


def test_grid_points_rows_start_at_the_top():
    g = grid_points((0, 1), (0, 1), 2)
    assert g[0, 1] > g[-1, 1] and g[0, 0] < g[1, 0]


def test_form_reports_every_bad_field_with_its_name():
    base = load_preset("variational")
    v = form_from_config(base)
    cfg, errors = config_from_form(base, v)
    assert cfg is not None and not errors
    v.fields.update({"optim.lr": "fast", "model.latent_dim": "0", "model.hidden": "12, x",
                     "optim.epochs": "-3"})
    cfg, errors = config_from_form(base, v)
    assert cfg is None
    assert set(errors) == {"optim.lr", "model.latent_dim", "model.hidden", "optim.epochs"}
    assert "model.latent_dim must be an integer from 1" in errors["model.latent_dim"]


def test_form_kinds_map_onto_config_fields():
    base = load_preset("plain")
    v = form_from_config(base)
    v.kinds.update(sparse=True, denoising=True, variational=True)
    v.fields.update({"objective.sparsity": "0.01", "objective.corruption": "gaussian",
                     "objective.corruption_level": "0.2"})
    cfg, errors = config_from_form(base, v)
    assert not errors
    assert cfg.kinds() == ["sparse", "denoising", "variational"]
    assert cfg.objective.corruption == "gaussian" and cfg.objective.sparsity == 0.01
    v.fields["objective.sparsity"] = "0"
    _, errors = config_from_form(base, v)
    assert "objective.sparsity" in errors


def test_engine_errors_land_at_their_field():
    """The form reads the field from the engine's ConfigError, not from its text."""
    base = load_preset("plain")
    v = form_from_config(base)
    v.fields.update({"model.hidden": "400, 0", "seed": "-1"})
    _, errors = config_from_form(base, v)
    assert "model.hidden[1] must be an integer from 1" in errors["model.hidden"]
    assert errors["seed"].startswith("seed must be an integer")


def test_recon_layout_finds_the_clicked_cell():
    lay = ReconLayout(n=10, cols=4, rows=("original", "reconstruction"), h=28, w=28)
    assert lay.cell_at(1, 1) == (0, "original")
    assert lay.cell_at(29 * 3 + 2, 29 + 2) == (3, "reconstruction")
    band = lay.band_height
    assert lay.cell_at(29 + 2, band + 1) == (5, "original")
    assert lay.cell_at(29 * 3 + 2, 2 * band + 1) is None      # past the last image


def test_epoch_marker_label_stays_inside_the_plot(qtbot):
    from gui.panels.loss_curves import LossCurvesPanel
    panel = LossCurvesPanel()
    qtbot.addWidget(panel)
    panel.resize(560, 340)
    panel.show()
    panel.reset(["total"])
    panel.plan_steps(1080)                       # a live run: the axis spans the plan
    x = np.arange(1, 401, dtype=float)
    panel.append_rows(x, x // 36 + 1, {"total": 200 - x / 10})
    panel.redraw()
    view = panel.plot.getViewBox().sceneBoundingRect()
    for step in (20, 360, 700, 1060):            # either half, near either edge
        panel.mark_epoch(step, step // 36)
        qtbot.wait(10)
        label = panel.epoch_line.label
        assert label.toPlainText() == f"epoch {step // 36}"
        assert view.contains(label.sceneBoundingRect()), step


def test_the_window_trains_with_the_free_cores_but_one(monkeypatch):
    import os

    from engine import threads
    from gui.app import training_threads
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {1, 3, 5}, raising=False)
    monkeypatch.setattr(threads, "cpu_quota", lambda: None)
    for var in ("LOCAL_WORLD_SIZE", threads.ENV, "OMP_NUM_THREADS"):
        monkeypatch.delenv(var, raising=False)
    assert training_threads(others=0.0) == 2      # three cores free, one for the GUI thread
    assert training_threads(others=2.0) == 1      # other work holds two of them
    monkeypatch.setenv(threads.ENV, "banana")     # a bad setting: said, and the load followed
    assert training_threads(others=0.0) == 2
