"""The exported pictures carry their axes and colour legend (issue 21 item 10): the latent
GIF's map and manifold have ticks with the values of z, the points' colours are named,
and the manifold PNG has its z1 and z2 values along its sides."""

from __future__ import annotations

import numpy as np
import pytest

from engine.export.figures import LABEL_COLOURS, MANIFOLD_SIDE, export_epoch
from engine.export.latent_gif import latent_frames
from engine.export.canvas import FRAME_LEFT, cell_ticks
from engine.session import Session
from tests.engine.session_support import record_run, single_torch_thread, tiny_config


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])


def _count(pixels: np.ndarray, colour) -> int:
    return int((pixels[..., :3] == np.asarray(colour)).all(-1).sum())


def _dark(pixels: np.ndarray) -> int:
    """Pixels of text and tick marks (ink, antialiased), not of light grid lines."""
    return int((pixels[..., :3] < 110).all(-1).sum())


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("axes") / "vae.h5"
    with single_torch_thread():
        record_run(path, tiny_config("vae-2d", epochs=2))
    return path


def test_cell_ticks_mark_round_values_where_they_fall_on_a_grid_of_quantiles():
    # A grid of quantiles: round values where they fall between the cells' centres.
    from statistics import NormalDist
    q = np.array([NormalDist().inv_cdf(p) for p in np.linspace(0.05, 0.95, 20)])
    ticks = cell_ticks(q, 400)
    assert [t for _, t in ticks] == ["-1", "0", "1"]
    assert ticks[1][0] == pytest.approx(200.0)                 # 0: the grid's middle
    cell = int((ticks[2][0] - 10) // 20)          # the centre at or before the tick of 1
    assert q[cell] <= 1.0 <= q[cell + 1]
    down = cell_ticks(q[::-1], 400)                              # a y axis, top row first
    assert [t for _, t in down] == ["-1", "0", "1"] and down[0][0] > down[2][0]


def test_the_gif_has_axes_and_a_colour_legend(vae_run):
    with Session.open(vae_run) as s:
        run = s.run()
        frames = latent_frames(run)
        classes = np.unique(run.data.map_labels)
    assert len({f.shape for f in frames}) == 1            # one size for every frame
    frame = frames[-1]
    # Tick numbers and axis names are drawn in ink left of the map and under both panels.
    assert _dark(frame[:, :28]) > 40
    assert _dark(frame[-60:]) > 100
    # The legend: a swatch of each class's colour in a strip under the panels.
    strip = frame[-40:]
    for c in classes:
        assert _count(strip, _rgb(LABEL_COLOURS[int(c) % 10])) >= 100, c


def test_the_manifold_png_has_its_z_values_along_its_sides(vae_run, tmp_path):
    from PIL import Image
    with Session.open(vae_run) as s:
        paths = export_epoch(s.run(), None, tmp_path, scale=2)
    manifold = next(p for p in paths if p.name.endswith("manifold.png"))
    pixels = np.asarray(Image.open(manifold).convert("RGB"))
    grid = MANIFOLD_SIDE * 28 * 2
    assert pixels.shape[0] > grid and pixels.shape[1] > grid     # room for the axes
    assert _dark(pixels[:, :FRAME_LEFT]) > 40              # z2's numbers, left of the grid
    assert _dark(pixels[-40:]) > 100                       # z1's numbers and name
