#!/usr/bin/env bash
# The GPU path in one go, for a machine with a CUDA GPU (issues 12, 18 and 22), in about 5 minutes:
#   0. torch, its CUDA version, the GPUs and whether they do bf16;
#   1. the CUDA tests (tests/engine/test_cuda.py): a GPU session resumed on the CPU, exact
#      resume (a conv model too), data on the host and streamed, bf16, one device sync per
#      step, spectra decomposed on the CPU; two nccl ranks with streamed data (two GPUs);
#   2. the command line: train on the GPU, resume the same session on the CPU;
#   3. torchrun, two processes on two GPUs, training data streamed from a file;
#   4. the 64x64 colour presets: samples/s, the snapshot's share of an epoch, and what exact
#      numerics (deterministic cuDNN, no TF32) cost;
#   5. the trainer against the bare loop, float32 and bf16; 6. the data paths on the GPU;
#   7. the window benchmark (only where PySide6 and pyqtgraph import);
#   8. torch.compile, last: a compile failure cannot lose the numbers before it.
# Each step has STEP_TIMEOUT seconds (default 150): a hung step cannot spend the budget.
#
#   scripts/gpu_check.sh              # on the GPU machine; PYTHON defaults to python3
#   scripts/gpu_check.sh --dry-run    # every step on the CPU at tiny size: checks the script
#
# The project runs from this checkout (PYTHONPATH), nothing is installed. Output goes to
# $GPU_CHECK_LOGS (default ./gpu-check): gpu-check.log (everything) and summary.txt (a line
# a step). Exit status: 0 when every step passed or was skipped, 1 when one failed, 3 when
# there is no GPU. Nothing here asserts a timing: read the figures in the log.
set -u -o pipefail
cd "$(dirname "$0")/.."
DRY=0
case "${1:-}" in
    --dry-run) DRY=1 ;;
    "") ;;
    *) echo "usage: $0 [--dry-run]" >&2; exit 2 ;;
esac
PY=${PYTHON:-python3}
LOGS=${GPU_CHECK_LOGS:-gpu-check}
STEP_TIMEOUT=${STEP_TIMEOUT:-150}
mkdir -p "$LOGS"
LOG="$LOGS/gpu-check.log"
SUMMARY="$LOGS/summary.txt"
: >"$LOG"
: >"$SUMMARY"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" QT_QPA_PLATFORM=offscreen PYTHONUNBUFFERED=1
status=0
started=$SECONDS

say() { echo "$*" | tee -a "$LOG"; }
note() { say "$*"; echo "$*" >>"$SUMMARY"; }

step() {  # step NAME COMMAND...: run it with a time limit, keep its output, note the outcome
    local name=$1 t0=$SECONDS rc
    shift
    say "== $name: $*"
    timeout -k 10 "$STEP_TIMEOUT" "$@" 2>&1 | tee -a "$LOG"
    rc=${PIPESTATUS[0]}
    if [ "$rc" = 0 ]; then
        note "ok      $name ($((SECONDS - t0)) s)"
    elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
        note "TIMEOUT $name (over $STEP_TIMEOUT s)"; status=1
    else
        note "FAILED  $name (exit $rc, $((SECONDS - t0)) s)"; status=1
    fi
}

skip() { local name=$1; shift; note "skipped $name: $*"; }

if [ "$DRY" = 1 ]; then
    DEV=cpu
    export STUDIO_CUDA_TESTS_ON=cpu CUDA_VISIBLE_DEVICES=""
    say "dry run: every step on the CPU at tiny size (checks this script, measures nothing)"
fi

step 0-device "$PY" -c "
import os, sys, torch
print('python', sys.version.split()[0], '| torch', torch.__version__, '| CUDA', torch.version.cuda,
      '| cuDNN', torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None)
if torch.cuda.is_available():
    print('bf16 supported:', torch.cuda.is_bf16_supported())
    for i in range(torch.cuda.device_count()):
        p = torch.cuda.get_device_properties(i)
        free, total = torch.cuda.mem_get_info(i)
        print(f'GPU {i}: {p.name}, compute capability {p.major}.{p.minor}, '
              f'{total / 2**30:.0f} GiB ({free / 2**30:.0f} free)')
else:
    print('no CUDA GPU')
print('cores this process may use:', len(os.sched_getaffinity(0)))
sys.exit(0 if torch.cuda.is_available() or $DRY else 3)"
if [ "$status" != 0 ]; then
    note "no CUDA GPU here: nothing to check (scripts/gpu_check.sh --dry-run checks the script)"
    exit 3
fi
if [ "$DRY" = 0 ]; then
    DEV=cuda
    GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())")
else
    GPUS=0
