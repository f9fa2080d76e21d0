"""Your own distribution: drawn points as a data source, saved in the config, trained, resumed."""

import numpy as np
import pytest

from engine.cli import main
from engine.config import RunConfig
from engine.data import load_dataset
from engine.data.drawn import (MAX_POINTS, MIN_POINTS, decode_points, encode_points,
                               make_drawn, points_problem, spray)
from engine.errors import ConfigError, DataError
from engine.presets import load_preset
from engine.session import Session


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def _drawing(n_per_stroke=(60, 80), seed=0):
    rng = np.random.default_rng(seed)
    centres = [(0.25, 0.3), (0.7, 0.65), (0.5, 0.85)]
    parts = [spray(centres[k], 0.05, n, rng) for k, n in enumerate(n_per_stroke)]
    strokes = np.concatenate([np.full(len(p), k) for k, p in enumerate(parts)])
    return np.concatenate(parts), strokes


def test_points_and_strokes_round_trip_through_their_text_to_a_thousandth():
    pts, strokes = _drawing()
    text = encode_points(pts, strokes)
    back, back_strokes = decode_points(text)
    np.testing.assert_allclose(back, pts, atol=5e-4 + 1e-12)
    np.testing.assert_array_equal(back_strokes, strokes)
    assert text.count(";") == 1 and len(text) < 13 * len(pts)


def test_spray_fills_a_disc_around_the_cursor_inside_the_square():
    rng = np.random.default_rng(1)
    pts = spray((0.5, 0.5), 0.1, 4000, rng)
    r = np.hypot(*(pts - 0.5).T)
    assert r.max() <= 0.1 + 1e-12
    assert np.mean(r < 0.05) == pytest.approx(0.25, abs=0.03)   # uniform over the area
    corner = spray((0.0, 1.0), 0.1, 100, rng)
    assert corner.min() >= 0 and corner.max() <= 1


def test_a_drawing_is_a_data_set_labelled_by_stroke():
    pts, strokes = _drawing()
    data = make_drawn(encode_points(pts, strokes))
    assert data.images.shape == (len(pts), 1, 1, 2) and data.images.dtype == np.float32
    np.testing.assert_array_equal(data.labels, strokes)
    assert data.label_names == ("stroke 1", "stroke 2")
    assert "140 points, 2 strokes" in data.source


@pytest.mark.parametrize("text,words", [
    ("", f"at least {MIN_POINTS} points"),
    ("0.1,0.2 nonsense", "'nonsense', which is not a point"),
    (" ".join(["1.5,0.2"] * 20), "unit square"),
    (" ".join(["0.5,0.5"] * (MAX_POINTS + 1)), "at most"),
])
def test_bad_drawings_are_refused_at_data_points_with_the_reason(text, words):
    assert words in points_problem(text)
    cfg = load_preset("gan-toy")
    with pytest.raises(ConfigError) as e:
        cfg.with_overrides({"data.source": "drawn", "data.points": text})
    assert e.value.field == "data.points" and words in str(e.value)
    with pytest.raises(DataError, match="data.points"):
        make_drawn(text)


def test_the_largest_drawing_fits_a_session_attribute(tmp_path):
    rng = np.random.default_rng(2)
    text = encode_points(rng.uniform(0, 1, (MAX_POINTS, 2)))
    cfg = load_preset("gan-toy").with_overrides({
        "data.source": "drawn", "data.points": text, "optim.epochs": 1})
    assert RunConfig.from_json(cfg.to_json()) == cfg
    assert len(cfg.to_json().encode()) < 60_000     # HDF5's attribute limit is 64 KB


def test_a_drawn_distribution_trains_reopens_and_resumes(tmp_path):
    pts, strokes = _drawing((120, 100, 60))
    text = encode_points(pts, strokes)
    path = tmp_path / "drawn.h5"
    common = ["--device", "cpu", "--quiet", "--set", "data.source=drawn",
              "--set", f"data.points={text}", "--set", "optim.batch_size=64"]
    assert main(["train", "--preset", "gan-toy", "--epochs", "2", "--out", str(path),
                 *common]) == 0
    with Session.open(path) as s:
        run = s.run()
        assert run.config.data.points == text and run.epochs_trained == 2
        assert "drawn by hand (280 points, 3 strokes)" in run.data.source
        real = np.concatenate([run.data.probe_images.reshape(-1, 2)])
        assert np.isin(np.round(real, 3), np.round(pts.astype(np.float32), 3)).all()
        assert np.isfinite(run.snapshot(2).arrays["sample_quality"]).all()
    ds = load_dataset(RunConfig.from_json(run.config.to_json()).data, run.config.seed)
    assert ds.n_train + ds.n_val == 280
    assert main(["resume", str(path), "--epochs", "1", "--quiet"]) == 0
    with Session.open(path) as s:
        assert s.run().epochs_trained == 3 and s.run().snapshot_epochs[-1] == 3
