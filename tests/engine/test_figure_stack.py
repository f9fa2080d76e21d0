"""One stack draws the engine's figures (matplotlib, loaded only when one is drawn) and one
function tiles images for the window and the files (issue 19)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from engine.export.canvas import PixelCanvas, save_png, text_width
from engine.tiles import image_grid, tile, to_display

ROOT = Path(__file__).resolve().parents[2]


def test_tile_lays_images_out_row_by_row_with_padding_and_white_cells():
    images = np.arange(5 * 2 * 3, dtype=np.float32).reshape(5, 2, 3) / 30
    out = tile(images, 3, pad=1)
    assert out.shape == (2 * 2 + 1, 3 * 3 + 2)
    for i in range(5):                              # each image where row-major order puts it
        r, c = divmod(i, 3)
        np.testing.assert_array_equal(out[r * 3:r * 3 + 2, c * 4:c * 4 + 3], images[i])
    assert np.all(out[2] == 1.0) and np.all(out[:, 3] == 1.0)         # the padding
    np.testing.assert_array_equal(out[3:, 8:], 1.0)                  # the empty sixth cell
    assert tile(images[:2], 8).shape == (2, 7)            # never wider than its images
    framed = tile(images, 3, pad=2, border=True)
    assert framed.shape == (2 * 4 + 2, 3 * 5 + 2)
    np.testing.assert_array_equal(framed[2:4, 2:5], images[0])


def test_the_exports_grid_is_the_window_tile_in_bytes_for_grey_and_colour():
    rng = np.random.default_rng(0)
    for c in (1, 3):
        batch = rng.random((7, c, 4, 5)).astype(np.float32)
        grid = image_grid(batch, 4)
        want = np.rint(tile(to_display(batch), 4, 2, border=True) * 255)
        assert grid.dtype == np.uint8 and grid.shape[:2] == (2 * 6 + 2, 4 * 7 + 2)
        assert grid.ndim == (2 if c == 1 else 3)
        assert np.abs(grid.astype(int) - want).max() <= 1


def test_a_pixel_canvas_puts_an_image_pixel_for_pixel_and_text_where_asked(tmp_path):
    rng = np.random.default_rng(1)
    pixels = (rng.random((12, 20, 3)) * 255).astype(np.uint8)
    canvas = PixelCanvas(60, 40)
    canvas.image(pixels, 30, 10, 40, 24)         # each pixel 2 x 2, top left at (30, 10)
    canvas.text(2, 2, "z", 14)
    out = canvas.to_array()
    assert out.shape == (40, 60, 3)
    np.testing.assert_array_equal(out[10:34:2, 30:70:2][:, :15], pixels[:, :15])
    assert (out[:20, :20] < 110).all(-1).sum() > 5          # the letter, dark on white
    assert (out[30:, :20] == 255).all()                      # nothing else drawn
    assert 4 < text_width("z", 14) < 14 and text_width("zz", 14) > text_width("z", 14)
    save_png(pixels, tmp_path / "p.png")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "p.png"))[..., :3], pixels)


def test_matplotlib_loads_only_when_a_figure_is_drawn():
    code = ("import sys, engine, engine.cli, engine.export.figures, engine.export.latent_gif, "
            "engine.export.traversal_figures, engine.lessons, engine.tiles; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "False"
    help_run = subprocess.run([sys.executable, "-X", "importtime", "main.py", "--help"],
                              cwd=ROOT, capture_output=True, text=True, check=True)
    assert "matplotlib" not in help_run.stderr
