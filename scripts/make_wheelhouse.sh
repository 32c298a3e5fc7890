#!/usr/bin/env bash
# Build, here (with PyPI reachable), a wheelhouse for a machine without network whose
# image already has torch and the other heavy packages: the project's own wheel plus
# every wheel it needs that such an image may lack (fvcore, iopath, yacs, termcolor,
# portalocker, tabulate, psutil, pyyaml, tqdm, pytest, pytest-benchmark, py-cpuinfo2, ...).
# There, `python -m pip install --no-index --find-links wheelhouse mnistperf` installs them
# offline on top of the image's torch (scripts/gpu_check.sh does this by itself).
#
# Usage: bash scripts/make_wheelhouse.sh [options]
#   --python-version X.Y   target Python (default 3.12, the GPU image's)
#   --platform TAG         target platform tag, repeatable (default manylinux2014_x86_64;
#                          pip also accepts the older manylinux tags below it)
#   --local                build for the local interpreter instead (the test uses this)
#   --out DIR              where the wheels go (default: wheelhouse/ at the repo root,
#                          git-ignored); its old *.whl files are replaced
#   --max-mib N            fail if the wheels add up to more than N MiB (default 60)
#   --preinstalled LIST    comma-separated names left out because the image has them,
#                          with everything only they need (default below; globs allowed)
#   --no-pin               let pip choose the versions (preferring those with wheels)
#                          instead of pinning the ones installed in $PYTHON's
#                          environment (the versions the tests ran with)
# Environment: PYTHON, the interpreter whose pip does the work (default .venv/bin/python,
# else python3); it also supplies the pinned versions.
#
# How: the project wheel is built from a copy of the source (nothing is written into the
# checkout); its requirements, less the preinstalled ones, are resolved by pip (a dry run,
# metadata only); the packages reachable from them without passing through a preinstalled
# one are fetched with `pip download --only-binary=:all:` for the target where a wheel
# exists, and built with `pip wheel --no-deps` where PyPI has only an sdist (fvcore,
# iopath 0.1.10), which must then be pure Python. Last it lists the wheels and the total.
set -euo pipefail

die() { echo "make_wheelhouse: error: $*" >&2; exit 1; }

repo="$(cd "$(dirname "$0")/.." && pwd)"
pyver=3.12
platforms=()
local_mode=0
explicit_target=0
out="$repo/wheelhouse"
max_mib=60
pin=1
# The GPU image's own packages (torch and torchvision, and what the project needs that the
# image brings anyway); pillow and numpy come with torchvision.
preinstalled="torch,torchvision,triton,nvidia-*,cuda-*,numpy,scipy,scikit-learn,matplotlib,pillow"

