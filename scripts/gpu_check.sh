#!/usr/bin/env bash
# The GPU path in one go, for a machine with a CUDA GPU (issue 12):
#   1. the CUDA tests (tests/engine/test_cuda.py; two nccl ranks when there are two GPUs),
#   2. the trainer against the bare loop and pytorch/examples' own loop, float32 and bf16,
#      and the bare loop with torch.compile,
#   3. the data paths (in memory / streamed) on the GPU,
#   4. torchrun with one process per GPU (when there are two or more),
#   5. the window-open benchmark under the offscreen platform, training on the GPU.
# Every figure is printed and kept in $OUT (default ./gpu-check) as one log per step;
# the whole script takes about 6-8 minutes on one GPU (each step at most STEP_TIMEOUT s).
#
#   PYTHON=/path/to/venv/bin/python scripts/gpu_check.sh
#
# Nothing here asserts a timing: read the ratios in the logs (see the README's Benchmarks).
set -u -o pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
export QT_QPA_PLATFORM=offscreen
status=0

step() {  # step NAME COMMAND...: run it, keep its output, remember a failure
    local name=$1; shift
    echo "== $name: $*" | tee "$OUT/$name.log"
    timeout "${STEP_TIMEOUT:-600}" "$@" 2>&1 | tee -a "$OUT/$name.log"
    local rc=${PIPESTATUS[0]}
    if [ "$rc" != 0 ]; then
        echo "!! $name failed (exit $rc)" | tee -a "$OUT/$name.log"
        status=1
    fi
    return "$rc"
}

step 0-device "$PY" -c "import torch, os
print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())
for i in range(torch.cuda.device_count()): print(i, torch.cuda.get_device_name(i))
print('cores this process may use', len(os.sched_getaffinity(0)))
import sys; sys.exit(0 if torch.cuda.is_available() else 3)" || { echo "no CUDA GPU: nothing to check"; exit 3; }
GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())" 2>/dev/null || echo 0)

step 1-cuda-tests "$PY" -m pytest -q -rs tests/engine/test_cuda.py tests/engine/test_distributed.py
step 2-trainer-float32 "$PY" benchmarks/bench_trainer_throughput.py --device cuda --epochs 3 \
    --rounds 5 --examples --compile
step 2-trainer-bf16 "$PY" benchmarks/bench_trainer_throughput.py --device cuda --epochs 3 \
    --rounds 3 --precision bfloat16
step 3-data-streaming "$PY" benchmarks/bench_data_streaming.py --device cuda --images 100000 \
    --rounds 2 --max-workers 2 --read-only
if [ "$GPUS" -ge 2 ]; then
    step 4-torchrun "$PY" -m torch.distributed.run --standalone --nproc_per_node="$GPUS" \
        main.py train --preset conv-vae --epochs 3 --device cuda --out "$OUT/torchrun.h5" --force
    step 4-one-process "$PY" main.py train --preset conv-vae --epochs 3 --device cuda \
        --out "$OUT/one-process.h5" --force
fi
step 5-window-open "$PY" benchmarks/bench_gui_latency.py --device cuda --epochs 6 --rounds 3
echo "logs in $OUT; exit status $status"
exit $status
