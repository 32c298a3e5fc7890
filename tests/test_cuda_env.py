"""The GPU machine's way in: `tox -e cuda` (the machine's torch, stopping with one
line where it sees no GPU), gpu_check.sh's data check, dispatch's GPU share."""

import configparser
import shlex
import subprocess
import sys
import tarfile
import tomllib

import pytest
import torch

from mnistperf import cuda_check
from tests.conftest import REPO


def _cuda_env() -> configparser.SectionProxy:
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(REPO / "tox.ini")
    return ini["testenv:cuda"]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.strip().splitlines() if line.strip()]


def test_tox_cuda_uses_the_machine_torch_and_checks_first():
    env = _cuda_env()
    assert env.getboolean("sitepackages") and env.getboolean("skip_install")
    assert "deps" not in env  # installed before commands_pre, so before the check
    assert "PYTHONPATH = {tox_root}" in _lines(env["setenv"])
    pre = _lines(env["commands_pre"])
    assert pre[0] == "python -m mnistperf cuda-check"
    assert len(pre) == 2 and pre[1].startswith("python -m pip install ")
    installed = [arg for arg in shlex.split(pre[1])[4:] if not arg.startswith("-")]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    # Everything the project needs but torch and torchvision, which are the machine's.
    assert installed == [req for req in project["dependencies"]
                         if not req.startswith(("torch>", "torchvision>"))]
    assert not any("torch" in arg for arg in installed)
    assert "torch>=2.3,<=2.14.1" in project["dependencies"]
    assert "torchvision>=0.18,<=0.29.1" in project["dependencies"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_tox_cuda_stops_with_one_line_without_cuda():
    command = shlex.split(_lines(_cuda_env()["commands_pre"])[0])
    proc = subprocess.run([sys.executable, *command[1:]], cwd=REPO, capture_output=True,
                          text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == (
        f"mnistperf cuda-check: error: torch {torch.__version__} (CUDA build: "
        f"{torch.version.cuda or 'none, a CPU-only build'}) sees no CUDA GPU "
        f"(torch.cuda.is_available() is False); the gpu cases would all be skipped: run "
        f"where a GPU and a driver matching the build are visible\n")


def test_cuda_check_passes_where_torch_sees_a_gpu(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "NVIDIA H200")
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    assert cuda_check.main() == 0
    assert capsys.readouterr().out == (f"mnistperf cuda-check: torch {torch.__version__}, "
                                       f"CUDA 12.4, 2 GPUs: NVIDIA H200\n")


def test_cuda_check_refuses_a_torch_below_the_floor(monkeypatch, capsys):
    monkeypatch.setattr(torch, "__version__", "2.2.2+cu121")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert cuda_check.main() == 1
    assert capsys.readouterr().err == ("mnistperf cuda-check: error: torch 2.2.2+cu121 is "
                                       "older than 2.3, mnistperf's floor\n")


def test_cuda_check_without_torch_says_so(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    assert cuda_check.main() == 1
    err = capsys.readouterr().err
    assert err.startswith(f"mnistperf cuda-check: error: no torch in {sys.executable}; ")
    assert err.count("\n") == 1


def _data_check(root=None, tgz=None):
    env = {"PATH": "/usr/bin:/bin"}
    if root is not None:
        env["MNISTPERF_DATA"] = str(root)
    if tgz is not None:
        env["MNISTPERF_DATA_TGZ"] = str(tgz)
    return subprocess.run(["bash", str(REPO / "scripts" / "gpu_check.sh"), "--check-data"],
                          capture_output=True, text=True, env=env)


def _root(tmp_path, *folders):
    root = tmp_path / "datasets"
    for folder in folders:
        (root / folder / "raw").mkdir(parents=True)
    return root


def test_gpu_check_needs_both_dataset_folders(tmp_path):
    root = _root(tmp_path, "MNIST")
    proc = _data_check(root)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == (f"gpu_check: error: MNISTPERF_DATA={root} lacks FashionMNIST/raw; it "
                           f"must hold both MNIST/raw and FashionMNIST/raw: point it (or "
                           f"MNISTPERF_DATA_TGZ) at the datasets\n")
    (root / "FashionMNIST" / "raw").mkdir(parents=True)
    proc = _data_check(root)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == (f"gpu_check: datasets ok: {root} holds MNIST/raw and "
                           f"FashionMNIST/raw\n")


def test_gpu_check_needs_both_folders_in_a_packed_copy(tmp_path):
    root = _root(tmp_path, "FashionMNIST")
    packed = tmp_path / "datasets.tar.gz"
    with tarfile.open(packed, "w:gz") as tar:
        tar.add(root, arcname="datasets")
    proc = _data_check(tgz=packed)
    assert proc.returncode == 1
    assert proc.stderr == (f"gpu_check: error: {packed} holds no folder with both MNIST/raw "
                           f"and FashionMNIST/raw (two levels deep at most)\n")
    (root / "MNIST" / "raw").mkdir(parents=True)
    with tarfile.open(packed, "w:gz") as tar:
        tar.add(root, arcname="datasets")
    proc = _data_check(tgz=packed)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1].startswith("gpu_check: datasets ok: ")


@pytest.mark.parametrize("value", ["0", "-1", "-0.5"])
def test_dispatch_refuses_a_gpu_share_of_zero_or_less(value, capsys):
    from mnistperf.__main__ import main

    assert main(["dispatch", "-m", "gpu", "--gpus-per-case", value]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"mnistperf dispatch: error: --gpus-per-case {value}: a gpu case "
                            f"needs a GPU or a share of one (above 0, e.g. 0.5); to run only "
                            f"the cpu cases, select them (-m cpu)\n")
