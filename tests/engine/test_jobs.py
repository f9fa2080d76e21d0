"""Jobs of several runs stopped midway and continued into the same session file."""

import numpy as np
import pytest

from engine.config import OptimConfig
from engine.control import TrainingControl
from engine.errors import SessionError
from engine.events import RunOpened, StepMetrics
from engine.pretraining import (Comparison, GreedyPretraining, classifier_config,
                                comparison_table, encoder_source)
from engine.jobs import job_from_session, unfinished_job
from engine.session import Session, SessionWriter
from session_support import (FIXTURES, Recorder, dataset_for, fan_out, histories_equal,
                             read_everything, tiny_pretraining)

STAGES = (16, 8)


pytestmark = pytest.mark.usefixtures("one_torch_thread_per_module")


def stop_in(run_id: str, step: int, control: TrainingControl):
    """A listener that asks for a stop at ``step`` of the run ``run_id``."""
    current = {"run": None}

    def listen(event):
        if isinstance(event, RunOpened):
            current["run"] = event.run_id
        elif isinstance(event, StepMetrics) and current["run"] == run_id and event.step == step:
            control.stop()
    return listen


@pytest.fixture(scope="module")
def pretrain_config():
    return tiny_pretraining(epochs=2, stages=STAGES, end_to_end_epochs=1)


@pytest.fixture(scope="module")
def straight(pretrain_config, tmp_path_factory):
    """The same job run in one go: what a stopped and continued job must equal."""
    path = tmp_path_factory.mktemp("straight") / "straight.h5"
    with SessionWriter(path) as writer:
        assert GreedyPretraining(pretrain_config, dataset_for(pretrain_config)).run(writer) \
            == "completed"
    return path


def test_a_pretraining_stopped_in_stage_2_continues_in_the_same_file(pretrain_config,
                                                                    straight, tmp_path):
    path = tmp_path / "stopped.h5"
    control = TrainingControl()
    with SessionWriter(path) as writer:
        job = GreedyPretraining(pretrain_config, dataset_for(pretrain_config))
        outcome = job.run(fan_out(writer, stop_in("stage-2", 8, control)), control)
    assert outcome == "stopped" and len(job.stages) == 1
    with Session.open(path) as s:
        assert list(s.runs) == ["stage-1", "stage-2"]
        assert s.runs["stage-1"].status == "completed"
        assert s.runs["stage-2"].status == "stopped"
        assert s.runs["stage-2"].checkpoint().step == 8 and s.runs["stage-2"].last_step == 8
        assert unfinished_job(s) == "pretrain"
        stage1 = s.runs["stage-1"]
        stage1_weights = stage1.checkpoint().model
        resumed = job_from_session(s, "pretrain")
        assert isinstance(resumed, GreedyPretraining) and resumed.config == pretrain_config
        rec = Recorder()
        with SessionWriter(path, append=True) as writer:
            assert resumed.run(fan_out(writer, rec), previous=s) == "completed"
    # Stage 1 was taken from the file, not trained again; stage 2 went on from step 8.
    assert [e.run_id for e in rec.of(RunOpened)] == ["stage-2", "stack"]
    starts = [e for e in rec.events if type(e).__name__ == "RunStarted"]
    assert (starts[0].start_epoch, starts[0].start_step) == (2, 8)  # 6 steps an epoch
    read_everything(path)
    with Session.open(path) as s, Session.open(straight) as ref:
        assert list(s.runs) == ["stage-1", "stage-2", "stack"] and s.primary == "stack"
        assert all(r.status == "completed" for r in s.runs.values())
        assert unfinished_job(s) is None
        histories_equal(stage1, s.runs["stage-1"], skip=())  # unchanged, wall times too
        for k, v in stage1_weights.items():
            np.testing.assert_array_equal(s.runs["stage-1"].checkpoint().model[k], v)
        # The continued job is the uninterrupted one, step for step.
        for run_id in ref.runs:
            histories_equal(ref.runs[run_id], s.runs[run_id])
            assert ref.runs[run_id].snapshot_epochs == s.runs[run_id].snapshot_epochs
            a, b = ref.runs[run_id].checkpoint(), s.runs[run_id].checkpoint()
            for k in a.model:
                np.testing.assert_array_equal(a.model[k], b.model[k], err_msg=f"{run_id} {k}")
        for epoch in ref.runs["stage-2"].snapshot_epochs:
            np.testing.assert_array_equal(ref.runs["stage-2"].snapshot(epoch).images["stack_recon"],
                                          s.runs["stage-2"].snapshot(epoch).images["stack_recon"])


