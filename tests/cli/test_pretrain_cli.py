"""``pretrain`` and ``finetune`` as a user runs them, and their bad-input errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--set", "data.limit=300", "--set", "data.n_probe=8", "--stages", "32,16",
        "--epochs", "1", "--device", "cpu"]


def main_py(*args, timeout=120):
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    """A tiny pretraining run written by the command itself."""
    path = tmp_path_factory.mktemp("pretrain") / "run.h5"
    r = main_py("pretrain", *TINY, "--quiet", "--out", str(path))
    assert r.returncode == 0, r.stderr
    assert "stage 1/2: 784 -> 32 [denoising]" in r.stdout
    assert "stage 2/2: 32 -> 16 [denoising]" in r.stdout
    assert "stage 2 epoch 1/1" in r.stdout and path.is_file()
    return path


def test_finetune_prints_the_pretrained_versus_random_table(run_file, tmp_path):
    out = tmp_path / "cmp.json"
    r = main_py("finetune", str(run_file), "--labels", "20,all", "--epochs", "2", "--freeze",
                "--out", str(out))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if "pretrained" in line and "random" in line
                and "labels" in line)
    rows = lines[head + 1:head + 3]
    assert rows[0].split()[0] == "20" and rows[1].lstrip().startswith("all (270)")
    assert all(line.count("%") == 2 for line in rows)
    assert "linear probe" in r.stdout
    saved = json.loads(out.read_text())
    assert [row["labels"] for row in saved["table"]] == ["20", "all"]
    assert len(saved["runs"]) == 4 and saved["classifier"]["freeze"] is True


def test_train_refuses_a_pretraining_preset_with_a_pointer():
    r = main_py("train", "--preset", "stacked-pretraining", "--epochs", "1")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "pretrain" in r.stderr


@pytest.mark.parametrize("args,needle", [
    (["pretrain", "--stages", "abc"], "--stages"),
    (["pretrain", "--stages", "0,5"], "--stages[0]"),
    (["pretrain", "--kinds", "sparse,plain"], "objective.sparsity"),
    (["pretrain", "--kinds", "plain"], "--kinds"),
    (["pretrain", "--finetune-epochs", "-1"], "--finetune-epochs"),
    (["pretrain", "--preset", "nope"], "unknown preset"),
    (["pretrain", "--set", "model.activation=relu"], "model.activation"),
    (["pretrain", "--out", "/no/such/folder/run.h5"], "does not exist"),
    (["finetune", "/no/such/run.h5"], "does not exist"),
    (["finetune", "{root}/pyproject.toml"], "not an HDF5 file"),
    (["finetune", "{run}", "--labels", "0"], "--labels"),
    (["finetune", "{run}", "--labels", "99999"], "--labels"),
    (["finetune", "{run}", "--out", "table.txt"], "--out"),
    (["finetune", "{run}", "--epochs", "0"], "epochs"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle, run_file, capsys):
    args = [a.replace("{run}", str(run_file)).replace("{root}", str(ROOT)) for a in args]
    assert cli_main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and needle in err[0], err


def test_an_existing_output_needs_force(run_file, capsys):
    assert cli_main(["pretrain", "--out", str(run_file)]) == 2
    assert "--force" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["finetune"])  # the source file is required
    assert exc.value.code == 2


def test_info_summarises_a_pretraining_file_and_its_comparison(run_file, tmp_path):
    r = main_py("info", str(run_file))
    assert r.returncode == 0, r.stderr
    assert "greedy layer-wise pretraining run (completed)" in r.stdout
    assert "784 -> 32 -> 16" in r.stdout
    stage_lines = [line for line in r.stdout.splitlines() if line.startswith("  ")]
    assert [line.split()[0] for line in stage_lines] == ["1", "2"]
    copy = tmp_path / "with_cmp.h5"
    copy.write_bytes(run_file.read_bytes())
    assert main_py("finetune", str(copy), "--labels", "20", "--epochs", "1",
                   "--out", str(copy)).returncode == 0
    r = main_py("info", str(copy))
    assert "fine-tuning comparison" in r.stdout
    row = r.stdout.strip().splitlines()[-1].split()
    assert row[0] == "20" and row[1].endswith("%") and row[2].endswith("%")