while (($#)); do
    case "$1" in
        --python-version) [[ $# -ge 2 ]] || die "--python-version needs a value (e.g. 3.12)"
                          pyver="$2"; explicit_target=1; shift 2 ;;
        --platform)       [[ $# -ge 2 ]] || die "--platform needs a value (e.g. manylinux2014_x86_64)"
                          platforms+=("$2"); explicit_target=1; shift 2 ;;
        --local)          local_mode=1; shift ;;
        --out)            [[ $# -ge 2 ]] || die "--out needs a folder"; out="$2"; shift 2 ;;
        --max-mib)        [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || die "--max-mib needs a whole number"
                          max_mib="$2"; shift 2 ;;
        --preinstalled)   [[ $# -ge 2 ]] || die "--preinstalled needs a comma-separated list"
                          preinstalled="$2"; shift 2 ;;
        --no-pin)         pin=0; shift ;;
        -h|--help)        sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *)                die "unknown option '$1' (see --help)" ;;
    esac
done
[[ $pyver =~ ^3\.[0-9]+$ ]] || die "--python-version must look like 3.12, not '$pyver'"
((${#platforms[@]})) || platforms=(manylinux2014_x86_64)
((local_mode && explicit_target)) && die "--local builds for this interpreter; it takes no --python-version or --platform"

if [[ -n ${PYTHON:-} ]]; then py="$PYTHON"
elif [[ -x $repo/.venv/bin/python ]]; then py="$repo/.venv/bin/python"
else py=python3; fi
"$py" -m pip --version >/dev/null 2>&1 || die "'$py -m pip' does not run; set PYTHON to a Python with pip"

work="$(mktemp -d "${TMPDIR:-/tmp}/wheelhouse.XXXXXX")"
trap 'rm -rf "$work"' EXIT
log="$work/pip.log"
mkdir -p "$work/src" "$work/project" "$work/built" "$work/wheels"

# Runs pip quietly into the log; on failure shows the log's tail and stops with one line.
pip_() {
    local what="$1"; shift
    if ! "$py" -m pip --disable-pip-version-check "$@" >>"$log" 2>&1; then
        tail -n 25 "$log" >&2
        die "$what failed (pip's messages above)"
    fi
}

if ((local_mode)); then
    target=(); target_desc="this interpreter ($("$py" -c 'import sys, sysconfig; print(f"Python {sys.version_info[0]}.{sys.version_info[1]}, {sysconfig.get_platform()}")'))"
else
    target=(--python-version "$pyver" --implementation cp)
    for p in "${platforms[@]}"; do target+=(--platform "$p"); done
    target_desc="Python $pyver, ${platforms[*]}"
fi
echo "make_wheelhouse: target $target_desc; pip from $py"

# 1. The project's wheel, built from a copy so that no build/ or egg-info lands in the checkout.
cp "$repo/pyproject.toml" "$work/src/"
for f in README.md LICENSE LICENSE.txt setup.py setup.cfg MANIFEST.in; do
    [[ -e $repo/$f ]] && cp "$repo/$f" "$work/src/"
done
cp -R "$repo/mnistperf" "$work/src/"
find "$work/src" -name __pycache__ -type d -prune -exec rm -rf {} +
isolation=(--no-build-isolation)
"$py" -c 'import setuptools, sys; sys.exit(int(setuptools.__version__.split(".")[0]) < 64)' 2>/dev/null \
    || isolation=()
pip_ "building the mnistperf wheel" wheel --no-deps "${isolation[@]}" -w "$work/project" "$work/src"
project_whl=("$work"/project/mnistperf-*.whl)
[[ -f ${project_whl[0]} ]] || die "pip built no mnistperf wheel"

# 2. Its requirements less the preinstalled ones (markers evaluated for the target), and the
#    pins: the versions installed in $py's environment.
helper="$work/helper.py"
cat >"$helper" <<'PY'
import fnmatch, json, re, sys, zipfile
from email.parser import Parser
try:
    from packaging.markers import default_environment
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
except ImportError:  # pip always carries a copy
    from pip._vendor.packaging.markers import default_environment
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name

def environment(pyver):
    env = default_environment()
    if pyver:  # a target that is not this interpreter (Linux, CPython)
        env.update(python_version=pyver, python_full_version=pyver + ".0",
                   implementation_name="cpython", platform_python_implementation="CPython",
                   sys_platform="linux", platform_system="Linux", os_name="posix")
    return env

def needed(req, env, extras=("",)):
    return req.marker is None or any(req.marker.evaluate({**env, "extra": e}) for e in extras)

def is_preinstalled(name, patterns):
    return any(fnmatch.fnmatch(canonicalize_name(name), re.sub(r"[-_.]+", "-", p.strip().lower()))
               for p in patterns if p.strip())

def roots(wheel, pyver, patterns):
    """The wheel's requirements the target needs, less the preinstalled ones."""
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        reqs = Parser().parsestr(z.read(meta).decode()).get_all("Requires-Dist") or []
    env = environment(pyver)
    for r in map(Requirement, reqs):
        if needed(r, env) and not is_preinstalled(r.name, patterns):
            print(str(r).split(";")[0].strip())

def pins(freeze, patterns):
    for line in open(freeze):
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s*$", line)
        if m and not is_preinstalled(m[1], patterns) and canonicalize_name(m[1]) != "mnistperf":
            print(f"{m[1]}=={m[2]}")

def closure(report, roots_file, pyver, patterns):
    """What pip resolved that the roots reach without passing a preinstalled package:
    one line per package, 'name version wheel|sdist'."""
    items = {canonicalize_name(i["metadata"]["name"]): i for i in json.load(open(report))["install"]}
    env = environment(pyver)
    todo = [(Requirement(line), ("",)) for line in open(roots_file).read().split("\n") if line]
    seen = {}
    while todo:
        req, _ = todo.pop()
        name = canonicalize_name(req.name)
        if is_preinstalled(name, patterns):
            continue
        extras = tuple(sorted(set(seen.get(name, ())) | set(req.extras)))
        if name in seen and set(req.extras) <= set(seen[name]):
            continue
        seen[name] = extras
        if name not in items:
            sys.exit(f"make_wheelhouse: error: the target needs {req} but pip, resolving with "
                     f"this interpreter's markers, did not; run this script with a Python {pyver}")
        for dep in map(Requirement, items[name]["metadata"].get("requires_dist") or []):
            if needed(dep, env, ("",) + extras):
                todo.append((dep, ()))
    for name in sorted(seen):
        item = items[name]
        url = item["download_info"]["url"]
        kind = "wheel" if url.split("#")[0].endswith(".whl") else "sdist"
        print(item["metadata"]["name"], item["metadata"]["version"], kind)

def listing(folder, max_mib, target):
    import os
    wheels = sorted(f for f in os.listdir(folder) if f.endswith(".whl"))
    sizes = {w: os.path.getsize(os.path.join(folder, w)) for w in wheels}
    total = sum(sizes.values())
    lines = [f"{sizes[w] / 1024:10.1f} KiB  {w}" for w in wheels]
    lines.append(f"{total / 2**20:10.2f} MiB  total, {len(wheels)} wheels, for {target}")
    with open(os.path.join(folder, "WHEELS.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    if total > max_mib * 2**20:
        sys.exit(f"make_wheelhouse: error: the wheels add up to {total / 2**20:.2f} MiB, over the "
                 f"{max_mib} MiB limit (see the list above); the wheelhouse was left as it was")

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "roots":
    roots(args[0], args[1], args[2].split(","))
elif cmd == "pins":
    pins(args[0], args[1].split(","))
elif cmd == "closure":
    closure(args[0], args[1], args[2], args[3].split(","))
elif cmd == "list":
    listing(args[0], int(args[1]), args[2])
PY
marker_pyver="$pyver"; ((local_mode)) && marker_pyver=""
patterns="$preinstalled"
"$py" "$helper" roots "${project_whl[0]}" "$marker_pyver" "$patterns" >"$work/roots.txt"
: >"$work/pins.txt"
if ((pin)); then
    "$py" -m pip --disable-pip-version-check freeze --exclude-editable >"$work/freeze.txt" 2>>"$log" \
        || die "'$py -m pip freeze' failed"
    "$py" "$helper" pins "$work/freeze.txt" "$patterns" >"$work/pins.txt"
fi

# 3. Resolve (metadata only: nothing is installed or downloaded whole), then walk the result.
if [[ -s $work/roots.txt ]]; then
    pip_ "resolving the requirements" install --dry-run --ignore-installed --quiet \
        --prefer-binary --report "$work/report.json" -c "$work/pins.txt" -r "$work/roots.txt"
    "$py" "$helper" closure "$work/report.json" "$work/roots.txt" "$marker_pyver" "$patterns" \
        >"$work/closure.txt"
else
    : >"$work/closure.txt"
fi

# 4. Fetch: wheels for the target where PyPI has them, pure-Python builds of the sdists.
wheels=() sdists=()
while read -r name version kind; do
    if [[ $kind == wheel ]]; then wheels+=("$name==$version"); else sdists+=("$name==$version"); fi
done <"$work/closure.txt"
if ((${#wheels[@]})); then
    pip_ "downloading ${wheels[*]} for $target_desc" download --no-deps --only-binary=:all: \
        "${target[@]}" -d "$work/wheels" "${wheels[@]}"
fi
if ((${#sdists[@]})); then
    pip_ "building ${sdists[*]} from their sdists" wheel --no-deps -w "$work/built" "${sdists[@]}"
    for w in "$work"/built/*.whl; do
        [[ $w == *-none-any.whl ]] \
            || die "$(basename "$w") is not pure Python and PyPI has no wheel of it for $target_desc"
    done
    cp "$work"/built/*.whl "$work/wheels/"
fi
cp "${project_whl[0]}" "$work/wheels/"

# 5. List the wheels and check the size; only then replace the old ones in $out.
echo "make_wheelhouse: wheels for $out:"
"$py" "$helper" list "$work/wheels" "$max_mib" "$target_desc"
mkdir -p "$out"
rm -f "$out"/*.whl "$out/WHEELS.txt"
cp "$work"/wheels/*.whl "$work/wheels/WHEELS.txt" "$out/"
