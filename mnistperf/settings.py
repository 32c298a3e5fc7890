"""A session's settings: the options every case shares, checked before anything runs.

    settings = resolve_settings(profile="quick", data=None, results=None, seed=0,
                                repeats=1, compile="", targets={"mnist": 99.0})

Values come from the command line, else the environment (`MNISTPERF_PROFILE`,
`MNISTPERF_DATA`, `MNISTPERF_RESULTS`), else the defaults. A bad value is a
`ConfigError` whose message is one line naming the option and what is allowed;
the plugin turns it into a usage error (exit 4) before any case trains.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mnistperf.config import DEFAULT_TARGETS, TRACKERS, ConfigError, check_target
from mnistperf.data import resolve_root
from mnistperf.profiles import Profile, get_profile


@dataclass(frozen=True)
class Settings:
    profile: Profile
    data_root: Path
    results_dir: Path
    seed: int
    repeats: int = 1
    compile: str = ""
    targets: tuple[tuple[str, float], ...] = tuple(DEFAULT_TARGETS.items())
    timeout: float | None = None  # seconds per case, then status "timeout"
    momentum: float = 0.0  # SGD momentum of every SGD case
    resume: str | None = None  # a run folder, "" for the newest of the profile, None: off
    track: str | None = None  # "mlflow[=URI]" | "tensorboard[=DIR]": log cases as they train
    resume_any_machine: bool = False  # resume also takes records of another machine
    yes: bool = False  # run a selection predicted to take over 24 hours
    plan: bool = True  # time the units of work first (mnistperf.plan)

    def target(self, dataset: str) -> float:
        return dict(self.targets)[dataset]


# torch.manual_seed takes any 64-bit value, but scikit-learn's and NumPy's seeds
# stop at 2**32 - 1, and repeats add to the seed.
MAX_SEED = 2**32 - 1


def _check_compile(backend: str) -> None:
    if not backend:
        return
    import torch._dynamo

    known = torch._dynamo.list_backends(exclude_tags=())
    if backend not in known:
        raise ConfigError(f"--mnistperf-compile={backend!r} is not a torch.compile backend "
                          f"here; choose one of: {', '.join(known)}")


def resolve_settings(*, profile: str | None, data: str | None, results: str | None,
                     seed: int, repeats: int, compile: str, targets: dict[str, float],
                     timeout: float | None = None, resume: str | None = None,
                     momentum: float = 0.0, track: str | None = None,
                     resume_any_machine: bool = False, yes: bool = False,
                     plan: bool = True) -> Settings:
    try:
        chosen = get_profile(profile or os.environ.get("MNISTPERF_PROFILE") or "quick")
    except ConfigError as exc:
        raise ConfigError(f"{exc} (from MNISTPERF_PROFILE)" if not profile else str(exc)) \
            from None
    if repeats < 1:
        raise ConfigError(f"--mnistperf-repeats={repeats} must be at least 1")
    if not 0 <= seed <= MAX_SEED - (repeats - 1):
        raise ConfigError(f"--mnistperf-seed={seed} is outside 0..{MAX_SEED - (repeats - 1)} "
                          f"(seeds seed..seed+repeats-1 must fit in 32 bits)")
    if timeout is not None and not timeout > 0:
        raise ConfigError(f"--mnistperf-timeout={timeout:g} must be above 0 (seconds per case)")
    _check_compile(compile)
    if not 0 <= momentum < 1:
        raise ConfigError(f"--mnistperf-momentum={momentum:g} is outside [0, 1)")
    if track is not None and track.partition("=")[0] not in TRACKERS:
        raise ConfigError(f"--mnistperf-track={track!r}: choose one of mlflow[=URI], "
                          f"tensorboard[=DIR]")
    checked = tuple((dataset, check_target(targets.get(dataset, default),
                                           f"--mnistperf-target-{dataset}"))
                    for dataset, default in DEFAULT_TARGETS.items())
    return Settings(
        profile=chosen,
        data_root=resolve_root(data),
        results_dir=Path(results or os.environ.get("MNISTPERF_RESULTS") or "results"),
        seed=seed,
        repeats=repeats,
        compile=compile,
        targets=checked,
        timeout=timeout,
        resume=resume,
        momentum=momentum,
        track=track,
        resume_any_machine=resume_any_machine,
        yes=yes,
        plan=plan,
    )
