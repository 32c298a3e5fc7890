"""scripts/make_wheelhouse.sh, end to end: a wheelhouse built for this interpreter installs
mnistperf with no index into a bare venv that sees only what a GPU image brings.

The venv is made without site packages; a .pth file in it points at a folder of symlinks
to what the image has preinstalled (torch, torchvision, numpy, pillow, scipy, scikit-learn,
matplotlib and everything they need, taken from this environment), so pip counts those as
installed and everything else (fvcore, iopath, yacs, termcolor, portalocker, tabulate,
psutil, pyyaml, tqdm, pytest, pytest-benchmark, ...) must come from the wheelhouse. Building
it needs PyPI (about 10 s here with a warm pip cache); the offline install needs nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "make_wheelhouse.sh"
# What the GPU image brings (and make_wheelhouse.sh leaves out by default).
PREINSTALLED = ("torch", "torchvision", "numpy", "pillow", "scipy", "scikit-learn", "matplotlib")
TOTAL = re.compile(r"^\s*([0-9.]+) MiB  total, (\d+) wheels, for ", re.M)


def preinstalled_closure(roots=PREINSTALLED) -> list[metadata.Distribution]:
    """The installed distributions `roots` need, transitively (markers of this interpreter)."""
    env = default_environment()
    found: dict[str, metadata.Distribution] = {}
    todo = [(name, ("",)) for name in roots]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in found:
            continue
        found[key] = dist = metadata.distribution(name)
        for req in map(Requirement, dist.requires or []):
            if req.marker is None or any(req.marker.evaluate({**env, "extra": e}) for e in extras):
                todo.append((req.name, ("",) + tuple(req.extras)))
    return list(found.values())


def link_preinstalled(folder: Path) -> list[str]:
    """Symlink each top-level entry (package, module, .dist-info, .libs) of the closure's
    distributions into `folder`; returns the distribution names."""
    folder.mkdir()
    dists = preinstalled_closure()
    for dist in dists:
        site = Path(dist.locate_file(""))
        tops = {Path(f).parts[0] for f in dist.files or []}
        for top in tops - {"..", "__pycache__"}:
            if (site / top).exists() and not (folder / top).exists():
                (folder / top).symlink_to(site / top)
    return sorted(canonicalize_name(d.metadata["Name"]) for d in dists)


def offline_env(tmp_path: Path) -> dict:
    """No pip configuration, no index, and a proxy that refuses: nothing can be fetched."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV")) and k.lower() not in
           ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
               PIP_CACHE_DIR=str(tmp_path / "pip-cache"))
    return env


def run(cmd, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_wheelhouse_installs_offline_next_to_preinstalled_torch(tmp_path):
    started = time.monotonic()

    # 1. The wheelhouse, for this interpreter.
    house = tmp_path / "wheelhouse"
    built = run(["bash", str(SCRIPT), "--local", "--out", str(house)],
                env={**os.environ, "PYTHON": sys.executable})
    wheels = sorted(p.name for p in house.glob("*.whl"))
    names = {canonicalize_name(w.split("-")[0]) for w in wheels}
    assert {"mnistperf", "fvcore", "iopath", "yacs", "termcolor", "portalocker", "tabulate",
            "psutil", "pyyaml", "tqdm", "pytest-benchmark"} <= names
    assert not names & {canonicalize_name(n) for n in PREINSTALLED + ("triton",)}
    assert not any(n.startswith("nvidia") for n in names)
    assert all(w.endswith("-none-any.whl") for w in wheels if w.startswith(("fvcore", "iopath")))
    size = sum(p.stat().st_size for p in house.glob("*.whl"))
    assert size < 60 * 2**20
    total = TOTAL.search(built.stdout)
    assert total, built.stdout
    assert int(total[2]) == len(wheels)
    assert float(total[1]) == pytest.approx(size / 2**20, abs=0.01)
    assert (house / "WHEELS.txt").read_text().splitlines()[-1].strip().startswith(total[1])
    build_seconds = time.monotonic() - started

    # 2. A bare venv that sees the image's packages, and only those.
    venv = tmp_path / "venv"
    # Without pip: Python 3.11's ensurepip would bring a setuptools too old for torch's
    # requirement, shadowing the preinstalled one; this environment's pip drives the venv.
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    py = str(venv / "bin" / "python")
    site = Path(run([py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                    cwd=tmp_path).stdout.strip())
    linked = link_preinstalled(tmp_path / "preinstalled")
    assert {"torch", "torchvision", "numpy", "scikit-learn"} <= set(linked)
    assert "fvcore" not in linked and "pytest-benchmark" not in linked
    (site / "gpu-image.pth").write_text(str(tmp_path / "preinstalled") + "\n")
    env = offline_env(tmp_path)
    probe = "import importlib.util as u; print([m for m in %r if u.find_spec(m)])"
    seen = run([py, "-c", probe % ["torch", "torchvision", "sklearn", "fvcore", "pytest_benchmark"]],
               cwd=tmp_path, env=env).stdout.strip()
    assert seen == "['torch', 'torchvision', 'sklearn']"

    # 3. The offline install, then the package from the venv (not from the checkout).
    installed = run([sys.executable, "-m", "pip", "--python", py, "install", "--no-index",
                     "--find-links", str(house), "mnistperf"], cwd=tmp_path, env=env)
    line = next(x for x in installed.stdout.splitlines() if x.startswith("Successfully installed"))
    got = {canonicalize_name(re.sub(r"-[^-]+$", "", x)) for x in line.split()[2:]}
    assert {"mnistperf", "fvcore", "iopath", "pytest-benchmark", "portalocker"} <= got
    assert not got & {"torch", "torchvision", "numpy", "scikit-learn", "matplotlib"}
    code = ("import json, fvcore, pytest_benchmark, torch, torchvision, mnistperf.flops as f; "
            "print(json.dumps([f.__file__, torch.__file__, f.macs_per_image('resnet18', 1, 28)]))")
    flops_file, torch_file, macs = json.loads(
        run([py, "-c", code], cwd=tmp_path, env=env).stdout.strip().splitlines()[-1])
    assert flops_file.startswith(str(site))
    assert torch_file.startswith(str(tmp_path / "preinstalled"))
    from mnistperf.flops import macs_per_image

    assert macs == macs_per_image("resnet18", 1, 28) > 0
    print(f"wheelhouse: {len(wheels)} wheels, {size / 2**20:.2f} MiB, built in "
          f"{build_seconds:.1f} s; whole test {time.monotonic() - started:.1f} s")
