#!/usr/bin/env bash
# Everything that needs a CUDA GPU, in one go: the GPU tests, then the GPU benchmark (tuneforge against TRL on
# a ~1B Llama built from config). Each step is bounded; results go to $OUT (default ./gpu-results).
#   bash benchmarks/gpu_checks.sh            # from the repository root, with tuneforge's dependencies and trl
set -uo pipefail
OUT=${OUT:-gpu-results}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY=${PY:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
$PY -c "import torch, transformers, peft, bitsandbytes, lightning, trl; print('torch', torch.__version__, \
'transformers', transformers.__version__, 'peft', peft.__version__, 'bitsandbytes', bitsandbytes.__version__, \
'lightning', lightning.__version__, 'trl', trl.__version__)" | tee -a "$OUT/gpu.txt"
timeout "${TESTS_S:-150}" $PY -m pytest -q -p no:cacheprovider -m gpu tests -rs 2>&1 | tail -40 | tee "$OUT/gpu_tests.log"
# LoRA: all four configurations with checkpointing, the packed pair without; QLoRA: the packed pair both ways.
timeout "${BENCH_S:-330}" $PY benchmarks/throughput_gpu.py --json "$OUT/gpu_runs.jsonl" --examples "${EXAMPLES:-256}" \
  --only "${RUNS:-lora/on/trl_padded,lora/on/ours_padded,lora/on/trl_packed,lora/on/ours_packed,lora/off/trl_packed,lora/off/ours_packed,qlora/on/trl_packed,qlora/on/ours_packed,qlora/off/trl_packed,qlora/off/ours_packed}" \
  2>&1 | tee "$OUT/gpu_bench.log"
