"""Lesson 13, disentanglement: its tiny configuration runs through the lesson runner, and its
numbers are the scores the trainer stored, recomputed here from each run's codes and factors.

Like lessons 9 and 10, the claim itself is not asserted at tiny size (three epochs on 800
sprites): whether a larger β raises MIG there is what the lesson measures, not a fact.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.analysis.disentanglement import mig
from engine.lessons import find_lesson, run_lesson
from engine.session import Session

from tests.engine.session_support import single_torch_thread


def test_the_disentanglement_lesson_measures_mig_against_beta(tmp_path):
    lesson = find_lesson("13")
    assert lesson.name == "disentanglement" and lesson.measure == "disentanglement_beta"
    assert {"latent_traversals", "disentanglement_scores"} <= set(lesson.views)
    with single_torch_thread():
        result = run_lesson(lesson, tmp_path / "l13", tiny=True)
    assert result.outcome == "completed", result.message
    v = result.claim.values
    assert result.figure.is_file() and result.figure.stat().st_size > 2000
    for path, beta in zip(result.paths, (1, 8)):
        with Session.open(path) as s:
            run = s.run()
            assert run.config.objective.beta == beta and run.config.data.source == "sprites"
            a = run.snapshot(run.snapshot_epochs[-1]).arrays
            codes = np.asarray(a["map_latents"], np.float64)
            # the stored codes are the validation pass's, the scored ones the snapshot's:
            # equal up to float rounding, which can move one of the 80 tiny map images
            # across a bin edge (about 1/80 of a factor's information)
            assert v[f"mig_beta_{beta}"] == pytest.approx(mig(codes, run.data.map_factors)[0],
                                                          abs=0.02)
            assert v[f"mutual_information_beta_{beta}"] == pytest.approx(
                float(a["mutual_information"]), rel=1e-3)
    assert result.claim.holds == (v["mig_beta_8"] > v["mig_beta_1"] + 0.02)
    assert "MIG" in result.claim.sentence
