"""`python -m mnistperf plan`: the predicted time (and cost) of a selection, per case
and per experiment, before anything trains.

    python -m mnistperf plan -m cpu --mnistperf-profile quick
    python -m mnistperf plan -m gpu --mnistperf-profile paper --gpus 8 --price 3.50

Every argument but `--gpus`, `--gpus-per-case`, `--cpus-per-case`, `--price` and
`--budget` is pytest's, so the selection is exactly what `pytest benchmarks ...`
and `dispatch` would run (mnistperf.dispatch.collect). Output: a table per
experiment, a summary per experiment, the total one case after another on this
machine, with `--gpus N` the wall time of `dispatch` on N GPUs, with `--price` the
cost. With `--mnistperf-resume`, the cases whose records resume would take are
said and left out, as the run leaves them. Bad input is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys

from tabulate import tabulate

from mnistperf.plan.predict import Plan, dispatch_slots, make_plan, pack
from mnistperf.plan.work import SvmWork, work_of
from mnistperf.progress import cases as _cases, clock


class PlanError(Exception):
    """A bad command line; one line for the user."""


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    from mnistperf.plan.calibrate import BUDGET_SECONDS

    parser = argparse.ArgumentParser(
        prog="python -m mnistperf plan", allow_abbrev=False,
        usage="%(prog)s [PYTEST SELECTION AND OPTIONS...] [--gpus N] [--gpus-per-case G] "
              "[--cpus-per-case C] [--price PER_HOUR] [--budget S]",
        description="Predict the selected cases' time on this machine (and on N GPUs) "
                    "from a short timing of each distinct unit of work; every other "
                    "argument is pytest's (-k, -m, paths, --mnistperf-*).")
    parser.add_argument("--gpus", type=int, metavar="N",
                        help="also the wall time of `dispatch` on N GPUs (the gpu cases are "
                             "timed on this machine's GPU)")
    parser.add_argument("--gpus-per-case", type=float, default=1.0, metavar="G",
                        help="as dispatch's (default: 1)")
    parser.add_argument("--cpus-per-case", type=float, default=1.0, metavar="C",
                        help="as dispatch's (default: 1)")
    parser.add_argument("--price", type=float, metavar="PER_HOUR",
                        help="the price of an hour of this machine (with --gpus: of one GPU)")
    parser.add_argument("--budget", type=float, default=BUDGET_SECONDS, metavar="S",
                        help=f"about how many seconds to spend timing units not yet timed "
                             f"on this machine; the first unit of each kind (model, input "
                             f"size, ...) is timed whatever it takes "
                             f"(default: {BUDGET_SECONDS:g})")
    args, rest = parser.parse_known_args(argv)
    for name in ("gpus", "gpus_per_case", "cpus_per_case", "price", "budget"):
        value = getattr(args, name)
        if value is not None and not value > 0:
            raise PlanError(f"--{name.replace('_', '-')} {value:g} must be above 0")
    return args, rest


def main(argv: list[str]) -> int:
    from mnistperf.data import DataFileError, DatasetNotFoundError
    from mnistperf.dispatch import worker_threads
    from mnistperf.dispatch.collect import DispatchError, collect
    from mnistperf.session import RunSession, SessionError

    try:
        args, pytest_args = parse_args(argv)
        selection = collect(pytest_args)
        settings = selection.settings
        configs = [task.config for task in selection.cases]
        # The run's own data check first: a missing or damaged file is one line before
        # anything is timed (the same line a run gives).
        # With --gpus the plan is dispatch's, and so is resume's fingerprint: its workers'
        # threads, not this process's.
        session = RunSession(settings,
                             threads=worker_threads(args.cpus_per_case) if args.gpus else None)
        session.check_data(configs)
        # With --mnistperf-resume, what the run would train: the cases whose records
        # resume would take cost nothing, and it says which and why as the run does.
        if session.plan_resume(configs) is not None:
            for line in session.resume.lines(len(configs)):
                print(line, flush=True)
            configs = [c for c in configs if not session.is_resumed(c)]
        plan = make_plan(configs, repeats=settings.repeats, data_root=settings.data_root,
                         budget=args.budget, say=lambda line: print(f"plan: {line}",
                                                                     flush=True))
    except (PlanError, DispatchError, DatasetNotFoundError, DataFileError,
            SessionError) as exc:
        print(f"mnistperf plan: error: {exc}".replace("\n", " "), file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - timing a unit failed (out of memory, a backend)
        print(f"mnistperf plan: error: timing the units failed ({type(exc).__name__}: "
              f"{exc})".replace("\n", " "), file=sys.stderr)
        return 1
    print(report(plan, configs, settings, args))
    return 0


def report(plan: Plan, configs, settings, args) -> str:
    """The tables and totals `plan` prints."""
    chosen = "to run" if settings.resume is not None else "selected"  # less the resumed
    out = [f"plan: profile {settings.profile.name}, {_cases(len(configs))} {chosen}, on this "
           f"machine ({_machine()})", ""]
    for experiment, (n, seconds) in plan.by_experiment().items():
        rows = [_row(c, plan, settings.repeats) for c in configs
                if plan.cases[c.case_id].experiment == experiment
                and plan.cases[c.case_id].seconds is not None]
        out += [f"{experiment}: {_cases(n)}, {clock(seconds)}",
                tabulate(rows, headers=["case id", "rounds", "steps", "eval images",
                                        "predicted", "unit timings"],
                         disable_numparse=True), ""]
    out.append(tabulate(
        [[e, n, clock(s)] for e, (n, s) in plan.by_experiment().items()]
        + [["once a session (data loads, FLOPs counts)", "", clock(plan.once)]],
        headers=["experiment", "cases", "predicted"], disable_numparse=True))
    skipped = {}
    for case in plan.cases.values():
        if case.skip:
            skipped.setdefault(case.skip, []).append(case.case_id)
    out += [f"not predicted: {_cases(len(ids))} this machine would skip ({reason})"
            for reason, ids in skipped.items()]
    total = plan.total()
    out += ["", f"total, one case after another on this machine: {clock(total)}"]
    if args.price and not args.gpus:
        out.append(f"cost at {args.price:g} per hour: {args.price * total / 3600:.2f}")
    if args.gpus:
        out += gpu_lines(plan, configs, args)
    return "\n".join(out)


def gpu_lines(plan: Plan, configs, args) -> list[str]:
    """`dispatch` on N GPUs: the gpu cases packed onto the GPUs' slots (Ray starts each
    task when its resources are free, in the order dispatch submits them), the cpu
    cases one after another beside them: they were timed with all of this
    machine's threads, which cases running side by side would share."""
    gpu = [c.case_id for c in configs if c.device == "gpu"]
    if gpu and plan.cases[gpu[0]].seconds is None:
        return [f"--gpus {args.gpus}: the gpu cases ({len(gpu)}) cannot be timed here (torch "
                f"sees no CUDA GPU); run this plan on a machine with that GPU"]
    slots = dispatch_slots(cpus=float(args.gpus) * args.cpus_per_case, gpus=args.gpus,
                           cpus_per_case=args.cpus_per_case,
                           gpus_per_case=args.gpus_per_case, any_gpu=bool(gpu))
    gpu_wall = pack([plan.seconds(i) for i in gpu], slots)
    cpu_wall = sum(plan.seconds(c.case_id) for c in configs
                   if c.device == "cpu" and plan.seconds(c.case_id) is not None)
    wall = plan.once + max(gpu_wall, cpu_wall)
    lines = [f"dispatch on {args.gpus} GPUs ({slots} gpu cases at a time, the cpu cases one "
             f"after another beside them): {clock(wall)} wall"]
    if args.price:
        lines.append(f"cost at {args.price:g} per GPU-hour, {args.gpus} GPUs for "
                     f"{clock(wall)}: {args.price * args.gpus * wall / 3600:.2f}")
    return lines


def _row(config, plan: Plan, repeats: int) -> list:
    work, case = work_of(config, repeats), plan.cases[config.case_id]
    if isinstance(work, SvmWork):
        counts = [1, f"fit {work.fit_images:,}", f"{work.predict_images:,}"]
    else:
        counts = [work.rounds, f"{work.rounds * work.epochs * work.steps_per_epoch:,}",
                  f"{work.rounds * work.eval_images:,}"]
    return [config.case_id, *counts, clock(plan.seconds(config.case_id)),
            "timed" if case.source == "timed" else "scaled by FLOPs"]


def _machine() -> str:
    from mnistperf.fingerprint import machine

    m = machine()
    return f"{m['cpu']}, {m['threads']} torch threads, {m['gpu'] or 'no CUDA GPU'}"
