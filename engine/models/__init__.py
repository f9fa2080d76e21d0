"""Model families, registered under ``model.family`` (see :mod:`engine.models.base`).

Importing this package registers every family: one line each below.
"""

from engine.models.base import (FAMILIES, Batch, Model, ModelTraits, Probe, StepContext,
                                build_model, cpu_copy, family_class)
from engine.models.autoencoder import Autoencoder, Code, Encoder   # family "autoencoder"
from engine.models.classifier import Classifier                    # family "classifier"
from engine.models.gan import GAN                                  # family "gan"
from engine.models.rbm import RBM                                  # family "rbm"

__all__ = ["FAMILIES", "GAN", "RBM", "Autoencoder", "Batch", "Classifier", "Code", "Encoder",
           "Model", "ModelTraits", "Probe", "StepContext", "build_model", "cpu_copy",
           "family_class"]
