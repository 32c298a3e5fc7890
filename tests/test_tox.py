"""tox.ini as tox itself reads it (`tox config`, nothing built): the profile
defaults survive arguments after `--`, and the tests run in the cpu environment."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _config(*args: str) -> dict[str, dict[str, str]]:
    """{env: {key: value}} from `tox config -e ... -k commands set_env -- args`."""
    pytest.importorskip("tox", reason="tox is in the test extra: pip install -e '.[test]'")
    proc = subprocess.run(
        [sys.executable, "-m", "tox", "config", "-c", str(ROOT), "-e", "cpu,cuda,test",
         "-k", "commands", "commands_pre", "set_env", "--", *args],
        capture_output=True, text=True, timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home())})
    assert proc.returncode == 0, proc.stderr
    out: dict[str, dict[str, str]] = {}
    env = key = None
    for line in proc.stdout.splitlines():
        if line.startswith("[testenv:"):
            env = line[len("[testenv:"):-1]
            out[env] = {}
        elif " = " in line and not line.startswith(" "):
            key, value = line.split(" = ", 1)
            out[env][key] = value
        elif line.startswith("  ") and key == "set_env":
            name, _, value = line.strip().partition("=")
            out[env][f"set_env.{name}"] = value
        elif line.rstrip().endswith("=") and not line.startswith(" "):
            key = line.rstrip(" =")
    return out


def test_arguments_after_the_double_dash_keep_each_environments_profile():
    config = _config("-k", "mnist and resnet18")
    assert config["cpu"]["commands"] == "pytest benchmarks -m cpu -k 'mnist and resnet18'"
    assert config["cpu"]["set_env.MNISTPERF_PROFILE"] == "quick"
    assert config["cuda"]["commands"] == "pytest benchmarks -m gpu -k 'mnist and resnet18'"
    assert config["cuda"]["set_env.MNISTPERF_PROFILE"] == "paper"


def test_the_tests_run_in_the_one_cpu_environment():
    config = _config("tests/test_stats.py")
    test = config["test"]
    assert test["commands_pre"] == f"python -m tox -q -c {ROOT} -e cpu --notest"
    assert test["commands"] == f"{ROOT}/.tox/cpu/bin/python -m pytest tests/test_stats.py"
