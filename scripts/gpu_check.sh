#!/usr/bin/env bash
# The GPU checks of the performance issue, in one call (under 8 minutes on one H200):
#   1. the paper protocol: ResNet-18, FashionMNIST, batch 16, Adam, lr 0.001, AMP,
#      10 epochs at 224x224x3 (the study on a T4: 649 s; target here: <= 60 s);
#   2. time to 99 % MNIST validation accuracy (ResNet-18, batch 32, Adam, lr 0.001,
#      same protocol; target <= 10 s);
#   3. the input-pipeline ratio, harness vs the study's pipeline, at batch 16 and 32;
#   and first, `mnistperf plan` of the profile's every case on this device (and on 8).
# All three run as one pytest session, so results/<run>/ holds their tables; a
# short summary table is printed last. Without CUDA it falls back to the CPU at
# smoke sizes (a check that the script works, not GPU figures).
#
# Usage: MNISTPERF_DATA=../shared/datasets bash scripts/gpu_check.sh
#        bash scripts/gpu_check.sh --check-data   # only find and check the datasets, then exit
#
# On a fresh machine without network whose image has torch but not the rest
# (fvcore, iopath, yacs, termcolor, portalocker, ...), build a wheelhouse here
# first, `bash scripts/make_wheelhouse.sh` (wheelhouse/, git-ignored, a few MiB),
# and carry it along with the datasets packed as one .tar.gz in the ignored data/:
#   mkdir -p data && tar -czf data/datasets.tar.gz -C ../shared datasets   # about 42 MB
#   MNISTPERF_DATA_TGZ=data/datasets.tar.gz bash scripts/gpu_check.sh
# Environment:
#   MNISTPERF_DATA        the dataset root (holds MNIST/raw, FashionMNIST/raw);
#                         default ../shared/datasets
#   MNISTPERF_DATA_TGZ    a .tar.gz of such a root (or of a folder holding one): it is
#                         unpacked into a temporary folder and MNISTPERF_DATA points there
#   MNISTPERF_WHEELHOUSE  the wheelhouse to install from, offline, before anything runs
#                         (default wheelhouse/ when it exists; without one, the
#                         environment is taken as installed)
#   MNISTPERF_RESULTS     where the run folder goes (default results)
#   PYTHON                the interpreter (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
python=${PYTHON:-python3}

die() { echo "gpu_check: error: $*" >&2; exit 1; }
check_data_only=0
case "${1:-}" in
    "") ;;
    --check-data) check_data_only=1 ;;
    *) die "unknown argument '$1'; the only one is --check-data (find and check the datasets, then exit)" ;;