def comparison(session, budgets=(20, 40)):
    source = encoder_source(session)
    template = classifier_config(source.config, OptimConfig(epochs=2, batch_size=20),
                                 device="cpu")
    return Comparison(source, list(budgets), template, dataset=dataset_for(source.config))


def test_a_comparison_stopped_in_its_second_run_continues(straight, tmp_path):
    path = tmp_path / "cmp.h5"
    path.write_bytes(straight.read_bytes())
    straight_cmp = tmp_path / "straight-cmp.h5"
    straight_cmp.write_bytes(straight.read_bytes())
    with Session.open(straight_cmp) as s:
        with SessionWriter(straight_cmp, append=True) as writer:
            assert comparison(s).run(writer) == "completed"
    control = TrainingControl()
    with Session.open(path) as s:
        with SessionWriter(path, append=True) as writer:
            outcome = comparison(s).run(
                fan_out(writer, stop_in("classifier-random-20", 1, control)), control)
    assert outcome == "stopped"
    with Session.open(path) as s:
        assert s.runs["classifier-pretrained-20"].status == "completed"
        assert s.runs["classifier-random-20"].status == "stopped"
        assert "classifier-pretrained-40" not in s.runs
        assert unfinished_job(s) == "finetune"
        first = s.runs["classifier-pretrained-20"]
        resumed = job_from_session(s, "finetune")
        assert isinstance(resumed, Comparison) and resumed.budgets == [20, 40]
        assert resumed.source.run_id == "stack"
        rec = Recorder()
        with SessionWriter(path, append=True) as writer:
            assert resumed.run(fan_out(writer, rec), previous=s) == "completed"
    assert [e.run_id for e in rec.of(RunOpened)] == [
        "classifier-random-20", "classifier-pretrained-40", "classifier-random-40"]
    with Session.open(path) as s, Session.open(straight_cmp) as ref:
        assert unfinished_job(s) is None
        assert list(s.runs) == list(ref.runs)
        histories_equal(first, s.runs["classifier-pretrained-20"], skip=())
        for run_id, run in ref.runs.items():
            histories_equal(run, s.runs[run_id])
        assert comparison_table(s).accuracy == comparison_table(ref).accuracy
        # The pretraining job's runs are untouched by the comparison.
        for run_id in ("stage-1", "stage-2", "stack"):
            histories_equal(ref.runs[run_id], s.runs[run_id], skip=())


def test_a_new_comparison_replaces_the_old_ones_runs(straight, tmp_path):
    path = tmp_path / "again.h5"
    path.write_bytes(straight.read_bytes())
    for budgets in ((20, 40), (30,)):
        with Session.open(path) as s:
            with SessionWriter(path, append=True) as writer:
                assert comparison(s, budgets).run(writer) == "completed"
    with Session.open(path) as s:
        assert list(s.runs) == ["stage-1", "stage-2", "stack", "classifier-pretrained-30",
                                "classifier-random-30"]
        assert comparison_table(s).budgets == [30]


def test_a_stack_kept_as_assembled_is_not_trained_when_its_job_continues(tmp_path):
    """Killed after the stack's checkpoint, before its end was recorded."""
    from engine.checkpoint import module_arrays
    from engine.pretraining import assemble_stacked, stack_config
    cfg = tiny_pretraining(epochs=1, stages=STAGES, end_to_end_epochs=0)
    job = GreedyPretraining(cfg, dataset_for(cfg))
    rec = Recorder()
    assert job.run(rec) == "completed"
    assert type(rec.events[-1]).__name__ == "RunFinished"
    path = tmp_path / "killed.h5"
    with SessionWriter(path) as writer:
        for event in rec.events[:-1]:
            writer(event)
    with Session.open(path) as s:
        assert s.runs["stack"].status == "running" and unfinished_job(s) == "pretrain"
        again = Recorder()
        with SessionWriter(path, append=True) as writer:
            assert job_from_session(s, "pretrain").run(fan_out(writer, again), previous=s) \
                == "completed"
    assert not again.of(StepMetrics)  # nothing trained: both stages and the stack were done
    with Session.open(path) as s:
        stack = s.runs["stack"]
        assert stack.status == "completed" and stack.epochs_trained == 0
        assembled = module_arrays(assemble_stacked(stack_config(cfg), job.stages))
        for k, v in assembled.items():
            np.testing.assert_array_equal(stack.checkpoint().model[k], v, err_msg=k)


def test_version_1_jobs_cannot_be_continued(tmp_path):
    with Session.open(FIXTURES / "v1-pretraining.h5") as s:
        assert unfinished_job(s) is None
        with pytest.raises(SessionError, match="written by an earlier version"):
            job_from_session(s, "finetune")
