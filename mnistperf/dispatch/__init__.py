"""Scale out: the selected cases as Ray tasks, one case per task, on this machine's
GPUs and cores or on a Ray cluster, gathered into one ordinary run folder.

    python -m mnistperf dispatch -k "mnist and cpu" --mnistperf-profile smoke
    python -m mnistperf dispatch -m gpu --address auto --gpus-per-case 0.5
    python -m mnistperf dispatch -m gpu --address HEAD:6379 --mnistperf-resume

Every argument but `--address`, `--gpus-per-case`, `--cpus-per-case` and
`--max-retries` is pytest's: the cases are chosen by pytest's own collection
(`benchmarks/` unless a path is given), exactly as `pytest benchmarks ...` would.
Each case runs as `python -m pytest <nodeid>` in a subprocess of a Ray worker,
inside a copy of the project (Ray's `working_dir`), and returns its case
document; the driver stores each one in `results/<profile>-<UTC>/cases/` as it
arrives and at the end writes the same files a local run writes.

This package owns the `dispatch` subcommand: `collect` chooses the cases,
`address` checks the cluster `--address` names, this module runs the cases on
Ray and gathers the run. It is the only code that imports
ray, and only inside `main`, so Ray stays an optional extra (`.[ray]`).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mnistperf.dispatch.address import cluster_address
from mnistperf.dispatch.collect import Task, DispatchError, Selection, collect
from mnistperf.plan.predict import dispatch_slots, pack
from mnistperf.progress import clock, corrected
from mnistperf.timing import SHARED_GPU_ENV

RAY_HINT = "Ray is not installed; install the extra: pip install -e '.[ray]'"
# Never shipped to workers: results and environments are large and machine-specific,
# and the datasets are read from each worker's own data root.
EXCLUDES = ["/results/", ".venv*", ".tox/", "/wheelhouse/", "/data/", ".git/",
            ".benchmarks/", "__pycache__/", ".pytest_cache/"]
TAIL = 20  # lines of a failed case's pytest output kept in its error


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        prog="python -m mnistperf dispatch", allow_abbrev=False,
        usage="%(prog)s [PYTEST SELECTION AND OPTIONS...] [--address ADDR] "
              "[--connect-timeout S] "
              "[--gpus-per-case G] [--cpus-per-case C] [--max-retries N]",
        description="Run the selected cases as Ray tasks; every other argument is "
                    "pytest's (-k, -m, paths, --mnistperf-*).")
    parser.add_argument("--address", help="Ray cluster to join: 'auto' or HOST:PORT "
                                          "(default: an embedded Ray on this machine)")
    parser.add_argument("--connect-timeout", type=float, default=30.0, metavar="S",
                        help="seconds to wait for the --address cluster to answer. "
                             "Default: 30")
    parser.add_argument("--gpus-per-case", type=float, default=1.0, metavar="G",
                        help="GPUs per gpu case; below 1 shares a GPU (timings marked "
                             "timing_shared). Default: 1")
    parser.add_argument("--cpus-per-case", type=float, default=1.0, metavar="C",
                        help="CPUs per case; also its torch threads unless OMP_NUM_THREADS "
                             "is set. Default: 1")
    parser.add_argument("--max-retries", type=int, default=3, metavar="N",
                        help="retries of a case whose worker died (not of a case that "
                             "failed). Default: 3")
    args, rest = parser.parse_known_args(argv)
    if args.gpus_per_case <= 0:  # 0 hides the GPU: every gpu case would skip, silently
        raise DispatchError(f"--gpus-per-case {args.gpus_per_case:g}: a gpu case needs a GPU "
                            f"or a share of one (above 0, e.g. 0.5); to run only the cpu "
                            f"cases, select them (-m cpu)")
    if args.connect_timeout <= 0:
        raise DispatchError(f"--connect-timeout {args.connect_timeout:g} must be above 0 "
                            f"(seconds)")
    if args.cpus_per_case <= 0 or args.max_retries < 0:
        raise DispatchError("--cpus-per-case must be > 0 and --max-retries >= 0")
    return args, rest


def run_case(nodeid: str, options: list[str], data_root: str, cpu_only: bool,
             threads: int, rootpath: str, shared_gpu: bool = False) -> dict:
    """The Ray task: one case in a pytest subprocess, in the shipped project copy.
    Returns its case documents (one; none for a case pytest skipped) and seconds.
    `shared_gpu`: a fraction of a GPU, so no cuDNN autotuning (timing.autotunes)."""
    import ray

    from mnistperf.store import read_cases

    start, node = time.perf_counter(), socket.gethostname()
    env = dict(os.environ)
    if cpu_only:  # a CPU case must not touch, or be timed against, a GPU it was not given
        env["CUDA_VISIBLE_DEVICES"] = ""
    env.setdefault("OMP_NUM_THREADS", str(threads))
    if shared_gpu:
        env[SHARED_GPU_ENV] = "1"
    if not os.path.isdir(data_root) and env.get("MNISTPERF_DATA"):
        data_root = env["MNISTPERF_DATA"]  # another machine: its own copy of the datasets
    # The shipped copy is the worker's cwd; a job started without one (a caller's
    # ray.init) runs in the project itself, which then must be on this machine.
    shipped = (ray.get_runtime_context().runtime_env or {}).get("working_dir")
    with tempfile.TemporaryDirectory(prefix="mnistperf-dispatch-") as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider",
             nodeid, "--mnistperf-results", tmp, "--mnistperf-data", data_root, *options],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=None if shipped else rootpath)
        runs = [p for p in Path(tmp).iterdir() if (p / "cases").is_dir() and not p.is_symlink()]
        docs = read_cases(runs[0]) if runs else []
    if not docs and proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-TAIL:])
        raise RuntimeError(f"{nodeid} on {node}: pytest exited {proc.returncode} without "
                           f"a record; its last lines:\n{tail}")
    for doc in docs:  # workers need not share a filesystem: say where the case ran
        doc["machine"] = dict(doc.get("machine") or {}, node=node)
    return {"docs": docs, "seconds": time.perf_counter() - start}


def _start_ray(ray, address: str | None, rootpath: Path, timeout: float = 30.0) -> bool:
    """Connect to Ray; True when this command started it (and so shuts it down)."""
    if ray.is_initialized():
        # A caller (a notebook, the tests) already chose the cluster and its job's
        # runtime_env; without a working_dir there, workers use rootpath (run_case).
        return False
    # Ray ships local folders only for the whole job (ray.init), not per task.
    runtime_env = {"working_dir": str(rootpath), "excludes": EXCLUDES}
    if address:
        address = cluster_address(address, timeout)  # never a wait of minutes in ray.init
        try:
            ray.init(address=address, runtime_env=runtime_env, logging_level="WARNING")
        except ConnectionError as exc:
            raise DispatchError(
                f"--address {address}: cannot join that Ray cluster ({exc}); is it running, "
                f"and where it uses token authentication, are RAY_AUTH_MODE=token and its "
                f"token (RAY_AUTH_TOKEN or ~/.ray/auth_token) set here?") from None
    else:
        import torch

        # "local": a new Ray even where `ray start` left a cluster address behind.
        # Small object store: only case documents travel through it.
        ray.init(address="local", num_cpus=os.cpu_count(), num_gpus=torch.cuda.device_count(),
                 include_dashboard=False, object_store_memory=100 * 2**20,
                 runtime_env=runtime_env, logging_level="WARNING")
    return True


def _largest_node(ray, resource: str) -> float:
    return max((n["Resources"].get(resource, 0.0) for n in ray.nodes() if n.get("Alive")),
               default=0.0)


def main(argv: list[str]) -> int:
    from mnistperf.store import StoreError

    try:
        args, pytest_args = parse_args(argv)
        try:
            import ray
        except ImportError:
            raise DispatchError(RAY_HINT) from None
        return _dispatch(ray, args, pytest_args)
    except (DispatchError, StoreError) as exc:
        print(f"mnistperf dispatch: error: {exc}".replace("\n", " "), file=sys.stderr)
        return 2


def worker_threads(cpus_per_case: float) -> int:
    """The threads each CPU case's worker trains with: part of its records' fingerprint."""
    return int(os.environ.get("OMP_NUM_THREADS") or max(1, int(cpus_per_case)))


def _dispatch(ray, args, pytest_args) -> int:
    from mnistperf.session import RunSession, SessionError

    selection = collect(pytest_args)
    settings, tasks = selection.settings, selection.cases
    session = RunSession(settings, dispatched=True, threads=worker_threads(args.cpus_per_case),
                         warn=lambda line: print(f"dispatch: {line}", flush=True))
    configs = [task.config for task in tasks]
    try:
        plan = session.plan_resume(configs)
    except SessionError as exc:
        raise DispatchError(str(exc)) from None
    if plan is not None:
        lines = plan.lines(len(tasks))
        if len(plan.taken) == len(tasks):
            lines[0] += "; nothing to train"
        print("\n".join(f"dispatch: {line}" for line in lines))
    todo = [t for t in tasks if not session.is_resumed(t.config)]
    owned = bool(todo) and _start_ray(ray, args.address, selection.rootpath,
                                           args.connect_timeout)
    failed = 0
    session.signals.catch_sigterm()  # SIGTERM ends the run as Ctrl-C does
    try:
        todo = _feasible(ray, args, todo)  # before the run folder: a bad ask writes nothing
        session.open()
        session.begin(configs)
        for task in tasks:
            if session.is_resumed(task.config):
                session.store_resumed(task.config)
        failed = _run_all(ray, args, selection, todo, session) if todo else 0
    finally:
        session.signals.release_sigterm()
        if owned:
            ray.shutdown()
    return _finish(session, failed)


def _feasible(ray, args, todo: list[Task]) -> list[Task]:
    """The cases this cluster can run; a request no node can meet is an error (Ray
    would otherwise wait for it for ever)."""
    if not todo:
        return todo
    gpus_here = _largest_node(ray, "GPU")
    if any(c.gpu for c in todo):
        if gpus_here == 0:
            skipped = [c for c in todo if c.gpu]
            print(f"dispatch: {len(skipped)} gpu cases skipped: the Ray cluster has no GPU")
            todo = [c for c in todo if not c.gpu]
        elif args.gpus_per_case > gpus_here:
            raise DispatchError(f"--gpus-per-case {args.gpus_per_case:g}: no Ray node has "
                                f"more than {gpus_here:g} GPUs")
    if args.cpus_per_case > _largest_node(ray, "CPU"):
        raise DispatchError(f"--cpus-per-case {args.cpus_per_case:g}: no Ray node has that "
                            f"many CPUs")
    return todo


def _run_all(ray, args, selection: Selection, todo: list[Task], session) -> int:
    """Submit every case, store documents as they arrive; the number of cases that
    failed without a record."""
    task = ray.remote(run_case)
    data_root = str(Path(selection.settings.data_root).resolve())
    refs = {}
    for case in todo:
        gpus = args.gpus_per_case if case.gpu else 0
        ref = task.options(
            num_cpus=args.cpus_per_case, num_gpus=gpus, max_retries=args.max_retries,
            # Worker death (a killed process, a lost node) is retried; a case that
            # failed is not: its record, or its error, is the result.
            retry_exceptions=False, name=case.case_id,
        ).remote(case.nodeid, selection.options, data_root, gpus == 0,
                 max(1, int(args.cpus_per_case)), str(selection.rootpath),
                 shared_gpu=0 < gpus < 1)
        refs[ref] = (case, 0 < gpus < 1)
    # How many cases run at once: what the cluster's CPUs (and GPUs) allow.
    total = ray.cluster_resources()
    slots = dispatch_slots(total.get("CPU", 1), total.get("GPU", 0), args.cpus_per_case,
                           args.gpus_per_case, any(c.gpu for c in todo))
    pending, failed = list(refs), []
    if session.plan is not None:
        ids = {c.case_id for c in todo}
        wall, unplanned = session.plan.packed(slots, ids), len(ids - {
            c.case_id for c in session.plan.runnable()})
        print(f"dispatch: plan: about {clock(wall)} with {slots} cases at a time (each case "
              f"as timed on this machine" + (f"; {unplanned} not timed here, left out)"
                                             if unplanned else ")"), flush=True)
    for task, _ in refs.values():
        session.case_started(task.config)
    try:
        _gather(ray, refs, pending, failed, slots, session)
    except KeyboardInterrupt as exc:  # what finished is stored; the rest is interrupted
        for ref in pending:
            ray.cancel(ref, force=True)
            task = refs[ref][0]
            session.store_failure(task.config, "interrupted",
                                  f"interrupted ({str(exc) or 'SIGINT'}) while dispatched",
                                  name=task.nodeid.split("::")[-1], fullname=task.nodeid)
            session.case_ended(task.config)
        print(f"dispatch: interrupted; {len(pending)} cases did not finish (recorded as "
              f"interrupted)")
        return len(failed)
    return len(failed)


def _gather(ray, refs: dict, pending: list, failed: list, slots: int, session) -> None:
    """Store each case's documents as its task ends and say how far the run is.
    `pending` shrinks and `failed` (cases without a record) grows in place, so that
    an interrupt leaves both true."""
    took, n, t0 = {}, 0, time.perf_counter()  # case id -> (its own, its worker's seconds)
    while pending:
        ready, pending[:] = ray.wait(pending, num_returns=1)
        (case, shared), n = refs[ready[0]], n + 1
        try:
            out = ray.get(ready[0])
        except Exception as exc:  # RayTaskError, or WorkerCrashedError after the retries
            failed.append(case.case_id)
            session.case_ended(case.config)
            # A task's error carries the case's exception (its first line says why,
            # then pytest's last lines); Ray's own errors are the exception itself.
            lines = str(getattr(exc, "cause", None) or exc).strip().splitlines() or [repr(exc)]
            print(f"dispatch: case {n}/{len(refs)} FAILED {case.case_id} (no record): "
                  f"{lines[0]}" + "".join(f"\n    {line}" for line in lines[1:TAIL + 1]))
            continue
        for doc in out["docs"]:
            if shared:  # other cases may have run on the same GPU at the same time
                doc["benchmark"]["extra_info"]["timing_shared"] = True
            session.store_document(doc)
        session.case_ended(case.config)
        status = out["docs"][0]["status"] if out["docs"] else "skipped"
        if out["docs"]:  # a skipped case (no record) says nothing of the others' time
            info = out["docs"][0]["benchmark"]["extra_info"]
            took[case.case_id] = (info.get("case_seconds", out["seconds"]), out["seconds"])
        left = len(pending)
        eta = time_left(session.plan, took, [refs[r][0].case_id for r in pending], slots)
        print(f"dispatch: case {n}/{len(refs)} done {case.case_id} {status} in "
              f"{out['seconds']:.1f}s; done {n - len(failed)}, running {min(left, slots)}, "
              f"failed {len(failed)}; elapsed {time.perf_counter() - t0:.0f} s, "
              + (f"about {eta:.0f} s left" if eta is not None else
                 "estimate after the first case"), flush=True)


def time_left(plan, took: dict[str, tuple[float, float]], left: list[str],
              slots: int) -> float | None:
    """Seconds until the cases not yet finished end (None before any case finished).
    `took`: each finished case's own wall time (its record's case_seconds) and its
    worker's (which adds pytest's start, the data load, the record). With a plan,
    each case left is its prediction, corrected by what the finished cases' own
    times were against theirs, plus the workers' mean overhead, packed onto the
    slots as Ray starts them. Without one, or when a case left was not timed here,
    the mean finished worker per wave of `slots` cases left."""
    if not took:
        return None
    if plan is not None and all(plan.seconds(c) is not None for c in left):
        done = [c for c in took if plan.seconds(c) is not None]
        todo = [plan.seconds(c) for c in left]
        ratio = corrected(sum(took[c][0] for c in done), sum(plan.seconds(c) for c in done),
                          1.0, statistics.median(todo) if todo else 0.0)
        overhead = statistics.fmean(worker - own for own, worker in took.values())
        return pack([ratio * p + overhead for p in todo], slots)
    workers = [worker for _, worker in took.values()]
    return statistics.fmean(workers) * len(left) / max(1, min(len(left), slots))


def _finish(session, failed: int) -> int:
    """benchmark.json, tables, findings, claims, figures and the page, as a local run
    writes them (the session's `finish`)."""
    from pytest_benchmark import __version__ as bs_version

    from mnistperf.device import machine_summary
    from mnistperf.store import read_cases

    docs = read_cases(session.run_dir) if session.run_dir is not None else []
    # The header describes where the cases ran: the workers' machine when they all
    # agree (the driver may be a CPU-only head node), else the driver's.
    seen = [{k: v for k, v in (d.get("machine") or {}).items() if k != "node"} for d in docs]
    summary = dict(seen[0] if seen and all(m == seen[0] and m for m in seen)
                   else machine_summary(), profile=session.settings.profile.name)
    try:
        with session.ending():  # a Ctrl-C now waits for the files
            session.finish({"mnistperf": summary, "node": socket.gethostname()}, {},
                           bs_version)
    finally:
        session.signals.release()
    run = session.run
    if session.failed:  # its files could not be written: one line, records kept
        print(f"dispatch: {session.notes[-1]}")
        return 1
    if session.interrupted and run is None:  # said in one line (warn): records kept
        return 1
    if run is None:  # nothing ran (all skipped or failed): no run folder left
        print("dispatch: no case records; no run folder written")
        return 1 if failed else 0
    for line in session.summary_lines():
        print(line)
    for line in session.notes:
        print(f"dispatch: {line}")
    if failed:
        print(f"dispatch: {failed} cases ended without a record")
    return 1 if failed else 0
