"""Command line: `python -m mnistperf flops|report|compare|grid|plan|export|dispatch|cuda-check ...`.

    python -m mnistperf flops resnet18 --input-size 224 --channels 3
    python -m mnistperf report results/latest          # re-render a run folder
    python -m mnistperf report .benchmarks/.../0001_x.json --out results/x
    python -m mnistperf report study                    # the study's own figures
    python -m mnistperf compare results/run-a results/run-b
    python -m mnistperf compare study results/latest    # the study as run A
    python -m mnistperf grid --profile quick            # every case id of a profile
    python -m mnistperf plan -m cpu --mnistperf-profile quick   # predicted time per case
    python -m mnistperf export mlflow results/latest    # into MLflow's default store
    python -m mnistperf export tensorboard results/latest tb
    python -m mnistperf cuda-check                      # does torch here see a GPU?

Bad input (missing path, not pytest-benchmark JSON, no mnistperf cases, an --out
that is a file or cannot be written) is one line on stderr and exit code 2, with
nothing written. Output cut short by its reader (`... | head -1`) ends quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mnistperf import __version__
from mnistperf.config import MODELS
from mnistperf.profiles import PROFILES


def _flops(args) -> int:
    from mnistperf.flops import flops_per_image, macs_per_image, study_flops_per_image

    shape = (args.model, args.channels, args.input_size)
    study = study_flops_per_image(*shape)
    print(f"{args.model} {args.channels}x{args.input_size}x{args.input_size}, per image:\n"
          f"  fvcore MACs (eval mode)          {macs_per_image(*shape):.6e}\n"
          f"  FLOPs = 2 x MACs (fvcore)        {flops_per_image(*shape):.6e}  (the harness's)\n"
          f"  the study's count (thop)         {study:.6e}  ({study:,}; thop.profile, a "
          f"multiply-add counted once)")
    return 0


STUDY = "study"  # in place of a run: the study's published figures (mnistperf.study)


def _load(path: str):
    from mnistperf.run import load_run
    from mnistperf.study.as_run import study_run

    return study_run() if path == STUDY else load_run(path)


def _report(args) -> int:
    from mnistperf.suite.compose import write_report

    path = Path(args.path)
    out = Path(args.out) if args.out else (
        path if path.is_dir() and args.path != STUDY else
        Path(os.environ.get("MNISTPERF_RESULTS") or "results") / f"report-{path.stem}")
    # Checked before loading, so a mistyped --out fails fast and writes nothing.
    if out.exists() and not out.is_dir():
        raise CliError(f"{out}: exists and is not a folder; give a new or existing folder "
                       f"for --out")
    run = _load(args.path)
    try:
        written = write_report(run, out)
    except OSError as exc:
        # exc.filename is the path that failed (e.g. the first folder mkdir could not
        # create), which is more useful than --out itself.
        raise CliError(f"{exc.filename or out}: cannot write the report "
                       f"({exc.strerror or exc}); give a writable --out folder") from None
    print(f"wrote {len(written)} files to {out}/ ({len(run.cases)} cases from {run.source})")
    return 0


def _compare(args) -> int:
    from mnistperf.experiments import primary_experiments
    from mnistperf.report.compare import compare, fail_lines

    a, b = _load(args.a), _load(args.b)
    result = compare(a, b, by=args.by, primary=primary_experiments())
    sys.stdout.write(result.text())
    if args.fail_above is None:
        return 0
    failed, lines = fail_lines(result, args.fail_above)
    print("\n".join(lines))
    return 1 if failed else 0  # like pytest-benchmark's --benchmark-compare-fail


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage >= 0")
    return value


def _grid(args) -> int:
    from mnistperf.experiments import EXPERIMENTS
    from mnistperf.profiles import get_profile

    profile = get_profile(args.profile)
    for experiment in EXPERIMENTS:
        if args.kind in ("all", experiment.name):
            for case in experiment.cases(profile, args.seed):
                print(f"{experiment.name:<10} {case.case_id}")
    return 0


def _export(args) -> int:
    from mnistperf.export import missing_extra

    hint = missing_extra(args.tracker)
    if hint:
        raise CliError(hint)
    from mnistperf.export.command import export

    where = args.tracking_uri if args.tracker == "mlflow" else args.dir
    print(export(args.tracker, args.path, where, getattr(args, "experiment", None)))
    return 0


def _cuda_check(args) -> int:
    from mnistperf.cuda_check import main as cuda_check

    return cuda_check()


class CliError(Exception):
    """A bad command line input; the message is one line for the user."""


def _examples() -> str:
    # The module docstring's examples, so --help and the docs cannot drift apart
    # (and none at all under python -OO, which strips docstrings).
    lines = [line for line in (__doc__ or "").splitlines()
             if line.startswith("    python -m mnistperf")]
    return "examples:\n" + "\n".join(lines) if lines else ""


def build_parser() -> argparse.ArgumentParser:
    from mnistperf.experiments import names

    parser = argparse.ArgumentParser(
        prog="python -m mnistperf", epilog=_examples(),
        description="FLOPs of a model, reports and comparisons of benchmark runs, "
                    "the case ids of a profile.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"mnistperf {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    flops = sub.add_parser("flops", help="FLOPs per image of a model: fvcore's (the harness's) "
                                         "and thop's (the study's count)")
    flops.add_argument("model", choices=MODELS)
    flops.add_argument("--input-size", type=int, default=28,
                       help="input height and width in pixels (default: 28)")
    flops.add_argument("--channels", type=int, choices=(1, 3), default=1,
                       help="input channels (default: 1)")
    flops.set_defaults(run=_flops)
    report = sub.add_parser("report", help="write tables.md, CSVs, figures and index.html "
                                           "from a run folder or a pytest-benchmark JSON")
    report.add_argument("path", help="a results/<run> folder, a benchmark JSON file, or the "
                                     "word 'study' for the study's own figures")
    report.add_argument("--out", help="output folder (default: the run folder itself; for a "
                                      "JSON file, <results>/report-<file stem>)")
    report.set_defaults(run=_report)
    compare = sub.add_parser("compare", help="accuracy and time per case id of two runs")
    compare.add_argument("a", help="run folder or benchmark JSON (baseline), or the word "
                                   "'study' for the study's published figures as a run")
    compare.add_argument("b", help="run folder or benchmark JSON (compared), or 'study'")
    compare.add_argument("--by", choices=("id", "config"), default="id",
                         help="match cases by case id, or by configuration across profiles "
                              "(ignoring epochs and sizes) (default: id)")
    compare.add_argument("--fail-above", type=_percent, metavar="PCT",
                         help="exit 1 when a case in both runs trained more than PCT percent "
                              "slower in B")
    compare.set_defaults(run=_compare)
    grid = sub.add_parser("grid", help="list the case ids a profile defines")
    grid.add_argument("--profile", default="quick", choices=tuple(PROFILES),
                      help="size profile (default: quick)")
    grid.add_argument("--kind", default="all", choices=("all", *names()),
                      help="which experiment's cases (default: all)")
    grid.add_argument("--seed", type=int, default=0, help="base seed (default: 0)")
    grid.set_defaults(run=_grid)
    export = sub.add_parser("export", help="a saved run into MLflow or TensorBoard")
    trackers = export.add_subparsers(dest="tracker", required=True)
    to_mlflow = trackers.add_parser("mlflow", help="one MLflow run per mnistperf run, one "
                                                   "child per case")
    to_mlflow.add_argument("path", help="a results/<run> folder or a benchmark JSON file")
    to_mlflow.add_argument("--tracking-uri", help="MLflow tracking URI (default: MLflow's "
                                                  "own, sqlite:///mlflow.db here)")
    to_mlflow.add_argument("--experiment", default="mnistperf",
                           help="MLflow experiment (default: mnistperf)")
    to_tb = trackers.add_parser("tensorboard", help="one TensorBoard run per case, with "
                                                    "HParams")
    to_tb.add_argument("path", help="a results/<run> folder or a benchmark JSON file")
    to_tb.add_argument("dir", help="TensorBoard log dir; the run goes to DIR/<run>/")
    export.set_defaults(run=_export)
    check = sub.add_parser("cuda-check", help="exit 1 with one line unless torch here sees a "
                                              "CUDA GPU (the first command of tox -e cuda)")
    check.set_defaults(run=_cuda_check)
    # Listed for --help only: main() hands `dispatch ...` and `plan ...` to their
    # modules before argparse, because their arguments are pytest's (-k, -m, ...).
    sub.add_parser("dispatch", add_help=False, help="run the selected cases as Ray tasks "
                   "(python -m mnistperf dispatch --help)")
    sub.add_parser("plan", add_help=False, help="predict the selected cases' time and cost "
                   "before running them (python -m mnistperf plan --help)")
    return parser


def main(argv=None) -> int:
    from mnistperf.run import ReportError

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["dispatch"]:
        from mnistperf.dispatch import main as dispatch

        return dispatch(argv[1:])
    if argv[:1] == ["plan"]:
        from mnistperf.plan.command import main as plan

        return plan(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        code = args.run(args)
        # Flushed here, not at exit, so a closed pipe raises where it is caught.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        return _reader_went_away()
    except (ReportError, CliError) as exc:
        message = str(exc)
    except OSError as exc:
        if exc.filename is None:  # not about a path the user gave: a bug, keep its traceback
            raise
        # Writes are turned into CliError above, so this is an input that cannot be read.
        message = f"{exc.filename}: cannot read it ({exc.strerror or exc})"
    print(f"mnistperf {args.command}: error: {message}".replace("\n", " "), file=sys.stderr)
    return 2


def _reader_went_away() -> int:
    # The reader (`| head -1`) stopped reading: that is its choice, not our error.
    # Point stdout at devnull so the interpreter's final flush cannot fail again and
    # print "Exception ignored ... BrokenPipeError"; exit 0 so `set -o pipefail`
    # scripts do not fail on it.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # stdout replaced (tests), no fd
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
