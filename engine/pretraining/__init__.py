"""Unsupervised pretraining: greedy layer-wise stacking, then a classifier on the code.

The lecture notes' story made runnable:

1. :class:`GreedyPretrainer` trains a stack of one-layer autoencoders without
   labels, stage k on the frozen codes of stages 1..k-1, each with the
   ordinary :class:`~engine.trainer.Trainer`, and stacks their encoders into
   a deep autoencoder (optionally trained end to end afterwards).
2. :class:`Classifier` drops a trained autoencoder's decoder and puts a
   linear classification layer on its code; :class:`ClassifierTrainer`
   trains it on labels (fine-tuning everything, or a frozen-encoder probe).
3. :func:`compare_initialisations` trains the same classifier from the
   pretrained encoder and from random weights for several label budgets.

Files: :class:`PretrainRecorder` writes a pretraining run (every stage a
complete session), :func:`read_pretraining` / :func:`load_encoder_source`
read it (or an ordinary session) back. The CLI is ``python main.py
pretrain`` and ``python main.py finetune``.
"""

from engine.pretraining.classifier import (Classifier, ClassifierConfig, accuracy,
                                           confusion_matrix, randomised_copy)
from engine.pretraining.classifier_trainer import ClassifierTrainer
from engine.pretraining.comparison import (ClassifierRun, ComparisonResult,
                                           compare_initialisations)
from engine.pretraining.config import STAGE_KINDS, PretrainConfig
from engine.pretraining.events import (ClassifierEpoch, ClassifierFinished, ClassifierStarted,
                                       ComparisonTable, PretrainFinished, PretrainStarted,
                                       StackReconstruction, StageCompleted, StageStarted)
from engine.pretraining.greedy import GreedyPretrainer, StageHistory, StageResult
from engine.pretraining.labels import labelled_subset, parse_budgets
from engine.pretraining.reader import (EncoderSource, PretrainingFile, export_stage_session,
                                       load_encoder_source, read_pretraining)
from engine.pretraining.stack import (assemble_stacked, decode_through, encode_dataset,
                                      encode_through, first_layer_features)
from engine.pretraining.storage import PretrainRecorder

__all__ = [
    "Classifier", "ClassifierConfig", "ClassifierEpoch", "ClassifierFinished", "ClassifierRun",
    "ClassifierStarted", "ClassifierTrainer", "ComparisonResult", "ComparisonTable",
    "EncoderSource", "GreedyPretrainer", "PretrainConfig", "PretrainFinished",
    "PretrainRecorder", "PretrainStarted", "PretrainingFile", "STAGE_KINDS",
    "StackReconstruction", "StageCompleted", "StageHistory", "StageResult", "StageStarted",
    "accuracy", "assemble_stacked", "compare_initialisations", "confusion_matrix",
    "decode_through", "encode_dataset", "encode_through", "export_stage_session",
    "first_layer_features", "labelled_subset", "load_encoder_source", "parse_budgets",
    "randomised_copy", "read_pretraining",
]
