#!/usr/bin/env bash
# The GPU checks of the performance issue, in one call (under 8 minutes on one H200):
#   1. the paper protocol: ResNet-18, FashionMNIST, batch 16, Adam, lr 0.001, AMP,
#      10 epochs at 224x224x3 (seed on a T4: 649 s; target here: <= 60 s);
#   2. time to 99 % MNIST validation accuracy (ResNet-18, batch 32, Adam, lr 0.001,
#      same protocol; target <= 10 s);
#   3. the input-pipeline ratio, harness vs seed pipeline, at batch 16 and 32.
# All three run as one pytest session, so results/<run>/ holds their tables; a
# short summary table is printed last. Without CUDA it falls back to the CPU at
# smoke sizes (a check that the script works, not GPU figures).
#
# Usage: MNISTPERF_DATA=../shared/datasets bash scripts/gpu_check.sh
# On a machine where ../shared is not beside the checkout, copy the datasets into
# an ignored folder of the checkout and point MNISTPERF_DATA there.
set -euo pipefail
cd "$(dirname "$0")/.."
export MNISTPERF_DATA="${MNISTPERF_DATA:-../shared/datasets}"
export PYTHONUNBUFFERED=1
python=${PYTHON:-python3}

if "$python" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    device=gpu profile=paper
else
    device=cpu profile=smoke
    echo "gpu_check: no CUDA here; CPU fallback at smoke sizes"
fi

select="(test_resnet_grid and fashion and resnet18 and bs16 and adam and lr0.001 and $device)"
select+=" or (test_resnet_grid and mnist and resnet18 and bs32 and adam and lr0.001 and $device)"
select+=" or (pipe and $device)"
results="${MNISTPERF_RESULTS:-results}"

"$python" -m pytest benchmarks -p no:cacheprovider -k "$select" \
    --mnistperf-profile "$profile" --mnistperf-results "$results" \
    --mnistperf-target-mnist 99 --benchmark-columns=min,rounds

"$python" - "$results/latest" <<'PY'
import sys
from tabulate import tabulate
from mnistperf.report import load_run

run = load_run(sys.argv[1])
rows = []
for c in run.cases:
    i = c.info
    if i["kind"] == "resnet":
        ttt = i["time_to_target_seconds"]
        rows.append([c.case_id, f"{i['train_seconds']:.1f} s train",
                     f"{i['test_accuracy']:.2f}% test",
                     ("to 99% val: " + ("not reached" if ttt is None else f"{ttt:.1f} s"))
                     if i["dataset"] == "mnist" else ""])
pipes = {(i["input_size"], i["batch_size"], i["pipeline"]): i for i in (c.info for c in run.cases)
         if i["kind"] == "pipeline"}
for (size, bs, pipe), i in sorted(pipes.items()):
    if pipe == "fast" and (size, bs, "seed") in pipes:
        seed = pipes[(size, bs, "seed")]
        rows.append([f"pipeline {size}px bs{bs}", f"seed {seed['images_per_second']:.0f} img/s",
                     f"fast {i['images_per_second']:.0f} img/s",
                     f"ratio {i['images_per_second'] / seed['images_per_second']:.2f}x"])
print()
print(f"gpu_check summary ({run.machine.get('gpu') or 'CPU'}, {sys.argv[1]}):")
print(tabulate(rows, tablefmt="simple"))
PY