esac
# The folders a root must hold, both: with one missing, torchvision would try a download.
missing_data() {
    local d missing=()
    for d in MNIST/raw FashionMNIST/raw; do [[ -d $1/$d ]] || missing+=("$d"); done
    echo "${missing[*]}"
}
command -v "$python" >/dev/null 2>&1 || die "no '$python' here; set PYTHON to the interpreter that has torch"
# A relative path (PYTHON=.venv/bin/python) made absolute, without resolving the link.
[[ $python == */* && $python != /* ]] && python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"

# The datasets: a packed copy is unpacked first; the root must hold the torchvision layout.
if [[ -n ${MNISTPERF_DATA_TGZ:-} ]]; then
    [[ -f $MNISTPERF_DATA_TGZ ]] || die "MNISTPERF_DATA_TGZ=$MNISTPERF_DATA_TGZ is not a file"
    unpacked="$(mktemp -d "${TMPDIR:-/tmp}/mnistperf-data.XXXXXX")"
    trap 'rm -rf "$unpacked"' EXIT
    tar -xzf "$MNISTPERF_DATA_TGZ" -C "$unpacked" \
        || die "could not unpack $MNISTPERF_DATA_TGZ (want a .tar.gz of the datasets folder)"
    MNISTPERF_DATA=""
    for d in "$unpacked" "$unpacked"/*/ "$unpacked"/*/*/; do
        if [[ -z $(missing_data "$d") ]]; then MNISTPERF_DATA="${d%/}"; break; fi
    done
    [[ -n $MNISTPERF_DATA ]] \
        || die "$MNISTPERF_DATA_TGZ holds no folder with both MNIST/raw and FashionMNIST/raw (two levels deep at most)"
    echo "gpu_check: datasets unpacked from $MNISTPERF_DATA_TGZ into $MNISTPERF_DATA"
fi
export MNISTPERF_DATA="${MNISTPERF_DATA:-../shared/datasets}"
missing="$(missing_data "$MNISTPERF_DATA")"
[[ -z $missing ]] \
    || die "MNISTPERF_DATA=$MNISTPERF_DATA lacks ${missing// / and }; it must hold both MNIST/raw and FashionMNIST/raw: point it (or MNISTPERF_DATA_TGZ) at the datasets"
if ((check_data_only)); then
    echo "gpu_check: datasets ok: $MNISTPERF_DATA holds MNIST/raw and FashionMNIST/raw"
    exit 0
fi

# The wheelhouse: the package and whatever the image lacks, installed with no network on
# top of the image's torch. pip runs from / so that the checkout (its mnistperf/ and any
# mnistperf.egg-info) does not pass for an installed mnistperf; PIP_BREAK_SYSTEM_PACKAGES
# lets it install where the image's Python is marked externally managed (a throwaway
# machine's). The tests run the checkout's mnistperf/ either way (pytest runs from here);
# the install brings its requirements.
wheelhouse="${MNISTPERF_WHEELHOUSE:-}"
[[ -z $wheelhouse && -d wheelhouse ]] && wheelhouse=wheelhouse
if [[ -n $wheelhouse ]]; then
    [[ -d $wheelhouse ]] || die "MNISTPERF_WHEELHOUSE=$wheelhouse is not a folder"
    wheelhouse="$(cd "$wheelhouse" && pwd)"
    shopt -s nullglob
    own=("$wheelhouse"/mnistperf-*.whl)
    shopt -u nullglob
    ((${#own[@]} == 1)) || die "$wheelhouse holds ${#own[@]} mnistperf wheels, not one; rebuild it with scripts/make_wheelhouse.sh"
    echo "gpu_check: installing mnistperf and its missing requirements from $wheelhouse (offline)"
    pip_offline=(env PIP_BREAK_SYSTEM_PACKAGES=1 "$python" -m pip install --no-index
                 --find-links "$wheelhouse" --disable-pip-version-check --progress-bar off)
    # A machine kept from an earlier call may hold an mnistperf of the same version installed
    # from an older wheel: replace it first, so that the requirements are read from this one
    # (an editable install, a developer's, is left alone).
    if (cd / && "$python" - <<'PY'
import json, sys
from importlib import metadata
try:
    dist = metadata.distribution("mnistperf")
except metadata.PackageNotFoundError:
    sys.exit(1)
direct = json.loads(dist.read_text("direct_url.json") or "{}")
sys.exit(1 if direct.get("dir_info", {}).get("editable") else 0)
PY
    ); then
        (cd / && "${pip_offline[@]}" --quiet --no-deps --force-reinstall "${own[0]}") \
            || die "could not replace the installed mnistperf with ${own[0]}"
    fi
    (cd / && "${pip_offline[@]}" mnistperf) \
        || die "offline install from $wheelhouse failed (pip's message above); was it built for this Python (scripts/make_wheelhouse.sh --python-version X.Y)?"
fi
"$python" -c "import torch, fvcore, pytest_benchmark, tabulate" 2>/dev/null \
    || die "$python lacks torch, fvcore, pytest-benchmark or tabulate; build a wheelhouse (scripts/make_wheelhouse.sh) or install the project"

if "$python" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    device=gpu profile=paper
else
    device=cpu profile=smoke
    echo "gpu_check: no CUDA here; CPU fallback at smoke sizes"
fi

# The plan of the profile's whole study on this device first (its timings are then
# cached for the session below): every case one after another here, and on 8 GPUs.
gpus=()
[[ $device == gpu ]] && gpus=(--gpus 8)
"$python" -m mnistperf plan -m "$device" --mnistperf-profile "$profile" "${gpus[@]}" \
    | tail -n 12 || echo "gpu_check: the plan failed (its message is above); going on"

select="(test_resnet_grid and fashion and resnet18 and bs16 and adam and lr0.001 and $device)"
select+=" or (test_resnet_grid and mnist and resnet18 and bs32 and adam and lr0.001 and $device)"
select+=" or (pipe and $device)"
results="${MNISTPERF_RESULTS:-results}"

"$python" -m pytest benchmarks -p no:cacheprovider -k "$select" \
    --mnistperf-profile "$profile" --mnistperf-results "$results" \
    --mnistperf-target-mnist 99 --benchmark-columns=min,rounds

# The summary, from the run's benchmark.json (pytest-benchmark's format with the
# extra_info keys of the design's contract), so it does not lean on mnistperf's internals.
"$python" - "$results/latest" <<'PY'
import json, sys
from pathlib import Path
from tabulate import tabulate

path = Path(sys.argv[1]) / "benchmark.json"
if not path.is_file():
    sys.exit(f"gpu_check: error: {path} is missing; the pytest session wrote no results")
data = json.loads(path.read_text())
infos = [b.get("extra_info") or {} for b in data.get("benchmarks", [])]
rows = []
for i in infos:
    if i.get("kind") == "resnet":
        status = "" if i.get("status", "ok") == "ok" else f" [{i['status']}]"
        train, test, ttt = i.get("train_seconds"), i.get("test_accuracy"), i.get("time_to_target_seconds")
        rows.append([i.get("case_id", "?") + status,
                     "–" if train is None else f"{train:.1f} s train",
                     "–" if test is None else f"{test:.2f}% test",
                     ("to 99% val: " + ("not reached" if ttt is None else f"{ttt:.1f} s"))
                     if i.get("dataset") == "mnist" else ""])
pipes = {(i["input_size"], i["batch_size"], i["pipeline"]): i for i in infos
         if i.get("kind") == "pipeline" and i.get("images_per_second")}
for (size, bs, pipe), i in sorted(pipes.items()):
    base = pipes.get((size, bs, "study")) or pipes.get((size, bs, "seed"))  # named "seed" before 0.2
    if pipe == "fast" and base:
        rows.append([f"pipeline {size}px bs{bs}", f"study {base['images_per_second']:.0f} img/s",
                     f"fast {i['images_per_second']:.0f} img/s",
                     f"ratio {i['images_per_second'] / base['images_per_second']:.2f}x"])
gpu = ((data.get("machine_info") or {}).get("mnistperf") or {}).get("gpu")
print()
print(f"gpu_check summary ({gpu or 'CPU'}, {sys.argv[1]}):")
print(tabulate(rows, tablefmt="simple"))
PY
