"""Autoencoder Studio's engine: data, models, objectives, the trainer and sessions.

Everything that computes lives here and runs with no display: this package
never imports Qt (a test enforces it), so it can be scripted and tested
headless. The GUI in ``gui/`` only drives it.
"""

__version__ = "0.1.0"
