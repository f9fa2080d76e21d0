"""Model families, registered under ``model.family`` (see :mod:`engine.models.base`).

Importing this package registers every family: one line each below.
"""

from engine.models.base import (FAMILIES, Batch, Model, Probe, StepContext, build_model,
                                cpu_copy, family_class)
from engine.models.autoencoder import Autoencoder, Code, Encoder   # family "autoencoder"
from engine.models.classifier import Classifier                    # family "classifier"

__all__ = ["FAMILIES", "Autoencoder", "Batch", "Classifier", "Code", "Encoder", "Model",
           "Probe", "StepContext", "build_model", "cpu_copy", "family_class"]
