"""Encoders, decoders and the Autoencoder that joins them with a likelihood."""

from engine.models.autoencoder import Autoencoder, Code, Encoder, build_autoencoder

__all__ = ["Autoencoder", "Code", "Encoder", "build_autoencoder"]
