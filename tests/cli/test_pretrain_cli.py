"""``pretrain``, ``finetune`` and ``resume`` of jobs as a user runs them, and their bad-input
errors. The commands run in-process through ``engine.cli.main``, the same parser and code
path as ``python main.py`` (whose real processes ``test_session_crash.py`` runs and kills)."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main as cli_main
from engine.control import TrainingControl
from engine.events import RunOpened, StepMetrics
from engine.pretraining import GreedyPretraining, comparison_table
from engine.session import Session, SessionWriter

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--set", "data.limit=300", "--set", "data.n_probe=8", "--stages", "32,16",
        "--epochs", "1", "--device", "cpu"]


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


@pytest.fixture(scope="module")
def run_file(tmp_path_factory, one_torch_thread_per_module):
    """A tiny pretraining run written by the command itself."""
    import contextlib
    import io
    path = tmp_path_factory.mktemp("pretrain") / "run.h5"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli_main(["pretrain", *TINY, "--quiet", "--out", str(path)]) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "greedy layer-wise pretraining, 784-32-16: 3 runs"
    assert "[1/3] stage 1 (784→32, denoising)" in lines
    assert "[2/3] stage 2 (32→16, denoising)" in lines
    assert "[3/3] the stack 784-32-16 (as assembled)" in lines
    assert sum(line.startswith("  epoch 1/1") for line in lines) == 2
    assert lines[-1].startswith("stacked encoder 1x28x28 -> 32-16 ready; saved to")
    assert path.is_file()
    return path


@pytest.fixture
def copy_of(run_file, tmp_path):
    def make(name="copy.h5"):
        path = tmp_path / name
        shutil.copyfile(run_file, path)
        return path
    return make


def table_rows(out: str, n: int) -> list[str]:
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if "pretrained" in line and "random" in line
                and "labels" in line)
    return lines[head + 1:head + 1 + n]


def test_the_pretraining_file_holds_the_job(run_file):
    with Session.open(run_file) as s:
        assert list(s.runs) == ["stage-1", "stage-2", "stack"] and s.primary == "stack"
        assert s.jobs["pretrain"].title == "greedy layer-wise pretraining, 784-32-16"
        assert all(r.status == "completed" for r in s.runs.values())
        assert [s.runs[r].epochs_trained for r in ("stage-1", "stage-2", "stack")] == [1, 1, 0]
        assert s.runs["stage-1"].snapshot(1).images["stack_recon"].shape == (8, 1, 28, 28)
        assert s.runs["stack"].checkpoint() is not None


def test_finetune_adds_its_runs_to_the_source_file_and_prints_the_table(copy_of, capsys):
    path = copy_of()
    with Session.open(path) as s:
        before = {r: run.history["step"].copy() for r, run in s.runs.items()}
    capsys.readouterr()
    assert cli_main(["finetune", str(path), "--labels", "20,all", "--epochs", "2", "--freeze",
                     "--quiet"]) == 0
    out = capsys.readouterr().out
    rows = table_rows(out, 2)
    assert rows[0].split()[0] == "20" and rows[1].lstrip().startswith("all (270)")
    assert all(line.count("%") == 2 for line in rows)
    assert "linear probe" in out and f"classifier runs saved in {path}" in out
    with Session.open(path) as s:
        assert list(s.runs) == ["stage-1", "stage-2", "stack", "classifier-pretrained-20",
                                "classifier-random-20", "classifier-pretrained-270",
                                "classifier-random-270"]
        assert s.primary == "stack" and set(s.jobs) == {"pretrain", "finetune"}
        for run_id, steps in before.items():  # the pretraining is untouched
            np.testing.assert_array_equal(s.runs[run_id].history["step"], steps)
        for run_id in list(s.runs)[3:]:
            run = s.runs[run_id]
            assert run.status == "completed" and run.epochs_trained == 2
            assert run.config.classifier.freeze
        table = comparison_table(s)
    # The printed percentages are the stored runs' final validation accuracies.
    for row, i in zip(rows, range(2)):
        cells = row.split()[-3:]
        assert float(cells[0].rstrip("%")) == pytest.approx(100 * table.accuracy["pretrained"][i],
                                                            abs=0.05)
        assert float(cells[1].rstrip("%")) == pytest.approx(100 * table.accuracy["random"][i],
                                                            abs=0.05)


def test_finetune_out_json_writes_the_table_and_out_h5_a_new_session(copy_of, tmp_path,
                                                                     capsys):
    source = copy_of()
    out = tmp_path / "cmp.json"
    assert cli_main(["finetune", str(source), "--labels", "20", "--epochs", "1", "--quiet",
                     "--out", str(out)]) == 0
    saved = json.loads(out.read_text())
    assert [row["labels"] for row in saved["rows"]] == ["20"]
    assert saved["frozen"] is False and saved["epochs"] == 1
    assert "784-32-16" in saved["source"]
    assert 0 <= saved["rows"][0]["pretrained_accuracy"] <= 1
    new = tmp_path / "cmp.h5"
    untouched = tmp_path / "untouched.h5"
    shutil.copyfile(source, untouched)
    assert cli_main(["finetune", str(untouched), "--run", "stage-1", "--labels", "20",
                     "--epochs", "1", "--quiet", "--out", str(new)]) == 0
    assert untouched.read_bytes() == source.read_bytes()
    with Session.open(new) as s:
        assert list(s.runs) == ["classifier-pretrained-20", "classifier-random-20"]
        assert list(s.jobs) == ["finetune"]
        assert s.runs["classifier-pretrained-20"].config.model.hidden == ()  # stage 1's encoder
        assert s.jobs["finetune"].spec["source"]["run"] == "stage-1"


def test_resume_continues_a_stopped_pretraining(copy_of, tmp_path, capsys):
    with Session.open(copy_of()) as s:
        cfg = s.jobs["pretrain"].spec  # the job's config, as the file keeps it
    from engine.config import RunConfig
    cfg = RunConfig.from_dict(cfg).with_overrides({"optim.epochs": 2})
    path = tmp_path / "stopped.h5"
    control = TrainingControl()
    current = {}

    def stop_in_stage_2(event):
        if isinstance(event, RunOpened):
            current["run"] = event.run_id
        if isinstance(event, StepMetrics) and current["run"] == "stage-2" and event.step == 3:
            control.stop()

    with SessionWriter(path) as writer:
        job = GreedyPretraining(cfg)
        assert job.run(lambda e: (writer(e), stop_in_stage_2(e)), control) == "stopped"
    with Session.open(path) as s:
        stage_1 = s.runs["stage-1"]
        assert s.runs["stage-2"].status == "stopped"
    capsys.readouterr()
    assert cli_main(["resume", str(path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "[1/3]" not in out and "[2/3] stage 2" in out and "[3/3] the stack" in out
    assert f"session: {path}" in out
    with Session.open(path) as s:
        assert all(r.status == "completed" for r in s.runs.values())
        assert [s.runs[r].epochs_trained for r in ("stage-1", "stage-2", "stack")] == [2, 2, 0]
        spe = s.runs["stage-2"].steps_per_epoch
        assert spe == 3 and s.runs["stage-2"].history["step"].tolist() == list(range(1, 7))
        np.testing.assert_array_equal(s.runs["stage-1"].history["wall_time"],
                                      stage_1.history["wall_time"])  # not retrained
    # Now complete: a resume without --epochs has nothing to do and says how to add epochs.
    assert cli_main(["resume", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--epochs" in err[0] and "is complete" in err[0]


def test_resume_continues_a_stopped_comparison(copy_of, capsys):
    from engine.config import OptimConfig
    from engine.pretraining import Comparison, classifier_config, encoder_source
    path = copy_of()
    control = TrainingControl()
    current = {}

    def stop_in_second_run(event):
        if isinstance(event, RunOpened):
            current["run"] = event.run_id
        if isinstance(event, StepMetrics) and current["run"] == "classifier-random-20" \
                and event.step == 1:  # of 2
            control.stop()

    with Session.open(path) as s:
        source = encoder_source(s)
    template = classifier_config(source.config, OptimConfig(epochs=1, batch_size=10),
                                 device="cpu")
    with SessionWriter(path, append=True) as writer:
        job = Comparison(source, [20, "all"], template)
        assert job.run(lambda e: (writer(e), stop_in_second_run(e)), control) == "stopped"
    with Session.open(path) as s:
        assert s.runs["classifier-random-20"].status == "stopped"
        assert s.runs["classifier-random-20"].checkpoint().position == 1
    capsys.readouterr()
    assert cli_main(["resume", str(path), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "pretrained versus random encoder: 4 runs" in out
    assert "[1/4]" not in out and "[2/4] random encoder, 20 labels" in out
    assert "[4/4] random encoder, 270 labels" in out
    with Session.open(path) as s:
        assert list(s.runs)[3:] == ["classifier-pretrained-20", "classifier-random-20",
                                    "classifier-pretrained-270", "classifier-random-270"]
        assert all(r.status == "completed" for r in s.runs.values())
        table = comparison_table(s)
        assert table.budget_names == ["20", "all"] and table.budgets == [20, 270]
        assert all(np.isfinite(v) for values in table.accuracy.values() for v in values)


def test_train_refuses_a_pretraining_preset_with_a_pointer(capsys):
    assert cli_main(["train", "--preset", "stacked-pretraining", "--epochs", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "python main.py pretrain" in err


@pytest.mark.parametrize("args,needle", [
    (["pretrain", "--stages", "abc"], "--stages"),
    (["pretrain", "--stages", "0,5"], "--stages[0]"),
    (["pretrain", "--stages", "8,9000"], "--stages[1] must be an integer from 1 to 8192"),
    (["pretrain", "--kinds", "sparse,plain"], "objective.sparsity"),
    (["pretrain", "--kinds", "sparse,plain"], "--kinds[0]"),
    (["pretrain", "--kinds", "plain"], "--kinds"),
    (["pretrain", "--end-to-end-epochs", "-1"], "--end-to-end-epochs"),
    (["pretrain", "--preset", "nope"], "unknown preset"),
    (["pretrain", "--preset", "vae-2d"], "variational"),
    (["pretrain", "--set", "model.activation=relu"], "model.activation"),
    (["pretrain", "--out", "/no/such/folder/run.h5"], "does not exist"),
    (["finetune", "/no/such/run.h5"], "does not exist"),
    (["finetune", "{root}/pyproject.toml"], "not an HDF5 file"),
    (["finetune", "{run}", "--labels", "0"], "--labels"),
    (["finetune", "{run}", "--labels", "99999"], "--labels"),
    (["finetune", "{run}", "--out", "table.txt"], "--out"),
    (["finetune", "{run}", "--epochs", "0"], "--epochs"),
    (["finetune", "{run}", "--batch-size", "0"], "--batch-size"),
    (["finetune", "{run}", "--run", "nope"], "has no run 'nope'"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, run_file, capsys):
    args = [a.replace("{run}", str(run_file)).replace("{root}", str(ROOT)) for a in args]
    before = run_file.read_bytes()
    capsys.readouterr()
    assert cli_main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and needle in err[0], err
    assert run_file.read_bytes() == before


def test_an_existing_output_needs_force(run_file, capsys):
    assert cli_main(["pretrain", "--out", str(run_file)]) == 2
    assert "--force" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["finetune"])  # the source file is required
    assert exc.value.code == 2


def test_info_summarises_a_pretraining_file_and_its_comparison(copy_of, capsys):
    path = copy_of()
    capsys.readouterr()
    assert cli_main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "format 3" in out and "job:       greedy layer-wise pretraining, 784-32-16" in out
    assert "run:       'stack' (the stack 784-32-16 (as assembled))" in out
    listed = [line.split() for line in out.splitlines() if line.startswith("  ") and
              "epochs" in line]
    assert [row[0] for row in listed] == ["stage-1", "stage-2", "*stack"]
    assert [row[1] for row in listed] == ["1", "1", "0"]
    assert cli_main(["info", str(path), "--run", "stage-2"]) == 0
    out = capsys.readouterr().out
    assert "run:       'stage-2' (stage 2 (32→16, denoising))" in out
    assert "270 train / 30 validation images 1x1x32" in out
    assert cli_main(["finetune", str(path), "--labels", "20", "--epochs", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert cli_main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "fine-tuning comparison" in out
    assert "classifier-pretrained-20" in out and "classifier-random-20" in out
    row = out.strip().splitlines()[-2].split()  # the table's last row, then the size line
    assert row[0] == "20" and row[1].endswith("%") and row[2].endswith("%")
    assert out.strip().splitlines()[-1].startswith("size:")


def test_pretrain_help_names_its_real_default_preset(capsys):
    with pytest.raises(SystemExit):
        cli_main(["pretrain", "--help"])
    import re
    help_text = re.sub(r"-\s+", "-", " ".join(capsys.readouterr().out.split()))  # unwrapped
    assert "default stacked-pretraining" in help_text and "default variational" not in help_text


def test_stages_of_a_preset_without_kinds_are_named_by_what_they_train(tmp_path, capsys):
    """A plain preset stacked as it is: its stages are 'plain', not the internal 'shared'."""
    path = tmp_path / "plain-stack.h5"
    capsys.readouterr()
    assert cli_main(["pretrain", "--preset", "plain", *TINY, "--quiet", "--out", str(path)]) == 0
    out = capsys.readouterr().out
    assert "[1/3] stage 1 (784→32, plain)" in out and "shared" not in out
    capsys.readouterr()
    assert cli_main(["info", str(path)]) == 0
    assert "stage 2 (32→16, plain)" in capsys.readouterr().out