fi

# 1. The CUDA tests; in a dry run they run on the CPU (those that need a GPU skip). Two GPUs
# add the two nccl ranks' test (two processes, every scenario): a longer limit for it.
limit=$STEP_TIMEOUT
[ "$GPUS" -ge 2 ] && limit=$((STEP_TIMEOUT + 120))
STEP_TIMEOUT=$limit step 1-cuda-tests "$PY" -m pytest -q -rs -p no:cacheprovider \
    tests/engine/test_cuda.py

# 2. What a student does: train on the lab's GPU, finish on a laptop.
if [ "$DRY" = 1 ]; then TINY=(--set data.limit=300 --set "model.hidden=[32]"); else TINY=(--set data.limit=2000); fi
step 2-resume-on-the-cpu bash -c '
    set -e
    "$0" main.py train --preset variational --epochs 2 --device "$1" "${@:3}" \
        --out "$2/across.h5" --force --quiet
    "$0" main.py resume "$2/across.h5" --epochs 1 --device cpu --quiet
    "$0" main.py info "$2/across.h5"' "$PY" "$DEV" "$LOGS" "${TINY[@]}"

# 3. Streamed data under two ranks: nccl on two GPUs; in a dry run two gloo processes.
"$PY" -c "
import numpy as np; from engine.data.mnist import load_mnist
np.save('$LOGS/digits.npy', np.round(load_mnist().images[:, 0] * 255).astype(np.uint8))"
STREAMED=(--set data.source=file --set "data.path=$LOGS/digits.npy" --set data.stream=true
          --set data.workers=1)
[ "$DRY" = 1 ] && STREAMED+=(--set data.limit=600)
if [ "$GPUS" -ge 2 ] || [ "$DRY" = 1 ]; then
    step 3-torchrun-streamed "$PY" -m torch.distributed.run --standalone --nproc_per_node=2 \
        main.py train --preset plain --epochs 2 --device "$DEV" "${STREAMED[@]}" \
        --out "$LOGS/torchrun.h5" --force --quiet
else
    skip 3-torchrun-streamed "one GPU: two nccl ranks need two" \
        "(the gloo test adds nothing on a GPU machine; CI runs it)"
fi

# 4. The 64x64 colour presets (issue 18): throughput, snapshot share, exact numerics' cost.
if [ "$DRY" = 1 ]; then
    step 4-presets-64 "$PY" benchmarks/bench_presets_64.py --device cpu --images 48 \
        --epochs 1 --rounds 1
else
    step 4-presets-64 "$PY" benchmarks/bench_presets_64.py --device cuda --images 4096 \
        --epochs 2 --rounds 2
fi

# 5-6. The trainer against the bare loop; the data paths.
if [ "$DRY" = 1 ]; then R=(--epochs 1 --rounds 1 --limit 600); else R=(--epochs 2 --rounds 3); fi
step 5-trainer-float32 "$PY" benchmarks/bench_trainer_throughput.py --device "$DEV" "${R[@]}" \
    --examples
step 5-trainer-bf16 "$PY" benchmarks/bench_trainer_throughput.py --device "$DEV" "${R[@]}" \
    --precision bfloat16
if [ "$DRY" = 1 ]; then N=2000; else N=50000; fi
step 6-data-streaming "$PY" benchmarks/bench_data_streaming.py --device "$DEV" --images "$N" \
    --rounds 1 --max-workers 1

# 7. The window: the GPU machines have no PySide6 or pyqtgraph, and PySide6-Essentials'
# wheel (80 MB) is larger than what a call may carry (64 MiB).
if "$PY" -c "import PySide6.QtWidgets, pyqtgraph" 2>/dev/null; then
    if [ "$DRY" = 1 ]; then W=(--epochs 2 --rounds 1); else W=(--epochs 6 --rounds 2); fi
    step 7-window "$PY" benchmarks/bench_gui_latency.py --device "$DEV" "${W[@]}"
else
    skip 7-window "PySide6 or pyqtgraph does not import here (the GPU machines lack them," \
        "and PySide6-Essentials' 80 MB wheel exceeds the 64 MiB a call may carry)"
fi

# 8. torch.compile last.
if [ "$DRY" = 1 ] && [ -z "${GPU_CHECK_COMPILE:-}" ]; then
    skip 8-compile "a dry run does not compile (minutes on a CPU; GPU_CHECK_COMPILE=1 to" \
        "try)"
else
    step 8-compile "$PY" benchmarks/bench_trainer_throughput.py --device "$DEV" --epochs 1 \
        --rounds 1 --compile
fi

note "done in $((SECONDS - started)) s; exit status $status; log in $LOG"
exit $status
