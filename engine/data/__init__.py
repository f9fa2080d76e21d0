"""Data sources for the engine: bundled MNIST, procedural sprites, 2-D point sets, user files.

Everything ends in a :class:`Dataset`: float32 images ``(N, C, H, W)`` in
[0, 1], optional labels and ground-truth factors, a seeded train/validation
split and a fixed probe set. :func:`load_dataset` builds one from a
:class:`~engine.config.DataConfig`; the loaders below are public for tools
that want the images alone.

Every problem with the data raises :class:`~engine.errors.DataError`, whose
message names the file, the problem and what to do.
"""

from engine.data.arrays import ImageArrays
from engine.data.dataset import Dataset, build_dataset, load_dataset
from engine.data.files import load_file
from engine.data.mnist import load_mnist
from engine.data.sprites import FACTOR_NAMES, SHAPE_NAMES, make_sprites, render_sprites
from engine.data.toy2d import TOY_SETS, is_point_data, make_points

__all__ = [
    "Dataset", "ImageArrays", "load_dataset", "build_dataset", "load_file", "load_mnist",
    "make_sprites", "render_sprites", "FACTOR_NAMES", "SHAPE_NAMES", "TOY_SETS",
    "is_point_data", "make_points",
]
