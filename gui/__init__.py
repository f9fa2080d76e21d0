"""Autoencoder Studio's window: PySide6 + pyqtgraph views that drive the engine."""
