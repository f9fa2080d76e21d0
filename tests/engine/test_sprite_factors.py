"""Sprites with fixed and narrowed factors (``data.sprite_factors``), as lesson 13 draws them.

The factor columns are checked against the ranges asked for, and the images against the
factors independently: each sprite's centre of mass, measured on the pixels, follows its x
and y with the slope the renderer's travel gives, so a narrowed y really moves the shapes
less on screen.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import DataConfig, RunConfig
from engine.data import load_dataset, make_sprites
from engine.data.sprites import FACTOR_NAMES, parse_factor_ranges, sample_factors
from engine.errors import ConfigError

LESSON_SPEC = "shape=0, rotation=0, scale=0.75:1, x=0.2:0.8, y=0.4:0.6"


def centres_of_mass(images: np.ndarray) -> np.ndarray:
    """(N, 1, S, S) -> (N, 2) intensity-weighted (column, row) centres, in pixels."""
    img = images[:, 0].astype(np.float64)
    s = img.shape[-1]
    grid = np.arange(s) + 0.5
    mass = img.sum(axis=(1, 2))
    return np.stack([(img.sum(1) * grid).sum(1) / mass, (img.sum(2) * grid).sum(1) / mass], 1)


def test_fixed_and_narrowed_factors_keep_to_their_ranges_and_the_rest_to_the_full_set():
    narrowed = sample_factors(2000, 3, LESSON_SPEC)
    full = sample_factors(2000, 3)
    assert np.all(narrowed[:, 0] == 0) and np.all(narrowed[:, 2] == 0)
    for k, (lo, hi) in ((1, (0.75, 1.0)), (3, (0.2, 0.8)), (4, (0.4, 0.6))):
        assert lo <= narrowed[:, k].min() < lo + 0.01 and hi - 0.01 < narrowed[:, k].max() <= hi
        # the same draws, moved linearly: the order of the sprites along each factor is kept
        assert np.corrcoef(narrowed[:, k], full[:, k])[0, 1] > 0.9999
    # a factor not named is the full set's, draw for draw
    assert np.array_equal(sample_factors(500, 3, "y=0.4:0.6")[:, :4], sample_factors(500, 3)[:, :4])
    shapes = sample_factors(3000, 4, "shape=1:2")[:, 0]
    assert set(np.unique(shapes)) == {1, 2} and abs(np.mean(shapes == 1) - 0.5) < 0.04


def test_the_images_move_with_x_and_y_as_far_as_their_ranges_say():
    d = make_sprites(600, 32, seed=5, factors=LESSON_SPEC)
    assert d.factor_names == FACTOR_NAMES and LESSON_SPEC in d.source
    centre = centres_of_mass(d.images)
    slopes = []
    for k, axis in ((3, 0), (4, 1)):
        slope, _ = np.polyfit(d.factors[:, k], centre[:, axis], 1)
        resid = centre[:, axis] - np.polyval(np.polyfit(d.factors[:, k], centre[:, axis], 1),
                                             d.factors[:, k])
        assert np.abs(resid).max() < 0.3          # the centre follows the factor, in pixels
        slopes.append(slope)
    # one unit of x or y is the same travel on screen: x moves the shapes 3 times further
    # than y only because its range is 3 times wider
    assert slopes[0] == pytest.approx(slopes[1], rel=0.02)
    assert np.ptp(centre[:, 0]) / np.ptp(centre[:, 1]) == pytest.approx(3.0, rel=0.05)


def test_a_run_config_takes_the_factors_and_refuses_bad_ones_by_name():
    data = load_dataset(DataConfig(source="sprites", n_sprites=64, sprite_factors="x=0.5"), 0)
    assert np.all(data.factors[:, 3] == 0.5)
    assert parse_factor_ranges("") == {} and parse_factor_ranges(" y = 0.1 : 0.2 ,") == {
        "y": (0.1, 0.2)}
    base = RunConfig()
    for bad, words in (("x=2", "from 0 to 1"), ("shape=0.5", "whole numbers"),
                       ("size=1", "name one of shape"), ("y=0.7:0.3", "low end first"),
                       ("x=0.1, x=0.2", "named twice"), ("y=a:b", "no number")):
        with pytest.raises(ConfigError, match=words) as e:
            base.with_overrides({"data.source": "sprites", "data.sprite_factors": bad})
        assert e.value.field == "data.sprite_factors"
