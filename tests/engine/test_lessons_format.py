"""Lesson files: every bundled one loads and validates; a bad file names the file and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.config import RunConfig
from engine.errors import ConfigError
from engine.lessons import (JOBS, MEASURES, bundled_folder, find_lesson, lesson_paths,
                            load_lessons, read_lesson, run_config)

#: The view names of the window's registry (gui/views/code_views.py VIEW_PANELS, contract B),
#: and ``finetuning`` (the Fine-tuning tab's accuracy curves and table).
VIEW_NAMES = {"kl_per_dimension", "activation_histogram", "jacobian_spectrum", "identity_probe",
              "noise_level", "drawing_pad", "latent_trails", "data_space", "reconstructions",
              "samples", "latent_explorer", "finetuning", "mutual_information",
              "latent_traversals", "latent_interpolation", "disentanglement_scores"}
NOTES = Path("/work/shared/reference/autoencoders-lecture-notes.txt")


def test_every_bundled_lesson_loads_and_its_configs_validate():
    lessons = load_lessons()
    assert [le.number for le in lessons] == list(range(1, 14))
    assert len({le.name for le in lessons}) == 13
    for lesson in lessons:
        assert lesson.path.parent == bundled_folder()
        assert lesson.measure in MEASURES
        assert len(lesson.runs) >= MEASURES[lesson.measure].runs
        assert set(lesson.views) <= VIEW_NAMES, lesson.name
        sentences = [s for s in lesson.text.replace("e.g.", "eg").split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 5, (lesson.name, len(sentences))
        for run in lesson.runs:
            assert run.job in JOBS
            if run.job != "compare":
                for tiny in (False, True):
                    cfg = run_config(run, tiny)
                    assert isinstance(cfg, RunConfig)
                    assert (cfg.pretraining is not None) == (run.job == "pretrain")
        paths = lesson_paths(lesson, "out")
        assert [p.name for p in paths] == [f"{r.label}.h5" for r in lesson.runs]


@pytest.mark.skipif(not NOTES.is_file(), reason="the course notes are not on this machine")
def test_claims_are_the_notes_words():
    def plain(text: str) -> str:   # the notes' LaTeX and typography left out
        for a, b in (("$", ""), ("_\\theta", ""), ("’", "'"), ("‘", "'")):
            text = text.replace(a, b)
        return " ".join(text.split()).lower()

    notes = plain(NOTES.read_text(encoding="utf-8"))
    for lesson in load_lessons():
        # a claim may join lines of the notes with " - "; each part is the notes' own
        for part in plain(lesson.claim).split(" - "):
            assert part.strip() in notes, (lesson.name, part)


def test_find_lesson_by_name_or_number_and_unknown_names_list_the_known():
    assert find_lesson("identity-risk").number == 2
    assert find_lesson("12").name == "vae-tension"
    with pytest.raises(ConfigError, match="unknown lesson 'nope'.*identity-risk"):
        find_lesson("nope")


def _lesson(**changes):
    data = json.loads((bundled_folder() / "sparse.json").read_text(encoding="utf-8"))
    data.update(changes)
    return data


def _write(folder: Path, name: str, data) -> Path:
    p = folder / f"{name}.json"
    p.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return p


@pytest.mark.parametrize("change, field, words", [
    ({"number": 0}, "number", "whole number"),
    ({"title": ""}, "title", "non-empty"),
    ({"runs": []}, "runs", "non-empty list"),
    ({"views": "samples"}, "views", "list of view names"),
    ({"measure": "magic"}, "measure", "not a known measurement"),
    ({"colour": "red"}, "colour", "not a lesson field"),
    ({"runs": [{"label": "a", "preset": "nope"}]}, "runs[0].preset", "unknown preset"),
    ({"runs": [{"label": "A b", "preset": "plain"}]}, "runs[0].label", "lower-case"),
    ({"runs": [{"label": "a", "preset": "plain", "job": "fly"}]}, "runs[0].job", "one of"),
    ({"runs": [{"label": "a", "preset": "plain", "overrides": {"model.latnt_dim": 3}}]},
     "runs[0].overrides", "unknown config field"),
    ({"runs": [{"label": "a", "preset": "plain", "overrides": {"model.latent_dim": 0}}]},
     "runs[0].overrides.model.latent_dim", "integer"),
    ({"runs": [{"label": "a", "preset": "plain", "tiny_overrides": {"optim.epochs": -1}}]},
     "runs[0].tiny_overrides.optim.epochs", ""),
    ({"runs": [{"label": "a", "preset": "plain"}, {"label": "a", "preset": "plain"}]},
     "runs[1].label", "earlier run"),
    ({"runs": [{"label": "c", "job": "compare", "sources": ["stack"]}]},
     "runs[0].sources", "not the label of an earlier run"),
    ({"runs": [{"label": "s", "preset": "plain", "job": "pretrain"}]},
     "runs[0].preset", "no pretraining preset"),
])
def test_a_bad_lesson_file_names_the_file_and_the_field(tmp_path, change, field, words):
    path = _write(tmp_path, "my-lesson", _lesson(**change))
    with pytest.raises(ConfigError) as e:
        read_lesson(path)
    assert e.value.field == field
    assert words in e.value.problem and str(path) in str(e.value)


def test_not_json_and_not_an_object_and_a_bad_file_name(tmp_path):
    with pytest.raises(ConfigError, match=r"my-lesson.json: is not valid JSON \(line 1"):
        read_lesson(_write(tmp_path, "my-lesson", "{oops"))
    with pytest.raises(ConfigError, match="must hold a JSON object"):
        read_lesson(_write(tmp_path, "other", "[1, 2]"))
    with pytest.raises(ConfigError, match="file name 'My_Lesson'"):
        read_lesson(_write(tmp_path, "My_Lesson", _lesson()))


def test_a_teachers_folder_adds_and_replaces_lessons(tmp_path):
    extra = _lesson(number=14, title="My own sparse lesson")
    extra["runs"][1]["overrides"]["objective.sparsity"] = 0.2
    _write(tmp_path, "stronger-sparsity", extra)
    _write(tmp_path, "sparse", _lesson(title="Sparse, retold"))
    lessons = load_lessons(tmp_path)
    assert [le.number for le in lessons] == list(range(1, 15))
    assert find_lesson("stronger-sparsity", tmp_path).runs[1].overrides[
        "objective.sparsity"] == 0.2
    assert find_lesson("sparse", tmp_path).title == "Sparse, retold"
    _write(tmp_path, "clash", _lesson(number=2))
    with pytest.raises(ConfigError, match="both have number 2"):
        load_lessons(tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_lessons(tmp_path / "missing")


def test_all_runs_overrides_apply_to_every_run_and_a_run_overrides_them(tmp_path):
    data = _lesson(all_runs={"overrides": {"optim.epochs": 7},
                             "tiny_overrides": {"data.limit": 300}})
    for run in data["runs"]:
        run["overrides"].pop("optim.epochs", None)
        run["tiny_overrides"] = {}
    data["runs"][0]["overrides"]["optim.epochs"] = 2
    lesson = read_lesson(_write(tmp_path, "shared", data))
    assert run_config(lesson.runs[0]).optim.epochs == 2
    assert run_config(lesson.runs[1]).optim.epochs == 7
    assert run_config(lesson.runs[1], tiny=True).data.limit == 300


def test_a_misspelt_lesson_field_suggests_the_right_one(tmp_path):
    data = _lesson()
    data["titel"] = data.pop("title")
    with pytest.raises(ConfigError) as e:
        read_lesson(_write(tmp_path, "my-lesson", data))
    assert e.value.field == "titel" and "did you mean title?" in e.value.problem
