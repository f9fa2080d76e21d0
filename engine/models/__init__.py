"""Model families, registered under ``model.family`` (see :mod:`engine.models.base` and
:mod:`engine.models.registry`).

Importing this package registers every family: one line each below.
"""

from engine.models.base import Batch, Model, Probe, StepContext
from engine.models.registry import FAMILIES, build_model, cpu_copy, family_class, register
from engine.models.traits import ModelTraits
from engine.models.autoencoder import Autoencoder, Code, Encoder   # family "autoencoder"
from engine.models.classifier import Classifier                    # family "classifier"
from engine.models.gan import GAN                                  # family "gan"
from engine.models.rbm import RBM                                  # family "rbm"

__all__ = ["FAMILIES", "GAN", "RBM", "Autoencoder", "Batch", "Classifier", "Code", "Encoder",
           "Model", "ModelTraits", "Probe", "StepContext", "build_model", "cpu_copy",
           "family_class", "register"]
