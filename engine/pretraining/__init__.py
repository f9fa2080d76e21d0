"""Unsupervised pretraining: jobs of ordinary runs, and what they need.

The lecture notes' story made runnable, with nothing here that trains:

1. :class:`GreedyPretraining` trains a stack of one-layer autoencoders
   without labels, stage k on the frozen codes of stages 1..k-1, each an
   ordinary :class:`~engine.trainer.Trainer` run (:mod:`.stages` derives
   their configs), then the assembled deep autoencoder's own run.
2. :class:`Comparison` trains the ``classifier`` family — the encoder with a
   linear head — from the pretrained encoder and from random weights for
   several label budgets, again as ordinary runs.

Both record into one session file through the ordinary
:class:`~engine.session.SessionWriter`; the CLI is ``python main.py
pretrain`` and ``python main.py finetune``.
"""

from engine.pretraining.comparison import (Comparison, ComparisonTable, EncoderSource,
                                           classifier_config, comparison_table, encoder_source)
from engine.pretraining.greedy import GreedyPretraining
from engine.pretraining.stack import (assemble_stacked, decode_through, encode_dataset,
                                      encode_through, first_layer_features)
from engine.pretraining.stages import stack_config, stage_config, stage_objective

__all__ = ["Comparison", "ComparisonTable", "EncoderSource", "GreedyPretraining",
           "assemble_stacked", "classifier_config", "comparison_table", "decode_through",
           "encode_dataset", "encode_through", "encoder_source", "first_layer_features",
           "stack_config", "stage_config", "stage_objective"]
