"""Bundled data sets, presets and icons, installed with the package."""
